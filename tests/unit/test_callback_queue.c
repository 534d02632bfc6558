/* The queue of callbacks that dispatch mode hands to the application's
 * thread: first in, first out; a descriptor readable exactly while an event
 * waits; a bound in bytes that the engine asks about, and a wake-up of the
 * engine exactly when what it waits for (room, an idle queue) is there. A
 * producer and a consumer thread at full speed: no wake-up for nothing, none
 * missed, order kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "callback_queue.h"
#include "test_time.h"

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static struct event *persisted(uint64_t version)
{
	struct event now = { .kind = EVENT_PERSISTED, .version = version };
	struct event *ev = event_copy(&now);
	assert_non_null(ev);
	return ev;
}

static struct event *delivery(size_t len)
{
	static const uint8_t zeros[4096];
	assert_true(len <= sizeof zeros);
	grp_delivery msg = { .data = zeros, .len = len };
	struct event *ev = event_copy(&(struct event){ .kind = EVENT_DELIVERY, .msg = msg });
	assert_non_null(ev);
	return ev;
}

static void count_wake(void *arg)
{
	(*(int *)arg)++;
}

static void test_fd_readable_exactly_while_events_wait(void **state)
{
	(void)state;
	struct callback_queue q;
	assert_int_equal(callback_queue_init(&q, 1 << 20), 0);
	assert_false(readable(q.fd));
	assert_null(callback_queue_pop(&q));
	assert_false(readable(q.fd));
	callback_queue_push(&q, persisted(1));
	assert_true(readable(q.fd));
	callback_queue_push(&q, persisted(2));
	assert_true(readable(q.fd));
	struct event *ev = callback_queue_pop(&q);
	assert_int_equal(ev->version, 1);
	assert_true(readable(q.fd));
	callback_queue_done(&q, ev);
	ev = callback_queue_pop(&q);
	assert_int_equal(ev->version, 2);
	/* Taken, not yet run: it waits no more. */
	assert_false(readable(q.fd));
	callback_queue_done(&q, ev);
	assert_false(readable(q.fd));
	callback_queue_push(&q, persisted(3));
	assert_true(readable(q.fd));
	callback_queue_destroy(&q);
}

static void test_first_in_first_out(void **state)
{
	(void)state;
	struct callback_queue q;
	assert_int_equal(callback_queue_init(&q, 1 << 20), 0);
	uint64_t pushed = 0, popped = 0;
	for (unsigned round = 1; round < 50; round++) {
		for (unsigned i = 0; i < round % 7 + 1; i++)
			callback_queue_push(&q, persisted(++pushed));
		for (unsigned i = 0; i < round % 5 + 1; i++) {
			struct event *ev = callback_queue_pop(&q);
			if (!ev) {
				assert_int_equal(popped, pushed);
				break;
			}
			assert_int_equal(ev->version, ++popped);
			callback_queue_done(&q, ev);
		}
		assert_int_equal(callback_queue_waiting(&q), pushed - popped);
		assert_int_equal(readable(q.fd), pushed > popped);
	}
	/* What is left goes with the queue, unrun (ASan: no leak). */
	assert_true(pushed > popped);
	callback_queue_destroy(&q);
}

static void test_room_and_engine_woken_when_it_is_there(void **state)
{
	(void)state;
	struct callback_queue q;
	size_t one = event_delivery_bytes(1000);
	assert_int_equal(callback_queue_init(&q, 3 * one), 0);
	int wakes = 0;
	callback_queue_set_wake(&q, count_wake, &wakes);
	/* An idle queue takes anything, however large. */
	assert_true(callback_queue_has_room(&q, 100 * one));
	for (int i = 0; i < 3; i++) {
		assert_true(callback_queue_has_room(&q, one));
		callback_queue_push(&q, delivery(1000));
	}
	assert_false(callback_queue_has_room(&q, one));
	assert_false(callback_queue_has_room(&q, 2 * one));
	/* Running still counts: room comes when its callback returned. */
	struct event *a = callback_queue_pop(&q);
	assert_false(callback_queue_has_room(&q, one));
	callback_queue_done(&q, a);
	assert_int_equal(wakes, 0); /* the larger need, 2 events' worth, is not met */
	callback_queue_done(&q, callback_queue_pop(&q));
	assert_int_equal(wakes, 1);
	assert_true(callback_queue_has_room(&q, 2 * one));
	/* Nothing awaited: no wake-up. */
	callback_queue_done(&q, callback_queue_pop(&q));
	assert_int_equal(wakes, 1);
	callback_queue_destroy(&q);
}

static void test_idle_awaited_until_the_last_callback_returned(void **state)
{
	(void)state;
	struct callback_queue q;
	assert_int_equal(callback_queue_init(&q, 1 << 20), 0);
	int wakes = 0;
	callback_queue_set_wake(&q, count_wake, &wakes);
	assert_true(callback_queue_idle(&q));
	callback_queue_push(&q, persisted(1));
	callback_queue_push(&q, persisted(2));
	assert_false(callback_queue_idle(&q));
	struct event *a = callback_queue_pop(&q), *b = callback_queue_pop(&q);
	assert_false(callback_queue_idle(&q));
	callback_queue_done(&q, a);
	assert_int_equal(wakes, 0);
	callback_queue_done(&q, b);
	assert_int_equal(wakes, 1);
	assert_true(callback_queue_idle(&q));
	/* Detached (its links closing): never woken again. */
	callback_queue_push(&q, persisted(3));
	assert_false(callback_queue_idle(&q));
	callback_queue_set_wake(&q, NULL, NULL);
	callback_queue_done(&q, callback_queue_pop(&q));
	assert_int_equal(wakes, 1);
	callback_queue_destroy(&q);
}

#define STREAM 200000u

struct stream {
	struct callback_queue q;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool woken;          /* under lock */
	unsigned room_waits; /* producer only */
	bool lost;           /* producer only: a wake-up never came */
};

static void wake_producer(void *arg)
{
	struct stream *s = arg;
	pthread_mutex_lock(&s->lock);
	s->woken = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The engine's side: asks for room as the epoch does and, refused, sleeps
 * until woken, as the engine does until notified. */
static void *produce(void *arg)
{
	struct stream *s = arg;
	for (uint64_t v = 1; v <= STREAM && !s->lost; v++) {
		while (!s->lost && !callback_queue_has_room(&s->q, event_delivery_bytes(0))) {
			s->room_waits++;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += test_ms(10000) / 1000;
			pthread_mutex_lock(&s->lock);
			while (!s->woken && !s->lost)
				s->lost = pthread_cond_timedwait(&s->cond, &s->lock, &until) != 0;
			s->woken = false;
			pthread_mutex_unlock(&s->lock);
		}
		if (!s->lost)
			callback_queue_push(&s->q, persisted(v));
	}
	return NULL;
}

/* The application's side: poll, then take until empty. A poll that said
 * readable before a pop that found nothing is a spurious wake-up; a poll
 * that never returns, a lost one. */
static void test_producer_and_consumer_no_spurious_or_lost_wakeups(void **state)
{
	(void)state;
	struct stream s = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	/* Small, so that the producer meets a full queue now and then. */
	assert_int_equal(callback_queue_init(&s.q, 64 * event_delivery_bytes(0)), 0);
	callback_queue_set_wake(&s.q, wake_producer, &s);
	pthread_t producer;
	assert_int_equal(pthread_create(&producer, NULL, produce, &s), 0);
	uint64_t next = 1, wakeups = 0, spurious = 0;
	while (next <= STREAM) {
		struct pollfd p = { .fd = s.q.fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, (int)test_ms(10000)), 1);
		wakeups++;
		struct event *ev = callback_queue_pop(&s.q);
		spurious += ev == NULL;
		for (; ev; ev = callback_queue_pop(&s.q)) {
			assert_int_equal(ev->version, next);
			next++;
			callback_queue_done(&s.q, ev);
		}
	}
	pthread_join(producer, NULL);
	assert_false(s.lost);
	assert_true(s.room_waits > 0);
	assert_int_equal(spurious, 0);
	assert_false(readable(s.q.fd));
	assert_true(wakeups > 0 && wakeups <= STREAM);
	callback_queue_destroy(&s.q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_readable_exactly_while_events_wait),
		cmocka_unit_test(test_first_in_first_out),
		cmocka_unit_test(test_room_and_engine_woken_when_it_is_there),
		cmocka_unit_test(test_idle_awaited_until_the_last_callback_returned),
		cmocka_unit_test(test_producer_and_consumer_no_spurious_or_lost_wakeups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
