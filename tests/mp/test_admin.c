/* The admin socket and grp_stats, for real: a group of member processes,
 * each serving admin.socket, multicasts a known load; then groupctl (the
 * built program) asks a member for its status, counters and configuration
 * and what it prints must name the view, its members and the exact
 * counts. Also: a second process refused a socket in use (GRP_EBUSY), a
 * dead member's socket taken over, and a bad request answered with an
 * error. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "test_time.h"

#define MEMBERS 3u
#define PER_MEMBER 100u
#define MSG_BYTES 64u
#define WAIT_MS 30000u

struct scenario {
	char dir[64];
};

struct app {
	struct delivery_count delivered;
};

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	struct app *a = user;
	delivery_count_add(&a->delivered);
}

static void socket_path(const struct scenario *sc, unsigned rank, char *out, size_t cap)
{
	snprintf(out, cap, "%s/m%u.sock", sc->dir, rank);
}

static int join_with_socket(grp_config *cfg, const char *path, struct app *a, grp_t **g)
{
	if (!cfg || grp_config_set(cfg, "admin.socket", path) ||
	    grp_config_set(cfg, "multicast.senders", "all")) {
		grp_config_free(cfg);
		return GRP_ECONFIG;
	}
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	int rc = grp_join(cfg, &cb, a, g);
	grp_config_free(cfg);
	return rc;
}

/* grp_stats agrees with the load this test made. */
static int check_stats(grp_t *g)
{
	grp_stats_t s = { .size = sizeof s };
	if (grp_stats(g, &s) != 0 || s.size != sizeof s)
		return 30;
	if (s.msgs_sent != PER_MEMBER || s.bytes_sent != PER_MEMBER * MSG_BYTES)
		return 31;
	if (s.msgs_delivered != MEMBERS * PER_MEMBER ||
	    s.bytes_delivered != MEMBERS * PER_MEMBER * MSG_BYTES)
		return 32;
	if (s.views_installed != 1 || s.vid != 0 || s.n_members != MEMBERS || s.suspicions)
		return 33;
	/* A caller that knows fewer fields gets only those. */
	grp_stats_t small = { .size = offsetof(grp_stats_t, msgs_sent), .msgs_sent = 7 };
	if (grp_stats(g, &small) != 0 || small.size != offsetof(grp_stats_t, msgs_sent) ||
	    small.msgs_sent != 7 || small.n_members != MEMBERS)
		return 34;
	grp_stats_t tiny = { .size = 1 };
	return grp_stats(g, &tiny) == GRP_EINVAL ? 0 : 35;
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	sigset_t leave;
	sigemptyset(&leave);
	sigaddset(&leave, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &leave, NULL);
	struct app a;
	delivery_count_init(&a.delivered);
	char path[96];
	socket_path(sc, m->rank, path, sizeof path);
	grp_t *g;
	int rc = join_with_socket(local_member_config(m), path, &a, &g);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 20;
	}
	uint8_t msg[MSG_BYTES] = { 0 };
	for (unsigned k = 0; k < PER_MEMBER && !rc; k++)
		rc = grp_send(g, msg, sizeof msg);
	if (rc || delivery_count_await(&a.delivered, MEMBERS * PER_MEMBER, test_ms(WAIT_MS)))
		return 21;
	rc = check_stats(g);
	if (rc)
		return rc;
	local_member_report(m, "ready");
	struct timespec wait = { .tv_sec = test_ms(WAIT_MS) / 1000 };
	if (sigtimedwait(&leave, NULL, &wait) < 0)
		return 22;
	grp_leave(g);
	grp_free(g);
	return 0;
}

/* What groupctl ARGS printed on stdout; asserts it exited 0. */
static char *groupctl(const char *args)
{
	const char *exe = getenv("GROUPCTL");
	assert_non_null(exe);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "'%s' %s", exe, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *text = calloc(1, 1 << 16);
	assert_non_null(text);
	size_t n = fread(text, 1, (1 << 16) - 1, p);
	text[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return text;
}

static unsigned occurrences(const char *text, const char *needle)
{
	unsigned n = 0;
	for (const char *at = text; (at = strstr(at, needle)); at += strlen(needle))
		n++;
	return n;
}

/* The number on the line "name   value" of a text answer. */
static uint64_t line_value(const char *text, const char *name)
{
	size_t len = strlen(name);
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		uint64_t v;
		if (strncmp(line, name, len) == 0 && line[len] == ' ' &&
		    sscanf(line + len, "%" SCNu64, &v) == 1)
			return v;
	}
	fail_msg("no line %s in:\n%s", name, text);
	return 0;
}

static void make_dir(struct scenario *sc)
{
	snprintf(sc->dir, sizeof sc->dir, "/tmp/grp-admin-XXXXXX");
	assert_non_null(mkdtemp(sc->dir));
}

static void test_groupctl_on_a_running_group(void **state)
{
	(void)state;
	struct scenario sc;
	make_dir(&sc);
	struct local_group *lg = local_group_start(MEMBERS, member, &sc);
	assert_non_null(lg);
	assert_int_equal(local_group_await_line(lg, "ready", test_ms(WAIT_MS)), 0);
	char path[96], args[256];
	socket_path(&sc, 1, path, sizeof path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	snprintf(args, sizeof args, "status -s %s --json", path);
	char *out = groupctl(args);
	assert_non_null(strstr(out, "\"view\":0,\"members\":3,\"leader\":"));
	assert_int_equal(occurrences(out, "\"role\":\"leader\""), 1);
	assert_int_equal(occurrences(out, "\"role\":\"member\""), 2);
	assert_int_equal(occurrences(out, "\"sends\":\"yes\""), 3);
	assert_int_equal(occurrences(out, "\"self\":\"*\""), 1);
	assert_non_null(strstr(out, "\"state\":\"running\""));
	free(out);

	snprintf(args, sizeof args, "stats -s %s", path);
	out = groupctl(args);
	assert_int_equal(line_value(out, "msgs_sent"), PER_MEMBER);
	assert_int_equal(line_value(out, "msgs_delivered"), MEMBERS * PER_MEMBER);
	assert_int_equal(line_value(out, "bytes_delivered"), MEMBERS * PER_MEMBER * MSG_BYTES);
	assert_int_equal(line_value(out, "views_installed"), 1);
	free(out);
	char expect[64];

	/* Rates over a second of an idle group: nothing sent in it. */
	setenv("GROUP_ADMIN_SOCKET", path, 1);
	out = groupctl("stats -i 1 -n 1 --json");
	unsetenv("GROUP_ADMIN_SOCKET");
	snprintf(expect, sizeof expect, "\"msgs_sent\":{\"total\":%u,\"per_s\":0.0}", PER_MEMBER);
	assert_non_null(strstr(out, expect));
	free(out);

	snprintf(args, sizeof args, "config -s %s", path);
	out = groupctl(args);
	snprintf(expect, sizeof expect, "%s", "admin.socket");
	const char *line = strstr(out, expect);
	assert_non_null(line);
	assert_non_null(strstr(line, "grp_config_set"));
	line = strstr(out, "membership.rejoin");
	assert_non_null(line);
	assert_true(strncmp(strchr(line, '\n') - 7, "default", 7) == 0);
	free(out);

	for (unsigned r = 0; r < MEMBERS; r++)
		local_group_kill(lg, r, SIGUSR2);
	assert_int_equal(local_group_finish(lg, test_ms(WAIT_MS), NULL), 0);
	/* Each member removed its socket as it left. */
	assert_int_not_equal(stat(path, &st), 0);
	rmdir(sc.dir);
}

/* A member alone on a socket left by a dead process (rank 0), and one on
 * the same socket once rank 0 serves it (rank 1, on SIGUSR1). */
static int lone_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	sigset_t go, leave;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	sigemptyset(&leave);
	sigaddset(&leave, SIGUSR2);
	sigset_t both = go;
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	struct timespec wait = { .tv_sec = test_ms(WAIT_MS) / 1000 };
	if (m->rank == 1 && sigtimedwait(&go, NULL, &wait) < 0)
		return 21;
	char path[96];
	socket_path(sc, 0, path, sizeof path);
	struct app a;
	delivery_count_init(&a.delivered);
	grp_t *g;
	int rc = join_with_socket(local_singleton_config(), path, &a, &g);
	local_member_report(m, "%s %d", m->rank ? "second" : "first", rc);
	if (m->rank == 1 || rc)
		return rc ? 0 : 20;
	if (sigtimedwait(&leave, NULL, &wait) < 0)
		return 22;
	grp_free(g);
	return 0;
}

/* Sends a raw request; returns the answer's first line. */
static void raw_request(const char *path, const char *request, char *out, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	ssize_t n = recv(fd, out, cap - 1, MSG_WAITALL);
	assert_true(n > 0);
	out[n] = '\0';
	close(fd);
}

static void test_socket_busy_stale_and_bad_requests(void **state)
{
	(void)state;
	struct scenario sc;
	make_dir(&sc);
	char path[96], line[128];
	socket_path(&sc, 0, path, sizeof path);
	/* A dead process's socket: bound, never removed. */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int stale = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof sa), 0);
	close(stale);

	struct local_group *lg = local_group_start(2, lone_member, &sc);
	assert_non_null(lg);
	assert_int_equal(local_group_read_line(lg, 0, line, sizeof line, test_ms(WAIT_MS)), 0);
	assert_string_equal(line, "first 0");
	local_group_kill(lg, 1, SIGUSR1);
	assert_int_equal(local_group_read_line(lg, 1, line, sizeof line, test_ms(WAIT_MS)), 0);
	char busy[32];
	snprintf(busy, sizeof busy, "second %d", GRP_EBUSY);
	assert_string_equal(line, busy);

	char answer[512];
	raw_request(path, "restart text\n", answer, sizeof answer);
	assert_non_null(strstr(answer, "error: unknown request 'restart text'"));
	raw_request(path, "status yaml\n", answer, sizeof answer);
	assert_true(strncmp(answer, "error:", 6) == 0);
	raw_request(path, "status\n", answer, sizeof answer);
	assert_non_null(strstr(answer, "state"));

	local_group_kill(lg, 0, SIGUSR2);
	assert_int_equal(local_group_finish(lg, test_ms(WAIT_MS), NULL), 0);
	rmdir(sc.dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_groupctl_on_a_running_group),
		cmocka_unit_test(test_socket_busy_stale_and_bad_requests),
	};
	return RUN_CASES(argc, argv, cases);
}
