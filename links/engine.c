/* The engine thread: drives fabric progress, runs the clients, wakes the
 * waiters whose predicate holds, and backs off when idle. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "links_internal.h"
#include "log.h"

static const char *MOD = "engine";

/* Releases the clients removed; returns how many. */
static int release_removed(struct links *l)
{
	pthread_mutex_lock(&l->clients_lock);
	size_t kept = 0, n = l->n_clients;
	struct links_client_slot released[n ? n : 1];
	size_t n_released = 0;
	for (size_t i = 0; i < n; i++) {
		if (l->clients[i].removed)
			released[n_released++] = l->clients[i];
		else
			l->clients[kept++] = l->clients[i];
	}
	l->n_clients = kept;
	atomic_store_explicit(&l->removals, false, memory_order_relaxed);
	pthread_mutex_unlock(&l->clients_lock);
	for (size_t i = 0; i < n_released; i++)
		if (released[i].client.release)
			released[i].client.release(released[i].client.arg);
	return (int)n_released;
}

/* Whether a client was removed (during this pass, since the copy). */
static bool client_removed(struct links *l, links_client_id id)
{
	if (!atomic_load_explicit(&l->removals, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&l->clients_lock);
	bool removed = false;
	for (size_t i = 0; i < l->n_clients; i++)
		if (l->clients[i].id == id)
			removed = l->clients[i].removed;
	pthread_mutex_unlock(&l->clients_lock);
	return removed;
}

/* Runs every client once, from a copy of the list taken under one lock
 * (the pass runs on every engine iteration), so that runs can add and
 * remove clients; a client removed during the pass is released after it,
 * and skipped if its turn has not come yet. */
static int run_clients(struct links *l)
{
	int work = 0;
	pthread_mutex_lock(&l->clients_lock);
	size_t n = l->n_clients;
	struct links_client_slot pass[n ? n : 1];
	if (n)
		memcpy(pass, l->clients, n * sizeof *pass);
	pthread_mutex_unlock(&l->clients_lock);
	for (size_t i = 0; i < n; i++)
		if (!client_removed(l, pass[i].id))
			work += pass[i].client.run(pass[i].client.arg);
	if (atomic_load_explicit(&l->removals, memory_order_relaxed))
		work += release_removed(l);
	return work;
}

static void wake_waiters(struct links *l)
{
	if (atomic_load_explicit(&l->n_waiters, memory_order_acquire) == 0)
		return;
	pthread_mutex_lock(&l->wait_lock);
	bool woke = false;
	for (struct links_waiter *w = l->waiters; w; w = w->next) {
		if (!w->done && w->predicate(w->arg)) {
			w->done = true;
			woke = true;
		}
	}
	if (woke)
		pthread_cond_broadcast(&l->wait_cond);
	pthread_mutex_unlock(&l->wait_lock);
}

/* Spin, then yield, then sleep in the completion queue: every data-plane
 * write carries remote CQ data, so a sleeping engine wakes when one lands. */
/* Set on every links object's engine thread. */
static _Thread_local bool engine_thread;

bool links_on_any_engine_thread(void)
{
	return engine_thread;
}

static void *engine_main(void *arg)
{
	struct links *l = arg;
	pthread_setname_np(pthread_self(), "grp-engine");
	engine_thread = true;
	uint64_t idle_since = clock_now_ns();
	uint64_t kicks_seen = 0;
	bool sleep_next = false;
	const struct links_idle *idle = &l->params.idle;
	while (!atomic_load_explicit(&l->stop, memory_order_acquire)) {
		int events;
		if (sleep_next) {
			atomic_store(&l->sleeping, true);
			bool kicked = atomic_load(&l->kicks) != kicks_seen;
			counter_add(l->params.counters, COUNTER_ENGINE_SLEEPS, !kicked);
			events = kicked ? fab_progress(l->dom) : fab_wait(l->dom, idle->sleep_ms);
			atomic_store(&l->sleeping, false);
		} else {
			events = fab_progress(l->dom);
		}
		uint64_t kicks = atomic_load_explicit(&l->kicks, memory_order_acquire);
		events += kicks != kicks_seen;
		kicks_seen = kicks;
		events += run_clients(l);
		wake_waiters(l);
		uint64_t now = clock_now_ns();
		if (events)
			idle_since = now;
		uint64_t idle_ns = now - idle_since;
		sleep_next = idle_ns >= idle->spin_ns + idle->yield_ns;
		if (!sleep_next && idle_ns >= idle->spin_ns)
			sched_yield();
	}
	return NULL;
}

int links_engine_start(struct links *l)
{
	int rc = pthread_create(&l->engine, NULL, engine_main, l);
	if (rc) {
		log_error(MOD, "cannot start the engine thread: error %d", rc);
		return GRP_ENOMEM;
	}
	l->engine_started = true;
	return 0;
}

void links_engine_stop(struct links *l)
{
	if (!l->engine_started)
		return;
	atomic_store_explicit(&l->stop, true, memory_order_release);
	fab_wake(l->dom);
	pthread_join(l->engine, NULL);
	l->engine_started = false;
}

void links_notify(struct links *l)
{
	atomic_fetch_add(&l->kicks, 1);
	if (atomic_load(&l->sleeping)) {
		counter_add(l->params.counters, COUNTER_ENGINE_WAKEUPS, 1);
		fab_wake(l->dom);
	}
}

bool links_on_engine_thread(const struct links *l)
{
	return l && l->engine_started && pthread_equal(pthread_self(), l->engine);
}

int links_client_add(struct links *l, const struct links_client *client, links_client_id *id)
{
	if (!client || !client->run)
		return GRP_EINVAL;
	pthread_mutex_lock(&l->clients_lock);
	if (l->n_clients == l->cap_clients) {
		size_t cap = l->cap_clients ? l->cap_clients * 2 : 8;
		struct links_client_slot *grown = realloc(l->clients, cap * sizeof *grown);
		if (!grown) {
			pthread_mutex_unlock(&l->clients_lock);
			return GRP_ENOMEM;
		}
		l->clients = grown;
		l->cap_clients = cap;
	}
	links_client_id new_id = ++l->next_client_id;
	l->clients[l->n_clients++] =
		(struct links_client_slot){ .client = *client, .id = new_id };
	pthread_mutex_unlock(&l->clients_lock);
	if (id)
		*id = new_id;
	links_notify(l);
	return 0;
}

void links_client_remove(struct links *l, links_client_id id)
{
	pthread_mutex_lock(&l->clients_lock);
	for (size_t i = 0; i < l->n_clients; i++)
		if (l->clients[i].id == id)
			l->clients[i].removed = true;
	atomic_store_explicit(&l->removals, true, memory_order_relaxed);
	pthread_mutex_unlock(&l->clients_lock);
	links_notify(l);
}

int links_wait(struct links *l, bool (*predicate)(void *arg), void *arg, unsigned timeout_ms)
{
	if (!predicate || links_on_engine_thread(l))
		return GRP_EINVAL;
	struct links_waiter w = { .predicate = predicate, .arg = arg };
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	pthread_mutex_lock(&l->wait_lock);
	w.next = l->waiters;
	l->waiters = &w;
	atomic_fetch_add_explicit(&l->n_waiters, 1, memory_order_release);
	pthread_mutex_unlock(&l->wait_lock);
	links_notify(l);
	pthread_mutex_lock(&l->wait_lock);
	while (!w.done && pthread_cond_timedwait(&l->wait_cond, &l->wait_lock, &until) == 0)
		;
	struct links_waiter **pp = &l->waiters;
	while (*pp != &w)
		pp = &(*pp)->next;
	*pp = w.next;
	atomic_fetch_sub_explicit(&l->n_waiters, 1, memory_order_relaxed);
	bool done = w.done;
	pthread_mutex_unlock(&l->wait_lock);
	return done ? 0 : GRP_ETIMEDOUT;
}
