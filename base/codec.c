#include "codec.h"

#include <string.h>

static void wc_le(struct wcursor *w, uint64_t v, size_t n)
{
	if (w->bad || w->cap - w->off < n) {
		w->bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->p[w->off + i] = (uint8_t)(v >> (8 * i));
	w->off += n;
}

void wc_u8(struct wcursor *w, uint8_t v) { wc_le(w, v, 1); }
void wc_u16(struct wcursor *w, uint16_t v) { wc_le(w, v, 2); }
void wc_u32(struct wcursor *w, uint32_t v) { wc_le(w, v, 4); }
void wc_u64(struct wcursor *w, uint64_t v) { wc_le(w, v, 8); }

void wc_bytes(struct wcursor *w, const void *src, size_t n)
{
	if (w->bad || w->cap - w->off < n) {
		w->bad = true;
		return;
	}
	if (n)
		memcpy(w->p + w->off, src, n);
	w->off += n;
}

static uint64_t rc_le(struct rcursor *r, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

uint8_t rc_u8(struct rcursor *r) { return (uint8_t)rc_le(r, 1); }
uint16_t rc_u16(struct rcursor *r) { return (uint16_t)rc_le(r, 2); }
uint32_t rc_u32(struct rcursor *r) { return (uint32_t)rc_le(r, 4); }
uint64_t rc_u64(struct rcursor *r) { return rc_le(r, 8); }

void rc_bytes(struct rcursor *r, void *dst, size_t n)
{
	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		memset(dst, 0, n);
		return;
	}
	if (n)
		memcpy(dst, r->p + r->off, n);
	r->off += n;
}

size_t rc_left(const struct rcursor *r)
{
	return r->bad ? 0 : r->len - r->off;
}
