/* The public ordered-multicast API (group/group.h): the group object on its
 * links, its current epoch, and the change from one epoch to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "config.h"
#include "durable.h"
#include "group_internal.h"
#include "log.h"
#include "membership.h"
#include "restart.h"
#include "setup.h"

static const char *MOD = "group";

static int parse_senders(const char *text, unsigned n, unsigned *senders, unsigned *count)
{
	if (strcmp(text, "all") == 0) {
		for (unsigned i = 0; i < n; i++)
			senders[i] = i;
		*count = n;
		return 0;
	}
	bool *seen = calloc(n, sizeof *seen);
	if (!seen)
		return GRP_ENOMEM;
	unsigned c = 0;
	const char *p = text;
	int rc = 0;
	while (!rc) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v >= n || seen[v]) {
			log_error(MOD, "multicast.senders '%s': '%s' is not a distinct member rank below %u",
				  text, p, n);
			rc = GRP_ECONFIG;
			break;
		}
		seen[v] = true;
		senders[c++] = (unsigned)v;
		while (*end == ' ')
			end++;
		if (*end == '\0')
			break;
		if (*end != ',') {
			log_error(MOD, "multicast.senders '%s': expected 'all' or ranks separated by commas",
				  text);
			rc = GRP_ECONFIG;
		}
		p = end + 1;
	}
	free(seen);
	*count = c;
	return rc;
}

static bool callbacks_valid(const grp_callbacks *cb)
{
	return cb && cb->size >= offsetof(grp_callbacks, view) + sizeof cb->view && cb->deliver;
}

/* multicast.* and rdmc.* into the parameters every epoch is made from. */
static int read_multicast(grp_t *g, const grp_config *cfg, const struct member_setup *s)
{
	struct epoch_params *p = &g->params;
	unsigned *senders = calloc(s->n, sizeof *senders);
	if (!senders)
		return GRP_ENOMEM;
	p->senders = senders;
	/* A joiner sends unless told not to; its view says where. */
	int rc = s->joining ? 0 : parse_senders(config_str(cfg, "multicast.senders"), s->n,
						 senders, &p->n_senders);
	if (rc)
		return rc;
	g->joining = s->joining;
	p->n = s->n;
	p->me = s->rank;
	p->window = (unsigned)config_uint(cfg, "multicast.window");
	p->max_smc_payload = config_uint(cfg, "multicast.max_smc_payload");
	p->rdmc_max_payload = config_uint(cfg, "rdmc.max_payload");
	p->rdmc_block_size = config_uint(cfg, "rdmc.block_size");
	rdmc_schedule_parse(config_str(cfg, "rdmc.schedule"), &p->schedule);
	p->fence_timeout_ms = s->stall_timeout_ms;
	g->nonblocking = config_bool(cfg, "multicast.nonblocking");
	g->send_timeout_ms = (unsigned)config_uint(cfg, "multicast.send_timeout_ms");
	g->leave_timeout_ms = (unsigned)config_uint(cfg, "member.leave_timeout_ms");
	g->gms.suspect_timeout_ms = (unsigned)config_uint(cfg, "membership.suspect_timeout_ms");
	g->gms.heartbeat_ms = g->gms.suspect_timeout_ms / 10 ? g->gms.suspect_timeout_ms / 10 : 1;
	g->connect_timeout_ms = s->connect_timeout_ms;
	for (unsigned i = 0; i < p->n_senders; i++)
		g->is_sender |= p->senders[i] == p->me;
	if (s->joining)
		return 0;
	const char *why = epoch_params_problem(p);
	if (why) {
		log_error(MOD, "multicast.window, multicast.max_smc_payload, rdmc.*: %s", why);
		return GRP_ECONFIG;
	}
	return 0;
}

static enum grp_departure departure_of(enum gms_reason why)
{
	return why == GMS_LEFT ? GRP_DEPARTED_LEFT : GRP_DEPARTED_FAILED;
}

/* Tells the application the view of e: who joined and who departed. */
static void call_view(grp_t *g, const struct epoch *e, enum durable_view_kind kind, bool replaced,
		      unsigned n_joined, const unsigned *joined, unsigned n_departed,
		      const unsigned *departed, const enum grp_departure *reasons)
{
	unsigned n = epoch_size(e);
	unsigned members[n];
	for (unsigned i = 0; i < n; i++)
		members[i] = epoch_member_id(e, i);
	grp_view v = {
		.vid = epoch_vid(e), .n_members = n, .members = members, .my_rank = epoch_rank(e),
		.n_joined = n_joined, .joined = n_joined ? joined : NULL,
		.n_departed = n_departed, .departed = n_departed ? departed : NULL,
		.departed_reason = n_departed ? reasons : NULL,
		.state_replaced = replaced,
	};
	handoff_view(g, &v, kind);
}

/* The member that serves joiners the state: the lowest-ranked member of the
 * view that was in the view before. */
static unsigned state_source(const struct epoch *e, const unsigned *joined, unsigned n_joined)
{
	for (unsigned r = 0; r < epoch_size(e); r++) {
		bool added = false;
		for (unsigned k = 0; k < n_joined && !added; k++)
			added = epoch_member_id(e, r) == joined[k];
		if (!added)
			return r;
	}
	return epoch_size(e);
}

static void report_view(void *arg, const struct epoch *e, bool first,
			const struct membership_departures *d)
{
	grp_t *g = arg;
	atomic_store(&g->rank, epoch_rank(e));
	atomic_store_explicit(&g->view_vid, epoch_vid(e), memory_order_relaxed);
	atomic_store_explicit(&g->view_n, epoch_size(e), memory_order_relaxed);
	admin_note_view(g);
	enum grp_departure reasons[d->n + 1];
	for (unsigned i = 0; i < d->n; i++)
		reasons[i] = departure_of(d->reasons[i]);
	bool joined_now = first && g->joining;
	call_view(g, e, joined_now ? DURABLE_VIEW_JOINED : DURABLE_VIEW_INSTALLED,
		  first && g->rejoined, d->n_joined, d->joined, d->n, d->ids, reasons);
	if (joined_now)
		handoff_hold(g);
	else if (!first && d->n_joined && state_source(e, d->joined, d->n_joined) == epoch_rank(e))
		handoff_serve(g, epoch_vid(e), d->joined, d->n_joined);
	if (first) {
		atomic_store_explicit(&g->first_reported, true, memory_order_release);
		links_notify(g->links);
	}
}

/* Our last view callback: the view we were in, with ourselves departed. */
static void report_stop(void *arg, const struct epoch *e, int why)
{
	grp_t *g = arg;
	unsigned me = epoch_member_id(e, epoch_rank(e));
	enum grp_departure reason = why == GRP_EMINORITY  ? GRP_DEPARTED_MINORITY
				    : why == GRP_EEVICTED ? GRP_DEPARTED_EVICTED
				    : why == GRP_ENOMEM    ? GRP_DEPARTED_NO_MEMORY
							  : GRP_DEPARTED_LOG_FAILED;
	log_error(MOD, "member %u stopped: %s", me, grp_strerror(why));
	atomic_store(&g->stop_reason, why);
	call_view(g, e, DURABLE_VIEW_STOP, false, 0, NULL, 1, &me, &reason);
	rejoin_notify_stopped(g);
}

static void deliver(void *arg, const grp_delivery *msg)
{
	grp_t *g = arg;
	counter_add(&g->counters, COUNTER_MSGS_DELIVERED, 1);
	counter_add(&g->counters, COUNTER_BYTES_DELIVERED, msg->len);
	handoff_deliver(g, msg);
}

static bool ready_to_deliver(void *arg, size_t len)
{
	return durable_ready(arg, len) && dispatch_ready(arg, len);
}

void group_renew_epoch(grp_t *g)
{
	membership_renew(g->membership);
}

/* Whether this thread runs one of g's callbacks (on the engine thread, or
 * in dispatch mode inside grp_dispatch). */
static bool in_callback(const grp_t *g)
{
	return (g->links && links_on_engine_thread(g->links)) || dispatch_in_callback(g);
}

/* The current epoch: under send_lock, or on the engine thread. */
static struct epoch *current(const grp_t *g)
{
	return membership_epoch(g->membership);
}

/* The view that added us, as our first epoch's parameters. */
static int params_from_view(grp_t *g, const struct view_info *v, struct membership_departures *j)
{
	struct epoch_params *p = &g->params;
	unsigned *ids = calloc(v->n, sizeof *ids), *senders = calloc(v->n, sizeof *senders);
	unsigned *joined = calloc(v->n, sizeof *joined);
	free((void *)p->ids);
	free((void *)p->senders);
	p->ids = ids;
	p->senders = senders;
	*j = (struct membership_departures){ .joined = joined };
	if (!ids || !senders || !joined)
		return GRP_ENOMEM;
	p->vid = v->vid;
	p->n = v->n;
	g->handoff.from = FAB_MAX_PEERS;
	for (unsigned r = 0; r < v->n; r++) {
		ids[r] = v->members[r].id;
		if (ids[r] == links_my_id(g->links))
			p->me = r;
		if (v->members[r].flags & VIEW_MEMBER_NEW)
			joined[j->n_joined++] = ids[r];
		else if (g->handoff.from == FAB_MAX_PEERS)
			g->handoff.from = ids[r];
	}
	p->n_senders = v->n_senders;
	memcpy(senders, v->senders, v->n_senders * sizeof *senders);
	for (unsigned i = 0; i < p->n_senders; i++)
		g->is_sender |= p->senders[i] == p->me;
	const char *why = epoch_params_problem(p);
	if (why) {
		log_error(MOD, "multicast.window, multicast.max_smc_payload, rdmc.*: %s", why);
		return GRP_ECONFIG;
	}
	return 0;
}

static bool first_reported(void *arg)
{
	return atomic_load_explicit(&((grp_t *)arg)->first_reported, memory_order_acquire);
}

struct membership_callbacks group_membership_callbacks(grp_t *g)
{
	return (struct membership_callbacks){
		.deliver = deliver, .ready = ready_to_deliver, .installed = report_view,
		.stopped = report_stop, .arg = g,
	};
}

int group_enter_view(grp_t *g, const struct view_info *v)
{
	struct membership_departures joined = { 0 };
	struct membership_callbacks cb = group_membership_callbacks(g);
	g->joining = true;
	g->is_sender = false;
	atomic_store(&g->first_reported, false);
	int rc = params_from_view(g, v, &joined);
	if (!rc)
		rc = handoff_start(g);
	if (!rc)
		rc = dispatch_start(g);
	if (!rc)
		rc = membership_start(g->links, &g->params, &g->gms, &cb, &g->snd, &joined,
				      &g->membership);
	if (!rc)
		rc = durable_start(g);
	free((void *)joined.joined);
	if (!rc)
		rc = membership_await_first_view(g->membership, g->connect_timeout_ms);
	/* The state before this view comes from the member that serves it,
	 * before anything of the view is delivered. */
	if (!rc)
		rc = links_wait(g->links, first_reported, g, g->connect_timeout_ms);
	return rc ? rc : handoff_load(g, g->handoff.from);
}

int group_join_through(grp_t *g, const struct links_member *contacts, unsigned n)
{
	struct view_info *v = malloc(sizeof *v);
	if (!v)
		return GRP_ENOMEM;
	struct links_join_params jp = {
		.contacts = contacts, .n_contacts = n, .sender = g->is_sender,
		.log_version = atomic_load(&g->durable.last_version),
		.timeout_ms = g->connect_timeout_ms,
	};
	int rc = links_join(g->links, &jp, v);
	if (!rc)
		rc = group_enter_view(g, v);
	free(v);
	return rc;
}

/* A joiner: into the running group of the contacts. */
static int join_running(grp_t *g, const grp_config *cfg, struct member_setup *s)
{
	struct view_info *v = malloc(sizeof *v);
	if (!v)
		return GRP_ENOMEM;
	bool sender = strcmp(config_str(cfg, "multicast.senders"), "all") == 0;
	int rc = member_setup_join(s, sender, g->durable.last_version, &g->links, v);
	if (!rc)
		rc = group_enter_view(g, v);
	free(v);
	return rc;
}

int group_start_view(grp_t *g)
{
	struct membership_callbacks cb = group_membership_callbacks(g);
	int rc = handoff_start(g);
	if (!rc)
		rc = dispatch_start(g);
	if (!rc)
		rc = membership_start(g->links, &g->params, &g->gms, &cb, &g->snd, NULL,
				      &g->membership);
	if (!rc)
		rc = durable_start(g);
	if (!rc)
		rc = membership_await_first_view(g->membership, g->connect_timeout_ms);
	return rc;
}

static int start(grp_t *g, const grp_config *cfg)
{
	struct member_setup s;
	int rc = member_setup_read(cfg, &s);
	if (rc)
		return rc;
	s.links.counters = &g->counters;
	rc = admin_start(g, cfg, s.links.my_id);
	if (rc) {
		member_setup_free(&s);
		return rc;
	}
	unsigned *ids = calloc(s.n ? s.n : 1, sizeof *ids);
	g->params.ids = ids;
	rc = ids ? read_multicast(g, cfg, &s) : GRP_ENOMEM;
	if (!rc)
		rc = rejoin_init(g, cfg, &s);
	if (!rc)
		rc = dispatch_open(g, cfg);
	if (!rc)
		rc = durable_open(g, cfg);
	/* With a log, even an empty one, the others' logs decide whether the
	 * group restarts or is new (restart.c). */
	if (!rc && !s.joining && g->durable.log) {
		rc = restart_group(g, &s);
		if (rc == RESTART_NEW_GROUP) {
			rc = links_form(g->links, s.members, s.n, s.rank, s.connect_timeout_ms, ids);
			if (!rc)
				rc = group_start_view(g);
		}
	} else if (!rc && s.joining) {
		rc = join_running(g, cfg, &s);
	} else if (!rc) {
		rc = member_setup_connect(&s, &g->links, ids);
		if (!rc)
			rc = group_start_view(g);
	}
	member_setup_free(&s);
	if (rc)
		return rc;
	/* The engine may be changing views already: the epoch is read under
	 * send_lock, like every application thread does. */
	pthread_mutex_lock(&g->snd.send_lock);
	g->max_msg = epoch_max_msg(current(g));
	pthread_mutex_unlock(&g->snd.send_lock);
	return rejoin_start(g);
}

/* Stops the engine (no callback runs after this), tells the others we
 * leave, makes every push land, and closes the links. */
void group_disconnect(grp_t *g)
{
	if (g->links) {
		links_engine_stop(g->links);
		handoff_stop(g);
		durable_detach(g);
		dispatch_detach(g);
	}
	membership_stop(g->membership);
	g->membership = NULL;
	links_close(g->links);
	g->links = NULL;
}

static void free_group(grp_t *g)
{
	rejoin_stop(g);
	group_disconnect(g);
	admin_stop(g);
	rejoin_free(g);
	durable_close(g);
	dispatch_close(g);
	free((void *)g->params.ids);
	free((void *)g->params.senders);
	pthread_mutex_destroy(&g->snd.send_lock);
	pthread_mutex_destroy(&g->durable.notify_lock);
	free(g);
}

GRP_API int grp_join(const grp_config *cfg, const grp_callbacks *callbacks, void *user,
		     grp_t **out)
{
	if (!cfg || !out || !callbacks_valid(callbacks))
		return GRP_EINVAL;
	grp_t *g = calloc(1, sizeof *g);
	if (!g)
		return GRP_ENOMEM;
	memcpy(&g->cb, callbacks,
	       callbacks->size < sizeof g->cb ? callbacks->size : sizeof g->cb);
	g->user = user;
	pthread_mutex_init(&g->snd.send_lock, NULL);
	pthread_mutex_init(&g->durable.notify_lock, NULL);
	int rc = start(g, cfg);
	if (rc) {
		free_group(g);
		return rc;
	}
	/* Dispatch mode: the first view's callback runs before we return,
	 * as in engine mode, here on the caller's thread. */
	dispatch_run_queued(g);
	log_info(MOD, "member %u (id %u) joined view %u: %u members, %u senders, window %u, "
		 "%zu-byte slots, messages up to %zu bytes", g->params.me, links_my_id(g->links),
		 g->params.vid, g->params.n, g->params.n_senders, g->params.window,
		 g->params.max_smc_payload, g->max_msg);
	*out = g;
	return 0;
}

/* Why this member cannot send now, or 0. Called with send_lock held. */
static int send_blocked(grp_t *g)
{
	int stopped = membership_stopped(g->membership);
	if (stopped)
		return stopped;
	if (atomic_load(&g->snd.leaving))
		return GRP_ECLOSED;
	if (atomic_load(&g->snd.reserved))
		return GRP_EBUSY;
	return 0;
}

struct slot_wait {
	grp_t *g;
	size_t len;
};

/* On the engine thread, which alone replaces the epoch. */
static bool can_retry(void *arg)
{
	const struct slot_wait *w = arg;
	return membership_stopped(w->g->membership) || atomic_load(&w->g->snd.leaving) ||
	       epoch_window_open(current(w->g), w->len);
}

/* Takes send_lock and waits until the next slot (and for a large message
 * the next RDMC buffer) of the current epoch is free. Returns with the
 * lock held on success only. */
static int acquire_slot(grp_t *g, size_t len)
{
	struct slot_wait w = { g, len };
	bool may_block = !g->nonblocking && !in_callback(g);
	uint64_t waited_ms = 0;
	pthread_mutex_lock(&g->snd.send_lock);
	for (;;) {
		int rc = send_blocked(g);
		if (!rc && len > g->max_msg)
			rc = GRP_EMSGSIZE;
		if (!rc && epoch_window_open(current(g), len))
			return 0;
		if (!rc && !may_block)
			rc = GRP_EAGAIN;
		if (!rc && g->send_timeout_ms && waited_ms >= g->send_timeout_ms)
			rc = GRP_ETIMEDOUT;
		if (rc) {
			pthread_mutex_unlock(&g->snd.send_lock);
			return rc;
		}
		pthread_mutex_unlock(&g->snd.send_lock);
		counter_add(&g->counters, COUNTER_SEND_WINDOW_WAITS, waited_ms == 0);
		unsigned slice = 1000;
		if (g->send_timeout_ms && g->send_timeout_ms - waited_ms < slice)
			slice = (unsigned)(g->send_timeout_ms - waited_ms);
		atomic_fetch_add(&g->snd.window_waiters, 1);
		links_wait(g->links, can_retry, &w, slice);
		atomic_fetch_sub(&g->snd.window_waiters, 1);
		waited_ms += slice;
		pthread_mutex_lock(&g->snd.send_lock);
	}
}

static int reserve(grp_t *g, size_t len, void **slot)
{
	int rc = acquire_slot(g, len);
	if (rc)
		return rc;
	void *payload = epoch_payload(current(g), len);
	atomic_store(&g->snd.reserved, payload);
	g->snd.reserved_len = len;
	pthread_mutex_unlock(&g->snd.send_lock);
	*slot = payload;
	return 0;
}

static int commit(grp_t *g, void *slot)
{
	pthread_mutex_lock(&g->snd.send_lock);
	int rc = membership_stopped(g->membership);
	if (!rc)
		rc = atomic_load(&g->snd.leaving) ? GRP_ECLOSED
		     : atomic_load(&g->snd.reserved) != slot ? GRP_EINVAL : 0;
	if (!rc) {
		counter_add(&g->counters, COUNTER_MSGS_SENT, 1);
		counter_add(&g->counters, COUNTER_BYTES_SENT, g->snd.reserved_len);
		epoch_commit(current(g), g->snd.reserved_len);
		atomic_store(&g->snd.reserved, NULL);
		durable_sent(g);
	}
	pthread_mutex_unlock(&g->snd.send_lock);
	if (!rc)
		links_notify(g->links);
	return rc;
}

/* Every send call enters here, so that grp_leave can wait until none is
 * left touching the epoch it is about to close. */
static bool enter(grp_t *g)
{
	for (;;) {
		atomic_fetch_add(&g->active_calls, 1);
		if (!atomic_load(&g->snd.leaving) && !atomic_load(&g->swapping))
			return true;
		atomic_fetch_sub(&g->active_calls, 1);
		/* A view added us back and is being put in place (rejoin.c):
		 * the call waits for it, as for a view change, but on an engine
		 * thread, which the swap stops. */
		if (atomic_load(&g->snd.leaving) || !atomic_load(&g->readmitted) ||
		    links_on_any_engine_thread())
			return false;
		clock_sleep_ms(1);
	}
}

/* Why a call that could not enter fails. */
static int turned_away(grp_t *g)
{
	return atomic_load(&g->snd.leaving) ? GRP_ECLOSED : atomic_load(&g->stop_reason);
}

static int leave_call(grp_t *g, int rc)
{
	atomic_fetch_sub(&g->active_calls, 1);
	return rc;
}

GRP_API int grp_send_reserve(grp_t *g, size_t len, void **slot)
{
	if (!g || !slot || !g->is_sender)
		return GRP_EINVAL;
	if (!enter(g))
		return turned_away(g);
	return leave_call(g, reserve(g, len, slot));
}

GRP_API int grp_send_commit(grp_t *g, void *slot)
{
	if (!g || !slot)
		return GRP_EINVAL;
	if (!enter(g))
		return turned_away(g);
	return leave_call(g, commit(g, slot));
}

GRP_API int grp_send(grp_t *g, const void *buf, size_t len)
{
	if (!g || (!buf && len) || !g->is_sender)
		return GRP_EINVAL;
	if (!enter(g))
		return turned_away(g);
	void *slot;
	int rc = reserve(g, len, &slot);
	if (!rc) {
		if (len)
			memcpy(slot, buf, len);
		rc = commit(g, slot);
	}
	return leave_call(g, rc);
}

GRP_API uint64_t grp_persisted(const grp_t *g)
{
	return g ? atomic_load_explicit(&((grp_t *)g)->durable.frontier, memory_order_acquire) : 0;
}

struct durable_wait {
	grp_t *g;
	uint64_t ticket;  /* our message: the ticket-th we sent */
	_Atomic uint64_t version; /* once it was delivered here: a version at or after it */
};

static bool durable_done(void *arg)
{
	struct durable_wait *w = arg;
	struct durable *d = &w->g->durable;
	if (membership_stopped(w->g->membership) || atomic_load(&w->g->snd.leaving) ||
	    atomic_load(&d->failed))
		return true;
	if (!w->version && atomic_load_explicit(&d->own_delivered, memory_order_acquire) >=
				   w->ticket)
		w->version = atomic_load_explicit(&d->own_version, memory_order_relaxed);
	return w->version && atomic_load(&d->frontier) >= w->version;
}

GRP_API int grp_send_durable(grp_t *g, const void *buf, size_t len)
{
	if (!g || !g->durable.log)
		return GRP_EINVAL;
	if (in_callback(g))
		return GRP_ECALLBACK;
	int rc = grp_send(g, buf, len);
	if (rc)
		return rc;
	/* Our sends are delivered in the order they were committed, so the
	 * count of ours committed names this one among ours delivered. */
	struct durable_wait w = {
		.g = g, .ticket = atomic_load_explicit(&g->durable.own_sent, memory_order_relaxed),
	};
	if (!enter(g))
		return turned_away(g);
	uint64_t waited_ms = 0;
	while (!durable_done(&w)) {
		if (g->send_timeout_ms && waited_ms >= g->send_timeout_ms) {
			rc = GRP_ETIMEDOUT;
			break;
		}
		links_wait(g->links, durable_done, &w, 1000);
		waited_ms += 1000;
	}
	if (!rc)
		rc = membership_stopped(g->membership);
	if (!rc)
		rc = atomic_load(&g->durable.failed);
	if (!rc && atomic_load(&g->snd.leaving) && !w.version)
		rc = GRP_ECLOSED;
	return leave_call(g, rc);
}

GRP_API size_t grp_max_msg_size(const grp_t *g)
{
	return g ? g->max_msg : 0;
}

GRP_API unsigned grp_rank(const grp_t *g)
{
	return g ? atomic_load(&((grp_t *)g)->rank) : 0;
}

/* Every message we sent is held by every member of the current view (not
 * in a view change: then ours outside its trim are sent again in the next
 * one), or we stopped. */
static bool others_hold_ours(void *arg)
{
	grp_t *g = arg;
	if (membership_stopped(g->membership))
		return true;
	struct epoch *e = current(g);
	return epoch_live(e) && !epoch_wedged(e) && epoch_others_hold_ours(e);
}

static bool no_send_in_progress(void *arg)
{
	return atomic_load(&((grp_t *)arg)->active_calls) == 0;
}

GRP_API int grp_leave(grp_t *g)
{
	if (!g)
		return GRP_EINVAL;
	if (in_callback(g)) {
		log_error(MOD, "grp_leave called from a callback: call it from another thread");
		return GRP_ECALLBACK;
	}
	pthread_mutex_lock(&g->snd.send_lock);
	bool already = atomic_exchange(&g->snd.leaving, true);
	atomic_store(&g->snd.reserved, NULL);
	pthread_mutex_unlock(&g->snd.send_lock);
	if (!already)
		rejoin_stop(g);
	if (already || !g->links || !g->membership) {
		int stopped = atomic_load(&g->stop_reason);
		group_disconnect(g);
		return already ? GRP_ECLOSED : stopped ? stopped : GRP_ECLOSED;
	}
	uint64_t deadline = clock_deadline_ms(g->leave_timeout_ms);
	int rc = links_wait(g->links, no_send_in_progress, g, g->leave_timeout_ms);
	if (!rc)
		rc = links_wait(g->links, others_hold_ours, g, (unsigned)clock_ms_left(deadline));
	if (rc)
		log_warn(MOD, "leaving before every member confirmed our last messages");
	int stopped = membership_stopped(g->membership);
	group_disconnect(g);
	return stopped ? stopped : rc;
}

GRP_API void grp_free(grp_t *g)
{
	if (!g)
		return;
	if (in_callback(g)) {
		log_error(MOD, "grp_free called from a callback: ignored; call it from another "
			  "thread");
		return;
	}
	atomic_store(&g->snd.leaving, true);
	free_group(g);
}
