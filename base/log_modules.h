/* The modules that log: each source file logs under one name (its
 * static const char *MOD), and log specs (log_spec.h) name modules by it.
 * A name used in the sources and missing here could not be given its own
 * level; tests/log_modules/check_log_modules.py fails on one, and on a name
 * here that no source uses. */
#ifndef GRP_LOG_MODULES_H
#define GRP_LOG_MODULES_H

#include <stddef.h>

#define LOG_MODULE_COUNT 18

/* The name of module i, for 0 <= i < LOG_MODULE_COUNT. */
const char *log_module_name(int i);

/* The index of the module named name[0..len), or -1 when there is none. */
int log_module_find(const char *name, size_t len);

#endif
