/* Total restart from the members' logs (restart.c). */
#ifndef GRP_LIB_RESTART_H
#define GRP_LIB_RESTART_H

#include <group/group.h>

#include "setup.h"

/* A member with a log (empty or not) that was given group.members: finds
 * the others (a running group to join, or members restarting too), and
 * restarts the group with them once a strict majority of the last view is
 * back. Opens g->links. RESTART_NEW_GROUP: every listed member is here and
 * no log holds a view; g->links serves the bootstrap port, ready for
 * links_form. Errors: GRP_EMINORITY (no majority came back within
 * fabric.connect_timeout_ms), GRP_ETIMEDOUT (no log anywhere, and not
 * every member came), GRP_ECORRUPT (the log holds no view), those of
 * joining and forming. */
enum { RESTART_NEW_GROUP = 1 };
int restart_group(grp_t *g, struct member_setup *s);

#endif
