/* The logger's spec from a configuration. */
#include "config.h"
#include "log.h"
#include "log_filter.h"

void config_apply_log_level(const grp_config *cfg)
{
	struct log_spec spec;
	/* log.level's check accepted the value, so this always succeeds. */
	if (log_spec_parse(config_str(cfg, "log.level"), &spec, NULL, 0) == 0)
		log_filter_set_config(&spec);
}
