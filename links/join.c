/* Joining a running group (links_join): the joiner's side of admission. */
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "links_internal.h"
#include "log.h"

static const char *MOD = "join";

#define ASK_MS 2000u
/* Asking for the view again: first soon, then less often. */
#define POLL_FIRST_MS 5u
#define POLL_MAX_MS 100u

static uint64_t ask_deadline(uint64_t deadline)
{
	uint64_t d = clock_deadline_ms(ASK_MS);
	return d < deadline ? d : deadline;
}

/* Asks host:port for its view; a restarting member answers with what its
 * log says instead (restart may be NULL where that is of no use). */
static int ask_for_view(struct links *l, const char *host, uint16_t port, uint64_t deadline,
			struct view_info *out, struct restart_info *restart)
{
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	int rc = links_ask(l, host, port, FRAME_VIEW_QUERY, NULL, 0, ask_deadline(deadline), &hdr,
			   buf);
	if (rc) {
		log_debug(MOD, "asking %s:%u for its view: %s", host, port, grp_strerror(rc));
		return rc;
	}
	if (restart && hdr.type == FRAME_RESTART_INFO &&
	    restart_info_decode(buf, hdr.length, restart) == 0)
		return LINKS_SURVEY_RESTARTING;
	if (hdr.type != FRAME_VIEW_INFO || view_info_decode(buf, hdr.length, out) != 0) {
		log_debug(MOD, "%s:%u has no view for us (frame %u)", host, port, hdr.type);
		return GRP_EAGAIN; /* refused (no view yet) or malformed: ask elsewhere */
	}
	return LINKS_SURVEY_RUNNING;
}

static int query(struct links *l, const char *host, uint16_t port, uint64_t deadline,
		 struct view_info *out)
{
	int rc = ask_for_view(l, host, port, deadline, out, NULL);
	return rc == LINKS_SURVEY_RUNNING ? 0 : rc;
}

int links_serve_joinable(struct links *l)
{
	int rc = links_transfer_ring(l);
	return rc ? rc : links_serve(l);
}

int links_survey(struct links *l, const struct links_member *m, unsigned timeout_ms,
		 struct view_info *view, struct restart_info *restart)
{
	return ask_for_view(l, m->host, m->port, clock_deadline_ms(timeout_ms), view, restart);
}

/* Whether v lists us: our id at our bootstrap address. Our id at another
 * address is another process's: GRP_EIDTAKEN. */
static int lists_us(struct links *l, const struct view_info *v)
{
	for (unsigned i = 0; i < v->n; i++) {
		const struct view_member *m = &v->members[i];
		if (m->id != links_my_id(l))
			continue;
		if (m->port == l->form.mine.boot_port && strcmp(m->host, l->form.mine.boot_host) == 0)
			return 1;
		log_error(MOD, "node id %u is a member of view %u (at %s:%u): choose another "
			  "member.id", m->id, v->vid, m->host, m->port);
		return GRP_EIDTAKEN;
	}
	return 0;
}

/* Introduces us to one member; on its answer, starts the fabric
 * connection. GRP_EAGAIN: not reachable now. */
static int introduce(struct links *l, const struct view_member *m, uint32_t flags,
		     uint64_t deadline)
{
	static _Thread_local uint8_t buf[FRAME_MAX_PAYLOAD];
	struct hello mine = l->form.mine;
	mine.flags = flags;
	mine.token = 0;
	size_t len;
	int rc = hello_encode(&mine, buf, sizeof buf, &len);
	struct frame_header hdr;
	if (!rc)
		rc = links_ask(l, m->host, m->port, FRAME_HELLO, buf, len, ask_deadline(deadline),
			       &hdr, buf);
	if (rc)
		return rc;
	struct hello h;
	struct reject rj;
	if (hdr.type == FRAME_REJECT && reject_decode(buf, hdr.length, &rj) == 0) {
		log_warn(MOD, "member %u at %s:%u refused us: %s", m->id, m->host, m->port, rj.reason);
		return rj.code;
	}
	if (hdr.type != FRAME_HELLO_REPLY || hello_decode(buf, hdr.length, &h) != 0 ||
	    h.id != m->id || h.flags != HELLO_PEER || strcmp(h.provider, mine.provider) != 0 ||
	    h.n_regions < 2 || h.regions[0].len != mine.regions[0].len) {
		log_warn(MOD, "member %u at %s:%u answered with a bad introduction", m->id, m->host,
			 m->port);
		return GRP_EPROTO;
	}
	pthread_mutex_lock(&l->form_lock);
	memset(&l->mailbox[h.id], 0, sizeof l->mailbox[h.id]);
	links_record_peer(l, &h);
	pthread_mutex_unlock(&l->form_lock);
	return fab_peer_connect(l->dom, h.id, h.fabric_addr, h.fabric_addr_len, h.token);
}

/* Whether we started connecting to id (or it to us). */
static bool known(struct links *l, unsigned id)
{
	pthread_mutex_lock(&l->form_lock);
	bool k = l->peer_mailbox[id].len != 0;
	pthread_mutex_unlock(&l->form_lock);
	return k && !fab_peer_failed(l->dom, id);
}

/* Asks to join at every member of v; 0 once at least one took us. */
static int ask_to_join(struct links *l, const struct view_info *v, bool sender, uint64_t deadline)
{
	uint32_t flags = HELLO_JOIN | (sender ? HELLO_SENDER : 0);
	int taken = 0, result = GRP_EAGAIN;
	for (unsigned i = 0; i < v->n; i++) {
		if (known(l, v->members[i].id))
			continue;
		int rc = introduce(l, &v->members[i], flags, deadline);
		if (rc == GRP_EIDTAKEN || rc == GRP_ECONFIG || rc == GRP_ESTRANGER)
			return rc;
		if (rc == 0)
			taken++;
		else if (rc != GRP_EAGAIN)
			result = rc;
	}
	return taken ? 0 : result;
}

/* A view from any contact, and then from any member of the last one. */
static int ask_view(struct links *l, const struct links_join_params *p, const struct view_info *last,
		    unsigned turn, uint64_t deadline, struct view_info *out)
{
	unsigned n = last ? last->n : p->n_contacts;
	int result = GRP_EAGAIN;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (turn + k) % n;
		if (last && last->members[i].id == links_my_id(l))
			continue;
		const char *host = last ? last->members[i].host : p->contacts[i].host;
		uint16_t port = last ? last->members[i].port : p->contacts[i].port;
		int rc = query(l, host, port, deadline, out);
		if (rc == 0)
			return 0;
		/* A member that does not share our key will never let us in. */
		if (rc == GRP_ESTRANGER)
			result = rc;
	}
	return result;
}

/* Connects to the members of our first view we do not know yet (those that
 * joined since we asked); of two new ones, the higher id connects. */
static void connect_view(struct links *l, const struct view_info *v, uint64_t deadline)
{
	unsigned me = links_my_id(l);
	for (unsigned i = 0; i < v->n; i++) {
		const struct view_member *m = &v->members[i];
		if (m->id == me || known(l, m->id) || ((m->flags & VIEW_MEMBER_NEW) && m->id < me))
			continue;
		int rc = introduce(l, m, HELLO_PEER, deadline);
		if (rc)
			log_warn(MOD, "cannot connect to member %u of view %u: %s", m->id, v->vid,
				 grp_strerror(rc));
	}
}

static bool view_connected(struct links *l, const struct view_info *v)
{
	for (unsigned i = 0; i < v->n; i++) {
		unsigned id = v->members[i].id;
		if (id != links_my_id(l) && !fab_peer_connected(l->dom, id) &&
		    !fab_peer_failed(l->dom, id))
			return false;
	}
	return true;
}

int links_join(struct links *l, const struct links_join_params *p, struct view_info *added)
{
	if (!p->contacts || p->n_contacts == 0)
		return GRP_EINVAL;
	uint64_t deadline = clock_deadline_ms(p->timeout_ms);
	pthread_mutex_lock(&l->form_lock);
	l->form.mine.log_version = p->log_version;
	pthread_mutex_unlock(&l->form_lock);
	int rc = links_transfer_ring(l);
	/* A restarting member serves the port already (it answered the
	 * survey). */
	if (!rc && !l->boot_started)
		rc = links_serve(l);
	struct view_info *v = malloc(sizeof *v);
	if (!v)
		rc = GRP_ENOMEM;
	bool asked = false;
	unsigned poll_ms = POLL_FIRST_MS, turn = 0;
	while (!rc) {
		if (p->cancel && atomic_load(p->cancel)) {
			rc = GRP_ECLOSED;
			break;
		}
		if (clock_ms_left(deadline) == 0) {
			log_error(MOD, "no view added us within the timeout (%s)",
				  asked ? "we asked to join" : "no member took our request");
			rc = GRP_ETIMEDOUT;
			break;
		}
		int qrc = ask_view(l, p, asked ? v : NULL, turn++, deadline, added);
		if (qrc == GRP_ESTRANGER) {
			rc = qrc;
			break;
		}
		if (qrc == 0) {
			int in = lists_us(l, added);
			if (in) {
				rc = in < 0 ? in : 0;
				break;
			}
			memcpy(v, added, sizeof *v);
			int arc = ask_to_join(l, v, p->sender, deadline);
			if (arc == GRP_EIDTAKEN || arc == GRP_ECONFIG || arc == GRP_EPROTO ||
			    arc == GRP_ESTRANGER)
				rc = arc;
			asked |= arc == 0;
		}
		clock_sleep_ms(poll_ms);
		poll_ms = poll_ms * 2 < POLL_MAX_MS ? poll_ms * 2 : POLL_MAX_MS;
	}
	free(v);
	if (rc)
		return rc;
	log_info(MOD, "view %u adds us (%u members)", added->vid, added->n);
	connect_view(l, added, deadline);
	while (!view_connected(l, added) && clock_ms_left(deadline) > 0)
		clock_sleep_ms(2);
	return 0;
}
