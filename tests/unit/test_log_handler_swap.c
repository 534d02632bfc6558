/* grp_log_set_handler's promise: once it returns, no thread is inside the
 * previous handler and none calls it again. Threads log without pause
 * while the main thread swaps handlers; after each swap returns, the old
 * handler's count must never move again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <group/group.h>

#include "log.h"

#define LOGGERS 2
#define SWAPS 100

struct counter {
	atomic_ulong calls;
};

static atomic_bool stop;

static void count_line(int level, const char *module, const char *message, void *arg)
{
	(void)level;
	(void)module;
	(void)message;
	struct counter *c = arg;
	/* Stays a while before counting, so that swaps often find a line
	 * inside and a handler left late would show. */
	for (volatile int spin = 0; spin < 2000; spin++)
		;
	atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
}

static void *log_until_stopped(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		log_error("group", "a line");
	return NULL;
}

static unsigned long calls(struct counter *c)
{
	return atomic_load_explicit(&c->calls, memory_order_relaxed);
}

static void wait_for_a_call(struct counter *c)
{
	while (calls(c) == 0)
		sched_yield();
}

static void test_old_handler_never_called_after_swap(void **state)
{
	(void)state;
	static struct counter counters[SWAPS + 1];
	unsigned long at_swap[SWAPS];
	grp_log_set_handler(count_line, &counters[0]);
	pthread_t loggers[LOGGERS];
	for (int t = 0; t < LOGGERS; t++)
		assert_int_equal(pthread_create(&loggers[t], NULL, log_until_stopped, NULL), 0);
	for (int s = 0; s < SWAPS; s++) {
		wait_for_a_call(&counters[s]);
		grp_log_set_handler(count_line, &counters[s + 1]);
		at_swap[s] = calls(&counters[s]);
	}
	/* Give a late call into an old handler time to land. */
	unsigned long last = calls(&counters[SWAPS]);
	while (calls(&counters[SWAPS]) < last + 200)
		sched_yield();
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int t = 0; t < LOGGERS; t++)
		assert_int_equal(pthread_join(loggers[t], NULL), 0);
	grp_log_set_handler(NULL, NULL);
	for (int s = 0; s < SWAPS; s++) {
		if (calls(&counters[s]) != at_swap[s])
			fail_msg("handler %d called %lu times after its swap returned", s,
				 calls(&counters[s]) - at_swap[s]);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_handler_never_called_after_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
