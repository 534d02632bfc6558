/* The predicate engine: one thread per table that drives fabric progress,
 * reports failures and runs triggers, and backs off when idle (DESIGN §3). */
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "sst_internal.h"

static const char *MOD = "sst";

void sst_note_failure(void *arg, unsigned peer, int err, const char *why)
{
	grp_sst *sst = arg;
	(void)err;
	if (peer >= sst->n)
		return;
	if (!atomic_load(&sst->stop))
		log_info(MOD, "member %u unreachable, row frozen: %s", peer, why);
	atomic_store_explicit(&sst->failed[peer], true, memory_order_release);
	atomic_store_explicit(&sst->failures_pending, true, memory_order_release);
	fab_wake(sst->dom);
}

void sst_note_data(void *arg, unsigned peer, uint32_t data)
{
	grp_sst *sst = arg;
	if ((data & SST_BULK_DATA_FLAG) && sst->bulk.on_data)
		sst->bulk.on_data(sst->bulk.arg, peer, data & ~SST_BULK_DATA_FLAG);
}

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
	pthread_mutex_unlock(&sst->pred_lock);
	return fired;
}

/* Spin, then yield, then sleep in the completion queue: every SST write
 * carries remote CQ data, so a sleeping engine wakes when one lands. */
static void *engine_main(void *arg)
{
	grp_sst *sst = arg;
	pthread_setname_np(pthread_self(), "grp-sst");
	uint64_t idle_since = clock_now_ns();
	uint64_t kicks_seen = 0;
	bool sleep_next = false;
	while (!atomic_load_explicit(&sst->stop, memory_order_acquire)) {
		int events;
		if (sleep_next) {
			atomic_store(&sst->sleeping, true);
			events = atomic_load(&sst->kicks) == kicks_seen
					 ? fab_wait(sst->dom, sst->idle.sleep_ms)
					 : fab_progress(sst->dom);
			atomic_store(&sst->sleeping, false);
		} else {
			events = fab_progress(sst->dom);
		}
		uint64_t kicks = atomic_load_explicit(&sst->kicks, memory_order_acquire);
		events += kicks != kicks_seen;
		kicks_seen = kicks;
		events += report_failures(sst);
		int fired = run_predicates(sst);
		uint64_t now = clock_now_ns();
		if (events || fired)
			idle_since = now;
		uint64_t idle = now - idle_since;
		sleep_next = idle >= sst->idle.spin_ns + sst->idle.yield_ns;
		if (!sleep_next && idle >= sst->idle.spin_ns)
			sched_yield();
	}
	return NULL;
}

GRP_API void grp_sst_notify(grp_sst *sst)
{
	atomic_fetch_add(&sst->kicks, 1);
	if (atomic_load(&sst->sleeping))
		fab_wake(sst->dom);
}

GRP_API bool grp_sst_on_engine_thread(const grp_sst *sst)
{
	return sst && sst->engine_started && pthread_equal(pthread_self(), sst->engine);
}

int sst_engine_start(grp_sst *sst)
{
	int rc = pthread_create(&sst->engine, NULL, engine_main, sst);
	if (rc) {
		log_error(MOD, "cannot start the engine thread: error %d", rc);
		return GRP_ENOMEM;
	}
	sst->engine_started = true;
	return 0;
}

void sst_engine_stop(grp_sst *sst)
{
	if (!sst->engine_started)
		return;
	atomic_store_explicit(&sst->stop, true, memory_order_release);
	fab_wake(sst->dom);
	pthread_join(sst->engine, NULL);
	sst->engine_started = false;
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
	pthread_mutex_unlock(&sst->pred_lock);
	if (id)
		*id = new_id;
	fab_wake(sst->dom);
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

/* One blocked grp_sst_wait: the engine evaluates its predicate and wakes the
 * waiter only once it holds, so a waiting thread costs no wake-ups. */
struct sst_waiter {
	grp_sst_predicate_fn predicate;
	void *arg;
	bool done; /* under wait_lock */
};

static bool waiter_ready(const grp_sst *sst, void *arg)
{
	const struct sst_waiter *w = arg;
	return w->predicate(sst, w->arg);
}

static void waiter_wake(grp_sst *sst, void *arg)
{
	struct sst_waiter *w = arg;
	pthread_mutex_lock(&sst->wait_lock);
	w->done = true;
	pthread_cond_broadcast(&sst->wait_cond);
	pthread_mutex_unlock(&sst->wait_lock);
}

GRP_API int grp_sst_wait(grp_sst *sst, grp_sst_predicate_fn predicate, void *arg,
			 unsigned timeout_ms)
{
	if (!sst || !predicate)
		return GRP_EINVAL;
	struct sst_waiter w = { .predicate = predicate, .arg = arg };
	grp_sst_predicate_id id;
	int rc = grp_sst_predicate_add(sst, waiter_ready, waiter_wake, &w, GRP_SST_ONCE, &id);
	if (rc)
		return rc;
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	pthread_mutex_lock(&sst->wait_lock);
	while (!w.done && pthread_cond_timedwait(&sst->wait_cond, &sst->wait_lock, &until) == 0)
		;
	pthread_mutex_unlock(&sst->wait_lock);
	if (grp_sst_predicate_remove(sst, id) == 0)
		return GRP_ETIMEDOUT;
	/* It fired (or is firing): the trigger still touches w until done. */
	pthread_mutex_lock(&sst->wait_lock);
	while (!w.done)
		pthread_cond_wait(&sst->wait_cond, &sst->wait_lock);
	pthread_mutex_unlock(&sst->wait_lock);
	return 0;
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
