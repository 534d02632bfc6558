/* The configuration keys that membership/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_MEMBERSHIP_KEYS_H
#define GRP_MEMBERSHIP_KEYS_H

#include "config_keys.h"

extern const struct config_keys membership_config_keys;

#endif
