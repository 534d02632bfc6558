/* Segment files: "seg-<index, 8 hex>.log", preallocated, starting with a
 * 64-byte header:
 *
 *   0  8 bytes magic "GRPPLOG1"
 *   8  u32 format version (PLOG_FORMAT_VERSION)
 *  12  u32 header bytes (64)
 *  16  u64 group id
 *  24  u64 first version: every record in the segment is at or above it
 *  32  u32 segment index (the one in the file name)
 *  36  u32 reserved, 0
 *  40  20 bytes reserved, 0
 *  60  u32 crc32c of bytes 0..59
 *
 * and a window for reading a segment through a buffer. */
#ifndef GRP_PERSIST_SEGMENT_H
#define GRP_PERSIST_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEGMENT_HEADER_BYTES 64u
#define SEGMENT_NAME_MAX 24u

struct segment_header {
	uint64_t group_id;
	uint64_t first_version;
	uint32_t index;
};

/* "seg-0000002a.log", or ".tmp" while it is being created. */
void segment_name(char out[SEGMENT_NAME_MAX], uint32_t index, bool tmp);
/* Whether name is a segment's final name, and its index. */
bool segment_name_parse(const char *name, uint32_t *index);

void segment_header_encode(uint8_t out[SEGMENT_HEADER_BYTES], const struct segment_header *h);
/* 0 and *out, or GRP_ECORRUPT, GRP_EVERSION, GRP_ESTRANGER with *reason. */
int segment_header_decode(const uint8_t in[SEGMENT_HEADER_BYTES], uint64_t group_id,
			  struct segment_header *out, const char **reason);

/* Creates the segment h->index of bytes bytes in the directory dirfd (dir
 * names it in logs) so that it appears whole or not at all: built under
 * its .tmp name, preallocated, synced, renamed, directory synced. Returns
 * 0 and *fd_out (read-write), or GRP_ENOSPC, GRP_EIO (logged). */
int segment_create(int dirfd, const char *dir, const struct segment_header *h, uint64_t bytes,
		   int *fd_out);
/* The indices of the segments in dirfd, sorted (*out malloc'd, may be
 * NULL when *n is 0). GRP_EIO, GRP_ENOMEM. */
int segment_list(int dirfd, const char *dir, uint32_t **out, size_t *n);
/* Removes .tmp files a crash left behind mid-creation. */
void segment_remove_leftovers(int dirfd, const char *dir);

/* A GRP_E* code for a failed system call's errno. */
int segment_errno_error(int err);

/* Reads a segment through a buffer. Bytes are read only below the limit
 * the caller passes, so a window never holds bytes a writer has not
 * finished. */
struct segment_window {
	uint8_t *buf;
	size_t cap;
	int fd;          /* whose bytes buf holds; -1 for none */
	uint64_t start;  /* file offset of buf[0] */
	size_t len;      /* valid bytes in buf */
};

void segment_window_init(struct segment_window *w);
void segment_window_drop(struct segment_window *w);
void segment_window_free(struct segment_window *w);
/* Points *out at the bytes [off, off + need) of fd, reading ahead up to
 * limit. GRP_EIO if the file ends before, GRP_ENOMEM. */
int segment_window_get(struct segment_window *w, int fd, uint64_t off, size_t need, uint64_t limit,
		       const uint8_t **out);

#endif
