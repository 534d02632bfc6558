#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *const log_level_names[] = { "error", "warn", "info", "debug", "trace", NULL };

/* -1: not yet read from the environment. */
static atomic_int current_level = -1;

static atomic_flag bad_env_reported = ATOMIC_FLAG_INIT;

int log_level_parse(const char *name, enum log_level *out)
{
	for (int i = 0; i <= LOG_TRACE; i++) {
		if (strcasecmp(name, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&current_level, (int)level, memory_order_relaxed);
}

/* Once per process: every group or table opened would repeat it. */
static void report_bad_env(const char *value)
{
	if (atomic_flag_test_and_set(&bad_env_reported))
		return;
	char names[64];
	size_t used = 0;
	for (int i = 0; log_level_names[i] && used < sizeof names; i++)
		used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
					 log_level_names[i]);
	log_write(LOG_WARN, "log", "GROUP_LOG=%s ignored: not a log level (%s)", value, names);
}

int log_level_from_env(enum log_level *out)
{
	const char *env = getenv("GROUP_LOG");
	if (!env || !*env)
		return -1;
	if (log_level_parse(env, out) == 0)
		return 0;
	report_bad_env(env);
	return -1;
}

int log_enabled(enum log_level level)
{
	int cur = atomic_load_explicit(&current_level, memory_order_relaxed);
	if (cur < 0) {
		enum log_level from_env;
		cur = log_level_from_env(&from_env) == 0 ? (int)from_env : LOG_ERROR;
		atomic_store_explicit(&current_level, cur, memory_order_relaxed);
	}
	return (int)level <= cur;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int n = snprintf(line, sizeof line, "%ld.%06ld [%d] %s %s: ", (long)ts.tv_sec,
			 ts.tv_nsec / 1000, (int)getpid(), log_level_names[level], module);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof line)
		n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	(void)ignored;
}
