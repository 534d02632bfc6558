/* membership.rejoin = auto: a member that stopped (minority, evicted)
 * joins the group again by itself, under its node id.
 *
 * A thread ("grp-rejoin") waits for the stop; then, at intervals of the
 * suspicion timeout, it asks the members of the last view (their
 * bootstrap addresses) to add it, as a joiner does, on fresh links with a
 * fresh bootstrap port on the same host. Once a view adds it, the calls on
 * the handle are turned away for a moment (GRP_EMINORITY or GRP_EEVICTED,
 * as while stopped), the old links and membership are closed and the new
 * ones put in their place; the view callback reports the new view with
 * state_replaced set, state_load replaces the application's state on this
 * thread, and deliveries go on. */
#ifndef GRP_LIB_REJOIN_H
#define GRP_LIB_REJOIN_H

#include <group/config.h>
#include <group/group.h>

struct member_setup;

/* Reads membership.rejoin; with auto, keeps what joining again needs and
 * starts the thread. */
int rejoin_init(grp_t *g, const grp_config *cfg, const struct member_setup *s);
/* Starts the thread, once the handle is up (grp_join succeeded). */
int rejoin_start(grp_t *g);
/* Engine thread: this member stopped; its last view's addresses are taken
 * now. */
void rejoin_notify_stopped(grp_t *g);
/* Any thread but the rejoin thread: ends a rejoin in progress and the
 * thread; afterwards the handle's links and membership are either the
 * old (stopped) ones, the new ones, or none. */
void rejoin_stop(grp_t *g);
void rejoin_free(grp_t *g);

#endif
