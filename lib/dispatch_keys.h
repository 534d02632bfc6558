/* The keys of lib/dispatch.c (callbacks.*), for the registry in
 * lib/config_keys.c. */
#ifndef GRP_LIB_DISPATCH_KEYS_H
#define GRP_LIB_DISPATCH_KEYS_H

#include "config_keys.h"

extern const struct config_keys dispatch_config_keys;

#endif
