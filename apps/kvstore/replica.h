/* One member's replica of the store: it applies the operations the group
 * delivers, in delivery order, and counts them. Its callbacks run on the
 * engine thread; the member's thread waits on it and reads its result. */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "map.h"
#include "result.h"

struct replica {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t all_delivered;
	struct kv_map map;
	unsigned n_members;
	uint64_t expected; /* operations of every sender together */
	uint64_t delivered;
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	bool out_of_memory; /* a put could not be applied: the map is wrong */
};

/* 0, or -1 out of memory. */
int replica_init(struct replica *r);
void replica_destroy(struct replica *r);

/* The callbacks to join the group with, the replica as their user data. */
extern const grp_callbacks replica_callbacks;

/* The size of the view the replica was told of. */
unsigned replica_members(struct replica *r);

/* How many operations every sender together will deliver. */
void replica_expect(struct replica *r, uint64_t operations);

/* Waits until the expected operations are delivered: 0, or 1 (having said
 * so for member `rank`) after timeout_ms. */
int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms);

/* The counts and the map's hash: 0, or 1 (having said why) if a put could
 * not be applied, so the map is not what the operations made. */
int replica_result(struct replica *r, unsigned rank, struct result *res);

#endif
