/* Text helpers that the configuration's value parsers, INI parser and
 * formatters share. */
#ifndef GRP_CONFIG_TEXT_H
#define GRP_CONFIG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any message the configuration writes, and for a parser's
 * explanation of a rejected value. */
#define CONFIG_ERROR_MAX 1024

/* Parsers explain a rejection in their caller's buffer; the caller adds where
 * the value came from, which the parser does not know. Returns GRP_ECONFIG. */
int config_reject(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like snprintf at offset *used, but *used advances by the full length
 * wanted, so a formatter can report the size it needs as snprintf does. */
void config_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Returns the length of s[0..len) without surrounding whitespace and stores
 * where it starts in *start. */
size_t config_trim_span(const char *s, size_t len, size_t *start);

enum decimal_status { DECIMAL_OK, DECIMAL_MALFORMED, DECIMAL_OVERFLOW };

/* Accepts an optional '-' (when allowed) and decimal digits, nothing else:
 * strtoull would also take spaces and '+', and wrap "-1" to UINT64_MAX. */
enum decimal_status config_parse_decimal(const char *text, size_t len, bool allow_minus,
					 bool *negative, uint64_t *magnitude);

#endif
