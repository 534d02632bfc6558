/* Links: what one member keeps for its whole membership, under every view.
 *
 * A links object owns the fabric domain with one endpoint per peer, named
 * by node id; the bootstrap listener, which stays open for the member's
 * whole life; a mailbox through which peers post what each epoch
 * registered; and the engine thread, which drives fabric progress, runs the
 * registered clients (tables, groups) and wakes waiting threads. Views come
 * and go above it: an epoch registers its memory, exchanges the keys
 * through the mailbox, and is retired, while the links stay.
 *
 * Threads: links_open starts the engine thread ("grp-engine"); links_form
 * starts the bootstrap thread ("grp-boot"). Client runs, listener
 * callbacks for failures and arriving data, and waiter predicates run on
 * the engine thread (failures and data also on any thread that drives
 * progress inside a write). Everything else may be called from any thread
 * unless it says otherwise.
 *
 * Failures: a broken endpoint or a failed write reports the peer once to
 * every listener; nothing aborts. */
#ifndef GRP_LINKS_H
#define GRP_LINKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "counters.h"
#include "fabric.h"
#include "frame.h"

struct links_idle {
	uint64_t spin_ns;  /* busy polling before yielding */
	uint64_t yield_ns; /* sched_yield polling before sleeping */
	int sleep_ms;      /* longest sleep; a write with CQ data wakes it earlier */
};

struct links_params {
	const char *provider;  /* "tcp", "verbs" */
	const char *address;   /* local address for fabric endpoints */
	uint64_t group_id;     /* frames and connections of other groups are refused */
	/* Every bootstrap connection proves this key, both ways (auth.h). */
	struct auth_key key;
	unsigned my_id;        /* node id, < FAB_MAX_PEERS */
	unsigned stall_timeout_ms;
	/* Bootstrap listener: an already-listening socket (taken over on every
	 * path, success or not), or -1 to bind listen_host:listen_port. */
	int listen_fd;
	const char *listen_host;
	uint16_t listen_port;
	struct links_idle idle;
	/* Where the layers on these links count (grp_stats); may be NULL. */
	struct counters *counters;
};

struct links;

/* Opens the domain and the mailbox, binds the listener and starts the
 * engine. Errors: GRP_EINVAL, GRP_EPROVIDER, GRP_EFABRIC, GRP_EIO (cannot
 * listen), GRP_ENOMEM. */
int links_open(const struct links_params *params, struct links **out);
/* Stops the threads, closes every endpoint and frees. Not from the engine
 * thread. Clients removed but not yet released are released here; clients
 * still registered are their owners' to free. */
void links_close(struct links *l);

struct fab_domain *links_domain(struct links *l);
unsigned links_my_id(const struct links *l);
struct counters *links_counters(const struct links *l);

/* One member of the group being formed, by its bootstrap address. */
struct links_member {
	const char *host;
	uint16_t port;
};

/* Forms the group: connects to every member listed (each member at
 * position j introduces itself to every member before it; later ones
 * introduce themselves to us) and fills ids[rank] with each member's node
 * id. Returns once every member is connected, or at the deadline
 * (GRP_ETIMEDOUT, naming the members missing), whatever arrives on the
 * bootstrap port meanwhile. Errors: GRP_EPROTO or GRP_ECONFIG (a member
 * disagrees on provider or group size, or two members share a node id),
 * GRP_EPEER (a member failed), GRP_ETIMEDOUT. A member still asking for
 * logs (links_publish_restart, no formation yet) answers "not now", and we
 * ask again. Not from the engine thread; once per links, after
 * links_publish_restart and links_serve_joinable if at all (a member with a
 * log that found no log among the others: lib/restart.c). */
int links_form(struct links *l, const struct links_member *members, unsigned n, unsigned my_rank,
	       unsigned timeout_ms, unsigned *ids);

/* Starts serving the bootstrap port without forming a group (a member that
 * joins, or a group of one formed by links_form with n = 1 needs nothing
 * more). Not from the engine thread; once per links. */
int links_serve(struct links *l);

/* Joining a running group: asks the contacts (any members) for their view,
 * introduces us to every member in it as a joiner (they connect us and
 * queue our request; the leader adds every queued joiner at its next view
 * change), then asks again until a view lists us, and connects to the
 * members of that view we do not know yet (of two joiners of one view, the
 * one with the higher id connects). Fills *added with that view. Errors:
 * GRP_ETIMEDOUT (no contact answered, or no view added us in time),
 * GRP_EIDTAKEN (a member of the view has our node id), GRP_EPROTO or
 * GRP_ECONFIG (a member refused us: provider, layout, ...). Not from the
 * engine thread; once per links, instead of links_form. */
struct links_join_params {
	const struct links_member *contacts;
	unsigned n_contacts;
	bool sender;         /* we send once a member */
	uint64_t log_version; /* the last version in our log, 0 without one */
	unsigned timeout_ms;
	/* When it becomes true, links_join gives up (GRP_ECLOSED); may be NULL. */
	const atomic_bool *cancel;
};
int links_join(struct links *l, const struct links_join_params *p, struct view_info *added);
/* Total restart (lib/restart.c). While we have no view, view queries are
 * answered with what our log says (FRAME_RESTART_INFO); serve the port
 * first (links_serve). */
int links_publish_restart(struct links *l, const struct restart_info *info);
/* links_serve, announcing a state-transfer ring in our introductions, so
 * that links_join may follow. */
int links_serve_joinable(struct links *l);
/* Asks member m for its view: LINKS_SURVEY_RUNNING and *view filled (it
 * is in a running group), LINKS_SURVEY_RESTARTING and *restart filled (it
 * restarts from its log too), or an error (GRP_EAGAIN: no view, or no
 * answer; GRP_ESTRANGER). Not from the engine thread. */
enum { LINKS_SURVEY_RUNNING = 1, LINKS_SURVEY_RESTARTING = 2 };
int links_survey(struct links *l, const struct links_member *m, unsigned timeout_ms,
		 struct view_info *view, struct restart_info *restart);

/* The last log version joiner `id` announced when it asked to join (0:
 * none). Any thread. */
uint64_t links_joiner_log_version(struct links *l, unsigned id);

/* The view this member is in, for joiners' queries: ids by rank, which of
 * them are new in it, the senders' ranks in sending order. The members'
 * bootstrap addresses come from their introductions. */
struct links_view {
	uint32_t vid;
	unsigned n;
	const unsigned *ids;
	const bool *added;
	unsigned n_senders;
	const unsigned *senders;
};
int links_publish_view(struct links *l, const struct links_view *v);
/* This member left every view (it stopped): joiners are not answered. */
void links_unpublish_view(struct links *l);
/* The view published last (withdrawn or not), with the members'
 * bootstrap addresses; GRP_ENOTFOUND if none. */
int links_view_copy(struct links *l, struct view_info *out);
/* Processes that asked to join, are connected, and are not in the
 * published view: up to max ids, with whether each will send. */
unsigned links_pending_joins(struct links *l, unsigned *ids, bool *sender, unsigned max);

/* State transfer: a byte stream from one member to the joiners it serves,
 * by one-sided writes into each joiner's receive ring (LINKS_RING_BYTES),
 * paced by the credit each returns. Application threads only (they wait
 * on the engine). */
#define LINKS_RING_BYTES (8u << 20)
/* Writes len bytes to every joiner in to[] not marked in gone[]; a joiner
 * whose link fails is marked and dropped. GRP_EPEER once all are gone. */
int links_transfer_write(struct links *l, const unsigned *to, unsigned n, bool *gone,
			 const void *buf, size_t len);
/* Ends the stream (aborted: the reader fails). */
void links_transfer_end(struct links *l, const unsigned *to, unsigned n, const bool *gone,
			bool aborted);
/* Makes every transfer call in progress or to come return GRP_ECLOSED
 * (the member is shutting down). */
void links_transfer_cancel(struct links *l);
/* Reads up to cap bytes of the stream from member `from`: the count, 0 at
 * its end, GRP_EPEER if the member failed, GRP_ETRANSFER if it aborted. */
long links_transfer_read(struct links *l, unsigned from, void *buf, size_t cap);

/* Listeners: told of every peer failure and every write with CQ data that
 * lands here. At most LINKS_MAX_LISTENERS at once. */
#define LINKS_MAX_LISTENERS 8u
struct links_listener {
	void (*on_failure)(void *arg, unsigned id, int err, const char *why);
	void (*on_data)(void *arg, unsigned id, uint32_t data);
	void *arg;
};
/* Returns a handle >= 0, or GRP_ENOSPC. */
int links_listen(struct links *l, const struct links_listener *listener);
/* After it returns, the listener is never called again. Not from one of its
 * own callbacks. */
void links_unlisten(struct links *l, int handle);

/* Closes one peer's endpoint (it left every view): the others go on. */
void links_close_peer(struct links *l, unsigned id);
/* Not (or no longer) connected: failed, closed, or never connected. */
bool links_peer_failed(const struct links *l, unsigned id);
/* Was connected, and is no longer: failed or closed (a peer still
 * connecting, as a joiner may be, is not gone). */
bool links_peer_gone(const struct links *l, unsigned id);

/* The exchange of registered regions for one epoch, through the mailbox:
 * each member posts its regions to every member of the epoch under a stamp
 * naming the epoch (non-zero, growing), then collects theirs. */
#define LINKS_MAX_REGIONS 2u
struct links_regions {
	unsigned n;
	struct fab_remote_region r[LINKS_MAX_REGIONS];
};
/* Posts `mine` to every member in ids[0..n) but ids[me]. GRP_EPEER is not
 * returned for a failed member: collecting reports it. */
int links_exchange_post(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			unsigned me, const struct links_regions *mine);
/* Posts `mine` to member id: GRP_EPEER if not connected (yet). */
int links_exchange_post_to(struct links *l, uint64_t stamp, unsigned id,
			   const struct links_regions *mine);
/* Fills out[i] with the regions member ids[i] posted under `stamp` (out[me]
 * = mine; out[i].n = 0 for a member flagged in absent[], which may be NULL,
 * and is not waited for). 0 once all are here; GRP_EAGAIN not yet;
 * GRP_EPEER a member failed; GRP_EPROTO a member's regions differ in number
 * or length from ours (another layout) or its entry is malformed. */
int links_exchange_collect(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			   unsigned me, const bool *absent, const struct links_regions *mine,
			   struct links_regions *out);
/* Whether member `id` posted its regions under `stamp`. */
bool links_exchange_arrived(struct links *l, uint64_t stamp, unsigned id);

/* Leaving for good: tells every connected peer, through its mailbox, and
 * waits (at most stall_timeout_ms a peer) until it landed, so that a peer
 * that then sees our connection close knows it was a departure, whatever
 * view it is in. Call with the engine stopped, before closing. */
void links_announce_leaving(struct links *l);
/* Whether peer `id` announced that it leaves. */
bool links_peer_leaving(struct links *l, unsigned id);

/* Engine clients: run once per engine pass, on the engine thread; a run
 * returns how much work it did (0 = idle), which keeps the engine from
 * backing off. */
struct links_client {
	int (*run)(void *arg);
	/* Called once on the engine thread after links_client_remove, when no
	 * run of it is in progress any more. May be NULL. */
	void (*release)(void *arg);
	void *arg;
};
typedef uint64_t links_client_id;
int links_client_add(struct links *l, const struct links_client *client, links_client_id *id);
/* Marks the client removed: it does not run again, and its release runs
 * after the current engine pass (at links_close if the engine is stopped).
 * Any thread, including from the client's own run. */
void links_client_remove(struct links *l, links_client_id id);

/* Blocks until predicate(arg) holds, evaluated on the engine thread after
 * every pass, or timeout_ms passes (GRP_ETIMEDOUT). A waiting thread costs
 * no wake-ups. GRP_EINVAL from the engine thread, which would deadlock. */
int links_wait(struct links *l, bool (*predicate)(void *arg), void *arg, unsigned timeout_ms);
/* Local state changed: run the clients now rather than after a sleep. */
void links_notify(struct links *l);
bool links_on_engine_thread(const struct links *l);
/* Whether this thread is the engine thread of some links object. */
bool links_on_any_engine_thread(void);
/* Stops the engine thread (waits for a running pass to end). links_close
 * does it too; a standalone table stops it first, to fence and free its
 * memory while the links are still open. */
void links_engine_stop(struct links *l);

#endif
