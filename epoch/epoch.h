/* An epoch: one view's ordered multicast, from install to retirement.
 *
 * It owns what belongs to one view: its shared state table (rows = the
 * view's members), the slot rings and counters laid out in it, the
 * senders, and the RDMC relay with its buffers for large messages. The
 * links and the sending state of the application (struct epoch_sender)
 * outlive it.
 *
 * Life: epoch_create registers the epoch's memory and posts its keys to
 * every member through the links mailbox; epoch_connect completes once
 * every member posted theirs. Then epoch_progress (on the engine thread)
 * moves messages. epoch_seal ends sending in this epoch at an agreed
 * point: every member seals, pushes all it wrote and announces how many;
 * once every message of the epoch reached every member and was delivered
 * here, epoch_drained holds and the next epoch can be created. epoch_retire
 * frees it on the engine thread once the next one is connected (so that
 * no member still writes into it); epoch_destroy frees it after the
 * engine stopped.
 *
 * Order inside the epoch: round robin over its senders; a sender with
 * nothing to say that sees others ahead fills its turns with nulls. A
 * message is delivered once every member received it.
 *
 * Failure: a member whose link broke (its table row fails) or who broke
 * the protocol (epoch_misbehaved) holds deliveries back; the membership
 * above decides. It ends the epoch by epoch_wedge (nothing more is sent,
 * received or delivered; the counts of what arrived are final and
 * published), agrees on a trim, has epoch_deliver_trim deliver exactly the
 * messages inside it, and epoch_carry_over sends our messages outside it
 * again in the next epoch. */
#ifndef GRP_EPOCH_H
#define GRP_EPOCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "links.h"
#include "schedule.h"

/* The application's side of sending, shared by successive epochs. An
 * application thread holds send_lock while it touches the current epoch's
 * slots; the engine holds it while it flushes or changes epochs. */
struct epoch_sender {
	pthread_mutex_t send_lock;
	void *_Atomic reserved;     /* payload of an open reservation */
	size_t reserved_len;
	atomic_bool leaving;        /* no more sends: nothing new, no nulls */
	atomic_uint window_waiters; /* sends waiting for a slot: they fill our turns, not nulls */
};

struct epoch_params {
	uint32_t vid;
	unsigned n, me;          /* members, our rank among them */
	const unsigned *ids;     /* node id by rank (copied) */
	unsigned n_senders;
	const unsigned *senders; /* rank of each sender (copied) */
	unsigned window;
	size_t max_smc_payload;
	/* Messages above max_smc_payload, up to rdmc_max_payload, go by RDMC
	 * (none when rdmc_max_payload <= max_smc_payload). */
	size_t rdmc_max_payload, rdmc_block_size;
	enum rdmc_schedule_kind schedule;
	unsigned fence_timeout_ms;
	size_t extra_bytes;      /* columns of the layer above in the same table */
};

/* A delivered message's version: the view (vid + 1, so that no version
 * is 0, which stands for none), then the message's number among the
 * view's deliveries from 1 (0 stands for the view itself). Every member
 * of the view computes the same, and it increases along the group's order
 * across views. */
#define EPOCH_VERSION_SHIFT 40
static inline uint64_t epoch_version(uint32_t vid, uint64_t nth)
{
	return ((uint64_t)vid + 1) << EPOCH_VERSION_SHIFT | nth;
}

static inline uint32_t epoch_version_vid(uint64_t version)
{
	return (uint32_t)((version >> EPOCH_VERSION_SHIFT) - 1);
}

struct epoch_callbacks {
	/* On the engine thread, in delivery order. */
	void (*deliver)(void *arg, const grp_delivery *msg);
	/* Whether the layer above takes a delivery of len bytes now (its log
	 * has room): if not, stable messages wait, which fills the senders'
	 * windows, and the engine may sleep until notified. A trim at a view
	 * change is delivered whole regardless. NULL: always. */
	bool (*ready)(void *arg, size_t len);
	void *arg;
};

struct epoch;

/* Why the parameters cannot make an epoch (a configuration error), or
 * NULL. */
const char *epoch_params_problem(const struct epoch_params *p);
int epoch_create(struct links *links, const struct epoch_params *p,
		 const struct epoch_callbacks *cb, struct epoch_sender *sender, struct epoch **out);
/* 0 once every member's keys are here (but those flagged in absent[],
 * whose rows stay frozen) and the epoch is live; GRP_EAGAIN not yet;
 * GRP_EPEER, GRP_EPROTO (a member laid out its memory otherwise). Engine
 * thread, or any thread before the epoch is handed to the engine. */
int epoch_connect(struct epoch *e, const bool *absent);
/* Whether member `rank` posted its keys for this epoch. */
bool epoch_keys_arrived(const struct epoch *e, unsigned rank);
bool epoch_live(const struct epoch *e);
/* One engine pass of the protocol; returns whether anything happened. */
bool epoch_progress(struct epoch *e);
/* Whether a pass would do anything (to let an idle engine sleep). */
bool epoch_has_work(const struct epoch *e);

/* Ends sending in this epoch (engine thread, send_lock not held): pushes
 * everything written and announces the count. Waits (returns false) while
 * a reservation is open. */
bool epoch_seal(struct epoch *e);
bool epoch_sealed(const struct epoch *e);
/* Some member sealed: this epoch is ending, every member seals too. */
bool epoch_seal_requested(const struct epoch *e);
/* Sealed everywhere, every message received by every member and
 * delivered here. */
bool epoch_drained(const struct epoch *e);
/* Once nothing more is written from this epoch's memory (engine thread):
 * marks the writes posted so far, and then whether all of them completed
 * locally, so that its memory can be freed (a view change can end an
 * epoch with RDMC blocks and pushes still in flight). */
int epoch_quiesce(struct epoch *e);
bool epoch_quiet(const struct epoch *e);
void epoch_retire(struct epoch *e);
void epoch_destroy(struct epoch *e);

/* Ends the epoch for a view change (engine thread): nothing more is
 * pushed, received or delivered here; our per-sender counts of messages
 * received are published, then our wedged flag, in that order. */
void epoch_wedge(struct epoch *e);
bool epoch_wedged(const struct epoch *e);
/* Our log holds every version up to `version` (engine thread, live
 * epoch): published to every member. */
void epoch_publish_persisted(struct epoch *e, uint64_t version);
/* The lowest version published that way over the view's members (0 until
 * each published). */
uint64_t epoch_min_persisted(const struct epoch *e);
/* Whether member `rank` pushed what the protocol forbids (a corrupt slot,
 * a message RDMC cannot take): it is ignored since. Engine thread. */
bool epoch_misbehaved(const struct epoch *e, unsigned rank);
/* Whether member `rank` wedged: then its published counts are final. */
bool epoch_wedged_at(const struct epoch *e, unsigned rank);
unsigned epoch_senders(const struct epoch *e);
/* The member rank of sender s. */
unsigned epoch_sender_member(const struct epoch *e, unsigned s);
/* Messages of sender s that member `rank` published as received. */
uint64_t epoch_received_at(const struct epoch *e, unsigned rank, unsigned s);
/* Delivers, in the epoch's order, every message not yet delivered whose
 * index is below trim[its sender], and nothing else. False (nothing
 * delivered) if the trim counts a message we do not hold. */
bool epoch_deliver_trim(struct epoch *e, const uint64_t *trim);
/* Commits our messages of old from trim[our sender] on (nulls skipped), in
 * order, into next before anything else (next not yet connected, send_lock
 * held, no reservation open). GRP_ENOSPC if they do not fit (a bug). */
int epoch_carry_over(struct epoch *old, const uint64_t *trim, struct epoch *next);
/* The table and where the extra_bytes columns start in its rows. */
struct grp_sst *epoch_table(const struct epoch *e);
size_t epoch_extra(const struct epoch *e);
uint32_t epoch_vid(const struct epoch *e);
unsigned epoch_size(const struct epoch *e);
unsigned epoch_rank(const struct epoch *e);
unsigned epoch_member_id(const struct epoch *e, unsigned rank);
size_t epoch_max_msg(const struct epoch *e);

/* Sending, with send_lock held. Whether the next slot is free (and for a
 * large message its RDMC buffer); where its payload goes; and making it
 * ours once filled (then notify the links, after the lock: a woken engine
 * takes send_lock to push it). */
bool epoch_window_open(const struct epoch *e, size_t len);
void *epoch_payload(struct epoch *e, size_t len);
void epoch_commit(struct epoch *e, size_t len);

/* Leaving: every message we wrote is pushed and held by every member
 * whose link is up (or the epoch wedged). */
bool epoch_others_hold_ours(const struct epoch *e);
/* Teardown with transfers in flight: log what is missing. */
void epoch_log_incomplete(const struct epoch *e);

#endif
