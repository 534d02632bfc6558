/* Dispatch mode (callbacks.mode = dispatch): every member runs an event
 * loop on poll(2) over grp_fd and calls grp_dispatch until GRP_EAGAIN, while
 * a thread of its own sends with blocking grp_send. Each member checks that
 * every callback ran on its loop's thread, counts the loop's wake-ups that
 * found nothing to dispatch (spurious: must be none), and once it has
 * delivered everything, that an idle group leaves the descriptor quiet (a
 * poll with a timeout returns 0: no busy loop). The runs end with the
 * delivery-log checker: same messages in the same order everywhere,
 * nothing lost, across a kill -9 too. A member that does not dispatch for
 * a while (longer than the suspicion timeout) holds the others back
 * without losing anything or being taken for failed: none of them can
 * finish before it resumes. A joiner loads the state (a count and a hash
 * of every delivery) from a member whose queue is behind, and ends with
 * the state of the others. With a durable log, persisted follows the
 * deliveries it covers. Plus the calls' contract in dispatch mode. */
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
		if (!l->send_rc)
			l->send_rc = grp_send(l->g, buf, payload_for(l->m->rank, k, &sc->sizes, buf));
		l->accepted += l->send_rc == 0;
	}
	free(buf);
	return NULL;
}

static grp_config *dispatch_config(const struct local_member *m, const struct scenario *sc)
{
	char senders[64] = "", smc[16];
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
		    (sc->queue_mb && grp_config_set(cfg, "callbacks.queue_mb", sc->queue_mb)))) {
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

static bool logged_all(void *arg)
{
	return ((struct loop *)arg)->ml.done;
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
	nanosleep(&(struct timespec){ .tv_sec = test_ms(l->sc->stall_ms) / 1000,
				      .tv_nsec = (long)(test_ms(l->sc->stall_ms) % 1000) * 1000000L },
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
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
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
	snprintf(sc->dir, sizeof sc->dir, "/tmp/grp-dispatch-XXXXXX");
	assert_non_null(mkdtemp(sc->dir));
	struct local_group *lg = local_group_start(sc->n, member, sc);
	assert_non_null(lg);
	for (unsigned r = 0; r < sc->n; r++)
		assert_int_equal(await_from(lg, r, "ready"), 0);
	bool killed = false;
	for (unsigned r = 0; r < sc->n; r++)
		if (sc->victim[r]) {
			local_group_kill(lg, r, SIGKILL);
			killed = true;
		}
	for (unsigned r = 0; r < sc->n; r++)
		if (!sc->victim[r])
			assert_int_equal(await_from(lg, r, "quiet"), 0);
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
	int rc = delivery_log_check_views(sc->dir, sc->n, &expect, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, sc->dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc->dir);
	assert_int_equal(system(cmd), 0);
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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_3_members_poll_loop),
		cmocka_unit_test(test_paced_wakeups),
		cmocka_unit_test(test_kill9_under_dispatch),
		cmocka_unit_test(test_slow_dispatcher_holds_the_group_back),
	};
	return RUN_CASES(argc, argv, tests);
}
