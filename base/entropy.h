/* Unpredictable bytes from the kernel (getrandom): nonces, connection
 * tokens and memory-region keys, which an outsider must not guess. */
#ifndef GRP_ENTROPY_H
#define GRP_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf; GRP_EIO if the kernel cannot (never short: getrandom blocks
 * only before the pool is first seeded, at boot). */
int entropy_fill(void *buf, size_t len);
/* A random 64-bit value, never 0 (0 means "none" on the wire), or 0 on
 * failure, which the caller treats as GRP_EIO. */
uint64_t entropy_u64(void);

#endif
