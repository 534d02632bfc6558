/* The logger's level from a configuration. */
#include "config.h"
#include "log.h"

void config_apply_log_level(const grp_config *cfg)
{
	enum log_level level = LOG_ERROR;
	/* log.level's choices are log_level_names, so its value always parses. */
	if (log_level_from_env(&level) != 0)
		log_level_parse(config_str(cfg, "log.level"), &level);
	log_set_level(level);
}
