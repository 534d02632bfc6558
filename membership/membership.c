#include "membership.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static const char *MOD = "membership";

enum join_state { JOIN_PENDING, JOIN_DONE, JOIN_ABANDONED, JOIN_FAILED };

struct membership {
	struct links *links;
	struct membership_callbacks cb;
	struct epoch_sender *snd;
	struct gms_params gms_params;
	struct epoch_params params; /* of the next epoch; ids and senders owned */
	struct epoch *cur;          /* replaced under snd->send_lock */
	/* Engine only: the previous epoch, until cur is connected and every
	 * write posted from the previous one completed. */
	struct epoch *retiring;
	bool quiescing;
	struct gms *gms;            /* cur's protocol, once cur is connected */
	links_client_id client;
	atomic_bool renew_requested;
	atomic_int join; /* enum join_state */
	int join_error;
	atomic_int stopped; /* 0, GRP_EMINORITY, GRP_EEVICTED or membership_abandon's */
	bool joined;        /* our first view is a running group's, not its first */

	/* Engine only: what cur inherits from the view before it. */
	uint8_t *carried;    /* per rank of cur: a suspicion not yet acted on */
	bool *absent;        /* per rank of cur: not waited for at connect */
	uint64_t connect_since;
	/* Removed from the view before: reported, and their endpoints closed. */
	unsigned *departed_ids;
	enum gms_reason *departed_reasons;
	unsigned n_departed;
	/* Added by cur (by rank), and their ids in rank order. */
	bool *added;
	unsigned *joined_ids;
	unsigned n_joined;
};

/* Room in every per-member array: any view fits. */
#define CAPACITY FAB_MAX_PEERS

static void deliver(void *arg, const grp_delivery *msg)
{
	struct membership *m = arg;
	m->cb.deliver(m->cb.arg, msg);
}

static bool ready(void *arg, size_t len)
{
	struct membership *m = arg;
	return !m->cb.ready || m->cb.ready(m->cb.arg, len);
}

static bool first_view(const struct membership *m)
{
	return atomic_load(&m->join) == JOIN_PENDING;
}

static void publish(struct membership *m);

/* A joiner learns of the view that adds it once it is created here: it
 * must post its keys for the view to be installed. */
static int create_epoch(struct membership *m, struct epoch **out)
{
	struct epoch_callbacks cb = { .deliver = deliver, .ready = ready, .arg = m };
	m->params.extra_bytes = gms_columns_bytes(m->params.n, m->params.n_senders);
	int rc = epoch_create(m->links, &m->params, &cb, m->snd, out);
	if (!rc)
		publish(m);
	return rc;
}

/* The current epoch is connected, and the view is reported. The one before
 * it can go once our writes from it completed: nobody writes into it any
 * more, since every member posted its keys for this one after its last
 * write there. */
static void publish(struct membership *m)
{
	struct links_view v = {
		.vid = m->params.vid, .n = m->params.n, .ids = m->params.ids, .added = m->added,
		.n_senders = m->params.n_senders, .senders = m->params.senders,
	};
	int rc = links_publish_view(m->links, &v);
	if (rc)
		log_warn(MOD, "view %u cannot be offered to joiners: %s", v.vid, grp_strerror(rc));
}

static void installed(struct membership *m, struct epoch *e)
{
	struct membership_departures d = { m->n_departed, m->departed_ids, m->departed_reasons,
					   m->n_joined, m->joined_ids };
	counter_add(links_counters(m->links), COUNTER_VIEWS_INSTALLED, 1);
	if (m->retiring) {
		m->quiescing = true;
		if (epoch_quiesce(m->retiring) != 0) {
			/* No room to track the writes: free it as soon as possible. */
			epoch_retire(m->retiring);
			m->retiring = NULL;
			m->quiescing = false;
		}
		m->cb.installed(m->cb.arg, e, false, &d);
		return;
	}
	int pending = JOIN_PENDING;
	if (atomic_compare_exchange_strong(&m->join, &pending, JOIN_DONE))
		m->cb.installed(m->cb.arg, e, true, &d);
}

/* How many suspicion timeouts a member may take to post its keys for a new
 * view: creating an epoch registers (on verbs: pins) its table and RDMC
 * buffers, which can hold a member's engine far longer than a heartbeat
 * gap; a member that crashed meanwhile is seen at once by its link. */
#define INSTALL_PATIENCE 10u

/* A member that failed, or did not post its keys within INSTALL_PATIENCE
 * suspicion timeouts of our own, while the view was being installed is
 * not waited for: it starts the view suspected, which changes at once. */
static bool give_up_on_missing(struct membership *m, struct epoch *e)
{
	uint64_t waited = clock_now_ns() - m->connect_since;
	uint64_t timeout = (uint64_t)m->gms_params.suspect_timeout_ms * 1000000u;
	bool silent_too_long = waited > INSTALL_PATIENCE * timeout;
	bool changed = false;
	for (unsigned r = 0; r < epoch_size(e); r++) {
		if (m->absent[r] || epoch_keys_arrived(e, r))
			continue;
		/* A joiner that never connected here within half a suspicion
		 * timeout did not come: the members already in the view would
		 * take our own silence for a failure soon after. */
		unsigned id = epoch_member_id(e, r);
		bool never_came = !fab_peer_connected(links_domain(m->links), id) &&
				  waited > timeout / 2;
		if (links_peer_gone(m->links, id) || silent_too_long || never_came) {
			m->absent[r] = true;
			m->carried[r] = gms_reason_gone(m->links, id);
			changed = true;
		}
	}
	return changed;
}

static int fail_first_view(struct membership *m, int rc)
{
	int pending = JOIN_PENDING;
	m->join_error = rc;
	atomic_compare_exchange_strong(&m->join, &pending, JOIN_FAILED);
	return 0;
}

static int connect_epoch(struct membership *m, struct epoch *e)
{
	/* Formation fails as a whole; a running group's view goes on without
	 * members that are missing. */
	bool first = first_view(m) && !m->joined;
	int rc = epoch_connect(e, first ? NULL : m->absent);
	if ((rc == GRP_EAGAIN || rc == GRP_EPEER) && !first)
		return give_up_on_missing(m, e);
	if (rc == GRP_EAGAIN)
		return 0;
	if (rc) {
		log_error(MOD, "view %u cannot be installed: %s", epoch_vid(e), grp_strerror(rc));
		return fail_first_view(m, rc);
	}
	rc = gms_create(m->links, e, &m->gms_params, m->carried, &m->gms);
	if (rc)
		return fail_first_view(m, rc);
	for (unsigned i = 0; i < m->n_departed; i++)
		links_close_peer(m->links, m->departed_ids[i]);
	if (atomic_load(&m->join) != JOIN_ABANDONED)
		installed(m, e);
	return 1;
}

/* Per-rank state of the view being installed. */
static void reset_view_state(struct membership *m)
{
	memset(m->carried, 0, CAPACITY * sizeof *m->carried);
	memset(m->absent, 0, CAPACITY * sizeof *m->absent);
	memset(m->added, 0, CAPACITY * sizeof *m->added);
	m->n_joined = 0;
}

/* The next epoch is created and replaces e for the application's threads,
 * with our messages `trim` leaves out committed first; e retires once the
 * next is connected. e is sealed or wedged, so no reservation opens in it
 * any more; the caller waited for an open one to be committed. */
static int switch_to(struct membership *m, struct epoch *e, const uint64_t *trim)
{
	struct epoch *next;
	int rc = create_epoch(m, &next);
	if (rc) {
		log_error(MOD, "cannot create view %u: %s", m->params.vid, grp_strerror(rc));
		return rc;
	}
	pthread_mutex_lock(&m->snd->send_lock);
	rc = trim ? epoch_carry_over(e, trim, next) : 0;
	m->retiring = e;
	m->cur = next;
	pthread_mutex_unlock(&m->snd->send_lock);
	m->connect_since = clock_now_ns();
	log_debug(MOD, "view %u ended; view %u created", epoch_vid(e), epoch_vid(next));
	return rc;
}

/* Sealed and drained: the next epoch, same members. */
static int start_renewed(struct membership *m, struct epoch *e)
{
	m->params.vid = epoch_vid(e) + 1;
	m->n_departed = 0;
	reset_view_state(m);
	gms_free(m->gms);
	m->gms = NULL;
	return switch_to(m, e, NULL) == 0;
}

static int end_epoch(struct membership *m, struct epoch *e)
{
	if (!epoch_sealed(e)) {
		if (!atomic_load(&m->renew_requested) && !epoch_seal_requested(e))
			return 0;
		if (!epoch_seal(e))
			return 0;
		atomic_store(&m->renew_requested, false);
		return 1;
	}
	return !m->retiring && epoch_drained(e) ? start_renewed(m, e) : 0;
}

/* Appends the joiners the protocol added (a sender among them sends after
 * the others); false if the view would grow past what joiners can be told. */
static bool add_joiners(struct membership *m, unsigned *kept, unsigned *n_senders)
{
	unsigned ids[GMS_MAX_JOINS];
	bool sends[GMS_MAX_JOINS];
	unsigned k = gms_joins(m->gms, ids, sends);
	unsigned *all = (unsigned *)m->params.ids, *senders = (unsigned *)m->params.senders;
	if (*kept + k > VIEW_INFO_MAX_MEMBERS)
		return false;
	for (unsigned i = 0; i < k; i++) {
		m->added[*kept] = true;
		m->joined_ids[m->n_joined++] = ids[i];
		if (sends[i])
			senders[(*n_senders)++] = *kept;
		all[(*kept)++] = ids[i];
	}
	return true;
}

/* The next view's parameters: e's members but those the protocol removed
 * (recorded as departures), e's senders among them, then the joiners. */
static int next_params(struct membership *m, struct epoch *e)
{
	unsigned n = epoch_size(e), kept = 0;
	unsigned new_rank[n];
	unsigned *ids = (unsigned *)m->params.ids, *senders = (unsigned *)m->params.senders;
	reset_view_state(m);
	m->n_departed = 0;
	for (unsigned r = 0; r < n; r++) {
		enum gms_reason why = gms_removal(m->gms, r);
		if (why != GMS_STAYS) {
			m->departed_ids[m->n_departed] = epoch_member_id(e, r);
			m->departed_reasons[m->n_departed++] = why;
			continue;
		}
		if (r == epoch_rank(e))
			m->params.me = kept;
		m->carried[kept] = (uint8_t)gms_suspicion(m->gms, r);
		m->absent[kept] = m->carried[kept] != GMS_STAYS;
		new_rank[r] = kept;
		ids[kept++] = epoch_member_id(e, r);
	}
	unsigned n_senders = 0;
	for (unsigned s = 0; s < epoch_senders(e); s++) {
		unsigned r = epoch_sender_member(e, s);
		if (gms_removal(m->gms, r) == GMS_STAYS)
			senders[n_senders++] = new_rank[r];
	}
	if (!add_joiners(m, &kept, &n_senders))
		return GRP_ENOSPC;
	m->params.n = kept;
	m->params.n_senders = n_senders;
	m->params.vid = epoch_vid(e) + 1;
	return 0;
}

/* We stopped: nothing more is sent or delivered here, and the others see
 * our endpoints close rather than wait for our silence to time out. The
 * callback runs before `stopped` is published, so that a call that returns
 * the error comes after it (the release store orders its writes). */
static void stop(struct membership *m, struct epoch *e, int why)
{
	epoch_wedge(e);
	links_unpublish_view(m->links);
	for (unsigned r = 0; r < epoch_size(e); r++)
		if (r != epoch_rank(e))
			links_close_peer(m->links, epoch_member_id(e, r));
	m->cb.stopped(m->cb.arg, e, why);
	atomic_store_explicit(&m->stopped, why, memory_order_release);
}

static int install_next(struct membership *m, struct epoch *e)
{
	if (m->retiring || atomic_load(&m->snd->reserved))
		return 0;
	int rc = next_params(m, e);
	if (!rc)
		rc = switch_to(m, e, gms_trim(m->gms));
	if (rc) {
		/* The others give up on us once our keys stay missing. */
		log_error(MOD, "view %u: %s; this member cannot go on", epoch_vid(e) + 1,
			  grp_strerror(rc));
		stop(m, e, GRP_EEVICTED);
		return 1;
	}
	gms_free(m->gms);
	m->gms = NULL;
	for (unsigned i = 0; i < m->n_departed; i++)
		log_info(MOD, "view %u: member %u removed (%s)", m->params.vid, m->departed_ids[i],
			 m->departed_reasons[i] == GMS_LEFT ? "left" : "failed");
	for (unsigned i = 0; i < m->n_joined; i++)
		log_info(MOD, "view %u: member %u added", m->params.vid, m->joined_ids[i]);
	return 1;
}

/* Processes waiting to join; links_pending_joins leaves out those the
 * published view (cur's, published when cur was created) lists. */
static void offer_joins(struct membership *m)
{
	unsigned ids[GMS_MAX_JOINS];
	bool sends[GMS_MAX_JOINS];
	unsigned n = links_pending_joins(m->links, ids, sends, GMS_MAX_JOINS);
	gms_offer_joins(m->gms, ids, sends, n);
}

static int run_protocol(struct membership *m, struct epoch *e)
{
	bool worked;
	offer_joins(m);
	switch (gms_step(m->gms, &worked)) {
	case GMS_INSTALL:
		return install_next(m, e) + worked;
	case GMS_MINORITY:
		stop(m, e, GRP_EMINORITY);
		return 1;
	case GMS_EVICTED:
		stop(m, e, GRP_EEVICTED);
		return 1;
	case GMS_RUNNING:
		break;
	}
	return worked;
}

static int retire_when_quiet(struct membership *m)
{
	if (!m->quiescing || !epoch_quiet(m->retiring))
		return 0;
	epoch_retire(m->retiring);
	m->retiring = NULL;
	m->quiescing = false;
	return 1;
}

static int membership_run(void *arg)
{
	struct membership *m = arg;
	if (atomic_load(&m->stopped))
		return 0;
	int retired = retire_when_quiet(m);
	struct epoch *e = m->cur;
	if (!epoch_live(e))
		return retired + connect_epoch(m, e);
	int work = retired + (epoch_has_work(e) && epoch_progress(e));
	if (m->gms)
		work += run_protocol(m, e);
	if (m->cur == e && !epoch_wedged(e) && !atomic_load(&m->stopped))
		work += end_epoch(m, e);
	return work;
}

static int copy_params(struct membership *m, const struct epoch_params *p,
		       const struct membership_departures *joined)
{
	m->params = *p;
	unsigned *ids = malloc(CAPACITY * sizeof *ids);
	unsigned *senders = malloc(CAPACITY * sizeof *senders);
	m->params.ids = ids;
	m->params.senders = senders;
	m->departed_ids = calloc(CAPACITY, sizeof *m->departed_ids);
	m->departed_reasons = calloc(CAPACITY, sizeof *m->departed_reasons);
	m->carried = calloc(CAPACITY, sizeof *m->carried);
	m->absent = calloc(CAPACITY, sizeof *m->absent);
	m->added = calloc(CAPACITY, sizeof *m->added);
	m->joined_ids = calloc(CAPACITY, sizeof *m->joined_ids);
	if (!ids || !senders || !m->departed_ids || !m->departed_reasons || !m->carried ||
	    !m->absent || !m->added || !m->joined_ids)
		return GRP_ENOMEM;
	if (p->n > CAPACITY || p->n_senders > p->n)
		return GRP_EINVAL;
	memcpy(ids, p->ids, p->n * sizeof *ids);
	memcpy(senders, p->senders, p->n_senders * sizeof *senders);
	m->joined = joined != NULL;
	const unsigned *who = joined ? joined->joined : p->ids;
	m->n_joined = joined ? joined->n_joined : p->n;
	memcpy(m->joined_ids, who, m->n_joined * sizeof *who);
	for (unsigned r = 0; joined && r < p->n; r++)
		for (unsigned k = 0; k < m->n_joined; k++)
			m->added[r] |= ids[r] == who[k];
	return 0;
}

static void free_membership(struct membership *m)
{
	gms_free(m->gms);
	epoch_destroy(m->retiring);
	if (m->cur)
		epoch_log_incomplete(m->cur);
	epoch_destroy(m->cur);
	free((void *)m->params.ids);
	free((void *)m->params.senders);
	free(m->carried);
	free(m->absent);
	free(m->departed_ids);
	free(m->departed_reasons);
	free(m->added);
	free(m->joined_ids);
	free(m);
}

int membership_start(struct links *links, const struct epoch_params *params,
		     const struct gms_params *gms, const struct membership_callbacks *cb,
		     struct epoch_sender *sender, const struct membership_departures *joined,
		     struct membership **out)
{
	struct membership *m = calloc(1, sizeof *m);
	if (!m)
		return GRP_ENOMEM;
	m->links = links;
	m->cb = *cb;
	m->snd = sender;
	m->gms_params = *gms;
	int rc = copy_params(m, params, joined);
	m->connect_since = clock_now_ns();
	if (!rc)
		rc = create_epoch(m, &m->cur);
	struct links_client client = { .run = membership_run, .arg = m };
	if (!rc)
		rc = links_client_add(links, &client, &m->client);
	if (rc) {
		free_membership(m);
		return rc;
	}
	*out = m;
	return 0;
}

static bool join_settled(void *arg)
{
	return atomic_load(&((struct membership *)arg)->join) != JOIN_PENDING;
}

int membership_await_first_view(struct membership *m, unsigned timeout_ms)
{
	links_wait(m->links, join_settled, m, timeout_ms);
	int pending = JOIN_PENDING;
	if (atomic_compare_exchange_strong(&m->join, &pending, JOIN_ABANDONED)) {
		log_error(MOD, "the first view was not installed within fabric.connect_timeout_ms");
		return GRP_ETIMEDOUT;
	}
	return atomic_load(&m->join) == JOIN_DONE ? 0 : m->join_error;
}

struct epoch *membership_epoch(const struct membership *m)
{
	return m->cur;
}

int membership_stopped(const struct membership *m)
{
	return atomic_load(&m->stopped);
}

void membership_renew(struct membership *m)
{
	atomic_store(&m->renew_requested, true);
	links_notify(m->links);
}

void membership_abandon(struct membership *m, int why)
{
	if (!atomic_load(&m->stopped))
		stop(m, m->cur, why);
}

void membership_stop(struct membership *m)
{
	if (!m)
		return;
	if (!atomic_load(&m->stopped))
		links_announce_leaving(m->links);
	free_membership(m);
}
