/* Membership: the sequence of views and the epochs that carry them.
 *
 * It installs the first view's epoch on the links and runs the current
 * epoch on the engine, with the view-change protocol (gms.h) on the same
 * table. Views change in two ways:
 *   - renewal (membership_renew): the same members; the epoch is sealed
 *     everywhere and drains, then the next one is created;
 *   - change: members suspected (failed, left, unreachable) are removed
 *     and processes waiting to join (links_pending_joins) are added by
 *     the protocol; the survivors deliver the agreed trim and install
 *     the next view without the removed, the joiners appended, our own
 *     messages outside the trim sent again first. The removed members'
 *     endpoints are closed. Each installed view is published for joiners
 *     (links_publish_view).
 * In both, the old epoch retires once the next one is connected, and the
 * view is reported. A member that loses its majority or is removed while
 * alive stops: it reports that once, installs no other view, closes its
 * endpoints, and membership_stopped says why.
 *
 * Threads: the engine runs it and calls its callbacks. The current epoch
 * may be read by application threads holding the sender's send_lock: the
 * engine replaces it under that lock. */
#ifndef GRP_MEMBERSHIP_H
#define GRP_MEMBERSHIP_H

#include "epoch.h"
#include "gms.h"
#include "links.h"

/* Who left the previous view and who joined, for the report of a new one
 * (in the first view here, every member joined). */
struct membership_departures {
	unsigned n;
	const unsigned *ids;
	const enum gms_reason *reasons;
	unsigned n_joined;
	const unsigned *joined;
};

struct membership_callbacks {
	void (*deliver)(void *arg, const grp_delivery *msg);
	/* Whether deliver may be called now with len bytes
	 * (epoch_callbacks.ready); NULL: always. */
	bool (*ready)(void *arg, size_t len);
	/* The view of epoch e is installed; first: the group's first view. */
	void (*installed)(void *arg, const struct epoch *e, bool first,
			  const struct membership_departures *departed);
	/* We stopped in the view of e: GRP_EMINORITY, GRP_EEVICTED or membership_abandon's why. */
	void (*stopped)(void *arg, const struct epoch *e, int why);
	void *arg;
};

struct membership;

/* Creates the first view's epoch (params->vid) and hands it to the engine.
 * params->extra_bytes is set here. joined: the view is a running group's,
 * which added us (joined_ids lists who it added); otherwise it is the
 * group's first. */
int membership_start(struct links *links, const struct epoch_params *params,
		     const struct gms_params *gms, const struct membership_callbacks *cb,
		     struct epoch_sender *sender, const struct membership_departures *joined,
		     struct membership **out);
/* Waits until the first view is installed here: then every member has
 * connected to every other and registered the view's memory (each posts
 * its keys only then), so formation has ended everywhere. On a timeout
 * (GRP_ETIMEDOUT) or an error, no view is reported afterwards. */
int membership_await_first_view(struct membership *m, unsigned timeout_ms);
struct epoch *membership_epoch(const struct membership *m);
/* 0, or why this member stopped (GRP_EMINORITY, GRP_EEVICTED, or what
 * membership_abandon was given). Any thread. */
int membership_stopped(const struct membership *m);
/* Stops this member for a reason of the layer above (its log failed:
 * GRP_ENOSPC, GRP_EIO), as a minority stops: engine thread. */
void membership_abandon(struct membership *m, int why);
/* Ends the current epoch at an agreed point and installs the next one with
 * the same members. Any thread, including a callback. */
void membership_renew(struct membership *m);
/* With the engine stopped: tells the others we leave (so that our going
 * is a departure, not a failure), makes our writes land, frees. */
void membership_stop(struct membership *m);

#endif
