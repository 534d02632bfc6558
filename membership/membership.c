#include "membership.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *MOD = "membership";

enum join_state { JOIN_PENDING, JOIN_DONE, JOIN_ABANDONED, JOIN_FAILED };

struct membership {
	struct links *links;
	struct membership_callbacks cb;
	struct epoch_sender *snd;
	struct epoch_params params; /* of the next epoch; ids and senders owned */
	struct epoch *cur;          /* replaced under snd->send_lock */
	struct epoch *retiring;     /* engine only: the previous epoch until cur is connected */
	links_client_id client;
	atomic_bool renew_requested;
	atomic_bool frozen;
	atomic_int join; /* enum join_state */
	int join_error;
};

static void deliver(void *arg, const grp_delivery *msg)
{
	struct membership *m = arg;
	m->cb.deliver(m->cb.arg, msg);
}

static int create_epoch(struct membership *m, struct epoch **out)
{
	struct epoch_callbacks cb = { .deliver = deliver, .arg = m };
	return epoch_create(m->links, &m->params, &cb, m->snd, out);
}

/* The current epoch is connected: the one before it can go (nobody writes
 * into it any more, since every member posted its keys for this one after
 * its last write there), and the view is reported. */
static void installed(struct membership *m, struct epoch *e)
{
	if (m->retiring) {
		epoch_retire(m->retiring);
		m->retiring = NULL;
		m->cb.installed(m->cb.arg, e, false);
		return;
	}
	int pending = JOIN_PENDING;
	if (atomic_compare_exchange_strong(&m->join, &pending, JOIN_DONE))
		m->cb.installed(m->cb.arg, e, true);
}

static int connect_epoch(struct membership *m, struct epoch *e)
{
	int rc = epoch_connect(e);
	if (rc == GRP_EAGAIN)
		return 0;
	if (rc) {
		log_error(MOD, "view %u cannot be installed: %s", epoch_vid(e), grp_strerror(rc));
		int pending = JOIN_PENDING;
		m->join_error = rc;
		atomic_compare_exchange_strong(&m->join, &pending, JOIN_FAILED);
		return 0;
	}
	if (atomic_load(&m->join) != JOIN_ABANDONED)
		installed(m, e);
	return 1;
}

/* Sealed and drained: the next epoch, same members, replaces this one for
 * the application's threads; this one retires once the next is connected. */
static int start_next(struct membership *m, struct epoch *e)
{
	m->params.vid = epoch_vid(e) + 1;
	struct epoch *next;
	int rc = create_epoch(m, &next);
	if (rc) {
		log_error(MOD, "cannot create view %u: %s", m->params.vid, grp_strerror(rc));
		return 0;
	}
	pthread_mutex_lock(&m->snd->send_lock);
	m->retiring = e;
	m->cur = next;
	pthread_mutex_unlock(&m->snd->send_lock);
	log_debug(MOD, "view %u drained; view %u created", epoch_vid(e), epoch_vid(next));
	return 1;
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
	return !m->retiring && epoch_drained(e) ? start_next(m, e) : 0;
}

static int membership_run(void *arg)
{
	struct membership *m = arg;
	struct epoch *e = m->cur;
	bool frozen = atomic_load(&m->frozen);
	if (!epoch_live(e))
		return frozen ? 0 : connect_epoch(m, e);
	if (epoch_wedged(e))
		return 0;
	int work = epoch_has_work(e) && epoch_progress(e);
	/* A member leaving still pushes and acknowledges, so that every member
	 * receives what it sent and it what they sent, but stays in its epoch. */
	return frozen ? work : work + end_epoch(m, e);
}

static int copy_params(struct membership *m, const struct epoch_params *p)
{
	m->params = *p;
	unsigned *ids = malloc(p->n * sizeof *ids);
	unsigned *senders = malloc(p->n_senders * sizeof *senders);
	m->params.ids = ids;
	m->params.senders = senders;
	if (!ids || !senders)
		return GRP_ENOMEM;
	memcpy(ids, p->ids, p->n * sizeof *ids);
	memcpy(senders, p->senders, p->n_senders * sizeof *senders);
	return 0;
}

static void free_membership(struct membership *m)
{
	epoch_destroy(m->retiring);
	if (m->cur)
		epoch_log_incomplete(m->cur);
	epoch_destroy(m->cur);
	free((void *)m->params.ids);
	free((void *)m->params.senders);
	free(m);
}

int membership_start(struct links *links, const struct epoch_params *params,
		     const struct membership_callbacks *cb, struct epoch_sender *sender,
		     struct membership **out)
{
	struct membership *m = calloc(1, sizeof *m);
	if (!m)
		return GRP_ENOMEM;
	m->links = links;
	m->cb = *cb;
	m->snd = sender;
	int rc = copy_params(m, params);
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

void membership_renew(struct membership *m)
{
	atomic_store(&m->renew_requested, true);
	links_notify(m->links);
}

void membership_freeze(struct membership *m)
{
	atomic_store(&m->frozen, true);
	links_notify(m->links);
}

void membership_stop(struct membership *m)
{
	if (!m)
		return;
	if (epoch_live(m->cur))
		epoch_announce_departure(m->cur);
	free_membership(m);
}
