/* Bounds-checked little-endian cursors for every wire format.
 *
 * A cursor that would overrun its buffer becomes `bad` and stays so (reads
 * then return 0, writes are dropped); callers check `bad` once at the end
 * instead of after every field. */
#ifndef GRP_CODEC_H
#define GRP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wcursor {
	uint8_t *p;
	size_t cap, off;
	bool bad;
};

struct rcursor {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

void wc_u8(struct wcursor *w, uint8_t v);
void wc_u16(struct wcursor *w, uint16_t v);
void wc_u32(struct wcursor *w, uint32_t v);
void wc_u64(struct wcursor *w, uint64_t v);
void wc_bytes(struct wcursor *w, const void *src, size_t n);

uint8_t rc_u8(struct rcursor *r);
uint16_t rc_u16(struct rcursor *r);
uint32_t rc_u32(struct rcursor *r);
uint64_t rc_u64(struct rcursor *r);
void rc_bytes(struct rcursor *r, void *dst, size_t n);
/* Bytes not yet consumed. */
size_t rc_left(const struct rcursor *r);

#endif
