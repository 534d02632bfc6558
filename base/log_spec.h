/* Log specs: which lines the logger lets through, as GROUP_LOG, log.level
 * and grp_log_set_level give them.
 *
 *   spec := item { "," item }
 *   item := LEVEL | MODULE "=" LEVEL
 *
 * A LEVEL alone, allowed only as the first item, is every module's level;
 * without one it is error. MODULE "=" LEVEL gives one module its own level;
 * each module at most once. LEVEL is a name of log_level_names in any case;
 * MODULE one of log_modules.h. Whitespace around items, module names and
 * levels is ignored. */
#ifndef GRP_LOG_SPEC_H
#define GRP_LOG_SPEC_H

#include <stddef.h>

#include "log.h"
#include "log_modules.h"

struct log_spec {
	enum log_level default_level;
	/* Each module's own level, or the default for a module not named. */
	enum log_level module_level[LOG_MODULE_COUNT];
};

/* Returns 0 and fills *out, or GRP_ECONFIG with *out untouched and
 * why[0..why_len) saying what is wrong (without saying where text came
 * from). */
int log_spec_parse(const char *text, struct log_spec *out, char *why, size_t why_len);

#endif
