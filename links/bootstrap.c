/* The bootstrap listener and group formation.
 *
 * The listener thread serves every incoming connection concurrently, each
 * with its own deadline, so that idle or slow connections (a port scanner,
 * a member stalled mid-frame) cannot hold up anyone else; past
 * BOOT_MAX_CONNS open connections the oldest silent one (else the oldest)
 * makes room.
 *
 * Formation: member j introduces itself (HELLO: rank, id, provider, fabric
 * address, mailbox) to every member i < j, which answers in kind and then
 * accepts j's fabric connection. A member whose introduction was answered
 * too late for it simply introduces itself again: the retry replaces the
 * stale one as long as the fabric connection is not up yet.
 *
 * Every connection authenticates first (boot_auth.h, session.h); the
 * frames that follow carry MACs. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <group/error.h>

#include "boot_auth.h"
#include "clock.h"
#include "entropy.h"
#include "links_internal.h"
#include "log.h"
#include "session.h"
#include "sock.h"

static const char *MOD = "bootstrap";

/* One exchange never waits longer than this, so a silent member cannot
 * hold up anyone's progress for long. */
#define EXCHANGE_MS 2000u
#define RETRY_MS 20u
#define BOOT_MAX_CONNS 64u

struct boot_conn {
	int fd;
	uint64_t deadline;
	size_t have; /* bytes of header, then of payload, read */
	struct frame_header hdr;
	bool header_done;
	uint8_t raw[FRAME_HEADER_LEN];
	uint8_t *payload;
	struct boot_auth auth;
};

static void conn_drop(struct boot_conn *c)
{
	if (c->fd >= 0) {
		boot_auth_end(c->fd, &c->auth);
		close(c->fd);
	}
	free(c->payload);
	*c = (struct boot_conn){ .fd = -1 };
}

void links_send_reject(struct links *l, int fd, struct auth_session *s, int code,
		       const char *reason)
{
	struct reject rj = { .code = code };
	snprintf(rj.reason, sizeof rj.reason, "%s", reason);
	uint8_t buf[256];
	size_t len;
	if (reject_encode(&rj, buf, sizeof buf, &len) == 0)
		session_send(fd, s, FRAME_REJECT, l->params.group_id, buf, len,
			     clock_deadline_ms(EXCHANGE_MS));
}

int links_send_hello(struct links *l, int fd, struct auth_session *s, enum frame_type type,
		     const struct hello *h, uint64_t deadline)
{
	uint8_t buf[FRAME_MAX_PAYLOAD];
	size_t len;
	int rc = hello_encode(h, buf, sizeof buf, &len);
	return rc ? rc : session_send(fd, s, type, l->params.group_id, buf, len, deadline);
}

/* Checks a peer's HELLO against our formation; returns a reason or NULL.
 * Called with form_lock held. */
static const char *hello_mismatch(const struct links *l, const struct hello *h, int *code)
{
	const struct formation *f = &l->form;
	*code = GRP_EPROTO;
	if (strcmp(h->provider, f->mine.provider) != 0)
		return "it uses another fabric provider";
	if (h->n_members != f->n)
		return "it was configured with another number of members";
	if (h->rank == f->my_rank)
		return "it claims our own rank";
	*code = GRP_ECONFIG;
	if (h->id == f->mine.id)
		return "it has our node id (member.id)";
	for (unsigned r = 0; r < f->n; r++)
		if (r != h->rank && f->ids[r] == h->id)
			return "another member has its node id (member.id)";
	*code = GRP_EPROTO;
	if (h->n_regions < 2 || h->regions[0].len != f->mine.regions[0].len ||
	    h->regions[1].len != f->mine.regions[1].len)
		return "its mailbox differs from ours (another version)";
	return NULL;
}

/* Records what a member told us; form_lock held. */
static void record_member(struct links *l, const struct hello *h)
{
	l->form.ids[h->rank] = h->id;
	links_record_peer(l, h);
}

/* Answers a member's HELLO in formation. */
static void serve_member(struct links *l, struct boot_conn *c, const struct hello *hp)
{
	struct hello h = *hp;
	struct auth_session *s = &c->auth.s;
	/* Fresh for each answer: a connection request carrying it can only
	 * come from the member we answer now. */
	uint64_t token = entropy_u64();
	pthread_mutex_lock(&l->form_lock);
	if (l->form.n == 0 && l->restart) {
		pthread_mutex_unlock(&l->form_lock);
		log_debug(MOD, "member %u (id %u) forms a group: not before our survey ends", h.rank,
			  h.id);
		links_send_reject(l, c->fd, s, GRP_EAGAIN, "still asking the others for their logs");
		return;
	}
	if (l->form.n == 0) {
		pthread_mutex_unlock(&l->form_lock);
		log_warn(MOD, "refusing member %u (id %u): this member did not form a group from "
			 "a member list", h.rank, h.id);
		links_send_reject(l, c->fd, s, GRP_ECONFIG, "this member joined; it forms no group");
		return;
	}
	int code;
	const char *why = hello_mismatch(l, &h, &code);
	if (!why && h.rank < l->form.my_rank)
		why = "lower ranks are contacted by higher ones, not the reverse";
	if (!why && fab_peer_connected(l->dom, h.id))
		why = "a member with its node id is connected already";
	if (!why && (token == 0 || fab_peer_expect(l->dom, h.id, token) != 0))
		why = "cannot prepare a connection for it";
	if (!why)
		record_member(l, &h);
	pthread_mutex_unlock(&l->form_lock);
	if (why) {
		log_warn(MOD, "refusing member %u (id %u): %s", h.rank, h.id, why);
		links_send_reject(l, c->fd, s, code, why);
		return;
	}
	struct hello reply = l->form.mine;
	reply.token = token;
	int rc = links_send_hello(l, c->fd, s, FRAME_HELLO_REPLY, &reply,
				  clock_deadline_ms(EXCHANGE_MS));
	if (rc)
		log_warn(MOD, "answering member %u: %s", h.rank, grp_strerror(rc));
}

/* Answers a complete frame: a bad one costs its sender the connection,
 * never us our progress. */
static void serve_frame(struct links *l, struct boot_conn *c, size_t len)
{
	struct auth_session *s = &c->auth.s;
	if (c->hdr.type == FRAME_VIEW_QUERY && len == 0) {
		admit_view_query(l, c->fd, s);
		return;
	}
	struct hello h;
	if (c->hdr.type != FRAME_HELLO || hello_decode(c->payload, len, &h) != 0) {
		log_warn(MOD, "dropping a bootstrap connection: malformed or unexpected frame");
		links_send_reject(l, c->fd, s, GRP_EPROTO, "malformed or unexpected frame");
		return;
	}
	if (h.flags == 0)
		serve_member(l, c, &h);
	else
		admit_hello(l, c->fd, s, &h);
}

/* Reads what is there without blocking; returns true once the connection
 * is done with (served or dropped). */
static bool conn_read(struct links *l, struct boot_conn *c)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		if (!c->header_done) {
			dst = c->raw + c->have;
			want = FRAME_HEADER_LEN - c->have;
		} else {
			dst = c->payload + c->have;
			want = c->hdr.length - c->have;
		}
		ssize_t n = want ? recv(c->fd, dst, want, 0) : 0;
		if (want && n <= 0)
			return n == 0 || (errno != EAGAIN && errno != EINTR);
		c->have += (size_t)n;
		if (!c->header_done && c->have == FRAME_HEADER_LEN) {
			int rc = frame_header_decode(c->raw, l->params.group_id, &c->hdr);
			if (rc)
				c->auth.refused = grp_strerror(rc);
			if (rc || !boot_auth_admits(&c->auth, &c->hdr))
				return true;
			c->header_done = true;
			c->have = 0;
			c->payload = malloc(c->hdr.length ? c->hdr.length : 1);
			if (!c->payload)
				return true;
		}
		if (c->header_done && c->have == c->hdr.length && !c->auth.done) {
			if (!boot_auth_answer(l, c->fd, &c->auth, c->payload))
				return true;
			free(c->payload);
			c->payload = NULL;
			c->header_done = false;
			c->have = 0;
			continue;
		}
		if (c->header_done && c->have == c->hdr.length) {
			size_t len;
			if (boot_auth_open(l, &c->auth, &c->hdr, c->payload, &len))
				serve_frame(l, c, len);
			return true;
		}
	}
}

static bool silent(const struct boot_conn *c)
{
	return c->have == 0 && !c->header_done;
}

/* A slot for a new connection: a free one, else the oldest that has sent
 * nothing yet, else the oldest of all (every one of them mid-frame: the
 * newest connection deserves its chance as much). */
static struct boot_conn *conn_slot(struct boot_conn *conns)
{
	struct boot_conn *oldest = &conns[0];
	for (unsigned i = 0; i < BOOT_MAX_CONNS; i++) {
		if (conns[i].fd < 0)
			return &conns[i];
		bool older = conns[i].deadline < oldest->deadline;
		if ((silent(&conns[i]) && (!silent(oldest) || older)) ||
		    (!silent(oldest) && older))
			oldest = &conns[i];
	}
	if (!oldest->auth.done)
		oldest->auth.refused = "evicted unauthenticated: every connection slot was busy";
	conn_drop(oldest);
	return oldest;
}

static void accept_all(struct links *l, struct boot_conn *conns)
{
	for (;;) {
		int fd;
		if (sock_accept(l->listen_fd, 0, &fd) != 0 || fd < 0)
			return;
		struct boot_conn *c = conn_slot(conns);
		*c = (struct boot_conn){ .fd = fd, .deadline = clock_deadline_ms(EXCHANGE_MS) };
		if (!boot_auth_start(l, fd, &c->auth) || conn_read(l, c))
			conn_drop(c);
	}
}

/* After waking the engine for a connection event, the event queue is
 * watched again this much later: the engine needs a moment to take the
 * event, and until it has the descriptor stays readable. */
#define EVENT_REARM_NS 1000000u

static void *boot_main(void *arg)
{
	struct links *l = arg;
	pthread_setname_np(pthread_self(), "grp-boot");
	struct boot_conn conns[BOOT_MAX_CONNS];
	for (unsigned i = 0; i < BOOT_MAX_CONNS; i++)
		conns[i] = (struct boot_conn){ .fd = -1 };
	/* The engine sleeps on completions; a peer's connection breaking is a
	 * connection event, which this thread, asleep in poll anyway, turns
	 * into a wake-up, so that the failure is seen at once. */
	int event_fd = fab_event_fd(l->dom);
	uint64_t event_rearm = 0;
	/* pfd[0] is the stop signal, pfd[1] the listener, pfd[2] the fabric's
	 * connection events (fd -1 while not watched), then connections. */
	enum { FIXED = 3 };
	for (;;) {
		struct pollfd pfd[BOOT_MAX_CONNS + FIXED];
		unsigned slot_of[BOOT_MAX_CONNS + FIXED];
		nfds_t n = 0;
		uint64_t next_deadline = UINT64_MAX;
		bool watch_events = event_fd >= 0 && clock_now_ns() >= event_rearm;
		if (watch_events && !fab_event_fd_armed(l->dom)) {
			fab_wake(l->dom);
			event_rearm = clock_now_ns() + EVENT_REARM_NS;
			watch_events = false;
		}
		if (event_fd >= 0 && !watch_events)
			next_deadline = event_rearm;
		pfd[n++] = (struct pollfd){ .fd = l->boot_wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = l->listen_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = watch_events ? event_fd : -1, .events = POLLIN };
		for (unsigned i = 0; i < BOOT_MAX_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			slot_of[n] = i;
			pfd[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
			if (conns[i].deadline < next_deadline)
				next_deadline = conns[i].deadline;
		}
		/* Idle, it sleeps until something arrives; with a connection open,
		 * until that one's deadline at the latest. */
		int wait_ms = next_deadline == UINT64_MAX ? -1 : clock_ms_left(next_deadline);
		if (poll(pfd, n, wait_ms) < 0 && errno != EINTR) {
			log_error(MOD, "poll on the bootstrap port: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		if (pfd[2].revents) {
			fab_wake(l->dom);
			event_rearm = clock_now_ns() + EVENT_REARM_NS;
		}
		for (nfds_t i = FIXED; i < n; i++)
			if (pfd[i].revents && conn_read(l, &conns[slot_of[i]]))
				conn_drop(&conns[slot_of[i]]);
		uint64_t now = clock_now_ns();
		for (unsigned i = 0; i < BOOT_MAX_CONNS; i++)
			if (conns[i].fd >= 0 && now >= conns[i].deadline)
				conn_drop(&conns[i]);
		if (pfd[1].revents)
			accept_all(l, conns);
	}
	for (unsigned i = 0; i < BOOT_MAX_CONNS; i++)
		conn_drop(&conns[i]);
	return NULL;
}

void links_boot_stop(struct links *l)
{
	if (!l->boot_started)
		return;
	uint8_t stop = 1;
	if (write(l->boot_wake[1], &stop, 1) != 1)
		log_error(MOD, "cannot signal the bootstrap thread to stop: %s", strerror(errno));
	pthread_join(l->boot, NULL);
	l->boot_started = false;
}

/* What a refused or failed introduction means for the caller. */
static int reply_error(const struct links_member *hp, unsigned j, const struct frame_header *hdr,
		       const uint8_t *buf)
{
	struct reject rj;
	if (reject_decode(buf, hdr->length, &rj) != 0)
		return GRP_EPROTO;
	if (rj.code == GRP_EAGAIN)
		log_debug(MOD, "member %u at %s:%u: not now: %s", j, hp->host, hp->port, rj.reason);
	else
		log_error(MOD, "member %u at %s:%u refused us: %s", j, hp->host, hp->port,
			  rj.reason);
	return rj.code;
}

int links_ask(struct links *l, const char *host, uint16_t port, enum frame_type type,
	      const uint8_t *payload, size_t len, uint64_t deadline, struct frame_header *hdr,
	      uint8_t *answer)
{
	int fd;
	int rc = sock_connect(host, port, deadline, &fd);
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		log_debug(MOD, "%s:%u unreachable: %s", host, port, grp_strerror(rc));
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		return GRP_EAGAIN;
	if (rc)
		return rc;
	struct auth_session s;
	rc = session_client_open(fd, &l->params.key, l->params.group_id, deadline, &s);
	if (!rc)
		rc = session_send(fd, &s, type, l->params.group_id, payload, len, deadline);
	if (!rc)
		rc = session_recv(fd, &s, l->params.group_id, hdr, answer, deadline);
	close(fd);
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		log_debug(MOD, "%s:%u did not answer: %s", host, port, grp_strerror(rc));
	if (rc == GRP_EPEER || rc == GRP_ETIMEDOUT)
		return GRP_EAGAIN;
	if (rc == GRP_ESTRANGER)
		log_error(MOD, "%s:%u and we do not share a key: another group.name or "
			  "group.secret_file, or someone else at its address", host, port);
	else if (rc)
		log_error(MOD, "%s:%u answered with a bad frame: %s", host, port, grp_strerror(rc));
	return rc;
}

/* Introduces us to lower-ranked member j and starts the fabric connection.
 * GRP_EAGAIN: j is not there yet or did not answer in time; try again. */
static int introduce_to(struct links *l, unsigned j, uint64_t form_deadline)
{
	const struct links_member *hp = &l->form.members[j];
	uint64_t deadline = clock_deadline_ms(EXCHANGE_MS);
	if (deadline > form_deadline)
		deadline = form_deadline;
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	size_t len;
	int rc = hello_encode(&l->form.mine, buf, sizeof buf, &len);
	struct frame_header hdr;
	if (!rc)
		rc = links_ask(l, hp->host, hp->port, FRAME_HELLO, buf, len, deadline, &hdr, buf);
	if (rc)
		return rc;
	if (hdr.type == FRAME_REJECT)
		return reply_error(hp, j, &hdr, buf);
	struct hello h;
	int code = GRP_EPROTO;
	const char *why = NULL;
	pthread_mutex_lock(&l->form_lock);
	if (hdr.type != FRAME_HELLO_REPLY || hello_decode(buf, hdr.length, &h) != 0)
		why = "a malformed HELLO reply";
	else if (h.rank != j || h.flags != 0)
		why = "a HELLO reply from another rank";
	else
		why = hello_mismatch(l, &h, &code);
	if (!why)
		record_member(l, &h);
	pthread_mutex_unlock(&l->form_lock);
	if (why) {
		log_error(MOD, "member %u at %s:%u: %s", j, hp->host, hp->port, why);
		return code;
	}
	return fab_peer_connect(l->dom, h.id, h.fabric_addr, h.fabric_addr_len, h.token);
}

/* Every other member known and connected; the first failed one in *failed. */
static bool all_connected(struct links *l, int *failed)
{
	bool all = true;
	pthread_mutex_lock(&l->form_lock);
	for (unsigned r = 0; r < l->form.n; r++) {
		unsigned id = l->form.ids[r];
		if (r == l->form.my_rank)
			continue;
		if (id < FAB_MAX_PEERS && fab_peer_failed(l->dom, id) && *failed < 0)
			*failed = (int)r;
		if (id >= FAB_MAX_PEERS || !fab_peer_connected(l->dom, id))
			all = false;
	}
	pthread_mutex_unlock(&l->form_lock);
	return all;
}

static void log_missing(struct links *l)
{
	char list[512] = "";
	size_t off = 0;
	pthread_mutex_lock(&l->form_lock);
	for (unsigned r = 0; r < l->form.n && off < sizeof list - 32; r++) {
		unsigned id = l->form.ids[r];
		if (r != l->form.my_rank && (id >= FAB_MAX_PEERS || !fab_peer_connected(l->dom, id)))
			off += (size_t)snprintf(list + off, sizeof list - off, " %u (%s:%u)", r,
						l->form.members[r].host, l->form.members[r].port);
	}
	pthread_mutex_unlock(&l->form_lock);
	log_error(MOD, "timed out forming the group; members not connected:%s", list);
}

static int boot_port(struct links *l, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(l->listen_fd, (struct sockaddr *)&ss, &len) != 0) {
		log_error(MOD, "the bootstrap listener's address: %s", strerror(errno));
		return GRP_EIO;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* Our introduction: in formation (n > 0) by rank, otherwise as a peer. */
static int build_hello(struct links *l, unsigned n, unsigned my_rank)
{
	struct hello *h = &l->form.mine;
	memset(h, 0, sizeof *h);
	h->flags = n ? 0 : HELLO_PEER;
	h->rank = my_rank;
	h->n_members = n;
	h->id = l->params.my_id;
	snprintf(h->boot_host, sizeof h->boot_host, "%s", l->params.listen_host);
	int rc = boot_port(l, &h->boot_port);
	if (rc)
		return rc;
	snprintf(h->provider, sizeof h->provider, "%s", fab_provider_name(l->dom));
	size_t len;
	rc = fab_listen_name(l->dom, h->fabric_addr, &len);
	if (rc)
		return rc;
	h->fabric_addr_len = (uint16_t)len;
	h->n_regions = l->ring_mr ? 3 : 2;
	h->regions[0] = fab_mr_remote(l->mailbox_mr);
	h->regions[1] = fab_mr_remote(l->cells_mr);
	if (l->ring_mr)
		h->regions[2] = fab_mr_remote(l->ring_mr);
	return 0;
}

static int start_formation(struct links *l, const struct links_member *members, unsigned n,
			   unsigned my_rank)
{
	struct formation *f = &l->form;
	if (f->n || n == 0 || my_rank >= n || n > FAB_MAX_PEERS)
		return GRP_EINVAL;
	unsigned *ids = malloc(n * sizeof *ids);
	if (!ids)
		return GRP_ENOMEM;
	for (unsigned r = 0; r < n; r++)
		ids[r] = FAB_MAX_PEERS;
	ids[my_rank] = l->params.my_id;
	if (!l->boot_started) {
		f->members = members;
		f->ids = ids;
		return links_boot_start(l, n, my_rank);
	}
	/* Serving already (a member with a log that asked the others first):
	 * the bootstrap thread reads these under form_lock. */
	pthread_mutex_lock(&l->form_lock);
	f->members = members;
	f->ids = ids;
	f->n = n;
	f->my_rank = my_rank;
	f->mine.flags = 0;
	f->mine.rank = my_rank;
	f->mine.n_members = n;
	pthread_mutex_unlock(&l->form_lock);
	return 0;
}

int links_boot_start(struct links *l, unsigned n, unsigned my_rank)
{
	if (l->boot_started)
		return GRP_EINVAL;
	l->form.n = n;
	l->form.my_rank = my_rank;
	int rc = build_hello(l, n, my_rank);
	if (rc)
		return rc;
	if (pipe2(l->boot_wake, O_CLOEXEC) != 0) {
		log_error(MOD, "cannot create the bootstrap thread's wake-up pipe: %s", strerror(errno));
		return GRP_EIO;
	}
	rc = pthread_create(&l->boot, NULL, boot_main, l);
	if (rc) {
		log_error(MOD, "cannot start the bootstrap thread: error %d", rc);
		return GRP_ENOMEM;
	}
	l->boot_started = true;
	return 0;
}

int links_serve(struct links *l)
{
	return links_boot_start(l, 0, 0);
}

int links_form(struct links *l, const struct links_member *members, unsigned n, unsigned my_rank,
	       unsigned timeout_ms, unsigned *ids)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	int rc = start_formation(l, members, n, my_rank);
	unsigned next_lower = 0;
	uint64_t next_attempt = 0;
	for (;;) {
		if (rc)
			return rc;
		int failed = -1;
		if (next_lower == my_rank && all_connected(l, &failed))
			break;
		if (failed >= 0) {
			log_error(MOD, "member %d failed while the group was forming", failed);
			return GRP_EPEER;
		}
		if (clock_ms_left(deadline) == 0) {
			log_missing(l);
			return GRP_ETIMEDOUT;
		}
		if (next_lower < my_rank && clock_now_ns() >= next_attempt) {
			rc = introduce_to(l, next_lower, deadline);
			if (rc == 0)
				next_lower++;
			else if (rc == GRP_EAGAIN)
				next_attempt = clock_deadline_ms(RETRY_MS);
			if (rc == GRP_EAGAIN)
				rc = 0;
			continue;
		}
		/* Connection events arrive through the engine; nothing here to
		 * wait on but them and the clock. */
		clock_sleep_ms(2);
	}
	pthread_mutex_lock(&l->form_lock);
	memcpy(ids, l->form.ids, n * sizeof *ids);
	pthread_mutex_unlock(&l->form_lock);
	return 0;
}
