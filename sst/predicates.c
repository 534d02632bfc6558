/* The table's predicates and failure reports, run by the links engine as
 * one of its clients, and the waits built on them. */
#include <stdlib.h>

#include "sst_internal.h"

static int report_failures(grp_sst *sst)
{
	if (!atomic_exchange_explicit(&sst->failures_pending, false, memory_order_acq_rel))
		return 0;
	int reported = 0;
	for (unsigned row = 0; row < sst->n; row++) {
		if (!atomic_load_explicit(&sst->failed[row], memory_order_acquire) ||
		    atomic_exchange(&sst->reported[row], true))
			continue;
		reported++;
		if (sst->callbacks.on_failure)
			sst->callbacks.on_failure(sst, row, GRP_EPEER, sst->user);
	}
	return reported;
}

/* Evaluates every predicate once; returns how many triggers ran. The list
 * lock is dropped around user code so that triggers can add and remove
 * predicates; entries only move when the pass compacts them at the end. */
static int run_predicates(grp_sst *sst)
{
	int fired = 0;
	pthread_mutex_lock(&sst->pred_lock);
	for (size_t i = 0; i < sst->n_preds; i++) {
		struct sst_predicate p = sst->preds[i];
		if (p.removed)
			continue;
		pthread_mutex_unlock(&sst->pred_lock);
		bool holds = p.predicate(sst, p.arg);
		pthread_mutex_lock(&sst->pred_lock);
		if (!holds || sst->preds[i].removed)
			continue;
		if (p.kind == GRP_SST_ONCE)
			sst->preds[i].removed = true;
		pthread_mutex_unlock(&sst->pred_lock);
		p.trigger(sst, p.arg);
		fired++;
		pthread_mutex_lock(&sst->pred_lock);
	}
	size_t kept = 0;
	for (size_t i = 0; i < sst->n_preds; i++)
		if (!sst->preds[i].removed)
			sst->preds[kept++] = sst->preds[i];
	sst->n_preds = kept;
	atomic_store_explicit(&sst->n_live_preds, kept, memory_order_release);
	pthread_mutex_unlock(&sst->pred_lock);
	return fired;
}

int sst_run(void *arg)
{
	grp_sst *sst = arg;
	if (!atomic_load_explicit(&sst->connected, memory_order_acquire))
		return 0;
	int work = report_failures(sst);
	/* A table with no predicates (an epoch's: its protocol is a client of
	 * its own) costs its engine pass no lock. */
	if (atomic_load_explicit(&sst->n_live_preds, memory_order_acquire))
		work += run_predicates(sst);
	return work;
}

GRP_API void grp_sst_notify(grp_sst *sst)
{
	links_notify(sst->links);
}

GRP_API bool grp_sst_on_engine_thread(const grp_sst *sst)
{
	return sst && links_on_engine_thread(sst->links);
}

GRP_API int grp_sst_predicate_add(grp_sst *sst, grp_sst_predicate_fn predicate,
				  grp_sst_trigger_fn trigger, void *arg,
				  enum grp_sst_trigger_kind kind, grp_sst_predicate_id *id)
{
	if (!sst || !predicate || !trigger ||
	    (kind != GRP_SST_ONCE && kind != GRP_SST_RECURRENT))
		return GRP_EINVAL;
	pthread_mutex_lock(&sst->pred_lock);
	if (sst->n_preds == sst->cap_preds) {
		size_t cap = sst->cap_preds ? sst->cap_preds * 2 : 16;
		struct sst_predicate *grown = realloc(sst->preds, cap * sizeof *grown);
		if (!grown) {
			pthread_mutex_unlock(&sst->pred_lock);
			return GRP_ENOMEM;
		}
		sst->preds = grown;
		sst->cap_preds = cap;
	}
	grp_sst_predicate_id new_id = ++sst->next_pred_id;
	sst->preds[sst->n_preds++] = (struct sst_predicate){
		.id = new_id, .predicate = predicate, .trigger = trigger, .arg = arg, .kind = kind,
	};
	atomic_store_explicit(&sst->n_live_preds, sst->n_preds, memory_order_release);
	pthread_mutex_unlock(&sst->pred_lock);
	if (id)
		*id = new_id;
	links_notify(sst->links);
	return 0;
}

GRP_API int grp_sst_predicate_remove(grp_sst *sst, grp_sst_predicate_id id)
{
	if (!sst)
		return GRP_EINVAL;
	int rc = GRP_ENOTFOUND;
	pthread_mutex_lock(&sst->pred_lock);
	for (size_t i = 0; i < sst->n_preds; i++) {
		if (sst->preds[i].id == id && !sst->preds[i].removed) {
			sst->preds[i].removed = true;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&sst->pred_lock);
	return rc;
}

struct sst_wait {
	const grp_sst *sst;
	grp_sst_predicate_fn predicate;
	void *arg;
};

static bool sst_wait_holds(void *arg)
{
	const struct sst_wait *w = arg;
	return w->predicate(w->sst, w->arg);
}

GRP_API int grp_sst_wait(grp_sst *sst, grp_sst_predicate_fn predicate, void *arg,
			 unsigned timeout_ms)
{
	if (!sst || !predicate)
		return GRP_EINVAL;
	struct sst_wait w = { sst, predicate, arg };
	return links_wait(sst->links, sst_wait_holds, &w, timeout_ms);
}

struct barrier_cell {
	size_t offset;
	uint64_t value;
};

static bool every_live_row_reached(const grp_sst *sst, void *arg)
{
	const struct barrier_cell *b = arg;
	for (unsigned row = 0; row < sst->n; row++)
		if (!grp_sst_row_failed(sst, row) && grp_sst_load_u64(sst, row, b->offset) < b->value)
			return false;
	return true;
}

GRP_API int grp_sst_barrier(grp_sst *sst, size_t offset, uint64_t value, unsigned timeout_ms)
{
	if (!sst || offset % 8 != 0 || sst->row_bytes < sizeof(uint64_t) ||
	    offset > sst->row_bytes - sizeof(uint64_t))
		return GRP_EINVAL;
	grp_sst_store_u64(sst, offset, value);
	int rc = grp_sst_push(sst, offset, sizeof(uint64_t));
	struct barrier_cell b = { offset, value };
	return rc ? rc : grp_sst_wait(sst, every_live_row_reached, &b, timeout_ms);
}
