/* What a member of a fault test records: its views and deliveries in its
 * delivery log, until it has seen the view of exactly the members expected
 * to stay and, from each sender among them, every message; then it stops
 * logging (what follows, such as the others leaving at the end, is not
 * part of the run) and signals. Callbacks run on the engine thread; the
 * member's own thread awaits `done` and `delivered`. */
#ifndef GRP_TEST_MEMBER_LOG_H
#define GRP_TEST_MEMBER_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <group/group.h>

#include "delivery_count.h"
#include "view_track.h"

#define MEMBER_LOG_MAX 8u

struct member_log {
	FILE *log;
	struct view_track views; /* failures allowed */
	unsigned n;              /* members of the first view, node ids 0..n-1 */
	unsigned char stays[MEMBER_LOG_MAX];  /* expected in the final view */
	unsigned char sender[MEMBER_LOG_MAX];
	uint64_t messages;       /* per sender */
	uint64_t got[MEMBER_LOG_MAX]; /* delivered per sender, over all views */
	bool done;
	struct delivery_count done_signal; /* reaches 1 when done */
	struct delivery_count delivered;
};

/* Opens DIR/member-RANK.log (line-buffered); stays and sender are [n]. */
int member_log_open(struct member_log *ml, const char *dir, unsigned rank, unsigned n,
		    const unsigned char *stays, const unsigned char *sender, uint64_t messages);
void member_log_close(struct member_log *ml);
/* From the deliver and view callbacks. */
void member_log_deliver(struct member_log *ml, const grp_delivery *msg);
void member_log_view(struct member_log *ml, const grp_view *view);

#endif
