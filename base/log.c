#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <group/group.h>

/* Both enums count up from their first name, so equal ends make them equal
 * throughout. */
_Static_assert((int)LOG_ERROR == (int)GRP_LOG_ERROR && (int)LOG_TRACE == (int)GRP_LOG_TRACE,
	       "a handler is given the logger's levels as they are");

const char *const log_level_names[] = { "error", "warn", "info", "debug", "trace" };

/* Longer messages are cut. */
#define MESSAGE_MAX 1024

/* Every line is written with handler_lock held for reading, so that
 * grp_log_set_handler, which takes it for writing, returns only once no
 * line is inside the previous handler. */
static pthread_rwlock_t handler_lock = PTHREAD_RWLOCK_INITIALIZER;
static grp_log_fn handler; /* NULL: stderr */
static void *handler_arg;

static void write_stderr(enum log_level level, const char *module, const char *message)
{
	char line[MESSAGE_MAX + 128];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int n = snprintf(line, sizeof line, "%ld.%06ld [%d] %s %s: %s\n", (long)ts.tv_sec,
			 ts.tv_nsec / 1000, (int)getpid(), log_level_names[level], module, message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	(void)ignored;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char message[MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pthread_rwlock_rdlock(&handler_lock);
	if (handler)
		handler((int)level, module, message, handler_arg);
	else
		write_stderr(level, module, message);
	pthread_rwlock_unlock(&handler_lock);
}

GRP_API void grp_log_set_handler(grp_log_fn fn, void *arg)
{
	pthread_rwlock_wrlock(&handler_lock);
	handler = fn;
	handler_arg = arg;
	pthread_rwlock_unlock(&handler_lock);
}
