/* The configuration object as the config_*.c files of base share it: the
 * store (config_store.c) owns it, the INI parser, the environment and the
 * dump read and fill it through what is declared here. Nothing outside
 * those files includes this header. */
#ifndef GRP_CONFIG_INTERNAL_H
#define GRP_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config_keys.h"
#include "config_text.h"
#include "config_value.h"

struct grp_config {
	size_t count;
	/* Grouped by section, in the order config_store_new documents. */
	const struct config_key **key;
	union config_value *value; /* parallel to key */
	char **origin;             /* parallel to key: where the value came from; NULL: default */
	char error[CONFIG_ERROR_MAX];
};

/* Records the message for grp_config_error and returns err. */
int config_fail(grp_config *cfg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Index of the key section.name (section given by its first section_len
 * characters), or cfg->count when there is none. */
size_t config_find_key(const grp_config *cfg, const char *section, size_t section_len,
		       const char *name);

/* Values parsed by one load or apply_env, moved into the configuration only
 * once every line or variable has been accepted, so a failed call changes
 * nothing. */
struct config_staging {
	bool *staged;              /* per key */
	union config_value *value; /* per key, valid where staged */
	char **origin;             /* per key, where staged */
};

/* GRP_ENOMEM, recorded in cfg. */
int config_staging_begin(grp_config *cfg, struct config_staging *staging);
/* Takes over *value as key i's new value, replacing one staged before;
 * origin (copied) says where it came from: "file:line", "env NAME". */
void config_stage(const grp_config *cfg, struct config_staging *staging, size_t i,
		  const union config_value *value, const char *origin);
/* Moves the staged values into cfg if rc is 0, else drops them; frees the
 * staging and returns rc. */
int config_staging_end(grp_config *cfg, struct config_staging *staging, int rc);

#define CONFIG_ENV_NAME_MAX 128

/* GROUP_<SECTION>_<NAME> in upper case; an empty name gives the prefix that
 * every variable of the section starts with. */
void config_env_name(const char *section, const char *name, char *buf, size_t len);

#endif
