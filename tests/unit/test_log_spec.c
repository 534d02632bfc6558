/* Log specs: every accepted form, and every refusal with its reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <group/error.h>

#include "log_spec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct override {
	const char *module; /* NULL: no more */
	enum log_level level;
};

/* Every module at level but those overrides name. */
static void assert_spec(const struct log_spec *spec, enum log_level level,
			const struct override overrides[])
{
	assert_int_equal(spec->default_level, level);
	for (int m = 0; m < LOG_MODULE_COUNT; m++) {
		enum log_level expected = level;
		for (size_t i = 0; overrides[i].module; i++) {
			if (strcmp(overrides[i].module, log_module_name(m)) == 0)
				expected = overrides[i].level;
		}
		if (spec->module_level[m] != expected)
			fail_msg("module %s: level %d, expected %d", log_module_name(m),
				 spec->module_level[m], expected);
	}
}

static const struct {
	const char *text;
	enum log_level level;
	struct override overrides[4];
} accepted[] = {
	{ "error", LOG_ERROR, { { NULL, LOG_ERROR } } },
	{ "warn", LOG_WARN, { { NULL, LOG_ERROR } } },
	{ "info", LOG_INFO, { { NULL, LOG_ERROR } } },
	{ "debug", LOG_DEBUG, { { NULL, LOG_ERROR } } },
	{ "trace", LOG_TRACE, { { NULL, LOG_ERROR } } },
	{ "TRACE", LOG_TRACE, { { NULL, LOG_ERROR } } },
	{ " \tDeBuG  ", LOG_DEBUG, { { NULL, LOG_ERROR } } },
	{ "warn,persist=debug", LOG_WARN, { { "persist", LOG_DEBUG } } },
	{ "persist=debug", LOG_ERROR, { { "persist", LOG_DEBUG } } },
	{ " info , persist = TRACE ,membership=warn ", LOG_INFO,
	  { { "persist", LOG_TRACE }, { "membership", LOG_WARN } } },
	{ "debug,persist=error", LOG_DEBUG, { { "persist", LOG_ERROR } } },
	{ "log=info,bootstrap=warn,transfer=trace", LOG_ERROR,
	  { { "log", LOG_INFO }, { "bootstrap", LOG_WARN }, { "transfer", LOG_TRACE } } },
};

static void test_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		struct log_spec spec;
		char why[256] = "";
		if (log_spec_parse(accepted[i].text, &spec, why, sizeof why) != 0)
			fail_msg("'%s' refused: %s", accepted[i].text, why);
		assert_spec(&spec, accepted[i].level, accepted[i].overrides);
	}
}

static void test_every_module_can_be_named(void **state)
{
	(void)state;
	for (int m = 0; m < LOG_MODULE_COUNT; m++) {
		char text[64];
		snprintf(text, sizeof text, "%s=trace", log_module_name(m));
		struct log_spec spec;
		assert_int_equal(log_spec_parse(text, &spec, NULL, 0), 0);
		const struct override only[] = { { log_module_name(m), LOG_TRACE }, { NULL, LOG_ERROR } };
		assert_spec(&spec, LOG_ERROR, only);
	}
}

static const struct {
	const char *text;
	const char *reason;
} refused[] = {
	{ "", "no spec" },
	{ "  ", "no spec" },
	{ "loud", "'loud' is not a log level (error, warn, info, debug, trace)" },
	{ "warn,", "item 2 is empty" },
	{ ",warn", "item 1 is empty" },
	{ "warn, ,persist=debug", "item 2 is empty" },
	{ "persist=debug,warn", "'warn': a level without a module comes first only" },
	{ "warn,info", "'info': a level without a module comes first only" },
	{ "=debug", "'=debug' names no module before '='" },
	{ "warn, persist = ", "'persist =' has no level after '='" },
	{ "nosuchmodule=debug", "'nosuchmodule' is not a module (admin, bootstrap, config," },
	{ "Persist=debug", "'Persist' is not a module" },
	{ "per sist=debug", "'per sist' is not a module" },
	{ "persist=loud", "'loud' is not a log level" },
	{ "persist=debug=info", "'debug=info' is not a log level" },
	{ "persist=debug, persist=info", "module 'persist' is given twice" },
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		struct log_spec spec, before;
		memset(&spec, 0x5a, sizeof spec);
		before = spec;
		char why[256] = "";
		int rc = log_spec_parse(refused[i].text, &spec, why, sizeof why);
		if (rc != GRP_ECONFIG)
			fail_msg("'%s': %d, expected GRP_ECONFIG", refused[i].text, rc);
		if (!strstr(why, refused[i].reason))
			fail_msg("'%s': reason '%s' lacks '%s'", refused[i].text, why,
				 refused[i].reason);
		assert_memory_equal(&spec, &before, sizeof spec);
	}
}

/* A caller that needs no reason passes no buffer. */
static void test_reason_optional(void **state)
{
	(void)state;
	struct log_spec spec;
	assert_int_equal(log_spec_parse("loud", &spec, NULL, 0), GRP_ECONFIG);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_every_module_can_be_named),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reason_optional),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
