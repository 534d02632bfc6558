/* The load a sending member puts on the store: random puts and deletes. */
#ifndef KV_LOAD_H
#define KV_LOAD_H

#include <stdint.h>

#include <group/group.h>

struct load {
	uint64_t ops;  /* per sending member */
	uint64_t keys; /* distinct keys */
	uint64_t seed; /* mixed with each member's rank */
	/* If set: called once a quarter of the operations are sent (for a
	 * test to strike mid-load). */
	void (*quarter_sent)(void *arg);
	void *quarter_arg;
};

/* Multicasts this member's load->ops operations: 0, or 1 having said why. */
int load_send(grp_t *g, const struct load *load);

#endif
