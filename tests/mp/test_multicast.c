/* Ordered multicast: groups of 2..5 members with all, half or one sender,
 * messages of random size in [0, max_smc_payload], and mixed streams where
 * one message in four may be large enough to travel by RDMC; every member
 * logs its deliveries and the checker verifies total order, FIFO,
 * completeness and payloads. Plus bad input on a single-member group,
 * a departure by grp_free (view changes: test_viewchange.c). */
#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <group/group.h>

#include "cases.h"
#include "check.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "test_time.h"
#include "view_track.h"

#define MESSAGES 2000u
#define PAYLOAD 10240u
/* Members wait WAIT_MS for deliveries, the parent FINISH_MS for members,
 * which also join and leave (both scaled by test_ms). */
#define WAIT_MS 120000u
#define FINISH_MS (WAIT_MS + 60000u)

/* Mixed streams: slots of MIXED_SMC bytes, RDMC up to MIXED_MAX in
 * MIXED_BLOCK blocks (16 of them at most, so the pipeline has depth). */
#define MIXED_MESSAGES 400u
#define MIXED_SMC 4096u
#define MIXED_MAX (256u * 1024u)
#define MIXED_BLOCK (16u * 1024u)

enum pattern { ALL, HALF, ONE };

struct run {
	enum pattern pattern;
	unsigned n;
	bool mixed;
	unsigned messages; /* per sender */
	struct payload_sizes sizes;
	char dir[256];
	unsigned char is_sender[8];
};

struct member_state {
	FILE *log;
	struct delivery_count delivered;
	uint64_t expected;
	struct view_track views;
};

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct member_state *st = user;
	delivery_log_write(st->log, m);
	delivery_count_add(&st->delivered);
}

/* Members that finished leave: the others see views without them. */
static void on_view(grp_t *g, const grp_view *v, void *user)
{
	struct member_state *st = user;
	view_track_add(&st->views, v);
	if (v->my_rank != grp_rank(g))
		snprintf(st->views.problem, sizeof st->views.problem, "grp_rank is not my_rank");
}

static void senders_text(const struct run *r, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < r->n; i++)
		if (r->is_sender[i])
			off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? "," : "", i);
}

static int send_all(grp_t *g, unsigned rank, const struct run *r)
{
	uint8_t *buf = malloc(r->sizes.max_len);
	int rc = buf ? 0 : GRP_ENOMEM;
	for (uint64_t k = 0; k < r->messages && !rc; k++) {
		size_t len = payload_for(rank, k, &r->sizes, buf);
		rc = grp_send(g, buf, len);
		if (rc)
			fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", rank, k, grp_strerror(rc));
	}
	free(buf);
	return rc ? 20 : 0;
}

/* The keys of a mixed run, as text for grp_config_set. */
static int configure_mixed(grp_config *cfg)
{
	char smc[16], max[16], block[16];
	snprintf(smc, sizeof smc, "%u", MIXED_SMC);
	snprintf(max, sizeof max, "%u", MIXED_MAX);
	snprintf(block, sizeof block, "%u", MIXED_BLOCK);
	return grp_config_set(cfg, "multicast.max_smc_payload", smc) ||
	       grp_config_set(cfg, "rdmc.max_payload", max) ||
	       grp_config_set(cfg, "rdmc.block_size", block);
}

static int member(const struct local_member *m, void *arg)
{
	const struct run *r = arg;
	char path[300], senders[64];
	snprintf(path, sizeof path, "%s/member-%u.log", r->dir, m->rank);
	senders_text(r, senders, sizeof senders);
	unsigned n_senders = 0;
	for (unsigned i = 0; i < r->n; i++)
		n_senders += r->is_sender[i];
	struct member_state st = { .expected = (uint64_t)n_senders * r->messages };
	delivery_count_init(&st.delivered);
	st.log = fopen(path, "w");
	grp_config *cfg = local_member_config(m);
	if (!st.log || !cfg || grp_config_set(cfg, "multicast.senders", senders) ||
	    (r->mixed && configure_mixed(cfg)))
		return 10;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	grp_t *g;
	int rc = grp_join(cfg, &cb, &st, &g);
	grp_config_free(cfg);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 11;
	}
	if (r->mixed && grp_max_msg_size(g) != MIXED_MAX) {
		fprintf(stderr, "member %u: largest message %zu\n", m->rank, grp_max_msg_size(g));
		rc = 15;
	}
	if (!rc && r->is_sender[m->rank])
		rc = send_all(g, m->rank, r);
	if (!rc && delivery_count_await(&st.delivered, st.expected, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: delivered %" PRIu64 " of %" PRIu64 "\n", m->rank,
			delivery_count_get(&st.delivered), st.expected);
		rc = 12;
	}
	int leave = grp_leave(g);
	grp_free(g);
	fclose(st.log);
	delivery_count_destroy(&st.delivered);
	if (!rc && leave)
		rc = 13;
	if (!rc && st.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, st.views.problem);
		rc = 14;
	}
	return rc;
}

static void run_pattern(unsigned n, enum pattern pattern, bool mixed)
{
	struct run r = {
		.pattern = pattern, .n = n, .mixed = mixed,
		/* Fewer under GROUP_TEST_LOAD_SCALE; the members and the checker
		 * take this one count. */
		.messages = test_load(mixed ? MIXED_MESSAGES : MESSAGES),
		.sizes = mixed ? (struct payload_sizes){ MIXED_SMC, MIXED_MAX }
			       : (struct payload_sizes){ PAYLOAD, PAYLOAD },
	};
	snprintf(r.dir, sizeof r.dir, "/tmp/grp-multicast-XXXXXX");
	assert_non_null(mkdtemp(r.dir));
	unsigned count = pattern == ALL ? n : pattern == HALF ? (n + 1) / 2 : 1;
	/* "one" is the last member, so that every lower rank fills with nulls. */
	for (unsigned i = 0; i < count; i++)
		r.is_sender[pattern == ONE ? n - 1 : i] = 1;
	run_members(n, member, &r, FINISH_MS);
	char err[512];
	int rc = delivery_log_check(r.dir, n, r.is_sender, r.messages, &r.sizes, err, sizeof err);
	if (rc)
		fprintf(stderr, "%u members, pattern %d%s: %s (logs kept in %s)\n", n, pattern,
			mixed ? " mixed" : "", err, r.dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", r.dir);
	assert_int_equal(system(cmd), 0);
}

#define PATTERN_TEST(n, p) \
	static void test_##n##_members_##p(void **state) \
	{ \
		(void)state; \
		run_pattern(n, p, false); \
	}
PATTERN_TEST(2, ALL) PATTERN_TEST(2, HALF) PATTERN_TEST(2, ONE)
PATTERN_TEST(3, ALL) PATTERN_TEST(3, HALF) PATTERN_TEST(3, ONE)
PATTERN_TEST(4, ALL) PATTERN_TEST(4, HALF) PATTERN_TEST(4, ONE)
PATTERN_TEST(5, ALL) PATTERN_TEST(5, HALF) PATTERN_TEST(5, ONE)

#define MIXED_TEST(n, p) \
	static void test_##n##_members_##p##_mixed(void **state) \
	{ \
		(void)state; \
		run_pattern(n, p, true); \
	}
MIXED_TEST(2, ONE) MIXED_TEST(3, ALL) MIXED_TEST(4, HALF) MIXED_TEST(5, ALL)

/* The single-member checks run in a member process too: the test process
 * itself never opens a fabric, since forking after a verbs device is open
 * is unsupported. */
static void count_delivery(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	(void)m;
	(*(int *)user)++;
}

static void on_count(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	(void)m;
	delivery_count_add(user);
}

static const grp_callbacks counting = { .size = sizeof counting, .deliver = count_delivery };

/* Joins a fresh single-member group that counts its deliveries, with
 * slots of PAYLOAD bytes and RDMC up to rdmc_max bytes (1: none). */
static grp_t *join_singleton(int *delivered, const char *rdmc_max)
{
	grp_config *cfg = local_singleton_config();
	grp_t *g = NULL;
	if (!cfg || grp_config_set(cfg, "multicast.max_smc_payload", "10240") ||
	    grp_config_set(cfg, "rdmc.max_payload", rdmc_max) ||
	    grp_config_set(cfg, "rdmc.block_size", "4096") ||
	    grp_join(cfg, &counting, delivered, &g) != 0)
		g = NULL;
	grp_config_free(cfg);
	return g;
}

static int bad_input_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	int delivered = 0;
	grp_t *g = join_singleton(&delivered, "1");
	CHECK(g);
	CHECK(grp_max_msg_size(g) == PAYLOAD);
	static uint8_t big[PAYLOAD + 1];
	CHECK(grp_send(g, big, sizeof big) == GRP_EMSGSIZE);
	CHECK(grp_send(g, NULL, 5) == GRP_EINVAL);
	void *slot;
	CHECK(grp_send_reserve(g, 8, &slot) == 0);
	CHECK(grp_send(g, big, 1) == GRP_EBUSY);
	CHECK(grp_send_commit(g, big) == GRP_EINVAL);
	memcpy(slot, "reserved", 8);
	CHECK(grp_send_commit(g, slot) == 0);
	CHECK(grp_leave(g) == 0);
	CHECK(grp_send(g, big, 1) == GRP_ECLOSED);
	CHECK(grp_leave(g) == GRP_ECLOSED);
	grp_free(g);

	/* Each join takes its listening socket, whatever the outcome. */
	grp_callbacks no_deliver = { .size = sizeof no_deliver };
	grp_config *cfg;
	CHECK((cfg = local_singleton_config()));
	CHECK(grp_join(cfg, &no_deliver, NULL, &g) == GRP_EINVAL);
	grp_config_free(cfg);
	CHECK((cfg = local_singleton_config()));
	CHECK(grp_config_set(cfg, "multicast.senders", "3") == 0);
	CHECK(grp_join(cfg, &counting, NULL, &g) == GRP_ECONFIG);
	grp_config_free(cfg);
	CHECK((cfg = local_singleton_config()));
	CHECK(grp_config_set(cfg, "multicast.senders", "0,0") == 0);
	CHECK(grp_join(cfg, &counting, NULL, &g) == GRP_ECONFIG);
	CHECK(grp_config_set(cfg, "multicast.window", "0") == GRP_ECONFIG);
	CHECK(grp_config_set(cfg, "multicast.max_smc_payload", "-1") == GRP_ECONFIG);
	grp_config_free(cfg);
	CHECK((cfg = local_singleton_config()));
	CHECK(grp_config_set(cfg, "rdmc.max_payload", "4294967296") == 0);
	CHECK(grp_join(cfg, &counting, NULL, &g) == GRP_ECONFIG);
	grp_config_free(cfg);
	return 0;
}

/* A single member with RDMC: large messages, copied and zero-copy, are
 * delivered in order among small ones; one byte above the largest is
 * refused. rdmc.max_payload 100000 in 4096-byte blocks holds 102400. */
#define SINGLETON_LARGE 102400u

static void check_singleton_delivery(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	int *seen = user;
	size_t want = (*seen % 2) ? SINGLETON_LARGE - (size_t)*seen : (size_t)*seen;
	const uint8_t *b = m->data;
	bool ok = m->len == want && m->index == (uint64_t)*seen;
	for (size_t i = 0; ok && i < m->len; i++)
		ok = b[i] == (uint8_t)(i + (size_t)*seen);
	*seen = ok ? *seen + 1 : -1000000;
}

static int singleton_large_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	grp_config *cfg = local_singleton_config();
	CHECK(cfg);
	CHECK(grp_config_set(cfg, "rdmc.max_payload", "100000") == 0);
	CHECK(grp_config_set(cfg, "rdmc.block_size", "4096") == 0);
	grp_callbacks cb = { .size = sizeof cb, .deliver = check_singleton_delivery };
	int seen = 0;
	grp_t *g;
	CHECK(grp_join(cfg, &cb, &seen, &g) == 0);
	grp_config_free(cfg);
	CHECK(grp_max_msg_size(g) == SINGLETON_LARGE);
	static uint8_t buf[SINGLETON_LARGE + 1];
	CHECK(grp_send(g, buf, sizeof buf) == GRP_EMSGSIZE);
	for (int i = 0; i < 40; i++) {
		size_t len = (i % 2) ? SINGLETON_LARGE - (size_t)i : (size_t)i;
		uint8_t *dst = buf;
		void *slot = NULL;
		if (i % 4 == 3) {
			CHECK(grp_send_reserve(g, len, &slot) == 0);
			dst = slot;
		}
		for (size_t b = 0; b < len; b++)
			dst[b] = (uint8_t)(b + (size_t)i);
		CHECK(slot ? grp_send_commit(g, slot) == 0 : grp_send(g, buf, len) == 0);
	}
	CHECK(grp_leave(g) == 0);
	grp_free(g);
	CHECK(seen == 40);
	return 0;
}

/* A single member delivers its own messages, in order, at once. */
static int singleton_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	int delivered = 0;
	grp_t *g = join_singleton(&delivered, "1");
	CHECK(g);
	for (int i = 0; i < 100; i++)
		CHECK(grp_send(g, &i, sizeof i) == 0);
	CHECK(grp_leave(g) == 0);
	grp_free(g);
	CHECK(delivered == 100);
	return 0;
}

#define DEPARTURE_ROUND 200u

static int send_round(grp_t *g)
{
	for (unsigned i = 0; i < DEPARTURE_ROUND; i++)
		CHECK(grp_send(g, &i, sizeof i) == 0);
	return 0;
}

/* Joins, sends a round and waits until every member's round is delivered.
 * NULL if any of it fails (the reason is on stderr). */
static grp_t *join_after_first_round(const struct local_member *m, struct delivery_count *delivered)
{
	grp_config *cfg = local_member_config(m);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_count };
	grp_t *g = NULL;
	if (!cfg || grp_config_set(cfg, "multicast.send_timeout_ms", "0") ||
	    grp_join(cfg, &cb, delivered, &g) != 0) {
		fprintf(stderr, "member %u: cannot join\n", m->rank);
		grp_config_free(cfg);
		return NULL;
	}
	grp_config_free(cfg);
	if (send_round(g) != 0 ||
	    delivery_count_await(delivered, 3 * DEPARTURE_ROUND, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: first round not delivered\n", m->rank);
		grp_free(g);
		return NULL;
	}
	return g;
}

/* After member 2 left: a second round of small messages, delivered in
 * order without it. */
static int go_on_small(grp_t *g, struct delivery_count *delivered)
{
	CHECK(send_round(g) == 0);
	CHECK(delivery_count_await(delivered, 5 * DEPARTURE_ROUND, test_ms(WAIT_MS)) == 0);
	CHECK(grp_leave(g) == 0);
	CHECK(delivery_count_get(delivered) == 5 * DEPARTURE_ROUND);
	return 0;
}

/* Member 2 goes with grp_free alone after a first round; the others take
 * that for a departure, not a failure, and go on in order without it. */
static int departure_member(const struct local_member *m, void *arg)
{
	(void)arg;
	struct delivery_count delivered;
	delivery_count_init(&delivered);
	grp_t *g = join_after_first_round(m, &delivered);
	CHECK(g);
	int rc = 0;
	if (m->rank != 2)
		rc = go_on_small(g, &delivered);
	grp_free(g);
	delivery_count_destroy(&delivered);
	return rc;
}

static void test_free_without_leave_is_a_departure(void **state)
{
	(void)state;
	run_members(3, departure_member, NULL, FINISH_MS);
}

/* One 100 MB message by ordered multicast from member 3 to the other three,
 * between two small ones: it arrives intact (content hash) and in its
 * place. */
#define HUNDRED_MB 100000000u

static void fill_pattern(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131u) ^ (i >> 13));
}

struct big_receiver {
	struct delivery_count delivered;
	uint64_t want_hash;
	int wrong;
};

static void check_big_delivery(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct big_receiver *rx = user;
	uint64_t i = delivery_count_get(&rx->delivered);
	bool ok = m->sender == 3 && m->index == i;
	if (i == 1)
		ok = ok && m->len == HUNDRED_MB && payload_hash(m->data, m->len) == rx->want_hash;
	else
		ok = ok && m->len == 1 && *(const uint8_t *)m->data == (i == 0 ? 'a' : 'b');
	rx->wrong += !ok;
	delivery_count_add(&rx->delivered);
}

static int big_member(const struct local_member *m, void *arg)
{
	(void)arg;
	uint8_t *big = malloc(HUNDRED_MB);
	CHECK(big);
	fill_pattern(big, HUNDRED_MB);
	struct big_receiver rx = { .want_hash = payload_hash(big, HUNDRED_MB) };
	delivery_count_init(&rx.delivered);
	grp_config *cfg = local_member_config(m);
	CHECK(cfg);
	CHECK(grp_config_set(cfg, "multicast.senders", "3") == 0);
	CHECK(grp_config_set(cfg, "rdmc.max_payload", "100000000") == 0);
	grp_callbacks cb = { .size = sizeof cb, .deliver = check_big_delivery };
	grp_t *g;
	CHECK(grp_join(cfg, &cb, &rx, &g) == 0);
	grp_config_free(cfg);
	if (m->rank == 3) {
		CHECK(grp_send(g, "a", 1) == 0);
		CHECK(grp_send(g, big, HUNDRED_MB) == 0);
		CHECK(grp_send(g, "b", 1) == 0);
	}
	free(big);
	CHECK(delivery_count_await(&rx.delivered, 3, test_ms(WAIT_MS)) == 0);
	CHECK(grp_leave(g) == 0);
	grp_free(g);
	CHECK(rx.wrong == 0);
	delivery_count_destroy(&rx.delivered);
	return 0;
}

static void test_100MB_ordered_to_4(void **state)
{
	(void)state;
	run_members(4, big_member, NULL, FINISH_MS);
}

static void run_alone(local_member_fn fn)
{
	run_members(1, fn, NULL, FINISH_MS);
}

static void test_bad_input(void **state)
{
	(void)state;
	run_alone(bad_input_member);
}

static void test_singleton_delivers(void **state)
{
	(void)state;
	run_alone(singleton_member);
}

static void test_singleton_large(void **state)
{
	(void)state;
	run_alone(singleton_large_member);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_singleton_delivers),
		cmocka_unit_test(test_singleton_large),
		cmocka_unit_test(test_free_without_leave_is_a_departure),
		cmocka_unit_test(test_100MB_ordered_to_4),
		cmocka_unit_test(test_2_members_ALL), cmocka_unit_test(test_2_members_HALF),
		cmocka_unit_test(test_2_members_ONE), cmocka_unit_test(test_3_members_ALL),
		cmocka_unit_test(test_3_members_HALF), cmocka_unit_test(test_3_members_ONE),
		cmocka_unit_test(test_4_members_ALL), cmocka_unit_test(test_4_members_HALF),
		cmocka_unit_test(test_4_members_ONE), cmocka_unit_test(test_5_members_ALL),
		cmocka_unit_test(test_5_members_HALF), cmocka_unit_test(test_5_members_ONE),
		cmocka_unit_test(test_2_members_ONE_mixed), cmocka_unit_test(test_3_members_ALL_mixed),
		cmocka_unit_test(test_4_members_HALF_mixed), cmocka_unit_test(test_5_members_ALL_mixed),
	};
	return RUN_CASES(argc, argv, tests);
}
