/* GROUP_<SECTION>_<KEY> environment variables over a configuration. */
#include "config_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ENV_PREFIX "GROUP_"

void config_env_name(const char *section, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, ENV_PREFIX "%s_%s", section, name);
	for (char *c = buf; *c; c++)
		*c = (char)toupper((unsigned char)*c);
}

/* Index of the key whose variable is var[0..name_len), or cfg->count. */
static size_t find_env_key(const grp_config *cfg, const char *var, size_t name_len)
{
	for (size_t i = 0; i < cfg->count; i++) {
		char env[CONFIG_ENV_NAME_MAX];
		config_env_name(cfg->key[i]->section, cfg->key[i]->name, env, sizeof env);
		if (strlen(env) == name_len && strncmp(env, var, name_len) == 0)
			return i;
	}
	return cfg->count;
}

static const char *find_env_section(const grp_config *cfg, const char *var, size_t name_len)
{
	for (size_t i = 0; i < cfg->count; i++) {
		char prefix[CONFIG_ENV_NAME_MAX];
		config_env_name(cfg->key[i]->section, "", prefix, sizeof prefix);
		size_t prefix_len = strlen(prefix);
		if (prefix_len <= name_len && strncmp(prefix, var, prefix_len) == 0)
			return cfg->key[i]->section;
	}
	return NULL;
}

/* var is one "NAME=value" entry of environ. Variables outside every known
 * section's prefix belong to someone else (GROUP_LOG is the logger's). */
static int apply_env_var(grp_config *cfg, struct config_staging *staging, const char *var)
{
	const char *eq = strchr(var, '=');
	if (!eq || strncmp(var, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
		return 0;
	size_t name_len = (size_t)(eq - var);
	size_t i = find_env_key(cfg, var, name_len);
	if (i < cfg->count) {
		const struct config_key *key = cfg->key[i];
		char why[CONFIG_ERROR_MAX];
		union config_value parsed;
		int rc = config_value_parse(key, eq + 1, &parsed, why, sizeof why);
		if (rc != 0)
			return config_fail(cfg, rc, "environment variable %.*s: %s.%s: %s",
					   (int)name_len, var, key->section, key->name, why);
		char origin[CONFIG_ENV_NAME_MAX + 8];
		snprintf(origin, sizeof origin, "env %.*s", (int)name_len, var);
		config_stage(cfg, staging, i, &parsed, origin);
		return 0;
	}
	const char *section = find_env_section(cfg, var, name_len);
	if (section)
		return config_fail(cfg, GRP_ECONFIG,
				   "environment variable %.*s: no such key in section [%s]",
				   (int)name_len, var, section);
	return 0;
}

int grp_config_apply_env(grp_config *cfg)
{
	if (!cfg)
		return GRP_EINVAL;
	struct config_staging staging;
	int rc = config_staging_begin(cfg, &staging);
	if (rc != 0)
		return rc;
	for (char **var = environ; rc == 0 && *var; var++)
		rc = apply_env_var(cfg, &staging, *var);
	return config_staging_end(cfg, &staging, rc);
}
