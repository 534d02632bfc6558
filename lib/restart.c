/* Total restart: every member went down, and members come back with their
 * logs and the group's member list (group.members). Also how a persistent
 * group forms: a member whose log is empty cannot tell a new group from
 * one whose other members have logs (it may have crashed before it logged
 * anything), so it asks too.
 *
 * Each one serves its bootstrap port at once, answering view queries with
 * what its log says (last view, last version; nothing, if it is empty),
 * and asks every listed address the same. A member in a running group
 * answers with its view: then we join that group (one member restarting).
 * If no answer holds a view, the group is new: once every listed member
 * answered (one missing might hold a log), it forms as a group without
 * logs does. Otherwise, once the answers come from a strict majority of
 * the newest last view among them (the base view; a member with an empty
 * log counts if the view lists it), and either all of its members answered
 * or RESTART_GRACE_MS passed since the majority was reached, the restart
 * leader is the base member with the longest log (the lowest id among
 * equals). Every log is a prefix of one history (a message is logged only
 * once delivered, after every member of its view received it), so the
 * leader's holds what any other member's does, up to its end: the others
 * join the leader, which forms a group of one at the base view's vid + 1
 * and tells each joiner where its log must end (its own end, for a longer
 * one: what is cut was never persisted everywhere, since the frontier is a
 * minimum over the logs), then ships the records it lacks. No view is
 * logged, and grp_join does not return, until a view holds a strict
 * majority of the base view: a minority cannot restart the group, and a
 * restart that fails before then leaves the logs as they were. */
#include "restart.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "durable.h"
#include "group_internal.h"
#include "log.h"

static const char *MOD = "restart";

#define RESTART_GRACE_MS 2000u
#define ASK_TIMEOUT_MS 1000u
#define SURVEY_PAUSE_MS 50u

struct survey {
	struct restart_info mine;
	/* By node id: the answer of each restarting member, where it is. */
	struct restart_info *answers;
	bool *answered;
	struct links_member *at;
	/* The newest last view among the answers; NULL while none holds one. */
	const struct restart_info *base;
	unsigned present; /* base members that answered; every one without a base */
};

static void find_base(struct survey *sv)
{
	sv->base = NULL;
	sv->present = 0;
	for (unsigned id = 0; id < FAB_MAX_PEERS; id++) {
		const struct restart_info *a = &sv->answers[id];
		if (sv->answered[id] && a->n && (!sv->base || a->last_vid > sv->base->last_vid))
			sv->base = a;
		sv->present += sv->answered[id];
	}
	if (!sv->base)
		return;
	sv->present = 0;
	for (unsigned i = 0; i < sv->base->n; i++)
		sv->present += sv->answered[sv->base->ids[i]];
}

/* The base member with the longest log, the lowest id among equals. */
static const struct restart_info *leader_of(const struct survey *sv)
{
	const struct restart_info *best = NULL;
	for (unsigned i = 0; i < sv->base->n; i++) {
		const struct restart_info *a = &sv->answers[sv->base->ids[i]];
		if (!sv->answered[sv->base->ids[i]])
			continue;
		if (!best || a->last_version > best->last_version ||
		    (a->last_version == best->last_version && a->id < best->id))
			best = a;
	}
	return best;
}

/* Asks every listed address once; LINKS_SURVEY_RUNNING with *contact set
 * if one of them is in a running group. */
static int ask_all(grp_t *g, const struct member_setup *s, struct survey *sv,
		   struct links_member *contact)
{
	static _Thread_local struct view_info view;
	static _Thread_local struct restart_info info;
	for (unsigned r = 0; r < s->n; r++) {
		if (r == s->rank)
			continue;
		int rc = links_survey(g->links, &s->members[r], ASK_TIMEOUT_MS, &view, &info);
		if (rc == LINKS_SURVEY_RUNNING) {
			*contact = s->members[r];
			log_info(MOD, "%s:%u is in a running group (view %u): joining it",
				 s->members[r].host, s->members[r].port, view.vid);
			return rc;
		}
		if (rc == LINKS_SURVEY_RESTARTING && info.id != sv->mine.id) {
			sv->answers[info.id] = info;
			sv->answered[info.id] = true;
			sv->at[info.id] = s->members[r];
		}
		if (rc == GRP_ESTRANGER)
			return rc;
	}
	return 0;
}

static bool survey_done(const struct member_setup *s, const struct survey *sv,
			uint64_t *quorum_since)
{
	if (!sv->base)
		return sv->present == s->n;
	if (2 * sv->present <= sv->base->n)
		return false;
	if (!*quorum_since)
		*quorum_since = clock_now_ns();
	return sv->present == sv->base->n ||
	       clock_now_ns() - *quorum_since >= RESTART_GRACE_MS * 1000000ull;
}

static int run_survey(grp_t *g, const struct member_setup *s, struct survey *sv,
		      struct links_member *contact)
{
	uint64_t deadline = clock_deadline_ms(g->connect_timeout_ms);
	uint64_t quorum_since = 0;
	for (;;) {
		int rc = ask_all(g, s, sv, contact);
		if (rc)
			return rc;
		find_base(sv);
		if (survey_done(s, sv, &quorum_since))
			return 0;
		if (clock_ms_left(deadline) == 0 && !sv->base) {
			log_error(MOD, "only %u of the %u listed members answered, none with a log: a "
				  "new group forms with all of them", sv->present, s->n);
			return GRP_ETIMEDOUT;
		}
		if (clock_ms_left(deadline) == 0) {
			log_error(MOD, "only %u of the %u members of view %u came back: a minority "
				  "cannot restart the group", sv->present, sv->base->n,
				  sv->base->last_vid);
			return GRP_EMINORITY;
		}
		clock_sleep_ms(SURVEY_PAUSE_MS);
	}
}

static bool restarted(void *arg)
{
	grp_t *g = arg;
	return !atomic_load(&g->durable.restart_pending) || membership_stopped(g->membership);
}

/* The leader: a group of one at base vid + 1, which the others join. */
static int lead(grp_t *g, const struct survey *sv)
{
	struct epoch_params *p = &g->params;
	unsigned *ids = (unsigned *)p->ids, *senders = (unsigned *)p->senders;
	p->vid = sv->base->last_vid + 1;
	p->n = 1;
	p->me = 0;
	ids[0] = sv->mine.id;
	senders[0] = 0;
	p->n_senders = g->is_sender ? 1 : 0;
	int rc = durable_replay(g);
	return rc ? rc : group_start_view(g);
}

int restart_group(grp_t *g, struct member_setup *s)
{
	struct survey sv = {
		.answers = calloc(FAB_MAX_PEERS, sizeof *sv.answers),
		.answered = calloc(FAB_MAX_PEERS, sizeof *sv.answered),
		.at = calloc(FAB_MAX_PEERS, sizeof *sv.at),
	};
	int rc = sv.answers && sv.answered && sv.at ? 0 : GRP_ENOMEM;
	sv.mine.id = s->links.my_id;
	sv.mine.last_version = atomic_load(&g->durable.last_version);
	if (!rc && sv.mine.last_version)
		rc = durable_last_view(g, &sv.mine.last_vid, sv.mine.ids, VIEW_INFO_MAX_MEMBERS,
				       &sv.mine.n);
	if (rc == GRP_ENOTFOUND) {
		/* The first record of every log is a view. */
		log_error(MOD, "the log holds messages but no view: it is damaged");
		rc = GRP_ECORRUPT;
	}
	if (!rc) {
		sv.answers[sv.mine.id] = sv.mine;
		sv.answered[sv.mine.id] = true;
		rc = links_open(&s->links, &g->links);
		s->links.listen_fd = -1; /* links_open took it, on every path */
	}
	if (!rc)
		rc = links_serve_joinable(g->links);
	if (!rc)
		rc = links_publish_restart(g->links, &sv.mine);
	struct links_member contact;
	if (!rc)
		rc = run_survey(g, s, &sv, &contact);
	/* A member that joins has the member serving it say where its log
	 * must end (the leader's end, for a follower) before it replays. */
	if (rc == LINKS_SURVEY_RUNNING) {
		rc = group_join_through(g, &contact, 1);
	} else if (!rc && !sv.base) {
		log_info(MOD, "all %u members are here and no log holds a view: a new group", s->n);
		rc = RESTART_NEW_GROUP;
	} else if (!rc) {
		const struct restart_info *leader = leader_of(&sv);
		log_info(MOD, "restarting from view %u (%u of %u members back): leader %u, log up "
			 "to version %llu", sv.base->last_vid, sv.present, sv.base->n, leader->id,
			 (unsigned long long)leader->last_version);
		rc = durable_restart_pending(g, sv.base->ids, sv.base->n);
		if (!rc)
			rc = leader->id == sv.mine.id ? lead(g, &sv)
						      : group_join_through(g, &sv.at[leader->id], 1);
		if (!rc)
			rc = links_wait(g->links, restarted, g, g->connect_timeout_ms);
		if (!rc)
			rc = membership_stopped(g->membership);
		if (rc == GRP_ETIMEDOUT)
			log_error(MOD, "no view with a majority of view %u's members came about",
				  sv.base->last_vid);
	}
	free(sv.answers);
	free(sv.answered);
	free(sv.at);
	return rc;
}
