/* View changes provoked for real: members killed with SIGKILL in
 * mid-stream (small and large messages; a non-leader, the leader, two at
 * once, the leader at each step of the protocol), a member stopped with
 * SIGSTOP past the suspicion timeout (removed; evicted once it resumes),
 * and a clean leave while large messages pass through the leaver. Every
 * member logs its views and deliveries until it has seen the view it
 * expects to end in and every message of its members; the checker then
 * verifies virtual synchrony across the views and that nothing a
 * survivor's grp_send accepted was lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "test_time.h"
#include "view_track.h"

#define MAX_MEMBERS 8u
#define WAIT_MS 60000u
#define FINISH_MS (WAIT_MS + 30000u)
/* Heartbeat silence before a suspicion (scaled like every deadline): long
 * where a crash is seen by its broken connection anyway, so that members
 * slowed by a loaded host are not taken for failed; short where a stopped
 * member must be removed. */
#define SUSPECT_MS 5000u
#define STOPPED_SUSPECT_MS 1000u

enum fault { KILL, STOP, LEAVE };

struct scenario {
	unsigned n;
	unsigned messages;          /* per sender */
	struct payload_sizes sizes; /* max_len above SMC: some go by RDMC */
	enum fault fault;
	unsigned suspect_ms;
	unsigned char victim[MAX_MEMBERS]; /* ranks the fault hits */
	/* GROUP_TEST_KILL_AT for a rank: it dies at that protocol point. */
	const char *kill_at[MAX_MEMBERS];
	unsigned char sender[MAX_MEMBERS];
	char dir[256];
};

#define SMC 4096u
#define LARGE_MAX (256u * 1024u)
#define BLOCK (16u * 1024u)

static bool goes(const struct scenario *sc, unsigned r)
{
	return sc->victim[r] || sc->kill_at[r];
}

struct member_state {
	const struct scenario *sc;
	FILE *log;
	struct view_track views;
	uint64_t got[MAX_MEMBERS]; /* messages delivered per sender, over all views */
	bool done;
	struct delivery_count done_signal;
	struct delivery_count delivered;
};

/* Done once the view holds exactly the members expected to stay, and every
 * one of them that sends has had all its messages delivered here. */
static bool finished(const struct member_state *st)
{
	const struct scenario *sc = st->sc;
	unsigned stay = 0;
	for (unsigned r = 0; r < sc->n; r++)
		stay += !goes(sc, r);
	if (st->views.n != stay)
		return false;
	for (unsigned i = 0; i < st->views.n; i++) {
		unsigned id = st->views.members[i];
		if (goes(sc, id) || (sc->sender[id] && st->got[id] < sc->messages))
			return false;
	}
	return true;
}

static void check_done(struct member_state *st)
{
	if (st->done || !finished(st))
		return;
	st->done = true;
	fflush(st->log);
	delivery_count_add(&st->done_signal);
}

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct member_state *st = user;
	if (st->done)
		return;
	delivery_log_write(st->log, m);
	if (m->sender < MAX_MEMBERS)
		st->got[m->sender]++;
	delivery_count_add(&st->delivered);
	check_done(st);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct member_state *st = user;
	if (st->done)
		return;
	delivery_log_view(st->log, v);
	view_track_add(&st->views, v);
	check_done(st);
}

static grp_t *join(const struct local_member *m, struct member_state *st)
{
	const struct scenario *sc = st->sc;
	if (sc->kill_at[m->rank])
		setenv("GROUP_TEST_KILL_AT", sc->kill_at[m->rank], 1);
	char senders[64] = "";
	for (unsigned r = 0, off = 0; r < sc->n; r++)
		if (sc->sender[r])
			off += (unsigned)snprintf(senders + off, sizeof senders - off, "%s%u",
						  off ? "," : "", r);
	char smc[24], max[24], block[24];
	snprintf(smc, sizeof smc, "%u", SMC);
	snprintf(max, sizeof max, "%zu", sc->sizes.max_len > SMC ? sc->sizes.max_len : SMC);
	snprintf(block, sizeof block, "%u", BLOCK);
	char suspect[24];
	snprintf(suspect, sizeof suspect, "%u", test_ms(sc->suspect_ms));
	grp_config *cfg = local_member_config(m);
	grp_t *g = NULL;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	if (!cfg || grp_config_set(cfg, "multicast.senders", senders) ||
	    grp_config_set(cfg, "multicast.max_smc_payload", smc) ||
	    grp_config_set(cfg, "rdmc.max_payload", max) ||
	    grp_config_set(cfg, "rdmc.block_size", block) ||
	    grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
	    grp_join(cfg, &cb, st, &g) != 0)
		fprintf(stderr, "member %u: cannot join\n", m->rank);
	grp_config_free(cfg);
	return g;
}

/* Sends every message; reports "ready" a quarter of the way, when the
 * fault may strike. Returns how many grp_send accepted; *rc the first
 * error. */
static uint64_t send_all(const struct local_member *m, grp_t *g, const struct scenario *sc,
			 int *rc)
{
	uint8_t *buf = malloc(sc->sizes.max_len + 1);
	uint64_t k = 0;
	*rc = buf ? 0 : GRP_ENOMEM;
	for (; k < sc->messages && !*rc; k++) {
		if (k == sc->messages / 4)
			local_member_report(m, "ready");
		*rc = grp_send(g, buf, payload_for(m->rank, k, &sc->sizes, buf));
	}
	free(buf);
	return *rc ? k - 1 : k;
}

/* A stopped member resumes after its removal: every call says so, and
 * so did its last view callback. */
static int evicted_member(grp_t *g, struct member_state *st, int send_rc)
{
	int rc = send_rc ? send_rc : grp_send(g, "x", 1);
	if (rc != GRP_EEVICTED) {
		fprintf(stderr, "stopped member: grp_send %s, expected GRP_EEVICTED\n",
			grp_strerror(rc));
		return 30;
	}
	if (!st->views.stopped) {
		fprintf(stderr, "stopped member: no view callback named it evicted\n");
		return 31;
	}
	return grp_leave(g) == GRP_EEVICTED ? 0 : 32;
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct member_state st = { .sc = sc, .views.failures_allowed = true };
	delivery_count_init(&st.done_signal);
	delivery_count_init(&st.delivered);
	st.log = delivery_log_open(sc->dir, m->rank);
	grp_t *g = st.log ? join(m, &st) : NULL;
	if (!g)
		return 10;
	int rc = 0;
	uint64_t accepted = 0;
	if (sc->sender[m->rank])
		accepted = send_all(m, g, sc, &rc);
	else
		local_member_report(m, "ready");
	if (sc->fault == STOP && sc->victim[m->rank]) {
		rc = evicted_member(g, &st, rc);
		grp_free(g);
		return rc;
	}
	if (sc->fault == LEAVE && sc->victim[m->rank]) {
		rc = rc ? 40 : grp_leave(g) ? 41 : 0;
		grp_free(g);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", m->rank, accepted,
			grp_strerror(rc));
		rc = 20;
	} else if (delivery_count_await(&st.done_signal, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: not done: %u members in view %u, %" PRIu64
			" deliveries\n", m->rank, st.views.n, st.views.last_vid,
			delivery_count_get(&st.delivered));
		rc = 21;
	} else if (delivery_log_accepted(sc->dir, m->rank, accepted) != 0) {
		rc = 22;
	}
	local_member_report(m, "done");
	if (!rc && st.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, st.views.problem);
		rc = 23;
	}
	int leave = grp_leave(g);
	grp_free(g);
	fclose(st.log);
	return rc ? rc : leave ? 24 : 0;
}

static int await_from(struct local_group *lg, unsigned rank, const char *want)
{
	char line[64];
	if (local_group_read_line(lg, rank, line, sizeof line, test_ms(WAIT_MS)) != 0 ||
	    strcmp(line, want) != 0) {
		fprintf(stderr, "member %u did not report '%s'\n", rank, want);
		return -1;
	}
	return 0;
}

static void run(struct scenario *sc)
{
	snprintf(sc->dir, sizeof sc->dir, "/tmp/grp-viewchange-XXXXXX");
	assert_non_null(mkdtemp(sc->dir));
	struct local_group *lg = local_group_start(sc->n, member, sc);
	assert_non_null(lg);
	for (unsigned r = 0; r < sc->n; r++)
		assert_int_equal(await_from(lg, r, "ready"), 0);
	for (unsigned r = 0; r < sc->n; r++)
		if (sc->victim[r] && sc->fault != LEAVE)
			local_group_kill(lg, r, sc->fault == KILL ? SIGKILL : SIGSTOP);
	if (sc->fault == STOP) {
		for (unsigned r = 0; r < sc->n; r++)
			if (!goes(sc, r))
				assert_int_equal(await_from(lg, r, "done"), 0);
		for (unsigned r = 0; r < sc->n; r++)
			if (sc->victim[r])
				local_group_kill(lg, r, SIGCONT);
	}
	int status[MAX_MEMBERS];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	for (unsigned r = 0; r < sc->n; r++) {
		int want = (sc->victim[r] && sc->fault == KILL) || sc->kill_at[r] ? 128 + SIGKILL : 0;
		if (status[r] != want)
			fprintf(stderr, "member %u exited %d, expected %d\n", r, status[r], want);
		assert_int_equal(status[r], want);
	}
	unsigned char gone[MAX_MEMBERS] = { 0 };
	for (unsigned r = 0; r < sc->n; r++)
		gone[r] = goes(sc, r);
	struct delivery_log_expect expect = { .sizes = sc->sizes, .is_sender = sc->sender,
					      .gone = gone };
	char err[512];
	int rc = delivery_log_check_views(sc->dir, sc->n, &expect, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, sc->dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc->dir);
	assert_int_equal(system(cmd), 0);
}

static struct scenario all_send(unsigned n, unsigned messages, size_t max_len)
{
	struct scenario sc = { .n = n, .messages = messages, .sizes = { SMC, max_len },
			       .suspect_ms = SUSPECT_MS };
	for (unsigned r = 0; r < n; r++)
		sc.sender[r] = 1;
	return sc;
}

static void test_kill9_non_leader(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000, SMC);
	sc.victim[2] = 1;
	run(&sc);
}

static void test_kill9_leader(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000, SMC);
	sc.victim[0] = 1;
	run(&sc);
}

static void test_kill9_two_of_five(void **state)
{
	(void)state;
	struct scenario sc = all_send(5, 1000, SMC);
	sc.victim[1] = 1;
	sc.victim[3] = 1;
	run(&sc);
}

static void test_kill9_during_large_messages(void **state)
{
	(void)state;
	struct scenario sc = all_send(4, 300, LARGE_MAX);
	sc.victim[2] = 1;
	run(&sc);
}

/* The only sender dies: the members that only receive learn it from the
 * view callback and go on in a view without senders. */
static void test_kill9_only_sender(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000, SMC);
	sc.sender[0] = sc.sender[1] = 0;
	sc.victim[2] = 1;
	run(&sc);
}

/* The leader dies at a step of the view change that a kill of member 4
 * starts; the next leader finishes it. */
static void leader_dies_at(const char *point)
{
	struct scenario sc = all_send(5, 1000, SMC);
	sc.victim[4] = 1;
	sc.kill_at[0] = point;
	run(&sc);
}

static void test_leader_dies_when_elected(void **state)
{
	(void)state;
	leader_dies_at("leader_elected");
}

static void test_leader_dies_after_proposing(void **state)
{
	(void)state;
	leader_dies_at("leader_proposed");
}

static void test_leader_dies_after_committing(void **state)
{
	(void)state;
	leader_dies_at("leader_committed");
}

static void test_leader_dies_after_trimming(void **state)
{
	(void)state;
	leader_dies_at("leader_trimmed");
}

static void test_sigstop_evicts(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000, SMC);
	sc.fault = STOP;
	sc.suspect_ms = STOPPED_SUSPECT_MS;
	sc.victim[1] = 1;
	run(&sc);
}

/* A member that only receives leaves cleanly while large messages pass
 * through it: the others remove it and go on, their large messages sent
 * again around it. */
static void test_receiver_leaves_during_large_messages(void **state)
{
	(void)state;
	struct scenario sc = all_send(4, 300, LARGE_MAX);
	sc.sender[3] = 0;
	sc.fault = LEAVE;
	sc.victim[3] = 1;
	run(&sc);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_non_leader),
		cmocka_unit_test(test_kill9_leader),
		cmocka_unit_test(test_kill9_two_of_five),
		cmocka_unit_test(test_kill9_during_large_messages),
		cmocka_unit_test(test_kill9_only_sender),
		cmocka_unit_test(test_leader_dies_when_elected),
		cmocka_unit_test(test_leader_dies_after_proposing),
		cmocka_unit_test(test_leader_dies_after_committing),
		cmocka_unit_test(test_leader_dies_after_trimming),
		cmocka_unit_test(test_sigstop_evicts),
		cmocka_unit_test(test_receiver_leaves_during_large_messages),
	};
	return RUN_CASES(argc, argv, tests);
}
