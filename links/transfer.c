/* State transfer: a byte stream from one member to the joiners it serves.
 *
 * The source copies the stream into its staging ring, writes each piece
 * into the same offsets of every reader's receive ring, then writes the
 * running count into the reader's transfer cell for it; a reader copies
 * out what the count covers and writes back how much it consumed. Writes
 * to one peer land in order, so a count a reader sees covers bytes that
 * are there. The source never gets more than a ring ahead of its slowest
 * live reader. Every cell write carries CQ data, which wakes the other
 * side's engine, on which the waits below are evaluated. */
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "links_internal.h"
#include "log.h"

static const char *MOD = "transfer";

/* The most written in one piece: the reader sees progress before the ring
 * is full, and credit comes back while the source still writes. */
#define PIECE_BYTES (LINKS_RING_BYTES / 4u)
/* A reader returns credit once it consumed this much since it last did. */
#define CREDIT_BYTES (LINKS_RING_BYTES / 8u)
/* Waits are sliced so that a peer's failure is looked at in between. */
#define WAIT_SLICE_MS 1000u
/* Cells carry CQ data that no table or relay listener takes for theirs. */
#define TRANSFER_DATA 0u

static size_t cells_bytes(void)
{
	return 2u * FAB_MAX_PEERS * sizeof(struct transfer_cell);
}

static int register_ring(struct links *l, uint8_t **buf, struct fab_mr **mr)
{
	if (*buf)
		return 0;
	if (posix_memalign((void **)buf, 4096, LINKS_RING_BYTES) != 0) {
		*buf = NULL;
		return GRP_ENOMEM;
	}
	int rc = fab_mr_reg(l->dom, *buf, LINKS_RING_BYTES, mr);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int links_transfer_open(struct links *l)
{
	if (posix_memalign((void **)&l->cells, 4096, cells_bytes()) != 0) {
		l->cells = NULL;
		return GRP_ENOMEM;
	}
	memset(l->cells, 0, cells_bytes());
	return fab_mr_reg(l->dom, l->cells, cells_bytes(), &l->cells_mr);
}

/* The receive ring a joiner announces in its introduction. */
int links_transfer_ring(struct links *l)
{
	return register_ring(l, &l->ring, &l->ring_mr);
}

void links_transfer_close(struct links *l)
{
	fab_mr_close(l->staging_mr);
	fab_mr_close(l->ring_mr);
	fab_mr_close(l->cells_mr);
	free(l->staging);
	free(l->ring);
	free(l->cells);
}

static struct transfer_cell *cell_in(struct links *l, unsigned id)
{
	return &l->cells[id];
}

static size_t cell_out_offset(unsigned id)
{
	return (FAB_MAX_PEERS + (size_t)id) * sizeof(struct transfer_cell);
}

static uint64_t load_in(struct links *l, unsigned id, size_t field)
{
	return __atomic_load_n((uint64_t *)((uint8_t *)cell_in(l, id) + field), __ATOMIC_ACQUIRE);
}

/* Writes our out cell's field for peer id into its in cell for us. */
static int write_cell(struct links *l, unsigned id, size_t field, uint64_t value,
		      const struct fab_remote_region *theirs)
{
	size_t out = cell_out_offset(id) + field;
	*(uint64_t *)((uint8_t *)l->cells + out) = value;
	size_t at = (size_t)l->params.my_id * sizeof(struct transfer_cell) + field;
	return fab_write(l->dom, id, l->cells_mr, out, theirs, at, sizeof(uint64_t), TRANSFER_DATA);
}

static struct peer_info peer(struct links *l, unsigned id)
{
	pthread_mutex_lock(&l->form_lock);
	struct peer_info p = l->peers[id];
	pthread_mutex_unlock(&l->form_lock);
	return p;
}

struct source_wait {
	struct links *l;
	const unsigned *to;
	unsigned n;
	const bool *gone;
	uint64_t need; /* the slowest live reader must have consumed this much */
};

static bool reader_done(struct links *l, unsigned id, uint64_t need)
{
	return links_peer_failed(l, id) ||
	       load_in(l, id, offsetof(struct transfer_cell, consumed)) >= need;
}

static bool cancelled(struct links *l)
{
	return atomic_load_explicit(&l->transfer_cancelled, memory_order_acquire);
}

void links_transfer_cancel(struct links *l)
{
	atomic_store_explicit(&l->transfer_cancelled, true, memory_order_release);
	links_notify(l);
}

static bool credit_available(void *arg)
{
	const struct source_wait *w = arg;
	if (cancelled(w->l))
		return true;
	for (unsigned i = 0; i < w->n; i++)
		if (!w->gone[i] && !reader_done(w->l, w->to[i], w->need))
			return false;
	return true;
}

/* Marks readers whose link failed; false once none is left. */
static bool drop_failed(struct links *l, const unsigned *to, unsigned n, bool *gone)
{
	bool any = false;
	for (unsigned i = 0; i < n; i++) {
		if (!gone[i] && links_peer_failed(l, to[i])) {
			log_warn(MOD, "joiner %u failed while receiving the state", to[i]);
			gone[i] = true;
		}
		any |= !gone[i];
	}
	return any;
}

/* Waits until every live reader consumed `need` bytes. */
static int await_credit(struct links *l, const unsigned *to, unsigned n, bool *gone, uint64_t need)
{
	struct source_wait w = { l, to, n, gone, need };
	while (links_wait(l, credit_available, &w, WAIT_SLICE_MS) != 0 && !cancelled(l))
		if (!drop_failed(l, to, n, gone))
			return GRP_EPEER;
	if (cancelled(l))
		return GRP_ECLOSED;
	return drop_failed(l, to, n, gone) ? 0 : GRP_EPEER;
}

static void send_piece(struct links *l, const unsigned *to, unsigned n, bool *gone, size_t off,
		       size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		if (gone[i])
			continue;
		struct peer_info p = peer(l, to[i]);
		int rc = p.ring.len == LINKS_RING_BYTES
			 ? fab_write(l->dom, to[i], l->staging_mr, off, &p.ring, off, len, TRANSFER_DATA)
			 : GRP_EPROTO;
		if (!rc)
			rc = write_cell(l, to[i], offsetof(struct transfer_cell, produced),
					l->produced + len, &p.transfer);
		if (rc) {
			log_warn(MOD, "joiner %u: %s; it gets no more of the state", to[i],
				 grp_strerror(rc));
			gone[i] = true;
		}
	}
}

int links_transfer_write(struct links *l, const unsigned *to, unsigned n, bool *gone,
			 const void *buf, size_t len)
{
	int rc = register_ring(l, &l->staging, &l->staging_mr);
	const uint8_t *src = buf;
	while (!rc && len > 0) {
		size_t off = l->produced % LINKS_RING_BYTES;
		size_t piece = LINKS_RING_BYTES - off;
		piece = piece < PIECE_BYTES ? piece : PIECE_BYTES;
		piece = piece < len ? piece : len;
		uint64_t need = l->produced + piece > LINKS_RING_BYTES
				? l->produced + piece - LINKS_RING_BYTES : 0;
		rc = await_credit(l, to, n, gone, need);
		if (rc)
			break;
		memcpy(l->staging + off, src, piece);
		send_piece(l, to, n, gone, off, piece);
		l->produced += piece;
		src += piece;
		len -= piece;
		if (!drop_failed(l, to, n, gone))
			rc = GRP_EPEER;
	}
	return rc;
}

void links_transfer_end(struct links *l, const unsigned *to, unsigned n, const bool *gone,
			bool aborted)
{
	uint64_t mark = l->produced | (aborted ? TRANSFER_ABORT : TRANSFER_END);
	for (unsigned i = 0; i < n; i++) {
		if (gone[i])
			continue;
		struct peer_info p = peer(l, to[i]);
		write_cell(l, to[i], offsetof(struct transfer_cell, produced), mark, &p.transfer);
		fab_flush(l->dom, to[i], l->params.stall_timeout_ms);
	}
	l->produced = 0;
}

struct reader_wait {
	struct links *l;
	unsigned from;
};

static bool data_or_end(void *arg)
{
	const struct reader_wait *w = arg;
	if (cancelled(w->l))
		return true;
	uint64_t produced = load_in(w->l, w->from, offsetof(struct transfer_cell, produced));
	return (produced & TRANSFER_COUNT_MASK) > w->l->consumed ||
	       (produced & (TRANSFER_END | TRANSFER_ABORT)) || links_peer_failed(w->l, w->from);
}

static void return_credit(struct links *l, unsigned from, bool caught_up)
{
	if (l->consumed - l->consumed_published < CREDIT_BYTES && !caught_up)
		return;
	struct peer_info p = peer(l, from);
	if (write_cell(l, from, offsetof(struct transfer_cell, consumed), l->consumed,
		       &p.transfer) == 0)
		l->consumed_published = l->consumed;
}

long links_transfer_read(struct links *l, unsigned from, void *buf, size_t cap)
{
	if (from >= FAB_MAX_PEERS || !l->ring)
		return GRP_EINVAL;
	struct reader_wait w = { l, from };
	while (links_wait(l, data_or_end, &w, WAIT_SLICE_MS) != 0 && !cancelled(l))
		if (links_peer_failed(l, from))
			break;
	if (cancelled(l))
		return GRP_ECLOSED;
	uint64_t produced = load_in(l, from, offsetof(struct transfer_cell, produced));
	uint64_t avail = (produced & TRANSFER_COUNT_MASK) - l->consumed;
	if (produced & TRANSFER_ABORT)
		return GRP_ETRANSFER;
	if (avail == 0)
		return produced & TRANSFER_END ? 0 : GRP_EPEER;
	size_t off = l->consumed % LINKS_RING_BYTES;
	size_t k = LINKS_RING_BYTES - off;
	k = k < avail ? k : (size_t)avail;
	k = k < cap ? k : cap;
	memcpy(buf, l->ring + off, k);
	l->consumed += k;
	return_credit(l, from, l->consumed == (produced & TRANSFER_COUNT_MASK));
	return (long)k;
}
