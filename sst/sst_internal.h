/* What the table (table.c) and its predicates (predicates.c) share. */
#ifndef GRP_SST_INTERNAL_H
#define GRP_SST_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "sst_table.h"

/* Rows start on cache-line boundaries so that one member's pushes never
 * share a line with another member's incoming writes. */
#define SST_ROW_ALIGN 64u
/* Remote CQ data of an SST push: it only needs to wake the target. */
#define SST_PUSH_DATA 0x5u

struct sst_predicate {
	grp_sst_predicate_id id;
	grp_sst_predicate_fn predicate;
	grp_sst_trigger_fn trigger;
	void *arg;
	enum grp_sst_trigger_kind kind;
	bool removed;
};

struct grp_sst {
	struct links *links;
	unsigned n, me;
	unsigned *ids;     /* node id by row */
	size_t row_bytes;  /* as laid out by the user */
	size_t row_stride; /* row_bytes rounded up to SST_ROW_ALIGN */
	uint8_t *table;
	struct fab_mr *mr;
	struct fab_remote_region *remote; /* by row */
	atomic_bool connected;
	atomic_bool *failed;   /* per row: frozen, never written again */
	atomic_bool *reported; /* per row: on_failure has been called */
	atomic_bool failures_pending;
	grp_sst_callbacks callbacks;
	void *user;
	unsigned fence_timeout_ms;
	int listener;             /* links listener handle, -1 if none */
	links_client_id client;   /* 0 if not registered */

	pthread_mutex_t pred_lock;
	struct sst_predicate *preds;
	size_t n_preds, cap_preds;
	atomic_size_t n_live_preds; /* n_preds, for the engine pass to read without the lock */
	grp_sst_predicate_id next_pred_id;
};

/* The table's engine client: reports failures, runs predicates. */
int sst_run(void *arg);

#endif
