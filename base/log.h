/* Levelled logging to stderr, quiet (errors only) by default.
 *
 * The level comes from the GROUP_LOG environment variable (error, warn, info,
 * debug, trace) or from log_set_level(). Every line carries the module name
 * and the process id, so the interleaved output of several members on one
 * terminal stays readable. Thread-safe: one line is one write(2). */
#ifndef GRP_LOG_H
#define GRP_LOG_H

#include "config_keys.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* Indexed by enum log_level, NULL-terminated: the names GROUP_LOG and
 * log.level accept. */
extern const char *const log_level_names[];

/* The logger's configuration key, log.level, for the registry in
 * lib/config_keys.c. */
extern const struct config_keys log_config_keys;

void log_set_level(enum log_level level);
/* Parses a level name; returns 0 and sets *out, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out);
int log_enabled(enum log_level level);
void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, mod, ...) \
	do { if (log_enabled(lvl)) log_write(lvl, mod, __VA_ARGS__); } while (0)
#define log_error(mod, ...) LOG_AT(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) LOG_AT(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) LOG_AT(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) LOG_AT(LOG_DEBUG, mod, __VA_ARGS__)
#define log_trace(mod, ...) LOG_AT(LOG_TRACE, mod, __VA_ARGS__)

#endif
