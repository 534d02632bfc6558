/* The state of an open log, shared by open.c, writer.c, iter.c, index.c
 * and truncate.c.
 *
 * Threads and locks (always taken in this order):
 *   file_lock    the current segment, the write offset, segment creation
 *                and fdatasync: the writer thread, the appender's direct
 *                write of a record larger than half the ring, truncation.
 *   layout_lock  (rwlock) the segment array, the sparse index and the
 *                generation: written under file_lock by whoever adds a
 *                segment or index entry or truncates, read by iterators.
 *   wait_lock    only for sleeping: writer_cv (the writer waits for work)
 *                and progress_cv (appender, plog_sync and close wait for
 *                the writer). The sleeper raises a flag or count with a
 *                read-modify-write before its last check; the waker
 *                publishes, then reads the flag with a read-modify-write
 *                and signals under wait_lock only if someone sleeps: no
 *                wake-up is lost (one RMW reads from the other, see
 *                wake_writer) and a busy path takes no lock. */
#ifndef GRP_PERSIST_PLOG_INTERNAL_H
#define GRP_PERSIST_PLOG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "plog.h"
#include "segment.h"

/* One entry per segment start and then at least every this many bytes. */
#define PLOG_INDEX_STRIDE (64u * 1024u)

struct plog_segment {
	uint32_t index;
	int fd;
	uint64_t bytes;          /* size of the file */
	uint64_t first_version;
	char name[SEGMENT_NAME_MAX];
	/* End of the records fully written: stored (release) after the
	 * pwrite, loaded (acquire) by iterators, which read only below it. */
	_Atomic uint64_t written_end;
};

struct plog_index_entry {
	uint64_t version;
	uint64_t hlc;
	size_t seg;              /* position in plog.segs */
	uint64_t offset;
};

struct plog {
	char *dir;
	int dirfd;
	uint64_t group_id;
	enum plog_mode mode;
	size_t segment_bytes;
	unsigned sync_interval_ms;
	void (*on_synced)(void *arg, uint64_t synced_version);
	void (*on_failed)(void *arg, int err);
	void (*on_room)(void *arg);
	void *arg;

	pthread_mutex_t file_lock;
	uint64_t write_off;         /* file_lock: next record's offset in the last segment */
	uint64_t last_indexed_off;  /* file_lock: offset of the last index entry there */

	pthread_rwlock_t layout_lock;
	struct plog_segment **segs; /* the last one is the current segment */
	size_t n_segs, cap_segs;
	struct plog_index_entry *index;
	size_t n_index, cap_index;
	uint64_t generation;        /* bumped by truncation: iterators seek again */

	/* SPSC ring of encoded records (header, payload, padding). Positions
	 * count bytes since open; the byte of position p is ring[p % ring_bytes]. */
	uint8_t *ring;
	size_t ring_bytes;
	/* Appender: stores (release) after copying a record in; the writer
	 * loads (acquire) before reading it. */
	_Atomic uint64_t ring_tail;
	/* Writer: stores (release) after the bytes reached the file; the
	 * appender loads (acquire) before reusing the space. */
	_Atomic uint64_t ring_head;

	/* Set by the appender (relaxed: read elsewhere only as information,
	 * and by truncation, which runs on the appender's thread). */
	_Atomic uint64_t last_version;
	_Atomic uint64_t last_hlc;
	/* Under file_lock, stored with release and loaded with acquire by
	 * the threads that wait on them. */
	_Atomic uint64_t written_version;  /* in the files (pwrite returned) */
	_Atomic uint64_t synced_version;   /* what plog_synced reports */
	_Atomic uint64_t durable_version;  /* covered by an fdatasync */
	/* PLOG_ASYNC: plog_sync asks the writer for an fdatasync up to here. */
	_Atomic uint64_t sync_request;
	/* 0, or the error the log failed with: set once (CAS), read acquire. */
	_Atomic int failed;
	_Atomic bool closing;
	/* Truncation parks the writer: it raises pause_requested (release)
	 * and waits for writer_paused (acquire); the writer waits on
	 * writer_cv until pause_requested falls. */
	_Atomic bool pause_requested;
	_Atomic bool writer_paused;

	pthread_mutex_t wait_lock;
	pthread_cond_t writer_cv;
	pthread_cond_t progress_cv;
	_Atomic unsigned writer_sleeping;  /* 0 or 1; read by RMW (writer.c) */
	_Atomic unsigned progress_waiters;
	/* 1 once plog_has_room said no: the writer calls on_room when it
	 * frees space. Read and cleared by RMW on both sides (writer.c). */
	_Atomic unsigned room_wanted;
	pthread_t writer;
	bool writer_started;
};

/* index.c. The callers of add and cut hold file_lock and the layout_lock
 * for writing (or are plog_open, alone). */
int plog_index_add(struct plog *log, size_t seg, uint64_t offset, uint64_t version, uint64_t hlc);
/* Position of the last entry at or below version (by_time: hlc), or of
 * the first entry when there is none; SIZE_MAX if the index is empty. */
size_t plog_index_seek(const struct plog *log, bool by_time, uint64_t key);
/* Forgets the entries at or after (seg, offset). */
void plog_index_cut(struct plog *log, size_t seg, uint64_t offset);
/* file_lock held: notes the record at (seg, offset) in the index when it
 * starts a segment or PLOG_INDEX_STRIDE bytes passed since the last entry. */
int plog_index_note(struct plog *log, size_t seg, uint64_t offset, uint64_t version, uint64_t hlc);
/* After the last segment changed otherwise (open, truncation): where the
 * stride of plog_index_note counts from. */
void plog_index_restart_stride(struct plog *log);

/* layout_lock held for writing: appends seg to the segment array. */
int plog_segments_push(struct plog *log, struct plog_segment *seg);
void plog_segment_free(struct plog_segment *seg);

/* writer.c */
int plog_writer_start(struct plog *log);
/* Parks the writer thread once it has finished what it was doing, and
 * lets it go again. */
void plog_writer_pause(struct plog *log);
void plog_writer_resume(struct plog *log);
/* Puts the log in the failed state with err (the first failure wins and
 * is logged with what failed and strerror(errnum)). Returns the error the
 * log is failed with. */
int plog_fail(struct plog *log, int err, const char *what, const char *name, int errnum);

/* open.c: frees everything plog_open allocated; the writer must be stopped. */
void plog_free(struct plog *log);
/* Removes the segments from position first on (closing, unlinking and
 * freeing them) and syncs the directory. 0 or GRP_EIO (logged). */
int plog_segments_remove_from(struct plog *log, size_t first);
/* Creates the segment file of that index (see segment_create) and appends
 * it to the segment array under layout_lock. 0, GRP_ENOSPC, GRP_EIO (both
 * logged) or GRP_ENOMEM. */
int plog_segment_create(struct plog *log, uint32_t index, uint64_t first_version, uint64_t bytes);
/* Writes zeros over [from, to) of seg, from the end backwards, synced.
 * 0 or an errno. */
int plog_segment_zero(struct plog_segment *seg, uint64_t from, uint64_t to);

#endif
