/* FNV-1a 64, the hash the tests fold application states and payloads
 * into: fnv_mix(FNV_OFFSET, data, len) hashes one buffer, and further
 * calls fold more into the same state. */
#ifndef GRP_TEST_FNV_H
#define GRP_TEST_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 0xcbf29ce484222325u

static inline uint64_t fnv_mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

#endif
