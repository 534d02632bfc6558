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

#endif
