/* The links layer's keys: the group and its members, this member's place
 * among them, how long connecting may take, and how the engine thread
 * waits for work. */
#include "links_keys.h"

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
		.section = "group", .name = "contact", .type = CONFIG_HOSTPORTS,
		.default_text = "",
		.help = "Joining a running group: bootstrap addresses (host:port) of some of its "
			"members. When set, group.members and member.rank are not used: this process "
			"asks a member for the view, is added at the next view change, and receives "
			"the application state from a member; it needs member.id and member.listen.",
	},
	{
		.section = "group", .name = "secret_file", .type = CONFIG_STRING,
		.default_text = "", .non_empty = false,
		.help = "File holding the group's secret: at least 32 random bytes as hex (groupctl "
			"keygen FILE writes one), readable by its owner only. Every bootstrap "
			"connection proves it both ways and every later bootstrap frame carries a "
			"MAC; fabric connections are accepted only with a token announced that way. "
			"Empty: the group is open, anyone who knows group.name can join (a warning "
			"is logged). The RDMA traffic itself is neither encrypted nor authenticated.",
	},
	{
		.section = "member", .name = "listen", .type = CONFIG_HOSTPORTS,
		.default_text = "",
		.help = "A joiner's own bootstrap address (host:port), which members and later "
			"joiners reach it at (with member.listen_fd, the port of that socket is used).",
	},
	{
		.section = "member", .name = "rank", .type = CONFIG_UINT,
		.default_text = "0", .u = { 0, 1023 },
		.help = "This process's position in group.members.",
	},
	{
		.section = "member", .name = "id", .type = CONFIG_INT,
		.default_text = "-1", .i = { -1, 4095 },
		.help = "This member's node id, 0..4095: the stable name that views and deliveries "
			"give it; no two members may share one. -1 (the default) means member.rank, "
			"its position in group.members.",
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
		.section = "fabric", .name = "connect_timeout_ms", .type = CONFIG_UINT,
		.default_text = "15000", .u = { 1, 3600000 },
		.help = "How long to wait for every peer's bootstrap and fabric connection.",
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
};

const struct config_keys links_config_keys = CONFIG_KEYS(keys);
