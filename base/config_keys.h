/* How a layer declares the configuration keys whose values it uses.
 *
 * Each layer lists its keys in one array of struct config_key (its *_keys.c
 * file) and exports the array as a struct config_keys. Base cannot name the
 * layers above it, so the registry of every layer's list lives at the top
 * (lib/config_keys.c), which builds configurations from it with
 * config_store_new. Adding a key is one entry in its layer's array: parsing,
 * validation, the GROUP_<SECTION>_<KEY> variable and the dump all follow from
 * the entry. Declaring a key reads nothing; only the API layer reads values
 * (config.h). */
#ifndef GRP_CONFIG_KEYS_H
#define GRP_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <group/config.h>

union config_value;

enum config_type {
	CONFIG_STRING,    /* text without control characters or surrounding spaces */
	CONFIG_UINT,      /* unsigned decimal */
	CONFIG_INT,       /* signed decimal */
	CONFIG_BOOL,      /* true/false, yes/no, on/off, 1/0 */
	CONFIG_ENUM,      /* one word of a fixed list */
	CONFIG_HOSTPORTS, /* host:port list, see config_hostports.h */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	/* Parsed like any other value whenever a configuration is created. */
	const char *default_text;
	/* The constraint that applies to the key's type. */
	union {
		bool non_empty;                   /* CONFIG_STRING */
		struct { uint64_t min, max; } u;  /* CONFIG_UINT */
		struct { int64_t min, max; } i;   /* CONFIG_INT */
		const char *const *choices;       /* CONFIG_ENUM, NULL-terminated */
	};
	/* NULL, or a constraint the type cannot state, checked on a value the
	 * type accepted: returns 0, or GRP_ECONFIG with why[0..why_len)
	 * saying what is wrong (config_reject in config_text.h). */
	int (*check)(const union config_value *value, char *why, size_t why_len);
	/* One paragraph for the dump, which also names the default and the
	 * environment variable. */
	const char *help;
};

/* One layer's keys. */
struct config_keys {
	const struct config_key *keys;
	size_t count;
};

#define CONFIG_KEYS(array) { (array), sizeof(array) / sizeof((array)[0]) }

/* A configuration holding the default of every key of every layer in
 * layers[0..layer_count). Sections come in the order their first key appears
 * there, and each section's keys in that order too: grp_config_dump follows
 * it, writing each section header once. A key declared twice is a bug that
 * leaves its second declaration unreachable. GRP_ENOMEM; GRP_EINVAL for no
 * keys at all, GRP_ECONFIG for a default its own key rejects (bugs too). */
int config_store_new(const struct config_keys *const layers[], size_t layer_count,
		     grp_config **out);

#endif
