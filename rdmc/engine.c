/* The RDMC block engine (DESIGN §5) on the shared state table: the table
 * carries each sender's announcement (length, then message number) and each
 * receiver's acknowledgements; the blocks travel one-sided into a bulk
 * region registered beside the table, each write naming its sender and block
 * in the remote CQ data. Every member walks its own steps of the schedule
 * in order, waiting only for the block it has to forward. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <group/rdmc.h>

#include "config.h"
#include "log.h"
#include "schedule.h"
#include "sst_bulk.h"

static const char *MOD = "rdmc";

#define BLOCK_BITS 20u
#define MAX_BLOCKS (1u << BLOCK_BITS)
#define MAX_MEMBERS (1u << (31u - BLOCK_BITS))

/* One sender's message as this member sees it. Written by the engine only,
 * except `held` and `received`, which the landing of blocks updates from
 * whichever thread drives progress. */
struct transfer {
	uint64_t seq; /* message in hand, 0 if none */
	size_t len;
	uint32_t blocks, steps, step;
	bool delivered;
	atomic_uint received;
	atomic_uchar *held; /* per block */
};

struct grp_rdmc {
	grp_sst *sst;
	grp_rdmc_callbacks cb;
	void *user;
	unsigned n, me;
	enum rdmc_schedule_kind schedule;
	size_t block_size, slot_bytes;
	uint8_t *bulk; /* n slots; slot s receives sender s's messages */
	size_t col_len, col_seq, col_acked; /* our announcement; acked[n] */
	struct transfer *in; /* per sender */
	uint64_t my_seq;
};

static uint32_t block_count(const grp_rdmc *r, size_t len)
{
	return len == 0 ? 1 : (uint32_t)((len + r->block_size - 1) / r->block_size);
}

static size_t block_len(const grp_rdmc *r, const struct transfer *t, uint32_t b)
{
	size_t start = (size_t)b * r->block_size;
	return start >= t->len ? 0 : (t->len - start < r->block_size ? t->len - start : r->block_size);
}

static void on_block(void *arg, unsigned peer, uint32_t data)
{
	(void)peer;
	grp_rdmc *r = arg;
	unsigned sender = data >> BLOCK_BITS;
	uint32_t block = data & (MAX_BLOCKS - 1);
	if (sender >= r->n || sender == r->me || block >= r->slot_bytes / r->block_size)
		return;
	struct transfer *t = &r->in[sender];
	if (!atomic_exchange(&t->held[block], 1))
		atomic_fetch_add(&t->received, 1);
}

static bool holds(const grp_rdmc *r, unsigned sender, uint32_t block)
{
	return sender == r->me || atomic_load(&r->in[sender].held[block]);
}

/* Takes up sender s's next message once it is announced. */
static bool start_if_announced(grp_rdmc *r, unsigned s)
{
	struct transfer *t = &r->in[s];
	uint64_t announced = grp_sst_load_u64(r->sst, s, r->col_seq);
	if (announced <= t->seq || (t->seq && !t->delivered))
		return false;
	uint64_t len = grp_sst_load_u64(r->sst, s, r->col_len);
	if (len > r->slot_bytes) {
		log_error(MOD, "member %u announced a %llu-byte message, above rdmc.max_payload; "
			  "ignored", s, (unsigned long long)len);
		t->seq = announced;
		t->delivered = true;
		return false;
	}
	t->seq = announced;
	t->len = len;
	t->blocks = block_count(r, t->len);
	t->steps = rdmc_schedule_steps(r->schedule, r->n, t->blocks);
	t->step = 0;
	t->delivered = s == r->me;
	return true;
}

/* Posts our sends, in schedule order, as far as the blocks we hold allow. */
static bool run_steps(grp_rdmc *r, unsigned s)
{
	struct transfer *t = &r->in[s];
	uint32_t rel = (r->me + r->n - s) % r->n;
	bool moved = false;
	while (t->seq && t->step < t->steps) {
		struct rdmc_step st;
		rdmc_schedule_step(r->schedule, r->n, t->blocks, rel, t->step, &st);
		if (st.send.peer >= 0) {
			if (!holds(r, s, st.send.block))
				break;
			unsigned to = ((unsigned)st.send.peer + s) % r->n;
			size_t off = (size_t)s * r->slot_bytes + (size_t)st.send.block * r->block_size;
			/* A failed member is reported by the table; the others go on. */
			sst_bulk_write(r->sst, to, off, block_len(r, t, st.send.block),
				       (uint32_t)(s << BLOCK_BITS) | st.send.block);
		}
		t->step++;
		moved = true;
	}
	return moved;
}

/* A message we hold whole and have forwarded: hand it up, then tell the
 * sender, which may then reuse our buffer for its next one. */
static bool deliver_if_complete(grp_rdmc *r, unsigned s)
{
	struct transfer *t = &r->in[s];
	if (!t->seq || t->delivered || t->step < t->steps || atomic_load(&t->received) < t->blocks)
		return false;
	if (r->cb.on_message)
		r->cb.on_message(r, s, t->seq, r->bulk + (size_t)s * r->slot_bytes, t->len, r->user);
	for (unsigned m = 0; m < r->n; m++)
		if (m != r->me && !grp_sst_row_failed(r->sst, m))
			sst_bulk_flush(r->sst, m, 60000);
	for (uint32_t b = 0; b < t->blocks; b++)
		atomic_store(&t->held[b], 0);
	atomic_store(&t->received, 0);
	t->delivered = true;
	size_t acked = r->col_acked + s * sizeof(uint64_t);
	grp_sst_store_u64(r->sst, acked, t->seq);
	grp_sst_push(r->sst, acked, sizeof(uint64_t));
	return true;
}

static bool can_progress(const grp_rdmc *r, unsigned s)
{
	const struct transfer *t = &r->in[s];
	if (grp_sst_load_u64(r->sst, s, r->col_seq) > t->seq && (!t->seq || t->delivered))
		return true;
	if (!t->seq)
		return false;
	if (t->step < t->steps) {
		struct rdmc_step st;
		rdmc_schedule_step(r->schedule, r->n, t->blocks, (r->me + r->n - s) % r->n, t->step,
				   &st);
		return st.send.peer < 0 || holds(r, s, st.send.block);
	}
	return !t->delivered && atomic_load(&t->received) >= t->blocks;
}

static bool has_work(const grp_sst *sst, void *arg)
{
	(void)sst;
	const grp_rdmc *r = arg;
	for (unsigned s = 0; s < r->n; s++)
		if (!grp_sst_row_failed(r->sst, s) && can_progress(r, s))
			return true;
	return false;
}

static void progress(grp_sst *sst, void *arg)
{
	(void)sst;
	grp_rdmc *r = arg;
	for (unsigned s = 0; s < r->n; s++) {
		if (grp_sst_row_failed(r->sst, s))
			continue;
		start_if_announced(r, s);
		run_steps(r, s);
		deliver_if_complete(r, s);
	}
}

static void on_failure(grp_sst *sst, unsigned row, int err, void *user)
{
	(void)sst;
	grp_rdmc *r = user;
	if (r->cb.on_failure)
		r->cb.on_failure(r, row, err, r->user);
}

static int read_config(grp_rdmc *r, const grp_config *cfg)
{
	r->block_size = config_uint(cfg, "rdmc.block_size");
	size_t max_payload = config_uint(cfg, "rdmc.max_payload");
	r->slot_bytes = (max_payload + r->block_size - 1) / r->block_size * r->block_size;
	rdmc_schedule_parse(config_str(cfg, "rdmc.schedule"), &r->schedule);
	const struct grp_hostport *members;
	r->n = (unsigned)config_hostports(cfg, "group.members", &members);
	r->me = (unsigned)config_uint(cfg, "member.rank");
	if (r->slot_bytes / r->block_size > MAX_BLOCKS) {
		log_error(MOD, "rdmc.max_payload / rdmc.block_size exceeds %u blocks", MAX_BLOCKS);
		return GRP_ECONFIG;
	}
	if (r->n > MAX_MEMBERS) {
		log_error(MOD, "RDMC carries at most %u members", MAX_MEMBERS);
		return GRP_ECONFIG;
	}
	return 0;
}

static int alloc_state(grp_rdmc *r)
{
	size_t bytes = r->slot_bytes * r->n;
	if (posix_memalign((void **)&r->bulk, 4096, bytes) != 0) {
		r->bulk = NULL;
		return GRP_ENOMEM;
	}
	r->in = calloc(r->n, sizeof *r->in);
	if (!r->in)
		return GRP_ENOMEM;
	for (unsigned s = 0; s < r->n; s++)
		if (!(r->in[s].held = calloc(r->slot_bytes / r->block_size, sizeof(atomic_uchar))))
			return GRP_ENOMEM;
	return 0;
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
	int rc = read_config(r, cfg);
	if (!rc && r->n > 0 && r->me < r->n)
		rc = alloc_state(r);
	grp_sst_layout layout = { 0 };
	r->col_len = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	r->col_seq = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	r->col_acked = grp_sst_layout_add(&layout, sizeof(uint64_t), r->n ? r->n : 1);
	if (!rc) {
		struct sst_bulk bulk = {
			.buf = r->bulk, .len = r->slot_bytes * r->n, .on_data = on_block, .arg = r,
		};
		grp_sst_callbacks scb = { .on_failure = on_failure };
		rc = sst_open_bulk(cfg, &layout, &scb, r, r->n ? &bulk : NULL, &r->sst);
	}
	if (!rc)
		rc = grp_sst_predicate_add(r->sst, has_work, progress, r, GRP_SST_RECURRENT, NULL);
	if (rc) {
		grp_rdmc_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

GRP_API size_t grp_rdmc_max_msg_size(const grp_rdmc *r)
{
	return r ? r->slot_bytes : 0;
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

GRP_API int grp_rdmc_send(grp_rdmc *r, const void *buf, size_t len)
{
	if (!r || (!buf && len) || grp_sst_on_engine_thread(r->sst))
		return GRP_EINVAL;
	if (len > r->slot_bytes)
		return GRP_EMSGSIZE;
	memcpy(r->bulk + (size_t)r->me * r->slot_bytes, buf, len);
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

GRP_API void grp_rdmc_close(grp_rdmc *r)
{
	if (!r)
		return;
	grp_sst_close(r->sst);
	for (unsigned s = 0; r->in && s < r->n; s++)
		free(r->in[s].held);
	free(r->in);
	free(r->bulk);
	free(r);
}
