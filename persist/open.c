/* plog_open: validates every segment header and every record, repairs a
 * torn tail, refuses anything else that is wrong without touching the
 * disk, builds the sparse index and starts the writer. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <group/error.h>

#include "clock.h"
#include "log.h"
#include "plog_internal.h"
#include "record.h"

#define MIB (1024u * 1024u)
/* Configured segments are whole pages. Every segment file, also one sized
 * to fit a large record, is a multiple of the record alignment: a file of
 * another size was not made by us (open_segment refuses it). */
#define SEGMENT_SIZE_ALIGN 4096u

static int params_check(const struct plog_params *p)
{
	if (!p || !p->dir || !*p->dir || p->segment_bytes < MIB || p->ring_bytes < MIB)
		return GRP_EINVAL;
	if (p->mode != PLOG_ASYNC && p->mode != PLOG_DURABLE)
		return GRP_EINVAL;
	if (p->mode == PLOG_ASYNC && p->sync_interval_ms == 0)
		return GRP_EINVAL;
	return 0;
}

static struct plog *plog_alloc(const struct plog_params *p)
{
	struct plog *log = calloc(1, sizeof *log);
	if (!log)
		return NULL;
	log->dirfd = -1;
	log->dir = strdup(p->dir);
	/* A multiple of the record alignment, so a header never straddles
	 * the wrap in a way the copy helpers do not expect. */
	log->ring_bytes = p->ring_bytes & ~(size_t)(RECORD_ALIGN - 1);
	log->ring = malloc(log->ring_bytes);
	if (!log->dir || !log->ring) {
		free(log->dir);
		free(log->ring);
		free(log);
		return NULL;
	}
	log->group_id = p->group_id;
	log->mode = p->mode;
	log->segment_bytes = (p->segment_bytes + SEGMENT_SIZE_ALIGN - 1) & ~(size_t)(SEGMENT_SIZE_ALIGN - 1);
	log->sync_interval_ms = p->sync_interval_ms;
	log->on_synced = p->on_synced;
	log->on_failed = p->on_failed;
	log->on_room = p->on_room;
	log->arg = p->arg;
	pthread_mutex_init(&log->file_lock, NULL);
	pthread_rwlock_init(&log->layout_lock, NULL);
	pthread_mutex_init(&log->wait_lock, NULL);
	clock_cond_init_monotonic(&log->writer_cv);
	pthread_cond_init(&log->progress_cv, NULL);
	return log;
}

void plog_free(struct plog *log)
{
	for (size_t i = 0; i < log->n_segs; i++)
		plog_segment_free(log->segs[i]);
	free(log->segs);
	free(log->index);
	if (log->dirfd >= 0)
		close(log->dirfd);
	pthread_mutex_destroy(&log->file_lock);
	pthread_rwlock_destroy(&log->layout_lock);
	pthread_mutex_destroy(&log->wait_lock);
	pthread_cond_destroy(&log->writer_cv);
	pthread_cond_destroy(&log->progress_cv);
	free(log->ring);
	free(log->dir);
	free(log);
}

int plog_segments_remove_from(struct plog *log, size_t first)
{
	int err = 0;
	while (log->n_segs > first) {
		struct plog_segment *seg = log->segs[--log->n_segs];
		if (unlinkat(log->dirfd, seg->name, 0) != 0 && !err) {
			err = errno;
			log_error("persist", "removing %s/%s: %s", log->dir, seg->name, strerror(err));
		}
		plog_segment_free(seg);
	}
	if (!err && fsync(log->dirfd) != 0) {
		err = errno;
		log_error("persist", "syncing directory %s: %s", log->dir, strerror(err));
	}
	return err ? segment_errno_error(err) : 0;
}

int plog_segment_zero(struct plog_segment *seg, uint64_t from, uint64_t to)
{
	static const uint8_t zeros[64 * 1024];
	/* From the end backwards, synced step by step: a crash leaves records
	 * followed by zeros (a shorter log, or a torn tail the next open
	 * cuts), not zeros followed by records, which open refuses. Only a
	 * crash inside one step on a device that reorders writes can. */
	const uint64_t step = 1024 * 1024;
	while (to > from) {
		uint64_t step_from = to - from > step ? to - step : from;
		for (uint64_t off = step_from; off < to;) {
			size_t n = to - off < sizeof zeros ? (size_t)(to - off) : sizeof zeros;
			ssize_t done = pwrite(seg->fd, zeros, n, (off_t)off);
			if (done < 0 && errno == EINTR)
				continue;
			if (done <= 0)
				return done < 0 ? errno : EIO;
			off += (uint64_t)done;
		}
		if (fdatasync(seg->fd) != 0)
			return errno;
		to = step_from;
	}
	return 0;
}

static int open_dir(struct plog *log)
{
	if (mkdir(log->dir, 0700) != 0 && errno != EEXIST) {
		log_error("persist", "creating %s: %s", log->dir, strerror(errno));
		return segment_errno_error(errno);
	}
	log->dirfd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dirfd < 0) {
		log_error("persist", "opening %s: %s", log->dir, strerror(errno));
		return segment_errno_error(errno);
	}
	/* Two writers would interleave their records: the lock lives as long
	 * as the descriptor, and goes with the process however it ends. */
	if (flock(log->dirfd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		log_error("persist", "%s: %s", log->dir,
			  err == EWOULDBLOCK ? "another process has this log open"
					     : strerror(err));
		return err == EWOULDBLOCK ? GRP_EBUSY : segment_errno_error(err);
	}
	return 0;
}

static struct plog_segment *segment_alloc(uint32_t index, int fd, uint64_t bytes, uint64_t first_version)
{
	struct plog_segment *seg = calloc(1, sizeof *seg);
	if (!seg)
		return NULL;
	seg->index = index;
	seg->fd = fd;
	seg->bytes = bytes;
	seg->first_version = first_version;
	segment_name(seg->name, index, false);
	atomic_init(&seg->written_end, SEGMENT_HEADER_BYTES);
	return seg;
}

static int refuse(const struct plog *log, const char *name, uint64_t offset, int err, const char *reason)
{
	log_error("persist", "%s/%s, offset %" PRIu64 ": %s", log->dir, name, offset, reason);
	return err;
}

/* Opens the segment of that index and checks its header. */
static int open_segment(struct plog *log, uint32_t index)
{
	char name[SEGMENT_NAME_MAX];
	segment_name(name, index, false);
	int fd = openat(log->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_error("persist", "opening %s/%s: %s", log->dir, name, strerror(errno));
		return segment_errno_error(errno);
	}
	struct stat st;
	uint8_t raw[SEGMENT_HEADER_BYTES];
	int err = 0;
	if (fstat(fd, &st) != 0) {
		log_error("persist", "stat %s/%s: %s", log->dir, name, strerror(errno));
		err = GRP_EIO;
	} else if (st.st_size < (off_t)SEGMENT_HEADER_BYTES || st.st_size % RECORD_ALIGN != 0) {
		err = refuse(log, name, 0, GRP_ECORRUPT, "file size not a whole segment");
	} else if (pread(fd, raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		log_error("persist", "reading the header of %s/%s failed", log->dir, name);
		err = GRP_EIO;
	}
	struct segment_header h;
	const char *reason = NULL;
	if (!err && (err = segment_header_decode(raw, log->group_id, &h, &reason)) != 0)
		refuse(log, name, 0, err, reason);
	if (!err && h.index != index)
		err = refuse(log, name, 0, GRP_ECORRUPT, "segment index differs from the file name");
	struct plog_segment *seg = NULL;
	if (!err && !(seg = segment_alloc(index, fd, (uint64_t)st.st_size, h.first_version)))
		err = GRP_ENOMEM;
	if (!err && (err = plog_segments_push(log, seg)) != 0)
		free(seg);
	if (err)
		close(fd);
	return err;
}

int plog_segment_create(struct plog *log, uint32_t index, uint64_t first_version, uint64_t bytes)
{
	struct segment_header h = { .group_id = log->group_id, .first_version = first_version,
				    .index = index };
	int fd;
	int err = segment_create(log->dirfd, log->dir, &h, bytes, &fd);
	if (err)
		return err;
	struct plog_segment *seg = segment_alloc(index, fd, bytes, first_version);
	if (!seg) {
		close(fd);
		return GRP_ENOMEM;
	}
	pthread_rwlock_wrlock(&log->layout_lock);
	err = plog_segments_push(log, seg);
	pthread_rwlock_unlock(&log->layout_lock);
	if (err)
		plog_segment_free(seg);
	return err;
}

struct scan {
	struct segment_window window;
	uint64_t prev_version;   /* of the last good record, 0 before any */
	uint64_t prev_hlc;
	uint64_t first_version;
	uint64_t records;
};

/* Checks the record at off: NULL and *h, or why it is refused. */
static const char *check_record(struct scan *sc, const struct plog_segment *seg, uint64_t off,
				struct record_header *h, int *err)
{
	const uint8_t *p;
	if ((*err = segment_window_get(&sc->window, seg->fd, off, RECORD_HEADER_BYTES, seg->bytes, &p)) != 0)
		return "unreadable";
	const char *reason = record_decode_header(p, seg->bytes - off, sc->prev_version, sc->prev_hlc, h);
	if (reason)
		return reason;
	if (h->version < seg->first_version)
		return "version below the segment's first version";
	if ((*err = segment_window_get(&sc->window, seg->fd, off, RECORD_HEADER_BYTES + h->len, seg->bytes,
				       &p)) != 0)
		return "unreadable";
	return record_crc_ok(p, h->len) ? NULL : "crc mismatch";
}

/* What lies after the end of a segment's good records at end: the first
 * valid record that would follow the last good one (*found, 0 if none),
 * and the end of the last non-zero 8 bytes (*dirty_end, 0 if all zero). */
static int scan_after_end(struct scan *sc, const struct plog_segment *seg, uint64_t end,
			  uint64_t *found, uint64_t *dirty_end)
{
	*found = 0;
	*dirty_end = 0;
	for (uint64_t pos = end; pos < seg->bytes; pos += RECORD_ALIGN) {
		const uint8_t *p;
		int err = segment_window_get(&sc->window, seg->fd, pos, RECORD_ALIGN, seg->bytes, &p);
		if (err)
			return err;
		uint64_t word = 0;
		for (unsigned i = 0; i < RECORD_ALIGN; i++)
			word |= p[i];
		/* A record's first 8 bytes hold its format version: never zero. */
		if (word == 0)
			continue;
		*dirty_end = pos + RECORD_ALIGN;
		if (pos == end || seg->bytes - pos < RECORD_HEADER_BYTES)
			continue;
		struct record_header h;
		if (!check_record(sc, seg, pos, &h, &err)) {
			*found = pos;
			return 0;
		}
		if (err)
			return err;
	}
	return 0;
}

struct tail_cut {
	bool needed;
	uint64_t from, to;
	const char *reason;
};

static int scan_segment(struct plog *log, size_t s, bool last, struct scan *sc, struct tail_cut *cut)
{
	struct plog_segment *seg = log->segs[s];
	uint64_t off = SEGMENT_HEADER_BYTES;
	const char *bad = NULL;
	int err = 0;
	while (seg->bytes - off >= RECORD_HEADER_BYTES) {
		const uint8_t *p;
		err = segment_window_get(&sc->window, seg->fd, off, RECORD_HEADER_BYTES, seg->bytes, &p);
		if (err)
			return err;
		if (record_header_is_zero(p))
			break;
		struct record_header h;
		if ((bad = check_record(sc, seg, off, &h, &err)) != NULL) {
			if (err)
				return err;
			break;
		}
		if ((err = plog_index_note(log, s, off, h.version, h.hlc)) != 0)
			return err;
		if (sc->records++ == 0)
			sc->first_version = h.version;
		sc->prev_version = h.version;
		sc->prev_hlc = h.hlc;
		off += record_total_bytes(h.len);
	}
	atomic_store_explicit(&seg->written_end, off, memory_order_relaxed);
	uint64_t found, dirty_end;
	if ((err = scan_after_end(sc, seg, off, &found, &dirty_end)) != 0)
		return err;
	if (!bad && dirty_end == 0)
		return 0;
	if (!bad)
		bad = found ? "zeros where a record was expected" : "non-zero bytes after the last record";
	if (found) {
		char why[192];
		snprintf(why, sizeof why, "%s, with a valid record after it at offset %" PRIu64, bad, found);
		return refuse(log, seg->name, off, GRP_ECORRUPT, why);
	}
	if (!last)
		return refuse(log, seg->name, off, GRP_ECORRUPT, bad);
	/* A torn tail: the last write before a crash, never reported synced
	 * (or not synced at all). */
	uint64_t header_end = seg->bytes - off < RECORD_HEADER_BYTES ? seg->bytes : off + RECORD_HEADER_BYTES;
	*cut = (struct tail_cut){ .needed = true, .from = off, .reason = bad,
				  .to = dirty_end > header_end ? dirty_end : header_end };
	return 0;
}

static int repair_tail(struct plog *log, const struct tail_cut *cut, struct plog_open_report *report)
{
	struct plog_segment *seg = log->segs[log->n_segs - 1];
	log_warn("persist", "%s/%s: cutting off a torn tail at offset %" PRIu64 " (%s)", log->dir, seg->name,
		 cut->from, cut->reason);
	int err = plog_segment_zero(seg, cut->from, cut->to);
	if (err) {
		log_error("persist", "zeroing the tail of %s/%s: %s", log->dir, seg->name, strerror(err));
		return segment_errno_error(err);
	}
	report->truncated = true;
	report->truncated_segment = seg->index;
	report->truncated_offset = cut->from;
	snprintf(report->reason, sizeof report->reason, "%s", cut->reason);
	return 0;
}

/* Reads the segments there are; on return the log's segments, index and
 * versions describe what is on disk. */
static int recover(struct plog *log, struct plog_open_report *report)
{
	uint32_t *indices;
	size_t n;
	int err = segment_list(log->dirfd, log->dir, &indices, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		if (indices[i] != i) {
			char name[SEGMENT_NAME_MAX];
			segment_name(name, (uint32_t)i, false);
			err = refuse(log, name, 0, GRP_ECORRUPT, "segment missing");
		} else {
			err = open_segment(log, indices[i]);
		}
	}
	free(indices);
	if (err)
		return err;
	struct scan sc = { .prev_version = 0 };
	segment_window_init(&sc.window);
	struct tail_cut cut = { .needed = false };
	for (size_t s = 0; s < log->n_segs && !err; s++)
		err = scan_segment(log, s, s + 1 == log->n_segs, &sc, &cut);
	segment_window_free(&sc.window);
	if (err)
		return err;
	/* Everything checked: only now may the disk change. */
	if (cut.needed && (err = repair_tail(log, &cut, report)) != 0)
		return err;
	/* A segment created just before a crash, or emptied by the cut: the
	 * versions appended next may be below its first version. */
	if (log->n_segs > 1) {
		struct plog_segment *tail = log->segs[log->n_segs - 1];
		if (atomic_load_explicit(&tail->written_end, memory_order_relaxed) == SEGMENT_HEADER_BYTES) {
			log_info("persist", "%s/%s: removing an empty last segment", log->dir, tail->name);
			if ((err = plog_segments_remove_from(log, log->n_segs - 1)) != 0)
				return err;
		}
	}
	segment_remove_leftovers(log->dirfd, log->dir);
	if (log->n_segs == 0 && (err = plog_segment_create(log, 0, 0, log->segment_bytes)) != 0)
		return err;
	struct plog_segment *cur = log->segs[log->n_segs - 1];
	log->write_off = atomic_load_explicit(&cur->written_end, memory_order_relaxed);
	plog_index_restart_stride(log);
	report->records = sc.records;
	report->first_version = sc.first_version;
	report->last_version = sc.prev_version;
	report->last_hlc = sc.prev_hlc;
	/* What the files hold counts as synced: the previous run wrote it. */
	atomic_store_explicit(&log->last_version, sc.prev_version, memory_order_relaxed);
	atomic_store_explicit(&log->last_hlc, sc.prev_hlc, memory_order_relaxed);
	atomic_store_explicit(&log->written_version, sc.prev_version, memory_order_relaxed);
	atomic_store_explicit(&log->synced_version, sc.prev_version, memory_order_relaxed);
	atomic_store_explicit(&log->durable_version, sc.prev_version, memory_order_relaxed);
	return 0;
}

int plog_open(const struct plog_params *params, struct plog **out, struct plog_open_report *report)
{
	struct plog_open_report unused;
	if (!report)
		report = &unused;
	int err = params_check(params);
	if (err || !out)
		return GRP_EINVAL;
	memset(report, 0, sizeof *report);
	struct plog *log = plog_alloc(params);
	if (!log)
		return GRP_ENOMEM;
	if ((err = open_dir(log)) == 0 && (err = recover(log, report)) == 0 &&
	    (err = plog_writer_start(log)) == 0) {
		log_info("persist", "%s: %" PRIu64 " records, versions %" PRIu64 "..%" PRIu64, log->dir,
			 report->records, report->first_version, report->last_version);
		*out = log;
		return 0;
	}
	plog_free(log);
	return err;
}
