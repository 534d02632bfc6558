/* Where the application's callbacks run. */
#include "dispatch_keys.h"

static const char *const modes[] = { "engine", "dispatch", NULL };

static const struct config_key keys[] = {
	{
		.section = "callbacks", .name = "mode", .type = CONFIG_ENUM,
		.default_text = "engine", .choices = modes,
		.help = "engine: the deliver, view and persisted callbacks run on the library's "
			"engine thread. dispatch: they run on the application's thread, inside "
			"grp_dispatch, in the same order, while the engine goes on moving data; "
			"grp_fd is readable while some wait (for an event loop: poll it, then "
			"call grp_dispatch until GRP_EAGAIN). Not with membership.rejoin = auto.",
	},
	{
		.section = "callbacks", .name = "queue_mb", .type = CONFIG_UINT,
		.default_text = "16", .u = { 1, 65536 },
		.help = "dispatch mode: memory for the callbacks waiting for grp_dispatch "
			"(deliveries are copied). While it is full, stable messages wait, the "
			"senders' windows fill and the group slows to this member's pace. Views, a "
			"view change's last messages, what a state transfer held back and a "
			"message larger than this (one at a time) are taken regardless.",
	},
};

const struct config_keys dispatch_config_keys = CONFIG_KEYS(keys);
