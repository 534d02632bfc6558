/* Total restart, for real: a group of member processes with durable logs
 * multicasts flat out, and every member is killed with SIGKILL (one after
 * the other, so that their logs end at different points; in one case
 * while a view change is under way). Then new processes start with the
 * same node ids, logs and group.members (at new addresses): once a strict
 * majority of the last view is back they restart the group, and every
 * member ends with the same state: a count and hash of every delivery in
 * order, replayed from its log, shipped by the leader, or new. Checked:
 * every version any member's persisted callback reported before the crash
 * is in every restarted member's log (nothing reported persisted is
 * lost), the logs agree on every version they hold, a minority alone
 * refuses to restart (GRP_EMINORITY), members that come back later join
 * the restarted group, and a member that comes back with an empty log (it
 * died before logging anything, or its disk was replaced) counts towards
 * the majority and gets the whole history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "fnv.h"
#include "frame.h"
#include "localgroup.h"
#include "plog.h"
#include "test_time.h"

#define MAX_MEMBERS 8u
#define WAIT_MS 60000u
#define SUSPECT_MS 3000u
#define MSG_BYTES 48u
/* Each restarted member sends this many after the restart. */
#define AFTER_RESTART 50u

/* What the member processes and the test share (MAP_SHARED). */
struct shared {
	_Atomic uint64_t persisted[MAX_MEMBERS]; /* the highest each one's callback reported */
};

struct scenario {
	unsigned n;              /* members of the group */
	unsigned back_first;     /* restarted at once: ranks 0..back_first-1 */
	bool later;              /* the others come back once the group restarted */
	bool view_change;        /* the crash comes during a view change */
	bool last_back_empty;    /* rank back_first-1 comes back with an empty log */
	char dir[64];            /* the members' logs: dir/<rank> */
	struct shared *shared;
};

struct app {
	const struct local_member *m;
	const struct scenario *sc;
	uint64_t count, hash;
	/* Messages sent after the restart, from each member, however they
	 * reached us (live, or shipped to a member that came back late). */
	uint64_t after_from[MAX_MEMBERS];
	struct delivery_count after;
};

static const uint8_t AFTER_MARK[4] = { 'A', 'F', 'T', 'R' };

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct app *a = user;
	a->hash = fnv_mix(a->hash, &msg->sender, sizeof msg->sender);
	a->hash = fnv_mix(a->hash, msg->data, msg->len);
	a->count++;
	const uint8_t *p = msg->data;
	if (msg->len == MSG_BYTES && memcmp(p, AFTER_MARK, sizeof AFTER_MARK) == 0 &&
	    p[4] < MAX_MEMBERS && ++a->after_from[p[4]] == AFTER_RESTART)
		delivery_count_add(&a->after);
}

static void on_persisted(grp_t *g, uint64_t version, void *user)
{
	(void)g;
	struct app *a = user;
	atomic_store(&a->sc->shared->persisted[a->m->rank], version);
}

static int join(const struct local_member *m, const struct scenario *sc, struct app *a,
		grp_t **g)
{
	grp_config *cfg = local_member_config(m);
	char dir[96], suspect[16], timeout[16];
	snprintf(dir, sizeof dir, "%s/%u", sc->dir, m->rank);
	snprintf(suspect, sizeof suspect, "%u", test_ms(SUSPECT_MS));
	/* A minority waits this long for the others before it refuses. */
	bool minority = 2 * sc->back_first <= sc->n;
	snprintf(timeout, sizeof timeout, "%u", test_ms(minority ? 4000 : 15000));
	if (!cfg || grp_config_set(cfg, "persist.mode", "durable") ||
	    grp_config_set(cfg, "persist.dir", dir) || grp_config_set(cfg, "persist.segment_mb", "1") ||
	    grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
	    grp_config_set(cfg, "fabric.connect_timeout_ms", timeout) ||
	    grp_config_set(cfg, "multicast.senders", "all")) {
		grp_config_free(cfg);
		return GRP_ECONFIG;
	}
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .persisted = on_persisted };
	int rc = grp_join(cfg, &cb, a, g);
	grp_config_free(cfg);
	return rc;
}

/* Before the crash: multicast flat out until killed. */
static int first_life(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct app a = { .m = m, .sc = sc };
	delivery_count_init(&a.after);
	if (sc->view_change && m->rank == 0)
		setenv("GROUP_TEST_KILL_AT", "leader_committed", 1);
	grp_t *g;
	int rc = join(m, sc, &a, &g);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 1;
	}
	local_member_report(m, "in");
	uint8_t msg[MSG_BYTES];
	bool reported = false;
	for (uint64_t k = 0;; k++) {
		memset(msg, (int)(k + m->rank), sizeof msg);
		memcpy(msg, &k, sizeof k);
		/* Once every log holds something: a member that dies before
		 * logging anything is its own case (restart_with_an_empty_log). */
		if (k >= 200 && !reported && atomic_load(&sc->shared->persisted[m->rank])) {
			local_member_report(m, "sent 200");
			reported = true;
		}
		rc = grp_send(g, msg, sizeof msg);
		/* The view change's victim: the others go on until killed. */
		if (rc)
			pause();
	}
}

/* After it: restart (or join the restarted group), send, agree. */
static int second_life(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	bool restarts = m->rank < sc->back_first, later = !restarts && sc->later;
	if (!restarts && !later)
		return 0; /* stays down */
	struct app a = { .m = m, .sc = sc };
	delivery_count_init(&a.after);
	/* SIGUSR1: a late member may come in; SIGUSR2: every member reported
	 * its state, leave. Blocked before the library starts its threads. */
	sigset_t go, leave, both;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	sigemptyset(&leave);
	sigaddset(&leave, SIGUSR2);
	both = go;
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	struct timespec wait = { .tv_sec = test_ms(WAIT_MS) / 1000 };
	if (later && sigtimedwait(&go, NULL, &wait) < 0)
		return 20;
	grp_t *g;
	int rc = join(m, sc, &a, &g);
	if (2 * sc->back_first <= sc->n && !later) {
		/* A minority: it must refuse, having started nothing. */
		local_member_report(m, "refused %d", rc);
		return rc == GRP_EMINORITY ? 0 : 21;
	}
	if (rc) {
		fprintf(stderr, "member %u: grp_join after the crash: %s\n", m->rank,
			grp_strerror(rc));
		return 22;
	}
	local_member_report(m, "in");
	unsigned senders = sc->later ? sc->n : sc->back_first;
	uint8_t msg[MSG_BYTES] = { 0 };
	memcpy(msg, AFTER_MARK, sizeof AFTER_MARK);
	msg[4] = (uint8_t)m->rank;
	for (unsigned k = 0; k < AFTER_RESTART && !rc; k++) {
		msg[5] = (uint8_t)k;
		rc = grp_send_durable(g, msg, sizeof msg);
	}
	if (rc) {
		fprintf(stderr, "member %u: grp_send_durable: %s\n", m->rank, grp_strerror(rc));
		return 23;
	}
	if (delivery_count_await(&a.after, senders, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: not every member's messages after the restart came\n",
			m->rank);
		return 24;
	}
	local_member_report(m, "state %" PRIu64 " %016" PRIx64, a.count, a.hash);
	if (sigtimedwait(&leave, NULL, &wait) < 0)
		return 25;
	grp_leave(g);
	grp_free(g);
	return 0;
}

static void await_line(struct local_group *lg, unsigned rank, const char *prefix, char *line,
		       size_t cap)
{
	do
		assert_int_equal(local_group_read_line(lg, rank, line, cap, test_ms(WAIT_MS)), 0);
	while (strncmp(line, prefix, strlen(prefix)) != 0);
}

/* Every message record of the log in dir/<rank>, as version -> payload
 * hash; returns how many. */
static size_t read_log(const struct scenario *sc, unsigned rank, uint64_t *versions,
		       uint64_t *hashes, size_t cap)
{
	char dir[96], name[64];
	snprintf(dir, sizeof dir, "%s/%u", sc->dir, rank);
	snprintf(name, sizeof name, "localgroup-%d", (int)getpid());
	struct plog_params p = { .dir = dir, .group_id = frame_group_id(name), .mode = PLOG_ASYNC,
				 .segment_bytes = 1u << 20, .ring_bytes = 1u << 20,
				 .sync_interval_ms = 1000 };
	struct plog *log;
	struct plog_open_report report;
	assert_int_equal(plog_open(&p, &log, &report), 0);
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 0, UINT64_MAX, &it), 0);
	struct plog_record r;
	size_t n = 0;
	int rc;
	while ((rc = plog_iter_next(it, &r)) == 1) {
		if (r.kind != PLOG_MESSAGE)
			continue;
		assert_true(n < cap);
		versions[n] = r.version;
		hashes[n++] = fnv_mix(fnv_mix(FNV_OFFSET, &r.sender, sizeof r.sender), r.data, r.len);
	}
	assert_int_equal(rc, 0);
	plog_iter_free(it);
	plog_close(log);
	return n;
}

/* Nothing reported persisted is missing from any log of a member that
 * came back, and their logs are the same history, record by record. */
static void check_logs(const struct scenario *sc, const bool *back, uint64_t persisted)
{
	enum { CAP = 1u << 20 };
	uint64_t *v[MAX_MEMBERS] = { 0 }, *h[MAX_MEMBERS] = { 0 };
	size_t n[MAX_MEMBERS] = { 0 };
	for (unsigned r = 0; r < sc->n; r++) {
		if (!back[r])
			continue;
		v[r] = malloc(CAP * sizeof *v[r]);
		h[r] = malloc(CAP * sizeof *h[r]);
		assert_non_null(v[r]);
		assert_non_null(h[r]);
		n[r] = read_log(sc, r, v[r], h[r], CAP);
		/* Within a view, messages are numbered from 1 without a gap:
		 * a log that reaches past `persisted` holds every version
		 * up to it that its views had. */
		assert_true(n[r] > 0 && v[r][n[r] - 1] >= persisted);
		for (size_t i = 0; i < n[r]; i++) {
			uint64_t nth = v[r][i] & ((1ull << 40) - 1);
			bool same_view = i > 0 && v[r][i] >> 40 == v[r][i - 1] >> 40;
			if (nth != (same_view ? (v[r][i - 1] & ((1ull << 40) - 1)) + 1 : 1))
				fail_msg("log %u: version %" PRIx64 " after %" PRIx64, r, v[r][i],
					 i ? v[r][i - 1] : 0);
		}
	}
	for (unsigned a = 0; a < sc->n; a++)
		for (unsigned b = a + 1; b < sc->n; b++) {
			if (!back[a] || !back[b])
				continue;
			/* The logs of members in the group at the end are the same
			 * history: equal. */
			assert_int_equal(n[a], n[b]);
			for (size_t i = 0; i < n[a]; i++) {
				if (v[a][i] != v[b][i] || h[a][i] != h[b][i])
					fail_msg("logs %u and %u differ at record %zu", a, b, i);
			}
		}
	for (unsigned r = 0; r < sc->n; r++) {
		free(v[r]);
		free(h[r]);
	}
}

static void remove_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void run(const struct scenario *given)
{
	struct scenario copy = *given, *sc = &copy;
	snprintf(sc->dir, sizeof sc->dir, "/tmp/grp-restart-XXXXXX");
	assert_non_null(mkdtemp(sc->dir));
	sc->shared = mmap(NULL, sizeof *sc->shared, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sc->shared != MAP_FAILED);
	memset(sc->shared, 0, sizeof *sc->shared);

	struct local_group *lg = local_group_start(sc->n, first_life, sc);
	assert_non_null(lg);
	char line[128];
	for (unsigned r = 0; r < sc->n; r++)
		await_line(lg, r, "sent 200", line, sizeof line);
	if (sc->view_change) {
		/* The last member goes; the leader dies once it committed the
		 * change, and the others with it. */
		local_group_kill(lg, sc->n - 1, SIGKILL);
		assert_int_not_equal(local_group_read_line(lg, 0, line, sizeof line, test_ms(WAIT_MS)),
				     0);
	}
	for (unsigned r = 0; r < sc->n; r++)
		local_group_kill(lg, r, SIGKILL);
	local_group_finish(lg, test_ms(WAIT_MS), NULL);
	if (sc->last_back_empty) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "rm -rf '%s/%u' && mkdir '%s/%u'", sc->dir,
			 sc->back_first - 1, sc->dir, sc->back_first - 1);
		assert_int_equal(system(cmd), 0);
	}
	uint64_t persisted = 0;
	for (unsigned r = 0; r < sc->n; r++) {
		uint64_t p = atomic_load(&sc->shared->persisted[r]);
		persisted = p > persisted ? p : persisted;
	}

	lg = local_group_start(sc->n, second_life, sc);
	assert_non_null(lg);
	bool back[MAX_MEMBERS] = { false };
	if (2 * sc->back_first <= sc->n) {
		for (unsigned r = 0; r < sc->back_first; r++) {
			await_line(lg, r, "refused", line, sizeof line);
			assert_string_equal(line, "refused -19"); /* GRP_EMINORITY */
		}
	} else {
		for (unsigned r = 0; r < sc->back_first; r++) {
			await_line(lg, r, "in", line, sizeof line);
			back[r] = true;
		}
		for (unsigned r = sc->back_first; r < sc->n && sc->later; r++) {
			local_group_kill(lg, r, SIGUSR1);
			await_line(lg, r, "in", line, sizeof line);
			back[r] = true;
		}
		char first[128] = "";
		for (unsigned r = 0; r < sc->n; r++) {
			if (!back[r])
				continue;
			await_line(lg, r, "state ", line, sizeof line);
			if (!first[0])
				snprintf(first, sizeof first, "%s", line);
			if (strcmp(first, line) != 0)
				fail_msg("member %u ends with '%s', another with '%s'", r, line, first);
		}
		for (unsigned r = 0; r < sc->n; r++)
			if (back[r])
				local_group_kill(lg, r, SIGUSR2);
	}
	int status[MAX_MEMBERS];
	assert_int_equal(local_group_finish(lg, test_ms(WAIT_MS), status), 0);
	if (2 * sc->back_first > sc->n)
		check_logs(sc, back, persisted);
	munmap(sc->shared, sizeof *sc->shared);
	remove_dir(sc->dir);
}

static void test_restart_3_of_3(void **state)
{
	(void)state;
	run(&(struct scenario){ .n = 3, .back_first = 3 });
}

static void test_restart_5_then_2_late(void **state)
{
	(void)state;
	run(&(struct scenario){ .n = 5, .back_first = 3, .later = true });
}

static void test_minority_refuses(void **state)
{
	(void)state;
	run(&(struct scenario){ .n = 3, .back_first = 1 });
}

static void test_restart_after_interrupted_view_change(void **state)
{
	(void)state;
	run(&(struct scenario){ .n = 3, .back_first = 3, .view_change = true });
}

/* Members 0 and 1 come back, 1 with an empty log: without it, 0 alone is
 * a minority of 3. */
static void test_restart_with_an_empty_log(void **state)
{
	(void)state;
	run(&(struct scenario){ .n = 3, .back_first = 2, .last_back_empty = true });
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_restart_3_of_3),
		cmocka_unit_test(test_restart_5_then_2_late),
		cmocka_unit_test(test_minority_refuses),
		cmocka_unit_test(test_restart_after_interrupted_view_change),
		cmocka_unit_test(test_restart_with_an_empty_log),
	};
	return RUN_CASES(argc, argv, cases);
}
