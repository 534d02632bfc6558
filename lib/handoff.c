#include "handoff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "durable.h"
#include "event.h"
#include "group_internal.h"
#include "log.h"

static const char *MOD = "transfer";

/* The group a thread serves or loads the state of: grp_state_write and
 * grp_state_read are valid only there. */
static _Thread_local grp_t *serving;
static _Thread_local grp_t *loading;

/* What the application would have been called with (copy), or joiners
 * to serve (copy NULL). */
struct held_event {
	struct held_event *next;
	struct event *copy;
	enum durable_view_kind view_kind;
	uint32_t serve_vid; /* the view that added those to serve */
	unsigned n_ids;
	unsigned *ids;      /* those to serve */
};

static void push(struct handoff *h, struct held_event *ev)
{
	if (h->tail)
		h->tail->next = ev;
	else
		h->head = ev;
	h->tail = ev;
}

static void free_event(struct held_event *ev)
{
	free(ev->ids);
	free(ev->copy);
	free(ev);
}

static bool holding(const struct handoff *h)
{
	return h->head || atomic_load_explicit(&h->busy, memory_order_acquire);
}

bool handoff_holding(const grp_t *g)
{
	return holding(&g->handoff);
}

/* Holds a copy of a callback's arguments; false without memory. */
static bool hold(struct handoff *h, const struct event *now, enum durable_view_kind view_kind)
{
	struct held_event *ev = calloc(1, sizeof *ev);
	struct event *copy = ev ? event_copy(now) : NULL;
	if (!copy) {
		free(ev);
		return false;
	}
	*ev = (struct held_event){ .copy = copy, .view_kind = view_kind };
	push(h, ev);
	return true;
}

/* Held copies are what the application would have seen; without memory
 * for one, the event is handed over now rather than lost. */
void handoff_deliver(grp_t *g, const grp_delivery *msg)
{
	struct handoff *h = &g->handoff;
	struct event now = { .kind = EVENT_DELIVERY, .msg = *msg };
	if (!holding(h))
		durable_deliver(g, msg);
	else if (!hold(h, &now, DURABLE_VIEW_INSTALLED)) {
		log_error(MOD, "no memory to hold a delivery during a state transfer: delivered "
			  "now");
		durable_deliver(g, msg);
	}
}

void handoff_view(grp_t *g, const grp_view *v, enum durable_view_kind kind)
{
	struct handoff *h = &g->handoff;
	struct event now = { .kind = EVENT_VIEW, .view = *v };
	if (!holding(h))
		durable_view(g, v, kind);
	else if (!hold(h, &now, kind)) {
		log_error(MOD, "no memory to hold a view during a state transfer: reported now");
		durable_view(g, v, kind);
	}
}

static void *serve_main(void *arg)
{
	grp_t *g = arg;
	struct handoff *h = &g->handoff;
	pthread_setname_np(pthread_self(), "grp-xfer");
	serving = g;
	int rc = g->durable.log ? durable_serve(g, h->to, h->n_to, epoch_version(h->vid, 0))
				: durable_serve_app_state(g);
	if (rc)
		log_error(MOD, "state_save failed (%d): the joiners' grp_join fails", rc);
	links_transfer_end(g->links, h->to, h->n_to, h->gone, rc != 0);
	log_info(MOD, "state served to %u joiner(s)", h->n_to);
	atomic_store_explicit(&h->busy, false, memory_order_release);
	links_notify(g->links);
	return NULL;
}

static void finish_serving(struct handoff *h)
{
	if (h->thread_started)
		pthread_join(h->thread, NULL);
	h->thread_started = false;
	free(h->to);
	free(h->gone);
	h->to = NULL;
	h->gone = NULL;
	h->n_to = 0;
}

/* Starts serving the joiners an event names; on failure they are told
 * (the stream ends aborted) and nothing is held. */
static void start_serving(grp_t *g, struct held_event *ev)
{
	struct handoff *h = &g->handoff;
	finish_serving(h);
	h->to = ev->ids;
	h->n_to = ev->n_ids;
	h->vid = ev->serve_vid;
	h->gone = calloc(ev->n_ids ? ev->n_ids : 1, sizeof *h->gone);
	ev->ids = NULL;
	atomic_store_explicit(&h->busy, true, memory_order_relaxed);
	int rc = h->gone ? pthread_create(&h->thread, NULL, serve_main, g) : ENOMEM;
	h->thread_started = rc == 0;
	if (!rc)
		return;
	log_error(MOD, "cannot start serving the state (error %d): the joiners' grp_join fails",
		  rc);
	if (h->gone)
		links_transfer_end(g->links, h->to, h->n_to, h->gone, true);
	atomic_store_explicit(&h->busy, false, memory_order_relaxed);
}

void handoff_serve(grp_t *g, uint32_t vid, const unsigned *joiners, unsigned n)
{
	struct held_event *ev = calloc(1, sizeof *ev);
	if (ev)
		ev->ids = malloc(n * sizeof *ev->ids);
	if (!ev || !ev->ids) {
		free(ev);
		log_error(MOD, "no memory to serve the state to %u joiner(s)", n);
		return;
	}
	ev->serve_vid = vid;
	ev->n_ids = n;
	memcpy(ev->ids, joiners, n * sizeof *joiners);
	push(&g->handoff, ev);
	links_notify(g->links);
}

/* Hands held events over in order until a transfer holds them again. */
static int pump(void *arg)
{
	grp_t *g = arg;
	struct handoff *h = &g->handoff;
	int work = 0;
	while (h->head && !atomic_load_explicit(&h->busy, memory_order_acquire)) {
		struct held_event *ev = h->head;
		/* state_save sees the state after every callback before it
		 * (dispatch mode: once the application ran them; it wakes us). */
		if (!ev->copy && !dispatch_idle(g))
			break;
		h->head = ev->next;
		if (!h->head)
			h->tail = NULL;
		if (!ev->copy)
			start_serving(g, ev);
		else if (ev->copy->kind == EVENT_DELIVERY)
			durable_deliver(g, &ev->copy->msg);
		else
			durable_view(g, &ev->copy->view, ev->view_kind);
		free_event(ev);
		work++;
	}
	return work;
}

int handoff_start(grp_t *g)
{
	struct links_client c = { .run = pump, .arg = g };
	int rc = links_client_add(g->links, &c, &g->handoff.client);
	g->handoff.client_added = rc == 0;
	return rc;
}

void handoff_hold(grp_t *g)
{
	atomic_store_explicit(&g->handoff.busy, true, memory_order_release);
}

int handoff_load(grp_t *g, unsigned from)
{
	struct handoff *h = &g->handoff;
	h->from = from;
	/* Dispatch mode: the first view's callback, queued by the engine,
	 * runs before state_load, as it would on the engine thread. */
	dispatch_run_queued(g);
	loading = g;
	int rc = durable_load(g);
	loading = NULL;
	if (rc) {
		/* grp_join fails: what this view delivered never reaches the
		 * application, and goes with the group. */
		log_error(MOD, "loading the state from member %u failed: %s", from,
			  grp_strerror(rc));
		return rc < 0 ? rc : GRP_ETRANSFER;
	}
	atomic_store_explicit(&h->busy, false, memory_order_release);
	links_notify(g->links);
	return 0;
}

void handoff_stop(grp_t *g)
{
	struct handoff *h = &g->handoff;
	if (h->thread_started)
		links_transfer_cancel(g->links);
	finish_serving(h);
	while (h->head) {
		struct held_event *ev = h->head;
		h->head = ev->next;
		free_event(ev);
	}
	h->tail = NULL;
	atomic_store(&h->busy, false);
	h->client_added = false;
}

GRP_API int grp_state_write(grp_t *g, const void *buf, size_t len)
{
	if (!g || (!buf && len))
		return GRP_EINVAL;
	struct handoff *h = &g->handoff;
	if (serving != g)
		return GRP_ECALLBACK;
	return links_transfer_write(g->links, h->to, h->n_to, h->gone, buf, len);
}

GRP_API int grp_state_read(grp_t *g, void *buf, size_t cap, size_t *got)
{
	if (!g || !buf || !got)
		return GRP_EINVAL;
	struct handoff *h = &g->handoff;
	if (loading != g)
		return GRP_ECALLBACK;
	long n = links_transfer_read(g->links, h->from, buf, cap);
	if (n < 0)
		return (int)n;
	*got = (size_t)n;
	return 0;
}
