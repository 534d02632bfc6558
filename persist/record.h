/* The on-disk record: a 32-byte header and the payload, starting on an
 * 8-byte boundary, its size rounded up to 8 (the padding is zeros and not
 * covered by the CRC):
 *
 *   0  u32 crc32c of bytes 4 .. end of payload
 *   4  u8  format version (RECORD_FORMAT_VERSION)
 *   5  u8  kind (enum plog_kind)
 *   6  u16 reserved, 0
 *   8  u32 payload length
 *  12  u32 sender
 *  16  u64 version
 *  24  u64 hlc
 *  32  payload
 *
 * A header of 32 zero bytes marks the end of the records of a segment. */
#ifndef GRP_PERSIST_RECORD_H
#define GRP_PERSIST_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_HEADER_BYTES 32u
#define RECORD_FORMAT_VERSION 1u
#define RECORD_ALIGN 8u
/* The longest payload: its record size must fit in 32 bits with room. */
#define RECORD_MAX_PAYLOAD (UINT32_MAX - 2 * RECORD_HEADER_BYTES)

struct record_header {
	uint32_t crc;
	uint8_t kind;
	uint32_t len;
	uint32_t sender;
	uint64_t version;
	uint64_t hlc;
};

/* Header plus payload plus padding to the next 8-byte boundary. */
static inline uint64_t record_total_bytes(uint64_t len)
{
	return (RECORD_HEADER_BYTES + len + RECORD_ALIGN - 1) & ~(uint64_t)(RECORD_ALIGN - 1);
}

/* Encodes h with its crc computed over the header and payload. */
void record_encode_header(uint8_t out[RECORD_HEADER_BYTES], const struct record_header *h,
			  const void *payload);
/* Reads back a header this process encoded (the writer's ring): no checks. */
void record_peek_header(const uint8_t in[RECORD_HEADER_BYTES], struct record_header *out);
bool record_header_is_zero(const uint8_t in[RECORD_HEADER_BYTES]);
/* Decodes and checks every header field but the crc against what may
 * follow prev_version/prev_hlc, with room bytes left in the segment from
 * the header's start. Returns NULL and fills *out, or why it is refused. */
const char *record_decode_header(const uint8_t in[RECORD_HEADER_BYTES], uint64_t room,
				 uint64_t prev_version, uint64_t prev_hlc, struct record_header *out);
/* Whether the crc in the header of this whole record (header and len
 * payload bytes, contiguous) is right. */
bool record_crc_ok(const uint8_t *record, uint32_t len);

#endif
