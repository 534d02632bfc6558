/* Admission: what arrives on the bootstrap port outside formation, served
 * on the bootstrap thread. A joiner asks for the view (FRAME_VIEW_QUERY),
 * then introduces itself to every member with HELLO_JOIN: each checks it,
 * expects its fabric connection and queues its request, which the leader
 * turns into a view change (links_pending_joins). A member of a view we
 * may not know yet (another joiner) introduces itself with HELLO_PEER: it
 * is connected, not queued. */
#include <stdio.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "links_internal.h"
#include "log.h"
#include "sock.h"

static const char *MOD = "bootstrap";

#define ANSWER_MS 2000u

void admit_view_query(struct links *l, int fd)
{
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	size_t len = 0;
	pthread_mutex_lock(&l->form_lock);
	int rc = l->view ? view_info_encode(l->view, buf, sizeof buf, &len) : GRP_EAGAIN;
	pthread_mutex_unlock(&l->form_lock);
	if (rc) {
		log_debug(MOD, "view query: %s", grp_strerror(rc));
		links_send_reject(l, fd, GRP_EAGAIN, "this member is in no view yet");
		return;
	}
	sock_send_frame(fd, FRAME_VIEW_INFO, l->params.group_id, buf, len,
			clock_deadline_ms(ANSWER_MS));
}

static bool in_view(const struct view_info *v, unsigned id)
{
	for (unsigned i = 0; v && i < v->n; i++)
		if (v->members[i].id == id)
			return true;
	return false;
}

/* Why we refuse an introduction, or NULL; form_lock held. */
static const char *refusal(struct links *l, const struct hello *h, int *code)
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
	if (joining && !l->view)
		return "this member is in no view yet";
	*code = GRP_EIDTAKEN;
	if (h->id == mine->id || (joining && in_view(l->view, h->id)))
		return "a member of the view has its node id (member.id)";
	if (fab_peer_connected(l->dom, h->id))
		return "a member with its node id is connected already";
	*code = GRP_EAGAIN;
	if (fab_peer_failed(l->dom, h->id))
		return "the process it replaces is still being removed";
	*code = GRP_ENOMEM;
	if (fab_peer_expect(l->dom, h->id) != 0)
		return "cannot prepare a connection for it";
	return NULL;
}

void admit_hello(struct links *l, int fd, const struct hello *h)
{
	pthread_mutex_lock(&l->form_lock);
	int code;
	const char *why = refusal(l, h, &code);
	struct hello reply = l->form.mine;
	if (!why) {
		/* Nothing an earlier process under this id posted may count. */
		memset(&l->mailbox[h->id], 0, sizeof l->mailbox[h->id]);
		links_record_peer(l, h);
		if (h->flags & HELLO_JOIN) {
			l->peers[h->id].join_flags = h->flags & (HELLO_JOIN | HELLO_SENDER);
			atomic_store_explicit(&l->joins_asked, true, memory_order_release);
		}
	}
	pthread_mutex_unlock(&l->form_lock);
	if (why) {
		log_warn(MOD, "refusing %s %u (%s:%u): %s", h->flags & HELLO_JOIN ? "joiner" : "peer",
			 h->id, h->boot_host, h->boot_port, why);
		links_send_reject(l, fd, code, why);
		return;
	}
	log_info(MOD, "%s %u (%s:%u) introduced itself", h->flags & HELLO_JOIN ? "joiner" : "peer",
		 h->id, h->boot_host, h->boot_port);
	reply.flags = HELLO_PEER;
	reply.rank = reply.n_members = 0;
	int rc = links_send_hello(l, fd, FRAME_HELLO_REPLY, &reply, clock_deadline_ms(ANSWER_MS));
	if (rc)
		log_warn(MOD, "answering %u: %s", h->id, grp_strerror(rc));
}
