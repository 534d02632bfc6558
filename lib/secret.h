/* The group key from the configuration: group.secret_file's secret, or,
 * without one, a key derived from group.name (an open group). */
#ifndef GRP_LIB_SECRET_H
#define GRP_LIB_SECRET_H

#include <group/config.h>

#include "auth.h"

/* GRP_ECONFIG naming group.secret_file if the file cannot be read, is not
 * a regular file, is readable or writable by others than its owner, or
 * does not hold at least 32 bytes as hex. Without a secret, warns once per
 * process that the group is open. */
int secret_key_read(const grp_config *cfg, struct auth_key *out);

#endif
