/* View changes provoked for real: members killed with SIGKILL in
 * mid-stream (small and large messages; a non-leader, the leader, two at
 * once, the leader at each step of the protocol), a member stopped with
 * SIGSTOP past the suspicion timeout (removed; evicted once it resumes),
 * and a clean leave while large messages pass through the leaver; a
 * second member killed while the view change the first began waits for
 * it; and a cascade of kills, one view at a time, until the last member
 * is left in a minority. Every
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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "member_log.h"
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
	/* Victims stopped (SIGSTOP) before the other victims are killed, and
	 * killed STALL_MS later: they die while the view change that the
	 * first kills started waits for them. */
	unsigned char stall[MAX_MEMBERS];
	unsigned char sender[MAX_MEMBERS];
	char dir[256];
};

#define SMC 4096u
#define LARGE_MAX (256u * 1024u)
#define BLOCK (16u * 1024u)

#define STALL_MS 200

static bool goes(const struct scenario *sc, unsigned r)
{
	return sc->victim[r] || sc->kill_at[r];
}

static bool stalls(const struct scenario *sc)
{
	for (unsigned r = 0; r < sc->n; r++)
		if (sc->stall[r])
			return true;
	return false;
}

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	member_log_deliver(user, m);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	member_log_view(user, v);
}

/* Joins with the scenario's senders and sizes, the callbacks given. */
static grp_t *join_with(const struct local_member *m, const struct scenario *sc,
			void (*deliver)(grp_t *, const grp_delivery *, void *),
			void (*view)(grp_t *, const grp_view *, void *), void *user)
{
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
	grp_callbacks cb = { .size = sizeof cb, .deliver = deliver, .view = view };
	if (!cfg || grp_config_set(cfg, "multicast.senders", senders) ||
	    grp_config_set(cfg, "multicast.max_smc_payload", smc) ||
	    grp_config_set(cfg, "rdmc.max_payload", max) ||
	    grp_config_set(cfg, "rdmc.block_size", block) ||
	    grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
	    grp_join(cfg, &cb, user, &g) != 0)
		fprintf(stderr, "member %u: cannot join\n", m->rank);
	grp_config_free(cfg);
	return g;
}

static grp_t *join(const struct local_member *m, const struct scenario *sc,
		   struct member_log *ml)
{
	return join_with(m, sc, on_deliver, on_view, ml);
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
static int evicted_member(grp_t *g, const struct member_log *ml, int send_rc)
{
	int rc = send_rc ? send_rc : grp_send(g, "x", 1);
	if (rc != GRP_EEVICTED) {
		fprintf(stderr, "stopped member: grp_send %s, expected GRP_EEVICTED\n",
			grp_strerror(rc));
		return 30;
	}
	if (!ml->views.stopped) {
		fprintf(stderr, "stopped member: no view callback named it evicted\n");
		return 31;
	}
	return grp_leave(g) == GRP_EEVICTED ? 0 : 32;
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	unsigned char stays[MAX_MEMBERS];
	for (unsigned r = 0; r < sc->n; r++)
		stays[r] = !goes(sc, r);
	struct member_log ml;
	int opened = member_log_open(&ml, sc->dir, m->rank, sc->n, stays, sc->sender, sc->messages);
	grp_t *g = opened == 0 ? join(m, sc, &ml) : NULL;
	if (!g)
		return 10;
	int rc = 0;
	uint64_t accepted = 0;
	if (sc->sender[m->rank])
		accepted = send_all(m, g, sc, &rc);
	else
		local_member_report(m, "ready");
	if (sc->fault == STOP && sc->victim[m->rank]) {
		rc = evicted_member(g, &ml, rc);
		grp_free(g);
		member_log_close(&ml);
		return rc;
	}
	if (sc->fault == LEAVE && sc->victim[m->rank]) {
		/* Leaves in mid-stream: once a quarter of the messages passed. */
		if (!rc && delivery_count_await(&ml.delivered, sc->messages, test_ms(WAIT_MS)) != 0)
			rc = 42;
		rc = rc ? rc : grp_leave(g) ? 41 : 0;
		grp_free(g);
		member_log_close(&ml);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", m->rank, accepted,
			grp_strerror(rc));
		rc = 20;
	} else if (delivery_count_await(&ml.done_signal, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: not done: %u members in view %u, %" PRIu64
			" deliveries\n", m->rank, ml.views.n, ml.views.last_vid,
			delivery_count_get(&ml.delivered));
		rc = 21;
	} else if (delivery_log_accepted(sc->dir, m->rank, accepted) != 0) {
		rc = 22;
	}
	local_member_report(m, "done");
	if (!rc && ml.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, ml.views.problem);
		rc = 23;
	}
	int leave = grp_leave(g);
	grp_free(g);
	member_log_close(&ml);
	return rc ? rc : leave ? 24 : 0;
}

static int await_from(struct local_group *lg, unsigned rank, const char *want)
{
	return local_group_await_line_from(lg, rank, want, test_ms(WAIT_MS));
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
		if (sc->stall[r])
			local_group_kill(lg, r, SIGSTOP);
	for (unsigned r = 0; r < sc->n; r++)
		if (sc->victim[r] && !sc->stall[r] && sc->fault != LEAVE)
			local_group_kill(lg, r, sc->fault == KILL ? SIGKILL : SIGSTOP);
	if (stalls(sc)) {
		/* How long does not matter to what is checked: a stalled member
		 * cannot acknowledge, so the view change cannot end before it is
		 * suspected, by its kill or by its silence. */
		nanosleep(&(struct timespec){ .tv_nsec = STALL_MS * 1000000L }, NULL);
		for (unsigned r = 0; r < sc->n; r++)
			if (sc->stall[r])
				local_group_kill(lg, r, SIGKILL);
	}
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
	assert_logs_pass_then_remove(
		sc->dir, delivery_log_check_views(sc->dir, sc->n, &expect, err, sizeof err), err);
}

static struct scenario all_send(unsigned n, unsigned messages, size_t max_len)
{
	struct scenario sc = { .n = n, .messages = messages, .sizes = { SMC, max_len },
			       .suspect_ms = SUSPECT_MS };
	for (unsigned r = 0; r < n; r++)
		sc.sender[r] = 1;
	return sc;
}

/* The cascade: members stream small messages until their view holds two
 * members; the parent kills one member at a time, victims picked by a
 * seeded PRNG, and after each kill every survivor must report the same
 * next view: the one before without the victim (5, 4, 3, 2 members). The
 * two left stop sending and exchange how many messages their grp_send
 * accepted (each writes its .sent file, then reads the other's); once
 * each has delivered all of both it stops logging and reports "final".
 * So the checker runs on the run up to the 2-member view, the first three
 * victims gone. Then the parent kills one of the two: the other, left
 * with 1 of 2, must stop as a minority (a last view callback naming it
 * departed with GRP_DEPARTED_MINORITY, then GRP_EMINORITY from every
 * call). Timing decides only how far each stream got, never what is
 * checked. */
#define CASCADE_N 5u
#define CASCADE_LAST 2u      /* members of the last view the checker sees */
#define CASCADE_READY_AT 100 /* messages each member sends before the first kill */
#define CASCADE_PACE_NS 1000000L
#define SEED_VARIABLE "GROUP_TEST_SEED"

struct cascade_member {
	const struct scenario *sc;
	const struct local_member *m;
	pthread_mutex_t lock; /* the fields below; callbacks run under it */
	FILE *log;
	struct view_track views;
	uint64_t got[MAX_MEMBERS];
	uint64_t want[MAX_MEMBERS]; /* once known: the .sent of the last two */
	bool want_known, done;
	atomic_bool last_view;      /* the view holds CASCADE_LAST members */
	int stop_reason;            /* our departure in a last view callback, or 0 */
	struct delivery_count done_signal, stop_signal;
};

/* Under lock. */
static void cascade_check_done(struct cascade_member *cm)
{
	if (cm->done || !cm->want_known || cm->views.n != CASCADE_LAST)
		return;
	for (unsigned i = 0; i < cm->views.n; i++) {
		unsigned id = cm->views.members[i];
		if (cm->got[id] > cm->want[id] && !cm->views.problem[0])
			snprintf(cm->views.problem, sizeof cm->views.problem,
				 "delivered %" PRIu64 " messages of %u, which sent %" PRIu64,
				 cm->got[id], id, cm->want[id]);
		if (cm->got[id] != cm->want[id])
			return;
	}
	cm->done = true;
	fflush(cm->log);
	delivery_count_add(&cm->done_signal);
}

static void cascade_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct cascade_member *cm = user;
	pthread_mutex_lock(&cm->lock);
	if (!cm->done) {
		delivery_log_write(cm->log, msg);
		if (msg->sender < MAX_MEMBERS)
			cm->got[msg->sender]++;
		cascade_check_done(cm);
	}
	pthread_mutex_unlock(&cm->lock);
}

static bool names_self_departed(const grp_view *v)
{
	return v->n_departed == 1 && v->my_rank < v->n_members &&
	       v->departed[0] == v->members[v->my_rank];
}

/* Reports every view to the parent as "view VID ID,ID,...", and our own
 * end as "stopped REASON". */
static void cascade_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct cascade_member *cm = user;
	pthread_mutex_lock(&cm->lock);
	if (!cm->done) {
		delivery_log_view(cm->log, v);
		view_track_add(&cm->views, v);
	}
	if (names_self_departed(v)) {
		cm->stop_reason = (int)v->departed_reason[0];
		local_member_report(cm->m, "stopped %d", cm->stop_reason);
		delivery_count_add(&cm->stop_signal);
	} else {
		char line[128];
		int off = snprintf(line, sizeof line, "view %" PRIu32 " ", v->vid);
		for (unsigned i = 0; i < v->n_members && off < (int)sizeof line; i++)
			off += snprintf(line + off, sizeof line - (size_t)off, "%s%u", i ? "," : "",
					v->members[i]);
		local_member_report(cm->m, "%s", line);
		if (v->n_members == CASCADE_LAST)
			atomic_store(&cm->last_view, true);
		cascade_check_done(cm);
	}
	pthread_mutex_unlock(&cm->lock);
}

/* Streams messages until the view holds CASCADE_LAST members; returns how
 * many grp_send accepted, *rc the first error. */
static uint64_t cascade_stream(struct cascade_member *cm, grp_t *g, int *rc)
{
	const struct scenario *sc = cm->sc;
	uint8_t *buf = malloc(sc->sizes.max_len + 1);
	uint64_t k = 0;
	*rc = buf ? 0 : GRP_ENOMEM;
	while (!*rc && !atomic_load(&cm->last_view)) {
		if (k == CASCADE_READY_AT)
			local_member_report(cm->m, "ready");
		*rc = grp_send(g, buf, payload_for(cm->m->rank, k, &sc->sizes, buf));
		if (!*rc)
			k++;
		nanosleep(&(struct timespec){ .tv_nsec = CASCADE_PACE_NS }, NULL);
	}
	free(buf);
	return k;
}

/* The other member's .sent, once it has written it: 0, or -1 after
 * timeout_ms. A count is whole once its newline is there. */
static int await_sent(const char *dir, unsigned id, uint64_t *count, unsigned timeout_ms)
{
	char path[512];
	snprintf(path, sizeof path, "%s/member-%u.sent", dir, id);
	for (unsigned waited = 0; waited < timeout_ms; waited += 10) {
		FILE *f = fopen(path, "r");
		if (f) {
			char nl = 0;
			int fields = fscanf(f, "%" SCNu64 "%c", count, &nl);
			fclose(f);
			if (fields == 2 && nl == '\n')
				return 0;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return -1;
}

/* One of the last two: learns what both sent, waits until it delivered
 * all of it, reports "final", then waits for its end as a minority (or
 * for its kill). */
static int cascade_last_two(struct cascade_member *cm, grp_t *g, uint64_t accepted)
{
	const struct scenario *sc = cm->sc;
	unsigned me = cm->m->rank, other = me;
	pthread_mutex_lock(&cm->lock);
	for (unsigned i = 0; i < cm->views.n; i++)
		if (cm->views.members[i] != me)
			other = cm->views.members[i];
	pthread_mutex_unlock(&cm->lock);
	uint64_t others = 0;
	if (other == me || delivery_log_accepted(sc->dir, me, accepted) != 0 ||
	    await_sent(sc->dir, other, &others, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: no count of what member %u sent\n", me, other);
		return 50;
	}
	pthread_mutex_lock(&cm->lock);
	cm->want[me] = accepted;
	cm->want[other] = others;
	cm->want_known = true;
	cascade_check_done(cm);
	pthread_mutex_unlock(&cm->lock);
	if (delivery_count_await(&cm->done_signal, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: has not delivered the %" PRIu64 " + %" PRIu64
			" messages of members %u and %u\n", me, accepted, others, me, other);
		return 51;
	}
	local_member_report(cm->m, "final");
	if (delivery_count_await(&cm->stop_signal, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: alone in a view of two, it did not stop\n", me);
		return 52;
	}
	if (cm->stop_reason != GRP_DEPARTED_MINORITY) {
		fprintf(stderr, "member %u: stopped for reason %d, expected MINORITY\n", me,
			cm->stop_reason);
		return 53;
	}
	int send_rc = grp_send(g, "x", 1), leave_rc = grp_leave(g);
	if (send_rc != GRP_EMINORITY || leave_rc != GRP_EMINORITY) {
		fprintf(stderr, "member %u: after the minority stop grp_send says %s, grp_leave %s; "
			"expected GRP_EMINORITY\n", me, grp_strerror(send_rc), grp_strerror(leave_rc));
		return 54;
	}
	return 0;
}

static int cascade_member_run(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct cascade_member cm = { .sc = sc, .m = m, .views.failures_allowed = true };
	pthread_mutex_init(&cm.lock, NULL);
	delivery_count_init(&cm.done_signal);
	delivery_count_init(&cm.stop_signal);
	cm.log = delivery_log_open(sc->dir, m->rank);
	grp_t *g = cm.log ? join_with(m, sc, cascade_deliver, cascade_view, &cm) : NULL;
	if (!g)
		return 10;
	int rc;
	uint64_t accepted = cascade_stream(&cm, g, &rc);
	if (rc) {
		fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", m->rank, accepted,
			grp_strerror(rc));
		rc = 20;
	} else {
		rc = cascade_last_two(&cm, g, accepted);
	}
	pthread_mutex_lock(&cm.lock);
	if (!rc && cm.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, cm.views.problem);
		rc = 23;
	}
	pthread_mutex_unlock(&cm.lock);
	grp_free(g);
	fclose(cm.log);
	return rc;
}

/* splitmix64 */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t cascade_seed(void)
{
	const char *text = getenv(SEED_VARIABLE);
	uint64_t seed = text ? strtoull(text, NULL, 0)
			     : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	fprintf(stderr, "random_kills_until_quorum_lost: seed %" PRIu64 " (set %s=%" PRIu64
		" to repeat the victims)\n", seed, SEED_VARIABLE, seed);
	return seed;
}

/* One of the members still alive, at random. */
static unsigned pick_victim(uint64_t *rng, const bool *alive, unsigned n)
{
	unsigned left = 0;
	for (unsigned r = 0; r < n; r++)
		left += alive[r];
	unsigned pick = (unsigned)(next_random(rng) % left);
	for (unsigned r = 0; r < n; r++)
		if (alive[r] && pick-- == 0)
			return r;
	return n;
}

/* "view VID ID,ID,..." for the members alive. */
static void view_line(char *line, size_t len, uint32_t vid, const bool *alive, unsigned n)
{
	int off = snprintf(line, len, "view %" PRIu32 " ", vid);
	for (unsigned r = 0, first = 1; r < n; r++) {
		if (alive[r]) {
			off += snprintf(line + off, len - (size_t)off, "%s%u", first ? "" : ",", r);
			first = 0;
		}
	}
}

static void test_random_kills_until_quorum_lost(void **state)
{
	(void)state;
	struct scenario sc = all_send(CASCADE_N, 0, SMC);
	sc.sizes = (struct payload_sizes){ 64, 64 }; /* small messages only */
	uint64_t rng = cascade_seed();
	snprintf(sc.dir, sizeof sc.dir, "/tmp/grp-viewchange-XXXXXX");
	assert_non_null(mkdtemp(sc.dir));
	struct local_group *lg = local_group_start(sc.n, cascade_member_run, &sc);
	assert_non_null(lg);
	bool alive[MAX_MEMBERS];
	unsigned char gone[MAX_MEMBERS] = { 0 };
	char want[128];
	for (unsigned r = 0; r < sc.n; r++)
		alive[r] = true;
	view_line(want, sizeof want, 0, alive, sc.n);
	for (unsigned r = 0; r < sc.n; r++) {
		assert_int_equal(await_from(lg, r, want), 0);
		assert_int_equal(await_from(lg, r, "ready"), 0);
	}
	unsigned left = sc.n;
	for (uint32_t vid = 1; left > CASCADE_LAST; vid++, left--) {
		unsigned victim = pick_victim(&rng, alive, sc.n);
		fprintf(stderr, "killing member %u of %u\n", victim, left);
		local_group_kill(lg, victim, SIGKILL);
		alive[victim] = false;
		gone[victim] = 1;
		view_line(want, sizeof want, vid, alive, sc.n);
		for (unsigned r = 0; r < sc.n; r++)
			if (alive[r])
				assert_int_equal(await_from(lg, r, want), 0);
	}
	for (unsigned r = 0; r < sc.n; r++)
		if (alive[r])
			assert_int_equal(await_from(lg, r, "final"), 0);
	unsigned victim = pick_victim(&rng, alive, sc.n);
	fprintf(stderr, "killing member %u of %u: the other must stop as a minority\n", victim,
		left);
	local_group_kill(lg, victim, SIGKILL);
	alive[victim] = false;
	unsigned last = pick_victim(&rng, alive, sc.n);
	char stopped[32];
	snprintf(stopped, sizeof stopped, "stopped %d", (int)GRP_DEPARTED_MINORITY);
	assert_int_equal(await_from(lg, last, stopped), 0);
	int status[MAX_MEMBERS];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	for (unsigned r = 0; r < sc.n; r++) {
		int expected = r == last ? 0 : 128 + SIGKILL;
		if (status[r] != expected)
			fprintf(stderr, "member %u exited %d, expected %d\n", r, status[r], expected);
		assert_int_equal(status[r], expected);
	}
	struct delivery_log_expect expect = { .sizes = sc.sizes, .is_sender = sc.sender,
					      .gone = gone };
	char err[512];
	int rc = delivery_log_check_views(sc.dir, sc.n, &expect, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, sc.dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc.dir);
	assert_int_equal(system(cmd), 0);
}

/* A second member dies while the view change the first one's death began
 * is under way: member 3 is stopped, member 4 killed, and member 3 killed
 * STALL_MS later. Stopped, 3 cannot acknowledge the removal of 4 that the
 * leader proposes, so that view change cannot end until 3 is suspected
 * too (by its kill, or by its silence past the suspicion timeout, far
 * longer than STALL_MS); the survivors 0, 1, 2 must end it removing both. */
static void test_second_failure_during_view_change(void **state)
{
	(void)state;
	struct scenario sc = all_send(5, 1000, SMC);
	sc.victim[4] = 1;
	sc.victim[3] = 1;
	sc.stall[3] = 1;
	run(&sc);
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
		cmocka_unit_test(test_random_kills_until_quorum_lost),
		cmocka_unit_test(test_second_failure_during_view_change),
	};
	return RUN_CASES(argc, argv, tests);
}
