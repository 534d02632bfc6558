/* The group object and its current epoch, shared by the public API
 * (group.c) and the engine-side protocol (epoch.c). */
#ifndef GRP_GROUP_INTERNAL_H
#define GRP_GROUP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <group/group.h>
#include <group/sst.h>

#include "relay.h"

/* Each SMC slot starts with this header; the payload follows. */
struct slot_header {
	uint64_t stamp; /* the message's index k + 1, so a stale slot never passes */
	uint32_t len;
	uint32_t flags;
};
#define SLOT_NULL 1u
/* The payload travels by RDMC in buffer (flags >> SLOT_BUFFER_SHIFT) of the
 * sender's stream; the slot carries the header alone. */
#define SLOT_LARGE 2u
#define SLOT_BUFFER_SHIFT 8u
#define SLOT_HEADER_BYTES 16u

/* Offsets of an epoch's columns in an SST row (DESIGN §4). The counters
 * follow the slot ring so that one write after the slots publishes them
 * all, in order, after the data they describe. */
struct epoch_layout {
	unsigned n, S, W;
	size_t payload;    /* max_smc_payload */
	size_t slot_bytes; /* header + payload, 8-byte aligned */
	size_t slots;      /* W slots */
	size_t sent;       /* u64: messages pushed (the doorbell) */
	size_t received;   /* u64 x S: messages received contiguously from each sender */
	size_t contiguous; /* u64: global sequences received contiguously */
	size_t delivered;  /* u64: global sequences delivered (nulls included) */
	size_t left;       /* u64: 0, or messages sent + 1 once the member left */
	size_t counters_len;
	size_t wedged;     /* u64: 1 once the member's view is wedged */
};

struct grp {
	grp_sst *sst;
	struct epoch_layout lay;
	grp_callbacks cb;
	void *user;
	unsigned me, n;
	int my_sender;      /* my sender rank, -1 if I only receive */
	unsigned *senders;  /* member rank of each sender */
	uint32_t vid;
	struct rdmc_relay *relay; /* NULL when every message fits a slot */
	size_t max_msg;
	bool nonblocking;
	unsigned send_timeout_ms;
	unsigned leave_timeout_ms;

	/* Sending: app threads and the engine's null rule append under send_lock. */
	pthread_mutex_t send_lock;
	atomic_uint_fast64_t next_k; /* messages written into our slots */
	uint64_t pushed;             /* messages pushed to the others */
	void *_Atomic reserved;      /* payload of an open reservation */
	size_t reserved_len;
	/* Written under send_lock; read without it by the engine's wait for a
	 * free buffer, hence atomic (relaxed: the lock orders the writers). */
	atomic_uint_fast64_t large_sent; /* our messages sent by RDMC */
	/* Per RDMC buffer of ours: global sequence + 1 of the message it holds. */
	atomic_uint_fast64_t buffer_seq[RDMC_MAX_BUFFERS];
	atomic_bool leaving;
	bool sealed;                 /* departure announced: nothing more is pushed */
	atomic_uint active_calls; /* send calls in progress: grp_leave waits them out */
	atomic_uint window_waiters; /* sends waiting for a slot: they fill our turns, not nulls */

	/* Engine thread only. */
	uint64_t *received; /* per sender: messages received contiguously */
	uint64_t *scanned;  /* per sender: headers checked, their RDMC transfers started */
	bool *sender_gone;  /* per sender: left, all its messages received */
	atomic_bool *departed; /* per member; read by app threads for the window */
	unsigned departures;
	uint64_t delivered;
	uint64_t *messages_from; /* per sender: application messages delivered (nulls not counted) */

	atomic_bool wedged;
};

/* The slot of sender member `m` holding its message k, in our copy. */
uint8_t *epoch_slot(grp_t *g, unsigned member, uint64_t k);
int epoch_layout_init(struct epoch_layout *lay, unsigned n, unsigned S, unsigned W,
		      size_t payload, grp_sst_layout *sst_layout);
/* Lowest delivered count over members still present (the window's edge). */
uint64_t epoch_min_delivered(const grp_t *g);
/* Whether our RDMC buffer for the next large message may be refilled. */
bool epoch_large_buffer_free(const grp_t *g);
/* Registers the engine-side protocol on g->sst. */
int epoch_start(grp_t *g);
/* Called by the SST on a peer failure. */
void epoch_on_failure(grp_sst *sst, unsigned row, int err, void *user);

#endif
