/* State transfer at the API level, and the deliveries it holds back.
 *
 * A member that serves joiners (the lowest-ranked member of a view that
 * was in the view before) runs state_save on a thread of its own
 * ("grp-xfer") while its engine goes on; a joiner runs state_load on the
 * thread in grp_join. Meanwhile, at both, deliveries and view reports are
 * copied into a queue instead of reaching the application, so that the
 * state written or read is the state as of the end of the view before,
 * and the group is not held up; once the transfer ends, the engine hands
 * the queue over in order. */
#ifndef GRP_LIB_HANDOFF_H
#define GRP_LIB_HANDOFF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <group/group.h>

#include "durable.h"
#include "links.h"

struct held_event;

struct handoff {
	/* Engine thread only. */
	struct held_event *head, *tail;
	links_client_id client;
	bool client_added;
	/* A transfer holds events back while set; the transfer's thread
	 * clears it (release) when done. */
	atomic_bool busy;
	/* Serving. */
	pthread_t thread;
	bool thread_started;
	unsigned *to;
	bool *gone;
	unsigned n_to;
	uint32_t vid;  /* the view that added them */
	/* Loading: the member we read from. */
	unsigned from;
};

/* Engine thread: a delivery or view for the application, passed on at
 * once unless a transfer holds them. */
void handoff_deliver(grp_t *g, const grp_delivery *msg);
void handoff_view(grp_t *g, const grp_view *view, enum durable_view_kind kind);
/* Whether events are held back now (engine thread). */
bool handoff_holding(const grp_t *g);
/* Engine thread, after the view that added joiners[] is reported: we
 * serve them the state as of now. */
void handoff_serve(grp_t *g, uint32_t vid, const unsigned *joiners, unsigned n);
/* Adds the engine client that hands held events over. */
int handoff_start(grp_t *g);
/* Joiner, engine thread, right after its first view is reported: holds
 * what follows until handoff_load ends. */
void handoff_hold(grp_t *g);
/* Joiner, on the grp_join thread: reads the state from `from` through
 * state_load (or discards it without one), then lets held events go. */
int handoff_load(grp_t *g, unsigned from);
/* Before the engine stops: ends a transfer in progress, frees the queue. */
void handoff_stop(grp_t *g);

#endif
