/* Levelled logging, quiet (errors only) by default.
 *
 * Each source file logs under its module's name (log_modules.h). Which
 * lines pass is a log spec (log_spec.h: a level for every module, and
 * levels for some modules), the first of:
 *   1. the GROUP_LOG environment variable, when it holds a valid spec;
 *   2. the application's, grp_log_set_level;
 *   3. log.level of the configuration that a group or table was last opened
 *      with (config_apply_log_level);
 *   4. error.
 * A bad GROUP_LOG is reported once per process on stderr, with the reason,
 * and otherwise ignored; an empty one counts as unset.
 *
 * A line that passes goes to the application's handler (grp_log_set_handler)
 * or else to stderr as "sec.usec [pid] level module: message": the module
 * and the process id keep the interleaved output of several members on one
 * terminal readable. Thread-safe: one line is one write(2). */
#ifndef GRP_LOG_H
#define GRP_LOG_H

#include "config_keys.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* Indexed by enum log_level. */
extern const char *const log_level_names[LOG_TRACE + 1];

/* The logger's configuration key, log.level, for the registry in
 * lib/config_keys.c. */
extern const struct config_keys log_config_keys;

/* Offers cfg's log.level (see above). The API layer calls it whenever a
 * group or table is opened, so GROUP_LOG_LEVEL and configuration files take
 * effect; with several open, the last call wins. */
void config_apply_log_level(const grp_config *cfg);

/* Whether a line of module at level passes. Cheap: one relaxed load and
 * a compare when no module's level lets it through, a look-up of module
 * only when some modules' levels do and others' do not. */
int log_enabled(enum log_level level, const char *module);
void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_AT(lvl, mod, ...) \
	do { if (log_enabled(lvl, mod)) log_write(lvl, mod, __VA_ARGS__); } while (0)
#define log_error(mod, ...) LOG_AT(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...) LOG_AT(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) LOG_AT(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) LOG_AT(LOG_DEBUG, mod, __VA_ARGS__)
#define log_trace(mod, ...) LOG_AT(LOG_TRACE, mod, __VA_ARGS__)

#endif
