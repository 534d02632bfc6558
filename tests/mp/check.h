/* Checks inside member processes, which are not cmocka tests: a failed
 * check names itself on stderr and makes the member exit non-zero, which
 * the test in the parent asserts on. */
#ifndef GRP_TEST_CHECK_H
#define GRP_TEST_CHECK_H

#include <stdio.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1; \
		} \
	} while (0)

#endif
