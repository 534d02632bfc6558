/* Levelled logging to stderr, quiet (errors only) by default.
 *
 * The level is the process's, and comes from the first of:
 *   1. the GROUP_LOG environment variable, when it names a level (error,
 *      warn, info, debug, trace, in any case);
 *   2. log.level of the configuration that a group or table was last opened
 *      with (config_apply_log_level);
 *   3. error.
 * A GROUP_LOG that names no level is reported once per process on stderr,
 * with the valid names, and otherwise ignored; an empty one counts as unset.
 * Every line carries the module name and the process id, so the interleaved
 * output of several members on one terminal stays readable. Thread-safe: one
 * line is one write(2). */
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

/* Applies the level that GROUP_LOG names, else cfg's log.level. The API
 * layer calls it whenever a group or table is opened, so GROUP_LOG_LEVEL and
 * configuration files take effect; with several open, the last call wins. */
void config_apply_log_level(const grp_config *cfg);

void log_set_level(enum log_level level);
/* Parses a level name, in any case; returns 0 and sets *out, or -1 for an
 * unknown name. */
int log_level_parse(const char *name, enum log_level *out);
/* The level GROUP_LOG names: returns 0 and sets *out, or -1 when GROUP_LOG
 * is unset, empty, or names no level (reported once, see above). */
int log_level_from_env(enum log_level *out);
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
