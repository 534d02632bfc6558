/* RDMC raw multicast between member processes: a 100 MB message to four
 * members arrives intact; three members send messages of odd sizes at once;
 * a member killed while a message is in flight is a failure event for the
 * others and an error for the sender, never a hang. */
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <group/rdmc.h>

#include "cases.h"
#include "check.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "test_time.h"

/* Members wait WAIT_MS for messages, the parent FINISH_MS for members
 * (both scaled by test_ms). */
#define WAIT_MS 300000u
#define FINISH_MS (WAIT_MS + 30000u)

struct plan {
	size_t max_payload, block_size;
	unsigned messages;      /* per sender */
	unsigned senders;       /* ranks 0..senders-1 send */
	size_t fixed_len;       /* 0: lengths from payload_for */
	int victim;             /* rank killed mid-transfer, or -1 */
};

struct receiver {
	const struct plan *p;
	struct delivery_count good;
	atomic_uint bad;
	struct delivery_count failures; /* failure events, counted like deliveries */
	uint8_t *expect;
};

/* Message `seq` of `sender`: fixed-size patterned, or payload_for's. */
static size_t make_message(const struct plan *p, unsigned sender, uint64_t seq, uint8_t *buf)
{
	if (!p->fixed_len) {
		struct payload_sizes sizes = { p->max_payload, p->max_payload };
		return payload_for(sender, seq, &sizes, buf);
	}
	for (size_t i = 0; i < p->fixed_len; i++)
		buf[i] = (uint8_t)((i * 131u) ^ (i >> 13) ^ (sender * 7u) ^ seq);
	return p->fixed_len;
}

static void on_message(grp_rdmc *r, unsigned sender, uint64_t seq, const void *data, size_t len,
		       void *user)
{
	(void)r;
	struct receiver *rx = user;
	size_t want = make_message(rx->p, sender, seq, rx->expect);
	if (want != len || payload_hash(rx->expect, want) != payload_hash(data, len)) {
		fprintf(stderr, "message %llu of %u: %zu bytes, expected %zu, or wrong content\n",
			(unsigned long long)seq, sender, len, want);
		atomic_fetch_add(&rx->bad, 1);
	}
	delivery_count_add(&rx->good);
}

static void on_failure(grp_rdmc *r, unsigned member, int err, void *user)
{
	(void)r;
	(void)member;
	(void)err;
	delivery_count_add(&((struct receiver *)user)->failures);
}

static grp_rdmc *open_member(const struct local_member *m, struct receiver *rx)
{
	char max[32], block[32];
	snprintf(max, sizeof max, "%zu", rx->p->max_payload);
	snprintf(block, sizeof block, "%zu", rx->p->block_size);
	grp_config *cfg = local_member_config(m);
	grp_rdmc *r = NULL;
	grp_rdmc_callbacks cb = { .size = sizeof cb, .on_message = on_message, .on_failure = on_failure };
	if (cfg && !grp_config_set(cfg, "rdmc.max_payload", max) &&
	    !grp_config_set(cfg, "rdmc.block_size", block))
		grp_rdmc_open(cfg, &cb, rx, &r);
	grp_config_free(cfg);
	return r;
}

static int member(const struct local_member *m, void *arg)
{
	const struct plan *p = arg;
	struct receiver rx = { .p = p };
	delivery_count_init(&rx.good);
	delivery_count_init(&rx.failures);
	rx.expect = malloc(p->max_payload);
	uint8_t *out = malloc(p->max_payload);
	CHECK(rx.expect && out);
	grp_rdmc *r = open_member(m, &rx);
	CHECK(r);
	local_member_report(m, "ready");
	bool sends = m->rank < p->senders;
	int rc = 0;
	for (unsigned i = 1; sends && i <= p->messages && rc == 0; i++)
		rc = grp_rdmc_send(r, out, make_message(p, m->rank, i, out));
	if (p->victim >= 0) {
		/* The sender learns of the failure as GRP_EPEER (or had finished
		 * first); every survivor gets the failure event. */
		CHECK(rc == 0 || rc == GRP_EPEER);
		CHECK(delivery_count_await(&rx.failures, 1, test_ms(WAIT_MS)) == 0);
	} else {
		CHECK(rc == 0);
		uint64_t from_others = (uint64_t)(p->senders - (sends ? 1 : 0)) * p->messages;
		CHECK(delivery_count_await(&rx.good, from_others, test_ms(WAIT_MS)) == 0);
	}
	CHECK(atomic_load(&rx.bad) == 0);
	grp_rdmc_close(r);
	free(out);
	free(rx.expect);
	delivery_count_destroy(&rx.good);
	delivery_count_destroy(&rx.failures);
	return 0;
}

static void run(unsigned n, struct plan *p)
{
	struct local_group *lg = local_group_start(n, member, p);
	assert_non_null(lg);
	assert_int_equal(local_group_await_line(lg, "ready", test_ms(WAIT_MS)), 0);
	if (p->victim >= 0)
		local_group_kill(lg, (unsigned)p->victim, SIGKILL);
	int status[8];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	for (unsigned r = 0; r < n; r++) {
		if ((int)r == p->victim)
			assert_int_equal(status[r], 128 + SIGKILL);
		else
			assert_int_equal(status[r], 0);
	}
}

static void test_100mb_to_four_members(void **state)
{
	(void)state;
	struct plan p = { .max_payload = 100000000, .block_size = 1 << 20, .messages = 1,
			  .senders = 1, .fixed_len = 100000000, .victim = -1 };
	run(4, &p);
}

/* n = 3 exercises the circulant schedule; odd sizes leave short last blocks. */
static void test_three_senders_odd_sizes(void **state)
{
	(void)state;
	struct plan p = { .max_payload = 3 << 20, .block_size = 65536, .messages = 4,
			  .senders = 3, .victim = -1 };
	run(3, &p);
}

static void test_member_killed_mid_transfer(void **state)
{
	(void)state;
	struct plan p = { .max_payload = 100000000, .block_size = 1 << 20, .messages = 3,
			  .senders = 1, .fixed_len = 100000000, .victim = 3 };
	run(4, &p);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_100mb_to_four_members),
		cmocka_unit_test(test_three_senders_odd_sizes),
		cmocka_unit_test(test_member_killed_mid_transfer),
	};
	return RUN_CASES(argc, argv, tests);
}
