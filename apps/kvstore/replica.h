/* One member's replica of the store: it applies the operations the group
 * delivers, in delivery order, and counts them. Its callbacks run on the
 * engine thread; the member's thread waits on it and reads its result.
 *
 * Views change: a member that fails or leaves is removed, and the others
 * go on. So the replica counts what it applied of each sender, and has
 * all it waits for once every sender still in the view has had all its
 * operations applied; a removed sender's count is what the group agreed
 * on when it was removed, the same at every member.
 *
 * A replica joining a running store takes over a member's map and counts
 * (snapshot.h) before it applies anything, so it waits for the same
 * operations as the others and ends with the same map.
 *
 * With persist.mode on (durable), the log is the state instead: grp_join
 * replays this member's log, and a member that joins or restarts gets the
 * records it lacks shipped, all as deliveries (replayed = 1) that the
 * replica applies and counts like live ones; so it starts empty and takes
 * no snapshot (the library would not ask for one, and a snapshot loaded on
 * top of the replayed records would apply them twice). Its senders are
 * then named by node id from the start, since replayed deliveries may come
 * before any view. */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "history.h"
#include "map.h"
#include "result.h"
#include "tally.h"

#define REPLICA_MAX_MEMBERS 1024

struct replica {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t changed; /* a delivery, a view or our own end */
	struct kv_map map;
	struct kv_tally tally;
	/* A founding member's multicast.senders, by rank in the first view;
	 * a joiner's senders come with the state. */
	bool founder;
	bool sends_by_rank[REPLICA_MAX_MEMBERS];
	unsigned n_first;  /* size of the first view */
	unsigned largest;  /* size of the largest view so far */
	unsigned n_members, members[REPLICA_MAX_MEMBERS]; /* the current view */
	int stopped;         /* our own departure (enum grp_departure), or 0 */
	uint64_t delivered;  /* here, not counting the state we loaded */
	bool out_of_memory;  /* a put could not be applied: the map is wrong */
	/* persist.mode on: */
	bool durable;
	unsigned self;            /* our node id, once a view named it */
	uint64_t own_live;        /* our own operations delivered live, in this process */
	uint64_t own_last_version; /* the version of the last of them */
	uint64_t replayed;        /* deliveries from a log */
	bool marked[TALLY_IDS];   /* members that sent a mark (op.h) */
	struct history_probe probe;
};

/* A founding member: each sender (sends[rank], by rank in the first view)
 * performs per_sender operations. A joiner (sends NULL): both come with
 * the state. durable: persist.mode is on, and sends[] is by node id
 * (member.id at its default, the position in group.members). 0, or -1
 * out of memory. */
int replica_init(struct replica *r, uint64_t per_sender, const bool *sends, bool durable);
void replica_destroy(struct replica *r);

/* The callbacks to join the group with, the replica as their user data:
 * with persist.mode off, and on (no state transfer: see above). */
extern const grp_callbacks replica_callbacks;
extern const grp_callbacks replica_durable_callbacks;

/* The version at which our operation number `seq` (from 0, in this
 * process) was delivered here, once grp_send_durable returned for it: 0,
 * or -1 if the last of ours delivered is not that one. */
int replica_own_version(struct replica *r, uint64_t seq, uint64_t *version);

/* Waits until every sender has sent its mark (op.h), replayed or live: 0,
 * or 1 (having said so) after timeout_ms or once this member stopped. */
int replica_await_marks(struct replica *r, unsigned rank, unsigned timeout_ms);

/* Whether the member of this rank in the first view sends (founders);
 * durable: whether we do, by our node id. */
bool replica_sends(struct replica *r, unsigned rank);

/* Waits until the view has had `joins` members more than the first:
 * 0, or 1 (having said so for member `rank`) after timeout_ms or once
 * this member stopped. */
int replica_await_joins(struct replica *r, unsigned joins, unsigned rank, unsigned timeout_ms);

/* Waits until every sender still in the view has had all its operations
 * applied: 0, or 1 (having said so for member `rank`) after timeout_ms or
 * once this member stopped (in a minority, or evicted). */
int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms);

/* The counts and the map's hash: 0, or 1 (having said why) if a put could
 * not be applied, so the map is not what the operations made, or a sender
 * had more operations applied than it performs. */
int replica_result(struct replica *r, unsigned rank, struct result *res);

#endif
