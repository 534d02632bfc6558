/* The epoch layer's keys: which members send, and how ordered multicast
 * messages travel (window slots, flow control). */
#include "epoch_keys.h"

static const struct config_key keys[] = {
	{
		.section = "multicast", .name = "senders", .type = CONFIG_STRING,
		.default_text = "all", .non_empty = true,
		.help = "Members that send: 'all', or their ranks separated by commas. Every other "
			"member only receives; declare only real senders, since each quiet sender "
			"costs nulls.",
	},
	{
		.section = "multicast", .name = "max_smc_payload", .type = CONFIG_UINT,
		.default_text = "10240", .u = { 0, 1048576 },
		.help = "Largest message in bytes that travels in a send-window slot; larger ones "
			"travel by RDMC, up to rdmc.max_payload.",
	},
	{
		.section = "multicast", .name = "window", .type = CONFIG_UINT,
		.default_text = "32", .u = { 1, 65536 },
		.help = "Messages a sender may have in flight before one is delivered everywhere.",
	},
	{
		.section = "multicast", .name = "nonblocking", .type = CONFIG_BOOL,
		.default_text = "false",
		.help = "grp_send returns GRP_EAGAIN instead of blocking when the window is full.",
	},
	{
		.section = "multicast", .name = "send_timeout_ms", .type = CONFIG_UINT,
		.default_text = "60000", .u = { 0, 86400000 },
		.help = "Longest a blocking grp_send waits for the window (GRP_ETIMEDOUT); 0 waits "
			"until the window opens or the view is wedged.",
	},
};

const struct config_keys epoch_config_keys = CONFIG_KEYS(keys);
