/* Forming a group while the bootstrap port is abused or a member stalls:
 * idle connections to a member's port, a member stopped for 3 s while the
 * others start, 200 idle connections; a member whose peer never comes
 * still returns GRP_ETIMEDOUT at its deadline whatever sits on its port; a
 * member that leaves as soon as its grp_join returned does not make the
 * others' fail; and members named by node ids of their own. */
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

#include "cases.h"
#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "sock.h"
#include "test_time.h"
#include "view_track.h"

#define WAIT_MS 60000u
#define MAX_IDLE 200u

struct scenario {
	unsigned n;
	unsigned idle;        /* idle connections the last member opens to member 0 */
	bool only_first_joins; /* the others only hold idle connections */
	bool first_leaves_at_once;
	unsigned id_base;     /* member.id = id_base - rank; 0: the default (the rank) */
	bool one_id;          /* every member configured with member.id = id_base */
	const char *connect_timeout_ms;
	int expect;           /* what member 0's grp_join returns */
	int expect_others;    /* what the others' return */
};

struct member_state {
	const struct scenario *sc;
	struct delivery_count delivered;
	int bad;
	struct view_track views;
};

static unsigned id_of(const struct scenario *sc, unsigned rank)
{
	return sc->id_base ? sc->id_base - (sc->one_id ? 0 : rank) : rank;
}

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

/* Deliveries and views name members by node id. */
static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct member_state *st = user;
	bool known = false;
	for (unsigned r = 0; r < st->sc->n; r++)
		known |= msg->sender == id_of(st->sc, r);
	if (!known)
		st->bad = 1;
	delivery_count_add(&st->delivered);
}

/* The first view has every member, by its node id; then members that
 * finished leave. */
static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct member_state *st = user;
	bool first = st->views.views == 0;
	view_track_add(&st->views, v);
	if (st->views.problem[0] || (first && v->n_members != st->sc->n))
		st->bad = 1;
	for (unsigned r = 0; first && r < v->n_members && !st->bad; r++)
		if (v->members[r] != id_of(st->sc, r))
			st->bad = 1;
}

static int set_id(grp_config *cfg, const struct scenario *sc, unsigned rank)
{
	char id[16];
	snprintf(id, sizeof id, "%u", id_of(sc, rank));
	return sc->id_base ? grp_config_set(cfg, "member.id", id) : 0;
}

/* Joins; then, unless it is the member that leaves at once, sends one
 * message and leaves once it delivered one from every member still there. */
static int join_and_leave(const struct local_member *m, const struct scenario *sc)
{
	grp_config *cfg = local_member_config(m);
	if (!cfg || grp_config_set(cfg, "fabric.connect_timeout_ms", sc->connect_timeout_ms) ||
	    set_id(cfg, sc, m->rank))
		return 10;
	struct member_state st = { .sc = sc };
	delivery_count_init(&st.delivered);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	grp_t *g = NULL;
	int rc = grp_join(cfg, &cb, &st, &g);
	grp_config_free(cfg);
	int expect = m->rank == 0 ? sc->expect : sc->expect_others;
	if (rc != expect) {
		fprintf(stderr, "member %u: grp_join: %s, expected %s\n", m->rank, grp_strerror(rc),
			grp_strerror(expect));
		return 11;
	}
	if (rc)
		return 0;
	bool leaves_at_once = sc->first_leaves_at_once && m->rank == 0;
	unsigned senders = sc->first_leaves_at_once ? sc->n - 1 : sc->n;
	if (!leaves_at_once && grp_send(g, "hello", 5) != 0)
		rc = 13;
	if (!rc && !leaves_at_once &&
	    delivery_count_await(&st.delivered, senders, test_ms(WAIT_MS)) != 0)
		rc = 14;
	if (grp_leave(g) != 0 && !rc)
		rc = 12;
	grp_free(g);
	delivery_count_destroy(&st.delivered);
	return rc ? rc : st.bad ? 15 : 0;
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

static void test_leaving_at_once_after_join(void **state)
{
	(void)state;
	struct scenario sc = { .n = 3, .first_leaves_at_once = true, .connect_timeout_ms = "15000" };
	run(&sc, 0);
}

static void test_node_ids_name_members(void **state)
{
	(void)state;
	struct scenario sc = { .n = 3, .id_base = 4000, .connect_timeout_ms = "15000" };
	run(&sc, 0);
}

/* Member 0 refuses the introduction of a member with its own node id (the
 * other learns why) and times out waiting for it. */
static void test_duplicate_node_id_refused(void **state)
{
	(void)state;
	struct scenario sc = { .n = 2, .id_base = 7, .one_id = true, .connect_timeout_ms = "2000",
			       .expect = GRP_ETIMEDOUT, .expect_others = GRP_ECONFIG };
	run(&sc, 0);
}

static void test_timeout_honoured_under_idle_connections(void **state)
{
	(void)state;
	struct scenario sc = { .n = 2, .idle = MAX_IDLE, .only_first_joins = true,
			       .connect_timeout_ms = "2000", .expect = GRP_ETIMEDOUT,
			       .expect_others = GRP_ETIMEDOUT };
	run(&sc, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_connections_while_forming),
		cmocka_unit_test(test_first_member_stopped_3s_while_others_start),
		cmocka_unit_test(test_200_idle_connections_while_forming),
		cmocka_unit_test(test_timeout_honoured_under_idle_connections),
		cmocka_unit_test(test_leaving_at_once_after_join),
		cmocka_unit_test(test_node_ids_name_members),
		cmocka_unit_test(test_duplicate_node_id_refused),
	};
	return RUN_CASES(argc, argv, tests);
}
