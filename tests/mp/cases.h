/* The main of a multi-process test executable. A case is named by its test
 * function without the test_ prefix (test_3_members_ALL: 3_members_ALL).
 *
 *   test_x                      runs every case
 *   test_x CASE...              runs the named cases; an unknown name fails
 *   test_x --registered CASE... fails unless the names cover every case, so
 *                               that tests/meson.build cannot leave one out
 *
 * Each case gets a teardown (so cases have none of their own) that stops
 * the member processes and removes the partition rigs a failed case left,
 * so that they cannot disturb the cases after it.
 *
 * A run whose cases passed but one of which skipped (skip_case) exits 77,
 * which meson reports as skipped: it did not check all it was asked to. */
#ifndef GRP_TEST_CASES_H
#define GRP_TEST_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "localgroup.h"
#include "netns.h"

int run_cases(int argc, char **argv, const struct CMUnitTest *cases, size_t count);

/* Runs fn in n member processes and asserts that every one exits 0 within
 * test_ms(timeout_ms), naming the ones that did not. */
void run_members(unsigned n, local_member_fn fn, void *arg, unsigned timeout_ms);

/* The same for a member in each of rig's namespaces. */
void run_members_in(const struct netns_rig *rig, local_member_fn fn, void *arg,
		    unsigned timeout_ms);

/* The verdict of a delivery-log checker over the logs in dir (its return
 * code, and err, the violation it named): a failure is reported with
 * where the logs are kept and fails the case; a pass removes dir. */
void assert_logs_pass_then_remove(const char *dir, int rc, const char *err);

/* Ends the running case as skipped, saying why on stderr. */
void skip_case(const char *why);

#define RUN_CASES(argc, argv, cases) run_cases(argc, argv, cases, sizeof(cases) / sizeof((cases)[0]))

#endif
