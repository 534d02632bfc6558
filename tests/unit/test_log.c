/* The logger: per-module filtering, the application's handler and spec,
 * and which source of the spec wins. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <group/group.h>

#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct line {
	int level;
	char module[32];
	char message[2048];
};

/* What the recording handler was given. */
struct record {
	size_t count;
	struct line lines[4];
};

static void record_line(int level, const char *module, const char *message, void *arg)
{
	struct record *r = arg;
	assert_true(r->count < ARRAY_SIZE(r->lines));
	struct line *l = &r->lines[r->count++];
	l->level = level;
	snprintf(l->module, sizeof l->module, "%s", module);
	snprintf(l->message, sizeof l->message, "%s", message);
}

static void assert_line(const struct record *r, size_t i, int level, const char *module,
			const char *message)
{
	assert_true(i < r->count);
	assert_int_equal(r->lines[i].level, level);
	assert_string_equal(r->lines[i].module, module);
	assert_string_equal(r->lines[i].message, message);
}

static int setup(void **state)
{
	static struct record record;
	memset(&record, 0, sizeof record);
	grp_log_set_handler(record_line, &record);
	*state = &record;
	return grp_log_set_level(NULL);
}

static int teardown(void **state)
{
	(void)state;
	grp_log_set_handler(NULL, NULL);
	return grp_log_set_level(NULL);
}

/* A module at debug while the default is error: its debug lines pass,
 * another module's do not, and its trace lines do not either. */
static void test_module_above_default(void **state)
{
	struct record *r = *state;
	assert_int_equal(grp_log_set_level("persist=debug"), 0);
	log_debug("persist", "kept %d", 1);
	log_debug("membership", "dropped");
	log_trace("persist", "dropped");
	log_info("persist", "kept %d", 2);
	log_warn("membership", "dropped");
	log_error("membership", "kept %d", 3);
	assert_int_equal(r->count, 3);
	assert_line(r, 0, GRP_LOG_DEBUG, "persist", "kept 1");
	assert_line(r, 1, GRP_LOG_INFO, "persist", "kept 2");
	assert_line(r, 2, GRP_LOG_ERROR, "membership", "kept 3");
	/* A module the table lacks has the default level. */
	assert_false(log_enabled(LOG_DEBUG, "nosuchmodule"));
	assert_true(log_enabled(LOG_ERROR, "nosuchmodule"));
}

static void test_module_below_default(void **state)
{
	struct record *r = *state;
	assert_int_equal(grp_log_set_level("debug, persist=error"), 0);
	log_warn("persist", "dropped");
	log_debug("group", "kept");
	log_error("persist", "kept");
	assert_int_equal(r->count, 2);
	assert_line(r, 0, GRP_LOG_DEBUG, "group", "kept");
	assert_line(r, 1, GRP_LOG_ERROR, "persist", "kept");
}

/* The handler gets exactly the lines the spec lets through, each with its
 * level, module and text: no prefix, no newline. */
static void test_handler_gets_the_lines(void **state)
{
	struct record *r = *state;
	assert_int_equal(grp_log_set_level("warn"), 0);
	log_warn("fabric", "peer %s gone after %d ms", "b", 40);
	log_info("fabric", "dropped");
	log_error("sst", "row %u", 3u);
	assert_int_equal(r->count, 2);
	assert_line(r, 0, GRP_LOG_WARN, "fabric", "peer b gone after 40 ms");
	assert_line(r, 1, GRP_LOG_ERROR, "sst", "row 3");
}

static void test_long_message_cut(void **state)
{
	struct record *r = *state;
	char text[3000];
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	log_error("group", "%s", text);
	assert_int_equal(r->count, 1);
	assert_int_equal(strlen(r->lines[0].message), 1023);
	assert_memory_equal(r->lines[0].message, text, 1023);
}

/* Runs log_error(module, message) with stderr on a pipe; returns what came
 * through it (at most len - 1 bytes). */
static void log_error_capturing_stderr(const char *module, const char *message, char *out,
				       size_t len)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);
	log_error(module, "%s", message);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	/* The write end is closed now: read sees everything, then the end. */
	size_t got = 0;
	ssize_t n;
	while (got < len - 1 && (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
}

static void test_null_handler_back_to_stderr(void **state)
{
	struct record *r = *state;
	char said[512];
	log_error_capturing_stderr("group", "to the handler", said, sizeof said);
	assert_string_equal(said, "");
	assert_int_equal(r->count, 1);
	assert_line(r, 0, GRP_LOG_ERROR, "group", "to the handler");

	grp_log_set_handler(NULL, NULL);
	log_error_capturing_stderr("group", "to stderr", said, sizeof said);
	assert_int_equal(r->count, 1);
	char tail[64];
	snprintf(tail, sizeof tail, " [%d] error group: to stderr\n", (int)getpid());
	char *at = strchr(said, ' ');
	assert_non_null(at);
	assert_string_equal(at, tail);
	/* "sec.usec" */
	size_t digits = strspn(said, "0123456789");
	assert_true(digits > 0);
	assert_int_equal(said[digits], '.');
	assert_int_equal(strspn(said + digits + 1, "0123456789"), 6);
	assert_int_equal(said + digits + 7, at);
}

/* A bad spec is refused, the reason logged, and the spec in force kept. */
static void test_set_level_refuses_bad_spec(void **state)
{
	struct record *r = *state;
	assert_int_equal(grp_log_set_level("info"), 0);
	assert_int_equal(grp_log_set_level("info,nosuchmodule=debug"), GRP_ECONFIG);
	assert_int_equal(r->count, 1);
	assert_int_equal(r->lines[0].level, GRP_LOG_ERROR);
	assert_string_equal(r->lines[0].module, "log");
	assert_non_null(strstr(r->lines[0].message, "'nosuchmodule' is not a module"));
	assert_true(log_enabled(LOG_INFO, "group"));
	assert_false(log_enabled(LOG_DEBUG, "group"));
	assert_int_equal(grp_log_set_level("persist=loud"), GRP_ECONFIG);
	assert_int_equal(r->count, 2);
	assert_non_null(strstr(r->lines[1].message, "'loud' is not a log level"));
}

static void apply_config(const char *spec)
{
	grp_config *cfg;
	assert_int_equal(grp_config_new(&cfg), 0);
	assert_int_equal(grp_config_set(cfg, "log.level", spec), 0);
	config_apply_log_level(cfg);
	grp_config_free(cfg);
}

/* GROUP_LOG over the application's spec over log.level; NULL withdraws
 * the application's. */
static void test_which_spec_wins(void **state)
{
	(void)state;
	apply_config("debug");
	assert_true(log_enabled(LOG_DEBUG, "group"));

	assert_int_equal(grp_log_set_level("warn,join=trace"), 0);
	assert_false(log_enabled(LOG_INFO, "group"));
	assert_true(log_enabled(LOG_TRACE, "join"));
	apply_config("info");
	assert_false(log_enabled(LOG_INFO, "group"));

	setenv("GROUP_LOG", "trace", 1);
	assert_int_equal(grp_log_set_level("warn"), 0);
	unsetenv("GROUP_LOG");
	assert_true(log_enabled(LOG_TRACE, "group"));

	assert_int_equal(grp_log_set_level(NULL), 0);
	assert_true(log_enabled(LOG_INFO, "group"));
	assert_false(log_enabled(LOG_DEBUG, "group"));
	assert_false(log_enabled(LOG_TRACE, "join"));
	apply_config("error");
	assert_false(log_enabled(LOG_WARN, "group"));
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* The tests choose the spec; an inherited GROUP_LOG would win. */
	unsetenv("GROUP_LOG");
	static const struct CMUnitTest tests[] = {
		TEST(test_module_above_default),
		TEST(test_module_below_default),
		TEST(test_handler_gets_the_lines),
		TEST(test_long_message_cut),
		TEST(test_null_handler_back_to_stderr),
		TEST(test_set_level_refuses_bad_spec),
		TEST(test_which_spec_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
