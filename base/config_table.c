/* Every configuration key, and the configuration constructor built on them. */
#include <group/config.h>

#include "config_keys.h"

static const char *const rdmc_schedules[] = { "binomial", "chain", "sequential", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", "trace", NULL };

static const struct config_key keys[] = {
	{
		.section = "group", .name = "name", .type = CONFIG_STRING,
		.default_text = "libgroup", .non_empty = true,
		.help = "Group name; members reject bootstrap frames from a group of another name.",
	},
	{
		.section = "group", .name = "members", .type = CONFIG_HOSTPORTS,
		.default_text = "",
		.help = "Bootstrap address (host:port) of every member, in rank order.",
	},
	{
		.section = "member", .name = "rank", .type = CONFIG_UINT,
		.default_text = "0", .u = { 0, 1023 },
		.help = "This process's position in group.members.",
	},
	{
		.section = "member", .name = "listen_fd", .type = CONFIG_INT,
		.default_text = "-1", .i = { -1, 1048576 },
		.help = "An already-listening TCP socket to use as this member's bootstrap listener "
			"(socket activation, tests); -1 binds the address from group.members. "
			"Opening a group or table takes it over and closes it, on failure too "
			"(except GRP_EINVAL for invalid arguments).",
	},
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
		.section = "fabric", .name = "connect_timeout_ms", .type = CONFIG_UINT,
		.default_text = "15000", .u = { 1, 3600000 },
		.help = "How long to wait for every peer's bootstrap and fabric connection.",
	},
	{
		.section = "fabric", .name = "stall_timeout_ms", .type = CONFIG_UINT,
		.default_text = "10000", .u = { 1, 3600000 },
		.help = "A peer whose send queue stays full this long (it stopped draining its "
			"writes) is reported failed.",
	},
	{
		.section = "engine", .name = "spin_us", .type = CONFIG_UINT,
		.default_text = "0", .u = { 0, 1000000 },
		.help = "Idle engine: microseconds of busy polling before yielding. Spinning only "
			"pays where every member has a core to itself; with more busy threads than "
			"cores (several members per host) it starves the others.",
	},
	{
		.section = "engine", .name = "yield_us", .type = CONFIG_UINT,
		.default_text = "200", .u = { 0, 1000000 },
		.help = "Idle engine: microseconds of sched_yield polling before sleeping.",
	},
	{
		.section = "engine", .name = "sleep_ms", .type = CONFIG_UINT,
		.default_text = "20", .u = { 1, 1000 },
		.help = "Idle engine: longest sleep between checks; a remote write wakes it earlier.",
	},
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
		.help = "RDMC pipeline block in bytes (at most 2^20 blocks per message).",
	},
	{
		.section = "rdmc", .name = "schedule", .type = CONFIG_ENUM,
		.default_text = "binomial", .choices = rdmc_schedules,
		.help = "RDMC block schedule: binomial (pipeline, the default), chain, sequential.",
	},
	{
		.section = "log", .name = "level", .type = CONFIG_ENUM,
		.default_text = "error", .choices = log_levels,
		.help = "Log verbosity (also GROUP_LOG).",
	},
};

static const struct config_keys all_keys = CONFIG_KEYS(keys);
static const struct config_keys *const registry[] = { &all_keys };

int grp_config_new(grp_config **out)
{
	return config_store_new(registry, sizeof registry / sizeof registry[0], out);
}
