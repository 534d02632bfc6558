/* Admission: what arrives on the bootstrap port outside formation, served
 * on the bootstrap thread. A joiner asks for the view (FRAME_VIEW_QUERY),
 * then introduces itself to every member with HELLO_JOIN: each checks it,
 * expects its fabric connection and queues its request, which the leader
 * turns into a view change (links_pending_joins). A member of a view we
 * may not know yet (another joiner) introduces itself with HELLO_PEER: it
 * is connected, not queued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "links_internal.h"
#include "log.h"
#include "entropy.h"
#include "session.h"

static const char *MOD = "bootstrap";

#define ANSWER_MS 2000u

void admit_view_query(struct links *l, int fd, struct auth_session *s)
{
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	size_t len = 0;
	pthread_mutex_lock(&l->form_lock);
	enum frame_type answer = FRAME_VIEW_INFO;
	int rc = GRP_EAGAIN;
	if (l->view && !l->view_withdrawn) {
		rc = view_info_encode(l->view, buf, sizeof buf, &len);
	} else if (l->restart) {
		answer = FRAME_RESTART_INFO;
		rc = restart_info_encode(l->restart, buf, sizeof buf, &len);
	}
	pthread_mutex_unlock(&l->form_lock);
	if (rc) {
		log_debug(MOD, "view query: %s", grp_strerror(rc));
		links_send_reject(l, fd, s, GRP_EAGAIN, "this member is in no view yet");
		return;
	}
	session_send(fd, s, answer, l->params.group_id, buf, len, clock_deadline_ms(ANSWER_MS));
}

int links_publish_restart(struct links *l, const struct restart_info *info)
{
	struct restart_info *copy = malloc(sizeof *copy);
	if (!copy)
		return GRP_ENOMEM;
	*copy = *info;
	pthread_mutex_lock(&l->form_lock);
	free(l->restart);
	l->restart = copy;
	pthread_mutex_unlock(&l->form_lock);
	return 0;
}

/* Whether another process has h's id in v: a joiner the view already
 * added (at its own address) introducing itself late is not one. */
static bool id_taken(const struct view_info *v, const struct hello *h)
{
	for (unsigned i = 0; v && i < v->n; i++)
		if (v->members[i].id == h->id)
			return v->members[i].port != 0 && (v->members[i].port != h->boot_port ||
			       strcmp(v->members[i].host, h->boot_host) != 0);
	return false;
}

/* A joiner the leader added before it introduced itself here: its address
 * in the published view is known from now on. */
static void fill_address(struct view_info *v, const struct hello *h)
{
	for (unsigned i = 0; v && i < v->n; i++) {
		struct view_member *m = &v->members[i];
		if (m->id == h->id && m->port == 0) {
			m->port = h->boot_port;
			snprintf(m->host, sizeof m->host, "%s", h->boot_host);
		}
	}
}

/* Why we refuse an introduction, or NULL; form_lock held. */
static const char *refusal(struct links *l, const struct hello *h, uint64_t token, int *code)
{
	const struct hello *mine = &l->form.mine;
	*code = GRP_EPROTO;
	if (strcmp(h->provider, mine->provider) != 0)
		return "it uses another fabric provider";
	if (h->n_regions < 2 || h->regions[0].len != mine->regions[0].len ||
	    h->regions[1].len != mine->regions[1].len)
		return "its mailbox differs from ours (another version)";
	bool joining = h->flags & HELLO_JOIN;
	if (joining && (h->n_regions < 3 || h->regions[2].len != LINKS_RING_BYTES))
		return "it announces no state-transfer ring of our size";
	*code = GRP_EAGAIN;
	if (joining && (!l->view || l->view_withdrawn))
		return "this member is in no view";
	*code = GRP_EIDTAKEN;
	if (h->id == mine->id || (joining && id_taken(l->view, h)))
		return "a member of the view has its node id (member.id)";
	if (fab_peer_connected(l->dom, h->id))
		return "a member with its node id is connected already";
	*code = GRP_EAGAIN;
	if (fab_peer_failed(l->dom, h->id))
		return "the process it replaces is still being removed";
	*code = GRP_EAGAIN;
	if (joining && atomic_load(&l->n_asking) == LINKS_MAX_ASKING)
		return "too many processes are waiting to join; try again";
	*code = GRP_ENOMEM;
	if (token == 0 || fab_peer_expect(l->dom, h->id, token) != 0)
		return "cannot prepare a connection for it";
	return NULL;
}

void admit_hello(struct links *l, int fd, struct auth_session *s, const struct hello *h)
{
	/* Fresh for each answer: a connection request carrying it can only
	 * come from the process we answer now. */
	uint64_t token = entropy_u64();
	pthread_mutex_lock(&l->form_lock);
	int code;
	const char *why = refusal(l, h, token, &code);
	struct hello reply = l->form.mine;
	reply.token = token;
	if (!why) {
		/* Nothing an earlier process under this id posted may count. */
		memset(&l->mailbox[h->id], 0, sizeof l->mailbox[h->id]);
		links_record_peer(l, h);
		fill_address(l->view, h);
		if (h->flags & HELLO_JOIN) {
			unsigned k = 0, n = atomic_load(&l->n_asking);
			while (k < n && l->asking[k].id != h->id)
				k++;
			l->asking[k].id = h->id;
			l->asking[k].flags = h->flags & (HELLO_JOIN | HELLO_SENDER);
			atomic_store(&l->joiner_log_version[h->id], h->log_version);
			atomic_store_explicit(&l->n_asking, k == n ? n + 1 : n, memory_order_release);
		}
	}
	pthread_mutex_unlock(&l->form_lock);
	if (why) {
		log_warn(MOD, "refusing %s %u (%s:%u): %s", h->flags & HELLO_JOIN ? "joiner" : "peer",
			 h->id, h->boot_host, h->boot_port, why);
		links_send_reject(l, fd, s, code, why);
		return;
	}
	log_info(MOD, "%s %u (%s:%u) introduced itself", h->flags & HELLO_JOIN ? "joiner" : "peer",
		 h->id, h->boot_host, h->boot_port);
	reply.flags = HELLO_PEER;
	reply.rank = reply.n_members = 0;
	int rc = links_send_hello(l, fd, s, FRAME_HELLO_REPLY, &reply,
				  clock_deadline_ms(ANSWER_MS));
	if (rc)
		log_warn(MOD, "answering %u: %s", h->id, grp_strerror(rc));
}

uint64_t links_joiner_log_version(struct links *l, unsigned id)
{
	return id < FAB_MAX_PEERS ? atomic_load(&l->joiner_log_version[id]) : 0;
}
