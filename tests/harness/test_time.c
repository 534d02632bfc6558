#include "test_time.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TIME_SCALE_VARIABLE "GROUP_TEST_TIME_SCALE"

static double time_scale(void)
{
	const char *text = getenv(TIME_SCALE_VARIABLE);
	if (!text)
		return 1.0;
	char *end;
	double scale = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(scale) || scale <= 0) {
		fprintf(stderr, "%s '%s': expected a positive number\n", TIME_SCALE_VARIABLE, text);
		exit(2);
	}
	return scale;
}

unsigned test_ms(unsigned quiet_ms)
{
	double ms = quiet_ms * time_scale();
	return ms >= UINT_MAX ? UINT_MAX : (unsigned)ms;
}
