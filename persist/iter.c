/* Iterators: from a sparse index entry, forward through the segments with
 * pread, only below each segment's written frontier, every record checked
 * again (the disk may have changed under us). */
#include <inttypes.h>
#include <stdlib.h>

#include <group/error.h>

#include "log.h"
#include "plog_internal.h"
#include "record.h"

struct plog_iter {
	struct plog *log;
	bool by_time;
	uint64_t from, to;
	bool done;
	size_t seg;
	uint64_t off;
	uint64_t generation;     /* of the layout seg and off refer to */
	uint64_t returned;       /* version of the last record returned, 0 before any */
	/* Of the last record read since the last seek: what the next must exceed. */
	uint64_t prev_version;
	uint64_t prev_hlc;
	struct segment_window window;
};

/* layout_lock held: where to start reading. After a truncation only the
 * records after the last one returned are of interest. */
static void iter_seek(struct plog_iter *it)
{
	const struct plog *log = it->log;
	bool by_time = it->by_time && it->returned == 0;
	uint64_t key = it->returned ? it->returned + 1 : it->from;
	size_t e = plog_index_seek(log, by_time, key);
	bool usable = e != SIZE_MAX && (by_time ? log->index[e].hlc : log->index[e].version) <= key;
	it->seg = usable ? log->index[e].seg : 0;
	it->off = usable ? log->index[e].offset : SEGMENT_HEADER_BYTES;
	it->generation = log->generation;
	it->prev_version = 0;
	it->prev_hlc = 0;
	segment_window_drop(&it->window);
}

static int iter_new(struct plog *log, bool by_time, uint64_t from, uint64_t to, struct plog_iter **out)
{
	if (!log || !out)
		return GRP_EINVAL;
	struct plog_iter *it = calloc(1, sizeof *it);
	if (!it)
		return GRP_ENOMEM;
	it->log = log;
	it->by_time = by_time;
	it->from = from;
	it->to = to;
	it->done = from > to;
	segment_window_init(&it->window);
	pthread_rwlock_rdlock(&log->layout_lock);
	iter_seek(it);
	pthread_rwlock_unlock(&log->layout_lock);
	*out = it;
	return 0;
}

int plog_iter_versions(struct plog *log, uint64_t from, uint64_t to, struct plog_iter **out)
{
	return iter_new(log, false, from, to, out);
}

int plog_iter_times(struct plog *log, uint64_t from, uint64_t to, struct plog_iter **out)
{
	return iter_new(log, true, from, to, out);
}

static int corrupt(const struct plog_iter *it, const struct plog_segment *seg, const char *reason)
{
	log_error("persist", "%s/%s, offset %" PRIu64 ": %s (read back)", it->log->dir, seg->name, it->off,
		  reason);
	return GRP_ECORRUPT;
}

/* layout_lock held: the next record at or after the position, whatever
 * its key. 1, 0 at the frontier, or an error. */
static int iter_read(struct plog_iter *it, struct record_header *h, const uint8_t **record)
{
	const struct plog *log = it->log;
	for (;;) {
		if (it->seg >= log->n_segs)
			return 0;
		const struct plog_segment *seg = log->segs[it->seg];
		/* Bytes below it are whole records and do not change. */
		uint64_t end = atomic_load_explicit(&seg->written_end, memory_order_acquire);
		if (it->off >= end) {
			/* A later segment exists only once this one is final. */
			if (it->seg + 1 >= log->n_segs)
				return 0;
			it->seg++;
			it->off = SEGMENT_HEADER_BYTES;
			continue;
		}
		const uint8_t *p;
		int err = segment_window_get(&it->window, seg->fd, it->off, RECORD_HEADER_BYTES, end, &p);
		if (err)
			return err == GRP_EIO ? corrupt(it, seg, "record cut short") : err;
		/* The keys before a seek's starting point are unknown: the order
		 * is checked along what this iterator read itself. */
		const char *reason =
			record_decode_header(p, end - it->off, it->prev_version, it->prev_hlc, h);
		if (reason)
			return corrupt(it, seg, reason);
		size_t whole = RECORD_HEADER_BYTES + h->len;
		err = segment_window_get(&it->window, seg->fd, it->off, whole, end, &p);
		if (err)
			return err == GRP_EIO ? corrupt(it, seg, "record cut short") : err;
		if (!record_crc_ok(p, h->len))
			return corrupt(it, seg, "crc mismatch");
		*record = p;
		it->off += record_total_bytes(h->len);
		return 1;
	}
}

int plog_iter_next(struct plog_iter *it, struct plog_record *rec)
{
	if (!it || !rec)
		return GRP_EINVAL;
	if (it->done)
		return 0;
	struct plog *log = it->log;
	pthread_rwlock_rdlock(&log->layout_lock);
	if (it->generation != log->generation)
		iter_seek(it);
	int rc;
	for (;;) {
		struct record_header h = { .len = 0 };
		const uint8_t *record = NULL;
		if ((rc = iter_read(it, &h, &record)) <= 0)
			break;
		it->prev_version = h.version;
		it->prev_hlc = h.hlc;
		uint64_t key = it->by_time ? h.hlc : h.version;
		if (key < it->from || h.version <= it->returned)
			continue;
		if (key > it->to) {
			it->done = true;
			rc = 0;
			break;
		}
		*rec = (struct plog_record){ .kind = (enum plog_kind)h.kind, .sender = h.sender,
					     .version = h.version, .hlc = h.hlc, .len = h.len,
					     .data = record + RECORD_HEADER_BYTES };
		it->returned = h.version;
		break;
	}
	pthread_rwlock_unlock(&log->layout_lock);
	return rc;
}

void plog_iter_free(struct plog_iter *it)
{
	if (!it)
		return;
	segment_window_free(&it->window);
	free(it);
}
