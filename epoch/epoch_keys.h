/* The configuration keys that epoch/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_EPOCH_KEYS_H
#define GRP_EPOCH_KEYS_H

#include "config_keys.h"

extern const struct config_keys epoch_config_keys;

#endif
