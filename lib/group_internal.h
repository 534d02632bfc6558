/* The group object: the API's state, the links, and the current epoch. */
#ifndef GRP_GROUP_INTERNAL_H
#define GRP_GROUP_INTERNAL_H

#include <group/group.h>

#include "epoch.h"
#include "links.h"

enum join_state { JOIN_PENDING, JOIN_DONE, JOIN_ABANDONED, JOIN_FAILED };

struct grp {
	struct links *links;
	grp_callbacks cb;
	void *user;
	struct epoch_sender snd;
	/* The view's epoch. Application threads read it under snd.send_lock;
	 * the engine replaces it under that lock. */
	struct epoch *cur;
	struct epoch *retiring; /* engine only: the previous epoch until cur is connected */
	struct epoch_params params; /* of the next epoch (ids and senders owned here) */
	links_client_id client;
	size_t max_msg;             /* the same in every epoch made from params */
	bool nonblocking;
	unsigned send_timeout_ms;
	unsigned leave_timeout_ms;
	unsigned connect_timeout_ms;
	atomic_uint active_calls;   /* send calls in progress: grp_leave waits them out */
	atomic_bool renew_requested;
	atomic_int join;            /* enum join_state */
	int join_error;
};

/* Ends the current epoch at an agreed point and installs the next one with
 * the same members (vid + 1): every member seals, the epoch drains, the
 * next one connects, the view callback reports it. Any thread, including
 * a callback. */
void group_renew_epoch(grp_t *g);

#endif
