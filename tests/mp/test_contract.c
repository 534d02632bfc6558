/* The API's contract where a user gets it wrong: forbidden calls from a
 * callback fail at once and harm nothing, every configuration error names
 * its key, and log.level is applied. Each case runs in a member process of
 * its own (the test process never opens a fabric). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "check.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "test_time.h"

#define WAIT_MS 30000u

struct callback_state {
	grp_t *g;
	struct delivery_count delivered;
	int leave_rc;
	bool tried;
};

static void try_forbidden_calls(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)msg;
	struct callback_state *st = user;
	if (!st->tried) {
		st->tried = true;
		st->leave_rc = grp_leave(g);
		grp_free(g);
	}
	delivery_count_add(&st->delivered);
}

/* grp_leave and grp_free from a deliver callback: an error at once, and
 * the group goes on delivering and leaves cleanly afterwards. */
static int callback_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	struct callback_state st = { .leave_rc = 1 };
	delivery_count_init(&st.delivered);
	grp_config *cfg = local_singleton_config();
	CHECK(cfg);
	grp_callbacks cb = { .size = sizeof cb, .deliver = try_forbidden_calls };
	CHECK(grp_join(cfg, &cb, &st, &st.g) == 0);
	grp_config_free(cfg);
	CHECK(grp_send(st.g, "one", 3) == 0);
	CHECK(grp_send(st.g, "two", 3) == 0);
	CHECK(delivery_count_await(&st.delivered, 2, test_ms(WAIT_MS)) == 0);
	CHECK(st.leave_rc == GRP_ECALLBACK);
	CHECK(grp_leave(st.g) == 0);
	grp_free(st.g);
	delivery_count_destroy(&st.delivered);
	return 0;
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	(void)user;
}

/* Runs grp_join with stderr in a file; returns its code and what it logged. */
static int join_logged(grp_config *cfg, char *logged, size_t len)
{
	char path[] = "/tmp/grp-contract-XXXXXX";
	int file = mkstemp(path);
	int saved = dup(2);
	if (file < 0 || saved < 0)
		return 1;
	dup2(file, 2);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	grp_t *g = NULL;
	int rc = grp_join(cfg, &cb, NULL, &g);
	if (!rc) {
		grp_leave(g);
		grp_free(g);
	}
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(file, logged, len - 1, 0);
	logged[n > 0 ? n : 0] = '\0';
	close(file);
	unlink(path);
	return rc;
}

/* One bad setting: grp_join is GRP_ECONFIG and the log names `names`. */
static int refused(const char *key, const char *value, const char *names)
{
	grp_config *cfg = local_singleton_config();
	char logged[4096];
	int rc = cfg && grp_config_set(cfg, key, value) == 0
			 ? join_logged(cfg, logged, sizeof logged)
			 : 1;
	grp_config_free(cfg);
	if (rc != GRP_ECONFIG || !strstr(logged, names)) {
		fprintf(stderr, "%s = %s: %s, logged '%s'\n", key, value, grp_strerror(rc), logged);
		return 1;
	}
	return 0;
}

static int config_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	CHECK(refused("member.rank", "1", "member.rank") == 0);
	CHECK(refused("group.members", "", "group.members") == 0);
	CHECK(refused("group.members", "no-such-host.invalid:7000", "no-such-host.invalid") == 0);
	CHECK(refused("fabric.address", "no-such-host.invalid", "fabric.address") == 0);
	/* A descriptor number nothing here has open. */
	CHECK(fcntl(1000, F_GETFD) < 0);
	CHECK(refused("member.listen_fd", "1000", "member.listen_fd") == 0);
	/* Not a socket: refused, and left open. */
	CHECK(refused("member.listen_fd", "1", "member.listen_fd") == 0);
	CHECK(fcntl(1, F_GETFD) >= 0);
	return 0;
}

/* log.level = info makes grp_join say what it joined; the default says
 * nothing. */
static int log_member(const struct local_member *m, void *arg)
{
	(void)m;
	(void)arg;
	unsetenv("GROUP_LOG");
	char logged[4096];
	grp_config *cfg = local_singleton_config();
	CHECK(cfg && grp_config_set(cfg, "log.level", "info") == 0);
	CHECK(join_logged(cfg, logged, sizeof logged) == 0);
	grp_config_free(cfg);
	CHECK(strstr(logged, "joined view 0"));
	cfg = local_singleton_config();
	CHECK(cfg && grp_config_set(cfg, "log.level", "error") == 0);
	CHECK(join_logged(cfg, logged, sizeof logged) == 0);
	grp_config_free(cfg);
	CHECK(logged[0] == '\0');
	return 0;
}

static void run_one(local_member_fn fn)
{
	run_members(1, fn, NULL, WAIT_MS + 30000u);
}

static void test_forbidden_calls_from_a_callback(void **state)
{
	(void)state;
	run_one(callback_member);
}

static void test_config_errors_name_their_key(void **state)
{
	(void)state;
	run_one(config_member);
}

static void test_log_level_applied(void **state)
{
	(void)state;
	run_one(log_member);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_calls_from_a_callback),
		cmocka_unit_test(test_config_errors_name_their_key),
		cmocka_unit_test(test_log_level_applied),
	};
	return RUN_CASES(argc, argv, tests);
}
