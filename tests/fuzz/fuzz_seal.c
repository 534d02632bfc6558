#include "fuzz.h"

#include "codec.h"
#include "plog.h"
#include "record.h"
#include "segment.h"

/* segment.h's layout: the crc of bytes 0..59, at 60. */
#define SEGMENT_CRC_OFFSET 60u

static void put_crc(uint8_t *at, uint32_t crc)
{
	struct wcursor w = { .p = at, .cap = 4 };
	wc_u32(&w, crc);
}

void fuzz_seal_segment_header(uint8_t *header)
{
	struct rcursor r = { .p = header + SEGMENT_CRC_OFFSET, .len = 4 };
	if (rc_u32(&r) == 0)
		put_crc(header + SEGMENT_CRC_OFFSET, plog_crc32c(0, header, SEGMENT_CRC_OFFSET));
}

/* record.h: the crc is of bytes 4 .. end of payload, at 0. */
size_t fuzz_seal_record(uint8_t *record, size_t room)
{
	if (room < RECORD_HEADER_BYTES || record_header_is_zero(record))
		return 0;
	struct record_header h;
	record_peek_header(record, &h);
	uint64_t total = record_total_bytes(h.len);
	if (total > room)
		return 0;
	if (h.crc == 0) {
		uint32_t crc = plog_crc32c(0, record + 4, RECORD_HEADER_BYTES - 4);
		put_crc(record, plog_crc32c(crc, record + RECORD_HEADER_BYTES, h.len));
	}
	return (size_t)total;
}

void fuzz_seal_segment(uint8_t *file, size_t size)
{
	if (size < SEGMENT_HEADER_BYTES)
		return;
	fuzz_seal_segment_header(file);
	size_t off = SEGMENT_HEADER_BYTES, n;
	while ((n = fuzz_seal_record(file + off, size - off)) > 0)
		off += n;
}
