/* The RDMC block relay: see relay.h. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "log.h"
#include "relay.h"

static const char *MOD = "rdmc";

/* Remote CQ data of a block: the relay flag, the epoch's parity, stream,
 * buffer, block. Other writes (table pushes, mailbox posts) never set the
 * flag. */
#define RELAY_FLAG 0x80000000u
#define PARITY_SHIFT 30u
#define BLOCK_BITS 19u
#define BUFFER_BITS 1u
#define STREAM_BITS 10u
#define MAX_BLOCKS (1u << BLOCK_BITS)
_Static_assert(RDMC_MAX_BUFFERS <= 1u << BUFFER_BITS, "buffer number fits its bits");
_Static_assert(RDMC_MAX_STREAMS <= 1u << STREAM_BITS, "stream number fits its bits");
_Static_assert(BLOCK_BITS + BUFFER_BITS + STREAM_BITS == PARITY_SHIFT, "fields fill the word");

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
	struct links *links;
	struct fab_domain *dom;
	int listener;
	unsigned n, me, streams, buffers, parity;
	unsigned *ids;
	struct fab_mr *mr;
	struct fab_remote_region *remote; /* by member */
	unsigned *stream_member;
	enum rdmc_schedule_kind schedule;
	size_t block_size, capacity;
	uint32_t max_blocks;
	uint8_t *bulk; /* streams x buffers x capacity */
	struct transfer *t; /* streams x buffers */
};

const char *rdmc_relay_params_problem(size_t max_payload, size_t block_size,
				      enum rdmc_schedule_kind schedule, unsigned n)
{
	if (block_size == 0)
		return "the block size is 0";
	uint64_t blocks = (max_payload + block_size - 1) / block_size;
	if (blocks > MAX_BLOCKS)
		return "a largest message needs more than 2^19 blocks";
	if (n > RDMC_MAX_STREAMS)
		return "RDMC carries at most 1024 members";
	if (n > 1 && rdmc_schedule_steps(schedule, n, (uint32_t)blocks) == 0)
		return "the schedule cannot count its steps for this many members and blocks";
	return NULL;
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

static int alloc_state(struct rdmc_relay *r, const struct rdmc_relay_params *p)
{
	r->stream_member = malloc(r->streams * sizeof *r->stream_member);
	r->ids = malloc(r->n * sizeof *r->ids);
	r->remote = calloc(r->n, sizeof *r->remote);
	r->t = calloc(transfer_count(r), sizeof *r->t);
	if (!r->stream_member || !r->ids || !r->remote || !r->t)
		return GRP_ENOMEM;
	memcpy(r->stream_member, p->stream_member, r->streams * sizeof *r->stream_member);
	memcpy(r->ids, p->ids, r->n * sizeof *r->ids);
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

static void on_block(void *arg, unsigned peer, uint32_t data);

static int attach(struct rdmc_relay *r)
{
	int rc = fab_mr_reg(r->dom, r->bulk, transfer_count(r) * r->capacity, &r->mr);
	if (rc)
		return rc;
	struct links_listener li = { .on_data = on_block, .arg = r };
	r->listener = links_listen(r->links, &li);
	return r->listener < 0 ? r->listener : 0;
}

int rdmc_relay_create(struct links *links, const struct rdmc_relay_params *p,
		      struct rdmc_relay **out)
{
	if (p->n == 0 || p->me >= p->n || p->streams == 0 || p->streams > RDMC_MAX_STREAMS ||
	    p->buffers == 0 || p->buffers > RDMC_MAX_BUFFERS || p->block_size == 0 ||
	    p->parity > 1 || !p->ids ||
	    rdmc_relay_params_problem(p->max_payload, p->block_size, p->schedule, p->n))
		return GRP_EINVAL;
	for (unsigned s = 0; s < p->streams; s++)
		if (p->stream_member[s] >= p->n)
			return GRP_EINVAL;
	struct rdmc_relay *r = calloc(1, sizeof *r);
	if (!r)
		return GRP_ENOMEM;
	r->links = links;
	r->dom = links_domain(links);
	r->listener = -1;
	r->n = p->n;
	r->me = p->me;
	r->parity = p->parity;
	r->streams = p->streams;
	r->buffers = p->buffers;
	r->schedule = p->schedule;
	r->block_size = p->block_size;
	r->max_blocks = (uint32_t)((p->max_payload + p->block_size - 1) / p->block_size);
	if (r->max_blocks == 0)
		r->max_blocks = 1;
	r->capacity = (size_t)r->max_blocks * r->block_size;
	int rc = alloc_state(r, p);
	if (!rc)
		rc = attach(r);
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
	if (!(data & RELAY_FLAG) || ((data >> PARITY_SHIFT) & 1u) != r->parity)
		return;
	unsigned stream = (data >> (BLOCK_BITS + BUFFER_BITS)) & ((1u << STREAM_BITS) - 1);
	unsigned buffer = (data >> BLOCK_BITS) & ((1u << BUFFER_BITS) - 1);
	uint32_t block = data & (MAX_BLOCKS - 1);
	if (stream >= r->streams || buffer >= r->buffers || block >= r->max_blocks ||
	    r->stream_member[stream] == r->me)
		return;
	struct transfer *t = transfer_of(r, stream, buffer);
	if (!atomic_exchange_explicit(&t->held[block], 1, memory_order_acq_rel)) {
		atomic_fetch_add_explicit(&t->received, 1, memory_order_release);
		counter_add(links_counters(r->links), COUNTER_RDMC_BLOCKS_RECEIVED, 1);
	}
}

struct fab_remote_region rdmc_relay_region(const struct rdmc_relay *r)
{
	return fab_mr_remote(r->mr);
}

void rdmc_relay_connect(struct rdmc_relay *r, const struct links_regions *theirs,
			unsigned region)
{
	for (unsigned m = 0; m < r->n; m++)
		r->remote[m] = theirs[m].r[region];
}

void rdmc_relay_free(struct rdmc_relay *r)
{
	if (!r)
		return;
	links_unlisten(r->links, r->listener);
	fab_mr_close(r->mr);
	for (size_t i = 0; r->t && i < transfer_count(r); i++) {
		free(r->t[i].tickets);
		free(r->t[i].held);
	}
	free(r->t);
	free(r->bulk);
	free(r->stream_member);
	free(r->ids);
	free(r->remote);
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
		if (ticket && !fab_write_completed(r->dom, r->ids[m], ticket))
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
			uint32_t data = RELAY_FLAG | r->parity << PARITY_SHIFT |
					(uint32_t)(t->stream << (BLOCK_BITS + BUFFER_BITS)) |
					(t->buffer << BLOCK_BITS) | st.send.block;
			size_t at = buffer_offset(r, t) + (size_t)st.send.block * r->block_size;
			/* A failed member is reported through the links; the others go on. */
			fab_write(r->dom, r->ids[to], r->mr, at, &r->remote[to], at,
				  block_len(r, t, st.send.block), data);
			counter_add(links_counters(r->links), COUNTER_RDMC_BLOCKS_SENT, 1);
			atomic_store_explicit(&t->tickets[to], fab_write_ticket(r->dom, r->ids[to]),
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

/* A stream whose sender failed has nothing more to relay. */
static bool sender_failed(const struct rdmc_relay *r, unsigned member)
{
	return member != r->me && links_peer_failed(r->links, r->ids[member]);
}

bool rdmc_relay_has_work(const struct rdmc_relay *r)
{
	for (size_t i = 0; i < transfer_count(r); i++)
		if (!sender_failed(r, r->stream_member[r->t[i].stream]) &&
		    can_progress(r, &r->t[i]))
			return true;
	return false;
}

bool rdmc_relay_progress(struct rdmc_relay *r)
{
	bool completed = false;
	for (size_t i = 0; i < transfer_count(r); i++) {
		struct transfer *t = &r->t[i];
		if (!in_progress(t) || sender_failed(r, r->stream_member[t->stream]))
			continue;
		run_steps(r, t);
		completed |= complete_if_done(r, t);
	}
	return completed;
}
