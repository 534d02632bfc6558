/* What a replica counts besides its map: who sends, how many operations
 * each sender performs and how many of them were applied here. A joiner
 * takes it over with the map (snapshot.h), so that it knows, like the
 * members it joins, when every operation has been applied. */
#ifndef KV_TALLY_H
#define KV_TALLY_H

#include <stdbool.h>
#include <stdint.h>

/* Node ids are 0..4095 (member.id). */
#define TALLY_IDS 4096

struct kv_tally {
	uint64_t per_sender;      /* operations each sender performs */
	bool sends[TALLY_IDS];    /* by node id */
	uint64_t from[TALLY_IDS]; /* operations applied of each sender */
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	uint64_t strangers;       /* operations from a node that is not a sender */
};

#endif
