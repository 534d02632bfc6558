/* Writing a configuration back as a commented INI file. */
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The store keeps keys grouped by section, so a header is due wherever the
 * section changes. */
static int dump_key(const grp_config *cfg, size_t i, FILE *out)
{
	const struct config_key *key = cfg->key[i];
	const union config_value *value = &cfg->value[i];
	if (i == 0 || strcmp(key->section, cfg->key[i - 1]->section) != 0)
		fprintf(out, "\n[%s]\n", key->section);
	char env[CONFIG_ENV_NAME_MAX];
	config_env_name(key->section, key->name, env, sizeof env);
	size_t len = config_value_format(key, value, NULL, 0);
	char *text = malloc(len + 1);
	if (!text)
		return GRP_ENOMEM;
	config_value_format(key, value, text, len + 1);
	fprintf(out, "\n# %s\n# default: %s, env: %s\n%s =%s%s\n", key->help,
		key->default_text[0] ? key->default_text : "(empty)", env, key->name,
		len ? " " : "", text);
	free(text);
	return 0;
}

/* cfg is const here, so failures cannot be recorded in grp_config_error. */
int grp_config_dump(const grp_config *cfg, FILE *out)
{
	if (!cfg || !out)
		return GRP_EINVAL;
	fprintf(out, "# libgroup configuration: every key with its effective value.\n");
	for (size_t i = 0; i < cfg->count; i++) {
		int rc = dump_key(cfg, i, out);
		if (rc != 0)
			return rc;
	}
	return ferror(out) ? GRP_EIO : 0;
}
