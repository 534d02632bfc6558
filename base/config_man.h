/* The configuration keys as a manual page section, so that group.ini(5)
 * is made from the same table the library parses with (docs/man). */
#ifndef GRP_CONFIG_MAN_H
#define GRP_CONFIG_MAN_H

#include <stdio.h>

#include <group/config.h>

/* Writes mdoc(7) text: per section, a .Ss heading and a tag list of its
 * keys, each with its help, type, range or choices, default and
 * environment variable. GRP_EINVAL for NULL, GRP_EIO if writing failed. */
int config_man_write(const grp_config *cfg, FILE *out);

#endif
