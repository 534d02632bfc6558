/* Persistence at the API level (persist.mode): the member's log, what it
 * records, the durable frontier, and the log as the state a joiner gets.
 *
 * Every delivery and view is appended to the log on its way to the
 * application (durable_deliver, durable_view), so the application never
 * sees what its log does not hold in that order. The log's writer thread
 * syncs in batches; an engine client publishes our synced version in the
 * epoch's `persisted` column and reports the minimum over the view (the
 * version persisted at every member) to the persisted callback.
 *
 * With a log, a member's state is its log: grp_join first replays the
 * local log into deliver callbacks, then joins announcing its last
 * version, and the member that serves it ships the log records it lacks
 * (instead of state_save), which it appends and replays before anything
 * of its first view is delivered. */
#ifndef GRP_LIB_DURABLE_H
#define GRP_LIB_DURABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <group/group.h>

#include "links.h"
#include "plog.h"

struct durable {
	struct plog *log;           /* NULL: persist.mode = off */
	/* The links the writer thread wakes; cleared before they close. */
	pthread_mutex_t notify_lock;
	struct links *notify;
	/* The version persisted at every member of the view, as reported
	 * (engine thread writes, any thread reads). */
	_Atomic uint64_t frontier;
	/* Engine thread: what we published in which epoch, and reported. */
	const void *published_in;
	uint32_t published_vid;
	uint64_t published;
	uint64_t reported;
	/* GRP_ENOSPC or GRP_EIO once the log failed (writer thread). */
	atomic_int failed;
	bool abandoned;             /* engine thread: we stopped over it */
	/* grp_send_durable: our messages committed (send_lock) and handed
	 * to the application with the version of the last (engine thread). */
	_Atomic uint64_t own_sent;
	_Atomic uint64_t own_delivered;
	_Atomic uint64_t own_version;
	/* A joiner's first view record, appended after the records the
	 * transfer ships (their versions are lower). */
	uint8_t *pending_view;
	size_t pending_view_len;
	uint64_t pending_version;
	/* Total restart: until a view holds a strict majority of the last
	 * view of the logs (restart_base), views are not logged and
	 * grp_join does not return. Engine thread writes, grp_join reads. */
	atomic_bool restart_pending;
	unsigned restart_n;
	unsigned *restart_base;
	/* The last version the application was handed (thread that appends). */
	uint64_t app_has;
	/* The last version in the log (what a joiner announces): written on
	 * the thread that appends, read by a rejoin thread. */
	_Atomic uint64_t last_version;
};

enum durable_view_kind {
	DURABLE_VIEW_INSTALLED,
	DURABLE_VIEW_JOINED, /* a joiner's first: logged after what the transfer ships */
	DURABLE_VIEW_STOP,   /* our last callback, not a view of the group: not logged */
};

/* Opens the log of persist.* (GRP_ECONFIG, or plog_open's errors); with
 * persist.mode = off does nothing. */
int durable_open(grp_t *g, const grp_config *cfg);
/* The last view in the log: vid and members (GRP_ENOTFOUND: none). */
int durable_last_view(grp_t *g, uint32_t *vid, unsigned *ids, unsigned cap, unsigned *n);
/* Views stay unlogged until one holds a strict majority of base[]. */
int durable_restart_pending(grp_t *g, const unsigned *base, unsigned n);
/* Replays the local log into deliver callbacks, from after what the
 * application has seen (a member with a log replays as it forms a group,
 * or once the member serving it said where its log must end). */
int durable_replay(grp_t *g);
/* Adds the engine client (once g->links exists). */
int durable_start(grp_t *g);
void durable_close(grp_t *g);
/* On its way to the application, on the engine thread (or the thread
 * that holds the log while a transfer holds deliveries back). */
void durable_deliver(grp_t *g, const grp_delivery *msg);
void durable_view(grp_t *g, const grp_view *v, enum durable_view_kind kind);
/* Engine thread: whether the log takes a len-byte message now without
 * waiting (deliveries pause until it does; the writer wakes the engine). */
bool durable_ready(grp_t *g, size_t len);
/* Before g->links closes: the writer thread stops waking its engine. */
void durable_detach(grp_t *g);
/* Under send_lock after a commit of ours. */
void durable_sent(grp_t *g);

/* State transfer of a member with a log: the serving side writes, for
 * each joiner, the last version of its own log at or below the one the
 * joiner announced (where the joiner's log must end: beyond it, the joiner
 * holds what a restart without it dropped), then its records after the
 * lowest of those and before the new view (grp_state_write); the joining
 * side cuts its log there, replays it, appends and replays the records,
 * then its pending first view record. */
int durable_serve(grp_t *g, const unsigned *to, unsigned n, uint64_t before);
/* Joining: reads the stream's kind; a log's records are appended and
 * replayed, an application state goes to state_load. */
int durable_load(grp_t *g);
/* Serving with the application's state: the stream's kind first. */
int durable_serve_app_state(grp_t *g);

#endif
