/* The logger's key. */
#include "log.h"

static const struct config_key keys[] = {
	{
		.section = "log", .name = "level", .type = CONFIG_ENUM,
		.default_text = "error", .choices = log_level_names,
		.help = "Log verbosity: error, warn, info, debug or trace. Applied whenever a group "
			"or table is opened; the GROUP_LOG environment variable, when it names a "
			"level, wins over it.",
	},
};

const struct config_keys log_config_keys = CONFIG_KEYS(keys);
