/* One-sided RMA transport over libfabric FI_EP_MSG endpoints.
 *
 * A fab_domain owns the libfabric fabric, domain, event queue, one completion
 * queue shared by all endpoints, and a passive endpoint that accepts
 * connections. Peers are named by their node id (< FAB_MAX_PEERS); each
 * connected peer has one reliable endpoint, which can be closed on its own
 * while the others go on (fab_peer_close).
 *
 * Every write carries 32 bits of remote CQ data: besides naming what arrived,
 * it makes the provider raise a completion at the target, which is what wakes
 * a target sleeping in fab_wait (on tcp a plain remote write lands only while
 * the target polls, and wakes nothing).
 *
 * Threading: the domain is opened FI_THREAD_SAFE; fab_write, fab_progress and
 * fab_wait may be called from any thread. Handlers run on the thread that
 * found the event (inside fab_progress/fab_wait/fab_write): they must be short
 * and must not call back into this layer except fab_peer_* queries and
 * fab_wake.
 *
 * Failures: a refused, broken or stalled connection, or a failed write,
 * marks the peer failed (once) and calls on_failure; it never aborts. */
#ifndef GRP_FABRIC_H
#define GRP_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAB_MAX_PEERS 4096u
#define FAB_ADDR_MAX 128u

/* What a peer needs to write into one of our registered regions. `addr` is
 * the base that offsets are added to: the virtual address on providers with
 * FI_MR_VIRT_ADDR, 0 otherwise. */
struct fab_remote_region {
	uint64_t key;
	uint64_t addr;
	uint64_t len;
};

struct fab_handlers {
	void (*on_failure)(void *arg, unsigned peer, int err, const char *why);
	/* Remote CQ data of a write that landed in our memory. `peer` is the
	 * writer where the provider tells (FAB_MAX_PEERS if it does not). */
	void (*on_remote_data)(void *arg, unsigned peer, uint32_t data);
	void *arg;
};

struct fab_params {
	const char *provider;  /* "tcp", "verbs", ... */
	const char *address;   /* local address to bind endpoints to */
	uint64_t group_id;     /* connection requests from other groups are refused */
	unsigned my_id;
	unsigned stall_timeout_ms; /* a write that cannot be posted this long fails its peer */
	struct fab_handlers handlers;
};

struct fab_domain;
struct fab_mr;

int fab_domain_open(const struct fab_params *params, struct fab_domain **out);
/* Closes every endpoint and the domain. All fab_mr must be closed first. */
void fab_domain_close(struct fab_domain *dom);

const char *fab_provider_name(const struct fab_domain *dom);
/* The passive endpoint's address, for peers to connect to. */
int fab_listen_name(const struct fab_domain *dom, uint8_t name[FAB_ADDR_MAX], size_t *len);

int fab_mr_reg(struct fab_domain *dom, void *buf, size_t len, struct fab_mr **out);
void fab_mr_close(struct fab_mr *mr);
struct fab_remote_region fab_mr_remote(const struct fab_mr *mr);

/* Allows peer `id` to connect to us with a request carrying `token` (one
 * we announced to it over the authenticated bootstrap channel); requests
 * from peers not expected, or with another token, are refused. Expecting a
 * peer that is still only expected again is not an error (a retried
 * introduction): its new token replaces the old; a closed one is replaced
 * (a new process under the id). GRP_EBUSY if it is connecting, connected
 * or failed (not closed yet). */
int fab_peer_expect(struct fab_domain *dom, unsigned id, uint64_t token);
/* Starts connecting to peer `id` listening at `name`, with the token it
 * announced to us; completion is seen by fab_peer_connected once
 * fab_progress has processed it. */
int fab_peer_connect(struct fab_domain *dom, unsigned id, const uint8_t *name, size_t len,
		     uint64_t token);
bool fab_peer_connected(const struct fab_domain *dom, unsigned id);
/* Closes peer `id`'s endpoint (it left): writes to it fail with GRP_EPEER
 * from now on, and errors its closing raises report no failure. Any
 * thread; a post to it running concurrently finishes first. */
void fab_peer_close(struct fab_domain *dom, unsigned id);
bool fab_peer_failed(const struct fab_domain *dom, unsigned id);
bool fab_peer_closed(const struct fab_domain *dom, unsigned id);

/* Writes len bytes at local_off of `local` to remote_off of `remote` on peer
 * `id`, with remote CQ data `data`. The source bytes must stay unchanged
 * until fab_flush returns (small writes are copied at once). Blocks while the
 * send queue is full, driving progress. GRP_EPEER if the peer failed. */
int fab_write(struct fab_domain *dom, unsigned id, const struct fab_mr *local, size_t local_off,
	      const struct fab_remote_region *remote, size_t remote_off, size_t len,
	      uint32_t data);
/* Reads 8 bytes at remote_off of `remote` and waits for them. A read is
 * answered only after the peer has taken in every write posted before it
 * (read-after-write order), so they have then landed, not merely left:
 * the local completion of a write says only that it left. */
int fab_fence(struct fab_domain *dom, unsigned id, const struct fab_remote_region *remote,
	      size_t remote_off, unsigned timeout_ms);
/* A mark after every write posted to peer `id` so far, and whether all of
 * them have completed locally (or the peer failed or was closed: its
 * endpoint no longer reads our memory). Relies on completions
 * arriving in posting order, as on a reliable connection. */
uint64_t fab_write_ticket(struct fab_domain *dom, unsigned id);
bool fab_write_completed(struct fab_domain *dom, unsigned id, uint64_t ticket);
/* Waits until every write posted to peer `id` has completed locally. */
int fab_flush(struct fab_domain *dom, unsigned id, unsigned timeout_ms);

/* Processes completions and connection events without blocking. Returns the
 * number of events handled (remote writes that landed among them). */
int fab_progress(struct fab_domain *dom);
/* Blocks until a completion arrives or timeout_ms passes, then progresses.
 * Returns the number of events handled. */
int fab_wait(struct fab_domain *dom, int timeout_ms);
/* Makes a concurrent or the next fab_wait return at once. */
void fab_wake(struct fab_domain *dom);
/* A descriptor that polls readable while connection events (a peer's
 * connection breaking) wait to be progressed, or -1 where the provider has
 * none. Poll it, never read it: fab_progress takes the events. fab_wait
 * sleeps on completions only, so a watcher wakes it (fab_wake). */
int fab_event_fd(const struct fab_domain *dom);
/* Whether the descriptor may be polled now (fi_trywait): false while events
 * already wait, which the provider would otherwise not signal again. */
bool fab_event_fd_armed(struct fab_domain *dom);

#endif
