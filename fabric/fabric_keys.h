/* The configuration keys that fabric/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_FABRIC_KEYS_H
#define GRP_FABRIC_KEYS_H

#include "config_keys.h"

extern const struct config_keys fabric_config_keys;

#endif
