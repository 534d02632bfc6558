/* The writer thread and its ring; plog_append, plog_sync, plog_close.
 *
 * The appender (one thread) encodes each record, header and payload and
 * padding, into the ring and publishes the tail; the writer takes all
 * there is, writes it to the current segment (rolling over where a record
 * does not fit, as records never span segments), then in PLOG_DURABLE
 * mode runs one fdatasync for the whole batch. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <group/error.h>

#include "clock.h"
#include "log.h"
#include "plog_internal.h"
#include "record.h"

static const uint8_t zero_padding[RECORD_ALIGN];

/* ---- waking and waiting (see plog_internal.h) ---- */

/* The flag is read with a read-modify-write (not a load, nor a fence,
 * which ThreadSanitizer does not model): if it comes before the sleeper's
 * own RMW raising the flag, that one reads from it and so sees what the
 * caller published before; if after, it sees the flag raised. */
static void wake_writer(struct plog *log)
{
	if (atomic_fetch_add_explicit(&log->writer_sleeping, 0, memory_order_acq_rel)) {
		pthread_mutex_lock(&log->wait_lock);
		pthread_cond_signal(&log->writer_cv);
		pthread_mutex_unlock(&log->wait_lock);
	}
}

/* As wake_writer, for the threads in wait_until, and for an appender that
 * asked plog_has_room: its RMW on room_wanted and ours are ordered, so
 * either we see it raised, or it sees the space we freed before. */
static void notify_progress(struct plog *log)
{
	if (atomic_fetch_add_explicit(&log->progress_waiters, 0, memory_order_acq_rel) > 0) {
		pthread_mutex_lock(&log->wait_lock);
		pthread_cond_broadcast(&log->progress_cv);
		pthread_mutex_unlock(&log->wait_lock);
	}
	if (atomic_exchange_explicit(&log->room_wanted, 0, memory_order_acq_rel) && log->on_room)
		log->on_room(log->arg);
}

static void wait_until(struct plog *log, bool (*ready)(struct plog *log, uint64_t arg), uint64_t arg)
{
	if (ready(log, arg))
		return;
	pthread_mutex_lock(&log->wait_lock);
	/* An RMW: the notifier's RMW either reads this count and signals, or
	 * comes before it, and then what it published is seen below. */
	atomic_fetch_add_explicit(&log->progress_waiters, 1, memory_order_acq_rel);
	while (!ready(log, arg))
		pthread_cond_wait(&log->progress_cv, &log->wait_lock);
	atomic_fetch_sub_explicit(&log->progress_waiters, 1, memory_order_relaxed);
	pthread_mutex_unlock(&log->wait_lock);
}

static int failure(const struct plog *log)
{
	return atomic_load_explicit(&log->failed, memory_order_acquire);
}

int plog_fail(struct plog *log, int err, const char *what, const char *name, int errnum)
{
	int expected = 0;
	if (atomic_compare_exchange_strong_explicit(&log->failed, &expected, err, memory_order_acq_rel,
						    memory_order_acquire)) {
		log_error("persist", "%s %s/%s: %s; the log accepts no more records", what, log->dir, name,
			  strerror(errnum));
		/* The writer calls on_failed; appenders and plog_sync stop waiting. */
		wake_writer(log);
		notify_progress(log);
		return err;
	}
	return expected;
}

static int fail_errno(struct plog *log, const char *what, const struct plog_segment *seg, int errnum)
{
	return plog_fail(log, segment_errno_error(errnum), what, seg->name, errnum);
}

/* ---- the ring ---- */

static void ring_copy_in(struct plog *log, uint64_t pos, const void *src, size_t n)
{
	size_t at = (size_t)(pos % log->ring_bytes);
	size_t first = log->ring_bytes - at < n ? log->ring_bytes - at : n;
	memcpy(log->ring + at, src, first);
	memcpy(log->ring, (const uint8_t *)src + first, n - first);
}

static void ring_copy_out(const struct plog *log, uint64_t pos, void *dst, size_t n)
{
	size_t at = (size_t)(pos % log->ring_bytes);
	size_t first = log->ring_bytes - at < n ? log->ring_bytes - at : n;
	memcpy(dst, log->ring + at, first);
	memcpy((uint8_t *)dst + first, log->ring, n - first);
}

/* ---- writing (file_lock held) ---- */

static int pwritev_all(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t done = pwritev(fd, iov, n, (off_t)off);
		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? errno : EIO;
		off += (uint64_t)done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static struct plog_segment *current_segment(const struct plog *log)
{
	return log->segs[log->n_segs - 1];
}

/* Makes room for a record of total bytes starting with version: a new
 * segment when the current one cannot hold it, of its own size when the
 * record is larger than a segment. The one before is synced first: only
 * the current segment ever has unsynced bytes. */
static int make_room(struct plog *log, uint64_t total, uint64_t version)
{
	struct plog_segment *cur = current_segment(log);
	if (cur->bytes - log->write_off >= total)
		return 0;
	if (fdatasync(cur->fd) != 0)
		return fail_errno(log, "syncing", cur, errno);
	uint64_t bytes = SEGMENT_HEADER_BYTES + total;
	if (bytes < log->segment_bytes)
		bytes = log->segment_bytes;
	uint32_t index = cur->index + 1;
	int err = plog_segment_create(log, index, version, bytes);
	if (err) {
		char name[SEGMENT_NAME_MAX];
		segment_name(name, index, false);
		return plog_fail(log, err == GRP_ENOMEM ? GRP_EIO : err, "creating segment", name,
				 err == GRP_ENOSPC ? ENOSPC : err == GRP_ENOMEM ? ENOMEM : EIO);
	}
	log->write_off = SEGMENT_HEADER_BYTES;
	log->last_indexed_off = 0;
	return 0;
}

/* After bytes up to the write offset reached the current segment. */
static void publish_written(struct plog *log, uint64_t version)
{
	atomic_store_explicit(&current_segment(log)->written_end, log->write_off, memory_order_release);
	atomic_store_explicit(&log->written_version, version, memory_order_release);
	/* PLOG_ASYNC: in the OS is synced enough. Under file_lock, so that a
	 * truncation never sees it go back up behind it. */
	if (log->mode == PLOG_ASYNC)
		atomic_store_explicit(&log->synced_version, version, memory_order_release);
}

struct run {
	uint64_t ring_start, ring_end; /* ring positions of the bytes to write */
	uint64_t file_off;
	uint64_t last_version;
};

/* Writes a run of whole records from the ring to the current segment and
 * frees their space. */
static int flush_run(struct plog *log, struct run *run)
{
	if (run->ring_end == run->ring_start)
		return 0;
	size_t len = (size_t)(run->ring_end - run->ring_start);
	size_t at = (size_t)(run->ring_start % log->ring_bytes);
	size_t first = log->ring_bytes - at < len ? log->ring_bytes - at : len;
	struct iovec iov[2] = { { log->ring + at, first }, { log->ring, len - first } };
	int err = pwritev_all(current_segment(log)->fd, iov, len > first ? 2 : 1, run->file_off);
	if (err)
		return fail_errno(log, "writing", current_segment(log), err);
	publish_written(log, run->last_version);
	/* The bytes are in the file: the appender may overwrite them. */
	atomic_store_explicit(&log->ring_head, run->ring_end, memory_order_release);
	notify_progress(log);
	run->ring_start = run->ring_end;
	return 0;
}

/* Writes every record in the ring up to tail. */
static void write_batch(struct plog *log, uint64_t tail)
{
	pthread_mutex_lock(&log->file_lock);
	uint64_t pos = atomic_load_explicit(&log->ring_head, memory_order_relaxed);
	struct run run = { .ring_start = pos, .ring_end = pos, .file_off = log->write_off };
	int err = 0;
	while (pos < tail && !err) {
		uint8_t raw[RECORD_HEADER_BYTES];
		ring_copy_out(log, pos, raw, sizeof raw);
		struct record_header h;
		record_peek_header(raw, &h);
		uint64_t total = record_total_bytes(h.len);
		if (current_segment(log)->bytes - log->write_off < total) {
			err = flush_run(log, &run);
			if (err || (err = make_room(log, total, h.version)) != 0)
				break;
			run.file_off = log->write_off;
		}
		if ((err = plog_index_note(log, log->n_segs - 1, log->write_off, h.version, h.hlc)) != 0) {
			plog_fail(log, GRP_EIO, "indexing", current_segment(log)->name, ENOMEM);
			break;
		}
		log->write_off += total;
		pos += total;
		run.ring_end = pos;
		run.last_version = h.version;
		/* Frees space a quarter of the ring at a time, so the appender
		 * fills the ring while the rest of the batch is written. */
		if (run.ring_end - run.ring_start >= log->ring_bytes / 4) {
			if ((err = flush_run(log, &run)) != 0)
				break;
			run.file_off = log->write_off;
		}
	}
	if (!err)
		flush_run(log, &run);
	pthread_mutex_unlock(&log->file_lock);
}

/* One fdatasync for everything written so far (group commit). */
static void sync_written(struct plog *log)
{
	pthread_mutex_lock(&log->file_lock);
	uint64_t version = atomic_load_explicit(&log->written_version, memory_order_relaxed);
	struct plog_segment *cur = current_segment(log);
	if (fdatasync(cur->fd) != 0) {
		fail_errno(log, "syncing", cur, errno);
	} else {
		atomic_store_explicit(&log->durable_version, version, memory_order_release);
		if (log->mode == PLOG_DURABLE)
			atomic_store_explicit(&log->synced_version, version, memory_order_release);
	}
	pthread_mutex_unlock(&log->file_lock);
	notify_progress(log);
}

/* ---- the writer thread ---- */

struct writer_state {
	uint64_t reported_synced; /* last value passed to on_synced */
	bool reported_failure;
	uint64_t next_periodic_sync; /* PLOG_ASYNC, clock_now_ns */
};

static bool unsynced(const struct plog *log)
{
	return atomic_load_explicit(&log->written_version, memory_order_acquire) !=
	       atomic_load_explicit(&log->durable_version, memory_order_acquire);
}

static bool sync_wanted(const struct plog *log)
{
	if (!unsynced(log))
		return false;
	if (log->mode == PLOG_DURABLE || atomic_load_explicit(&log->closing, memory_order_acquire))
		return true;
	return atomic_load_explicit(&log->sync_request, memory_order_acquire) >
	       atomic_load_explicit(&log->durable_version, memory_order_acquire);
}

static bool ring_pending(const struct plog *log)
{
	return atomic_load_explicit(&log->ring_tail, memory_order_acquire) !=
	       atomic_load_explicit(&log->ring_head, memory_order_acquire);
}

static bool writer_has_work(const struct plog *log, const struct writer_state *ws)
{
	/* First: a failure between a truncation's plog_sync and its pause
	 * must not leave the truncation waiting for a parked writer. */
	if (atomic_load_explicit(&log->pause_requested, memory_order_acquire))
		return true;
	if (failure(log))
		return !ws->reported_failure || ring_pending(log) ||
		       atomic_load_explicit(&log->closing, memory_order_acquire);
	return ring_pending(log) || sync_wanted(log) ||
	       atomic_load_explicit(&log->synced_version, memory_order_acquire) != ws->reported_synced ||
	       atomic_load_explicit(&log->closing, memory_order_acquire);
}

static void writer_sleep(struct plog *log, const struct writer_state *ws)
{
	pthread_mutex_lock(&log->wait_lock);
	/* Raised by an RMW before the last look at the state: see wake_writer. */
	atomic_exchange_explicit(&log->writer_sleeping, 1, memory_order_acq_rel);
	if (!writer_has_work(log, ws)) {
		if (log->mode == PLOG_ASYNC && unsynced(log)) {
			struct timespec until =
				clock_monotonic_in_ms((unsigned)clock_ms_left(ws->next_periodic_sync));
			pthread_cond_timedwait(&log->writer_cv, &log->wait_lock, &until);
		} else {
			pthread_cond_wait(&log->writer_cv, &log->wait_lock);
		}
	}
	atomic_store_explicit(&log->writer_sleeping, 0, memory_order_relaxed);
	pthread_mutex_unlock(&log->wait_lock);
}

/* A failed log writes nothing more: what is in the ring is dropped so
 * that nobody waits for space. */
static void writer_failed(struct plog *log, struct writer_state *ws)
{
	uint64_t tail = atomic_load_explicit(&log->ring_tail, memory_order_acquire);
	atomic_store_explicit(&log->ring_head, tail, memory_order_release);
	if (!ws->reported_failure) {
		ws->reported_failure = true;
		if (log->on_failed)
			log->on_failed(log->arg, failure(log));
	}
	notify_progress(log);
}

/* Waits while a truncation runs; what it made synced is not news. */
static void writer_park(struct plog *log, struct writer_state *ws)
{
	pthread_mutex_lock(&log->wait_lock);
	atomic_store_explicit(&log->writer_paused, true, memory_order_release);
	pthread_cond_broadcast(&log->progress_cv);
	while (atomic_load_explicit(&log->pause_requested, memory_order_acquire))
		pthread_cond_wait(&log->writer_cv, &log->wait_lock);
	atomic_store_explicit(&log->writer_paused, false, memory_order_relaxed);
	pthread_mutex_unlock(&log->wait_lock);
	ws->reported_synced = atomic_load_explicit(&log->synced_version, memory_order_acquire);
}

static bool writer_parked(struct plog *log, uint64_t unused)
{
	(void)unused;
	return atomic_load_explicit(&log->writer_paused, memory_order_acquire);
}

void plog_writer_pause(struct plog *log)
{
	atomic_store_explicit(&log->pause_requested, true, memory_order_release);
	wake_writer(log);
	wait_until(log, writer_parked, 0);
}

void plog_writer_resume(struct plog *log)
{
	pthread_mutex_lock(&log->wait_lock);
	atomic_store_explicit(&log->pause_requested, false, memory_order_release);
	pthread_cond_signal(&log->writer_cv);
	pthread_mutex_unlock(&log->wait_lock);
}

static void *writer_main(void *arg)
{
	struct plog *log = arg;
	struct writer_state ws = {
		.reported_synced = atomic_load_explicit(&log->synced_version, memory_order_relaxed),
		.next_periodic_sync = clock_deadline_ms(log->sync_interval_ms),
	};
	for (;;) {
		if (atomic_load_explicit(&log->pause_requested, memory_order_acquire)) {
			writer_park(log, &ws);
			continue;
		}
		if (failure(log)) {
			writer_failed(log, &ws);
			if (atomic_load_explicit(&log->closing, memory_order_acquire))
				break;
			writer_sleep(log, &ws);
			continue;
		}
		uint64_t tail = atomic_load_explicit(&log->ring_tail, memory_order_acquire);
		if (tail != atomic_load_explicit(&log->ring_head, memory_order_relaxed))
			write_batch(log, tail);
		bool periodic = log->mode == PLOG_ASYNC && clock_now_ns() >= ws.next_periodic_sync;
		if (sync_wanted(log) || (periodic && unsynced(log))) {
			sync_written(log);
			ws.next_periodic_sync = clock_deadline_ms(log->sync_interval_ms);
		} else if (periodic) {
			ws.next_periodic_sync = clock_deadline_ms(log->sync_interval_ms);
		}
		uint64_t synced = atomic_load_explicit(&log->synced_version, memory_order_acquire);
		if (synced != ws.reported_synced && !failure(log)) {
			ws.reported_synced = synced;
			if (log->on_synced)
				log->on_synced(log->arg, synced);
		}
		if (ring_pending(log) || failure(log))
			continue;
		if (atomic_load_explicit(&log->closing, memory_order_acquire) && !unsynced(log))
			break;
		writer_sleep(log, &ws);
	}
	return NULL;
}

int plog_writer_start(struct plog *log)
{
	int rc = pthread_create(&log->writer, NULL, writer_main, log);
	if (rc != 0) {
		log_error("persist", "starting the writer of %s: %s", log->dir, strerror(rc));
		return GRP_ENOMEM;
	}
	log->writer_started = true;
	return 0;
}

/* ---- the appender's side ---- */

static bool ring_has_room(struct plog *log, uint64_t total)
{
	uint64_t tail = atomic_load_explicit(&log->ring_tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&log->ring_head, memory_order_acquire);
	return log->ring_bytes - (tail - head) >= total || failure(log);
}

static bool ring_empty(struct plog *log, uint64_t unused)
{
	(void)unused;
	return !ring_pending(log) || failure(log);
}

static int append_to_ring(struct plog *log, const uint8_t header[RECORD_HEADER_BYTES],
			  const void *data, size_t len, uint64_t total)
{
	wait_until(log, ring_has_room, total);
	int err = failure(log);
	if (err)
		return err;
	uint64_t tail = atomic_load_explicit(&log->ring_tail, memory_order_relaxed);
	ring_copy_in(log, tail, header, RECORD_HEADER_BYTES);
	if (len)
		ring_copy_in(log, tail + RECORD_HEADER_BYTES, data, len);
	ring_copy_in(log, tail + RECORD_HEADER_BYTES + len, zero_padding, total - RECORD_HEADER_BYTES - len);
	/* The record's bytes before the tail that covers them. */
	atomic_store_explicit(&log->ring_tail, tail + total, memory_order_release);
	wake_writer(log);
	return 0;
}

/* A record too large for the ring: written by the caller once the writer
 * has written everything before it, under the same file lock. */
static int append_direct(struct plog *log, const uint8_t header[RECORD_HEADER_BYTES],
			 const struct record_header *h, const void *data, uint64_t total)
{
	wait_until(log, ring_empty, 0);
	pthread_mutex_lock(&log->file_lock);
	int err = failure(log);
	if (!err)
		err = make_room(log, total, h->version);
	if (!err && plog_index_note(log, log->n_segs - 1, log->write_off, h->version, h->hlc) != 0)
		err = plog_fail(log, GRP_EIO, "indexing", current_segment(log)->name, ENOMEM);
	if (!err) {
		struct iovec iov[3] = {
			{ (void *)header, RECORD_HEADER_BYTES },
			{ (void *)data, h->len },
			{ (void *)zero_padding, total - RECORD_HEADER_BYTES - h->len },
		};
		int errnum = pwritev_all(current_segment(log)->fd, iov, 3, log->write_off);
		if (errnum) {
			err = fail_errno(log, "writing", current_segment(log), errnum);
		} else {
			log->write_off += total;
			publish_written(log, h->version);
		}
	}
	pthread_mutex_unlock(&log->file_lock);
	/* The writer syncs it and reports it. */
	wake_writer(log);
	return err;
}

int plog_append(struct plog *log, enum plog_kind kind, uint32_t sender, uint64_t version,
		uint64_t hlc, const void *data, size_t len, uint64_t *hlc_out)
{
	if (!log || (kind != PLOG_MESSAGE && kind != PLOG_VIEW) || (len > 0 && !data) ||
	    len > RECORD_MAX_PAYLOAD)
		return GRP_EINVAL;
	int err = failure(log);
	if (err)
		return err;
	uint64_t last_version = atomic_load_explicit(&log->last_version, memory_order_relaxed);
	uint64_t last_hlc = atomic_load_explicit(&log->last_hlc, memory_order_relaxed);
	if (version <= last_version)
		return GRP_EINVAL;
	/* Strictly increasing, so that a time range maps to one stretch. */
	if (hlc <= last_hlc)
		hlc = last_hlc + 1;
	struct record_header h = { .kind = (uint8_t)kind, .len = (uint32_t)len, .sender = sender,
				   .version = version, .hlc = hlc };
	uint8_t header[RECORD_HEADER_BYTES];
	record_encode_header(header, &h, data);
	uint64_t total = record_total_bytes(len);
	err = total > log->ring_bytes / 2 ? append_direct(log, header, &h, data, total)
					  : append_to_ring(log, header, data, len, total);
	if (err)
		return err;
	atomic_store_explicit(&log->last_version, version, memory_order_relaxed);
	atomic_store_explicit(&log->last_hlc, hlc, memory_order_relaxed);
	if (hlc_out)
		*hlc_out = hlc;
	return 0;
}

static bool durable_reached(struct plog *log, uint64_t target)
{
	return atomic_load_explicit(&log->durable_version, memory_order_acquire) >= target || failure(log);
}

int plog_sync(struct plog *log)
{
	if (!log)
		return GRP_EINVAL;
	uint64_t target = atomic_load_explicit(&log->last_version, memory_order_relaxed);
	if (log->mode == PLOG_ASYNC) {
		atomic_store_explicit(&log->sync_request, target, memory_order_release);
		wake_writer(log);
	}
	wait_until(log, durable_reached, target);
	if (atomic_load_explicit(&log->durable_version, memory_order_acquire) >= target)
		return 0;
	return failure(log);
}

uint64_t plog_synced(const struct plog *log)
{
	return atomic_load_explicit(&log->synced_version, memory_order_acquire);
}

uint64_t plog_last_version(const struct plog *log)
{
	return atomic_load_explicit(&log->last_version, memory_order_relaxed);
}

uint64_t plog_last_hlc(const struct plog *log)
{
	return atomic_load_explicit(&log->last_hlc, memory_order_relaxed);
}

void plog_close(struct plog *log)
{
	if (!log)
		return;
	atomic_store_explicit(&log->closing, true, memory_order_release);
	pthread_mutex_lock(&log->wait_lock);
	pthread_cond_signal(&log->writer_cv);
	pthread_mutex_unlock(&log->wait_lock);
	if (log->writer_started)
		pthread_join(log->writer, NULL);
	plog_free(log);
}

static bool room_for(struct plog *log, uint64_t total)
{
	return total > log->ring_bytes / 2 ? ring_empty(log, 0) : ring_has_room(log, total);
}

bool plog_has_room(struct plog *log, size_t len)
{
	uint64_t total = record_total_bytes(len);
	if (room_for(log, total))
		return true;
	atomic_exchange_explicit(&log->room_wanted, 1, memory_order_acq_rel);
	return room_for(log, total);
}
