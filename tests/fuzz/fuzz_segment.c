/* A segment's header (the input's first 64 bytes, a zero crc sealed,
 * fuzz.h) and a directory entry's name (the input as text): what is
 * accepted encodes back to the same bytes, and the name to the same name. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "segment.h"

static void check_header(const uint8_t *data)
{
	uint8_t raw[SEGMENT_HEADER_BYTES];
	memcpy(raw, data, sizeof raw);
	fuzz_seal_segment_header(raw);
	struct segment_header h;
	const char *reason = NULL;
	if (segment_header_decode(raw, fuzz_group_id(), &h, &reason) != 0) {
		FUZZ_CHECK(reason != NULL);
		return;
	}
	uint8_t again[SEGMENT_HEADER_BYTES];
	segment_header_encode(again, &h);
	FUZZ_CHECK(memcmp(again, raw, sizeof raw) == 0);
}

static void check_name(const char *name)
{
	uint32_t index;
	if (!segment_name_parse(name, &index))
		return;
	char again[SEGMENT_NAME_MAX];
	segment_name(again, index, false);
	FUZZ_CHECK(strcmp(again, name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= SEGMENT_HEADER_BYTES)
		check_header(data);
	char *name = fuzz_copy(data, size);
	FUZZ_CHECK(name != NULL);
	check_name(name);
	free(name);
	return 0;
}
