/* The persistence keys: whether and where a member logs what it delivers. */
#include "persist_keys.h"

static const char *const modes[] = { "off", "async", "durable", NULL };

static const struct config_key keys[] = {
	{
		.section = "persist", .name = "mode", .type = CONFIG_ENUM,
		.default_text = "off", .choices = modes,
		.help = "off: nothing is logged. async: every delivered message is appended to the "
			"member's log in persist.dir before the application sees it, and counts as "
			"persisted once written to the operating system (it survives a crash of the "
			"process, not of the machine); the log is synced every "
			"persist.sync_interval_ms. durable: a message counts as persisted once an "
			"fdatasync covered it (one sync covers every record written since the last). "
			"grp_persisted and the persisted callback report the version persisted at "
			"every member of the view.",
	},
	{
		.section = "persist", .name = "dir", .type = CONFIG_STRING,
		.default_text = "", .non_empty = false,
		.help = "Directory of this member's log (created if missing, mode 0700); required "
			"when persist.mode is not off. One directory per member and group: a log "
			"written for another group.name is refused.",
	},
	{
		.section = "persist", .name = "segment_mb", .type = CONFIG_UINT,
		.default_text = "64", .u = { 1, 65536 },
		.help = "Size of one segment file of the log, preallocated when it is created, so "
			"that a full disk is found when a segment is made rather than in the middle "
			"of a record.",
	},
	{
		.section = "persist", .name = "ring_mb", .type = CONFIG_UINT,
		.default_text = "16", .u = { 1, 4096 },
		.help = "Memory between delivery and the log writer thread. Delivery waits while "
			"it is full; a message larger than half of it is written by the engine "
			"thread itself once the writer is idle.",
	},
	{
		.section = "persist", .name = "sync_interval_ms", .type = CONFIG_UINT,
		.default_text = "200", .u = { 1, 3600000 },
		.help = "async mode: how often the log is synced to disk.",
	},
};

const struct config_keys persist_config_keys = CONFIG_KEYS(keys);
