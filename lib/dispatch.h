/* Where the application's deliver, view and persisted callbacks run
 * (callbacks.mode): on the engine thread, called at once (engine), or on
 * the application's thread, inside grp_dispatch (dispatch).
 *
 * In dispatch mode the engine queues a copy of each callback's arguments
 * (callback_queue.h) in the order it would have called them, and goes on
 * moving data; the engine's `ready` asks the queue for room, so a queue
 * the application does not drain holds deliveries back as a full log does
 * (stable messages wait, the senders' windows fill, the engine sleeps until
 * grp_dispatch makes room and wakes it). Every event passes here after the
 * log took it (durable.c) and after a state transfer released it
 * (handoff.c).
 *
 * The only callbacks that arise on another thread than the engine's are
 * those of grp_join's own thread (a log replayed or loaded, and a joiner's
 * state_load, which must follow the first view's callback): grp_join runs
 * them there, after what is queued, as it runs what is queued before it
 * returns; membership.rejoin = auto, whose thread would be another one, is
 * refused in dispatch mode.
 *
 * A queued event that cannot be allocated (no memory) is never skipped:
 * the member stops (an engine client calls membership_abandon with
 * GRP_ENOMEM), what follows is dropped, and its last view callback, if
 * memory allows, departs it with GRP_DEPARTED_NO_MEMORY: the application
 * has seen a prefix, as a member that fails has. */
#ifndef GRP_LIB_DISPATCH_H
#define GRP_LIB_DISPATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/config.h>
#include <group/group.h>

#include "callback_queue.h"

struct dispatch {
	bool on;                 /* callbacks.mode = dispatch; set before any thread starts */
	struct callback_queue queue;
	pthread_mutex_t run_lock; /* held by the one thread that runs queued callbacks */
	/* GRP_ENOMEM once an event could not be queued: set and read on the
	 * engine thread (its client stops the member). */
	atomic_int failed;
	bool abandoned;          /* engine thread */
};

/* Reads callbacks.*; in dispatch mode makes the queue and its fd. After
 * rejoin_init (GRP_ECONFIG with membership.rejoin = auto). */
int dispatch_open(grp_t *g, const grp_config *cfg);
/* On g->links, before the membership starts: the engine the queue wakes,
 * and the client that stops the member if an event could not be queued. */
int dispatch_start(grp_t *g);
/* Before g->links closes: the queue stops waking its engine. */
void dispatch_detach(grp_t *g);
/* Frees what is still queued (not run) and closes the fd. */
void dispatch_close(grp_t *g);

/* Engine thread: whether a delivery of len bytes may be handed over now
 * (epoch_callbacks.ready); if not, the engine is woken once it may. */
bool dispatch_ready(grp_t *g, size_t len);
/* Engine thread: whether every callback handed over has run (a state
 * transfer may start from the application's state); if not, the engine is
 * woken once it has. Always true in engine mode. */
bool dispatch_idle(grp_t *g);

/* The application's callbacks, in order. view: last is our own last view
 * (we stopped), which a failed queue still tries to hand over. */
void dispatch_deliver(grp_t *g, const grp_delivery *msg);
void dispatch_view(grp_t *g, const grp_view *view, bool last);
void dispatch_persisted(grp_t *g, uint64_t version);

/* The thread in grp_join: runs the callbacks queued now. */
void dispatch_run_queued(grp_t *g);
/* Whether this thread is inside one of g's callbacks in dispatch mode. */
bool dispatch_in_callback(const grp_t *g);

#endif
