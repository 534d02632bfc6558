/* Monotonic time helpers shared by every layer. */
#ifndef GRP_CLOCK_H
#define GRP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_deadline_ms(unsigned ms)
{
	return clock_now_ns() + (uint64_t)ms * 1000000u;
}

/* Milliseconds left until deadline, 0 once it has passed. */
static inline int clock_ms_left(uint64_t deadline)
{
	uint64_t now = clock_now_ns();
	if (now >= deadline)
		return 0;
	uint64_t left = (deadline - now + 999999u) / 1000000u;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

#endif
