/* Raw RDMC (group/rdmc.h): the block relay with every member a stream of
 * one buffer, announced through the shared state table. A sender's row
 * carries its announcement (length, then message number) and each
 * receiver's acknowledgements; the sender reuses its buffer once every
 * live member acknowledged. */
#include <stdlib.h>
#include <string.h>

#include <group/rdmc.h>

#include "config.h"
#include "log.h"
#include "relay.h"
#include "setup.h"
#include "sst_table.h"

static const char *MOD = "rdmc";

/* The only exchange a raw RDMC group makes. */
#define RAW_STAMP 1u

struct grp_rdmc {
	struct links *links;
	grp_sst *sst;
	struct rdmc_relay *relay;
	grp_rdmc_callbacks cb;
	void *user;
	unsigned n, me;
	size_t col_len, col_seq, col_acked; /* our announcement; acked[n] */
	/* Engine thread only, per sender: */
	uint64_t *started; /* last message handed to the relay */
	size_t *started_len;
	uint64_t *handed; /* last message handed to on_message */
	uint64_t my_seq;
};

static uint64_t announced(const grp_rdmc *r, unsigned s)
{
	return grp_sst_load_u64(r->sst, s, r->col_seq);
}

/* Hands sender s's announced message to the relay; a length above ours
 * cannot come from a member configured like us, so it is refused. */
static void start_announced(grp_rdmc *r, unsigned s)
{
	uint64_t seq = announced(r, s);
	if (seq <= r->started[s])
		return;
	uint64_t len = grp_sst_load_u64(r->sst, s, r->col_len);
	int rc = len > rdmc_relay_capacity(r->relay)
			 ? GRP_EMSGSIZE
			 : rdmc_relay_start(r->relay, s, 0, seq, (size_t)len);
	if (rc == GRP_EBUSY)
		return;
	if (rc) {
		log_error(MOD, "member %u announced a %llu-byte message, above rdmc.max_payload; "
			  "ignored", s, (unsigned long long)len);
		r->handed[s] = seq;
	}
	r->started[s] = seq;
	r->started_len[s] = (size_t)len;
}

/* A message we hold whole and have forwarded: hand it up, then tell the
 * sender, which may then reuse its buffer for its next one. */
static bool hand_up(grp_rdmc *r, unsigned s)
{
	uint64_t done = rdmc_relay_completed(r->relay, s, 0);
	if (s == r->me || done <= r->handed[s])
		return false;
	r->handed[s] = done;
	if (r->cb.on_message)
		r->cb.on_message(r, s, done, rdmc_relay_buffer(r->relay, s, 0), r->started_len[s],
				 r->user);
	size_t acked = r->col_acked + s * sizeof(uint64_t);
	grp_sst_store_u64(r->sst, acked, done);
	grp_sst_push(r->sst, acked, sizeof(uint64_t));
	return true;
}

static bool has_work(const grp_sst *sst, void *arg)
{
	const grp_rdmc *r = arg;
	for (unsigned s = 0; s < r->n; s++) {
		if (grp_sst_row_failed(sst, s))
			continue;
		if (announced(r, s) > r->started[s] ||
		    (s != r->me && rdmc_relay_completed(r->relay, s, 0) > r->handed[s]))
			return true;
	}
	return rdmc_relay_has_work(r->relay);
}

static void progress(grp_sst *sst, void *arg)
{
	grp_rdmc *r = arg;
	for (unsigned s = 0; s < r->n; s++)
		if (!grp_sst_row_failed(sst, s))
			start_announced(r, s);
	rdmc_relay_progress(r->relay);
	for (unsigned s = 0; s < r->n; s++)
		if (!grp_sst_row_failed(sst, s))
			hand_up(r, s);
}

static void on_failure(grp_sst *sst, unsigned row, int err, void *user)
{
	(void)sst;
	grp_rdmc *r = user;
	if (r->cb.on_failure)
		r->cb.on_failure(r, row, err, r->user);
}

/* rdmc.* for n members, every member a stream of one buffer. */
static int relay_params(const grp_config *cfg, unsigned n, struct rdmc_relay_params *p)
{
	*p = (struct rdmc_relay_params){
		.n = n,
		.buffers = 1,
		.max_payload = config_uint(cfg, "rdmc.max_payload"),
		.block_size = config_uint(cfg, "rdmc.block_size"),
	};
	rdmc_schedule_parse(config_str(cfg, "rdmc.schedule"), &p->schedule);
	const char *why = rdmc_relay_params_problem(p->max_payload, p->block_size, p->schedule, n);
	if (why) {
		log_error(MOD, "rdmc.max_payload, rdmc.block_size, rdmc.schedule: %s", why);
		return GRP_ECONFIG;
	}
	return 0;
}

static int alloc_state(grp_rdmc *r)
{
	r->started = calloc(r->n, sizeof *r->started);
	r->started_len = calloc(r->n, sizeof *r->started_len);
	r->handed = calloc(r->n, sizeof *r->handed);
	return r->started && r->started_len && r->handed ? 0 : GRP_ENOMEM;
}

static int create_parts(grp_rdmc *r, const struct member_setup *s, const unsigned *ids,
			struct rdmc_relay_params *p)
{
	unsigned *members = malloc(r->n * sizeof *members);
	if (!members)
		return GRP_ENOMEM;
	for (unsigned m = 0; m < r->n; m++)
		members[m] = m;
	p->me = r->me;
	p->ids = ids;
	p->streams = r->n;
	p->stream_member = members;
	int rc = rdmc_relay_create(r->links, p, &r->relay);
	free(members);
	if (rc)
		return rc;
	grp_sst_layout layout = { 0 };
	r->col_len = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	r->col_seq = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	r->col_acked = grp_sst_layout_add(&layout, sizeof(uint64_t), r->n);
	struct sst_params sp = {
		.n = r->n, .me = r->me, .ids = ids, .row_bytes = layout.row_bytes,
		.fence_timeout_ms = s->stall_timeout_ms,
	};
	grp_sst_callbacks scb = { .size = sizeof scb, .on_failure = on_failure };
	return sst_create(r->links, &sp, &scb, r, &r->sst);
}

static int connect_parts(grp_rdmc *r, const struct member_setup *s, const unsigned *ids)
{
	struct links_regions mine = {
		.n = 2, .r = { sst_region(r->sst), rdmc_relay_region(r->relay) },
	};
	struct links_regions *theirs = calloc(r->n, sizeof *theirs);
	int rc = theirs ? member_setup_exchange(r->links, RAW_STAMP, ids, r->n, r->me, &mine,
						theirs, s->connect_timeout_ms)
			: GRP_ENOMEM;
	if (!rc) {
		rdmc_relay_connect(r->relay, theirs, 1);
		sst_connect(r->sst, theirs, 0);
		rc = grp_sst_predicate_add(r->sst, has_work, progress, r, GRP_SST_RECURRENT, NULL);
	}
	free(theirs);
	return rc;
}

static int open_raw(grp_rdmc *r, const grp_config *cfg)
{
	struct member_setup s;
	int rc = member_setup_read(cfg, &s);
	if (rc)
		return rc;
	r->n = s.n;
	r->me = s.rank;
	struct rdmc_relay_params p;
	unsigned *ids = calloc(s.n, sizeof *ids);
	rc = ids ? relay_params(cfg, s.n, &p) : GRP_ENOMEM;
	if (!rc)
		rc = alloc_state(r);
	if (!rc)
		rc = member_setup_connect(&s, &r->links, ids);
	if (!rc)
		rc = create_parts(r, &s, ids, &p);
	if (!rc)
		rc = connect_parts(r, &s, ids);
	free(ids);
	member_setup_free(&s);
	return rc;
}

GRP_API int grp_rdmc_open(const grp_config *cfg, const grp_rdmc_callbacks *callbacks, void *user,
			  grp_rdmc **out)
{
	if (!cfg || !out || (callbacks && callbacks->size < sizeof(size_t)))
		return GRP_EINVAL;
	grp_rdmc *r = calloc(1, sizeof *r);
	if (!r)
		return GRP_ENOMEM;
	if (callbacks)
		memcpy(&r->cb, callbacks,
		       callbacks->size < sizeof r->cb ? callbacks->size : sizeof r->cb);
	r->user = user;
	int rc = open_raw(r, cfg);
	if (rc) {
		grp_rdmc_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

GRP_API size_t grp_rdmc_max_msg_size(const grp_rdmc *r)
{
	return r ? rdmc_relay_capacity(r->relay) : 0;
}

struct send_wait {
	grp_rdmc *r;
	uint64_t seq;
	bool lost; /* a member failed before it held the message */
};

/* Every member holds the message, or failed without it. */
static bool settled(const grp_sst *sst, void *arg)
{
	struct send_wait *w = arg;
	size_t col = w->r->col_acked + w->r->me * sizeof(uint64_t);
	bool lost = false;
	for (unsigned m = 0; m < grp_sst_size(sst); m++) {
		if (m == w->r->me || grp_sst_load_u64(sst, m, col) >= w->seq)
			continue;
		if (!grp_sst_row_failed(sst, m))
			return false;
		lost = true;
	}
	w->lost = lost;
	return true;
}

static bool buffer_released(const grp_sst *sst, void *arg)
{
	(void)sst;
	const grp_rdmc *r = arg;
	return rdmc_relay_released(r->relay, r->me, 0);
}

GRP_API int grp_rdmc_send(grp_rdmc *r, const void *buf, size_t len)
{
	if (!r || (!buf && len) || grp_sst_on_engine_thread(r->sst))
		return GRP_EINVAL;
	if (len > rdmc_relay_capacity(r->relay))
		return GRP_EMSGSIZE;
	while (grp_sst_wait(r->sst, buffer_released, r, 60000) != 0)
		;
	memcpy(rdmc_relay_buffer(r->relay, r->me, 0), buf, len);
	struct send_wait w = { r, ++r->my_seq, false };
	grp_sst_store_u64(r->sst, r->col_len, len);
	grp_sst_push(r->sst, r->col_len, sizeof(uint64_t));
	grp_sst_store_u64(r->sst, r->col_seq, w.seq);
	grp_sst_push(r->sst, r->col_seq, sizeof(uint64_t));
	grp_sst_notify(r->sst);
	while (grp_sst_wait(r->sst, settled, &w, 60000) != 0)
		;
	return w.lost ? GRP_EPEER : 0;
}

/* The engine stops before the fences: see grp_sst_close. */
GRP_API void grp_rdmc_close(grp_rdmc *r)
{
	if (!r)
		return;
	if (r->links)
		links_engine_stop(r->links);
	if (r->sst)
		sst_fence(r->sst);
	sst_destroy(r->sst);
	if (r->relay)
		rdmc_relay_log_incomplete(r->relay);
	rdmc_relay_free(r->relay);
	links_close(r->links);
	free(r->started);
	free(r->started_len);
	free(r->handed);
	free(r);
}
