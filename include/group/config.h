/* Configuration: every key declared once, with type, default, help text and
 * an environment override named GROUP_<SECTION>_<KEY>.
 *
 * A configuration is an INI file:
 *
 *     # comment            ; comment
 *     [group]
 *     name = orders
 *     members = 10.0.0.1:7100, 10.0.0.2:7100, 10.0.0.3:7100
 *
 * Keys are addressed as "section.key". Unknown sections and keys, malformed
 * lines and values outside their type or range are rejected with
 * GRP_ECONFIG, and grp_config_error() then names the file, the line and the
 * key. Environment variables GROUP_<SECTION>_<KEY> (upper case) override the
 * file when grp_config_apply_env() is called; one whose section exists but
 * whose key does not is rejected by name too.
 *
 * Ownership: the caller owns a grp_config and frees it with grp_config_free.
 * Threading: a grp_config is not thread-safe; the library copies what it
 * needs from it when a group or table is opened, so it may be freed then. */
#ifndef GROUP_CONFIG_H
#define GROUP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include <group/error.h>
#include <group/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct grp_config grp_config;

/* A configuration holding every key's default. Returns GRP_ENOMEM. */
GRP_API int grp_config_new(grp_config **out);
GRP_API void grp_config_free(grp_config *cfg);

/* Reads an INI file into cfg (keys it sets override earlier values).
 * GRP_EIO if the file cannot be read, GRP_ECONFIG for bad content; on error
 * cfg keeps the values it had before the call. */
GRP_API int grp_config_load_file(grp_config *cfg, const char *path);

/* Same as grp_config_load_file for a string holding INI text; name is used
 * in error messages in place of a file name. */
GRP_API int grp_config_load_string(grp_config *cfg, const char *text, const char *name);

/* Applies GROUP_<SECTION>_<KEY> variables from the environment. */
GRP_API int grp_config_apply_env(grp_config *cfg);

/* Sets "section.key" from its textual form, validated as a file value is.
 * GRP_ENOTFOUND for an unknown key, GRP_ECONFIG for a bad value. */
GRP_API int grp_config_set(grp_config *cfg, const char *key, const char *value);

/* Copies the effective textual value of "section.key" into buf (always
 * NUL-terminated when len > 0). GRP_ENOTFOUND, or GRP_ENOSPC if truncated. */
GRP_API int grp_config_get(const grp_config *cfg, const char *key, char *buf, size_t len);

/* The message of the last failed call on cfg ("" if none). Valid until the
 * next call on cfg. */
GRP_API const char *grp_config_error(const grp_config *cfg);

/* Writes every key with its effective value, default, env name and help, as
 * a commented INI file that grp_config_load_file accepts back. */
GRP_API int grp_config_dump(const grp_config *cfg, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
