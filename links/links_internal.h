/* What the parts of the links object share: links.c (domain, listeners,
 * mailbox), engine.c (engine thread, clients, waiters) and bootstrap.c
 * (listener thread, formation). */
#ifndef GRP_LINKS_INTERNAL_H
#define GRP_LINKS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "frame.h"
#include "links.h"

/* One mailbox entry: the regions a peer registered for an epoch. The peer
 * writes the body first, then the stamp in a second write, so a reader
 * that sees the stamp sees the body (writes to us land in order). */
#define MAILBOX_VERSION 2u
struct mailbox_entry {
	uint32_t version;
	uint32_t n_regions;
	struct fab_remote_region regions[LINKS_MAX_REGIONS];
	uint64_t stamp;
	/* 1 once the member leaves for good; apart from the stamp, so that an
	 * exchange under way still completes. */
	uint64_t leaving;
};
#define MAILBOX_BODY_BYTES offsetof(struct mailbox_entry, stamp)

struct links_client_slot {
	struct links_client client;
	links_client_id id;
	bool removed;
};

struct links_waiter {
	bool (*predicate)(void *arg);
	void *arg;
	bool done; /* under wait_lock */
	struct links_waiter *next;
};

/* State transfer bookkeeping, in a registered region: in[id] is written
 * by peer id (what it produced for us, what it consumed of ours); out[id]
 * is the registered source of what we write into peer id's in[us]. */
struct transfer_cell {
	uint64_t produced; /* bytes written into the reader's ring, | TRANSFER_END/ABORT */
	uint64_t consumed; /* bytes the reader took out of its ring */
};
#define TRANSFER_END (1ull << 63)
#define TRANSFER_ABORT (1ull << 62)
#define TRANSFER_COUNT_MASK (TRANSFER_ABORT - 1)

/* Joiners waiting at once; more are told to try again. */
#define LINKS_MAX_ASKING 64u

/* What a peer told us about itself, by id. */
struct peer_info {
	char host[FRAME_HOST_MAX + 1]; /* bootstrap address; port 0 while unknown */
	uint16_t port;
	struct fab_remote_region transfer; /* its transfer cells */
	struct fab_remote_region ring;     /* a joiner's receive ring */
};

/* The group being formed, as the bootstrap thread serves it. */
struct formation {
	unsigned n, my_rank;
	const struct links_member *members;
	struct hello mine;
	unsigned *ids;     /* by rank; FAB_MAX_PEERS while unknown */
};

struct links {
	struct links_params params;
	char provider[32];
	char address[256];
	char listen_host[256];
	struct fab_domain *dom;
	int listen_fd;

	/* Mailbox: entries[id] is where peer id posts to us; outbox[id] is the
	 * registered source of what we post to it. */
	struct mailbox_entry *mailbox; /* FAB_MAX_PEERS in, then FAB_MAX_PEERS out */
	struct fab_mr *mailbox_mr;
	struct fab_remote_region *peer_mailbox; /* by id; len 0 while unknown */
	struct peer_info *peers;                /* by id; under form_lock */

	/* State transfer: the cells (2 x FAB_MAX_PEERS: in, then out), and
	 * the rings: a joiner's receive ring, a member's send staging. */
	struct transfer_cell *cells;
	struct fab_mr *cells_mr;
	uint8_t *ring;
	struct fab_mr *ring_mr;
	uint8_t *staging;
	struct fab_mr *staging_mr;
	uint64_t produced; /* by the transfer this member serves */
	uint64_t consumed; /* by the transfer this member receives */
	uint64_t consumed_published;
	atomic_bool transfer_cancelled;

	/* The view published for joiners (links_publish_view), and whether
	 * we left it (we stopped: joiners are not answered); under form_lock. */
	struct view_info *view;
	bool view_withdrawn;
	/* Restarting the group from our log: what we answer a view query
	 * with while we have no view (NULL otherwise). */
	struct restart_info *restart;
	/* Processes asking to join (HELLO_JOIN | HELLO_SENDER in flags), until
	 * a published view lists them or their link is gone; under form_lock,
	 * n_asking also read without it to let the engine skip the lock. */
	struct { unsigned id; uint32_t flags; } asking[LINKS_MAX_ASKING];
	/* By node id: the log version its last HELLO_JOIN announced. */
	_Atomic uint64_t joiner_log_version[FAB_MAX_PEERS];
	atomic_uint n_asking;

	pthread_rwlock_t listeners_lock;
	struct links_listener listeners[LINKS_MAX_LISTENERS];
	bool listener_used[LINKS_MAX_LISTENERS];

	/* Engine. */
	pthread_t engine;
	bool engine_started;
	atomic_bool stop;
	/* Dekker pair with links_notify: the engine sets sleeping, then looks
	 * at kicks; a notifier bumps kicks, then looks at sleeping. */
	atomic_bool sleeping;
	atomic_uint_fast64_t kicks;
	pthread_mutex_t clients_lock;
	struct links_client_slot *clients;
	size_t n_clients, cap_clients;
	atomic_bool removals; /* a client was removed since the last release */
	links_client_id next_client_id;
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	struct links_waiter *waiters;
	atomic_uint n_waiters; /* lets an engine pass skip the lock when none waits */

	/* Bootstrap. */
	pthread_t boot;
	bool boot_started;
	int boot_wake[2]; /* a pipe: a byte written ends the bootstrap thread */
	pthread_mutex_t form_lock;
	struct formation form;
};

int links_engine_start(struct links *l);
void links_boot_stop(struct links *l);
/* Starts the bootstrap thread, with our introduction built (flags 0 for
 * formation, HELLO_PEER otherwise). */
int links_boot_start(struct links *l, unsigned n, unsigned my_rank);

/* Serving what arrives outside formation (admit.c), on the bootstrap
 * thread: an introduction of a joiner or of a member of a newer view, and
 * view queries. */
struct auth_session;
void admit_hello(struct links *l, int fd, struct auth_session *s, const struct hello *h);
void admit_view_query(struct links *l, int fd, struct auth_session *s);
/* Records what a peer told about itself; form_lock held. */
void links_record_peer(struct links *l, const struct hello *h);
void links_send_reject(struct links *l, int fd, struct auth_session *s, int code,
		       const char *reason);
int links_send_hello(struct links *l, int fd, struct auth_session *s, enum frame_type type,
		     const struct hello *h, uint64_t deadline);
/* One request/answer exchange over a fresh connection to host:port:
 * GRP_EAGAIN if it cannot be reached or does not answer in time. */
int links_ask(struct links *l, const char *host, uint16_t port, enum frame_type type,
	      const uint8_t *payload, size_t len, uint64_t deadline, struct frame_header *hdr,
	      uint8_t *answer);
int links_transfer_open(struct links *l);
/* Registers the receive ring a joiner announces. */
int links_transfer_ring(struct links *l);
void links_transfer_close(struct links *l);

#endif
