/* Round-robin total order over an epoch's senders, as pure arithmetic
 * (docs/architecture.md), kept apart from memory and threads so that it
 * can be tested alone.
 *
 * S senders, ranked 0..S-1 among senders. Sender r's k-th message (k from 0)
 * has global sequence g = k*S + r. "Counts" are numbers of messages, so 0
 * means none: received[r] = c means messages 0..c-1 of sender r are here. */
#ifndef GRP_ORDER_H
#define GRP_ORDER_H

#include <stdbool.h>
#include <stdint.h>

/* A departed sender sends nothing more: its count reads as "all received". */
#define ORDER_ALL UINT64_MAX

static inline uint64_t order_seq(uint64_t k, unsigned r, unsigned S)
{
	return k * S + r;
}

static inline unsigned order_sender(uint64_t g, unsigned S)
{
	return (unsigned)(g % S);
}

static inline uint64_t order_index(uint64_t g, unsigned S)
{
	return g / S;
}

/* Number of global sequences received contiguously from 0: the first gap is
 * sender r's message received[r], at g = received[r]*S + r. */
uint64_t order_contiguous(const uint64_t *received, unsigned S);

/* How many messages sender `me` must have sent so that no sequence below
 * the highest one received from any other sender is still missing from it
 * (the null rule: a quiet sender never stalls the others). */
uint64_t order_null_target(const uint64_t *received, unsigned S, unsigned me);

/* Sender r may put its message k into ring slot k mod W once the message
 * that used the slot before, k-W, has been delivered by every member, i.e.
 * once min_delivered (a count of global sequences) passes it. */
static inline bool order_slot_free(uint64_t k, unsigned r, unsigned S, unsigned W,
				   uint64_t min_delivered)
{
	return k < W || min_delivered > order_seq(k - W, r, S);
}

#endif
