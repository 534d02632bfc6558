/* A member's versioned log: every delivered message, in delivery order, on
 * disk, with a writer thread that appends and syncs in batches.
 *
 * On disk: a directory of segment files "seg-<index, 8 hex>.log", each
 * preallocated to segment_bytes, starting with a 64-byte header (magic,
 * format version, group id, first version, index, CRC32C) followed by
 * 8-byte aligned records (plog_record below: CRC32C, format version, kind,
 * length, sender, version, hlc, payload). Zeros after the last record mark
 * the end. Versions strictly increase along the log.
 *
 * Threads: plog_append is called by one thread at a time (the engine);
 * it copies the record into the writer's ring and returns (it waits only
 * while the ring is full). The writer thread writes the ring to the
 * current segment and, in PLOG_DURABLE mode, runs one fdatasync for
 * everything written since the last (group commit), then publishes the
 * synced version and calls on_synced. Readers (iterators) may run on any
 * thread, concurrently with appends: they see what was written.
 *
 * Errors: 0 or a negative GRP_E* code. */
#ifndef GRP_PLOG_H
#define GRP_PLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLOG_FORMAT_VERSION 1u

enum plog_mode {
	PLOG_ASYNC = 1,   /* written to the OS (survives a process crash), synced every sync_interval_ms */
	PLOG_DURABLE = 2, /* fdatasync before a version counts as synced */
};

enum plog_kind {
	PLOG_MESSAGE = 1, /* a delivered message: sender, payload */
	PLOG_VIEW = 2,    /* a view installed: payload = the view, encoded by the caller */
};

struct plog_params {
	const char *dir;          /* created (mode 0700) if missing */
	uint64_t group_id;        /* every segment carries it; another group's log is refused */
	enum plog_mode mode;
	size_t segment_bytes;     /* preallocated size of a segment file (>= 1 MiB) */
	size_t ring_bytes;        /* the writer's ring (>= 1 MiB) */
	unsigned sync_interval_ms; /* PLOG_ASYNC: how often to fdatasync (> 0) */
	/* On the writer thread, after the synced version advanced (may be NULL).
	 * The values increase, but restart from the version kept after a
	 * plog_truncate_after. */
	void (*on_synced)(void *arg, uint64_t synced_version);
	/* On the writer thread, when it freed ring space after plog_has_room
	 * said there was none. May be NULL. */
	void (*on_room)(void *arg);
	/* On the writer thread, once, when a write or sync failed: the log
	 * accepts nothing more (err: GRP_ENOSPC, GRP_EIO). May be NULL. */
	void (*on_failed)(void *arg, int err);
	void *arg;
};

/* What opening found. */
struct plog_open_report {
	uint64_t records;        /* valid records kept */
	uint64_t first_version;  /* 0 if empty */
	uint64_t last_version;   /* 0 if empty */
	uint64_t last_hlc;
	bool truncated;          /* a torn or corrupt tail was cut off */
	unsigned truncated_segment;
	uint64_t truncated_offset; /* byte offset in that segment where the bad record began */
	char reason[128];        /* why the record there was refused (also logged) */
};

struct plog_record {
	enum plog_kind kind;
	uint32_t sender;
	uint64_t version;
	uint64_t hlc;
	size_t len;
	const void *data;        /* plog_iter_next: valid until the next call */
};

struct plog;

/* Opens (or creates) the log in params->dir and validates every record.
 * A torn or corrupt tail of the last segment (a bad record with nothing
 * valid after it) is cut off and reported in *report. Errors:
 * GRP_ECORRUPT (a bad record with valid records after it, or in a segment
 * that is not the last, or a bad segment header: the log names file,
 * offset and reason; nothing is changed on disk), GRP_ESTRANGER (the log
 * belongs to another group), GRP_EVERSION (a format version we do not
 * know), GRP_EBUSY (another process has the log open: the directory is
 * locked while a log is open), GRP_ENOSPC (no space for a segment), GRP_EIO, GRP_EINVAL,
 * GRP_ENOMEM. Starts the writer thread. */
int plog_open(const struct plog_params *params, struct plog **out, struct plog_open_report *report);
/* Stops the writer after it wrote and synced everything appended. */
void plog_close(struct plog *log);

/* Appends one record (version above every version in the log, else
 * GRP_EINVAL; hlc is raised to last hlc + 1 if not above it, so that hlc
 * strictly increases along the log, and the value used is returned in
 * *hlc_out when not NULL). Waits while the writer's ring is full; a record
 * larger than half the ring waits until the ring is empty and is written
 * by the caller. GRP_ENOSPC or GRP_EIO once the log failed. */
int plog_append(struct plog *log, enum plog_kind kind, uint32_t sender, uint64_t version,
		uint64_t hlc, const void *data, size_t len, uint64_t *hlc_out);
/* Whether plog_append of a len-byte record would return without waiting
 * for the writer (or the log failed): the appender's thread, which may
 * then do other work instead of blocking; after a no, on_room is called
 * once there is more room. */
bool plog_has_room(struct plog *log, size_t len);
/* Waits until everything appended so far is synced (every mode). */
int plog_sync(struct plog *log);
/* The highest version synced (PLOG_DURABLE: on disk; PLOG_ASYNC: written
 * to the OS, or on disk after a sync). 0 before any. */
uint64_t plog_synced(const struct plog *log);
/* The highest version appended. */
uint64_t plog_last_version(const struct plog *log);
uint64_t plog_last_hlc(const struct plog *log);
/* Removes every record above version (total restart: a suffix that was
 * never committed). Waits for the writer; the cut is synced before it
 * returns. */
int plog_truncate_after(struct plog *log, uint64_t version);

struct plog_iter;
/* Records with from <= version <= to, in order. */
int plog_iter_versions(struct plog *log, uint64_t from, uint64_t to, struct plog_iter **out);
/* Records with from <= hlc <= to, in order. */
int plog_iter_times(struct plog *log, uint64_t from, uint64_t to, struct plog_iter **out);
/* 1 and *rec filled, 0 at the end, or an error (GRP_ECORRUPT if a record
 * read back fails its CRC, GRP_EIO). Sees records written when called;
 * after a plog_truncate_after it goes on after the last record it
 * returned. Every iterator is freed before plog_close. */
int plog_iter_next(struct plog_iter *it, struct plog_record *rec);
void plog_iter_free(struct plog_iter *it);

/* CRC32C (Castagnoli), as used by the records: crc32c(0, buf, len). */
uint32_t plog_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
