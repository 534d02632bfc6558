/* The epoch's state and memory layout, for epoch.c and its tests. */
#ifndef GRP_EPOCH_INTERNAL_H
#define GRP_EPOCH_INTERNAL_H

#include <group/sst.h>

#include "epoch.h"
#include "relay.h"

/* Each SMC slot starts with this header; the payload follows. */
struct slot_header {
	uint64_t stamp; /* the message's index k + 1, so a stale slot never passes */
	uint32_t len;
	uint32_t flags;
	uint64_t sent_us; /* the sender's real-time clock at the send, in microseconds */
};
#define SLOT_NULL 1u
/* The payload travels by RDMC in buffer (flags >> SLOT_BUFFER_SHIFT) of the
 * sender's stream; the slot carries the header alone. */
#define SLOT_LARGE 2u
#define SLOT_BUFFER_SHIFT 8u
#define SLOT_HEADER_BYTES 24u

/* Offsets of an epoch's columns in an SST row. The counters follow the
 * slot ring so that one write after the slots publishes them all, in
 * order, after the data they describe. */
struct epoch_layout {
	unsigned n, S, W;
	size_t payload;    /* max_smc_payload */
	size_t slot_bytes; /* header + payload, 8-byte aligned */
	size_t slots;      /* W slots */
	size_t sent;       /* u64: messages pushed (the doorbell) */
	size_t received;   /* u64 x S: messages received contiguously from each sender */
	size_t contiguous; /* u64: global sequences received contiguously */
	size_t delivered;  /* u64: global sequences delivered (nulls included) */
	size_t sealed;     /* u64: 0, or messages sent + 1 once the member sealed the epoch */
	size_t counters_len;
	size_t wedged;     /* u64: 1 once the member's counts above are final (view change) */
	size_t persisted;  /* u64: the highest version in the member's log (persist.mode) */
	size_t extra;      /* the layer above's columns (extra_bytes), or 0 */
};

enum epoch_state { EPOCH_CONNECTING, EPOCH_LIVE };

struct epoch {
	struct links *links;
	grp_sst *sst;
	struct epoch_layout lay;
	struct epoch_callbacks cb;
	struct epoch_sender *snd;
	atomic_int state; /* enum epoch_state; read by application threads */
	uint32_t vid;
	unsigned me, n;
	unsigned *ids;      /* node id by rank */
	bool *posted;       /* by rank: our keys reached its mailbox */
	int my_sender;      /* my sender rank, -1 if I only receive */
	unsigned *senders;  /* member rank of each sender */
	struct rdmc_relay *relay; /* NULL when every message fits a slot */
	size_t max_msg;

	/* Sending: application threads and the engine's null rule append
	 * under snd->send_lock. */
	atomic_uint_fast64_t next_k; /* messages written into our slots */
	uint64_t pushed;             /* messages pushed to the others */
	/* Written under send_lock; read without it by the engine's wait for a
	 * free buffer, hence atomic (relaxed: the lock orders the writers). */
	atomic_uint_fast64_t large_sent; /* our messages sent by RDMC */
	/* Per RDMC buffer of ours: global sequence + 1 of the message it holds. */
	atomic_uint_fast64_t buffer_seq[RDMC_MAX_BUFFERS];
	atomic_bool sealed;          /* nothing more is pushed: left or sealed */

	/* Engine thread only. */
	uint64_t *received; /* per sender: messages received contiguously */
	uint64_t *scanned;  /* per sender: headers checked, their RDMC transfers started */
	bool *sender_gone;  /* per sender: sealed, all its messages received */
	bool *misbehaving;  /* per member: broke the protocol, reported, ignored since */
	bool *ended;        /* per member: its sealed count is in hand */
	uint64_t delivered;
	uint64_t *messages_from; /* per sender: application messages delivered (nulls not counted) */
	uint64_t messages_delivered; /* application messages delivered, every sender */

	atomic_bool wedged;
	uint64_t *quiesce_tickets; /* per member: our writes posted before the epoch ended */
};

int epoch_layout_init(struct epoch_layout *lay, unsigned n, unsigned S, unsigned W,
		      size_t payload, size_t extra_bytes, grp_sst_layout *sst_layout);

#endif
