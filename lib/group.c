/* The public ordered-multicast API (group/group.h) over one epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "group_internal.h"
#include "log.h"
#include "order.h"
#include "sst_bulk.h"

static const char *MOD = "group";

/* Reads multicast.senders: "all", or member ranks separated by commas. */
static int parse_senders(const char *text, unsigned n, unsigned *senders, unsigned *count)
{
	if (strcmp(text, "all") == 0) {
		for (unsigned i = 0; i < n; i++)
			senders[i] = i;
		*count = n;
		return 0;
	}
	bool *seen = calloc(n, sizeof *seen);
	if (!seen)
		return GRP_ENOMEM;
	unsigned c = 0;
	const char *p = text;
	int rc = 0;
	while (!rc) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v >= n || seen[v]) {
			log_error(MOD, "multicast.senders '%s': '%s' is not a distinct member rank below %u",
				  text, p, n);
			rc = GRP_ECONFIG;
			break;
		}
		seen[v] = true;
		senders[c++] = (unsigned)v;
		while (*end == ' ')
			end++;
		if (*end == '\0')
			break;
		if (*end != ',') {
			log_error(MOD, "multicast.senders '%s': expected 'all' or ranks separated by commas",
				  text);
			rc = GRP_ECONFIG;
		}
		p = end + 1;
	}
	free(seen);
	*count = c;
	return rc;
}

static bool callbacks_valid(const grp_callbacks *cb)
{
	return cb && cb->size >= offsetof(grp_callbacks, view) + sizeof cb->view && cb->deliver &&
	       (cb->size < sizeof *cb || (!cb->persisted && !cb->state_save && !cb->state_load));
}

/* Messages above a slot travel by RDMC, each sender a stream with its own
 * buffers, so that one large message can cross the group while the
 * previous one waits for stability. */
static int create_relay(grp_t *g, const grp_config *cfg)
{
	struct rdmc_relay_params p;
	int rc = rdmc_relay_params_from_config(cfg, &p);
	if (rc)
		return rc;
	if (p.max_payload > UINT32_MAX) {
		log_error(MOD, "rdmc.max_payload: ordered multicast carries at most %u bytes a message",
			  UINT32_MAX);
		return GRP_ECONFIG;
	}
	p.streams = g->lay.S;
	p.stream_member = g->senders;
	p.buffers = RDMC_MAX_BUFFERS;
	rc = rdmc_relay_create(&p, &g->relay);
	if (rc)
		return rc;
	size_t capacity = rdmc_relay_capacity(g->relay);
	g->max_msg = capacity < UINT32_MAX ? capacity : UINT32_MAX;
	return 0;
}

static int read_config(grp_t *g, const grp_config *cfg, grp_sst_layout *layout)
{
	const struct grp_hostport *members;
	g->n = (unsigned)config_hostports(cfg, "group.members", &members);
	g->me = (unsigned)config_uint(cfg, "member.rank");
	if (g->n == 0 || g->me >= g->n)
		return 0; /* grp_sst_open names the problem */
	g->senders = calloc(g->n, sizeof *g->senders);
	if (!g->senders)
		return GRP_ENOMEM;
	unsigned S;
	int rc = parse_senders(config_str(cfg, "multicast.senders"), g->n, g->senders, &S);
	if (rc)
		return rc;
	g->my_sender = -1;
	for (unsigned s = 0; s < S; s++)
		if (g->senders[s] == g->me)
			g->my_sender = (int)s;
	g->nonblocking = config_bool(cfg, "multicast.nonblocking");
	g->send_timeout_ms = (unsigned)config_uint(cfg, "multicast.send_timeout_ms");
	g->leave_timeout_ms = (unsigned)config_uint(cfg, "fabric.connect_timeout_ms");
	rc = epoch_layout_init(&g->lay, g->n, S, (unsigned)config_uint(cfg, "multicast.window"),
			       config_uint(cfg, "multicast.max_smc_payload"), layout);
	if (rc) {
		log_error(MOD, "multicast.window x multicast.max_smc_payload is too large for a row");
		return rc;
	}
	g->max_msg = g->lay.payload;
	return config_uint(cfg, "rdmc.max_payload") > g->lay.payload ? create_relay(g, cfg) : 0;
}

static int alloc_epoch_state(grp_t *g)
{
	g->received = calloc(g->lay.S, sizeof *g->received);
	g->scanned = calloc(g->lay.S, sizeof *g->scanned);
	g->messages_from = calloc(g->lay.S, sizeof *g->messages_from);
	g->sender_gone = calloc(g->lay.S, sizeof *g->sender_gone);
	g->departed = calloc(g->n, sizeof *g->departed);
	return g->received && g->scanned && g->messages_from && g->sender_gone && g->departed
		       ? 0
		       : GRP_ENOMEM;
}

static void report_first_view(grp_t *g)
{
	if (!g->cb.view)
		return;
	unsigned *members = calloc(g->n, sizeof *members);
	if (!members)
		return;
	for (unsigned i = 0; i < g->n; i++)
		members[i] = i;
	grp_view v = {
		.vid = g->vid, .n_members = g->n, .members = members, .my_rank = g->me,
		.n_joined = g->n, .joined = members,
	};
	g->cb.view(g, &v, g->user);
	free(members);
}

GRP_API int grp_join(const grp_config *cfg, const grp_callbacks *callbacks, void *user,
		     grp_t **out)
{
	if (!cfg || !out || !callbacks_valid(callbacks))
		return GRP_EINVAL;
	grp_t *g = calloc(1, sizeof *g);
	if (!g)
		return GRP_ENOMEM;
	memcpy(&g->cb, callbacks,
	       callbacks->size < sizeof g->cb ? callbacks->size : sizeof g->cb);
	g->user = user;
	pthread_mutex_init(&g->send_lock, NULL);
	grp_sst_layout layout = { 0 };
	int rc = read_config(g, cfg, &layout);
	if (rc) {
		/* The table would have taken it; so do we, on every path. */
		int listen_fd = (int)config_int(cfg, "member.listen_fd");
		if (listen_fd >= 0)
			close(listen_fd);
	} else {
		grp_sst_callbacks scb = { .on_failure = epoch_on_failure };
		struct sst_bulk bulk;
		if (g->relay)
			bulk = rdmc_relay_bulk(g->relay);
		rc = sst_open_bulk(cfg, &layout, &scb, g, g->relay ? &bulk : NULL, &g->sst);
		if (!rc && g->relay)
			rdmc_relay_attach(g->relay, g->sst);
	}
	if (!rc)
		rc = alloc_epoch_state(g);
	if (!rc) {
		report_first_view(g);
		rc = epoch_start(g);
	}
	if (rc) {
		grp_free(g);
		return rc;
	}
	log_info(MOD, "member %u joined view %u: %u members, %u senders, window %u, %zu-byte slots, "
		 "messages up to %zu bytes",
		 g->me, g->vid, g->n, g->lay.S, g->lay.W, g->lay.payload, g->max_msg);
	*out = g;
	return 0;
}

/* Why this member cannot send now, or 0. Called with send_lock held. */
static int send_blocked(grp_t *g)
{
	if (atomic_load(&g->leaving))
		return GRP_ECLOSED;
	if (atomic_load(&g->wedged))
		return GRP_EPEER;
	if (atomic_load(&g->reserved))
		return GRP_EBUSY;
	return 0;
}

/* Whether the next slot is free, and for a large message its buffer. */
static bool window_open(const grp_t *g, bool large)
{
	uint64_t k = atomic_load(&g->next_k);
	return order_slot_free(k, (unsigned)g->my_sender, g->lay.S, g->lay.W,
			       epoch_min_delivered(g)) &&
	       (!large || epoch_large_buffer_free(g));
}

struct slot_wait {
	grp_t *g;
	bool large;
};

static bool can_retry(const grp_sst *sst, void *arg)
{
	(void)sst;
	const struct slot_wait *w = arg;
	return atomic_load(&w->g->wedged) || atomic_load(&w->g->leaving) ||
	       window_open(w->g, w->large);
}

/* Takes send_lock and waits until the next slot (and for a large message
 * the next RDMC buffer) is free. Returns with the lock held on success
 * only. */
static int acquire_slot(grp_t *g, bool large)
{
	struct slot_wait w = { g, large };
	bool may_block = !g->nonblocking && !grp_sst_on_engine_thread(g->sst);
	uint64_t waited_ms = 0;
	pthread_mutex_lock(&g->send_lock);
	for (;;) {
		int rc = send_blocked(g);
		if (!rc && window_open(g, large))
			return 0;
		if (!rc && !may_block)
			rc = GRP_EAGAIN;
		if (!rc && g->send_timeout_ms && waited_ms >= g->send_timeout_ms)
			rc = GRP_ETIMEDOUT;
		if (rc) {
			pthread_mutex_unlock(&g->send_lock);
			return rc;
		}
		pthread_mutex_unlock(&g->send_lock);
		unsigned slice = 1000;
		if (g->send_timeout_ms && g->send_timeout_ms - waited_ms < slice)
			slice = (unsigned)(g->send_timeout_ms - waited_ms);
		atomic_fetch_add(&g->window_waiters, 1);
		grp_sst_wait(g->sst, can_retry, &w, slice);
		atomic_fetch_sub(&g->window_waiters, 1);
		waited_ms += slice;
		pthread_mutex_lock(&g->send_lock);
	}
}

static struct slot_header *next_slot(grp_t *g)
{
	return (struct slot_header *)epoch_slot(g, g->me, atomic_load(&g->next_k));
}

static bool is_large(const grp_t *g, size_t len)
{
	return len > g->lay.payload;
}

static int reserve(grp_t *g, size_t len, void **slot)
{
	if (len > g->max_msg)
		return GRP_EMSGSIZE;
	int rc = acquire_slot(g, is_large(g, len));
	if (rc)
		return rc;
	void *payload = is_large(g, len)
				? rdmc_relay_buffer(g->relay, (unsigned)g->my_sender,
						    (unsigned)(atomic_load(&g->large_sent) %
							       RDMC_MAX_BUFFERS))
				: (uint8_t *)next_slot(g) + SLOT_HEADER_BYTES;
	atomic_store(&g->reserved, payload);
	g->reserved_len = len;
	pthread_mutex_unlock(&g->send_lock);
	*slot = payload;
	return 0;
}

static int commit(grp_t *g, void *slot)
{
	pthread_mutex_lock(&g->send_lock);
	if (atomic_load(&g->leaving) || atomic_load(&g->reserved) != slot) {
		int rc = atomic_load(&g->leaving) ? GRP_ECLOSED : GRP_EINVAL;
		pthread_mutex_unlock(&g->send_lock);
		return rc;
	}
	uint64_t k = atomic_load(&g->next_k);
	struct slot_header h = { .stamp = k + 1, .len = (uint32_t)g->reserved_len };
	if (is_large(g, g->reserved_len)) {
		unsigned b = (unsigned)(atomic_fetch_add_explicit(&g->large_sent, 1,
								  memory_order_relaxed) %
					RDMC_MAX_BUFFERS);
		h.flags = SLOT_LARGE | b << SLOT_BUFFER_SHIFT;
		atomic_store_explicit(&g->buffer_seq[b],
				      order_seq(k, (unsigned)g->my_sender, g->lay.S) + 1,
				      memory_order_relaxed);
	}
	memcpy(next_slot(g), &h, sizeof h);
	atomic_store(&g->reserved, NULL);
	atomic_store_explicit(&g->next_k, k + 1, memory_order_release);
	pthread_mutex_unlock(&g->send_lock);
	grp_sst_notify(g->sst);
	return 0;
}

/* Every send call enters here, so that grp_leave can wait until none is
 * left touching the table it is about to close. */
static bool enter(grp_t *g)
{
	atomic_fetch_add(&g->active_calls, 1);
	if (!atomic_load(&g->leaving))
		return true;
	atomic_fetch_sub(&g->active_calls, 1);
	return false;
}

static int leave_call(grp_t *g, int rc)
{
	atomic_fetch_sub(&g->active_calls, 1);
	return rc;
}

GRP_API int grp_send_reserve(grp_t *g, size_t len, void **slot)
{
	if (!g || !slot || g->my_sender < 0)
		return GRP_EINVAL;
	if (!enter(g))
		return GRP_ECLOSED;
	return leave_call(g, reserve(g, len, slot));
}

GRP_API int grp_send_commit(grp_t *g, void *slot)
{
	if (!g || !slot)
		return GRP_EINVAL;
	if (!enter(g))
		return GRP_ECLOSED;
	return leave_call(g, commit(g, slot));
}

GRP_API int grp_send(grp_t *g, const void *buf, size_t len)
{
	if (!g || (!buf && len) || g->my_sender < 0)
		return GRP_EINVAL;
	if (!enter(g))
		return GRP_ECLOSED;
	void *slot;
	int rc = reserve(g, len, &slot);
	if (!rc) {
		if (len)
			memcpy(slot, buf, len);
		rc = commit(g, slot);
	}
	return leave_call(g, rc);
}

GRP_API size_t grp_max_msg_size(const grp_t *g)
{
	return g ? g->max_msg : 0;
}

GRP_API unsigned grp_rank(const grp_t *g)
{
	return g ? g->me : 0;
}

/* Every message we wrote is pushed, and every member present holds it. */
static bool others_hold_ours(const grp_sst *sst, void *arg)
{
	(void)sst;
	grp_t *g = arg;
	if (atomic_load(&g->wedged))
		return true;
	if (g->my_sender < 0)
		return true;
	uint64_t written = atomic_load(&g->next_k);
	if (g->pushed != written)
		return false;
	size_t column = g->lay.received + (size_t)g->my_sender * sizeof(uint64_t);
	for (unsigned m = 0; m < g->n; m++)
		if (m != g->me && !atomic_load(&g->departed[m]) &&
		    grp_sst_load_u64(g->sst, m, column) < written)
			return false;
	return true;
}

/* Seals our slots (nothing more is pushed) and tells the others how many
 * messages we sent, so that our going is a departure and not a failure, and
 * all of them count the same turns of ours as real. */
static void announce_departure(grp_t *g)
{
	pthread_mutex_lock(&g->send_lock);
	g->sealed = true;
	uint64_t sent = g->pushed;
	pthread_mutex_unlock(&g->send_lock);
	grp_sst_store_u64(g->sst, g->lay.left, sent + 1);
	grp_sst_push(g->sst, g->lay.left, sizeof(uint64_t));
}

static bool no_send_in_progress(const grp_sst *sst, void *arg)
{
	(void)sst;
	return atomic_load(&((grp_t *)arg)->active_calls) == 0;
}

GRP_API int grp_leave(grp_t *g)
{
	if (!g)
		return GRP_EINVAL;
	pthread_mutex_lock(&g->send_lock);
	bool already = atomic_exchange(&g->leaving, true);
	atomic_store(&g->reserved, NULL);
	pthread_mutex_unlock(&g->send_lock);
	if (already || !g->sst)
		return GRP_ECLOSED;
	grp_sst_notify(g->sst);
	int rc = grp_sst_wait(g->sst, no_send_in_progress, g, g->leave_timeout_ms);
	if (!rc)
		rc = grp_sst_wait(g->sst, others_hold_ours, g, g->leave_timeout_ms);
	if (rc)
		log_warn(MOD, "leaving before every member confirmed our last messages");
	announce_departure(g);
	grp_sst_close(g->sst);
	g->sst = NULL;
	return rc;
}

GRP_API void grp_free(grp_t *g)
{
	if (!g)
		return;
	if (g->sst && g->received) {
		atomic_store(&g->leaving, true);
		announce_departure(g);
	}
	grp_sst_close(g->sst);
	if (g->relay && !atomic_load(&g->wedged))
		rdmc_relay_log_incomplete(g->relay);
	rdmc_relay_free(g->relay);
	free(g->senders);
	free(g->received);
	free(g->scanned);
	free(g->messages_from);
	free(g->sender_gone);
	free(g->departed);
	pthread_mutex_destroy(&g->send_lock);
	free(g);
}
