/* A count of deliveries that another thread can wait on: the deliver
 * callback (engine thread) adds, the application's thread awaits a target
 * with a bounded wait instead of polling. */
#ifndef GRP_DELIVERY_COUNT_H
#define GRP_DELIVERY_COUNT_H

#include <pthread.h>
#include <stdint.h>

struct delivery_count {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t count;
};

void delivery_count_init(struct delivery_count *c);
void delivery_count_destroy(struct delivery_count *c);
/* Adds one delivery and wakes waiters; returns the new count. */
uint64_t delivery_count_add(struct delivery_count *c);
/* Waits until the count reaches target; 0, or -1 after timeout_ms. */
int delivery_count_await(struct delivery_count *c, uint64_t target, unsigned timeout_ms);
uint64_t delivery_count_get(struct delivery_count *c);

#endif
