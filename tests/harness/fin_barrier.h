/* The end of a run whose membership changes: each member multicasts "fin"
 * once it is done, and the run ends where the last member of the current
 * view said it, which is the same point of the delivery order at every
 * member. The view and deliver callbacks (engine thread) record; the
 * test's thread awaits `finished`, then reads end_count and end_hash. */
#ifndef GRP_TEST_FIN_BARRIER_H
#define GRP_TEST_FIN_BARRIER_H

#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "delivery_count.h"

#define FIN_BARRIER_MAX_IDS 64u

struct fin_barrier {
	unsigned view_ids[FIN_BARRIER_MAX_IDS], view_n;
	bool fin_from[FIN_BARRIER_MAX_IDS];
	uint64_t end_count, end_hash; /* the state where the run ended */
	struct delivery_count finished;
};

void fin_barrier_init(struct fin_barrier *b);
/* The members of the view just reported. */
void fin_barrier_view(struct fin_barrier *b, const grp_view *v);
/* A "fin" from sender, delivered when the state became (count, hash);
 * true if it ended the run. */
bool fin_barrier_note(struct fin_barrier *b, unsigned sender, uint64_t count, uint64_t hash);
/* Ends the run at the state (count, hash), unless it ended already; true
 * if it did now. */
bool fin_barrier_end(struct fin_barrier *b, uint64_t count, uint64_t hash);

#endif
