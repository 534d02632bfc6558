#include "log_filter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <group/group.h>

#include "config_text.h"

static const char *MOD = "log";

/* max_level before any spec is applied: the first line checked chooses one,
 * so GROUP_LOG counts before any configuration is opened. */
#define UNCHOSEN (-1)

/* The spec in force, which every log_enabled reads without a lock. Relaxed:
 * a line checked while the spec changes may be judged by the old spec or
 * the new one, and nothing else is published through these. max_level and
 * min_level are the highest and lowest level of any module, so that only a
 * line between them costs a look-up of its module; most lines are above
 * max_level, and judged by it alone. */
static atomic_int max_level = UNCHOSEN;
static atomic_int min_level;
static atomic_int default_level; /* a module's that log_modules.h lacks */
static atomic_int module_level[LOG_MODULE_COUNT];

_Static_assert(LOG_ERROR == 0, "a zeroed log_spec lets only errors through");

/* The sources of the spec other than GROUP_LOG, which is read each time. */
static pthread_mutex_t sources_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_spec config_spec;      /* zero until a configuration is applied */
static struct log_spec application_spec; /* valid when application_chose */
static bool application_chose;

static atomic_flag bad_env_reported = ATOMIC_FLAG_INIT;

/* GROUP_LOG's spec: 0, or -1 when it is unset, empty or bad. A bad one is
 * reported once per process: every group or table opened would repeat it. */
static int spec_from_env(struct log_spec *out)
{
	const char *env = getenv("GROUP_LOG");
	if (!env || !*env)
		return -1;
	char why[CONFIG_ERROR_MAX];
	if (log_spec_parse(env, out, why, sizeof why) == 0)
		return 0;
	if (!atomic_flag_test_and_set(&bad_env_reported))
		log_write(LOG_WARN, MOD, "GROUP_LOG=%s ignored: %s", env, why);
	return -1;
}

/* Called with sources_lock held, so that specs applied at once do not mix.
 * Returns the new max_level. */
static int apply(const struct log_spec *spec)
{
	int max = (int)spec->default_level;
	int min = max;
	for (int m = 0; m < LOG_MODULE_COUNT; m++) {
		int level = (int)spec->module_level[m];
		atomic_store_explicit(&module_level[m], level, memory_order_relaxed);
		max = level > max ? level : max;
		min = level < min ? level : min;
	}
	atomic_store_explicit(&default_level, (int)spec->default_level, memory_order_relaxed);
	atomic_store_explicit(&min_level, min, memory_order_relaxed);
	atomic_store_explicit(&max_level, max, memory_order_relaxed);
	return max;
}

/* GROUP_LOG is read before taking the lock: a bad one is logged, and a log
 * handler may call grp_log_set_level. */
static int choose(void)
{
	struct log_spec from_env;
	bool env_valid = spec_from_env(&from_env) == 0;
	pthread_mutex_lock(&sources_lock);
	int max = apply(env_valid           ? &from_env :
			application_chose ? &application_spec :
					    &config_spec);
	pthread_mutex_unlock(&sources_lock);
	return max;
}

int log_enabled(enum log_level level, const char *module)
{
	int max = atomic_load_explicit(&max_level, memory_order_relaxed);
	if (max == UNCHOSEN)
		max = choose();
	if ((int)level > max)
		return 0;
	if ((int)level <= atomic_load_explicit(&min_level, memory_order_relaxed))
		return 1;
	int m = log_module_find(module, strlen(module));
	atomic_int *own = m >= 0 ? &module_level[m] : &default_level;
	return (int)level <= atomic_load_explicit(own, memory_order_relaxed);
}

void log_filter_set_config(const struct log_spec *spec)
{
	pthread_mutex_lock(&sources_lock);
	config_spec = *spec;
	pthread_mutex_unlock(&sources_lock);
	choose();
}

GRP_API int grp_log_set_level(const char *spec)
{
	struct log_spec parsed;
	char why[CONFIG_ERROR_MAX];
	if (spec && log_spec_parse(spec, &parsed, why, sizeof why) != 0) {
		log_error(MOD, "grp_log_set_level(\"%s\"): %s", spec, why);
		return GRP_ECONFIG;
	}
	pthread_mutex_lock(&sources_lock);
	application_chose = spec != NULL;
	if (spec)
		application_spec = parsed;
	pthread_mutex_unlock(&sources_lock);
	choose();
	return 0;
}
