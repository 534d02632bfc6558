#include "cases.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localgroup.h"
#include "test_time.h"

#define CASE_PREFIX "test_"
#define REGISTERED_OPTION "--registered"
/* The exit status meson (and automake) read as "skipped". */
#define EXIT_SKIPPED 77

static unsigned skipped_cases;

static const char *case_name(const struct CMUnitTest *c)
{
	size_t prefix = strlen(CASE_PREFIX);
	return strncmp(c->name, CASE_PREFIX, prefix) == 0 ? c->name + prefix : c->name;
}

static int stop_leftovers(void **state)
{
	(void)state;
	local_group_stop_all();
	netns_rig_destroy_all();
	return 0;
}

static bool named(const char *name, char **names, int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static bool has_case(const struct CMUnitTest *cases, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(case_name(&cases[i]), name) == 0)
			return true;
	return false;
}

static void list_cases(const char *program, const struct CMUnitTest *cases, size_t count)
{
	fprintf(stderr, "%s: its cases are:", program);
	for (size_t i = 0; i < count; i++)
		fprintf(stderr, " %s", case_name(&cases[i]));
	fprintf(stderr, "\n");
}

static int check_registered(const char *program, const struct CMUnitTest *cases, size_t count,
			    char **names, int n_names)
{
	int missing = 0;
	for (size_t i = 0; i < count; i++) {
		if (!named(case_name(&cases[i]), names, n_names)) {
			fprintf(stderr, "%s: case %s is not registered in tests/meson.build\n", program,
				case_name(&cases[i]));
			missing++;
		}
	}
	return missing ? EXIT_FAILURE : EXIT_SUCCESS;
}

int run_cases(int argc, char **argv, const struct CMUnitTest *cases, size_t count)
{
	const char *program = argv[0];
	if (argc > 1 && strcmp(argv[1], REGISTERED_OPTION) == 0)
		return check_registered(program, cases, count, argv + 2, argc - 2);
	char **names = argv + 1;
	int n_names = argc - 1;
	for (int i = 0; i < n_names; i++) {
		if (!has_case(cases, count, names[i])) {
			fprintf(stderr, "%s: no case named '%s'\n", program, names[i]);
			list_cases(program, cases, count);
			return EXIT_FAILURE;
		}
	}
	struct CMUnitTest *selected = calloc(count, sizeof *selected);
	if (!selected) {
		fprintf(stderr, "%s: out of memory\n", program);
		return EXIT_FAILURE;
	}
	size_t n_selected = 0;
	for (size_t c = 0; c < count; c++) {
		if (n_names == 0 || named(case_name(&cases[c]), names, n_names)) {
			selected[n_selected] = cases[c];
			selected[n_selected++].teardown_func = stop_leftovers;
		}
	}
	int failed = _cmocka_run_group_tests(program, selected, n_selected, NULL, NULL);
	free(selected);
	return failed ? EXIT_FAILURE : skipped_cases ? EXIT_SKIPPED : EXIT_SUCCESS;
}

void assert_logs_pass_then_remove(const char *dir, int rc, const char *err)
{
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

void skip_case(const char *why)
{
	fprintf(stderr, "skipped: %s\n", why);
	skipped_cases++;
	skip();
}

static void await_members_exit_0(struct local_group *lg, unsigned n, unsigned timeout_ms)
{
	assert_non_null(lg);
	int status[n];
	local_group_finish(lg, test_ms(timeout_ms), status);
	for (unsigned i = 0; i < n; i++) {
		if (status[i] != 0)
			fprintf(stderr, "member %u of %u exited %d\n", i, n, status[i]);
		assert_int_equal(status[i], 0);
	}
}

void run_members(unsigned n, local_member_fn fn, void *arg, unsigned timeout_ms)
{
	await_members_exit_0(local_group_start(n, fn, arg), n, timeout_ms);
}

void run_members_in(const struct netns_rig *rig, local_member_fn fn, void *arg,
		    unsigned timeout_ms)
{
	await_members_exit_0(local_group_start_in(rig, fn, arg), netns_rig_size(rig), timeout_ms);
}
