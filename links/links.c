/* The links object: domain, listeners and the mailbox (see links.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <group/error.h>

#include "clock.h"
#include "links_internal.h"
#include "log.h"
#include "sock.h"

static const char *MOD = "links";

static void dispatch_failure(void *arg, unsigned id, int err, const char *why)
{
	struct links *l = arg;
	pthread_rwlock_rdlock(&l->listeners_lock);
	for (unsigned i = 0; i < LINKS_MAX_LISTENERS; i++)
		if (l->listener_used[i] && l->listeners[i].on_failure)
			l->listeners[i].on_failure(l->listeners[i].arg, id, err, why);
	pthread_rwlock_unlock(&l->listeners_lock);
	links_notify(l);
}

static void dispatch_data(void *arg, unsigned id, uint32_t data)
{
	struct links *l = arg;
	pthread_rwlock_rdlock(&l->listeners_lock);
	for (unsigned i = 0; i < LINKS_MAX_LISTENERS; i++)
		if (l->listener_used[i] && l->listeners[i].on_data)
			l->listeners[i].on_data(l->listeners[i].arg, id, data);
	pthread_rwlock_unlock(&l->listeners_lock);
}

static int copy_text(char *dst, size_t cap, const char *src)
{
	if (!src || strlen(src) >= cap)
		return GRP_EINVAL;
	strcpy(dst, src);
	return 0;
}

static int open_mailbox(struct links *l)
{
	size_t bytes = 2u * FAB_MAX_PEERS * sizeof *l->mailbox;
	if (posix_memalign((void **)&l->mailbox, 4096, bytes) != 0) {
		l->mailbox = NULL;
		return GRP_ENOMEM;
	}
	memset(l->mailbox, 0, bytes);
	l->peer_mailbox = calloc(FAB_MAX_PEERS, sizeof *l->peer_mailbox);
	l->peers = calloc(FAB_MAX_PEERS, sizeof *l->peers);
	if (!l->peer_mailbox || !l->peers)
		return GRP_ENOMEM;
	return fab_mr_reg(l->dom, l->mailbox, bytes, &l->mailbox_mr);
}

static int open_parts(struct links *l)
{
	struct fab_params fp = {
		.provider = l->provider,
		.address = l->address,
		.group_id = l->params.group_id,
		.my_id = l->params.my_id,
		.stall_timeout_ms = l->params.stall_timeout_ms,
		.handlers = { .on_failure = dispatch_failure, .on_remote_data = dispatch_data,
			      .arg = l },
	};
	int rc = fab_domain_open(&fp, &l->dom);
	if (!rc)
		rc = open_mailbox(l);
	if (!rc)
		rc = links_transfer_open(l);
	if (!rc && l->listen_fd < 0)
		rc = sock_listen(l->listen_host, l->params.listen_port, &l->listen_fd);
	if (!rc)
		rc = links_engine_start(l);
	return rc;
}

int links_open(const struct links_params *params, struct links **out)
{
	int listen_fd = params ? params->listen_fd : -1;
	bool valid = params && out && params->my_id < FAB_MAX_PEERS;
	struct links *l = valid ? calloc(1, sizeof *l) : NULL;
	if (!l) {
		if (listen_fd >= 0)
			close(listen_fd);
		return valid ? GRP_ENOMEM : GRP_EINVAL;
	}
	l->params = *params;
	l->listen_fd = listen_fd;
	l->boot_wake[0] = l->boot_wake[1] = -1;
	pthread_rwlock_init(&l->listeners_lock, NULL);
	pthread_mutex_init(&l->clients_lock, NULL);
	pthread_mutex_init(&l->wait_lock, NULL);
	pthread_mutex_init(&l->form_lock, NULL);
	clock_cond_init_monotonic(&l->wait_cond);
	int rc = copy_text(l->provider, sizeof l->provider, params->provider);
	if (!rc)
		rc = copy_text(l->address, sizeof l->address, params->address);
	/* Taken over or bound here, the listener's host is what peers are told. */
	if (!rc)
		rc = copy_text(l->listen_host, sizeof l->listen_host, params->listen_host);
	/* The caller's strings need not outlive this call. */
	l->params.provider = l->provider;
	l->params.address = l->address;
	l->params.listen_host = l->listen_host;
	if (!rc)
		rc = open_parts(l);
	if (rc) {
		links_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void links_close(struct links *l)
{
	if (!l)
		return;
	links_boot_stop(l);
	links_engine_stop(l);
	for (size_t i = 0; i < l->n_clients; i++)
		if (l->clients[i].removed && l->clients[i].client.release)
			l->clients[i].client.release(l->clients[i].client.arg);
	free(l->clients);
	if (l->listen_fd >= 0)
		close(l->listen_fd);
	fab_mr_close(l->mailbox_mr);
	links_transfer_close(l);
	fab_domain_close(l->dom);
	free(l->mailbox);
	free(l->peer_mailbox);
	free(l->peers);
	free(l->view);
	free(l->restart);
	free(l->form.ids);
	for (unsigned i = 0; i < 2; i++)
		if (l->boot_wake[i] >= 0)
			close(l->boot_wake[i]);
	pthread_cond_destroy(&l->wait_cond);
	pthread_mutex_destroy(&l->form_lock);
	pthread_mutex_destroy(&l->wait_lock);
	pthread_mutex_destroy(&l->clients_lock);
	pthread_rwlock_destroy(&l->listeners_lock);
	free(l);
}

struct fab_domain *links_domain(struct links *l)
{
	return l->dom;
}

struct counters *links_counters(const struct links *l)
{
	return l->params.counters;
}

unsigned links_my_id(const struct links *l)
{
	return l->params.my_id;
}

int links_listen(struct links *l, const struct links_listener *listener)
{
	pthread_rwlock_wrlock(&l->listeners_lock);
	int handle = GRP_ENOSPC;
	for (unsigned i = 0; i < LINKS_MAX_LISTENERS && handle < 0; i++) {
		if (l->listener_used[i])
			continue;
		l->listeners[i] = *listener;
		l->listener_used[i] = true;
		handle = (int)i;
	}
	pthread_rwlock_unlock(&l->listeners_lock);
	return handle;
}

void links_unlisten(struct links *l, int handle)
{
	if (handle < 0 || handle >= (int)LINKS_MAX_LISTENERS)
		return;
	pthread_rwlock_wrlock(&l->listeners_lock);
	l->listener_used[handle] = false;
	pthread_rwlock_unlock(&l->listeners_lock);
}

void links_close_peer(struct links *l, unsigned id)
{
	fab_peer_close(l->dom, id);
}

bool links_peer_failed(const struct links *l, unsigned id)
{
	return !fab_peer_connected(l->dom, id);
}

bool links_peer_gone(const struct links *l, unsigned id)
{
	return fab_peer_failed(l->dom, id) || fab_peer_closed(l->dom, id);
}

static struct mailbox_entry *inbox(struct links *l, unsigned id)
{
	return &l->mailbox[id];
}

static size_t outbox_offset(unsigned id)
{
	return (FAB_MAX_PEERS + (size_t)id) * sizeof(struct mailbox_entry);
}

/* Our entry in peer `id`'s mailbox: body, then stamp, in two writes. */
int links_exchange_post_to(struct links *l, uint64_t stamp, unsigned id,
			   const struct links_regions *mine)
{
	if (id >= FAB_MAX_PEERS || id == l->params.my_id || mine->n > LINKS_MAX_REGIONS)
		return GRP_EINVAL;
	pthread_mutex_lock(&l->form_lock);
	struct fab_remote_region box_copy = l->peer_mailbox[id];
	pthread_mutex_unlock(&l->form_lock);
	const struct fab_remote_region *box = &box_copy;
	if (box->len == 0 || !fab_peer_connected(l->dom, id))
		return GRP_EPEER;
	struct mailbox_entry *out = &l->mailbox[FAB_MAX_PEERS + id];
	out->version = MAILBOX_VERSION;
	out->n_regions = mine->n;
	memcpy(out->regions, mine->r, sizeof out->regions);
	out->stamp = stamp;
	size_t at = (size_t)l->params.my_id * sizeof(struct mailbox_entry);
	int rc = fab_write(l->dom, id, l->mailbox_mr, outbox_offset(id), box, at,
			   MAILBOX_BODY_BYTES, 0);
	if (!rc)
		rc = fab_write(l->dom, id, l->mailbox_mr, outbox_offset(id) + MAILBOX_BODY_BYTES, box,
			       at + MAILBOX_BODY_BYTES, sizeof out->stamp, 0);
	return rc;
}

void links_announce_leaving(struct links *l)
{
	size_t field = offsetof(struct mailbox_entry, leaving);
	size_t at = (size_t)l->params.my_id * sizeof(struct mailbox_entry) + field;
	for (unsigned id = 0; id < FAB_MAX_PEERS; id++) {
		pthread_mutex_lock(&l->form_lock);
		struct fab_remote_region box_copy = l->peer_mailbox[id];
		pthread_mutex_unlock(&l->form_lock);
		const struct fab_remote_region *box = &box_copy;
		if (box->len == 0 || links_peer_failed(l, id))
			continue;
		l->mailbox[FAB_MAX_PEERS + id].leaving = 1;
		if (fab_write(l->dom, id, l->mailbox_mr, outbox_offset(id) + field, box, at,
			      sizeof(uint64_t), 0) == 0)
			fab_fence(l->dom, id, box, at, l->params.stall_timeout_ms);
	}
}

bool links_peer_leaving(struct links *l, unsigned id)
{
	return id < FAB_MAX_PEERS && __atomic_load_n(&inbox(l, id)->leaving, __ATOMIC_ACQUIRE);
}

int links_exchange_post(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			unsigned me, const struct links_regions *mine)
{
	if (stamp == 0 || mine->n > LINKS_MAX_REGIONS)
		return GRP_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (i == me || ids[i] >= FAB_MAX_PEERS)
			continue;
		int rc = links_exchange_post_to(l, stamp, ids[i], mine);
		if (rc && rc != GRP_EPEER)
			return rc;
	}
	return 0;
}

static int read_entry(struct links *l, unsigned id, uint64_t stamp,
		      const struct links_regions *mine, struct links_regions *out)
{
	struct mailbox_entry *e = inbox(l, id);
	if (__atomic_load_n(&e->stamp, __ATOMIC_ACQUIRE) != stamp)
		return links_peer_failed(l, id) ? GRP_EPEER : GRP_EAGAIN;
	if (e->version != MAILBOX_VERSION || e->n_regions != mine->n) {
		log_error(MOD, "member %u posted a malformed or foreign mailbox entry", id);
		return GRP_EPROTO;
	}
	out->n = e->n_regions;
	for (unsigned r = 0; r < out->n; r++) {
		out->r[r] = e->regions[r];
		if (out->r[r].len != mine->r[r].len) {
			log_error(MOD, "member %u registered region %u of %llu bytes, we %llu: its "
				  "configuration differs from ours", id, r,
				  (unsigned long long)out->r[r].len, (unsigned long long)mine->r[r].len);
			return GRP_EPROTO;
		}
	}
	return 0;
}

bool links_exchange_arrived(struct links *l, uint64_t stamp, unsigned id)
{
	return id < FAB_MAX_PEERS && __atomic_load_n(&inbox(l, id)->stamp, __ATOMIC_ACQUIRE) == stamp;
}

int links_exchange_collect(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			   unsigned me, const bool *absent, const struct links_regions *mine,
			   struct links_regions *out)
{
	int result = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i == me) {
			out[i] = *mine;
			continue;
		}
		if (absent && absent[i]) {
			out[i] = (struct links_regions){ .n = 0 };
			continue;
		}
		int rc = ids[i] < FAB_MAX_PEERS ? read_entry(l, ids[i], stamp, mine, &out[i])
						: GRP_EINVAL;
		if (rc == GRP_EAGAIN && result == 0)
			result = rc;
		else if (rc && rc != GRP_EAGAIN)
			return rc;
	}
	return result;
}

/* Drops askers a view lists or whose link is gone; form_lock held. */
static void prune_asking(struct links *l)
{
	unsigned k = 0, n = atomic_load(&l->n_asking);
	for (unsigned i = 0; i < n; i++) {
		unsigned id = l->asking[i].id;
		bool listed = false;
		for (unsigned r = 0; l->view && r < l->view->n && !listed; r++)
			listed = l->view->members[r].id == id;
		if (!listed && !links_peer_gone(l, id))
			l->asking[k++] = l->asking[i];
	}
	atomic_store_explicit(&l->n_asking, k, memory_order_release);
}

int links_publish_view(struct links *l, const struct links_view *v)
{
	if (v->n == 0 || v->n > VIEW_INFO_MAX_MEMBERS || v->n_senders > v->n)
		return GRP_EINVAL;
	pthread_mutex_lock(&l->form_lock);
	if (!l->view)
		l->view = malloc(sizeof *l->view);
	struct view_info *info = l->view;
	l->view_withdrawn = false;
	if (info) {
		info->vid = v->vid;
		info->n = v->n;
		info->n_senders = v->n_senders;
		for (unsigned i = 0; i < v->n; i++) {
			const struct peer_info *p = &l->peers[v->ids[i]];
			struct view_member *m = &info->members[i];
			m->id = v->ids[i];
			m->flags = v->added[i] ? VIEW_MEMBER_NEW : 0;
			m->port = v->ids[i] == l->params.my_id ? l->form.mine.boot_port : p->port;
			snprintf(m->host, sizeof m->host, "%s", v->ids[i] == l->params.my_id
				 ? l->form.mine.boot_host : p->host);
		}
		memcpy(info->senders, v->senders, v->n_senders * sizeof *info->senders);
		prune_asking(l);
	}
	pthread_mutex_unlock(&l->form_lock);
	return info ? 0 : GRP_ENOMEM;
}

void links_unpublish_view(struct links *l)
{
	pthread_mutex_lock(&l->form_lock);
	l->view_withdrawn = true;
	pthread_mutex_unlock(&l->form_lock);
}

int links_view_copy(struct links *l, struct view_info *out)
{
	pthread_mutex_lock(&l->form_lock);
	int rc = l->view ? 0 : GRP_ENOTFOUND;
	if (l->view)
		*out = *l->view;
	pthread_mutex_unlock(&l->form_lock);
	return rc;
}

unsigned links_pending_joins(struct links *l, unsigned *ids, bool *sender, unsigned max)
{
	if (atomic_load_explicit(&l->n_asking, memory_order_acquire) == 0)
		return 0;
	unsigned k = 0;
	pthread_mutex_lock(&l->form_lock);
	prune_asking(l);
	unsigned n = atomic_load(&l->n_asking);
	for (unsigned i = 0; i < n && k < max; i++) {
		if (!fab_peer_connected(l->dom, l->asking[i].id))
			continue;
		ids[k] = l->asking[i].id;
		sender[k++] = l->asking[i].flags & HELLO_SENDER;
	}
	pthread_mutex_unlock(&l->form_lock);
	return k;
}

void links_record_peer(struct links *l, const struct hello *h)
{
	struct peer_info *p = &l->peers[h->id];
	l->peer_mailbox[h->id] = h->regions[0];
	snprintf(p->host, sizeof p->host, "%s", h->boot_host);
	p->port = h->boot_port;
	p->transfer = h->n_regions > 1 ? h->regions[1] : (struct fab_remote_region){ 0 };
	p->ring = h->n_regions > 2 ? h->regions[2] : (struct fab_remote_region){ 0 };
	/* A peer introducing itself again is a new process (a removed member
	 * back under its id): nothing of the old one's counts may remain. */
	memset(&l->cells[h->id], 0, sizeof l->cells[h->id]);
}
