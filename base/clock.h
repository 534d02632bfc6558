/* Monotonic time helpers shared by every layer. */
#ifndef GRP_CLOCK_H
#define GRP_CLOCK_H

#include <pthread.h>
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

/* CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait on a
 * condition variable set to that clock. */
static inline struct timespec clock_monotonic_in_ms(unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Sleeps ms milliseconds (polling loops that have nothing to wait on). */
static inline void clock_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC, so that a
 * bounded wait neither stretches nor shrinks when the wall clock jumps. */
static inline void clock_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

#endif
