/* The configuration store: one parsed value per declared key, set and read
 * by key name. */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int config_fail(grp_config *cfg, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
	va_end(ap);
	return err;
}

static size_t total_keys(const struct config_keys *const layers[], size_t layer_count)
{
	size_t total = 0;
	for (size_t l = 0; l < layer_count; l++)
		total += layers[l]->count;
	return total;
}

static bool same_section(const struct config_key *a, const struct config_key *b)
{
	return strcmp(a->section, b->section) == 0;
}

static bool section_declared_before(const struct config_key *const *declared, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (same_section(declared[j], declared[i]))
			return true;
	}
	return false;
}

/* Sections in the order their first key appears in the registry, each
 * section's keys in registry order: several layers declare keys of one
 * section, so their lists interleave. */
static int lay_out_keys(grp_config *cfg, const struct config_keys *const layers[],
			size_t layer_count)
{
	size_t total = total_keys(layers, layer_count);
	if (total == 0)
		return GRP_EINVAL;
	const struct config_key **declared = calloc(total, sizeof *declared);
	cfg->key = calloc(total, sizeof *cfg->key);
	cfg->value = calloc(total, sizeof *cfg->value);
	cfg->origin = calloc(total, sizeof *cfg->origin);
	if (!declared || !cfg->key || !cfg->value || !cfg->origin) {
		free(declared);
		return GRP_ENOMEM;
	}
	size_t n = 0;
	for (size_t l = 0; l < layer_count; l++) {
		for (size_t k = 0; k < layers[l]->count; k++)
			declared[n++] = &layers[l]->keys[k];
	}
	for (size_t first = 0; first < total; first++) {
		if (section_declared_before(declared, first))
			continue;
		for (size_t k = first; k < total; k++) {
			if (same_section(declared[k], declared[first]))
				cfg->key[cfg->count++] = declared[k];
		}
	}
	free(declared);
	return 0;
}

int config_store_new(const struct config_keys *const layers[], size_t layer_count,
		     grp_config **out)
{
	if (!out)
		return GRP_EINVAL;
	grp_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return GRP_ENOMEM;
	int rc = lay_out_keys(cfg, layers, layer_count);
	for (size_t i = 0; rc == 0 && i < cfg->count; i++) {
		char why[CONFIG_ERROR_MAX];
		rc = config_value_parse(cfg->key[i], cfg->key[i]->default_text, &cfg->value[i], why,
					sizeof why);
	}
	if (rc != 0) {
		grp_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

void grp_config_free(grp_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->count; i++) {
		config_value_release(cfg->key[i], &cfg->value[i]);
		free(cfg->origin[i]);
	}
	free(cfg->key);
	free(cfg->value);
	free(cfg->origin);
	free(cfg);
}

const char *grp_config_error(const grp_config *cfg)
{
	return cfg ? cfg->error : "";
}

size_t config_find_key(const grp_config *cfg, const char *section, size_t section_len,
		       const char *name)
{
	for (size_t i = 0; i < cfg->count; i++) {
		const struct config_key *key = cfg->key[i];
		if (strlen(key->section) == section_len &&
		    strncmp(key->section, section, section_len) == 0 && strcmp(key->name, name) == 0)
			return i;
	}
	return cfg->count;
}

/* key is "section.key". */
static size_t find_qualified_key(const grp_config *cfg, const char *key)
{
	const char *dot = strchr(key, '.');
	return dot ? config_find_key(cfg, key, (size_t)(dot - key), dot + 1) : cfg->count;
}

int config_staging_begin(grp_config *cfg, struct config_staging *staging)
{
	staging->staged = calloc(cfg->count, sizeof *staging->staged);
	staging->value = calloc(cfg->count, sizeof *staging->value);
	staging->origin = calloc(cfg->count, sizeof *staging->origin);
	if (!staging->staged || !staging->value || !staging->origin) {
		free(staging->staged);
		free(staging->value);
		free(staging->origin);
		return config_fail(cfg, GRP_ENOMEM, "out of memory");
	}
	return 0;
}

void config_stage(const grp_config *cfg, struct config_staging *staging, size_t i,
		  const union config_value *value, const char *origin)
{
	if (staging->staged[i])
		config_value_release(cfg->key[i], &staging->value[i]);
	free(staging->origin[i]);
	/* Without memory for it, the origin reads "unknown": the value counts. */
	staging->origin[i] = strdup(origin);
	staging->value[i] = *value;
	staging->staged[i] = true;
}

/* Takes over origin (NULL: "unknown") as key i's. */
static void set_origin(grp_config *cfg, size_t i, char *origin)
{
	free(cfg->origin[i]);
	cfg->origin[i] = origin ? origin : strdup("unknown");
}

int config_staging_end(grp_config *cfg, struct config_staging *staging, int rc)
{
	for (size_t i = 0; i < cfg->count; i++) {
		if (!staging->staged[i])
			continue;
		if (rc == 0) {
			config_value_release(cfg->key[i], &cfg->value[i]);
			cfg->value[i] = staging->value[i];
			set_origin(cfg, i, staging->origin[i]);
		} else {
			config_value_release(cfg->key[i], &staging->value[i]);
			free(staging->origin[i]);
		}
	}
	free(staging->staged);
	free(staging->value);
	free(staging->origin);
	return rc;
}

int grp_config_set(grp_config *cfg, const char *key, const char *value)
{
	if (!cfg)
		return GRP_EINVAL;
	if (!key || !value)
		return config_fail(cfg, GRP_EINVAL, "grp_config_set: NULL key or value");
	size_t i = find_qualified_key(cfg, key);
	if (i == cfg->count)
		return config_fail(cfg, GRP_ENOTFOUND, "unknown key '%s'", key);
	char why[CONFIG_ERROR_MAX];
	union config_value parsed;
	int rc = config_value_parse(cfg->key[i], value, &parsed, why, sizeof why);
	if (rc != 0)
		return config_fail(cfg, rc, "%s: %s", key, why);
	config_value_release(cfg->key[i], &cfg->value[i]);
	cfg->value[i] = parsed;
	set_origin(cfg, i, strdup("grp_config_set"));
	return 0;
}

size_t config_key_count(const grp_config *cfg)
{
	return cfg->count;
}

int config_key_describe(const grp_config *cfg, size_t i, struct config_description *out)
{
	if (i >= cfg->count)
		return GRP_ENOTFOUND;
	out->section = cfg->key[i]->section;
	out->name = cfg->key[i]->name;
	out->origin = cfg->origin[i] ? cfg->origin[i] : "default";
	size_t len = config_value_format(cfg->key[i], &cfg->value[i], NULL, 0);
	char *text = malloc(len + 1);
	if (!text)
		return GRP_ENOMEM;
	config_value_format(cfg->key[i], &cfg->value[i], text, len + 1);
	out->value = text;
	return 0;
}

/* cfg is const here, so failures cannot be recorded in grp_config_error. */
int grp_config_get(const grp_config *cfg, const char *key, char *buf, size_t len)
{
	if (!cfg || !key || !buf)
		return GRP_EINVAL;
	size_t i = find_qualified_key(cfg, key);
	if (i == cfg->count)
		return GRP_ENOTFOUND;
	size_t needed = config_value_format(cfg->key[i], &cfg->value[i], buf, len);
	return needed < len ? 0 : GRP_ENOSPC;
}

/* The getters are called with key names written in code: a miss or a type
 * mismatch is a bug. */
static size_t index_or_abort(const grp_config *cfg, const char *key)
{
	size_t i = find_qualified_key(cfg, key);
	if (i == cfg->count)
		abort();
	return i;
}

static const union config_value *typed_value(const grp_config *cfg, const char *key,
					     enum config_type type)
{
	size_t i = index_or_abort(cfg, key);
	if (cfg->key[i]->type != type)
		abort();
	return &cfg->value[i];
}

const char *config_str(const grp_config *cfg, const char *key)
{
	size_t i = index_or_abort(cfg, key);
	const struct config_key *def = cfg->key[i];
	if (def->type == CONFIG_ENUM)
		return def->choices[cfg->value[i].choice];
	if (def->type != CONFIG_STRING)
		abort();
	return cfg->value[i].str;
}

uint64_t config_uint(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, CONFIG_UINT)->u;
}

int64_t config_int(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, CONFIG_INT)->i;
}

bool config_bool(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, CONFIG_BOOL)->b;
}

size_t config_hostports(const grp_config *cfg, const char *key, const struct grp_hostport **out)
{
	const struct hostport_list *list = &typed_value(cfg, key, CONFIG_HOSTPORTS)->hostports;
	*out = list->items;
	return list->count;
}
