/* The load a sending member puts on the store: random puts and deletes. */
#ifndef KV_LOAD_H
#define KV_LOAD_H

#include <stdint.h>

#include <group/group.h>

#include "op.h"

struct load {
	uint64_t ops;  /* per sending member */
	uint64_t keys; /* distinct keys */
	uint64_t seed; /* mixed with each member's rank */
	/* If set: called once a quarter of the operations are sent (for a
	 * test to strike mid-load). */
	void (*quarter_sent)(void *arg);
	void *quarter_arg;
	/* If set (persist.mode durable): each operation is sent with
	 * grp_send_durable, so that once it returns 0 the operation is on
	 * every member's disk, and acked(acked_arg, i, op) then tells the
	 * client, as it were: 0, or non-zero to stop the load. */
	int (*acked)(void *arg, uint64_t i, const struct kv_op *op);
	void *acked_arg;
};

/* Multicasts this member's load->ops operations: 0, or 1 having said why. */
int load_send(grp_t *g, const struct load *load);

#endif
