/* A log record as the recovery scan finds it at the end of a segment
 * (room: the input's length; a zero crc sealed, fuzz.h): whatever header
 * is accepted lies inside the room, and a record whose crc holds encodes
 * back to the same header. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"

static void check_record(const uint8_t *record, size_t room)
{
	struct record_header h;
	if (record_decode_header(record, room, 0, 0, &h) != NULL)
		return;
	FUZZ_CHECK(record_total_bytes(h.len) <= room);
	if (!record_crc_ok(record, h.len))
		return;
	uint8_t again[RECORD_HEADER_BYTES];
	record_encode_header(again, &h, record + RECORD_HEADER_BYTES);
	FUZZ_CHECK(memcmp(again, record, RECORD_HEADER_BYTES) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < RECORD_HEADER_BYTES)
		return 0;
	uint8_t *record = fuzz_copy(data, size);
	FUZZ_CHECK(record != NULL);
	fuzz_seal_record(record, size);
	check_record(record, size);
	free(record);
	return 0;
}
