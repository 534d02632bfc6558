#include "gms.h"

#include <stdlib.h>
#include <string.h>

#include <group/sst.h>

#include "clock.h"
#include "fault.h"
#include "log.h"

static const char *MOD = "membership";

/* A proposal number: the round in the high bits, the proposer's rank in the
 * low ones, so that two leaders never write the same number. */
#define PROPOSER_BITS 16u
#define JOIN_SENDS (1ull << 32)

/* Column offsets inside the epoch's extra area, all u64 cells. */
struct gms_columns {
	size_t heartbeat;  /* bumped every heartbeat_ms */
	size_t suspected;  /* x n: enum gms_reason */
	size_t proposal;   /* x n: the removals proposed or acknowledged */
	size_t joins;      /* x GMS_MAX_JOINS: joiners proposed, id + 1 | JOIN_SENDS, 0 none */
	size_t prop_num;   /* number of that proposal, 0 none */
	size_t committed;  /* number of the proposal committed, 0 none */
	size_t trim;       /* x S: messages of each sender to deliver */
	size_t trim_ready; /* 1 once trim holds the agreed values */
	size_t end;
};

struct gms {
	struct epoch *e;
	grp_sst *sst;
	struct links *links;
	struct gms_params p;
	struct gms_columns col;
	unsigned n, me, S;
	uint8_t *suspected;   /* ours, mirrored in our row */
	uint64_t *hb_seen;    /* per member: last heartbeat value */
	uint64_t *hb_since;   /* per member: ns when it last changed */
	uint64_t hb_next;     /* ns of our next heartbeat */
	uint64_t last_pass;   /* ns of our previous pass */
	uint64_t *trim;       /* once trim_ready: the trim */
	uint64_t offered[GMS_MAX_JOINS]; /* joiners waiting, as join cells */
	bool wedged, delivered;
};

static struct gms_columns columns_for(size_t base, unsigned n, unsigned S)
{
	struct gms_columns c;
	size_t at = base;
	c.heartbeat = at, at += 8;
	c.suspected = at, at += 8 * (size_t)n;
	c.proposal = at, at += 8 * (size_t)n;
	c.joins = at, at += 8 * (size_t)GMS_MAX_JOINS;
	c.prop_num = at, at += 8;
	c.committed = at, at += 8;
	c.trim = at, at += 8 * (size_t)S;
	c.trim_ready = at, at += 8;
	c.end = at;
	return c;
}

size_t gms_columns_bytes(unsigned n, unsigned senders)
{
	return columns_for(0, n, senders).end;
}

static uint64_t load(const struct gms *g, unsigned row, size_t at)
{
	return grp_sst_load_u64(g->sst, row, at);
}

static uint64_t cell(size_t column, unsigned i)
{
	return column + 8u * i;
}

static void store(struct gms *g, size_t at, uint64_t v)
{
	grp_sst_store_u64(g->sst, at, v);
}

static void push(struct gms *g, size_t at, size_t len)
{
	grp_sst_push(g->sst, at, len);
}

static void push_cell(struct gms *g, size_t at, uint64_t v)
{
	store(g, at, v);
	push(g, at, 8);
}

/* Rows we read: not ours, not suspected by us. */
static bool trusted(const struct gms *g, unsigned r)
{
	return r != g->me && !g->suspected[r];
}

static unsigned id_of(const struct gms *g, unsigned r)
{
	return epoch_member_id(g->e, r);
}

static const char *reason_text(unsigned reason)
{
	return reason == GMS_LEFT ? "leaves" : "failed";
}

/* A view change starts here: nothing more is sent or delivered. */
static void start_change(struct gms *g)
{
	if (!g->wedged) {
		g->wedged = true;
		epoch_wedge(g->e);
	}
}

/* Records a suspicion in our row and wedges the epoch on the first. */
static void suspect(struct gms *g, unsigned r, unsigned reason, const char *why)
{
	if (g->suspected[r] || r == g->me)
		return;
	g->suspected[r] = (uint8_t)reason;
	counter_add(links_counters(g->links), COUNTER_SUSPICIONS, 1);
	log_info(MOD, "view %u: member %u %s (%s)", epoch_vid(g->e), id_of(g, r),
		 reason_text(reason), why);
	push_cell(g, cell(g->col.suspected, r), reason);
	start_change(g);
}

/* Without a suspicion, a change starts for joiners: at the leader when
 * some are offered, at the others when a trusted row proposes. */
static void detect_joins(struct gms *g)
{
	if (g->wedged)
		return;
	if (g->me == 0 && g->offered[0]) {
		log_info(MOD, "view %u: joiner %llu asks to join", epoch_vid(g->e),
			 (unsigned long long)((g->offered[0] & 0xffffffffu) - 1));
		start_change(g);
		return;
	}
	for (unsigned r = 0; r < g->n; r++)
		if (trusted(g, r) && load(g, r, g->col.prop_num)) {
			start_change(g);
			return;
		}
}

enum gms_reason gms_reason_gone(struct links *links, unsigned id)
{
	return links_peer_leaving(links, id) ? GMS_LEFT : GMS_FAILED;
}

/* Links that broke, protocol breakers, leavers, silent heartbeats. */
static void detect_local(struct gms *g, uint64_t now)
{
	/* Our own engine did not run for a while (descheduled): the others'
	 * silence meanwhile says nothing about them. */
	uint64_t timeout = (uint64_t)g->p.suspect_timeout_ms * 1000000u;
	bool we_stalled = now - g->last_pass > timeout / 2;
	g->last_pass = now;
	for (unsigned r = 0; r < g->n; r++) {
		if (!trusted(g, r))
			continue;
		if (grp_sst_row_failed(g->sst, r)) {
			suspect(g, r, gms_reason_gone(g->links, id_of(g, r)), "its link broke");
			continue;
		}
		if (epoch_misbehaved(g->e, r)) {
			suspect(g, r, GMS_FAILED, "it broke the protocol");
			continue;
		}
		if (links_peer_leaving(g->links, id_of(g, r))) {
			suspect(g, r, GMS_LEFT, "announced it");
			continue;
		}
		uint64_t hb = load(g, r, g->col.heartbeat);
		if (hb != g->hb_seen[r] || we_stalled) {
			g->hb_seen[r] = hb;
			g->hb_since[r] = now;
		} else if (now - g->hb_since[r] > timeout) {
			suspect(g, r, GMS_FAILED, "no heartbeat within membership.suspect_timeout_ms");
		}
	}
}

/* Whether another member proposes (or acknowledged) our removal. A row we
 * suspect counts too: a member that was stopped sees, on resuming, the
 * others' links close right after their proposals land. */
static bool removal_proposed(const struct gms *g)
{
	for (unsigned r = 0; r < g->n; r++)
		if (r != g->me && load(g, r, g->col.prop_num) &&
		    load(g, r, cell(g->col.proposal, g->me)))
			return true;
	return false;
}

/* Copies every suspicion of a row we trust; false if one names us. */
static bool gossip(struct gms *g)
{
	if (removal_proposed(g)) {
		log_error(MOD, "view %u: the others propose our removal", epoch_vid(g->e));
		return false;
	}
	for (unsigned r = 0; r < g->n; r++) {
		if (!trusted(g, r))
			continue;
		for (unsigned j = 0; j < g->n; j++) {
			uint64_t v = load(g, r, cell(g->col.suspected, j));
			if (v == 0 || g->suspected[j])
				continue;
			if (j == g->me) {
				log_error(MOD, "view %u: member %u suspects us: we are removed",
					  epoch_vid(g->e), id_of(g, r));
				return false;
			}
			suspect(g, j, v == GMS_LEFT ? GMS_LEFT : GMS_FAILED, "suspected by another");
		}
	}
	return true;
}

/* Survivors must be a strict majority of the view, leavers not counted. */
static bool in_majority(const struct gms *g)
{
	unsigned failed = 0, left = 0;
	for (unsigned r = 0; r < g->n; r++) {
		failed += g->suspected[r] == GMS_FAILED;
		left += g->suspected[r] == GMS_LEFT;
	}
	return 2 * (g->n - failed - left) > g->n - left;
}

static unsigned leader(const struct gms *g)
{
	unsigned r = 0;
	while (r < g->n && g->suspected[r])
		r++;
	return r;
}

/* A new leader acts only once every row it trusts suspects every rank
 * below it: then none of them still follows one of those. */
static bool leadership_established(const struct gms *g, unsigned me)
{
	for (unsigned r = 0; r < g->n; r++) {
		if (r != g->me && !trusted(g, r))
			continue;
		for (unsigned low = 0; low < me; low++)
			if (load(g, r, cell(g->col.suspected, low)) == 0)
				return false;
	}
	return true;
}

static uint64_t my(const struct gms *g, size_t at)
{
	return load(g, g->me, at);
}

/* Copies row r's proposal (and the suspicions it implies) into ours. */
static void copy_proposal(struct gms *g, unsigned r)
{
	for (unsigned j = 0; j < g->n; j++) {
		uint64_t v = load(g, r, cell(g->col.proposal, j));
		store(g, cell(g->col.proposal, j), v);
		if (v)
			suspect(g, j, (unsigned)v, "proposed for removal");
	}
	for (unsigned k = 0; k < GMS_MAX_JOINS; k++)
		store(g, cell(g->col.joins, k), load(g, r, cell(g->col.joins, k)));
	push(g, g->col.proposal, 8u * g->n + 8u * GMS_MAX_JOINS);
	push_cell(g, g->col.prop_num, load(g, r, g->col.prop_num));
}

/* A row we trust (or ours) that shows a commit, or -1. */
static int committed_row(const struct gms *g)
{
	for (unsigned r = 0; r < g->n; r++)
		if ((r == g->me || trusted(g, r)) && load(g, r, g->col.committed))
			return (int)r;
	return -1;
}

static bool proposal_matches_suspicions(const struct gms *g)
{
	for (unsigned j = 0; j < g->n; j++)
		if (my(g, cell(g->col.proposal, j)) != g->suspected[j])
			return false;
	uint64_t num = my(g, g->col.prop_num);
	return num && num % (1u << PROPOSER_BITS) == g->me;
}

/* The joiners of the proposal we acknowledged, if any; else those
 * offered now. Either way they stay fixed while this view changes. */
static void choose_joins(struct gms *g)
{
	if (my(g, g->col.prop_num))
		return;
	for (unsigned k = 0; k < GMS_MAX_JOINS; k++)
		store(g, cell(g->col.joins, k), g->offered[k]);
}

static void propose(struct gms *g)
{
	uint64_t round = 0;
	for (unsigned r = 0; r < g->n; r++) {
		uint64_t num = load(g, r, g->col.prop_num) >> PROPOSER_BITS;
		round = num > round ? num : round;
	}
	for (unsigned j = 0; j < g->n; j++)
		store(g, cell(g->col.proposal, j), g->suspected[j]);
	choose_joins(g);
	push(g, g->col.proposal, 8u * g->n + 8u * GMS_MAX_JOINS);
	uint64_t num = (round + 1) << PROPOSER_BITS | g->me;
	push_cell(g, g->col.prop_num, num);
	log_debug(MOD, "view %u: proposal %llx", epoch_vid(g->e), (unsigned long long)num);
	fault_point("leader_proposed");
}

static bool all_acknowledged(const struct gms *g, uint64_t num)
{
	for (unsigned r = 0; r < g->n; r++)
		if (trusted(g, r) && (load(g, r, g->col.prop_num) != num || !epoch_wedged_at(g->e, r)))
			return false;
	return true;
}

static bool lead(struct gms *g)
{
	if (my(g, g->col.committed))
		return false;
	int c = committed_row(g);
	if (c >= 0) {
		copy_proposal(g, (unsigned)c);
		push_cell(g, g->col.committed, load(g, (unsigned)c, g->col.committed));
		return true;
	}
	bool worked = false;
	if (!proposal_matches_suspicions(g)) {
		propose(g);
		worked = true;
	}
	uint64_t num = my(g, g->col.prop_num);
	if (!all_acknowledged(g, num))
		return worked;
	push_cell(g, g->col.committed, num);
	log_debug(MOD, "view %u: committed %llx", epoch_vid(g->e), (unsigned long long)num);
	fault_point("leader_committed");
	return true;
}

static bool follow(struct gms *g, unsigned l)
{
	if (my(g, g->col.committed))
		return false;
	uint64_t num = load(g, l, g->col.prop_num);
	bool worked = false;
	if (num && num != my(g, g->col.prop_num)) {
		copy_proposal(g, l);
		worked = true;
	}
	uint64_t committed = load(g, l, g->col.committed);
	if (committed && committed == my(g, g->col.prop_num)) {
		push_cell(g, g->col.committed, committed);
		worked = true;
	}
	return worked;
}

/* Members of the next view that we trust, plus us. */
static bool survivor(const struct gms *g, unsigned r)
{
	return (r == g->me || trusted(g, r)) && my(g, cell(g->col.proposal, r)) == 0;
}

static void publish_trim(struct gms *g, const uint64_t *trim)
{
	for (unsigned s = 0; s < g->S; s++) {
		g->trim[s] = trim[s];
		store(g, cell(g->col.trim, s), trim[s]);
	}
	if (g->S)
		push(g, g->col.trim, 8u * g->S);
	push_cell(g, g->col.trim_ready, 1);
}

static bool compute_trim(struct gms *g)
{
	uint64_t trim[g->S + 1];
	for (unsigned s = 0; s < g->S; s++)
		trim[s] = UINT64_MAX;
	for (unsigned r = 0; r < g->n; r++) {
		if (!survivor(g, r))
			continue;
		if (!epoch_wedged_at(g->e, r))
			return false;
		for (unsigned s = 0; s < g->S; s++) {
			uint64_t got = epoch_received_at(g->e, r, s);
			trim[s] = got < trim[s] ? got : trim[s];
		}
	}
	publish_trim(g, trim);
	log_debug(MOD, "view %u: trim published", epoch_vid(g->e));
	fault_point("leader_trimmed");
	return true;
}

static bool same_trim(const struct gms *g, unsigned r)
{
	if (!load(g, r, g->col.trim_ready))
		return false;
	for (unsigned s = 0; s < g->S; s++)
		if (load(g, r, cell(g->col.trim, s)) != g->trim[s])
			return false;
	return true;
}

/* Adopts a published trim, or (leader) computes it; true once we hold one. */
static bool settle_trim(struct gms *g, bool leading, bool *worked)
{
	if (my(g, g->col.trim_ready))
		return true;
	for (unsigned r = 0; r < g->n; r++) {
		if (!trusted(g, r) || !load(g, r, g->col.trim_ready))
			continue;
		uint64_t trim[g->S + 1];
		for (unsigned s = 0; s < g->S; s++)
			trim[s] = load(g, r, cell(g->col.trim, s));
		publish_trim(g, trim);
		*worked = true;
		return true;
	}
	if (leading && compute_trim(g)) {
		*worked = true;
		return true;
	}
	return false;
}

static bool everyone_shows_trim(const struct gms *g)
{
	for (unsigned r = 0; r < g->n; r++)
		if (r != g->me && survivor(g, r) && !same_trim(g, r))
			return false;
	return true;
}

static void heartbeat(struct gms *g, uint64_t now)
{
	if (now < g->hb_next)
		return;
	g->hb_next = now + (uint64_t)g->p.heartbeat_ms * 1000000u;
	push_cell(g, g->col.heartbeat, my(g, g->col.heartbeat) + 1);
}

static enum gms_outcome change_view(struct gms *g, bool *worked)
{
	if (!in_majority(g)) {
		log_error(MOD, "view %u: we see no majority of the view's %u members: this member "
			  "stops", epoch_vid(g->e), g->n);
		return GMS_MINORITY;
	}
	unsigned l = leader(g);
	bool leading = l == g->me && leadership_established(g, g->me);
	if (leading)
		fault_point("leader_elected");
	if (leading)
		*worked |= lead(g);
	else if (l != g->me)
		*worked |= follow(g, l);
	if (!my(g, g->col.committed) || !settle_trim(g, leading, worked) ||
	    !everyone_shows_trim(g))
		return GMS_RUNNING;
	if (!epoch_deliver_trim(g->e, g->trim))
		return GMS_EVICTED;
	g->delivered = true;
	return GMS_INSTALL;
}

enum gms_outcome gms_step(struct gms *g, bool *worked)
{
	*worked = false;
	if (g->delivered)
		return GMS_INSTALL;
	uint64_t now = clock_now_ns();
	heartbeat(g, now);
	bool wedged = g->wedged;
	detect_local(g, now);
	if (!gossip(g))
		return GMS_EVICTED;
	detect_joins(g);
	*worked = g->wedged != wedged;
	/* The first suspicion wedged the epoch: a view change is under way. */
	if (!g->wedged)
		return GMS_RUNNING;
	return change_view(g, worked);
}

enum gms_reason gms_removal(const struct gms *g, unsigned rank)
{
	return (enum gms_reason)my(g, cell(g->col.proposal, rank));
}

enum gms_reason gms_suspicion(const struct gms *g, unsigned rank)
{
	return (enum gms_reason)g->suspected[rank];
}

void gms_offer_joins(struct gms *g, const unsigned *ids, const bool *sender, unsigned n)
{
	for (unsigned k = 0; k < GMS_MAX_JOINS; k++)
		g->offered[k] = k < n ? (uint64_t)(ids[k] + 1) | (sender[k] ? JOIN_SENDS : 0) : 0;
}

unsigned gms_joins(const struct gms *g, unsigned *ids, bool *sender)
{
	unsigned k = 0;
	for (unsigned i = 0; i < GMS_MAX_JOINS; i++) {
		uint64_t v = my(g, cell(g->col.joins, i));
		if (!v)
			continue;
		ids[k] = (unsigned)((v & 0xffffffffu) - 1);
		sender[k++] = v & JOIN_SENDS;
	}
	return k;
}

const uint64_t *gms_trim(const struct gms *g)
{
	return g->trim;
}

int gms_create(struct links *links, struct epoch *e, const struct gms_params *p,
	       const uint8_t *carried, struct gms **out)
{
	struct gms *g = calloc(1, sizeof *g);
	if (!g)
		return GRP_ENOMEM;
	g->links = links;
	g->e = e;
	g->sst = epoch_table(e);
	g->p = *p;
	g->n = epoch_size(e);
	g->me = epoch_rank(e);
	g->S = epoch_senders(e);
	g->col = columns_for(epoch_extra(e), g->n, g->S);
	g->suspected = calloc(g->n, 1);
	g->hb_seen = calloc(g->n, sizeof *g->hb_seen);
	g->hb_since = calloc(g->n, sizeof *g->hb_since);
	g->trim = calloc(g->S + 1, sizeof *g->trim);
	if (!g->suspected || !g->hb_seen || !g->hb_since || !g->trim) {
		gms_free(g);
		return GRP_ENOMEM;
	}
	uint64_t now = clock_now_ns();
	g->last_pass = now;
	for (unsigned r = 0; r < g->n; r++) {
		g->hb_since[r] = now;
		if (carried && carried[r])
			suspect(g, r, carried[r], "suspected in the view before");
	}
	*out = g;
	return 0;
}

void gms_free(struct gms *g)
{
	if (!g)
		return;
	free(g->suspected);
	free(g->hb_seen);
	free(g->hb_since);
	free(g->trim);
	free(g);
}
