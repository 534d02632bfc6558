/* Wire formats of the bootstrap (control) channel and their codecs.
 *
 * Every frame is a 24-byte header followed by `length` payload bytes, all
 * integers little-endian:
 *
 *     u32 magic 'GRPB'   u16 version   u16 type
 *     u32 length         u32 reserved (0)        u64 group_id
 *
 * Decoding validates every field before anything is used: a foreign magic or
 * group is GRP_ESTRANGER, another version GRP_EVERSION, an unknown type or a
 * non-zero reserved field GRP_EPROTO, a length above FRAME_MAX_PAYLOAD
 * GRP_EMSGSIZE; payload decoders check every length against what is left.
 * The codecs do no I/O, so they can be tested and fuzzed on their own. */
#ifndef GRP_FRAME_H
#define GRP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "fabric.h"

#define FRAME_MAGIC 0x42505247u /* "GRPB" read as little-endian bytes */
#define FRAME_VERSION 4u /* 3: authenticated (auth.h), HELLO_REPLY carries a token, joins; 4: log_version */
#define FRAME_HEADER_LEN 24u
#define FRAME_MAX_PAYLOAD (64u * 1024u)

enum frame_type {
	FRAME_HELLO = 1,       /* a member introduces itself: struct hello */
	FRAME_HELLO_REPLY = 2, /* the answer to HELLO: struct hello */
	FRAME_REJECT = 3,      /* a refusal: struct reject */
	FRAME_VIEW_QUERY = 4,  /* asks a member for its view: no payload */
	FRAME_VIEW_INFO = 5,   /* the answer: struct view_info */
	/* The answer to VIEW_QUERY of a member with a log that restarts the
	 * group (no view yet): struct restart_info. */
	FRAME_RESTART_INFO = 6,
	/* The handshake (auth.h), kept apart from the protocol's numbers. */
	FRAME_CHALLENGE = 16,  /* server's nonce */
	FRAME_AUTH = 17,       /* client's nonce and proof */
	FRAME_AUTH_OK = 18,    /* server's proof */
};

struct frame_header {
	uint16_t version;
	uint16_t type;
	uint32_t length;
	uint64_t group_id;
};

/* 64-bit FNV-1a of the group name: the group_id every frame carries. */
uint64_t frame_group_id(const char *group_name);

void frame_header_encode(uint8_t out[FRAME_HEADER_LEN], enum frame_type type, uint32_t length,
			 uint64_t group_id);
/* Validates a received header against the expected group. */
int frame_header_decode(const uint8_t in[FRAME_HEADER_LEN], uint64_t group_id,
			struct frame_header *out);

#define HELLO_PROVIDER_MAX 31u
#define HELLO_MAX_REGIONS 8u
#define FRAME_HOST_MAX 63u

/* Who introduces itself outside formation (rank and n_members are then 0). */
enum hello_flags {
	HELLO_JOIN = 1u,   /* a process asking to be added to the group */
	HELLO_PEER = 2u,   /* a member of a view the receiver may not know yet */
	HELLO_SENDER = 4u, /* with HELLO_JOIN: it will send once a member */
};

/* A member's introduction: who it is and how to reach it: its fabric
 * address, its bootstrap address, and its registered regions (the mailbox,
 * where peers post what each epoch registers, then the state-transfer
 * regions). */
struct hello {
	uint32_t flags;     /* enum hello_flags; 0 in formation */
	uint32_t rank;      /* position in the configured member list */
	uint32_t n_members;
	uint32_t id;        /* node id, < FAB_MAX_PEERS */
	char provider[HELLO_PROVIDER_MAX + 1];
	uint16_t fabric_addr_len;
	uint8_t fabric_addr[FAB_ADDR_MAX];
	char boot_host[FRAME_HOST_MAX + 1];
	uint16_t boot_port;
	uint8_t n_regions;
	struct fab_remote_region regions[HELLO_MAX_REGIONS];
	/* In a HELLO_REPLY: what the replier will accept, and only from us, in
	 * our fabric connection request (fresh per reply); 0 in a HELLO. */
	uint64_t token;
	/* In a HELLO_JOIN: the last version in the joiner's log (0: none), so
	 * that the member serving it ships only what follows. */
	uint64_t log_version;
};

/* Encodes into buf (cap bytes); sets *len. GRP_EMSGSIZE if it does not fit,
 * GRP_EINVAL for out-of-range fields. */
int hello_encode(const struct hello *h, uint8_t *buf, size_t cap, size_t *len);
int hello_decode(const uint8_t *buf, size_t len, struct hello *out);

/* A member's view, as it answers FRAME_VIEW_QUERY: the members with their
 * bootstrap addresses, in rank order, and the ranks of the senders in the
 * order the view sends. */
#define VIEW_INFO_MAX_MEMBERS 512u
enum view_member_flags {
	VIEW_MEMBER_NEW = 1u, /* added in this view */
};
struct view_member {
	uint32_t id;
	uint32_t flags; /* enum view_member_flags */
	uint16_t port;
	char host[FRAME_HOST_MAX + 1];
};
struct view_info {
	uint32_t vid;
	uint32_t n, n_senders;
	struct view_member members[VIEW_INFO_MAX_MEMBERS];
	uint32_t senders[VIEW_INFO_MAX_MEMBERS];
};

int view_info_encode(const struct view_info *v, uint8_t *buf, size_t cap, size_t *len);
/* Checks every field: ids below FAB_MAX_PEERS and distinct, senders
 * distinct ranks, hosts printable. */
int view_info_decode(const uint8_t *buf, size_t len, struct view_info *out);

/* What a restarting member's log says (total restart). An empty log:
 * n, last_vid and last_version 0. */
struct restart_info {
	uint32_t id;
	uint32_t last_vid;       /* of the last view in its log */
	uint64_t last_version;   /* the last version in its log */
	uint32_t n;              /* that view's members, by node id */
	uint32_t ids[VIEW_INFO_MAX_MEMBERS];
};

int restart_info_encode(const struct restart_info *r, uint8_t *buf, size_t cap, size_t *len);
/* Checks every field: ids below FAB_MAX_PEERS and distinct, the member
 * among them, n up to VIEW_INFO_MAX_MEMBERS; n = 0 (an empty log) only
 * with last_vid and last_version 0, and a log is never without a view. */
int restart_info_decode(const uint8_t *buf, size_t len, struct restart_info *out);

#define REJECT_REASON_MAX 200u

/* A refusal with its error code and a reason to log on the other side. */
struct reject {
	int32_t code;
	char reason[REJECT_REASON_MAX + 1];
};

int reject_encode(const struct reject *r, uint8_t *buf, size_t cap, size_t *len);
int reject_decode(const uint8_t *buf, size_t len, struct reject *out);

#endif
