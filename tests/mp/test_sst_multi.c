/* Multi-process SST tests over the configured provider (tcp by default;
 * GROUP_FABRIC_PROVIDER=verbs in the soft-RoCE suite). Every member is a
 * forked process on 127.0.0.1; a member's exit status is its verdict. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

#include <group/sst.h>

#include "cases.h"
#include "localgroup.h"
#include "test_time.h"

/* Members wait WAIT_MS for each other, the parent FINISH_MS for members
 * (both scaled by test_ms). */
#define WAIT_MS 120000u
#define FINISH_MS (WAIT_MS + 30000u)

/* Exit codes a member reports; the test names them in its failure. */
enum verdict {
	OK = 0,
	E_OPEN = 10,
	E_BACKWARDS = 11,
	E_NOT_REACHED = 12,
	E_FIRED = 13,
	E_FAILURE_EVENT = 14,
	E_WRONG_FAILURE = 15,
	E_PUSH = 16,
};

struct member_table {
	grp_sst *sst;
	size_t counter, flag;
	atomic_uint_fast64_t failed_mask;
	atomic_int fired;
};

static void note_failure(grp_sst *sst, unsigned row, int err, void *user)
{
	(void)sst;
	(void)err;
	struct member_table *t = user;
	atomic_fetch_or(&t->failed_mask, UINT64_C(1) << row);
}

static int open_member_table(const struct local_member *m, struct member_table *t)
{
	memset(t, 0, sizeof *t);
	grp_sst_layout layout = { 0 };
	t->counter = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	t->flag = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return E_OPEN;
	grp_sst_callbacks cb = { .size = sizeof cb, .on_failure = note_failure };
	int rc = grp_sst_open(cfg, &layout, &cb, t, &t->sst);
	grp_config_free(cfg);
	if (rc) {
		fprintf(stderr, "member %u: grp_sst_open: %s\n", m->rank, grp_strerror(rc));
		return E_OPEN;
	}
	return OK;
}

static int set_and_wait(struct member_table *t, size_t column, uint64_t value)
{
	return grp_sst_barrier(t->sst, column, value, test_ms(WAIT_MS)) == 0 ? OK : E_NOT_REACHED;
}

struct column_at_least {
	size_t column;
	uint64_t value;
};

/* True when every live row's column has reached the value. */
static bool column_reached(const grp_sst *sst, void *arg)
{
	const struct column_at_least *c = arg;
	for (unsigned r = 0; r < grp_sst_size(sst); r++)
		if (!grp_sst_row_failed(sst, r) && grp_sst_load_u64(sst, r, c->column) < c->value)
			return false;
	return true;
}

/* Leaves together, so that nobody's departure looks like a failure to a
 * member still checking. */
static int close_member_table(struct member_table *t, int verdict)
{
	int rc = set_and_wait(t, t->flag, 1);
	grp_sst_close(t->sst);
	return verdict ? verdict : rc;
}

/* Bumps our counter to `count`, pushing every time, and checks that no row
 * ever goes backwards. */
static int count_up(struct member_table *t, uint64_t count)
{
	unsigned n = grp_sst_size(t->sst);
	uint64_t last[64] = { 0 };
	for (uint64_t i = 1; i <= count; i++) {
		grp_sst_store_u64(t->sst, t->counter, i);
		if (grp_sst_push(t->sst, t->counter, sizeof(uint64_t)) != 0)
			return E_PUSH;
		for (unsigned r = 0; r < n; r++) {
			uint64_t v = grp_sst_load_u64(t->sst, r, t->counter);
			if (v < last[r]) {
				fprintf(stderr, "row %u went back from %llu to %llu\n", r,
					(unsigned long long)last[r], (unsigned long long)v);
				return E_BACKWARDS;
			}
			last[r] = v;
		}
	}
	struct column_at_least c = { t->counter, count };
	return grp_sst_wait(t->sst, column_reached, &c, test_ms(WAIT_MS)) == 0 ? OK : E_NOT_REACHED;
}

static int counter_member(const struct local_member *m, void *arg)
{
	struct member_table t;
	int rc = open_member_table(m, &t);
	if (rc)
		return rc;
	rc = count_up(&t, *(const uint64_t *)arg);
	if (!rc && atomic_load(&t.failed_mask))
		rc = E_FAILURE_EVENT;
	return close_member_table(&t, rc);
}

static void expect_all(const int *status, unsigned n, int want)
{
	for (unsigned i = 0; i < n; i++) {
		if (status[i] != want)
			fprintf(stderr, "member %u exited with %d, expected %d\n", i, status[i], want);
		assert_int_equal(status[i], want);
	}
}

static void test_four_members_count_to_100k(void **state)
{
	(void)state;
	/* 100 000 pushes each, fewer under GROUP_TEST_LOAD_SCALE: every member
	 * computes the same count. */
	uint64_t count = test_load(100000);
	struct local_group *lg = local_group_start(4, counter_member, &count);
	assert_non_null(lg);
	int status[4];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	expect_all(status, 4, OK);
}

static bool half_reached(const grp_sst *sst, void *arg)
{
	struct column_at_least c = { ((struct member_table *)arg)->counter, 50 };
	return column_reached(sst, &c);
}

static void count_firing(grp_sst *sst, void *arg)
{
	(void)sst;
	struct member_table *t = arg;
	atomic_fetch_add(&t->fired, 1);
}

static bool fired_once(const grp_sst *sst, void *arg)
{
	(void)sst;
	return atomic_load(&((struct member_table *)arg)->fired) >= 1;
}

/* A one-shot predicate over all rows fires exactly once, however many
 * passes it stays true for. */
static int predicate_member(const struct local_member *m, void *arg)
{
	(void)arg;
	struct member_table t;
	int rc = open_member_table(m, &t);
	if (rc)
		return rc;
	rc = grp_sst_predicate_add(t.sst, half_reached, count_firing, &t, GRP_SST_ONCE, NULL) ? E_OPEN
											     : OK;
	if (!rc)
		rc = count_up(&t, 100);
	if (!rc && grp_sst_wait(t.sst, fired_once, &t, test_ms(WAIT_MS)) != 0)
		rc = E_FIRED;
	rc = close_member_table(&t, rc);
	if (!rc && atomic_load(&t.fired) != 1) {
		fprintf(stderr, "member %u: one-shot predicate fired %d times\n", m->rank,
			atomic_load(&t.fired));
		rc = E_FIRED;
	}
	return rc;
}

static void test_predicate_fires_once(void **state)
{
	(void)state;
	struct local_group *lg = local_group_start(3, predicate_member, NULL);
	assert_non_null(lg);
	int status[3];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	expect_all(status, 3, OK);
}

#define VICTIM 3u

static bool victim_failed(const grp_sst *sst, void *arg)
{
	(void)sst;
	return atomic_load(&((struct member_table *)arg)->failed_mask) != 0;
}

/* Everyone gets ready; the parent kills the victim; survivors must see a
 * failure event for exactly the victim and go on working together. */
static int kill_member(const struct local_member *m, void *arg)
{
	(void)arg;
	struct member_table t;
	int rc = open_member_table(m, &t);
	if (rc)
		return rc;
	rc = set_and_wait(&t, t.flag, 1);
	if (rc)
		return rc;
	local_member_report(m, "ready");
	if (m->rank == VICTIM)
		for (;;)
			pause();
	if (grp_sst_wait(t.sst, victim_failed, &t, test_ms(WAIT_MS)) != 0)
		rc = E_FAILURE_EVENT;
	else if (atomic_load(&t.failed_mask) != (UINT64_C(1) << VICTIM))
		rc = E_WRONG_FAILURE;
	if (!rc)
		rc = count_up(&t, 1000);
	if (!rc && atomic_load(&t.failed_mask) != (UINT64_C(1) << VICTIM))
		rc = E_WRONG_FAILURE;
	if (!rc)
		rc = set_and_wait(&t, t.flag, 2);
	grp_sst_close(t.sst);
	return rc;
}

static void test_kill9_reported_to_survivors(void **state)
{
	(void)state;
	struct local_group *lg = local_group_start(4, kill_member, NULL);
	assert_non_null(lg);
	assert_int_equal(local_group_await_line(lg, "ready", test_ms(WAIT_MS)), 0);
	local_group_kill(lg, VICTIM, SIGKILL);
	int status[4];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	assert_int_equal(status[VICTIM], 128 + SIGKILL);
	for (unsigned r = 0; r < VICTIM; r++)
		assert_int_equal(status[r], OK);
}

/* A member configured for another group is refused by name, and the member
 * it contacted gives up at its timeout: clear errors, no hang. */
#define STRANGER_CONNECT_MS 3000u

static int stranger_member(const struct local_member *m, void *arg)
{
	(void)arg;
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return E_OPEN;
	char connect_timeout[16];
	snprintf(connect_timeout, sizeof connect_timeout, "%u", test_ms(STRANGER_CONNECT_MS));
	grp_config_set(cfg, "fabric.connect_timeout_ms", connect_timeout);
	if (m->rank == 1)
		grp_config_set(cfg, "group.name", "someone-else");
	grp_sst_layout layout = { 0 };
	grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	grp_sst *sst = NULL;
	int rc = grp_sst_open(cfg, &layout, NULL, NULL, &sst);
	grp_config_free(cfg);
	if (rc == 0)
		grp_sst_close(sst);
	return -rc;
}

static void test_stranger_refused(void **state)
{
	(void)state;
	struct local_group *lg = local_group_start(2, stranger_member, NULL);
	assert_non_null(lg);
	int status[2];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	assert_int_equal(status[0], -GRP_ETIMEDOUT);
	assert_int_equal(status[1], -GRP_ESTRANGER);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_members_count_to_100k),
		cmocka_unit_test(test_predicate_fires_once),
		cmocka_unit_test(test_kill9_reported_to_survivors),
		cmocka_unit_test(test_stranger_refused),
	};
	return RUN_CASES(argc, argv, tests);
}
