/* The state-transfer stream, as a member serves a joiner (durable.h),
 * integers little-endian:
 *
 *   u8 kind: LOG_STREAM_APP_STATE, then what state_save wrote; or
 *            LOG_STREAM_LOG, then
 *   u32 n | n times: u32 joiner's node id | u64 where its log must end
 *   records to the end of the stream: u8 kind | u32 sender | u64 version |
 *            u64 hlc | u32 length | length bytes
 *
 * The joiner reads it through a callback, so that decoding needs no group
 * and can be tested and fuzzed on bytes alone. */
#ifndef GRP_LIB_LOG_STREAM_H
#define GRP_LIB_LOG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "plog.h"

enum log_stream_kind { LOG_STREAM_APP_STATE = 0, LOG_STREAM_LOG = 1 };

#define LOG_STREAM_LOG_HEAD (1u + 4u)
#define LOG_STREAM_CUT_ENTRY (4u + 8u)
#define LOG_STREAM_RECORD_HEADER (1u + 4u + 8u + 8u + 4u)

/* Up to cap bytes of the stream: 0 with *got (0 at its end), or an error. */
typedef int (*log_stream_read_fn)(void *arg, void *buf, size_t cap, size_t *got);
struct log_stream_source {
	log_stream_read_fn read;
	void *arg;
};

void log_stream_head_encode(uint8_t out[LOG_STREAM_LOG_HEAD], uint32_t n_joiners);
void log_stream_cut_encode(uint8_t out[LOG_STREAM_CUT_ENTRY], uint32_t id, uint64_t cut);
void log_stream_record_encode(uint8_t out[LOG_STREAM_RECORD_HEADER], const struct plog_record *r);

/* 0; 1 if the stream ended before the first byte; GRP_EPROTO if it ended
 * inside; or the source's error. */
int log_stream_read_exactly(const struct log_stream_source *src, void *buf, size_t len);
/* After the kind: the table's entry for my_id, where our log must end.
 * GRP_EPROTO for a table of no entries or more than FAB_MAX_PEERS, or
 * without ours. */
int log_stream_read_cut(const struct log_stream_source *src, uint32_t my_id, uint64_t *cut);
/* The next record, its payload in *buf (grown to *cap as needed, the
 * caller frees it): 0, 1 at the end of the stream, GRP_EPROTO for an
 * unknown kind, a message longer than message_max or a view record longer
 * than any, or a stream cut inside a record. */
int log_stream_read_record(const struct log_stream_source *src, size_t message_max, uint8_t **buf,
			   size_t *cap, struct plog_record *r);

#endif
