/* The logger's key. */
#include "config_value.h"
#include "log.h"
#include "log_spec.h"

static int check_spec(const union config_value *value, char *why, size_t why_len)
{
	struct log_spec spec;
	return log_spec_parse(value->str, &spec, why, why_len);
}

static const struct config_key keys[] = {
	{
		.section = "log", .name = "level", .type = CONFIG_STRING,
		.default_text = "error", .non_empty = true, .check = check_spec,
		.help = "Which log lines are written: a level for every module (error, warn, "
			"info, debug or trace, in any case; each includes those before it), then "
			"module=level items giving some modules their own, as in "
			"'warn,persist=debug,membership=info'; with items alone, as in "
			"'persist=debug', the others stay at error. A module is the name after "
			"the level in a line; an unknown one is refused with the list. Applied "
			"whenever a group or table is opened; grp_log_set_level, and the GROUP_LOG "
			"environment variable when it holds a valid spec, win over it.",
	},
};

const struct config_keys log_config_keys = CONFIG_KEYS(keys);
