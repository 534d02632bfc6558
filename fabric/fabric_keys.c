/* The fabric layer's keys: the libfabric provider, the address of its
 * endpoints, and how long a peer may leave its send queue full. */
#include "fabric_keys.h"

static const struct config_key keys[] = {
	{
		.section = "fabric", .name = "provider", .type = CONFIG_STRING,
		.default_text = "tcp", .non_empty = true,
		.help = "libfabric provider: tcp (any Ethernet) or verbs (InfiniBand, RoCE, soft-RoCE).",
	},
	{
		.section = "fabric", .name = "address", .type = CONFIG_STRING,
		.default_text = "", .non_empty = false,
		.help = "Local address for fabric endpoints; empty = the host of this member's "
			"group.members entry. RoCE needs the RDMA netdev's address.",
	},
	{
		.section = "fabric", .name = "stall_timeout_ms", .type = CONFIG_UINT,
		.default_text = "10000", .u = { 1, 3600000 },
		.help = "A peer whose send queue stays full this long (it stopped draining its "
			"writes) is reported failed.",
	},
};

const struct config_keys fabric_config_keys = CONFIG_KEYS(keys);
