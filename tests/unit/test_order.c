/* Round-robin order arithmetic, checked against brute force over the set
 * of global sequences each sender's counts cover. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "order.h"

static void test_seq_round_trip(void **state)
{
	(void)state;
	for (unsigned S = 1; S <= 7; S++)
		for (uint64_t g = 0; g < 100; g++)
			assert_true(order_seq(order_index(g, S), order_sender(g, S), S) == g);
	assert_true(order_seq(3, 1, 4) == 13);
}

/* Whether sequence g is covered by the counts. */
static int covered(const uint64_t *received, unsigned S, uint64_t g)
{
	unsigned s = order_sender(g, S);
	return received[s] == ORDER_ALL || order_index(g, S) < received[s];
}

static uint64_t next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_contiguous_matches_brute_force(void **state)
{
	(void)state;
	uint64_t seed = 88172645463325252u;
	for (unsigned iter = 0; iter < 20000; iter++) {
		unsigned S = 1 + (unsigned)(next_random(&seed) % 6);
		uint64_t received[6];
		for (unsigned s = 0; s < S; s++)
			received[s] = next_random(&seed) % 9;
		uint64_t g = 0;
		while (covered(received, S, g))
			g++;
		assert_true(order_contiguous(received, S) == g);
	}
}

static void test_departed_sender_counts_as_all(void **state)
{
	(void)state;
	uint64_t received[3] = { 2, ORDER_ALL, 5 };
	/* Sender 0's third message (g = 6) is the first gap. */
	assert_true(order_contiguous(received, 3) == 6);
	uint64_t all[2] = { ORDER_ALL, ORDER_ALL };
	assert_true(order_contiguous(all, 2) == ORDER_ALL);
}

static void test_null_target_matches_brute_force(void **state)
{
	(void)state;
	uint64_t seed = 0x2545f4914f6cdd1du;
	for (unsigned iter = 0; iter < 20000; iter++) {
		unsigned S = 1 + (unsigned)(next_random(&seed) % 6);
		unsigned me = (unsigned)(next_random(&seed) % S);
		uint64_t received[6];
		uint64_t highest = 0;
		int any = 0;
		for (unsigned s = 0; s < S; s++) {
			received[s] = next_random(&seed) % 9;
			if (s != me && received[s] > 0) {
				uint64_t h = order_seq(received[s] - 1, s, S);
				highest = !any || h > highest ? h : highest;
				any = 1;
			}
		}
		/* Smallest count of ours covering every our-sequence below highest. */
		uint64_t want = 0;
		while (any && order_seq(want, me, S) < highest)
			want++;
		assert_true(order_null_target(received, S, me) == want);
	}
}

static void test_slot_reuse_waits_for_delivery(void **state)
{
	(void)state;
	/* S = 3, W = 4: sender 1's message 4 reuses the slot of message 0,
	 * global sequence 1, which must be delivered everywhere (count 2). */
	assert_true(order_slot_free(3, 1, 3, 4, 0));
	assert_false(order_slot_free(4, 1, 3, 4, 1));
	assert_true(order_slot_free(4, 1, 3, 4, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_round_trip),
		cmocka_unit_test(test_contiguous_matches_brute_force),
		cmocka_unit_test(test_departed_sender_counts_as_all),
		cmocka_unit_test(test_null_target_matches_brute_force),
		cmocka_unit_test(test_slot_reuse_waits_for_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
