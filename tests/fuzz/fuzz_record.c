/* A log record as the recovery scan finds it at the end of a segment
 * (room: the input's length): whatever header is accepted lies inside the
 * room, and a record whose crc holds encodes back to the same header. */
#include <string.h>

#include "fuzz.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_header h;
	if (size < RECORD_HEADER_BYTES || record_decode_header(data, size, 0, 0, &h) != NULL)
		return 0;
	FUZZ_CHECK(record_total_bytes(h.len) <= size);
	if (!record_crc_ok(data, h.len))
		return 0;
	uint8_t again[RECORD_HEADER_BYTES];
	record_encode_header(again, &h, data + RECORD_HEADER_BYTES);
	FUZZ_CHECK(memcmp(again, data, RECORD_HEADER_BYTES) == 0);
	return 0;
}
