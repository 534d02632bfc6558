/* The group object: the API's state, on its links and membership. */
#ifndef GRP_GROUP_INTERNAL_H
#define GRP_GROUP_INTERNAL_H

#include <group/group.h>

#include "dispatch.h"
#include "durable.h"
#include "epoch.h"
#include "handoff.h"
#include "links.h"
#include "membership.h"
#include "rejoin.h"

struct grp {
	struct links *links;
	grp_callbacks cb;
	void *user;
	struct epoch_sender snd;
	struct membership *membership;
	struct epoch_params params; /* of the first epoch (ids and senders owned here) */
	struct gms_params gms;
	atomic_uint rank;           /* ours in the current view */
	atomic_uint view_vid, view_n; /* the current view's, for grp_stats */
	struct counters counters;   /* grp_stats; the links point here */
	/* admin.socket: set once the group runs, read by the engine. */
	_Atomic(struct admin *) admin;
	size_t max_msg;             /* the same in every epoch made from params */
	bool is_sender;             /* we are among params.senders */
	bool nonblocking;
	unsigned send_timeout_ms;
	unsigned leave_timeout_ms;
	unsigned connect_timeout_ms;
	atomic_uint active_calls;   /* send calls in progress: grp_leave waits them out */
	bool joining;               /* through group.contact: a running group adds us */
	atomic_bool first_reported; /* the first view callback returned */
	struct handoff handoff;
	struct durable durable;     /* persist.mode: the log */
	struct dispatch dispatch;   /* callbacks.mode: where the callbacks run */
	/* membership.rejoin = auto (rejoin.c): while the links and membership
	 * are replaced, calls are turned away (swapping) with stop_reason. */
	struct rejoin *rejoin;
	atomic_bool swapping;
	atomic_bool readmitted;     /* a view added us back: calls wait for it */
	atomic_int stop_reason;
	bool rejoined;              /* the next first view replaces the state */
};

/* The view v, which adds us, on g->links: its epoch, the first view
 * report, and the state loaded from the member that serves it. */
int group_enter_view(grp_t *g, const struct view_info *v);
/* Joins the running group of the contacts on g->links, open and serving
 * the bootstrap port already (restart.c). */
int group_join_through(grp_t *g, const struct links_member *contacts, unsigned n);
/* The first view of a group formed on g->links (from its member list, or
 * a restart's group of one) with g->params: its epoch and membership,
 * once installed. */
int group_start_view(grp_t *g);
/* The membership's callbacks into the API layer. */
struct membership_callbacks group_membership_callbacks(grp_t *g);
/* Stops the engine, tells the others we leave (unless stopped), closes. */
void group_disconnect(grp_t *g);

/* Ends the current epoch at an agreed point and installs the next one with
 * the same members (vid + 1): every member seals, the epoch drains, the
 * next one connects, the view callback reports it. Any thread, including
 * a callback. */
void group_renew_epoch(grp_t *g);

#endif
