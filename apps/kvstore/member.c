#include "member.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/group.h>

#include "op.h"
#include "replica.h"

#define SENDERS_TEXT_LEN 8192 /* "0,1,...,1023": the largest group */
/* Any multicast.senders but "all" makes a joiner a receiver only. */
#define JOINER_SENDERS "none"

int member_config_joiner(grp_config *cfg, const char *contact, unsigned id, const char *listen)
{
	char id_text[16];
	snprintf(id_text, sizeof id_text, "%u", id);
	int rc = grp_config_set(cfg, "group.contact", contact);
	if (!rc)
		rc = grp_config_set(cfg, "member.id", id_text);
	if (!rc && listen)
		rc = grp_config_set(cfg, "member.listen", listen);
	if (!rc)
		rc = grp_config_set(cfg, "multicast.senders", JOINER_SENDERS);
	return rc;
}

static bool is_joiner(const grp_config *cfg)
{
	/* Only whether group.contact is empty matters: a longer value does
	 * not fit, and says so. */
	char first[1];
	return grp_config_get(cfg, "group.contact", first, sizeof first) == GRP_ENOSPC;
}

/* Reads "all" or "r0,r1,...", validated against the members by grp_join,
 * into sends[rank]. */
static int read_senders(const char *text, bool *sends)
{
	for (unsigned i = 0; i < REPLICA_MAX_MEMBERS; i++)
		sends[i] = strcmp(text, "all") == 0;
	if (strcmp(text, "all") == 0)
		return 0;
	for (const char *p = text; *p != '\0';) {
		char *end;
		unsigned long sender = strtoul(p, &end, 10);
		if (end == p || sender >= REPLICA_MAX_MEMBERS)
			return -1;
		sends[sender] = true;
		p = end + strspn(end, ", ");
	}
	return 0;
}

/* A founder's replica expects every sender of multicast.senders to
 * perform ops operations; a joiner's learns what to expect with the
 * state. 0, or 1 having said why. */
static int replica_for(struct replica *r, const grp_config *cfg, uint64_t ops)
{
	char senders[SENDERS_TEXT_LEN];
	bool sends[REPLICA_MAX_MEMBERS];
	bool founder = !is_joiner(cfg);
	int rc = founder ? grp_config_get(cfg, "multicast.senders", senders, sizeof senders) : 0;
	if (rc) {
		fprintf(stderr, "kvstore: multicast.senders: %s\n", grp_strerror(rc));
		return 1;
	}
	if (founder && read_senders(senders, sends) != 0) {
		fprintf(stderr, "kvstore: cannot read multicast.senders '%s'\n", senders);
		return 1;
	}
	if (replica_init(r, ops, founder ? sends : NULL) != 0) {
		fprintf(stderr, "kvstore: out of memory\n");
		return 1;
	}
	return 0;
}

/* What a sender's load calls a quarter in: the caller's own hook, then a
 * pause until the joiners are in. */
struct pause {
	const struct member_plan *plan;
	struct replica *r;
	unsigned rank;
	int status;
};

static void pause_for_joiners(void *arg)
{
	struct pause *p = arg;
	if (p->plan->load.quarter_sent)
		p->plan->load.quarter_sent(p->plan->load.quarter_arg);
	p->status = replica_await_joins(p->r, p->plan->joins, p->rank, p->plan->wait_ms);
}

static int send_load(grp_t *g, struct replica *r, const struct member_plan *plan, unsigned rank)
{
	struct load load = plan->load;
	struct pause pause = { .plan = plan, .r = r, .rank = rank };
	if (plan->joins) {
		load.quarter_sent = pause_for_joiners;
		load.quarter_arg = &pause;
	}
	int status = load_send(g, &load);
	return status ? status : pause.status;
}

int member_run(const grp_config *cfg, const struct member_plan *plan, char *line, size_t len)
{
	struct replica r;
	if (replica_for(&r, cfg, plan->load.ops) != 0)
		return 1;
	int status = 0;
	grp_t *g;
	int rc = grp_join(cfg, &replica_callbacks, &r, &g);
	if (rc) {
		fprintf(stderr, "kvstore: grp_join: %s\n", grp_strerror(rc));
		replica_destroy(&r);
		return 1;
	}
	unsigned rank = grp_rank(g);
	/* Every member checks, not only senders, so that a group configured
	 * too small fails at once everywhere instead of waiting wait_ms. */
	if (grp_max_msg_size(g) < OP_HEADER_LEN + KEY_MAX) {
		fprintf(stderr, "kvstore: member %u: multicast.max_smc_payload %zu is below %d\n",
			rank, grp_max_msg_size(g), OP_HEADER_LEN + KEY_MAX);
		status = 1;
	}
	if (!status && replica_sends(&r, rank))
		status = send_load(g, &r, plan, rank);
	if (!status && plan->joins)
		status = replica_await_joins(&r, plan->joins, rank, plan->wait_ms);
	if (!status)
		status = replica_await_all(&r, rank, plan->wait_ms);
	rc = grp_leave(g);
	grp_free(g);
	if (!status && rc) {
		fprintf(stderr, "kvstore: member %u: grp_leave: %s\n", rank, grp_strerror(rc));
		status = 1;
	}
	struct result res;
	if (!status)
		status = replica_result(&r, rank, &res);
	if (!status)
		result_format(&res, rank, line, len);
	replica_destroy(&r);
	return status;
}
