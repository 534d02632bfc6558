/* The RDMC layer's keys: the largest message, its blocks and their
 * schedule. */
#include "rdmc_keys.h"

/* The names rdmc_schedule_parse accepts. */
static const char *const schedules[] = { "binomial", "chain", "sequential", NULL };

static const struct config_key keys[] = {
	{
		.section = "rdmc", .name = "max_payload", .type = CONFIG_UINT,
		.default_text = "16777216", .u = { 1, 17179869184u },
		.help = "Largest RDMC message in bytes. Raw RDMC registers one buffer of this size "
			"per member, ordered multicast two per sender (none when it is not above "
			"multicast.max_smc_payload).",
	},
	{
		.section = "rdmc", .name = "block_size", .type = CONFIG_UINT,
		.default_text = "1048576", .u = { 4096, 1073741824 },
		.help = "RDMC pipeline block in bytes (at most 2^19 blocks per message).",
	},
	{
		.section = "rdmc", .name = "schedule", .type = CONFIG_ENUM,
		.default_text = "binomial", .choices = schedules,
		.help = "RDMC block schedule: binomial (pipeline, the default), chain, sequential.",
	},
};

const struct config_keys rdmc_config_keys = CONFIG_KEYS(keys);
