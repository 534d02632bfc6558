/* Membership: the sequence of views and the epochs that carry them.
 *
 * It installs the first view's epoch on the links, runs the current epoch
 * on the engine, and changes epochs: when asked to (or when another member
 * began), the current epoch is sealed everywhere, drains, and the next one
 * (vid + 1) is created on the same links; the old one retires once the new
 * one is connected, and the view is reported. Views keep their members for
 * now; failures wedge the view.
 *
 * Threads: the engine runs it and calls its callbacks. The current epoch
 * may be read by application threads holding the sender's send_lock: the
 * engine replaces it under that lock. */
#ifndef GRP_MEMBERSHIP_H
#define GRP_MEMBERSHIP_H

#include "epoch.h"
#include "links.h"

struct membership_callbacks {
	void (*deliver)(void *arg, const grp_delivery *msg);
	/* The view of epoch e is installed; first: the group's first view. */
	void (*installed)(void *arg, const struct epoch *e, bool first);
	void *arg;
};

struct membership;

/* Creates the first view's epoch (params->vid) and hands it to the engine. */
int membership_start(struct links *links, const struct epoch_params *params,
		     const struct membership_callbacks *cb, struct epoch_sender *sender,
		     struct membership **out);
/* Waits until the first view is installed here: then every member has
 * connected to every other and registered the view's memory (each posts
 * its keys only then), so formation has ended everywhere. On a timeout
 * (GRP_ETIMEDOUT) or an error, no view is reported afterwards. */
int membership_await_first_view(struct membership *m, unsigned timeout_ms);
struct epoch *membership_epoch(const struct membership *m);
/* Ends the current epoch at an agreed point and installs the next one with
 * the same members. Any thread, including a callback. */
void membership_renew(struct membership *m);
/* While leaving: the current epoch goes on moving messages, but no view
 * change starts. */
void membership_freeze(struct membership *m);
/* With the engine stopped: tells the others we leave (so that our going
 * is a departure, not a failure), makes our writes land, frees. */
void membership_stop(struct membership *m);

#endif
