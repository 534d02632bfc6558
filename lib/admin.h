/* The admin socket (admin.socket): a Unix stream socket, mode 0600, served
 * by its own thread ("grp-admin") so that the data path never waits for
 * it. A client writes one line, "COMMAND FORMAT" (status, stats or config;
 * text or json), and reads the answer until the server closes. */
#ifndef GRP_LIB_ADMIN_H
#define GRP_LIB_ADMIN_H

#include <group/config.h>
#include <group/group.h>

/* Starts serving if admin.socket is set (else does nothing): before the
 * member joins, so that a socket it cannot have fails grp_join before the
 * group ever sees the member. Errors: GRP_ECONFIG (the path is too long,
 * or not a socket), GRP_EBUSY (another process serves it), GRP_EIO,
 * GRP_ENOMEM. */
int admin_start(grp_t *g, const grp_config *cfg, unsigned my_id);
/* Stops the thread and removes the socket; after the engine stopped (no
 * admin_note_view runs any more). The admin thread reads only atomics of
 * g and what admin_note_view copied, never the links, which a rejoin
 * replaces. */
void admin_stop(grp_t *g);
/* The view g->links published last is what status shows: on the engine
 * thread at each view reported. */
void admin_note_view(grp_t *g);

#endif
