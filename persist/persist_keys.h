/* The configuration keys that persist/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_PERSIST_KEYS_H
#define GRP_PERSIST_KEYS_H

#include "config_keys.h"

extern const struct config_keys persist_config_keys;

#endif
