/* A bootstrap frame as it arrives: the 24-byte header, then its payload,
 * decoded by the decoder of its type. Whatever a decoder accepts must
 * encode back to the same bytes: a decoder that took a non-canonical
 * form would let two encodings mean one frame, and the MAC of a frame is
 * checked over its header as re-encoded. */
#include <string.h>

#include "frame.h"
#include "fuzz.h"

#define REFUSED 1

/* Large enough for the largest payload a header admits. */
static uint8_t reencoded[FRAME_MAX_PAYLOAD];

/* Decodes a payload by its frame's type and encodes what was decoded
 * again into reencoded[0..*len): 0, REFUSED if the decoder refused it or
 * the type has no payload, or the encoder's error. */
static int decode_and_encode(uint16_t type, const uint8_t *p, size_t n, size_t *len)
{
	const size_t cap = sizeof reencoded;
	if (type == FRAME_HELLO || type == FRAME_HELLO_REPLY) {
		struct hello h;
		return hello_decode(p, n, &h) ? REFUSED : hello_encode(&h, reencoded, cap, len);
	}
	if (type == FRAME_VIEW_INFO) {
		static struct view_info v;
		return view_info_decode(p, n, &v) ? REFUSED : view_info_encode(&v, reencoded, cap, len);
	}
	if (type == FRAME_RESTART_INFO) {
		static struct restart_info r;
		return restart_info_decode(p, n, &r) ? REFUSED
						      : restart_info_encode(&r, reencoded, cap, len);
	}
	if (type == FRAME_REJECT) {
		struct reject r;
		return reject_decode(p, n, &r) ? REFUSED : reject_encode(&r, reencoded, cap, len);
	}
	return REFUSED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_header h;
	if (size < FRAME_HEADER_LEN || frame_header_decode(data, fuzz_group_id(), &h) != 0)
		return 0;
	FUZZ_CHECK(h.length <= FRAME_MAX_PAYLOAD);
	/* session.c checks MACs over the header re-encoded from what was decoded. */
	uint8_t raw[FRAME_HEADER_LEN];
	frame_header_encode(raw, h.type, h.length, fuzz_group_id());
	FUZZ_CHECK(memcmp(raw, data, FRAME_HEADER_LEN) == 0);
	/* The receiver reads exactly the length the header gives. */
	if (size - FRAME_HEADER_LEN < h.length)
		return 0;
	const uint8_t *payload = data + FRAME_HEADER_LEN;
	size_t len = 0;
	int rc = decode_and_encode(h.type, payload, h.length, &len);
	if (rc != REFUSED)
		FUZZ_CHECK(rc == 0 && len == h.length && memcmp(reencoded, payload, len) == 0);
	return 0;
}
