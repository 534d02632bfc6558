/* Typed access to a grp_config for the rest of the library.
 *
 * Values are always valid, because every path that stores one (defaults,
 * files, environment, grp_config_set) validated it first. The getters abort()
 * only on programming errors: a key name that does not exist, or a getter
 * that does not match the key's declared type. */
#ifndef GRP_LIB_CONFIG_H
#define GRP_LIB_CONFIG_H

#include <group/config.h>
#include <stdbool.h>
#include <stdint.h>

struct grp_hostport {
	char host[256]; /* a host name, or an IPv6 address without brackets */
	uint16_t port;
};

/* String and enum keys. */
const char *config_str(const grp_config *cfg, const char *key);
uint64_t config_uint(const grp_config *cfg, const char *key);
int64_t config_int(const grp_config *cfg, const char *key);
bool config_bool(const grp_config *cfg, const char *key);
/* Host:port list keys: returns the count; *out points into cfg (valid until
 * the key changes or cfg is freed; NULL when the list is empty). */
size_t config_hostports(const grp_config *cfg, const char *key, const struct grp_hostport **out);

/* Every key with its effective value and where it came from ("default",
 * "FILE:LINE", "env GROUP_...", "grp_config_set"), for reports. */
struct config_description {
	const char *section, *name, *origin; /* valid while cfg is unchanged */
	char *value;                         /* the caller's to free */
};
size_t config_key_count(const grp_config *cfg);
/* GRP_ENOTFOUND past the last key, GRP_ENOMEM. */
int config_key_describe(const grp_config *cfg, size_t i, struct config_description *out);

#endif
