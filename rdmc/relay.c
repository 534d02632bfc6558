/* The RDMC block relay: see relay.h. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "relay.h"

static const char *MOD = "rdmc";

/* Remote CQ data of a block: stream, buffer, block (31 bits in all). */
#define BLOCK_BITS 20u
#define BUFFER_BITS 1u
#define MAX_BLOCKS (1u << BLOCK_BITS)
_Static_assert(RDMC_MAX_BUFFERS <= 1u << BUFFER_BITS, "buffer number fits its bits");
_Static_assert(RDMC_MAX_STREAMS <= 1u << (31u - BLOCK_BITS - BUFFER_BITS),
	       "stream number fits its bits");

/* One buffer of one stream as this member sees it. `held` and `received`
 * are updated by the landing of blocks, on whichever thread drives
 * progress; `done` and `tickets` are read by threads asking whether the
 * buffer is released; the rest is the engine's. */
struct transfer {
	unsigned stream, buffer;
	atomic_uint_fast64_t tag; /* message in hand, 0 if none */
	size_t len;
	uint32_t blocks, steps, step;
	atomic_uint_fast64_t done;   /* tag of the last message complete here */
	atomic_uint_fast64_t *tickets; /* per member: after our last write from this buffer */
	atomic_uint received;
	atomic_uchar *held; /* per block */
};

struct rdmc_relay {
	grp_sst *sst;
	unsigned n, me, streams, buffers;
	unsigned *stream_member;
	enum rdmc_schedule_kind schedule;
	size_t block_size, capacity;
	uint32_t max_blocks;
	uint8_t *bulk; /* streams x buffers x capacity */
	struct transfer *t; /* streams x buffers */
};

int rdmc_relay_params_from_config(const grp_config *cfg, struct rdmc_relay_params *p)
{
	const struct grp_hostport *members;
	p->n = (unsigned)config_hostports(cfg, "group.members", &members);
	p->me = (unsigned)config_uint(cfg, "member.rank");
	p->block_size = config_uint(cfg, "rdmc.block_size");
	p->max_payload = config_uint(cfg, "rdmc.max_payload");
	rdmc_schedule_parse(config_str(cfg, "rdmc.schedule"), &p->schedule);
	uint64_t blocks = (p->max_payload + p->block_size - 1) / p->block_size;
	if (blocks > MAX_BLOCKS) {
		log_error(MOD, "rdmc.max_payload / rdmc.block_size exceeds %u blocks", MAX_BLOCKS);
		return GRP_ECONFIG;
	}
	if (p->n > RDMC_MAX_STREAMS) {
		log_error(MOD, "RDMC carries at most %u members", RDMC_MAX_STREAMS);
		return GRP_ECONFIG;
	}
	if (p->n > 1 && rdmc_schedule_steps(p->schedule, p->n, (uint32_t)blocks) == 0) {
		log_error(MOD, "rdmc.schedule %s cannot count its steps for %u members and %llu blocks",
			  rdmc_schedule_name(p->schedule), p->n, (unsigned long long)blocks);
		return GRP_ECONFIG;
	}
	return 0;
}

static size_t transfer_count(const struct rdmc_relay *r)
{
	return (size_t)r->streams * r->buffers;
}

static struct transfer *transfer_of(const struct rdmc_relay *r, unsigned stream, unsigned buffer)
{
	return &r->t[stream * r->buffers + buffer];
}

static bool is_sender(const struct rdmc_relay *r, const struct transfer *t)
{
	return r->stream_member[t->stream] == r->me;
}

static size_t buffer_offset(const struct rdmc_relay *r, const struct transfer *t)
{
	return ((size_t)t->stream * r->buffers + t->buffer) * r->capacity;
}

static int alloc_state(struct rdmc_relay *r, const unsigned *stream_member)
{
	r->stream_member = malloc(r->streams * sizeof *r->stream_member);
	r->t = calloc(transfer_count(r), sizeof *r->t);
	if (!r->stream_member || !r->t)
		return GRP_ENOMEM;
	memcpy(r->stream_member, stream_member, r->streams * sizeof *r->stream_member);
	if (posix_memalign((void **)&r->bulk, 4096, transfer_count(r) * r->capacity)) {
		r->bulk = NULL;
		return GRP_ENOMEM;
	}
	for (unsigned s = 0; s < r->streams; s++) {
		for (unsigned b = 0; b < r->buffers; b++) {
			struct transfer *t = transfer_of(r, s, b);
			t->stream = s;
			t->buffer = b;
			t->tickets = calloc(r->n, sizeof *t->tickets);
			t->held = calloc(r->max_blocks, sizeof *t->held);
			if (!t->tickets || !t->held)
				return GRP_ENOMEM;
		}
	}
	return 0;
}

int rdmc_relay_create(const struct rdmc_relay_params *p, struct rdmc_relay **out)
{
	if (p->n == 0 || p->me >= p->n || p->streams == 0 || p->streams > RDMC_MAX_STREAMS ||
	    p->buffers == 0 || p->buffers > RDMC_MAX_BUFFERS || p->block_size == 0)
		return GRP_EINVAL;
	for (unsigned s = 0; s < p->streams; s++)
		if (p->stream_member[s] >= p->n)
			return GRP_EINVAL;
	struct rdmc_relay *r = calloc(1, sizeof *r);
	if (!r)
		return GRP_ENOMEM;
	r->n = p->n;
	r->me = p->me;
	r->streams = p->streams;
	r->buffers = p->buffers;
	r->schedule = p->schedule;
	r->block_size = p->block_size;
	r->max_blocks = (uint32_t)((p->max_payload + p->block_size - 1) / p->block_size);
	if (r->max_blocks == 0)
		r->max_blocks = 1;
	r->capacity = (size_t)r->max_blocks * r->block_size;
	int rc = alloc_state(r, p->stream_member);
	if (rc) {
		rdmc_relay_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void on_block(void *arg, unsigned peer, uint32_t data)
{
	(void)peer;
	struct rdmc_relay *r = arg;
	unsigned stream = data >> (BLOCK_BITS + BUFFER_BITS);
	unsigned buffer = (data >> BLOCK_BITS) & ((1u << BUFFER_BITS) - 1);
	uint32_t block = data & (MAX_BLOCKS - 1);
	if (stream >= r->streams || buffer >= r->buffers || block >= r->max_blocks ||
	    r->stream_member[stream] == r->me)
		return;
	struct transfer *t = transfer_of(r, stream, buffer);
	if (!atomic_exchange_explicit(&t->held[block], 1, memory_order_acq_rel))
		atomic_fetch_add_explicit(&t->received, 1, memory_order_release);
}

struct sst_bulk rdmc_relay_bulk(struct rdmc_relay *r)
{
	return (struct sst_bulk){
		.buf = r->bulk,
		.len = transfer_count(r) * r->capacity,
		.on_data = on_block,
		.arg = r,
	};
}

void rdmc_relay_attach(struct rdmc_relay *r, grp_sst *sst)
{
	r->sst = sst;
}

void rdmc_relay_free(struct rdmc_relay *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->t && i < transfer_count(r); i++) {
		free(r->t[i].tickets);
		free(r->t[i].held);
	}
	free(r->t);
	free(r->bulk);
	free(r->stream_member);
	free(r);
}

size_t rdmc_relay_capacity(const struct rdmc_relay *r)
{
	return r->capacity;
}

uint8_t *rdmc_relay_buffer(struct rdmc_relay *r, unsigned stream, unsigned buffer)
{
	return r->bulk + buffer_offset(r, transfer_of(r, stream, buffer));
}

uint64_t rdmc_relay_completed(const struct rdmc_relay *r, unsigned stream, unsigned buffer)
{
	return atomic_load_explicit(&transfer_of(r, stream, buffer)->done, memory_order_acquire);
}

bool rdmc_relay_released(const struct rdmc_relay *r, unsigned stream, unsigned buffer)
{
	const struct transfer *t = transfer_of(r, stream, buffer);
	uint64_t done = atomic_load_explicit(&t->done, memory_order_acquire);
	if (done != atomic_load_explicit(&t->tag, memory_order_relaxed))
		return false;
	for (unsigned m = 0; m < r->n; m++) {
		uint64_t ticket = atomic_load_explicit(&t->tickets[m], memory_order_relaxed);
		if (ticket && !sst_bulk_completed(r->sst, m, ticket))
			return false;
	}
	return true;
}

int rdmc_relay_start(struct rdmc_relay *r, unsigned stream, unsigned buffer, uint64_t tag,
		     size_t len)
{
	if (stream >= r->streams || buffer >= r->buffers || tag == 0)
		return GRP_EINVAL;
	if (len > r->capacity)
		return GRP_EMSGSIZE;
	struct transfer *t = transfer_of(r, stream, buffer);
	if (atomic_load_explicit(&t->tag, memory_order_relaxed) == tag)
		return 0;
	if (!rdmc_relay_released(r, stream, buffer))
		return GRP_EBUSY;
	for (unsigned m = 0; m < r->n; m++)
		atomic_store_explicit(&t->tickets[m], 0, memory_order_relaxed);
	atomic_store_explicit(&t->tag, tag, memory_order_relaxed);
	t->len = len;
	t->blocks = len == 0 ? 1 : (uint32_t)((len + r->block_size - 1) / r->block_size);
	t->steps = rdmc_schedule_steps(r->schedule, r->n, t->blocks);
	t->step = 0;
	return 0;
}

static size_t block_len(const struct rdmc_relay *r, const struct transfer *t, uint32_t block)
{
	size_t start = (size_t)block * r->block_size;
	if (start >= t->len)
		return 0;
	return t->len - start < r->block_size ? t->len - start : r->block_size;
}

static bool holds(const struct rdmc_relay *r, const struct transfer *t, uint32_t block)
{
	return is_sender(r, t) || atomic_load_explicit(&t->held[block], memory_order_acquire);
}

static uint32_t relative_rank(const struct rdmc_relay *r, const struct transfer *t)
{
	return (r->me + r->n - r->stream_member[t->stream]) % r->n;
}

/* The member at `peer`, a rank relative to the stream's sender. */
static unsigned member_of(const struct rdmc_relay *r, const struct transfer *t, int peer)
{
	return ((unsigned)peer + r->stream_member[t->stream]) % r->n;
}

static bool in_progress(const struct transfer *t)
{
	uint64_t tag = atomic_load_explicit(&t->tag, memory_order_relaxed);
	return tag && atomic_load_explicit(&t->done, memory_order_relaxed) != tag;
}

/* Posts our sends, in schedule order, as far as the blocks we hold allow. */
static void run_steps(struct rdmc_relay *r, struct transfer *t)
{
	uint32_t rel = relative_rank(r, t);
	while (t->step < t->steps) {
		struct rdmc_step st;
		rdmc_schedule_step(r->schedule, r->n, t->blocks, rel, t->step, &st);
		if (st.send.peer >= 0) {
			if (!holds(r, t, st.send.block))
				return;
			unsigned to = member_of(r, t, st.send.peer);
			uint32_t data = (uint32_t)(t->stream << (BLOCK_BITS + BUFFER_BITS)) |
					(t->buffer << BLOCK_BITS) | st.send.block;
			/* A failed member is reported by the table; the others go on. */
			sst_bulk_write(r->sst, to,
				       buffer_offset(r, t) + (size_t)st.send.block * r->block_size,
				       block_len(r, t, st.send.block), data);
			atomic_store_explicit(&t->tickets[to], sst_bulk_ticket(r->sst, to),
					      memory_order_relaxed);
		}
		t->step++;
	}
}

static bool arrived_whole(const struct rdmc_relay *r, const struct transfer *t)
{
	return is_sender(r, t) ||
	       atomic_load_explicit(&t->received, memory_order_acquire) >= t->blocks;
}

/* Blocks of the buffer's next message may land only after every member
 * completed this one, so the marks are cleared for it now. */
static bool complete_if_done(struct rdmc_relay *r, struct transfer *t)
{
	if (t->step < t->steps || !arrived_whole(r, t))
		return false;
	if (!is_sender(r, t)) {
		for (uint32_t b = 0; b < t->blocks; b++)
			atomic_store_explicit(&t->held[b], 0, memory_order_relaxed);
		atomic_store_explicit(&t->received, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&t->done, atomic_load_explicit(&t->tag, memory_order_relaxed),
			      memory_order_release);
	return true;
}

static bool can_progress(const struct rdmc_relay *r, const struct transfer *t)
{
	if (!in_progress(t))
		return false;
	if (t->step >= t->steps)
		return arrived_whole(r, t);
	struct rdmc_step st;
	rdmc_schedule_step(r->schedule, r->n, t->blocks, relative_rank(r, t), t->step, &st);
	return st.send.peer < 0 || holds(r, t, st.send.block);
}

/* Each block reaches a member at exactly one step, from one peer: the
 * schedule names who owes us each block we still lack. Whether, at `step`,
 * a block we do not hold is due, and which and from whom. */
static bool owed_at(const struct rdmc_relay *r, const struct transfer *t, uint32_t step,
		    uint32_t *block, unsigned *from)
{
	struct rdmc_step st;
	rdmc_schedule_step(r->schedule, r->n, t->blocks, relative_rank(r, t), step, &st);
	if (st.recv.peer < 0 || holds(r, t, st.recv.block))
		return false;
	*block = st.recv.block;
	*from = member_of(r, t, st.recv.peer);
	return true;
}

static bool waits_on_gone(const struct rdmc_relay *r, const struct transfer *t,
			  const atomic_bool *gone, unsigned *culprit)
{
	for (uint32_t step = 0; step < t->steps; step++) {
		uint32_t block;
		unsigned from;
		if (owed_at(r, t, step, &block, &from) &&
		    atomic_load_explicit(&gone[from], memory_order_acquire)) {
			*culprit = from;
			return true;
		}
	}
	return false;
}

bool rdmc_relay_stuck(const struct rdmc_relay *r, const atomic_bool *gone, unsigned *culprit)
{
	for (size_t i = 0; i < transfer_count(r); i++) {
		const struct transfer *t = &r->t[i];
		if (in_progress(t) && !is_sender(r, t) && waits_on_gone(r, t, gone, culprit))
			return true;
	}
	return false;
}

void rdmc_relay_log_incomplete(const struct rdmc_relay *r)
{
	for (size_t i = 0; i < transfer_count(r); i++) {
		const struct transfer *t = &r->t[i];
		if (!in_progress(t))
			continue;
		log_warn(MOD, "message %llu of member %u (buffer %u) incomplete: %u of %u blocks "
			 "here, step %u of %u", (unsigned long long)atomic_load(&t->tag),
			 r->stream_member[t->stream], t->buffer, atomic_load(&t->received),
			 t->blocks, t->step, t->steps);
		for (uint32_t step = 0; step < t->steps && !is_sender(r, t); step++) {
			uint32_t block;
			unsigned from;
			if (owed_at(r, t, step, &block, &from))
				log_warn(MOD, "  block %u, due at step %u from member %u, missing", block,
					 step, from);
		}
	}
}

bool rdmc_relay_has_work(const struct rdmc_relay *r)
{
	for (size_t i = 0; i < transfer_count(r); i++)
		if (!grp_sst_row_failed(r->sst, r->stream_member[r->t[i].stream]) &&
		    can_progress(r, &r->t[i]))
			return true;
	return false;
}

bool rdmc_relay_progress(struct rdmc_relay *r)
{
	bool completed = false;
	for (size_t i = 0; i < transfer_count(r); i++) {
		struct transfer *t = &r->t[i];
		if (!in_progress(t) || grp_sst_row_failed(r->sst, r->stream_member[t->stream]))
			continue;
		run_steps(r, t);
		completed |= complete_if_done(r, t);
	}
	return completed;
}
