/* The membership layer's keys: when a silent member is taken for failed. */
#include "membership_keys.h"

static const struct config_key keys[] = {
	{
		.section = "membership", .name = "suspect_timeout_ms", .type = CONFIG_UINT,
		.default_text = "1000", .u = { 10, 3600000 },
		.help = "A member whose heartbeat stays silent this long is suspected and removed "
			"from the view (a broken link is suspected at once). Heartbeats go out ten "
			"times per timeout. Too short a timeout on a loaded host removes members "
			"that were only descheduled.",
	},
};

const struct config_keys membership_config_keys = CONFIG_KEYS(keys);
