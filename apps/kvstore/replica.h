/* One member's replica of the store: it applies the operations the group
 * delivers, in delivery order, and counts them. Its callbacks run on the
 * engine thread; the member's thread waits on it and reads its result.
 *
 * Views change: a member that fails or leaves is removed, and the others
 * go on. So the replica counts what it applied of each sender, and has
 * all it waits for once every sender still in the view has had all its
 * operations applied; a removed sender's count is what the group agreed
 * on when it was removed, the same at every member. */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "map.h"
#include "result.h"

#define REPLICA_MAX_MEMBERS 1024

struct replica {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t changed; /* a delivery, a view or our own end */
	struct kv_map map;
	/* The first view's members by rank (node ids), and the current one's. */
	unsigned n_first, first[REPLICA_MAX_MEMBERS];
	unsigned n_members, members[REPLICA_MAX_MEMBERS];
	/* By rank in the first view: whether it sends, what we applied of it. */
	bool sends[REPLICA_MAX_MEMBERS];
	uint64_t from[REPLICA_MAX_MEMBERS];
	uint64_t per_sender; /* operations each sender performs */
	bool expecting;      /* sends[] and per_sender are set */
	int stopped;         /* our own departure (enum grp_departure), or 0 */
	uint64_t delivered;
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	uint64_t strangers; /* operations from a sender not in the first view */
	bool out_of_memory; /* a put could not be applied: the map is wrong */
};

/* 0, or -1 out of memory. */
int replica_init(struct replica *r);
void replica_destroy(struct replica *r);

/* The callbacks to join the group with, the replica as their user data. */
extern const grp_callbacks replica_callbacks;

/* The size of the first view. */
unsigned replica_members(struct replica *r);

/* Each sender (sends[rank], by rank in the first view, for its n members)
 * performs `operations`. */
void replica_expect(struct replica *r, uint64_t operations, const bool *sends);

/* Waits until every sender still in the view has had all its operations
 * applied: 0, or 1 (having said so for member `rank`) after timeout_ms or
 * once this member stopped (in a minority, or evicted). */
int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms);

/* The counts and the map's hash: 0, or 1 (having said why) if a put could
 * not be applied, so the map is not what the operations made, or a sender
 * had more operations applied than it performs. */
int replica_result(struct replica *r, unsigned rank, struct result *res);

#endif
