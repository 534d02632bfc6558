/* RDMC schedules, checked by simulating every rank step by step: transfers
 * pair up, nobody sends a block it does not hold yet, every non-root rank
 * ends with every block exactly once, and the step count is the stated
 * formula. Plus a few step tables worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "schedule.h"

static const char *kind_name(enum rdmc_schedule_kind kind)
{
	const char *name = rdmc_schedule_name(kind);
	return name ? name : "?";
}

static uint32_t ceil_log2(uint32_t n)
{
	uint32_t l = 0;
	while ((UINT32_C(1) << l) < n)
		l++;
	return l;
}

/* The counts the header promises, computed independently. */
static uint32_t expected_steps(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k)
{
	if (n == 1)
		return 0;
	switch (kind) {
	case RDMC_SCHEDULE_BINOMIAL:
		return k + ceil_log2(n) - 1;
	case RDMC_SCHEDULE_CHAIN:
		return k + n - 2;
	case RDMC_SCHEDULE_SEQUENTIAL:
		return (n - 1) * k;
	}
	return 0;
}

struct sim {
	enum rdmc_schedule_kind kind;
	uint32_t n, k;
	struct rdmc_step *plan;	/* this step, per rank */
	uint32_t *got;		/* [rank * k + block]: step received + 1, or 0 */
};

#define CHECK(s, ok, step, rank, ...)						\
	do {									\
		if (!(ok))							\
			fail_msg("%s n=%u k=%u step=%u rank=%u: %s",		\
				 kind_name((s)->kind), (s)->n, (s)->k,		\
				 (unsigned)(step), (unsigned)(rank), __VA_ARGS__); \
	} while (0)

static int peer_ok(const struct sim *s, int peer, uint32_t self)
{
	return peer >= 0 && (uint32_t)peer < s->n && (uint32_t)peer != self;
}

static void check_step(struct sim *s, uint32_t t)
{
	for (uint32_t r = 0; r < s->n; r++)
		rdmc_schedule_step(s->kind, s->n, s->k, r, t, &s->plan[r]);

	for (uint32_t r = 0; r < s->n; r++) {
		const struct rdmc_transfer *send = &s->plan[r].send;
		const struct rdmc_transfer *recv = &s->plan[r].recv;

		if (send->peer != -1) {
			CHECK(s, peer_ok(s, send->peer, r), t, r, "send peer out of range or self");
			CHECK(s, send->block < s->k, t, r, "send block out of range");
			CHECK(s, r == 0 || s->got[r * s->k + send->block] != 0, t, r,
			      "sends a block it does not hold yet");
			const struct rdmc_transfer *back = &s->plan[send->peer].recv;
			CHECK(s, back->peer == (int)r && back->block == send->block, t, r,
			      "send without the matching receive");
		}
		if (recv->peer != -1) {
			CHECK(s, r != 0, t, r, "the root receives");
			CHECK(s, peer_ok(s, recv->peer, r), t, r, "receive peer out of range or self");
			CHECK(s, recv->block < s->k, t, r, "receive block out of range");
			const struct rdmc_transfer *there = &s->plan[recv->peer].send;
			CHECK(s, there->peer == (int)r && there->block == recv->block, t, r,
			      "receive without the matching send");
		}
	}

	/* Only now: a block received in step t can be sent from t+1 on. */
	for (uint32_t r = 0; r < s->n; r++) {
		const struct rdmc_transfer *recv = &s->plan[r].recv;
		if (recv->peer == -1)
			continue;
		uint32_t *got = &s->got[r * s->k + recv->block];
		CHECK(s, *got == 0, t, r, "receives a block a second time");
		*got = t + 1;
	}
}

static void simulate(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k)
{
	struct sim s = { .kind = kind, .n = n, .k = k };
	uint32_t steps = rdmc_schedule_steps(kind, n, k);

	CHECK(&s, steps == expected_steps(kind, n, k), steps, 0, "step count is not the formula");
	s.plan = malloc(n * sizeof(*s.plan));
	s.got = calloc((size_t)n * k, sizeof(*s.got));
	assert_non_null(s.plan);
	assert_non_null(s.got);

	for (uint32_t t = 0; t < steps; t++)
		check_step(&s, t);
	for (uint32_t r = 1; r < n; r++)
		for (uint32_t b = 0; b < k; b++)
			CHECK(&s, s.got[r * k + b] != 0, steps, r, "a block never arrives");

	/* Past the end, and for ranks outside the group, nothing happens. */
	struct rdmc_step out;
	for (uint32_t r = 0; r <= n; r++) {
		rdmc_schedule_step(kind, n, k, r, r < n ? steps : 0, &out);
		CHECK(&s, out.send.peer == -1 && out.recv.peer == -1, steps, r,
		      "a transfer outside the schedule");
	}
	free(s.plan);
	free(s.got);
}

/* Every n up to 1024: every n mod 2^l and every phase length up to 10.
 * The cost is steps * n calls, so the larger n get two block counts: 1,
 * and 8..15 by n, so that the circulant's shift (k-1) mod q varies. The
 * smaller n and the ends of each power-of-two range get more, up to 64. */
static void test_binomial_every_n(void **state)
{
	(void)state;
	static const uint32_t more[] = { 2, 3, 7, 64 };
	for (uint32_t n = 1; n <= 1024; n++) {
		simulate(RDMC_SCHEDULE_BINOMIAL, n, 1);
		simulate(RDMC_SCHEDULE_BINOMIAL, n, 8 + n % 8);
		if (n > 128 && (n & (n - 1)) != 0 && ((n + 1) & n) != 0 &&
		    ((n - 1) & (n - 2)) != 0)
			continue;
		for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
			simulate(RDMC_SCHEDULE_BINOMIAL, n, more[i]);
	}
}

/* The circulant schedule shifts its rounds by (k-1) mod q: try every
 * shift, including the k < q cases where the last block starts in the
 * first phase, and a long steady state. */
static void test_binomial_every_shift(void **state)
{
	(void)state;
	static const uint32_t ns[] = { 3, 5, 6, 7, 11, 12, 13, 17, 24, 31, 33, 100, 127, 129,
				       255, 257, 600, 1000, 1025, 2047, 3000 };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint32_t q = ceil_log2(ns[i]);
		for (uint32_t k = 1; k <= q + 1; k++)
			simulate(RDMC_SCHEDULE_BINOMIAL, ns[i], k);
		simulate(RDMC_SCHEDULE_BINOMIAL, ns[i], 5 * q + 3);
	}
}

static void test_chain_and_sequential(void **state)
{
	(void)state;
	static const uint32_t ks[] = { 1, 2, 3, 7, 64 };
	for (uint32_t n = 1; n <= 64; n++) {
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			simulate(RDMC_SCHEDULE_CHAIN, n, ks[i]);
			simulate(RDMC_SCHEDULE_SEQUENTIAL, n, ks[i]);
		}
	}
	/* steps * n grows as n^2 here: few block counts. */
	static const uint32_t big[] = { 1000, 1024, 4096 };
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		simulate(RDMC_SCHEDULE_CHAIN, big[i], 1);
		simulate(RDMC_SCHEDULE_CHAIN, big[i], 3);
		simulate(RDMC_SCHEDULE_SEQUENTIAL, big[i], big[i] < 4096 ? 2 : 1);
	}
}

/* One transfer of a hand-made table. */
struct xfer {
	uint32_t step, from, to, block;
};

static void check_table(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k,
			const struct xfer *table, size_t len, uint32_t steps)
{
	assert_int_equal(rdmc_schedule_steps(kind, n, k), steps);
	for (uint32_t t = 0; t < steps; t++) {
		for (uint32_t r = 0; r < n; r++) {
			struct rdmc_step want = { { -1, 0 }, { -1, 0 } }, got;
			for (size_t i = 0; i < len; i++) {
				if (table[i].step != t)
					continue;
				if (table[i].from == r)
					want.send = (struct rdmc_transfer){ (int)table[i].to, table[i].block };
				if (table[i].to == r)
					want.recv = (struct rdmc_transfer){ (int)table[i].from, table[i].block };
			}
			rdmc_schedule_step(kind, n, k, r, t, &got);
			if (got.send.peer != want.send.peer || got.send.block != want.send.block ||
			    got.recv.peer != want.recv.peer || got.recv.block != want.recv.block)
				fail_msg("%s n=%u k=%u step=%u rank=%u: send %d/%u recv %d/%u, want "
					 "send %d/%u recv %d/%u", kind_name(kind), n, k, t, r,
					 got.send.peer, got.send.block, got.recv.peer, got.recv.block,
					 want.send.peer, want.send.block, want.recv.peer, want.recv.block);
		}
	}
}

/* The hypercube: dimension 0 at even steps (0-1, 2-3), dimension 1 at odd
 * ones (0-2, 1-3). Block 0 goes 0->1 along dimension 0, 1->3 along 1, and
 * 3->2 closes dimension 0 again; block 1 starts along dimension 1. From
 * step 3 on the root has no new block and resends block 2. */
static void test_binomial_n4_k3_by_hand(void **state)
{
	(void)state;
	static const struct xfer table[] = {
		{ 0, 0, 1, 0 },
		{ 1, 0, 2, 1 }, { 1, 1, 3, 0 },
		{ 2, 0, 1, 2 }, { 2, 2, 3, 1 }, { 2, 3, 2, 0 },
		{ 3, 0, 2, 2 }, { 3, 1, 3, 2 }, { 3, 3, 1, 1 },
	};
	check_table(RDMC_SCHEDULE_BINOMIAL, 4, 3, table, sizeof(table) / sizeof(table[0]), 4);
}

/* The circulant for n = 3: q = 2, skips 1 and 2; rank 1's base block is
 * phase block 0, rank 2's is 1, each gets the other residue from the
 * previous phase. k = 2 shifts the rounds by one, so step t uses skip
 * s_((t+1) mod 2) and the last block is block 0 of the phase starting at
 * step 1. 3 = k + ceil(log2 3) - 1 steps. */
static void test_binomial_n3_k2_by_hand(void **state)
{
	(void)state;
	static const struct xfer table[] = {
		{ 0, 0, 2, 0 },
		{ 1, 0, 1, 1 },
		{ 2, 0, 2, 1 }, { 2, 2, 1, 0 },
	};
	check_table(RDMC_SCHEDULE_BINOMIAL, 3, 2, table, sizeof(table) / sizeof(table[0]), 3);
}

static void test_chain_and_sequential_by_hand(void **state)
{
	(void)state;
	static const struct xfer chain[] = {
		{ 0, 0, 1, 0 },
		{ 1, 0, 1, 1 }, { 1, 1, 2, 0 },
		{ 2, 1, 2, 1 },
	};
	check_table(RDMC_SCHEDULE_CHAIN, 3, 2, chain, sizeof(chain) / sizeof(chain[0]), 3);
	static const struct xfer sequential[] = {
		{ 0, 0, 1, 0 }, { 1, 0, 1, 1 }, { 2, 0, 2, 0 }, { 3, 0, 2, 1 },
	};
	check_table(RDMC_SCHEDULE_SEQUENTIAL, 3, 2, sequential,
		    sizeof(sequential) / sizeof(sequential[0]), 4);
}

static void test_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, 0, 4), 0);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, 8, 0), 0);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_CHAIN, RDMC_SCHEDULE_MAX_N + 1, 1), 0);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, 1, 5), 0);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, RDMC_SCHEDULE_MAX_N, 1), 16);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, 65535, 65535), 65535 + 15);
	/* (n-1)*k must fit 32 bits. */
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_SEQUENTIAL, 65536, 65536),
			 65535u * 65536u);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_SEQUENTIAL, 65536, 65538), 0);
	assert_int_equal(rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, 3, UINT32_MAX), 0);
	assert_int_equal(rdmc_schedule_steps((enum rdmc_schedule_kind)7, 3, 1), 0);

	struct rdmc_step out;
	rdmc_schedule_step(RDMC_SCHEDULE_BINOMIAL, 0, 1, 0, 0, &out);
	assert_int_equal(out.send.peer, -1);
	assert_int_equal(out.recv.peer, -1);
	rdmc_schedule_step(RDMC_SCHEDULE_CHAIN, 4, 0, 0, 0, &out);
	assert_int_equal(out.send.peer, -1);
	assert_int_equal(out.recv.peer, -1);
}

/* The largest group: a few ranks of the k + 16 - 1 steps, checked for
 * pairing only (the simulation above covers the rest at smaller n). */
static void test_binomial_largest_pairs(void **state)
{
	(void)state;
	static const uint32_t ns[] = { RDMC_SCHEDULE_MAX_N, RDMC_SCHEDULE_MAX_N - 1, 40000 };
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint32_t n = ns[i], k = 5;
		uint32_t steps = rdmc_schedule_steps(RDMC_SCHEDULE_BINOMIAL, n, k);
		assert_int_equal(steps, k + 15);
		for (uint32_t t = 0; t < steps; t++) {
			for (uint32_t r = 0; r < n; r += 997) {
				struct rdmc_step me, peer;
				rdmc_schedule_step(RDMC_SCHEDULE_BINOMIAL, n, k, r, t, &me);
				if (me.send.peer != -1) {
					rdmc_schedule_step(RDMC_SCHEDULE_BINOMIAL, n, k,
							   (uint32_t)me.send.peer, t, &peer);
					assert_int_equal(peer.recv.peer, r);
					assert_int_equal(peer.recv.block, me.send.block);
				}
				if (me.recv.peer != -1) {
					rdmc_schedule_step(RDMC_SCHEDULE_BINOMIAL, n, k,
							   (uint32_t)me.recv.peer, t, &peer);
					assert_int_equal(peer.send.peer, r);
					assert_int_equal(peer.send.block, me.recv.block);
				}
			}
		}
	}
}

static void test_parse(void **state)
{
	(void)state;
	static const enum rdmc_schedule_kind kinds[] = {
		RDMC_SCHEDULE_BINOMIAL, RDMC_SCHEDULE_CHAIN, RDMC_SCHEDULE_SEQUENTIAL,
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		enum rdmc_schedule_kind kind = RDMC_SCHEDULE_SEQUENTIAL;
		assert_int_equal(rdmc_schedule_parse(rdmc_schedule_name(kinds[i]), &kind), 0);
		assert_int_equal(kind, kinds[i]);
	}
	enum rdmc_schedule_kind kind = RDMC_SCHEDULE_CHAIN;
	assert_int_equal(rdmc_schedule_parse("tree", &kind), -1);
	assert_int_equal(rdmc_schedule_parse("Binomial", &kind), -1);
	assert_int_equal(rdmc_schedule_parse("", &kind), -1);
	assert_int_equal(rdmc_schedule_parse(NULL, &kind), -1);
	assert_int_equal(kind, RDMC_SCHEDULE_CHAIN);
	assert_null(rdmc_schedule_name((enum rdmc_schedule_kind)3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binomial_n4_k3_by_hand),
		cmocka_unit_test(test_binomial_n3_k2_by_hand),
		cmocka_unit_test(test_chain_and_sequential_by_hand),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_binomial_every_n),
		cmocka_unit_test(test_binomial_every_shift),
		cmocka_unit_test(test_chain_and_sequential),
		cmocka_unit_test(test_binomial_largest_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
