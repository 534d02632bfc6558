/* The configuration keys that links/ declares, for the registry in
 * lib/config_keys.c. */
#ifndef GRP_LINKS_KEYS_H
#define GRP_LINKS_KEYS_H

#include "config_keys.h"

extern const struct config_keys links_config_keys;

#endif
