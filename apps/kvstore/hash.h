/* The hashes the store is built on: FNV-1a over bytes, and splitmix64's
 * finaliser, which spreads every input bit over every output bit. */
#ifndef KV_HASH_H
#define KV_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 0xcbf29ce484222325u

/* Continues FNV-1a hash h (FNV_OFFSET to start) over len bytes. */
uint64_t fnv1a(uint64_t h, const void *data, size_t len);

uint64_t mix64(uint64_t z);

#endif
