/* plog_truncate_after: cuts a suffix that was never committed, with the
 * writer parked. Later segments go first, then the tail of the segment
 * holding the cut is zeroed: a crash in between leaves a shorter, valid
 * log, never one with a hole. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <group/error.h>

#include "log.h"
#include "plog_internal.h"
#include "record.h"

struct cut {
	size_t seg;
	uint64_t off;           /* of the first record above the version */
	uint64_t kept_version;  /* the last record below the cut, 0 if none */
	uint64_t kept_hlc;
};

/* layout_lock held: finds the first record above version. 1 and *cut, 0
 * if there is none, or GRP_ECORRUPT, GRP_EIO, GRP_ENOMEM. */
static int find_cut(const struct plog *log, uint64_t version, struct cut *cut)
{
	size_t e = plog_index_seek(log, false, version);
	bool usable = e != SIZE_MAX && log->index[e].version <= version;
	size_t s = usable ? log->index[e].seg : 0;
	uint64_t off = usable ? log->index[e].offset : SEGMENT_HEADER_BYTES;
	uint64_t prev_version = 0, prev_hlc = 0;
	struct segment_window window;
	segment_window_init(&window);
	int rc = 0;
	while (s < log->n_segs) {
		const struct plog_segment *seg = log->segs[s];
		uint64_t end = atomic_load_explicit(&seg->written_end, memory_order_acquire);
		if (off >= end) {
			s++;
			off = SEGMENT_HEADER_BYTES;
			continue;
		}
		const uint8_t *p;
		struct record_header h;
		const char *reason = NULL;
		if ((rc = segment_window_get(&window, seg->fd, off, RECORD_HEADER_BYTES, end, &p)) == 0)
			reason = record_decode_header(p, end - off, prev_version, prev_hlc, &h);
		if (rc || reason) {
			log_error("persist", "%s/%s, offset %" PRIu64 ": %s (looking for the cut)", log->dir,
				  seg->name, off, reason ? reason : "unreadable");
			rc = reason ? GRP_ECORRUPT : rc;
			break;
		}
		if (h.version > version) {
			*cut = (struct cut){ .seg = s, .off = off, .kept_version = prev_version,
					     .kept_hlc = prev_hlc };
			rc = 1;
			break;
		}
		prev_version = h.version;
		prev_hlc = h.hlc;
		off += record_total_bytes(h.len);
	}
	segment_window_free(&window);
	return rc;
}

/* file_lock and layout_lock held for writing. */
static int apply_cut(struct plog *log, const struct cut *cut)
{
	/* A cut at the start of a later segment takes the segment too: the
	 * next versions may be below its first version. */
	size_t keep = cut->off == SEGMENT_HEADER_BYTES && cut->seg > 0 ? cut->seg : cut->seg + 1;
	int err = plog_segments_remove_from(log, keep);
	if (err)
		return plog_fail(log, err, "removing segments after a truncation in", "", EIO);
	struct plog_segment *cur = log->segs[log->n_segs - 1];
	if (keep == cut->seg + 1) {
		uint64_t end = atomic_load_explicit(&cur->written_end, memory_order_relaxed);
		int errnum = plog_segment_zero(cur, cut->off, end);
		if (errnum)
			return plog_fail(log, segment_errno_error(errnum), "truncating", cur->name, errnum);
		atomic_store_explicit(&cur->written_end, cut->off, memory_order_release);
	}
	log->write_off = atomic_load_explicit(&cur->written_end, memory_order_relaxed);
	plog_index_cut(log, cut->seg, cut->off);
	plog_index_restart_stride(log);
	log->generation++;
	atomic_store_explicit(&log->last_version, cut->kept_version, memory_order_relaxed);
	atomic_store_explicit(&log->last_hlc, cut->kept_hlc, memory_order_relaxed);
	atomic_store_explicit(&log->written_version, cut->kept_version, memory_order_release);
	atomic_store_explicit(&log->synced_version, cut->kept_version, memory_order_release);
	atomic_store_explicit(&log->durable_version, cut->kept_version, memory_order_release);
	atomic_store_explicit(&log->sync_request, cut->kept_version, memory_order_release);
	return 0;
}

int plog_truncate_after(struct plog *log, uint64_t version)
{
	if (!log)
		return GRP_EINVAL;
	/* Everything appended is in the files: the ring is empty and the
	 * positions of the records are final. */
	int err = plog_sync(log);
	if (err)
		return err;
	if (version >= atomic_load_explicit(&log->last_version, memory_order_relaxed))
		return 0;
	plog_writer_pause(log);
	pthread_mutex_lock(&log->file_lock);
	pthread_rwlock_wrlock(&log->layout_lock);
	struct cut cut = { .seg = 0 };
	/* A periodic sync may have failed since plog_sync. */
	int rc = atomic_load_explicit(&log->failed, memory_order_acquire);
	if (rc == 0)
		rc = find_cut(log, version, &cut);
	if (rc == 1) {
		err = apply_cut(log, &cut);
		if (!err)
			log_info("persist", "%s: truncated after version %" PRIu64 " (segment %zu, offset %"
				 PRIu64 ")", log->dir, version, cut.seg, cut.off);
	} else {
		err = rc;
	}
	pthread_rwlock_unlock(&log->layout_lock);
	pthread_mutex_unlock(&log->file_lock);
	plog_writer_resume(log);
	return err;
}
