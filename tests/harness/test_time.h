/* Deadlines of tests and local runs, stretched where everything runs
 * slower: GROUP_TEST_TIME_SCALE (a positive number, default 1) multiplies
 * them, so a TCG-emulated VM, 10-30 times slower, exports 30 instead of
 * every test carrying margins for the slowest place it may run in.
 *
 * Loads shrunk where everything runs slower: GROUP_TEST_LOAD_SCALE (a
 * number >= 1, default 1) divides the counts of messages and pushes a
 * test makes, so that such a place runs the same cases, asserting the same
 * properties, on less data. */
#ifndef GRP_TEST_TIME_H
#define GRP_TEST_TIME_H

/* quiet_ms, enough on a quiet machine, times GROUP_TEST_TIME_SCALE. A
 * scale that is not a positive number ends the process with a message: a
 * typo must not silently run with the wrong deadlines. */
unsigned test_ms(unsigned quiet_ms);

/* count divided by GROUP_TEST_LOAD_SCALE, rounded up: at least 1 for a
 * count of at least 1. Every process of a test computes the same value, so
 * the side that sends and the side that checks agree. A scale that is not
 * a number >= 1 ends the process with a message. */
unsigned test_load(unsigned count);

#endif
