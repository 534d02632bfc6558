#include "fabric.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#include <group/error.h>

#include "clock.h"
#include "codec.h"
#include "entropy.h"
#include "log.h"

#define FAB_API FI_VERSION(1, 17)
#define CONN_MAGIC 0x50435247u /* "GRCP" */
#define CONN_VERSION 2u /* 2: the token */
#define CONN_PARAM_LEN 28u
/* Attempts at a random memory-region key before giving up: a collision
 * with a key in use is rare (64 random bits), a run of them is a bug. */
#define MR_KEY_ATTEMPTS 8
#define CQ_BATCH 32
#define CQ_SIZE 8192u
#define FENCE_BYTES 8u

/* CLOSED: we closed the endpoint on purpose (the peer left our views); its
 * record stays until the domain closes, because completions already queued
 * still name it. */
enum peer_state { PEER_EXPECTED, PEER_CONNECTING, PEER_CONNECTED, PEER_FAILED, PEER_CLOSED };

struct fab_peer {
	struct fab_domain *dom;
	/* A record replaced by a new process under the same id: kept until
	 * the domain closes, since completions already queued still name it. */
	struct fab_peer *retired;
	unsigned id;
	struct fid_ep *ep;
	/* What connection events name it by; NULL once closed, so that an event
	 * still queued for a closed endpoint matches no peer. */
	struct fid *_Atomic ep_fid;
	atomic_int state;
	/* What its connection request must carry (fab_peer_expect), or what
	 * ours carries; under eq_lock. */
	uint64_t token;
	/* Signaled writes posted, and their local completions. Posting is
	 * serialised so that a count names a prefix of the send queue, whose
	 * completions arrive in posting order on a reliable connection, and so
	 * that fab_peer_close never closes an endpoint under a post. */
	pthread_mutex_t post_lock;
	atomic_uint_fast64_t posted;
	atomic_uint_fast64_t completed;
};

struct fab_mr {
	struct fab_domain *dom;
	struct fid_mr *mr;
	uint8_t *buf;
	size_t len;
};

struct fab_domain {
	struct fab_params params;
	char provider[32];
	char address[256];
	struct fi_info *info;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_eq *eq;
	int eq_fd; /* readable while connection events wait; -1 if none */
	struct fid_cq *cq;
	struct fid_pep *pep;
	bool rx_cq_data; /* remote CQ data consumes a posted receive */
	bool virt_addr;
	bool prov_key;
	size_t inject_size;
	size_t rx_size;
	uint64_t tx_size;
	uint8_t *fence_buf; /* where fence reads land; never looked at */
	struct fab_mr *fence_mr;
	/* Serialises connection-event handling and peer creation. */
	pthread_mutex_t eq_lock;
	struct fab_peer *_Atomic peers[FAB_MAX_PEERS];
};

static const char *MOD = "fabric";

static struct fab_peer *peer_get(const struct fab_domain *dom, unsigned id)
{
	if (id >= FAB_MAX_PEERS)
		return NULL;
	return atomic_load_explicit(&((struct fab_domain *)dom)->peers[id], memory_order_acquire);
}

/* Moves a peer to FAILED once; the first caller reports it. A peer closed
 * on purpose is not failed by the errors its closing raises. */
static void peer_fail(struct fab_peer *p, int err, const char *why)
{
	int old = atomic_load_explicit(&p->state, memory_order_acquire);
	do {
		if (old == PEER_FAILED || old == PEER_CLOSED)
			return;
	} while (!atomic_compare_exchange_weak_explicit(&p->state, &old, PEER_FAILED,
							 memory_order_acq_rel, memory_order_acquire));
	log_info(MOD, "peer %u failed: %s", p->id, why);
	const struct fab_handlers *h = &p->dom->params.handlers;
	if (h->on_failure)
		h->on_failure(h->arg, p->id, err, why);
}

static void encode_conn_param(const struct fab_domain *dom, uint64_t token,
			      uint8_t out[CONN_PARAM_LEN])
{
	struct wcursor w = { .p = out, .cap = CONN_PARAM_LEN };
	wc_u32(&w, CONN_MAGIC);
	wc_u16(&w, CONN_VERSION);
	wc_u16(&w, 0);
	wc_u64(&w, dom->params.group_id);
	wc_u32(&w, dom->params.my_id);
	wc_u64(&w, token);
}

/* Returns the peer id a connection request names and sets *token, or
 * returns -1 with *why set. */
static int decode_conn_param(const struct fab_domain *dom, const uint8_t *p, size_t len,
			     uint64_t *token, const char **why)
{
	struct rcursor r = { .p = p, .len = len };
	uint32_t magic = rc_u32(&r);
	uint16_t version = rc_u16(&r);
	uint16_t reserved = rc_u16(&r);
	uint64_t group = rc_u64(&r);
	uint32_t id = rc_u32(&r);
	*token = rc_u64(&r);
	if (r.bad || magic != CONN_MAGIC)
		*why = "not a libgroup connection request";
	else if (version != CONN_VERSION || reserved != 0)
		*why = "unsupported connection version";
	else if (group != dom->params.group_id)
		*why = "connection request from another group";
	else if (id >= FAB_MAX_PEERS || id == dom->params.my_id)
		*why = "connection request with an invalid member id";
	else
		return (int)id;
	return -1;
}

static struct fi_info *make_hints(const struct fab_params *params, uint64_t mr_key_mode)
{
	struct fi_info *hints = fi_allocinfo();
	if (!hints)
		return NULL;
	hints->caps = FI_RMA | FI_WRITE | FI_REMOTE_WRITE | FI_READ | FI_REMOTE_READ | FI_MSG;
	hints->mode = FI_RX_CQ_DATA;
	hints->ep_attr->type = FI_EP_MSG;
	hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | (int)mr_key_mode;
	hints->domain_attr->threading = FI_THREAD_SAFE;
	hints->tx_attr->msg_order = FI_ORDER_WAW | FI_ORDER_SAW | FI_ORDER_RAW;
	hints->fabric_attr->prov_name = strdup(params->provider);
	if (!hints->fabric_attr->prov_name) {
		fi_freeinfo(hints);
		return NULL;
	}
	return hints;
}

/* Checks the guarantees the protocols above rely on: write-after-write
 * order (payload, then counter), read-after-write order (the close fence)
 * and 4 bytes of remote CQ data. */
static int check_info(const struct fi_info *info, const char *provider)
{
	if (!(info->tx_attr->msg_order & FI_ORDER_WAW)) {
		log_error(MOD, "provider %s cannot order write-after-write; the SST needs it", provider);
		return GRP_EPROVIDER;
	}
	if (!(info->tx_attr->msg_order & FI_ORDER_RAW)) {
		log_error(MOD, "provider %s cannot order read-after-write; closing needs it", provider);
		return GRP_EPROVIDER;
	}
	if (info->domain_attr->cq_data_size < 4) {
		log_error(MOD, "provider %s carries %zu bytes of remote CQ data, 4 needed", provider,
			  info->domain_attr->cq_data_size);
		return GRP_EPROVIDER;
	}
	return 0;
}

/* Asks first for a domain where we choose the memory-region keys (random,
 * so that a process that can reach a member cannot guess one), then for
 * one that chooses them itself (verbs: its keys are what they are). */
static int get_info(struct fab_domain *dom)
{
	static const uint64_t key_modes[] = { 0, FI_MR_PROV_KEY };
	int rc = -FI_ENODATA;
	for (size_t i = 0; i < 2 && rc == -FI_ENODATA; i++) {
		struct fi_info *hints = make_hints(&dom->params, key_modes[i]);
		if (!hints)
			return -FI_ENOMEM;
		rc = fi_getinfo(FAB_API, dom->address, "0", FI_SOURCE, hints, &dom->info);
		fi_freeinfo(hints);
	}
	return rc;
}

static int open_info(struct fab_domain *dom)
{
	int rc = get_info(dom);
	if (rc == -FI_ENOMEM)
		return GRP_ENOMEM;
	if (rc) {
		log_error(MOD, "no fabric provider '%s' on address %s offers one-sided RMA over "
			  "connected endpoints: %s", dom->provider, dom->address, fi_strerror(-rc));
		dom->info = NULL;
		return GRP_EPROVIDER;
	}
	rc = check_info(dom->info, dom->provider);
	if (rc)
		return rc;
	uint64_t mr_mode = (uint64_t)dom->info->domain_attr->mr_mode;
	dom->virt_addr = mr_mode & FI_MR_VIRT_ADDR;
	dom->prov_key = mr_mode & FI_MR_PROV_KEY;
	dom->rx_cq_data = dom->info->mode & FI_RX_CQ_DATA;
	dom->inject_size = dom->info->tx_attr->inject_size;
	dom->rx_size = dom->info->rx_attr->size;
	dom->tx_size = dom->info->tx_attr->size;
	log_info(MOD, "provider %s domain %s: inject %zu, tx %zu, rx %zu, mr_mode 0x%llx%s",
		 dom->info->fabric_attr->prov_name, dom->info->domain_attr->name, dom->inject_size,
		 dom->info->tx_attr->size, dom->rx_size, (unsigned long long)mr_mode,
		 dom->rx_cq_data ? ", receives posted for CQ data" : "");
	log_debug(MOD, "memory-region keys: %s", dom->prov_key ? "the provider's" : "random, ours");
	return 0;
}

#define FI_TRY(call, what) \
	do { \
		int fi_try_rc_ = (int)(call); \
		if (fi_try_rc_) { \
			log_error(MOD, "%s failed: %s", what, fi_strerror(-fi_try_rc_)); \
			return GRP_EFABRIC; \
		} \
	} while (0)

/* The event queue with a file descriptor to poll where the provider has
 * one, so that a broken connection can wake a sleeping engine (which
 * sleeps on the completion queue alone). */
static int open_event_queue(struct fab_domain *dom)
{
	struct fi_eq_attr eq_attr = { .size = 256, .wait_obj = FI_WAIT_FD };
	dom->eq_fd = -1;
	if (fi_eq_open(dom->fabric, &eq_attr, &dom->eq, NULL) == 0) {
		struct fid *eq = &dom->eq->fid;
		int trywait = fi_trywait(dom->fabric, &eq, 1);
		if ((trywait != FI_SUCCESS && trywait != -FI_EAGAIN) ||
		    fi_control(&dom->eq->fid, FI_GETWAIT, &dom->eq_fd) != 0)
			dom->eq_fd = -1;
		return 0;
	}
	eq_attr.wait_obj = FI_WAIT_UNSPEC;
	FI_TRY(fi_eq_open(dom->fabric, &eq_attr, &dom->eq, NULL), "fi_eq_open");
	return 0;
}

static int open_objects(struct fab_domain *dom)
{
	struct fi_cq_attr cq_attr = {
		.size = CQ_SIZE,
		.format = FI_CQ_FORMAT_DATA,
		.wait_obj = FI_WAIT_UNSPEC,
	};
	FI_TRY(fi_fabric(dom->info->fabric_attr, &dom->fabric, NULL), "fi_fabric");
	int rc = open_event_queue(dom);
	if (rc)
		return rc;
	FI_TRY(fi_domain(dom->fabric, dom->info, &dom->domain, NULL), "fi_domain");
	FI_TRY(fi_cq_open(dom->domain, &cq_attr, &dom->cq, NULL), "fi_cq_open");
	FI_TRY(fi_passive_ep(dom->fabric, dom->info, &dom->pep, NULL), "fi_passive_ep");
	FI_TRY(fi_pep_bind(dom->pep, &dom->eq->fid, 0), "fi_pep_bind");
	FI_TRY(fi_listen(dom->pep), "fi_listen");
	return 0;
}

int fab_domain_open(const struct fab_params *params, struct fab_domain **out)
{
	if (!params || !out || !params->provider || !params->address ||
	    strlen(params->provider) >= sizeof((struct fab_domain *)0)->provider ||
	    strlen(params->address) >= sizeof((struct fab_domain *)0)->address ||
	    params->my_id >= FAB_MAX_PEERS)
		return GRP_EINVAL;
	struct fab_domain *dom = calloc(1, sizeof *dom);
	if (!dom)
		return GRP_ENOMEM;
	dom->params = *params;
	dom->eq_fd = -1;
	strcpy(dom->provider, params->provider);
	strcpy(dom->address, params->address);
	dom->params.provider = dom->provider;
	dom->params.address = dom->address;
	pthread_mutex_init(&dom->eq_lock, NULL);
	int rc = open_info(dom);
	if (!rc)
		rc = open_objects(dom);
	if (!rc && posix_memalign((void **)&dom->fence_buf, 4096, FENCE_BYTES) != 0) {
		dom->fence_buf = NULL;
		rc = GRP_ENOMEM;
	}
	if (!rc)
		rc = fab_mr_reg(dom, dom->fence_buf, FENCE_BYTES, &dom->fence_mr);
	if (rc) {
		fab_domain_close(dom);
		return rc;
	}
	*out = dom;
	return 0;
}

static void close_fid(struct fid *fid, const char *what)
{
	if (!fid)
		return;
	int rc = fi_close(fid);
	if (rc)
		log_warn(MOD, "closing %s: %s", what, fi_strerror(-rc));
}

void fab_domain_close(struct fab_domain *dom)
{
	if (!dom)
		return;
	for (unsigned i = 0; i < FAB_MAX_PEERS; i++) {
		for (struct fab_peer *p = peer_get(dom, i), *older; p; p = older) {
			older = p->retired;
			if (p->ep)
				close_fid(&p->ep->fid, "endpoint");
			pthread_mutex_destroy(&p->post_lock);
			free(p);
		}
	}
	fab_mr_close(dom->fence_mr);
	free(dom->fence_buf);
	close_fid(dom->pep ? &dom->pep->fid : NULL, "passive endpoint");
	close_fid(dom->cq ? &dom->cq->fid : NULL, "completion queue");
	close_fid(dom->eq ? &dom->eq->fid : NULL, "event queue");
	close_fid(dom->domain ? &dom->domain->fid : NULL, "domain");
	close_fid(dom->fabric ? &dom->fabric->fid : NULL, "fabric");
	if (dom->info)
		fi_freeinfo(dom->info);
	pthread_mutex_destroy(&dom->eq_lock);
	free(dom);
}

const char *fab_provider_name(const struct fab_domain *dom)
{
	return dom->info->fabric_attr->prov_name;
}

int fab_listen_name(const struct fab_domain *dom, uint8_t name[FAB_ADDR_MAX], size_t *len)
{
	size_t n = FAB_ADDR_MAX;
	int rc = fi_getname(&dom->pep->fid, name, &n);
	if (rc) {
		log_error(MOD, "fi_getname: %s", fi_strerror(-rc));
		return GRP_EFABRIC;
	}
	*len = n;
	return 0;
}

int fab_mr_reg(struct fab_domain *dom, void *buf, size_t len, struct fab_mr **out)
{
	if (!dom || !buf || !len || !out)
		return GRP_EINVAL;
	struct fab_mr *m = calloc(1, sizeof *m);
	if (!m)
		return GRP_ENOMEM;
	int rc = -FI_ENOKEY;
	for (int i = 0; i < MR_KEY_ATTEMPTS && rc == -FI_ENOKEY; i++) {
		uint64_t key = dom->prov_key ? 0 : entropy_u64();
		rc = fi_mr_reg(dom->domain, buf, len,
			       FI_WRITE | FI_REMOTE_WRITE | FI_READ | FI_REMOTE_READ, 0, key, 0, &m->mr,
			       NULL);
	}
	if (rc) {
		log_error(MOD, "registering %zu bytes: %s", len, fi_strerror(-rc));
		free(m);
		return rc == -FI_ENOMEM ? GRP_ENOMEM : GRP_EFABRIC;
	}
	m->dom = dom;
	m->buf = buf;
	m->len = len;
	*out = m;
	return 0;
}

void fab_mr_close(struct fab_mr *mr)
{
	if (!mr)
		return;
	close_fid(&mr->mr->fid, "memory region");
	free(mr);
}

struct fab_remote_region fab_mr_remote(const struct fab_mr *mr)
{
	return (struct fab_remote_region){
		.key = fi_mr_key(mr->mr),
		.addr = mr->dom->virt_addr ? (uint64_t)(uintptr_t)mr->buf : 0,
		.len = mr->len,
	};
}

static int post_receive(struct fab_peer *p)
{
	ssize_t rc = fi_recv(p->ep, NULL, 0, NULL, FI_ADDR_UNSPEC, p);
	if (rc) {
		log_error(MOD, "posting a receive for peer %u: %s", p->id, fi_strerror((int)-rc));
		return GRP_EFABRIC;
	}
	return 0;
}

/* Replaces the receive a remote write with CQ data consumed, on an endpoint
 * still open. */
static void repost_receive(struct fab_peer *p)
{
	pthread_mutex_lock(&p->post_lock);
	int state = atomic_load_explicit(&p->state, memory_order_acquire);
	int rc = p->ep && state != PEER_FAILED && state != PEER_CLOSED ? post_receive(p) : 0;
	pthread_mutex_unlock(&p->post_lock);
	if (rc)
		peer_fail(p, GRP_EFABRIC, "cannot repost a receive");
}

/* Binds a new endpoint to our queues and, where remote CQ data needs them,
 * fills its receive queue. */
static int setup_endpoint(struct fab_domain *dom, struct fab_peer *p, struct fi_info *info)
{
	FI_TRY(fi_endpoint(dom->domain, info, &p->ep, p), "fi_endpoint");
	atomic_store_explicit(&p->ep_fid, &p->ep->fid, memory_order_release);
	FI_TRY(fi_ep_bind(p->ep, &dom->eq->fid, 0), "binding the event queue");
	FI_TRY(fi_ep_bind(p->ep, &dom->cq->fid, FI_TRANSMIT | FI_RECV), "binding the completion queue");
	FI_TRY(fi_enable(p->ep), "fi_enable");
	for (size_t i = 0; dom->rx_cq_data && i < dom->rx_size; i++) {
		int rc = post_receive(p);
		if (rc)
			return rc;
	}
	return 0;
}

/* Creates the peer record; the caller holds eq_lock. */
static struct fab_peer *peer_create(struct fab_domain *dom, unsigned id, enum peer_state state)
{
	struct fab_peer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->dom = dom;
	p->id = id;
	atomic_init(&p->state, state);
	atomic_init(&p->posted, 0);
	atomic_init(&p->completed, 0);
	pthread_mutex_init(&p->post_lock, NULL);
	atomic_store_explicit(&dom->peers[id], p, memory_order_release);
	return p;
}

int fab_peer_expect(struct fab_domain *dom, unsigned id, uint64_t token)
{
	if (!dom || id >= FAB_MAX_PEERS || id == dom->params.my_id)
		return GRP_EINVAL;
	pthread_mutex_lock(&dom->eq_lock);
	struct fab_peer *p = peer_get(dom, id);
	/* Expecting it again is how a member's retried introduction replaces
	 * its stale one (its new token replaces the old); a closed one is a
	 * process gone, whose id a new process may take. */
	int state = p ? atomic_load(&p->state) : PEER_EXPECTED;
	int rc = state == PEER_EXPECTED || state == PEER_CLOSED ? 0 : GRP_EBUSY;
	if (!rc && p && state == PEER_CLOSED) {
		struct fab_peer *fresh = peer_create(dom, id, PEER_EXPECTED);
		if (fresh)
			fresh->retired = p;
		else
			atomic_store_explicit(&dom->peers[id], p, memory_order_release);
		p = fresh;
	} else if (!rc && !p) {
		p = peer_create(dom, id, PEER_EXPECTED);
	}
	if (!rc && !p)
		rc = GRP_ENOMEM;
	if (!rc)
		p->token = token;
	pthread_mutex_unlock(&dom->eq_lock);
	return rc;
}

static int connect_locked(struct fab_domain *dom, unsigned id, const uint8_t *name, size_t len,
			  uint64_t token)
{
	if (peer_get(dom, id))
		return GRP_EBUSY;
	struct fi_info *hints = fi_dupinfo(dom->info);
	if (!hints)
		return GRP_ENOMEM;
	free(hints->dest_addr);
	hints->dest_addr = malloc(len);
	if (!hints->dest_addr) {
		fi_freeinfo(hints);
		return GRP_ENOMEM;
	}
	memcpy(hints->dest_addr, name, len);
	hints->dest_addrlen = len;
	struct fi_info *info = NULL;
	int rc = fi_getinfo(FAB_API, NULL, NULL, 0, hints, &info);
	fi_freeinfo(hints);
	if (rc) {
		log_error(MOD, "resolving the fabric address of peer %u: %s", id, fi_strerror(-rc));
		return GRP_EPROVIDER;
	}
	struct fab_peer *p = peer_create(dom, id, PEER_CONNECTING);
	rc = p ? setup_endpoint(dom, p, info) : GRP_ENOMEM;
	if (!rc) {
		p->token = token;
		uint8_t param[CONN_PARAM_LEN];
		encode_conn_param(dom, token, param);
		int frc = fi_connect(p->ep, info->dest_addr, param, sizeof param);
		if (frc) {
			log_error(MOD, "connecting to peer %u: %s", id, fi_strerror(-frc));
			rc = GRP_EFABRIC;
		}
	}
	if (rc && p)
		atomic_store(&p->state, PEER_FAILED);
	fi_freeinfo(info);
	return rc;
}

int fab_peer_connect(struct fab_domain *dom, unsigned id, const uint8_t *name, size_t len,
		     uint64_t token)
{
	if (!dom || !name || !len || len > FAB_ADDR_MAX || id >= FAB_MAX_PEERS ||
	    id == dom->params.my_id)
		return GRP_EINVAL;
	pthread_mutex_lock(&dom->eq_lock);
	int rc = connect_locked(dom, id, name, len, token);
	pthread_mutex_unlock(&dom->eq_lock);
	return rc;
}

bool fab_peer_connected(const struct fab_domain *dom, unsigned id)
{
	struct fab_peer *p = peer_get(dom, id);
	return p && atomic_load_explicit(&p->state, memory_order_acquire) == PEER_CONNECTED;
}

void fab_peer_close(struct fab_domain *dom, unsigned id)
{
	struct fab_peer *p = peer_get(dom, id);
	if (!p)
		return;
	pthread_mutex_lock(&dom->eq_lock);
	pthread_mutex_lock(&p->post_lock);
	atomic_store_explicit(&p->state, PEER_CLOSED, memory_order_release);
	atomic_store_explicit(&p->ep_fid, NULL, memory_order_release);
	if (p->ep)
		close_fid(&p->ep->fid, "endpoint");
	p->ep = NULL;
	pthread_mutex_unlock(&p->post_lock);
	pthread_mutex_unlock(&dom->eq_lock);
	log_info(MOD, "peer %u closed", id);
}

bool fab_peer_failed(const struct fab_domain *dom, unsigned id)
{
	struct fab_peer *p = peer_get(dom, id);
	return p && atomic_load_explicit(&p->state, memory_order_acquire) == PEER_FAILED;
}

bool fab_peer_closed(const struct fab_domain *dom, unsigned id)
{
	struct fab_peer *p = peer_get(dom, id);
	return p && atomic_load_explicit(&p->state, memory_order_acquire) == PEER_CLOSED;
}

static void reject_request(struct fab_domain *dom, struct fi_info *info, const char *why)
{
	log_warn(MOD, "refusing a fabric connection: %s", why);
	fi_reject(dom->pep, info->handle, NULL, 0);
}

static void handle_connreq(struct fab_domain *dom, struct fi_eq_cm_entry *entry, size_t param_len)
{
	const char *why = NULL;
	uint64_t token = 0;
	int id = decode_conn_param(dom, entry->data, param_len, &token, &why);
	struct fab_peer *p = id >= 0 ? peer_get(dom, (unsigned)id) : NULL;
	if (id >= 0 && (!p || atomic_load(&p->state) != PEER_EXPECTED))
		why = "connection request from a member not expected to connect";
	else if (id >= 0 && token != p->token)
		why = "connection request without the token announced to that member";
	if (why) {
		reject_request(dom, entry->info, why);
		return;
	}
	atomic_store(&p->state, PEER_CONNECTING);
	int rc = setup_endpoint(dom, p, entry->info);
	uint8_t param[CONN_PARAM_LEN];
	encode_conn_param(dom, p->token, param);
	if (!rc && fi_accept(p->ep, param, sizeof param) != 0)
		rc = GRP_EFABRIC;
	if (rc)
		peer_fail(p, rc, "accepting its connection failed");
}

/* The peer whose endpoint a connection event names, without touching the
 * fid itself: it may belong to an endpoint closed since. */
static struct fab_peer *peer_of_fid(struct fab_domain *dom, const struct fid *fid)
{
	for (unsigned i = 0; fid && i < FAB_MAX_PEERS; i++) {
		struct fab_peer *p = peer_get(dom, i);
		if (p && atomic_load_explicit(&p->ep_fid, memory_order_acquire) == fid)
			return p;
	}
	return NULL;
}

/* err_data_size 0 on input: err_data then points into the provider's own
 * buffer (fi_eq(3)), valid until the next read and never ours to free. */
static void handle_eq_error(struct fab_domain *dom)
{
	struct fi_eq_err_entry err = { 0 };
	if (fi_eq_readerr(dom->eq, &err, 0) < 0)
		return;
	struct fab_peer *p = peer_of_fid(dom, err.fid);
	char why[160];
	snprintf(why, sizeof why, "connection error: %s", fi_strerror(err.err));
	if (p)
		peer_fail(p, GRP_EPEER, why);
	else
		log_warn(MOD, "listening endpoint: %s", why);
}

/* Handles pending connection events; returns how many. */
static int eq_drain(struct fab_domain *dom)
{
	if (pthread_mutex_trylock(&dom->eq_lock) != 0)
		return 0;
	int handled = 0;
	for (;;) {
		/* An entry followed by the connection parameters it carries. */
		union {
			struct fi_eq_cm_entry entry;
			uint8_t bytes[sizeof(struct fi_eq_cm_entry) + 64];
		} ev;
		uint32_t event;
		ssize_t n = fi_eq_read(dom->eq, &event, &ev, sizeof ev, 0);
		if (n == -FI_EAGAIN)
			break;
		handled++;
		if (n == -FI_EAVAIL) {
			handle_eq_error(dom);
			continue;
		}
		if (n < (ssize_t)sizeof(struct fi_eq_cm_entry)) {
			log_warn(MOD, "fi_eq_read: %s", fi_strerror((int)-n));
			break;
		}
		struct fab_peer *p = peer_of_fid(dom, ev.entry.fid);
		switch (event) {
		case FI_CONNREQ:
			handle_connreq(dom, &ev.entry, (size_t)n - sizeof ev.entry);
			fi_freeinfo(ev.entry.info);
			break;
		case FI_CONNECTED: {
			int expected = PEER_CONNECTING;
			if (p && atomic_compare_exchange_strong(&p->state, &expected, PEER_CONNECTED))
				log_debug(MOD, "peer %u connected", p->id);
			break;
		}
		case FI_SHUTDOWN:
			if (p)
				peer_fail(p, GRP_EPEER, "connection shut down");
			break;
		default:
			log_debug(MOD, "ignoring event queue event %u", event);
		}
	}
	pthread_mutex_unlock(&dom->eq_lock);
	return handled;
}

static void handle_completion(struct fab_domain *dom, const struct fi_cq_data_entry *e)
{
	struct fab_peer *p = e->op_context;
	if (e->flags & FI_REMOTE_CQ_DATA) {
		if (dom->rx_cq_data && p)
			repost_receive(p);
		const struct fab_handlers *h = &dom->params.handlers;
		if (h->on_remote_data)
			h->on_remote_data(h->arg, p ? p->id : FAB_MAX_PEERS, (uint32_t)e->data);
		return;
	}
	if (p)
		atomic_fetch_add_explicit(&p->completed, 1, memory_order_release);
}

static void handle_cq_error(struct fab_domain *dom)
{
	struct fi_cq_err_entry err = { 0 };
	if (fi_cq_readerr(dom->cq, &err, 0) < 0)
		return;
	struct fab_peer *p = err.op_context;
	if (!p)
		return;
	if (!(err.flags & (FI_RECV | FI_REMOTE_CQ_DATA)))
		atomic_fetch_add_explicit(&p->completed, 1, memory_order_release);
	if (err.err == FI_ECANCELED)
		return;
	char why[200];
	snprintf(why, sizeof why, "write failed: %s",
		 fi_cq_strerror(dom->cq, err.prov_errno, err.err_data, NULL, 0));
	peer_fail(p, GRP_EPEER, why);
}

static int handle_cq_result(struct fab_domain *dom, const struct fi_cq_data_entry *entries,
			    ssize_t n)
{
	if (n == -FI_EAVAIL) {
		handle_cq_error(dom);
		return 1;
	}
	if (n <= 0) {
		if (n != -FI_EAGAIN && n != -FI_ETIMEDOUT)
			log_warn(MOD, "reading completions: %s", fi_strerror((int)-n));
		return 0;
	}
	for (ssize_t i = 0; i < n; i++)
		handle_completion(dom, &entries[i]);
	return (int)n;
}

static int cq_drain(struct fab_domain *dom)
{
	int handled = 0;
	for (;;) {
		struct fi_cq_data_entry entries[CQ_BATCH];
		ssize_t n = fi_cq_read(dom->cq, entries, CQ_BATCH);
		int got = handle_cq_result(dom, entries, n);
		handled += got;
		if (got == 0 || (n > 0 && n < CQ_BATCH))
			break;
	}
	return handled;
}

int fab_progress(struct fab_domain *dom)
{
	return cq_drain(dom) + eq_drain(dom);
}

int fab_wait(struct fab_domain *dom, int timeout_ms)
{
	struct fi_cq_data_entry entries[CQ_BATCH];
	ssize_t n = fi_cq_sread(dom->cq, entries, CQ_BATCH, NULL, timeout_ms);
	return handle_cq_result(dom, entries, n) + fab_progress(dom);
}

int fab_event_fd(const struct fab_domain *dom)
{
	return dom->eq_fd;
}

bool fab_event_fd_armed(struct fab_domain *dom)
{
	struct fid *eq = &dom->eq->fid;
	return fi_trywait(dom->fabric, &eq, 1) == FI_SUCCESS;
}

void fab_wake(struct fab_domain *dom)
{
	fi_cq_signal(dom->cq);
}

static uint64_t outstanding(struct fab_peer *p)
{
	uint64_t completed = atomic_load_explicit(&p->completed, memory_order_acquire);
	return atomic_load_explicit(&p->posted, memory_order_relaxed) - completed;
}

/* What a post puts on the send queue: a write with remote CQ data, or the
 * 8-byte read of a fence. */
enum post_kind { POST_WRITE, POST_FENCE_READ };

static ssize_t post_op(struct fab_domain *dom, struct fab_peer *p, enum post_kind kind,
		       const struct fab_mr *local, size_t local_off, uint64_t raddr, uint64_t key,
		       size_t len, uint32_t data)
{
	uint8_t *buf = local->buf + local_off;
	pthread_mutex_lock(&p->post_lock);
	ssize_t rc;
	if (atomic_load_explicit(&p->state, memory_order_acquire) != PEER_CONNECTED) {
		rc = -FI_ENOTCONN;
	} else if (kind == POST_WRITE && len <= dom->inject_size) {
		rc = fi_inject_writedata(p->ep, buf, len, data, 0, raddr, key);
	} else {
		atomic_fetch_add_explicit(&p->posted, 1, memory_order_relaxed);
		rc = kind == POST_WRITE ? fi_writedata(p->ep, buf, len, fi_mr_desc(local->mr), data,
						       0, raddr, key, p)
					: fi_read(p->ep, buf, len, fi_mr_desc(local->mr), 0, raddr,
						  key, p);
		if (rc)
			atomic_fetch_sub_explicit(&p->posted, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&p->post_lock);
	return rc;
}

static int post_to(struct fab_domain *dom, unsigned id, enum post_kind kind,
		   const struct fab_mr *local, size_t local_off,
		   const struct fab_remote_region *remote, size_t remote_off, size_t len,
		   uint32_t data)
{
	struct fab_peer *p = peer_get(dom, id);
	if (!local || !remote || local_off > local->len || len > local->len - local_off ||
	    remote_off > remote->len || len > remote->len - remote_off)
		return GRP_EINVAL;
	if (!p || atomic_load_explicit(&p->state, memory_order_acquire) != PEER_CONNECTED)
		return GRP_EPEER;
	uint64_t deadline = 0;
	for (;;) {
		ssize_t rc = post_op(dom, p, kind, local, local_off, remote->addr + remote_off,
				     remote->key, len, data);
		if (rc == 0) {
			/* Completions of signaled writes pile up in the shared CQ
			 * unless someone reads them; reading them here bounds
			 * what a fast writer leaves there to one send queue. */
			if (outstanding(p) >= dom->tx_size)
				cq_drain(dom);
			return 0;
		}
		if (rc == -FI_ENOTCONN)
			return GRP_EPEER;
		if (rc != -FI_EAGAIN) {
			char why[160];
			snprintf(why, sizeof why, "posting a %s: %s",
				 kind == POST_WRITE ? "write" : "fence", fi_strerror((int)-rc));
			peer_fail(p, GRP_EPEER, why);
			return GRP_EPEER;
		}
		if (!deadline)
			deadline = clock_deadline_ms(dom->params.stall_timeout_ms);
		fab_progress(dom);
		if (atomic_load_explicit(&p->state, memory_order_acquire) != PEER_CONNECTED)
			return GRP_EPEER;
		if (clock_ms_left(deadline) == 0) {
			peer_fail(p, GRP_ETIMEDOUT, "its send queue stayed full past the stall timeout");
			return GRP_EPEER;
		}
	}
}

int fab_write(struct fab_domain *dom, unsigned id, const struct fab_mr *local, size_t local_off,
	      const struct fab_remote_region *remote, size_t remote_off, size_t len, uint32_t data)
{
	return post_to(dom, id, POST_WRITE, local, local_off, remote, remote_off, len, data);
}

int fab_fence(struct fab_domain *dom, unsigned id, const struct fab_remote_region *remote,
	      size_t remote_off, unsigned timeout_ms)
{
	int rc = post_to(dom, id, POST_FENCE_READ, dom->fence_mr, 0, remote, remote_off,
			 FENCE_BYTES, 0);
	return rc ? rc : fab_flush(dom, id, timeout_ms);
}

uint64_t fab_write_ticket(struct fab_domain *dom, unsigned id)
{
	struct fab_peer *p = peer_get(dom, id);
	return p ? atomic_load_explicit(&p->posted, memory_order_relaxed) : 0;
}

static bool completed_through(struct fab_peer *p, uint64_t ticket)
{
	return atomic_load_explicit(&p->completed, memory_order_acquire) >= ticket;
}

bool fab_write_completed(struct fab_domain *dom, unsigned id, uint64_t ticket)
{
	struct fab_peer *p = peer_get(dom, id);
	int state = p ? atomic_load_explicit(&p->state, memory_order_acquire) : PEER_CLOSED;
	return state == PEER_FAILED || state == PEER_CLOSED || completed_through(p, ticket);
}

int fab_flush(struct fab_domain *dom, unsigned id, unsigned timeout_ms)
{
	struct fab_peer *p = peer_get(dom, id);
	if (!p)
		return GRP_EINVAL;
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	uint64_t ticket = fab_write_ticket(dom, id);
	while (!completed_through(p, ticket)) {
		if (atomic_load_explicit(&p->state, memory_order_acquire) == PEER_FAILED)
			return GRP_EPEER;
		if (clock_ms_left(deadline) == 0)
			return GRP_ETIMEDOUT;
		fab_progress(dom);
	}
	return 0;
}
