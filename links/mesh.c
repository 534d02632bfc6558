#include "mesh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <group/error.h>

#include "clock.h"
#include "log.h"
#include "sock.h"

static const char *MOD = "mesh";

/* A single bootstrap exchange never waits longer than this, so one silent
 * member cannot hold up everyone else's progress for the whole timeout. */
#define EXCHANGE_MS 2000u
#define RETRY_MS 20u
#define ACCEPT_WAIT_MS 2

struct mesh_state {
	const struct mesh_params *params;
	struct fab_domain *dom;
	struct hello mine;
	struct mesh_peer *peers;
	bool *introduced; /* HELLO exchanged with this rank */
	uint64_t deadline;
};

static int build_hello(struct mesh_state *st, struct fab_mr *const *regions, unsigned n_regions)
{
	struct hello *h = &st->mine;
	memset(h, 0, sizeof *h);
	h->rank = st->params->me;
	h->n_members = st->params->n;
	snprintf(h->provider, sizeof h->provider, "%s", fab_provider_name(st->dom));
	size_t len;
	int rc = fab_listen_name(st->dom, h->fabric_addr, &len);
	if (rc)
		return rc;
	h->fabric_addr_len = (uint16_t)len;
	if (n_regions > HELLO_MAX_REGIONS)
		return GRP_EINVAL;
	h->n_regions = (uint8_t)n_regions;
	for (unsigned i = 0; i < n_regions; i++)
		h->regions[i] = fab_mr_remote(regions[i]);
	return 0;
}

/* Checks a peer's HELLO against ours; returns a reason or NULL. */
static const char *hello_mismatch(const struct mesh_state *st, const struct hello *h)
{
	if (strcmp(h->provider, st->mine.provider) != 0)
		return "it uses another fabric provider";
	if (h->n_members != st->mine.n_members)
		return "it was configured with another number of members";
	if (h->rank == st->mine.rank)
		return "it claims our own rank";
	if (st->introduced[h->rank])
		return "a member with its rank has already introduced itself";
	if (h->n_regions != st->mine.n_regions)
		return "its memory layout differs from ours";
	for (unsigned i = 0; i < h->n_regions; i++)
		if (h->regions[i].len != st->mine.regions[i].len)
			return "its memory layout differs from ours";
	return NULL;
}

static void record_peer(struct mesh_state *st, const struct hello *h)
{
	struct mesh_peer *p = &st->peers[h->rank];
	p->n_regions = h->n_regions;
	memcpy(p->regions, h->regions, sizeof p->regions);
	st->introduced[h->rank] = true;
}

static int send_hello(struct mesh_state *st, int fd, enum frame_type type, uint64_t deadline)
{
	uint8_t buf[FRAME_MAX_PAYLOAD];
	size_t len;
	int rc = hello_encode(&st->mine, buf, sizeof buf, &len);
	return rc ? rc : sock_send_frame(fd, type, st->params->group_id, buf, len, deadline);
}

static void send_reject(struct mesh_state *st, int fd, int code, const char *reason,
			uint64_t deadline)
{
	struct reject rj = { .code = code };
	snprintf(rj.reason, sizeof rj.reason, "%s", reason);
	uint8_t buf[256];
	size_t len;
	if (reject_encode(&rj, buf, sizeof buf, &len) == 0)
		sock_send_frame(fd, FRAME_REJECT, st->params->group_id, buf, len, deadline);
}

/* Answers one incoming bootstrap connection. A bad frame costs the sender
 * its connection, never us our progress. */
static void serve_one(struct mesh_state *st, int fd)
{
	uint64_t deadline = clock_deadline_ms(EXCHANGE_MS);
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	struct hello h;
	int rc = sock_recv_frame(fd, st->params->group_id, &hdr, buf, deadline);
	if (rc) {
		log_warn(MOD, "dropping a bootstrap connection: %s", grp_strerror(rc));
		if (rc == GRP_ESTRANGER || rc == GRP_EVERSION || rc == GRP_EMSGSIZE)
			send_reject(st, fd, rc, grp_strerror(rc), deadline);
		return;
	}
	if (hdr.type != FRAME_HELLO || hello_decode(buf, hdr.length, &h) != 0) {
		log_warn(MOD, "dropping a bootstrap connection: malformed HELLO");
		send_reject(st, fd, GRP_EPROTO, "malformed HELLO", deadline);
		return;
	}
	const char *why = hello_mismatch(st, &h);
	if (!why && h.rank < st->mine.rank)
		why = "lower ranks are contacted by higher ones, not the reverse";
	if (!why && fab_peer_expect(st->dom, h.rank) != 0)
		why = "cannot prepare a connection for it";
	if (why) {
		log_warn(MOD, "refusing member %u: %s", h.rank, why);
		send_reject(st, fd, GRP_EPROTO, why, deadline);
		return;
	}
	record_peer(st, &h);
	rc = send_hello(st, fd, FRAME_HELLO_REPLY, deadline);
	if (rc)
		log_warn(MOD, "answering member %u: %s", h.rank, grp_strerror(rc));
}

/* Introduces us to lower-ranked member j and starts the fabric connection.
 * GRP_EAGAIN: j is not listening yet, try again later. */
static int introduce_to(struct mesh_state *st, unsigned j)
{
	const struct grp_hostport *hp = &st->params->members[j];
	uint64_t deadline = clock_deadline_ms(EXCHANGE_MS);
	if (deadline > st->deadline)
		deadline = st->deadline;
	int fd;
	int rc = sock_connect(hp->host, hp->port, deadline, &fd);
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		return GRP_EAGAIN;
	if (rc)
		return rc;
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	struct hello h;
	rc = send_hello(st, fd, FRAME_HELLO, deadline);
	if (!rc)
		rc = sock_recv_frame(fd, st->params->group_id, &hdr, buf, deadline);
	close(fd);
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		return GRP_EAGAIN;
	if (rc) {
		log_error(MOD, "member %u at %s:%u answered with a bad frame: %s", j, hp->host,
			  hp->port, grp_strerror(rc));
		return rc;
	}
	if (hdr.type == FRAME_REJECT) {
		struct reject rj;
		if (reject_decode(buf, hdr.length, &rj) != 0)
			return GRP_EPROTO;
		log_error(MOD, "member %u at %s:%u refused us: %s", j, hp->host, hp->port, rj.reason);
		return rj.code;
	}
	const char *why = NULL;
	if (hdr.type != FRAME_HELLO_REPLY || hello_decode(buf, hdr.length, &h) != 0)
		why = "a malformed HELLO reply";
	else if (h.rank != j)
		why = "a HELLO reply from another rank";
	else
		why = hello_mismatch(st, &h);
	if (why) {
		log_error(MOD, "member %u at %s:%u: %s", j, hp->host, hp->port, why);
		return GRP_EPROTO;
	}
	record_peer(st, &h);
	return fab_peer_connect(st->dom, j, h.fabric_addr, h.fabric_addr_len);
}

static bool all_connected(const struct mesh_state *st)
{
	for (unsigned j = 0; j < st->params->n; j++)
		if (j != st->params->me && !fab_peer_connected(st->dom, j))
			return false;
	return true;
}

static int first_failed(const struct mesh_state *st)
{
	for (unsigned j = 0; j < st->params->n; j++)
		if (j != st->params->me && fab_peer_failed(st->dom, j))
			return (int)j;
	return -1;
}

static void log_missing(const struct mesh_state *st)
{
	char list[512] = "";
	size_t off = 0;
	for (unsigned j = 0; j < st->params->n && off < sizeof list - 16; j++)
		if (j != st->params->me && !fab_peer_connected(st->dom, j))
			off += (size_t)snprintf(list + off, sizeof list - off, " %u", j);
	log_error(MOD, "timed out connecting; members not connected:%s", list);
}

static int run_mesh(struct mesh_state *st, int listen_fd)
{
	const struct mesh_params *p = st->params;
	unsigned next_lower = 0;
	uint64_t next_attempt = 0;
	while (!all_connected(st)) {
		int fd;
		int rc = sock_accept(listen_fd, ACCEPT_WAIT_MS, &fd);
		if (rc)
			return rc;
		if (fd >= 0) {
			serve_one(st, fd);
			close(fd);
		}
		if (next_lower < p->me && clock_now_ns() >= next_attempt) {
			rc = introduce_to(st, next_lower);
			if (rc == 0)
				next_lower++;
			else if (rc == GRP_EAGAIN)
				next_attempt = clock_deadline_ms(RETRY_MS);
			else
				return rc;
		}
		fab_progress(st->dom);
		int failed = first_failed(st);
		if (failed >= 0) {
			log_error(MOD, "member %d failed while the group was forming", failed);
			return GRP_EPEER;
		}
		if (clock_ms_left(st->deadline) == 0) {
			log_missing(st);
			return GRP_ETIMEDOUT;
		}
	}
	return 0;
}

int mesh_params_from_config(const grp_config *cfg, struct mesh_params *mp, struct fab_params *fp)
{
	const struct grp_hostport *members;
	size_t n = config_hostports(cfg, "group.members", &members);
	uint64_t rank = config_uint(cfg, "member.rank");
	int listen_fd = (int)config_int(cfg, "member.listen_fd");
	const char *why = NULL;
	if (n == 0)
		why = "group.members is empty: list every member's host:port";
	else if (n > FAB_MAX_PEERS || rank >= n)
		why = "member.rank is not a position in group.members";
	if (why) {
		log_error(MOD, "%s", why);
		if (listen_fd >= 0)
			close(listen_fd);
		return GRP_ECONFIG;
	}
	const char *address = config_str(cfg, "fabric.address");
	*mp = (struct mesh_params){
		.members = members,
		.n = (unsigned)n,
		.me = (unsigned)rank,
		.group_id = frame_group_id(config_str(cfg, "group.name")),
		.listen_fd = listen_fd,
		.timeout_ms = (unsigned)config_uint(cfg, "fabric.connect_timeout_ms"),
	};
	*fp = (struct fab_params){
		.provider = config_str(cfg, "fabric.provider"),
		.address = address[0] ? address : members[rank].host,
		.group_id = mp->group_id,
		.my_id = (unsigned)rank,
		.stall_timeout_ms = (unsigned)config_uint(cfg, "fabric.stall_timeout_ms"),
	};
	return 0;
}

int mesh_connect(const struct mesh_params *params, struct fab_domain *dom,
		 struct fab_mr *const *regions, unsigned n_regions, struct mesh_peer *peers)
{
	int listen_fd = params->listen_fd;
	if (params->n == 0 || params->me >= params->n || params->n > FAB_MAX_PEERS) {
		if (listen_fd >= 0)
			close(listen_fd);
		return GRP_EINVAL;
	}
	struct mesh_state st = {
		.params = params,
		.dom = dom,
		.peers = peers,
		.deadline = clock_deadline_ms(params->timeout_ms),
	};
	st.introduced = calloc(params->n, sizeof *st.introduced);
	int rc = st.introduced ? build_hello(&st, regions, n_regions) : GRP_ENOMEM;
	const struct grp_hostport *self = &params->members[params->me];
	if (!rc && listen_fd < 0)
		rc = sock_listen(self->host, self->port, &listen_fd);
	if (!rc)
		rc = run_mesh(&st, listen_fd);
	if (listen_fd >= 0)
		close(listen_fd);
	free(st.introduced);
	return rc;
}
