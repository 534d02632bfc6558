/* libgroup: virtually synchronous group communication over one-sided RDMA
 * writes. This header is the whole contract of the ordered-multicast API.
 *
 *   grp_config *cfg;  grp_config_new(&cfg);  grp_config_load_file(cfg, "group.ini");
 *   grp_callbacks cb = { .size = sizeof cb, .deliver = on_msg, .view = on_view };
 *   grp_t *g;  int rc = grp_join(cfg, &cb, app, &g);
 *   rc = grp_send(g, buf, len);                   // ordered, copied
 *   ...
 *   grp_leave(g);  grp_free(g);
 *
 * Members and views: every member has a node id (member.id; by default
 * its position in group.members). A view lists its members by node id;
 * grp_delivery.sender is a node id. Views follow each other (vid 0, 1, ...)
 * on the same connections; each view has its own sequence of messages.
 * The first view is group.members. A member that fails (its connection
 * breaks, or it stays silent for membership.suspect_timeout_ms: crashed,
 * hung, cut off) or leaves is removed: the others install the next view
 * without it, and the view callback names who departed and why.
 *
 * Virtual synchrony: every member that stays sees the same sequence of
 * views, and in each view delivers the same messages in the same order; a
 * member that fails delivered a prefix of that. A message for which
 * grp_send returned 0 at a member that is in the next view is delivered
 * exactly once at every member, in the view where it ends up: when a view
 * ends, each member's own messages that not every survivor had received
 * are sent again by the library in the next view, in their original
 * order, before anything sent later. A failed member's messages that did
 * not reach every survivor are dropped by all.
 *
 * Quorum: a member that can no longer see a strict majority of its view
 * (members that left cleanly not counted) stops, and so does one that the
 * others removed while it was alive (it was hung past the timeout, or cut
 * off): its view callback runs a last time with the view it was in and
 * itself as the only departed member, with reason GRP_DEPARTED_MINORITY
 * or GRP_DEPARTED_EVICTED; from then on every call returns GRP_EMINORITY
 * or GRP_EEVICTED, and it never installs another view. A minority
 * partition therefore never goes on on its own. While a view changes (a
 * few milliseconds after a crash is seen), sends wait for the next view.
 *
 * Order: every member delivers the messages of a view in the same total
 * order: round robin over the view's senders. seq % S is the sender's
 * position among the S senders; seq itself also counts the null turns of
 * senders that had nothing to say, so it is not k*S + r in general. A
 * message is delivered only once every member has received it.
 *
 * Threads: grp_join starts an engine thread ("grp-engine") and a bootstrap
 * thread ("grp-boot"). deliver and view callbacks run on the engine thread,
 * one at a time, in order: the first view is reported before grp_join
 * returns and before any delivery. Callbacks may run until grp_leave or
 * grp_free returns (deliveries of others' messages go on while grp_leave
 * waits for ours to be received), never after: what they use must live
 * until then. Inside a callback you may call grp_send (it never blocks
 * there: a full window returns GRP_EAGAIN), grp_max_msg_size and grp_rank;
 * grp_leave returns GRP_ECALLBACK there and grp_free does nothing (both
 * log an error). grp_send, grp_send_reserve/commit and grp_leave are safe
 * from any thread; sends from several threads are serialised. With
 * callbacks.mode = dispatch, deliver, view and persisted run on the
 * application's thread instead (see "Dispatch mode" below).
 *
 * Large messages: a message above multicast.max_smc_payload (up to
 * rdmc.max_payload) travels by RDMC, the binomial pipeline, instead of
 * through the send window's slots; it keeps its place in the same total
 * order. Each sender has two RDMC buffers, so one large message crosses the
 * group while the one before waits to be delivered everywhere; a third
 * waits for the first. Memory: every member registers 2 x rdmc.max_payload
 * per sender (set rdmc.max_payload <= max_smc_payload to have none).
 *
 * Joins: a process with group.contact (bootstrap addresses of some members),
 * member.listen (its own) and a member.id no member has joins a running
 * group: it asks a member for the view, introduces itself to every member,
 * and the leader adds every process waiting to join (up to 8 at a time,
 * more at the next change) in one view change; joiners take the last
 * ranks and send if their multicast.senders is "all". Before it delivers
 * anything, the application state as of the end of the view before is
 * copied to it from one member (the lowest-ranked one that was in the view
 * before): state_save there writes it with grp_state_write, state_load
 * here reads it with grp_state_read, as a stream, by one-sided writes
 * into a ring of 8 MiB, so that a large state is never held twice; the
 * others go on delivering meanwhile, and the serving member holds its own
 * deliveries and view reports until its state_save returns. A node id is
 * a process: a member removed (failed, evicted, left) may come back under
 * its id as a new member once the group removed the old one; before that
 * grp_join fails with GRP_EIDTAKEN. Starting one member with group.members
 * listing itself alone and joining the others through it forms a group
 * too.
 *
 * Security: with group.secret_file (a secret of at least 32 random bytes;
 * `groupctl keygen FILE` writes one), a process must hold the secret to
 * take part: every bootstrap connection proves it both ways (HMAC-SHA256
 * challenge-response with fresh nonces) and every later bootstrap frame
 * carries a MAC, so a stranger, a wrong key, a replayed or altered frame
 * is refused before anything of the group is told to it; fabric
 * connections are accepted only from members announced over that channel,
 * and memory-region keys are random where the provider lets us choose them
 * (tcp; verbs chooses its own). What it does not protect: the RDMA traffic
 * itself is neither encrypted nor authenticated, so anyone who can read
 * the fabric's packets sees the messages and the region keys, and could
 * then write into members' memory. Without a secret the group is open:
 * anyone who knows group.name can join (grp_join logs a warning once).
 *
 * Persistence: with persist.mode = async or durable and persist.dir, every
 * delivery and view is appended to this member's log (segment files with
 * a CRC32C per record) before the application sees it; a writer thread
 * writes and syncs in batches (durable: one fdatasync covers every record
 * written since the last). Each member publishes the last version its log
 * holds; the lowest over the view is "persisted everywhere": the persisted
 * callback and grp_persisted report it, and grp_send_durable returns once
 * its message is there. A member with a log is its log: grp_join checks
 * it, cutting off a torn tail (reported in the log) and failing with
 * GRP_ECORRUPT on damage it cannot repair (nothing is changed then);
 * joining, it announces its last version, and the member that serves it
 * tells it where its log must end (a log longer than the group's history
 * is cut back: the group restarted without its end) and ships the records
 * it lacks instead of calling state_save; the log, then those records,
 * reach deliver (replayed = 1) after the view callback of the view that
 * added it and before anything of that view (a restart's leader replays
 * its log before it forms the group). Total restart: a member with a log
 * (even an empty one) given group.members (not group.contact) asks every
 * listed member; if one is in a running group it joins it as above; if no
 * log holds anything, the group forms anew once every listed member is
 * there (GRP_ETIMEDOUT otherwise); else, once a strict majority of the
 * newest last view among the logs is back (a member with an empty log
 * counts if that view lists it), and all of it or 2 s passed, the member
 * with the longest log leads: it forms the group at that view's vid + 1,
 * and the others join it as above (their logs cut back to its end: nothing
 * persisted everywhere is ever cut). grp_join returns once a view holds
 * that majority (GRP_EMINORITY if it never came back within
 * fabric.connect_timeout_ms: a minority cannot restart the group). Every
 * member must use the same persist.mode (off or not). A full
 * disk or a failed write stops this member (its last view callback
 * departs it with GRP_DEPARTED_LOG_FAILED; every call then returns
 * GRP_ENOSPC or GRP_EIO); what the log could not hold never reaches the
 * application, and what was reported persisted stays on disk.
 *
 * Errors: every call returns 0 or a negative GRP_E* code (group/error.h);
 * a call that fails has no effect. */
#ifndef GROUP_GROUP_H
#define GROUP_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include <group/config.h>
#include <group/error.h>
#include <group/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct grp grp_t;

/* Why a member left a view. */
enum grp_departure {
	GRP_DEPARTED_LEFT = 1,     /* called grp_leave (or grp_free) */
	GRP_DEPARTED_FAILED = 2,   /* crashed, hung or unreachable */
	/* Only for ourselves, in our last view callback: */
	GRP_DEPARTED_MINORITY = 3, /* we lost sight of a majority of the view */
	GRP_DEPARTED_EVICTED = 4,  /* the others removed us (they took us for failed) */
	GRP_DEPARTED_LOG_FAILED = 5, /* our log could not be written (disk full, I/O error) */
	GRP_DEPARTED_NO_MEMORY = 6, /* dispatch mode: no memory to queue a callback */
};

/* A membership view, valid only during the view callback. Members are named
 * by node id, in rank order; joined lists who is in this view and was not
 * in the one before (in the group's first view, everyone), departed who
 * was in the view before and is not in this one (or, in a member's last
 * callback, itself). A joiner's first view had no view before it here:
 * joined lists the members that view added, itself among them, and
 * departed is empty. */
typedef struct grp_view {
	uint32_t vid;
	unsigned n_members;
	const unsigned *members;
	unsigned my_rank; /* our index in members */
	unsigned n_joined;
	const unsigned *joined;
	unsigned n_departed;
	const unsigned *departed;
	const enum grp_departure *departed_reason;
	/* 1 in the first view after this member rejoined by itself
	 * (membership.rejoin = auto): state_load replaces the application's
	 * state before any delivery of this view. */
	int state_replaced;
} grp_view;

/* One delivered message. `data` points into library memory and is valid only
 * during the deliver callback: copy what you keep. */
typedef struct grp_delivery {
	uint32_t vid;
	unsigned sender;   /* node id of the sender */
	uint64_t index;    /* the sender's message number in this view, from 0 */
	uint64_t seq;      /* position in the view's total order (null turns count) */
	const void *data;
	size_t len;
	/* The message's place in the group's history: ((vid + 1) << 40) | its
	 * number among the view's deliveries, from 1. The same at every
	 * member, increasing along the delivery order across views; the
	 * versions of the log (persist.mode) and of grp_persisted. */
	uint64_t version;
	/* The sender's real-time clock at grp_send, in microseconds since
	 * the epoch; with persist.mode on, the log's hybrid logical clock:
	 * raised where needed so that it increases along the log. */
	uint64_t timestamp_us;
	/* 1: from a log, not from the view's multicast: grp_join's replay of
	 * the local log, or what a joiner's log lacked, shipped by the
	 * member serving it (persist.mode). vid and version are the
	 * message's; index and seq are 0. */
	int replayed;
} grp_delivery;

typedef struct grp_callbacks {
	size_t size; /* sizeof(grp_callbacks): lets this struct grow */
	void (*deliver)(grp_t *g, const grp_delivery *msg, void *user);
	void (*view)(grp_t *g, const grp_view *view, void *user);
	/* persist.mode async or durable: every version up to `version` is in
	 * the log of every member of the current view (see "Persistence").
	 * On the engine thread, after the deliver callback of that version
	 * here; versions only grow. May be NULL. */
	void (*persisted)(grp_t *g, uint64_t version, void *user);
	/* State transfer (see "Joins" above); both may be NULL (an empty
	 * state). state_save writes the application state with
	 * grp_state_write, on a library thread ("grp-xfer"), while no deliver
	 * or view callback runs here; state_load reads it with
	 * grp_state_read, on the thread in grp_join, before any delivery of
	 * the view that added this member. Return 0, or non-zero to fail the
	 * transfer (the joiner's grp_join then fails with GRP_ETRANSFER). */
	int (*state_save)(grp_t *g, void *user);
	int (*state_load)(grp_t *g, void *user);
} grp_callbacks;

/* Forms the group with every member listed in cfg and installs the first
 * view (vid 0), or, with group.contact, joins the running group (see
 * "Joins"). Reads group.*, member.*, fabric.*, engine.*, multicast.*,
 * rdmc.*, membership.* and log.level from cfg (see grp_config_dump).
 * A return of 0 means: every member has connected to every other and
 * registered the first view's memory, so every other member's grp_join
 * returns 0 too unless it fails itself; the view callback has run with
 * the first view (a joiner: the view that added it, then state_load; in
 * dispatch mode both ran on the calling thread, with every callback queued
 * before them).
 * On error no deliver callback has run, and no view callback either,
 * except for a joiner whose state transfer failed (GRP_ETRANSFER,
 * GRP_EPEER: the member serving it failed; call grp_join again).
 * Errors: GRP_EINVAL (NULL, no deliver callback, reserved callbacks set),
 * GRP_ECONFIG (the log names the key and the reason: bad senders list,
 * window, payload, rdmc.max_payload above 4 GiB - 1, rank outside the
 * members, a host that does not resolve, member.listen_fd not a listening
 * socket, two members with one node id), GRP_EPROVIDER, GRP_EFABRIC,
 * GRP_EPROTO (members disagree on provider, size or layout),
 * GRP_ETIMEDOUT (fabric.connect_timeout_ms passed, whatever arrived on
 * the bootstrap port meanwhile; for a joiner: no view added it),
 * GRP_EIDTAKEN (a member of the view has this member.id), GRP_ETRANSFER,
 * GRP_ESTRANGER (the members do not share our secret), GRP_EPEER,
 * GRP_ENOMEM; with admin.socket: GRP_EBUSY (another process serves it),
 * GRP_ECONFIG (it exists and is no socket, or its path is too long),
 * GRP_EIO (it cannot be made); with persist.mode on: GRP_ECORRUPT (the log is damaged
 * where it cannot be repaired: the log names file, offset and reason),
 * GRP_EBUSY (another process has persist.dir's log open), GRP_ENOSPC,
 * GRP_EIO, GRP_EVERSION (a log format we do not know), GRP_EMINORITY
 * (total restart: no majority of the last view came back). */
GRP_API int grp_join(const grp_config *cfg, const grp_callbacks *callbacks, void *user,
		     grp_t **out);

/* Inside state_save only: appends len bytes to the state stream (copied;
 * blocks while the joiners' receive rings are full). GRP_EPEER once every
 * joiner failed (return from state_save then), GRP_ECLOSED when this
 * member shuts down, GRP_ECALLBACK outside state_save. */
GRP_API int grp_state_write(grp_t *g, const void *buf, size_t len);
/* Inside state_load only: reads up to cap bytes of the state stream into
 * buf; *got = 0 at its end. GRP_EPEER if the member serving it failed,
 * GRP_ETRANSFER if its state_save failed, GRP_ECALLBACK outside
 * state_load. */
GRP_API int grp_state_read(grp_t *g, void *buf, size_t cap, size_t *got);

/* Multicasts a copy of len bytes (buf is reusable on return) in total order.
 * Blocks while the send window is full (for a large message: also while
 * both its RDMC buffers are in use), unless multicast.nonblocking is set
 * or the call comes from a callback: then GRP_EAGAIN.
 * A view change in progress holds the call until the next view (or
 * returns GRP_EAGAIN where it would not block).
 * Errors: GRP_EMSGSIZE (len > grp_max_msg_size), GRP_EINVAL (this member is
 * not a sender, or NULL buf with len > 0), GRP_EAGAIN, GRP_ETIMEDOUT
 * (multicast.send_timeout_ms passed), GRP_EMINORITY, GRP_EEVICTED (this
 * member stopped), GRP_ECLOSED (after grp_leave), GRP_EBUSY (a
 * reservation is open). */
GRP_API int grp_send(grp_t *g, const void *buf, size_t len);

/* Zero-copy send: lends the next slot of the send window (for a large
 * message, the next RDMC buffer: registered memory the pipeline sends
 * from), len bytes at *slot, to fill and then pass to grp_send_commit. At
 * most one reservation is open per group; commit it promptly, for a view
 * change waits for it. Same errors and blocking as grp_send. */
GRP_API int grp_send_reserve(grp_t *g, size_t len, void **slot);
/* Multicasts the reserved slot. GRP_EINVAL if slot is not the open
 * reservation. */
GRP_API int grp_send_commit(grp_t *g, void *slot);

/* The largest message grp_send accepts: rdmc.max_payload rounded up to
 * whole rdmc.block_size blocks, or multicast.max_smc_payload if larger. */
GRP_API size_t grp_max_msg_size(const grp_t *g);
/* The version persisted at every member of the view (the last the
 * persisted callback reported), 0 before any or with persist.mode off.
 * Any thread. */
GRP_API uint64_t grp_persisted(const grp_t *g);
/* grp_send, then waits until the message is in the log of every member of
 * the view (persist.mode = durable: on their disks): "durable Paxos", an
 * application acknowledges a write to its client after this returns 0.
 * It may wait for a later message of ours too (never for less). Errors:
 * those of grp_send; GRP_EINVAL with persist.mode off; GRP_ETIMEDOUT
 * (multicast.send_timeout_ms passed while waiting: the message may still
 * become durable); GRP_ENOSPC or GRP_EIO (our log failed: this member
 * left the group); GRP_ECALLBACK from a callback. */
GRP_API int grp_send_durable(grp_t *g, const void *buf, size_t len);

/* Reading this member's log (persist.mode async or durable) while the
 * group runs: the messages with from <= version <= to, or whose
 * timestamp_us (the log's hybrid logical clock, increasing along the log)
 * is within [from_us, to_us], in log order. An iterator sees what was
 * written to the log when grp_log_next is called; it belongs to the
 * calling thread; free it before grp_free. Errors: GRP_EINVAL (NULL,
 * from > to), GRP_ENOTFOUND (persist.mode = off), GRP_ENOMEM, GRP_EIO. */
typedef struct grp_log_iter grp_log_iter;
GRP_API int grp_log_versions(grp_t *g, uint64_t from, uint64_t to, grp_log_iter **out);
GRP_API int grp_log_times(grp_t *g, uint64_t from_us, uint64_t to_us, grp_log_iter **out);
/* 1 and *msg filled (replayed = 1; data valid until the next call), 0
 * after the last, or GRP_ECORRUPT (a record read back fails its CRC),
 * GRP_EIO. */
GRP_API int grp_log_next(grp_log_iter *it, grp_delivery *msg);
GRP_API void grp_log_iter_free(grp_log_iter *it);
/* This member's rank (position) in the current view. */
GRP_API unsigned grp_rank(const grp_t *g);

/* Dispatch mode (callbacks.mode = dispatch): for an application with an
 * event loop of its own. The deliver, view and persisted callbacks do not
 * run on the engine thread but on the application's, inside grp_dispatch,
 * in exactly the order, and with the same views and messages, as the
 * engine would have called them; the engine queues them (a delivery's
 * data is copied: msg->data is valid during the callback, as in engine
 * mode) and goes on moving data. Persistence is unchanged: what is queued
 * is in the log already, and persisted follows the deliveries it covers.
 * The callbacks that arise while grp_join runs (the first view, a replayed
 * or loaded log, a joiner's view before its state_load) run on the thread
 * in grp_join, before it returns. state_save and state_load run where they
 * run in engine mode; state_save starts only once every callback before
 * it was dispatched (the joiner waits for that), so it sees the state of
 * the view before, and none runs meanwhile. membership.rejoin = auto is
 * refused (GRP_ECONFIG).
 *
 *   struct pollfd p = { .fd = grp_fd(g), .events = POLLIN };
 *   for (;;) {
 *       poll(&p, 1, -1);                     // with the loop's other fds
 *       while (grp_dispatch(g, 64) > 0)
 *           ;                                // until GRP_EAGAIN
 *   }
 *
 * Back-pressure: the queue holds up to callbacks.queue_mb. While it is
 * full, this member delivers nothing more: stable messages wait, every
 * sender's window fills and the group slows to this member's pace until
 * grp_dispatch makes room; nothing accepted is dropped, and heartbeats go
 * on, so a member that does not dispatch for a while is not taken for
 * failed. Views, a view change's last messages and what a state transfer
 * held back are queued past the bound. So a thread that dispatches must
 * not block in grp_send (nor in grp_send_durable) while the window is
 * full, for the window frees only as every member delivers, this one too:
 * send from another thread, or set multicast.nonblocking and retry on
 * GRP_EAGAIN.
 *
 * Inside a dispatched callback the rules of engine mode hold: grp_send
 * does not block (GRP_EAGAIN), grp_send_durable, grp_leave and grp_dispatch
 * return GRP_ECALLBACK, grp_free does nothing. Leaving: what is queued when
 * grp_leave returns can still be dispatched until grp_free (nothing is
 * added after it); grp_free drops, without calling, what is still queued.
 * If no memory is left to queue a callback, this member stops as a
 * minority does, after the callbacks before (its last view callback
 * departs it with GRP_DEPARTED_NO_MEMORY; calls return GRP_ENOMEM). */

/* A file descriptor that is readable (POLLIN) exactly while callbacks wait
 * for grp_dispatch: it becomes readable when one is queued into an empty
 * queue and stops being readable when the last is taken, so it never
 * wakes a loop for nothing. Owned by the library: do not read, write or
 * close it; valid until grp_free. Any thread. GRP_EINVAL (NULL, or not in
 * dispatch mode). */
GRP_API int grp_fd(grp_t *g);
/* Runs up to max waiting callbacks on the calling thread, in order, and
 * returns how many ran; GRP_EAGAIN if none was waiting (grp_fd is then not
 * readable, unless one arrived since). One thread at a time: GRP_EBUSY
 * while another thread is in grp_dispatch on g. GRP_EINVAL (NULL, max 0,
 * not in dispatch mode), GRP_ECALLBACK from a callback. */
GRP_API int grp_dispatch(grp_t *g, unsigned max);

/* This member's counters since grp_join, across views (and rejoins).
 * Growable: set size to sizeof(grp_stats_t) before the call; the library
 * fills what it knows of the first size bytes and sets size to what it
 * filled. Fields are only ever added at the end. */
typedef struct grp_stats_t {
	size_t size;
	uint32_t vid;                 /* the current view */
	uint32_t n_members;
	uint64_t msgs_sent;           /* committed by grp_send and grp_send_commit */
	uint64_t bytes_sent;
	uint64_t msgs_delivered;      /* delivered in views (replays from a log not counted) */
	uint64_t bytes_delivered;
	uint64_t nulls_sent;          /* turns this sender filled with nulls */
	uint64_t rdmc_blocks_sent;    /* large-message blocks written to other members */
	uint64_t rdmc_blocks_received;
	uint64_t views_installed;     /* the first view included */
	uint64_t suspicions;          /* members this member suspected */
	uint64_t engine_sleeps;       /* times the engine thread slept, idle */
	uint64_t engine_wakeups;      /* of those, ended early by an application call */
	uint64_t send_window_waits;   /* sends that found the window full and waited */
	uint64_t persisted_version;   /* grp_persisted; 0 with persist.mode off */
	uint64_t logged_version;      /* the last version in this member's log */
} grp_stats_t;
/* Any thread, any time after grp_join; cheap (no lock the data path
 * takes). Errors: GRP_EINVAL (NULL, or size too small for vid). */
GRP_API int grp_stats(grp_t *g, grp_stats_t *out);

/* Leaves cleanly: stops sending, waits until every member of the current
 * view has received every message this member sent (through a view change
 * if one is under way), tells them it is leaving, and disconnects. The
 * others remove it at once, with reason GRP_DEPARTED_LEFT, and deliver all
 * its messages. Messages of others not yet delivered here are not
 * delivered. GRP_ETIMEDOUT if members did not confirm receipt within
 * member.leave_timeout_ms: it leaves anyway, and its messages that not
 * every survivor received are dropped by all. GRP_EMINORITY or
 * GRP_EEVICTED if this member had stopped (it disconnects all the same).
 * GRP_ECALLBACK from a callback. */
GRP_API int grp_leave(grp_t *g);

/* Frees the group (leaving first, without waiting, if grp_leave was not
 * called: its messages not every survivor received are then dropped). Not
 * from a callback (there it logs an error and does nothing), nor while
 * another thread is in a call on g. */
GRP_API void grp_free(grp_t *g);

/* Logging.
 *
 * The library logs what it does and what goes wrong, one line at a time,
 * each of a level and a module (the part of the library that wrote it, as
 * bootstrap, membership or persist). Which lines are logged is a spec:
 *
 *   LEVEL                     every module at LEVEL
 *   LEVEL,module=LEVEL,...    the modules named at their own level, the rest at LEVEL
 *   module=LEVEL,...          the same, the rest at error
 *
 * A LEVEL is error, warn, info, debug or trace, in any case, and lets
 * through the levels before it too; each module is named at most once;
 * whitespace around items is ignored. The spec in force is the first of:
 * the GROUP_LOG environment variable, when it holds a valid spec (a bad one
 * is reported once on stderr and ignored); the application's
 * (grp_log_set_level); log.level of the configuration a group or table was
 * last opened with; error. By default lines go to stderr as
 * "sec.usec [pid] level module: message". */
enum { GRP_LOG_ERROR, GRP_LOG_WARN, GRP_LOG_INFO, GRP_LOG_DEBUG, GRP_LOG_TRACE };

/* One line: level is a GRP_LOG_* value; module a static string; message the
 * line's text, without the prefix of stderr's lines and without a newline,
 * valid only during the call. */
typedef void (*grp_log_fn)(int level, const char *module, const char *message, void *arg);

/* Sends every line the spec lets through to handler, with arg, instead of
 * to stderr; NULL goes back to stderr. For the whole process, from any
 * thread. The handler is called on whichever thread logs (any of the
 * library's threads, or the application's inside a call to the library),
 * on several at once, so it must be thread-safe. Once
 * grp_log_set_handler returns, no thread is inside the previous handler and
 * none will call it again: the application may then free what its arg
 * points to. It waits for lines being handled, so a handler should be
 * quick, and must not call grp_log_set_handler (that deadlocks). */
GRP_API void grp_log_set_handler(grp_log_fn handler, void *arg);

/* Sets the application's spec (see above) for the whole process, from any
 * thread, a handler included; it applies to lines logged from then on and
 * stays whatever configuration is opened later, until the next call. NULL
 * withdraws it (log.level applies again). A valid GROUP_LOG still wins: the
 * operator's word. GRP_ECONFIG for a bad spec, whose reason is logged as an
 * error; the spec in force is then unchanged. */
GRP_API int grp_log_set_level(const char *spec);

#ifdef __cplusplus
}
#endif

#endif
