/* The callbacks waiting for the application's thread (callbacks.mode =
 * dispatch): a FIFO of events (event.h) that the engine thread fills and
 * one application thread at a time drains, bounded in bytes, with a file
 * descriptor that is readable exactly while an event waits.
 *
 * The descriptor is an eventfd of our own: written when the queue goes
 * from empty to non-empty, read back to zero when its last event is taken,
 * both under the queue's lock, so that it never stays readable over an
 * empty queue (no spurious wake-up) and never misses an event (no lost
 * wake-up).
 *
 * The bound is for the engine, which asks before it delivers
 * (callback_queue_has_room) and, told no, waits without blocking: the
 * queue remembers what it waits for and calls `wake` once that is there.
 * What the engine must hand over regardless (a view, a trim at a view
 * change, what a state transfer held back) is queued past the bound.
 *
 * Threads: every call may come from any thread; the lock is held only
 * for the queue's own bookkeeping and `wake`, never around a callback. */
#ifndef GRP_LIB_CALLBACK_QUEUE_H
#define GRP_LIB_CALLBACK_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "event.h"

struct callback_queue {
	int fd;               /* eventfd: readable while an event waits */
	size_t limit;         /* bytes the engine may fill it with */
	pthread_mutex_t lock; /* everything below */
	struct event *head, *tail;
	size_t waiting;       /* events queued */
	size_t bytes;         /* of the events queued or running */
	/* What the engine waits for: 0 nothing, SIZE_MAX an idle queue,
	 * else room for that many bytes. */
	size_t awaited;
	void (*wake)(void *arg); /* NULL: nobody to wake */
	void *wake_arg;
};

/* GRP_ENOMEM or GRP_EIO (no eventfd). */
int callback_queue_init(struct callback_queue *q, size_t limit);
/* Frees the events still queued, without running them, and closes fd. */
void callback_queue_destroy(struct callback_queue *q);
/* Whom to wake when what the engine waits for is there (NULL: nobody);
 * once this returns with NULL, wake is not called again. */
void callback_queue_set_wake(struct callback_queue *q, void (*wake)(void *arg), void *arg);

/* Takes ev (never NULL) at the tail. */
void callback_queue_push(struct callback_queue *q, struct event *ev);
/* The head, taken off the queue (NULL if empty); it counts against the
 * bound until callback_queue_done. */
struct event *callback_queue_pop(struct callback_queue *q);
/* ev's callback returned: frees it, and wakes the engine if what it waits
 * for is there now. */
void callback_queue_done(struct callback_queue *q, struct event *ev);

/* Whether a bytes-long event fits the bound now: always into an idle
 * queue, so that any message passes. If not, the engine is woken once it
 * does. */
bool callback_queue_has_room(struct callback_queue *q, size_t bytes);
/* Whether nothing is queued or running. If not, the engine is woken once
 * that holds. */
bool callback_queue_idle(struct callback_queue *q);
/* Events queued now. */
size_t callback_queue_waiting(struct callback_queue *q);

#endif
