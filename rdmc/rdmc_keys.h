/* The configuration keys that rdmc/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_RDMC_KEYS_H
#define GRP_RDMC_KEYS_H

#include "config_keys.h"

extern const struct config_keys rdmc_config_keys;

#endif
