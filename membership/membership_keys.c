/* The membership layer's keys: when a silent member is taken for failed. */
#include "membership_keys.h"

static const char *const rejoin_modes[] = { "off", "auto", NULL };

static const struct config_key keys[] = {
	{
		.section = "membership", .name = "suspect_timeout_ms", .type = CONFIG_UINT,
		.default_text = "1000", .u = { 10, 3600000 },
		.help = "A member whose heartbeat stays silent this long is suspected and removed "
			"from the view (a broken link is suspected at once). Heartbeats go out ten "
			"times per timeout. Too short a timeout on a loaded host removes members "
			"that were only descheduled.",
	},
	{
		.section = "membership", .name = "rejoin", .type = CONFIG_ENUM,
		.default_text = "off", .choices = rejoin_modes,
		.help = "auto: a member that stopped (it lost sight of a majority, or the others "
			"removed it) tries to join the group again by itself, under its node id, "
			"until it is in; the application then sees a view whose state_replaced is "
			"set, state_load replaces its state, and deliveries go on. off: it stays "
			"stopped (grp_join on a fresh handle brings it back).",
	},
};

const struct config_keys membership_config_keys = CONFIG_KEYS(keys);
