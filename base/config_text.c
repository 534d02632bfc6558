#include "config_text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

#include <group/error.h>

int config_reject(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return GRP_ECONFIG;
}

void config_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

size_t config_trim_span(const char *s, size_t len, size_t *start)
{
	size_t first = 0;
	while (first < len && isspace((unsigned char)s[first]))
		first++;
	while (len > first && isspace((unsigned char)s[len - 1]))
		len--;
	*start = first;
	return len - first;
}

enum decimal_status config_parse_decimal(const char *text, size_t len, bool allow_minus,
					 bool *negative, uint64_t *magnitude)
{
	*negative = allow_minus && len > 0 && text[0] == '-';
	size_t i = *negative ? 1 : 0;
	if (i == len)
		return DECIMAL_MALFORMED;
	bool overflow = false;
	uint64_t value = 0;
	for (; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return DECIMAL_MALFORMED;
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			value = value * 10 + digit;
	}
	*magnitude = value;
	return overflow ? DECIMAL_OVERFLOW : DECIMAL_OK;
}
