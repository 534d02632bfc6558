/* A callback's arguments, copied into one allocation so that they outlive
 * the call that produced them: what a queue of callbacks holds until they
 * are handed on (handoff.c while a state transfer holds them back,
 * callback_queue.c until the application's thread runs them). An event is
 * freed with free(). */
#ifndef GRP_LIB_EVENT_H
#define GRP_LIB_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <group/group.h>

enum event_kind { EVENT_DELIVERY, EVENT_VIEW, EVENT_PERSISTED };

struct event {
	struct event *next;   /* in the queue that holds it */
	enum event_kind kind;
	size_t bytes;         /* its allocation: what a bounded queue counts */
	union {
		grp_delivery msg; /* its data is a copy inside the event */
		grp_view view;    /* its lists are copies inside the event */
		uint64_t version; /* persisted */
	};
};

/* The allocation of a delivery of len bytes: what a queue must have room
 * for before it takes one. */
size_t event_delivery_bytes(size_t len);
/* A copy of ev, its data or lists copied too, with next NULL: NULL without
 * memory. ev may be a callback's arguments on the stack. */
struct event *event_copy(const struct event *ev);

#endif
