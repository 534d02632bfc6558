#include "delivery_count.h"

#include "clock.h"

void delivery_count_init(struct delivery_count *c)
{
	pthread_mutex_init(&c->lock, NULL);
	clock_cond_init_monotonic(&c->cond);
	c->count = 0;
}

void delivery_count_destroy(struct delivery_count *c)
{
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

uint64_t delivery_count_add(struct delivery_count *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t now = ++c->count;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return now;
}

int delivery_count_await(struct delivery_count *c, uint64_t target, unsigned timeout_ms)
{
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	while (c->count < target && rc == 0)
		rc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
	int reached = c->count >= target;
	pthread_mutex_unlock(&c->lock);
	return reached ? 0 : -1;
}

uint64_t delivery_count_get(struct delivery_count *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t now = c->count;
	pthread_mutex_unlock(&c->lock);
	return now;
}
