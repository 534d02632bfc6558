#include "rejoin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "group_internal.h"
#include "log.h"
#include "setup.h"

static const char *MOD = "rejoin";

struct rejoin {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopped;        /* under lock: the membership stopped */
	atomic_bool closing; /* the handle is being left or freed */
	/* What joining again needs: our links' parameters (strings owned). */
	struct links_params params;
	char provider[32], address[256], host[256];
	/* The last view's other members, taken when we stopped. */
	struct view_info *last;
	unsigned interval_ms;
	bool started;
};

int rejoin_init(grp_t *g, const grp_config *cfg, const struct member_setup *s)
{
	if (strcmp(config_str(cfg, "membership.rejoin"), "auto") != 0)
		return 0;
	struct rejoin *r = calloc(1, sizeof *r);
	if (!r || !(r->last = malloc(sizeof *r->last))) {
		free(r);
		return GRP_ENOMEM;
	}
	r->params = s->links;
	snprintf(r->provider, sizeof r->provider, "%s", s->links.provider);
	snprintf(r->address, sizeof r->address, "%s", s->links.address);
	snprintf(r->host, sizeof r->host, "%s", s->links.listen_host);
	r->params.provider = r->provider;
	r->params.address = r->address;
	r->params.listen_host = r->host;
	r->params.listen_fd = -1;
	r->params.listen_port = 0; /* any: the old port may still be taken */
	r->interval_ms = g->gms.suspect_timeout_ms;
	pthread_mutex_init(&r->lock, NULL);
	clock_cond_init_monotonic(&r->cond);
	g->rejoin = r;
	return 0;
}

void rejoin_notify_stopped(grp_t *g)
{
	struct rejoin *r = g->rejoin;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	if (!r->stopped && links_view_copy(g->links, r->last) == 0) {
		r->stopped = true;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Waits ms, or less if the handle closes; false once it does. */
static bool pause_unless_closing(struct rejoin *r, unsigned ms)
{
	struct timespec until = clock_monotonic_in_ms(ms);
	pthread_mutex_lock(&r->lock);
	while (!atomic_load(&r->closing) &&
	       pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
		;
	pthread_mutex_unlock(&r->lock);
	return !atomic_load(&r->closing);
}

/* One attempt: a view of the others that adds us, on fresh links. */
static int attempt(grp_t *g, struct rejoin *r, struct links **links, struct view_info *added)
{
	struct links_member contacts[VIEW_INFO_MAX_MEMBERS];
	unsigned n = 0;
	for (unsigned i = 0; i < r->last->n; i++)
		if (r->last->members[i].id != r->params.my_id)
			contacts[n++] = (struct links_member){ .host = r->last->members[i].host,
							       .port = r->last->members[i].port };
	struct member_setup s = {
		.links = r->params, .members = contacts, .n = n, .joining = true,
		.connect_timeout_ms = g->connect_timeout_ms, .cancel = &r->closing,
	};
	return n ? member_setup_join(&s, g->is_sender, g->durable.last_version, links, added) : GRP_ENOTFOUND;
}

static bool no_call_in_progress(const grp_t *g)
{
	return atomic_load(&((grp_t *)g)->active_calls) == 0;
}

/* The stopped links and membership make way for new ones, which a view
 * of the others added us to. */
static int swap_in(grp_t *g, struct links *fresh, const struct view_info *added)
{
	atomic_store(&g->readmitted, true);
	atomic_store(&g->swapping, true);
	while (!no_call_in_progress(g))
		clock_sleep_ms(1);
	group_disconnect(g);
	g->links = fresh;
	g->rejoined = true;
	int rc = group_enter_view(g, added);
	if (rc) {
		log_error(MOD, "view %u added us back, but we could not take our place in it: %s",
			  added->vid, grp_strerror(rc));
		group_disconnect(g);
		atomic_store(&g->readmitted, false);
		return rc;
	}
	atomic_store(&g->stop_reason, 0);
	atomic_store(&g->swapping, false);
	atomic_store(&g->readmitted, false);
	log_info(MOD, "member %u is back, in view %u", links_my_id(g->links), added->vid);
	return 0;
}

static bool await_stop(struct rejoin *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->stopped && !atomic_load(&r->closing))
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	return !atomic_load(&r->closing);
}

static void *rejoin_main(void *arg)
{
	grp_t *g = arg;
	struct rejoin *r = g->rejoin;
	pthread_setname_np(pthread_self(), "grp-rejoin");
	struct view_info *added = malloc(sizeof *added);
	while (added && await_stop(r)) {
		/* The others need a suspicion timeout or so to remove us. */
		while (pause_unless_closing(r, r->interval_ms)) {
			struct links *fresh;
			int rc = attempt(g, r, &fresh, added);
			if (!rc && swap_in(g, fresh, added) == 0)
				break;
			if (rc)
				log_info(MOD, "not back yet: %s", grp_strerror(rc));
		}
		pthread_mutex_lock(&r->lock);
		r->stopped = false;
		pthread_mutex_unlock(&r->lock);
	}
	if (!added)
		log_error(MOD, "no memory: this member will not rejoin by itself");
	free(added);
	return NULL;
}

int rejoin_start(grp_t *g)
{
	struct rejoin *r = g->rejoin;
	if (!r)
		return 0;
	int rc = pthread_create(&r->thread, NULL, rejoin_main, g);
	if (rc) {
		log_error(MOD, "cannot start the rejoin thread: error %d", rc);
		return GRP_ENOMEM;
	}
	r->started = true;
	return 0;
}

void rejoin_stop(grp_t *g)
{
	struct rejoin *r = g->rejoin;
	if (!r || !r->started)
		return;
	pthread_mutex_lock(&r->lock);
	atomic_store(&r->closing, true);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	r->started = false;
}

void rejoin_free(grp_t *g)
{
	struct rejoin *r = g->rejoin;
	if (!r)
		return;
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r->last);
	free(r);
	g->rejoin = NULL;
}
