#include "test_time.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TIME_SCALE_VARIABLE "GROUP_TEST_TIME_SCALE"
#define LOAD_SCALE_VARIABLE "GROUP_TEST_LOAD_SCALE"

/* The variable's value, default 1; anything below min or not a number
 * ends the process. */
static double scale_from(const char *variable, double min, const char *expected)
{
	const char *text = getenv(variable);
	if (!text)
		return 1.0;
	char *end;
	double scale = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(scale) || scale < min || scale <= 0) {
		fprintf(stderr, "%s '%s': expected %s\n", variable, text, expected);
		exit(2);
	}
	return scale;
}

unsigned test_ms(unsigned quiet_ms)
{
	double ms = quiet_ms * scale_from(TIME_SCALE_VARIABLE, 0, "a positive number");
	return ms >= UINT_MAX ? UINT_MAX : (unsigned)ms;
}

unsigned test_load(unsigned count)
{
	double n = ceil(count / scale_from(LOAD_SCALE_VARIABLE, 1, "a number >= 1"));
	return (unsigned)n;
}
