/* The registry of every layer's configuration keys, and the public
 * constructor that needs it: base, where the store lives, cannot name the
 * layers above it.
 *
 * The registry's order is the dump's: sections come in the order their
 * first key appears here (group, member, fabric, engine, multicast, rdmc,
 * membership, persist, log, admin, callbacks), and keys within a section
 * in registry order. */
#include <group/config.h>

#include "config_keys.h"
#include "dispatch_keys.h"
#include "epoch_keys.h"
#include "fabric_keys.h"
#include "links_keys.h"
#include "log.h"
#include "membership_keys.h"
#include "persist_keys.h"
#include "rdmc_keys.h"

/* The keys the API layer itself uses. */
static const struct config_key api_keys[] = {
	{
		.section = "member", .name = "leave_timeout_ms", .type = CONFIG_UINT,
		.default_text = "15000", .u = { 1, 3600000 },
		.help = "How long grp_leave waits for the other members to confirm that they "
			"received every message this member sent.",
	},
};

static const struct config_keys api_config_keys = CONFIG_KEYS(api_keys);

static const struct config_key admin_keys[] = {
	{
		.section = "admin", .name = "socket", .type = CONFIG_STRING,
		.default_text = "",
		.help = "A Unix socket (created with mode 0600; a stale one is replaced) on which "
			"this member answers groupctl status, stats and config. Empty: none.",
	},
};

static const struct config_keys admin_config_keys = CONFIG_KEYS(admin_keys);

static const struct config_keys *const registry[] = {
	&links_config_keys,
	&fabric_config_keys,
	&epoch_config_keys,
	&rdmc_config_keys,
	&membership_config_keys,
	&persist_config_keys,
	&log_config_keys,
	&api_config_keys,
	&admin_config_keys,
	&dispatch_config_keys,
};

GRP_API int grp_config_new(grp_config **out)
{
	return config_store_new(registry, sizeof registry / sizeof registry[0], out);
}
