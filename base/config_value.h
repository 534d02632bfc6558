/* A key's value in every type of config_keys.h: parsed from text, held in
 * the form the getters of config.h return, and formatted back as canonical
 * text that parses to the same value. */
#ifndef GRP_CONFIG_VALUE_H
#define GRP_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_hostports.h"
#include "config_keys.h"

#define CONFIG_STRING_MAX 255

union config_value {
	char str[CONFIG_STRING_MAX + 1];
	uint64_t u;
	int64_t i;
	bool b;
	size_t choice; /* index into the key's choices */
	struct hostport_list hostports;
};

/* Validates text against key's type, constraint and check into *out, which the
 * caller later releases. On failure *out is untouched and why[why_len]
 * explains the rejection without saying where text came from; returns
 * GRP_ECONFIG, or GRP_ENOMEM. */
int config_value_parse(const struct config_key *key, const char *text, union config_value *out,
		       char *why, size_t why_len);

/* snprintf-like: writes as much of the canonical text as fits in buf
 * (NUL-terminated when len > 0) and returns its full length. */
size_t config_value_format(const struct config_key *key, const union config_value *value,
			   char *buf, size_t len);

/* Frees what a parsed value owns; a zeroed value is safe to release. */
void config_value_release(const struct config_key *key, union config_value *value);

#endif
