#include "dispatch.h"

#include <limits.h>
#include <string.h>

#include "config.h"
#include "group_internal.h"
#include "log.h"

static const char *MOD = "dispatch";

/* The group whose callback this thread runs (dispatch mode). */
static _Thread_local const grp_t *in_callback_of;

int dispatch_open(grp_t *g, const grp_config *cfg)
{
	struct dispatch *d = &g->dispatch;
	if (strcmp(config_str(cfg, "callbacks.mode"), "dispatch") != 0)
		return 0;
	if (g->rejoin) {
		log_error(MOD, "callbacks.mode = dispatch does not go with membership.rejoin = "
			  "auto: choose one");
		return GRP_ECONFIG;
	}
	size_t limit = (size_t)config_uint(cfg, "callbacks.queue_mb") << 20;
	int rc = callback_queue_init(&d->queue, limit);
	if (rc) {
		log_error(MOD, "cannot make the callback queue: %s", grp_strerror(rc));
		return rc;
	}
	pthread_mutex_init(&d->run_lock, NULL);
	d->on = true;
	return 0;
}

static void wake_engine(void *links)
{
	links_notify(links);
}

/* Engine client: a member that could not queue an event stops. */
static int stop_if_failed(void *arg)
{
	grp_t *g = arg;
	struct dispatch *d = &g->dispatch;
	int failed = atomic_load_explicit(&d->failed, memory_order_relaxed);
	if (!failed || d->abandoned)
		return 0;
	d->abandoned = true;
	log_error(MOD, "no memory to queue a callback: this member leaves the group");
	membership_abandon(g->membership, failed);
	return 1;
}

int dispatch_start(grp_t *g)
{
	struct dispatch *d = &g->dispatch;
	if (!d->on)
		return 0;
	callback_queue_set_wake(&d->queue, wake_engine, g->links);
	struct links_client c = { .run = stop_if_failed, .arg = g };
	/* It runs until the links close (no removal before). */
	return links_client_add(g->links, &c, NULL);
}

void dispatch_detach(grp_t *g)
{
	if (g->dispatch.on)
		callback_queue_set_wake(&g->dispatch.queue, NULL, NULL);
}

void dispatch_close(grp_t *g)
{
	struct dispatch *d = &g->dispatch;
	if (!d->on)
		return;
	size_t dropped = callback_queue_waiting(&d->queue);
	if (dropped)
		log_info(MOD, "%zu callbacks never dispatched are dropped", dropped);
	callback_queue_destroy(&d->queue);
	pthread_mutex_destroy(&d->run_lock);
	d->on = false;
}

bool dispatch_ready(grp_t *g, size_t len)
{
	struct dispatch *d = &g->dispatch;
	return !d->on || callback_queue_has_room(&d->queue, event_delivery_bytes(len));
}

bool dispatch_idle(grp_t *g)
{
	struct dispatch *d = &g->dispatch;
	return !d->on || callback_queue_idle(&d->queue);
}

static void call(grp_t *g, const struct event *ev)
{
	switch (ev->kind) {
	case EVENT_DELIVERY:
		g->cb.deliver(g, &ev->msg, g->user);
		break;
	case EVENT_VIEW:
		g->cb.view(g, &ev->view, g->user);
		break;
	case EVENT_PERSISTED:
		g->cb.persisted(g, ev->version, g->user);
		break;
	}
}

/* Dispatch mode: a callback on the application's thread, which calls
 * made from it must know (they may not block or end the group there). */
static void run(grp_t *g, const struct event *ev)
{
	const grp_t *outer = in_callback_of;
	in_callback_of = g;
	call(g, ev);
	in_callback_of = outer;
}

/* Under run_lock: up to max queued callbacks, in order; how many ran. */
static unsigned run_queued(grp_t *g, unsigned max)
{
	struct callback_queue *q = &g->dispatch.queue;
	unsigned ran = 0;
	struct event *ev;
	while (ran < max && (ev = callback_queue_pop(q))) {
		run(g, ev);
		callback_queue_done(q, ev);
		ran++;
	}
	return ran;
}

void dispatch_run_queued(grp_t *g)
{
	struct dispatch *d = &g->dispatch;
	if (!d->on)
		return;
	size_t waiting = callback_queue_waiting(&d->queue);
	pthread_mutex_lock(&d->run_lock);
	run_queued(g, waiting < UINT_MAX ? (unsigned)waiting : UINT_MAX);
	pthread_mutex_unlock(&d->run_lock);
}

bool dispatch_in_callback(const grp_t *g)
{
	return in_callback_of == g;
}

/* Hands a callback over: called at once in engine mode; in dispatch mode
 * queued by the engine, or run by the thread in grp_join after what is
 * queued. */
static void hand_over(grp_t *g, const struct event *now, bool last)
{
	struct dispatch *d = &g->dispatch;
	if (!d->on) {
		call(g, now);
		return;
	}
	if (!links_on_any_engine_thread()) {
		dispatch_run_queued(g);
		run(g, now);
		return;
	}
	int failed = atomic_load_explicit(&d->failed, memory_order_relaxed);
	struct event *ev = !failed || last ? event_copy(now) : NULL;
	if (ev) {
		callback_queue_push(&d->queue, ev);
	} else if (!failed) {
		atomic_store_explicit(&d->failed, GRP_ENOMEM, memory_order_relaxed);
		links_notify(g->links);
	}
}

void dispatch_deliver(grp_t *g, const grp_delivery *msg)
{
	hand_over(g, &(struct event){ .kind = EVENT_DELIVERY, .msg = *msg }, false);
}

void dispatch_view(grp_t *g, const grp_view *view, bool last)
{
	if (g->cb.view)
		hand_over(g, &(struct event){ .kind = EVENT_VIEW, .view = *view }, last);
}

void dispatch_persisted(grp_t *g, uint64_t version)
{
	if (g->cb.persisted)
		hand_over(g, &(struct event){ .kind = EVENT_PERSISTED, .version = version }, false);
}

GRP_API int grp_fd(grp_t *g)
{
	return g && g->dispatch.on ? g->dispatch.queue.fd : GRP_EINVAL;
}

GRP_API int grp_dispatch(grp_t *g, unsigned max)
{
	if (!g || !max || !g->dispatch.on)
		return GRP_EINVAL;
	struct dispatch *d = &g->dispatch;
	if (dispatch_in_callback(g))
		return GRP_ECALLBACK;
	if (pthread_mutex_trylock(&d->run_lock) != 0)
		return GRP_EBUSY;
	unsigned ran = run_queued(g, max < INT_MAX ? max : INT_MAX);
	pthread_mutex_unlock(&d->run_lock);
	return ran ? (int)ran : GRP_EAGAIN;
}
