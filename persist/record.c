#include "record.h"

#include <string.h>

#include "codec.h"
#include "plog.h"

/* The crc covers everything after itself: a torn write anywhere in the
 * header or payload changes it. */
static uint32_t record_crc(const uint8_t header[RECORD_HEADER_BYTES], const void *payload, size_t len)
{
	uint32_t crc = plog_crc32c(0, header + 4, RECORD_HEADER_BYTES - 4);
	return plog_crc32c(crc, payload, len);
}

void record_encode_header(uint8_t out[RECORD_HEADER_BYTES], const struct record_header *h,
			  const void *payload)
{
	struct wcursor w = { .p = out, .cap = RECORD_HEADER_BYTES };
	wc_u32(&w, 0);
	wc_u8(&w, RECORD_FORMAT_VERSION);
	wc_u8(&w, h->kind);
	wc_u16(&w, 0);
	wc_u32(&w, h->len);
	wc_u32(&w, h->sender);
	wc_u64(&w, h->version);
	wc_u64(&w, h->hlc);
	uint32_t crc = record_crc(out, payload, h->len);
	struct wcursor c = { .p = out, .cap = 4 };
	wc_u32(&c, crc);
}

static void record_read_fields(struct rcursor *r, struct record_header *h, uint8_t *format,
			       uint16_t *reserved)
{
	h->crc = rc_u32(r);
	*format = rc_u8(r);
	h->kind = rc_u8(r);
	*reserved = rc_u16(r);
	h->len = rc_u32(r);
	h->sender = rc_u32(r);
	h->version = rc_u64(r);
	h->hlc = rc_u64(r);
}

void record_peek_header(const uint8_t in[RECORD_HEADER_BYTES], struct record_header *out)
{
	struct rcursor r = { .p = in, .len = RECORD_HEADER_BYTES };
	uint8_t format;
	uint16_t reserved;
	record_read_fields(&r, out, &format, &reserved);
}

bool record_header_is_zero(const uint8_t in[RECORD_HEADER_BYTES])
{
	for (unsigned i = 0; i < RECORD_HEADER_BYTES; i++)
		if (in[i])
			return false;
	return true;
}

const char *record_decode_header(const uint8_t in[RECORD_HEADER_BYTES], uint64_t room,
				 uint64_t prev_version, uint64_t prev_hlc, struct record_header *out)
{
	struct rcursor r = { .p = in, .len = RECORD_HEADER_BYTES };
	struct record_header h;
	uint8_t format;
	uint16_t reserved;
	record_read_fields(&r, &h, &format, &reserved);
	if (r.bad)
		return "header cut short";
	if (format != RECORD_FORMAT_VERSION)
		return "unknown record format version";
	if (h.kind != PLOG_MESSAGE && h.kind != PLOG_VIEW)
		return "unknown record kind";
	if (reserved != 0)
		return "reserved field not zero";
	if (h.len > RECORD_MAX_PAYLOAD || record_total_bytes(h.len) > room)
		return "length runs past the end of the segment";
	if (h.version <= prev_version)
		return "version not above the previous record's";
	if (h.hlc <= prev_hlc)
		return "hlc not above the previous record's";
	*out = h;
	return NULL;
}

bool record_crc_ok(const uint8_t *record, uint32_t len)
{
	struct rcursor r = { .p = record, .len = 4 };
	return rc_u32(&r) == record_crc(record, record + RECORD_HEADER_BYTES, len);
}
