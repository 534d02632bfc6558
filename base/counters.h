/* One member's cumulative counters (grp_stats), kept across views and
 * rejoins: the API layer owns them, the links carry a pointer to them, and
 * each layer adds to those it owns. Relaxed atomics: each is a statistic,
 * read without ordering against anything else; several threads may add. */
#ifndef GRP_COUNTERS_H
#define GRP_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

enum counter_id {
	COUNTER_MSGS_SENT,
	COUNTER_BYTES_SENT,
	COUNTER_MSGS_DELIVERED,
	COUNTER_BYTES_DELIVERED,
	COUNTER_NULLS_SENT,
	COUNTER_RDMC_BLOCKS_SENT,
	COUNTER_RDMC_BLOCKS_RECEIVED,
	COUNTER_VIEWS_INSTALLED,
	COUNTER_SUSPICIONS,
	COUNTER_ENGINE_SLEEPS,
	COUNTER_ENGINE_WAKEUPS,
	COUNTER_SEND_WINDOW_WAITS,
	COUNTER_COUNT
};

/* 64 bytes apart, so no two share a cache line: the engine and the senders
 * add to different ones at every message, and must not take each other's
 * lines away. (Padding, not _Alignas: the structs holding these come from
 * malloc, which does not align to 64.) */
struct counters {
	struct {
		_Atomic uint64_t v;
		char pad[64 - sizeof(uint64_t)];
	} c[COUNTER_COUNT];
};

/* c may be NULL (a table or relay opened alone counts nothing). */
static inline void counter_add(struct counters *c, enum counter_id id, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->c[id].v, n, memory_order_relaxed);
}

static inline uint64_t counter_get(const struct counters *c, enum counter_id id)
{
	return atomic_load_explicit(&((struct counters *)c)->c[id].v, memory_order_relaxed);
}

#endif
