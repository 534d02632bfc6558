/* Forming a group while the bootstrap port is abused or a member stalls:
 * idle connections to a member's port, a member stopped for 3 s while the
 * others start, 200 idle connections; and a member whose peer never comes
 * still returns GRP_ETIMEDOUT at its deadline whatever sits on its port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "clock.h"
#include "localgroup.h"
#include "sock.h"
#include "test_time.h"

#define WAIT_MS 60000u
#define MAX_IDLE 200u

struct scenario {
	unsigned n;
	unsigned idle;        /* idle connections the last member opens to member 0 */
	bool only_first_joins; /* the others only hold idle connections */
	const char *connect_timeout_ms;
	int expect;           /* what member 0's grp_join returns */
};

/* Member 0's bootstrap port, from the member list. */
static int first_port(const struct local_member *m)
{
	const char *colon = strchr(m->members, ':');
	return colon ? atoi(colon + 1) : -1;
}

static int open_idle(const struct local_member *m, unsigned count, int *fds)
{
	int port = first_port(m);
	for (unsigned i = 0; i < count; i++)
		if (port <= 0 || sock_connect("127.0.0.1", (uint16_t)port,
					      clock_deadline_ms(test_ms(WAIT_MS)), &fds[i]) != 0)
			return -1;
	return 0;
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	(void)user;
}

/* Joins, and leaves once every member joined (a message from each). */
static int join_and_leave(const struct local_member *m, const struct scenario *sc)
{
	grp_config *cfg = local_member_config(m);
	if (!cfg || grp_config_set(cfg, "fabric.connect_timeout_ms", sc->connect_timeout_ms))
		return 10;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	grp_t *g = NULL;
	int rc = grp_join(cfg, &cb, NULL, &g);
	grp_config_free(cfg);
	if (rc != sc->expect) {
		fprintf(stderr, "member %u: grp_join: %s, expected %s\n", m->rank, grp_strerror(rc),
			grp_strerror(sc->expect));
		return 11;
	}
	if (rc)
		return 0;
	rc = grp_leave(g);
	grp_free(g);
	return rc ? 12 : 0;
}

/* Holds the idle connections until member 0 is gone (its end closes them). */
static void hold_until_closed(const int *fds, unsigned count)
{
	struct pollfd p = { .fd = fds[0], .events = POLLIN };
	poll(&p, 1, (int)test_ms(WAIT_MS));
	for (unsigned i = 0; i < count; i++)
		close(fds[i]);
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	int fds[MAX_IDLE];
	unsigned idle = m->rank == m->n - 1 ? sc->idle : 0;
	if (idle && open_idle(m, idle, fds) != 0)
		return 20;
	if (sc->only_first_joins && m->rank != 0) {
		hold_until_closed(fds, idle);
		return 0;
	}
	int rc = join_and_leave(m, sc);
	for (unsigned i = 0; i < idle; i++)
		close(fds[i]);
	return rc;
}

static void run(const struct scenario *sc, int stop_first_ms)
{
	struct local_group *lg = local_group_start(sc->n, member, (void *)sc);
	assert_non_null(lg);
	if (stop_first_ms) {
		/* The fault itself lasts this long; nothing is awaited by it. */
		local_group_kill(lg, 0, SIGSTOP);
		struct timespec ts = { stop_first_ms / 1000, (stop_first_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		local_group_kill(lg, 0, SIGCONT);
	}
	int status[8];
	local_group_finish(lg, test_ms(WAIT_MS + 30000u), status);
	for (unsigned i = 0; i < sc->n; i++)
		assert_int_equal(status[i], 0);
}

static void test_idle_connections_while_forming(void **state)
{
	(void)state;
	struct scenario sc = { .n = 3, .idle = 2, .connect_timeout_ms = "15000" };
	run(&sc, 0);
}

static void test_first_member_stopped_3s_while_others_start(void **state)
{
	(void)state;
	struct scenario sc = { .n = 3, .connect_timeout_ms = "15000" };
	run(&sc, 3000);
}

static void test_200_idle_connections_while_forming(void **state)
{
	(void)state;
	struct scenario sc = { .n = 3, .idle = MAX_IDLE, .connect_timeout_ms = "15000" };
	run(&sc, 0);
}

static void test_timeout_honoured_under_idle_connections(void **state)
{
	(void)state;
	struct scenario sc = { .n = 2, .idle = MAX_IDLE, .only_first_joins = true,
			       .connect_timeout_ms = "2000", .expect = GRP_ETIMEDOUT };
	run(&sc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_connections_while_forming),
		cmocka_unit_test(test_first_member_stopped_3s_while_others_start),
		cmocka_unit_test(test_200_idle_connections_while_forming),
		cmocka_unit_test(test_timeout_honoured_under_idle_connections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
