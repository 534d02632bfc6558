/* Dispatch mode (callbacks.mode = dispatch): every member runs an event
 * loop on poll(2) over grp_fd and calls grp_dispatch until GRP_EAGAIN, while
 * a thread of its own sends with blocking grp_send. Each member checks that
 * every callback ran on its loop's thread, counts the loop's wake-ups that
 * found nothing to dispatch (spurious: must be none), and once it has
 * delivered everything, that an idle group leaves the descriptor quiet (a
 * poll with a timeout returns 0: no busy loop). The runs end with the
 * delivery-log checker: same messages in the same order everywhere,
 * nothing lost, across a kill -9 too. A member that does not dispatch for
 * longer than the suspicion timeout holds the others back without losing
 * anything or being taken for failed: none of them can finish before it
 * resumes. With a durable log, persisted follows the deliveries it covers.
 * A joiner loads the state (a count and a hash of every delivery) from a
 * member whose queue is behind its engine, and ends with the state of the
 * others. And the calls' contract in dispatch mode (errors, a callback's
 * limits, another thread's grp_dispatch, leaving and freeing with
 * callbacks queued). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "check.h"
#include "clock.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "fnv.h"
#include "localgroup.h"
#include "member_log.h"
#include "state_read.h"
#include "test_time.h"

#define MAX_MEMBERS 8u
#define WAIT_MS 60000u
#define FINISH_MS (WAIT_MS + 30000u)
/* How long an idle group must leave the descriptor quiet. */
#define QUIET_MS 300u
#define SMC 8192u
#define BATCH 16u

struct scenario {
	unsigned n;
	unsigned messages; /* per sender */
	struct payload_sizes sizes;
	unsigned char sender[MAX_MEMBERS];
	unsigned char victim[MAX_MEMBERS]; /* killed with SIGKILL once all are "ready" */
	bool paced;        /* a sender sends its next message once it delivered its last */
	int stalled;       /* the rank that does not dispatch for stall_ms once in; -1 none */
	unsigned stall_ms;
	const char *queue_mb;
	bool durable;      /* persist.mode = durable, grp_send_durable */
	char dir[256];
};

/* A member's event loop and what it checks. */
struct loop {
	const struct local_member *m;
	const struct scenario *sc;
	grp_t *g;
	pthread_t thread; /* the loop's: every callback runs on it */
	struct member_log ml;
	struct delivery_count own; /* our own messages delivered */
	uint64_t accepted;         /* sender thread: grp_send returned 0 */
	int send_rc;
	uint64_t last_version;     /* of the last delivery or view (n = 0 in its vid) */
	uint64_t persisted;        /* the last persisted callback's */
	unsigned long wakeups, spurious;
	char problem[200];
};

static void note(struct loop *l, const char *what)
{
	if (!l->problem[0])
		snprintf(l->problem, sizeof l->problem, "%s", what);
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct loop *l = user;
	if (!pthread_equal(pthread_self(), l->thread))
		note(l, "a deliver callback ran outside the loop's thread");
	member_log_deliver(&l->ml, msg);
	l->last_version = msg->version;
	if (msg->sender == l->m->rank)
		delivery_count_add(&l->own);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct loop *l = user;
	if (!pthread_equal(pthread_self(), l->thread))
		note(l, "a view callback ran outside the loop's thread");
	member_log_view(&l->ml, v);
	/* A log holds views too: the version of this one's record. */
	uint64_t version = ((uint64_t)v->vid + 1) << 40;
	if (version > l->last_version)
		l->last_version = version;
}

/* Persisted follows the deliveries it covers, and only grows. */
static void on_persisted(grp_t *g, uint64_t version, void *user)
{
	(void)g;
	struct loop *l = user;
	if (!pthread_equal(pthread_self(), l->thread))
		note(l, "a persisted callback ran outside the loop's thread");
	if (version > l->last_version)
		note(l, "persisted reported a version not delivered here yet");
	if (version <= l->persisted)
		note(l, "persisted went back or repeated");
	l->persisted = version;
}

static void *send_stream(void *arg)
{
	struct loop *l = arg;
	const struct scenario *sc = l->sc;
	uint8_t *buf = malloc(sc->sizes.max_len);
	l->send_rc = buf ? 0 : GRP_ENOMEM;
	for (uint64_t k = 0; k < sc->messages && !l->send_rc; k++) {
		if (k == sc->messages / 4)
			local_member_report(l->m, "ready");
		if (sc->paced && delivery_count_await(&l->own, k, test_ms(WAIT_MS)) != 0)
			l->send_rc = GRP_ETIMEDOUT;
		size_t len = payload_for(l->m->rank, k, &sc->sizes, buf);
		if (!l->send_rc)
			l->send_rc = sc->durable ? grp_send_durable(l->g, buf, len)
						 : grp_send(l->g, buf, len);
		l->accepted += l->send_rc == 0;
	}
	free(buf);
	return NULL;
}

static grp_config *dispatch_config(const struct local_member *m, const struct scenario *sc)
{
	char senders[64] = "", smc[16], log_dir[300];
	snprintf(log_dir, sizeof log_dir, "%s/log-%u", sc->dir, m->rank);
	for (unsigned r = 0, off = 0; r < sc->n; r++)
		if (sc->sender[r])
			off += (unsigned)snprintf(senders + off, sizeof senders - off, "%s%u",
						  off ? "," : "", r);
	snprintf(smc, sizeof smc, "%u", SMC);
	grp_config *cfg = local_member_config(m);
	if (cfg && (grp_config_set(cfg, "callbacks.mode", "dispatch") ||
		    grp_config_set(cfg, "multicast.senders", senders) ||
		    grp_config_set(cfg, "multicast.max_smc_payload", smc) ||
		    grp_config_set(cfg, "rdmc.max_payload", smc) ||
		    (sc->queue_mb && grp_config_set(cfg, "callbacks.queue_mb", sc->queue_mb)) ||
		    (sc->durable && (grp_config_set(cfg, "persist.mode", "durable") ||
				     grp_config_set(cfg, "persist.dir", log_dir))))) {
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Polls the descriptor and dispatches until GRP_EAGAIN, until done(arg)
 * holds (checked after each round, on this thread, which runs the
 * callbacks) or the deadline; counts the wake-ups that found nothing. */
static int dispatch_until(grp_t *g, unsigned long *wakeups, unsigned long *spurious,
			  bool (*done)(void *arg), void *arg)
{
	uint64_t deadline = clock_deadline_ms(test_ms(WAIT_MS));
	struct pollfd p = { .fd = grp_fd(g), .events = POLLIN };
	while (!done(arg)) {
		int left = clock_ms_left(deadline);
		if (left <= 0)
			return GRP_ETIMEDOUT;
		int ready = poll(&p, 1, left);
		if (ready < 0 && errno != EINTR)
			return GRP_EIO;
		if (ready <= 0)
			continue;
		(*wakeups)++;
		int ran = grp_dispatch(g, BATCH);
		*spurious += ran == GRP_EAGAIN;
		while (ran > 0)
			ran = grp_dispatch(g, BATCH);
		if (ran != GRP_EAGAIN)
			return ran;
	}
	return 0;
}

/* Every message delivered in the final view; with a log, persisted
 * everywhere too. */
static bool logged_all(void *arg)
{
	const struct loop *l = arg;
	return l->ml.done && (!l->sc->durable || l->persisted >= l->last_version);
}

/* Nothing more to deliver and nobody leaving: the descriptor stays quiet. */
static int check_quiet(struct loop *l)
{
	while (grp_dispatch(l->g, BATCH) > 0)
		;
	struct pollfd p = { .fd = grp_fd(l->g), .events = POLLIN };
	int ready = poll(&p, 1, (int)test_ms(QUIET_MS));
	if (ready != 0) {
		fprintf(stderr, "member %u: grp_fd readable in an idle group (poll %d, "
			"grp_dispatch %d)\n", l->m->rank, ready, grp_dispatch(l->g, BATCH));
		return 1;
	}
	return 0;
}

static void marker_path(const struct scenario *sc, char *out, size_t cap)
{
	snprintf(out, cap, "%s/resumed", sc->dir);
}

/* The stalled member dispatches nothing for a while, then marks that it
 * resumed; the others, back-pressured, cannot have finished before. */
static int stall(const struct loop *l)
{
	unsigned ms = test_ms(l->sc->stall_ms);
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L },
		  NULL);
	char path[300];
	marker_path(l->sc, path, sizeof path);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	return fd < 0 ? 1 : close(fd);
}

static int finished_after_resume(const struct loop *l)
{
	char path[300];
	marker_path(l->sc, path, sizeof path);
	if (l->sc->stalled < 0 || (int)l->m->rank == l->sc->stalled || access(path, F_OK) == 0)
		return 0;
	fprintf(stderr, "member %u delivered everything while member %d dispatched nothing: "
		"nothing held it back\n", l->m->rank, l->sc->stalled);
	return 1;
}

/* After "quiet": the parent's SIGUSR1 says that every survivor is quiet
 * too, so leaving disturbs no one's check. */
static int await_go(const sigset_t *go)
{
	struct timespec wait = { .tv_sec = test_ms(WAIT_MS) / 1000 };
	return sigtimedwait(go, NULL, &wait) == SIGUSR1 ? 0 : 1;
}

/* Leaves, then dispatches what is still queued (others' leaving may have
 * queued views): allowed until grp_free. */
static int leave(struct loop *l)
{
	int rc = grp_leave(l->g);
	int ran;
	while ((ran = grp_dispatch(l->g, BATCH)) > 0)
		;
	grp_free(l->g);
	return rc ? rc : ran == GRP_EAGAIN ? 0 : ran;
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct loop l = { .m = m, .sc = sc, .thread = pthread_self() };
	unsigned char stays[MAX_MEMBERS];
	for (unsigned r = 0; r < sc->n; r++)
		stays[r] = !sc->victim[r];
	delivery_count_init(&l.own);
	sigset_t go;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	/* Before the library's threads start, which inherit it. */
	pthread_sigmask(SIG_BLOCK, &go, NULL);
	grp_config *cfg = dispatch_config(m, sc);
	CHECK(cfg && member_log_open(&l.ml, sc->dir, m->rank, sc->n, stays, sc->sender,
				     sc->messages) == 0);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view,
			     .persisted = on_persisted };
	CHECK(grp_join(cfg, &cb, &l, &l.g) == 0);
	grp_config_free(cfg);
	CHECK(l.ml.views.views == 1); /* the first view ran inside grp_join */
	pthread_t sender;
	bool sends = sc->sender[m->rank];
	CHECK(!sends || pthread_create(&sender, NULL, send_stream, &l) == 0);
	if (!sends)
		local_member_report(m, "ready");
	if ((int)m->rank == sc->stalled)
		CHECK(stall(&l) == 0);
	int rc = dispatch_until(l.g, &l.wakeups, &l.spurious, logged_all, &l);
	if (rc)
		fprintf(stderr, "member %u: not done (%s): %u members in view %u, %" PRIu64
			" deliveries\n", m->rank, grp_strerror(rc), l.ml.views.n,
			l.ml.views.last_vid, delivery_count_get(&l.ml.delivered));
	CHECK(rc == 0);
	CHECK(finished_after_resume(&l) == 0);
	if (sends)
		pthread_join(sender, NULL);
	CHECK(l.send_rc == 0);
	CHECK(delivery_log_accepted(sc->dir, m->rank, l.accepted) == 0);
	CHECK(check_quiet(&l) == 0);
	local_member_report(m, "quiet");
	CHECK(await_go(&go) == 0);
	if (l.problem[0] || l.ml.views.problem[0])
		fprintf(stderr, "member %u: %s%s\n", m->rank, l.problem, l.ml.views.problem);
	CHECK(!l.problem[0] && !l.ml.views.problem[0]);
	if (l.spurious)
		fprintf(stderr, "member %u: %lu of %lu wake-ups found nothing to dispatch\n",
			m->rank, l.spurious, l.wakeups);
	CHECK(l.spurious == 0 && l.wakeups > 0);
	CHECK(leave(&l) == 0);
	member_log_close(&l.ml);
	delivery_count_destroy(&l.own);
	return 0;
}

static void run(struct scenario *sc)
{
	snprintf(sc->dir, sizeof sc->dir, "/tmp/grp-dispatch-XXXXXX");
	assert_non_null(mkdtemp(sc->dir));
	struct local_group *lg = local_group_start(sc->n, member, sc);
	assert_non_null(lg);
	assert_int_equal(local_group_await_line(lg, "ready", test_ms(WAIT_MS)), 0);
	bool killed = false;
	for (unsigned r = 0; r < sc->n; r++)
		if (sc->victim[r]) {
			local_group_kill(lg, r, SIGKILL);
			killed = true;
		}
	for (unsigned r = 0; r < sc->n; r++)
		if (!sc->victim[r])
			assert_int_equal(local_group_await_line_from(lg, r, "quiet", test_ms(WAIT_MS)), 0);
	for (unsigned r = 0; r < sc->n; r++)
		if (!sc->victim[r])
			local_group_kill(lg, r, SIGUSR1);
	int status[MAX_MEMBERS];
	local_group_finish(lg, test_ms(FINISH_MS), status);
	for (unsigned r = 0; r < sc->n; r++) {
		int want = sc->victim[r] ? 128 + SIGKILL : 0;
		if (status[r] != want)
			fprintf(stderr, "member %u exited %d, expected %d\n", r, status[r], want);
		assert_int_equal(status[r], want);
	}
	struct delivery_log_expect expect = {
		.sizes = sc->sizes, .is_sender = sc->sender, .gone = sc->victim,
		.per_sender = killed ? 0 : sc->messages,
	};
	char err[512];
	assert_logs_pass_then_remove(
		sc->dir, delivery_log_check_views(sc->dir, sc->n, &expect, err, sizeof err), err);
}

static struct scenario all_send(unsigned n, unsigned messages)
{
	struct scenario sc = { .n = n, .messages = test_load(messages), .sizes = { 1024, SMC },
			       .stalled = -1 };
	for (unsigned r = 0; r < n; r++)
		sc.sender[r] = 1;
	return sc;
}

static void test_3_members_poll_loop(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000);
	run(&sc);
}

/* One message in flight per sender: the queue empties and fills again at
 * every delivery, and every wake-up must find something. */
static void test_paced_wakeups(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 300);
	sc.paced = true;
	run(&sc);
}

static void test_kill9_under_dispatch(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 2000);
	sc.victim[2] = 1;
	run(&sc);
}

/* Member 2 dispatches nothing for 3 suspicion timeouts (the harness's 1 s)
 * with a queue of 1 MiB; 3 x 600 messages of up to 8 KiB are far more than
 * its queue and the senders' windows (32 each) hold, so the others cannot
 * finish before it resumes; it stays in the group (heartbeats went on: the
 * checker wants one view), and nothing is lost. */
static void test_slow_dispatcher_holds_the_group_back(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 600);
	sc.sizes = (struct payload_sizes){ SMC, SMC };
	sc.stalled = 2;
	sc.stall_ms = 3000;
	sc.queue_mb = "1";
	run(&sc);
}

/* Every member logs durably and sends with grp_send_durable, which
 * returns only once the persisted callback's frontier covers it. */
static void test_durable_persisted_follows_deliveries(void **state)
{
	(void)state;
	struct scenario sc = all_send(3, 200);
	sc.durable = true;
	run(&sc);
}

/* A joiner in dispatch mode: 3 members stream, a fourth joins mid-stream
 * and loads the state (a count and a hash of every delivery so far) from
 * member 0. Member 0's application stops inside its PAUSE_AT-th deliver
 * callback; only then does the joiner ask to join, and member 0 goes on
 * once the two others have seen the view that adds it (each step on the
 * parent's SIGUSR2); its callbacks run slowly. So member 0's queue is
 * behind its engine when that view comes: the state it serves must be the
 * state after every callback before that view, and every member ends with
 * the same count and hash. */
#define JOIN_FOUNDERS 3u
#define JOIN_MESSAGES 1500u
#define PAUSE_AT 100u
#define SLOW_CALLBACK_NS 100000L

struct joining {
	const struct local_member *m;
	pthread_t thread;
	grp_t *g;
	uint64_t count, hash;
	uint64_t total;                /* deliveries every member ends with */
	struct delivery_count members; /* the largest view's size so far */
	bool viewed, loaded;           /* the joiner: its first view ran, then state_load */
	char problem[200];
};

static void join_note(struct joining *j, const char *what)
{
	if (!j->problem[0])
		snprintf(j->problem, sizeof j->problem, "%s", what);
}

static int await_sigusr2(void)
{
	sigset_t resume;
	sigemptyset(&resume);
	sigaddset(&resume, SIGUSR2);
	struct timespec wait = { .tv_sec = test_ms(WAIT_MS) / 1000 };
	return sigtimedwait(&resume, NULL, &wait) == SIGUSR2 ? 0 : GRP_ETIMEDOUT;
}

static void join_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct joining *j = user;
	if (!pthread_equal(pthread_self(), j->thread))
		join_note(j, "a deliver callback ran outside the loop's thread");
	if (j->m->rank == JOIN_FOUNDERS && !j->loaded)
		join_note(j, "the joiner delivered before state_load");
	if (j->m->rank == 0) {
		nanosleep(&(struct timespec){ .tv_nsec = SLOW_CALLBACK_NS }, NULL);
		if (j->count == PAUSE_AT) {
			local_member_report(j->m, "paused");
			if (await_sigusr2() != 0)
				join_note(j, "member 0 was not told to go on");
		}
	}
	j->hash = fnv_mix(j->hash, &msg->sender, sizeof msg->sender);
	j->hash = fnv_mix(j->hash, msg->data, msg->len);
	j->count++;
}

static void join_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct joining *j = user;
	if (!pthread_equal(pthread_self(), j->thread))
		join_note(j, "a view callback ran outside the loop's thread");
	j->viewed = true;
	if (v->n_members == JOIN_FOUNDERS + 1 && j->m->rank > 0 && j->m->rank < JOIN_FOUNDERS)
		local_member_report(j->m, "joined");
	while (delivery_count_get(&j->members) < v->n_members)
		delivery_count_add(&j->members);
}

static int join_save(grp_t *g, void *user)
{
	const struct joining *j = user;
	uint64_t state[2] = { j->count, j->hash };
	return grp_state_write(g, state, sizeof state);
}

static int join_load(grp_t *g, void *user)
{
	struct joining *j = user;
	if (!pthread_equal(pthread_self(), j->thread) || !j->viewed)
		join_note(j, "state_load ran before the first view, or off the joining thread");
	uint64_t state[2];
	int rc = state_read_exactly(g, state, sizeof state);
	j->count = state[0];
	j->hash = state[1];
	j->loaded = rc == 0;
	return rc;
}

/* The founders' list and this process's own entry of it. */
static void split_members(const struct local_member *m, char *founders, size_t cap, char *self,
			  size_t self_cap)
{
	const char *p = m->members;
	size_t end = 0;
	for (unsigned r = 0; *p; r++) {
		size_t len = strcspn(p, ",");
		if (r < JOIN_FOUNDERS)
			end = (size_t)(p - m->members) + len;
		if (r == m->rank)
			snprintf(self, self_cap, "%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	snprintf(founders, cap, "%.*s", (int)end, m->members);
}

static grp_config *joining_config(const struct local_member *m)
{
	char founders[1024], self[128], id[16], fd[16];
	split_members(m, founders, sizeof founders, self, sizeof self);
	snprintf(id, sizeof id, "%u", m->rank);
	snprintf(fd, sizeof fd, "%d", m->listen_fd);
	bool joiner = m->rank >= JOIN_FOUNDERS;
	grp_config *cfg = local_member_config(m);
	if (cfg && (grp_config_set(cfg, "callbacks.mode", "dispatch") ||
		    grp_config_set(cfg, "multicast.senders", "all") ||
		    grp_config_set(cfg, joiner ? "group.contact" : "group.members", founders) ||
		    grp_config_set(cfg, "member.id", id) ||
		    (joiner && (grp_config_set(cfg, "member.listen", self) ||
				grp_config_set(cfg, "member.listen_fd", fd))))) {
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* A founder sends half its stream, waits until the joiner is in, sends the
 * rest; the joiner sends one message once in. */
static void *join_stream(void *arg)
{
	struct joining *j = arg;
	char msg[32];
	unsigned count = j->m->rank < JOIN_FOUNDERS ? JOIN_MESSAGES : 1;
	for (unsigned k = 0; k < count; k++) {
		if (k == count / 2 && count > 1 &&
		    delivery_count_await(&j->members, JOIN_FOUNDERS + 1, test_ms(WAIT_MS)) != 0) {
			join_note(j, "the joiner did not come");
			break;
		}
		int len = snprintf(msg, sizeof msg, "%u:%u", j->m->rank, k);
		if (grp_send(j->g, msg, (size_t)len) != 0) {
			join_note(j, "grp_send failed");
			break;
		}
	}
	return NULL;
}

static bool has_total(void *arg)
{
	const struct joining *j = arg;
	return j->count >= j->total;
}

static int joining_member(const struct local_member *m, void *arg)
{
	(void)arg;
	struct joining j = { .m = m, .thread = pthread_self(), .hash = FNV_OFFSET,
			     .total = JOIN_FOUNDERS * JOIN_MESSAGES + 1 };
	delivery_count_init(&j.members);
	sigset_t go, signals;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	signals = go;
	sigaddset(&signals, SIGUSR2);
	/* Before the library's threads start, which inherit it. */
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	grp_config *cfg = joining_config(m);
	CHECK(cfg);
	CHECK(m->rank < JOIN_FOUNDERS || await_sigusr2() == 0);
	grp_callbacks cb = { .size = sizeof cb, .deliver = join_deliver, .view = join_view,
			     .state_save = join_save, .state_load = join_load };
	int rc = grp_join(cfg, &cb, &j, &j.g);
	grp_config_free(cfg);
	if (rc)
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
	CHECK(rc == 0);
	CHECK(m->rank < JOIN_FOUNDERS || j.loaded);
	pthread_t sender;
	CHECK(pthread_create(&sender, NULL, join_stream, &j) == 0);
	unsigned long wakeups = 0, spurious = 0;
	rc = dispatch_until(j.g, &wakeups, &spurious, has_total, &j);
	pthread_join(sender, NULL);
	if (rc || j.problem[0])
		fprintf(stderr, "member %u: %s %s (%" PRIu64 " deliveries)\n", m->rank,
			grp_strerror(rc), j.problem, j.count);
	CHECK(rc == 0 && !j.problem[0] && j.count == j.total && spurious == 0);
	local_member_report(m, "state %" PRIu64 " %016" PRIx64, j.count, j.hash);
	CHECK(await_go(&go) == 0);
	CHECK(grp_leave(j.g) == 0);
	grp_free(j.g);
	delivery_count_destroy(&j.members);
	return 0;
}

static void test_joiner_loads_state_from_a_lagging_queue(void **state)
{
	(void)state;
	unsigned n = JOIN_FOUNDERS + 1;
	struct local_group *lg = local_group_start(n, joining_member, NULL);
	assert_non_null(lg);
	assert_int_equal(local_group_await_line_from(lg, 0, "paused", test_ms(WAIT_MS)), 0);
	local_group_kill(lg, JOIN_FOUNDERS, SIGUSR2);
	for (unsigned r = 1; r < JOIN_FOUNDERS; r++)
		assert_int_equal(local_group_await_line_from(lg, r, "joined", test_ms(WAIT_MS)), 0);
	local_group_kill(lg, 0, SIGUSR2);
	char first[96], line[96];
	assert_int_equal(local_group_read_line(lg, 0, first, sizeof first, test_ms(WAIT_MS)), 0);
	for (unsigned r = 1; r < n; r++) {
		assert_int_equal(local_group_read_line(lg, r, line, sizeof line, test_ms(WAIT_MS)),
				 0);
		if (strcmp(line, first) != 0)
			fprintf(stderr, "member %u: '%s', member 0: '%s'\n", r, line, first);
		assert_string_equal(line, first);
	}
	for (unsigned r = 0; r < n; r++)
		local_group_kill(lg, r, SIGUSR1);
	int status[MAX_MEMBERS];
	assert_int_equal(local_group_finish(lg, test_ms(FINISH_MS), status), 0);
}

/* The calls' contract, in a group of one. */
struct contract {
	grp_t *g;
	unsigned views, delivered;
	/* From the first deliver callback: grp_dispatch, grp_leave, and
	 * grp_dispatch from another thread meanwhile. */
	int inside[3];
};

static void *dispatch_elsewhere(void *arg)
{
	struct contract *c = arg;
	c->inside[2] = grp_dispatch(c->g, 1);
	return NULL;
}

static void contract_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)msg;
	struct contract *c = user;
	if (c->delivered++ == 0) {
		c->inside[0] = grp_dispatch(g, 1);
		c->inside[1] = grp_leave(g);
		grp_free(g); /* does nothing here */
		pthread_t other;
		if (pthread_create(&other, NULL, dispatch_elsewhere, c) == 0)
			pthread_join(other, NULL);
	}
}

static void contract_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	(void)v;
	((struct contract *)user)->views++;
}

static const grp_callbacks contract_callbacks = {
	.size = sizeof contract_callbacks, .deliver = contract_deliver, .view = contract_view,
};

/* A group of one in dispatch mode (and the settings given, key and value in
 * turn, up to NULL); its grp_join's code. */
static int join_alone(struct contract *c, const char *const *settings)
{
	grp_config *cfg = local_singleton_config();
	int rc = cfg ? grp_config_set(cfg, "callbacks.mode", "dispatch") : GRP_ENOMEM;
	for (size_t i = 0; !rc && settings && settings[i]; i += 2)
		rc = grp_config_set(cfg, settings[i], settings[i + 1]);
	rc = rc ? rc : grp_join(cfg, &contract_callbacks, c, &c->g);
	grp_config_free(cfg);
	return rc;
}

static bool readable(grp_t *g, unsigned timeout_ms)
{
	struct pollfd p = { .fd = grp_fd(g), .events = POLLIN };
	return poll(&p, 1, (int)timeout_ms) == 1;
}

static bool delivered_three(void *arg)
{
	return ((struct contract *)arg)->delivered >= 3;
}

static int contract_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	CHECK(grp_fd(NULL) == GRP_EINVAL && grp_dispatch(NULL, 1) == GRP_EINVAL);
	struct contract c = { 0 };
	static const char *const engine[] = { "callbacks.mode", "engine", NULL };
	CHECK(join_alone(&c, engine) == 0);
	CHECK(grp_fd(c.g) == GRP_EINVAL && grp_dispatch(c.g, 1) == GRP_EINVAL);
	CHECK(grp_leave(c.g) == 0);
	grp_free(c.g);
	static const char *const rejoin[] = { "membership.rejoin", "auto", NULL };
	CHECK(join_alone(&c, rejoin) == GRP_ECONFIG);

	c = (struct contract){ 0 };
	CHECK(join_alone(&c, NULL) == 0);
	CHECK(c.views == 1); /* inside grp_join */
	int fd = grp_fd(c.g);
	CHECK(fd >= 0 && !readable(c.g, 0));
	CHECK(grp_dispatch(c.g, 0) == GRP_EINVAL && grp_dispatch(c.g, 1) == GRP_EAGAIN);
	for (const char *text = "abc"; *text; text++)
		CHECK(grp_send(c.g, text, 1) == 0);
	unsigned long wakeups = 0, spurious = 0;
	CHECK(dispatch_until(c.g, &wakeups, &spurious, delivered_three, &c) == 0);
	CHECK(spurious == 0 && c.delivered == 3);
	CHECK(c.inside[0] == GRP_ECALLBACK && c.inside[1] == GRP_ECALLBACK);
	CHECK(c.inside[2] == GRP_EBUSY);
	/* Queued when it leaves: dispatched after grp_leave, until grp_free. */
	CHECK(grp_send(c.g, "d", 1) == 0);
	CHECK(readable(c.g, test_ms(WAIT_MS)));
	CHECK(grp_leave(c.g) == 0);
	CHECK(grp_fd(c.g) == fd && readable(c.g, 0));
	CHECK(grp_dispatch(c.g, 8) >= 1 && grp_dispatch(c.g, 8) == GRP_EAGAIN);
	CHECK(c.delivered >= 4 && !readable(c.g, 0));
	grp_free(c.g);

	/* Freed with callbacks queued: dropped without a call (and no leak
	 * under AddressSanitizer). */
	c = (struct contract){ 0 };
	CHECK(join_alone(&c, NULL) == 0);
	CHECK(grp_send(c.g, "e", 1) == 0);
	CHECK(readable(c.g, test_ms(WAIT_MS)));
	grp_free(c.g);
	CHECK(c.delivered == 0);
	return 0;
}

static void test_contract_in_dispatch_mode(void **state)
{
	(void)state;
	run_members(1, contract_member, NULL, FINISH_MS);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_3_members_poll_loop),
		cmocka_unit_test(test_paced_wakeups),
		cmocka_unit_test(test_kill9_under_dispatch),
		cmocka_unit_test(test_slow_dispatcher_holds_the_group_back),
		cmocka_unit_test(test_durable_persisted_follows_deliveries),
		cmocka_unit_test(test_joiner_loads_state_from_a_lagging_queue),
		cmocka_unit_test(test_contract_in_dispatch_mode),
	};
	return RUN_CASES(argc, argv, tests);
}
