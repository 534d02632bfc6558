/* Deadlines of tests and local runs, stretched where everything runs
 * slower: GROUP_TEST_TIME_SCALE (a positive number, default 1) multiplies
 * them, so a TCG-emulated VM, 10-30 times slower, exports 30 instead of
 * every test carrying margins for the slowest place it may run in. */
#ifndef GRP_TEST_TIME_H
#define GRP_TEST_TIME_H

/* quiet_ms, enough on a quiet machine, times GROUP_TEST_TIME_SCALE. A
 * scale that is not a positive number ends the process with a message: a
 * typo must not silently run with the wrong deadlines. */
unsigned test_ms(unsigned quiet_ms);

#endif
