/* What the table (table.c) and its engine (engine.c) share. */
#ifndef GRP_SST_INTERNAL_H
#define GRP_SST_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <group/sst.h>

#include "fabric.h"
#include "mesh.h"
#include "sst_bulk.h"

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

struct sst_idle {
	uint64_t spin_ns;
	uint64_t yield_ns;
	int sleep_ms;
};

struct grp_sst {
	unsigned n, me;
	size_t row_bytes;  /* as laid out by the user */
	size_t row_stride; /* row_bytes rounded up to SST_ROW_ALIGN */
	uint8_t *table;
	struct fab_domain *dom;
	struct fab_mr *mr;
	struct fab_mr *bulk_mr; /* NULL without a bulk region */
	struct sst_bulk bulk;
	struct mesh_peer *peers;
	atomic_bool *failed;   /* per row: frozen, never written again */
	atomic_bool *reported; /* per row: on_failure has been called */
	atomic_bool failures_pending;
	grp_sst_callbacks callbacks;
	void *user;
	struct sst_idle idle;
	unsigned fence_timeout_ms;

	pthread_t engine;
	bool engine_started;
	atomic_bool stop;
	/* Dekker pair with grp_sst_notify: the engine sets sleeping, then looks
	 * at kicks; a notifier bumps kicks, then looks at sleeping. */
	atomic_bool sleeping;
	atomic_uint_fast64_t kicks;

	pthread_mutex_t pred_lock;
	struct sst_predicate *preds;
	size_t n_preds, cap_preds;
	grp_sst_predicate_id next_pred_id;

	/* Threads in grp_sst_wait sleep on this until their trigger ran. */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
};

int sst_engine_start(grp_sst *sst);
void sst_engine_stop(grp_sst *sst);
/* Called from the fabric layer, on any thread. */
void sst_note_failure(void *arg, unsigned peer, int err, const char *why);
void sst_note_data(void *arg, unsigned peer, uint32_t data);

#endif
