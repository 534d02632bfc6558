/* The sparse index: a few (version, hlc) -> (segment, offset) entries, in
 * log order, from which an iterator scans forward. Both keys increase
 * along the log, so either can be searched by bisection. */
#include <stdlib.h>
#include <unistd.h>

#include <group/error.h>

#include "plog_internal.h"

int plog_index_add(struct plog *log, size_t seg, uint64_t offset, uint64_t version, uint64_t hlc)
{
	if (log->n_index == log->cap_index) {
		size_t cap = log->cap_index ? 2 * log->cap_index : 64;
		struct plog_index_entry *grown = realloc(log->index, cap * sizeof *grown);
		if (!grown)
			return GRP_ENOMEM;
		log->index = grown;
		log->cap_index = cap;
	}
	log->index[log->n_index++] =
		(struct plog_index_entry){ .version = version, .hlc = hlc, .seg = seg, .offset = offset };
	return 0;
}

size_t plog_index_seek(const struct plog *log, bool by_time, uint64_t key)
{
	if (log->n_index == 0)
		return SIZE_MAX;
	/* The first entry whose key is above key, then one back. */
	size_t lo = 0, hi = log->n_index;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct plog_index_entry *e = &log->index[mid];
		if ((by_time ? e->hlc : e->version) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : lo - 1;
}

void plog_index_cut(struct plog *log, size_t seg, uint64_t offset)
{
	while (log->n_index > 0) {
		const struct plog_index_entry *e = &log->index[log->n_index - 1];
		if (e->seg < seg || (e->seg == seg && e->offset < offset))
			break;
		log->n_index--;
	}
}

int plog_index_note(struct plog *log, size_t seg, uint64_t offset, uint64_t version, uint64_t hlc)
{
	if (offset != SEGMENT_HEADER_BYTES && offset - log->last_indexed_off < PLOG_INDEX_STRIDE)
		return 0;
	pthread_rwlock_wrlock(&log->layout_lock);
	int err = plog_index_add(log, seg, offset, version, hlc);
	pthread_rwlock_unlock(&log->layout_lock);
	if (err == 0)
		log->last_indexed_off = offset;
	return err;
}

int plog_segments_push(struct plog *log, struct plog_segment *seg)
{
	if (log->n_segs == log->cap_segs) {
		size_t cap = log->cap_segs ? 2 * log->cap_segs : 16;
		struct plog_segment **grown = realloc(log->segs, cap * sizeof *grown);
		if (!grown)
			return GRP_ENOMEM;
		log->segs = grown;
		log->cap_segs = cap;
	}
	log->segs[log->n_segs++] = seg;
	return 0;
}

void plog_segment_free(struct plog_segment *seg)
{
	if (!seg)
		return;
	if (seg->fd >= 0)
		close(seg->fd);
	free(seg);
}

void plog_index_restart_stride(struct plog *log)
{
	const struct plog_index_entry *e = log->n_index ? &log->index[log->n_index - 1] : NULL;
	log->last_indexed_off = e && e->seg == log->n_segs - 1 ? e->offset : 0;
}
