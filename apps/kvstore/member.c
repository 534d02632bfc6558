#include "member.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/group.h>

#include "acked.h"
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

/* How many members group.members lists (0 if it cannot be read): a
 * durable replica names its senders by node id, among these. */
static unsigned members_listed(const grp_config *cfg)
{
	static char members[SENDERS_TEXT_LEN * 4]; /* the member's thread alone reads it */
	if (grp_config_get(cfg, "group.members", members, sizeof members) != 0)
		return 0;
	unsigned listed = 1;
	for (const char *p = members; *p; p++)
		listed += *p == ',';
	return listed;
}

/* A founder's replica expects every sender of multicast.senders to
 * perform ops operations; a joiner's learns what to expect with the
 * state. 0, or 1 having said why. */
static int replica_for(struct replica *r, const grp_config *cfg, uint64_t ops, bool durable)
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
	/* By node id, "all" would name every possible one. */
	for (unsigned id = durable ? members_listed(cfg) : REPLICA_MAX_MEMBERS;
	     id < REPLICA_MAX_MEMBERS; id++)
		sends[id] = false;
	if (replica_init(r, ops, founder ? sends : NULL, durable) != 0) {
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

static bool persist_on(const grp_config *cfg)
{
	char mode[16];
	return grp_config_get(cfg, "persist.mode", mode, sizeof mode) == 0 &&
	       strcmp(mode, "off") != 0;
}

/* What the load calls once grp_send_durable returned for an operation:
 * the client got its acknowledgement, so it goes into acked-<id>.txt with
 * the version it was delivered at. */
struct acker {
	struct replica *r;
	FILE *file;
	unsigned rank;
};

static int on_acked(void *arg, uint64_t seq, const struct kv_op *op)
{
	struct acker *a = arg;
	uint64_t version;
	if (replica_own_version(a->r, seq, &version) != 0) {
		fprintf(stderr, "kvstore: member %u: grp_send_durable returned for operation %" PRIu64
			" before its delivery here\n", a->rank, seq);
		return 1;
	}
	return acked_write(a->file, seq, version, op);
}

static void note(const struct member_plan *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(const struct member_plan *plan, const char *fmt, ...)
{
	char text[RESULT_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (plan->note)
		plan->note(plan->note_arg, text);
	else
		printf("%s\n", text);
}

/* A sender's part: its load (durably, keeping what was acknowledged, with
 * --persist), or, back after a total crash, its mark. */
static int send_part(grp_t *g, struct replica *r, const struct member_plan *plan, unsigned rank)
{
	if (plan->restart) {
		uint8_t buf[OP_LEN_MAX];
		char key[KEY_MAX + 1];
		struct kv_op mark = { .code = OP_MARK, .key = key, .value = "" };
		mark.key_len = (uint16_t)snprintf(key, sizeof key, "back-%u", r->self);
		int rc = grp_send_durable(g, buf, op_encode(buf, &mark));
		if (rc)
			fprintf(stderr, "kvstore: member %u: grp_send_durable of its mark: %s\n", rank,
				grp_strerror(rc));
		return rc ? 1 : 0;
	}
	if (!plan->acked_dir)
		return send_load(g, r, plan, rank);
	struct acker acker = { .r = r, .rank = rank, .file = acked_open(plan->acked_dir, r->self) };
	if (!acker.file)
		return 1;
	struct member_plan durable = *plan;
	durable.load.acked = on_acked;
	durable.load.acked_arg = &acker;
	int status = send_load(g, r, &durable, rank);
	fclose(acker.file);
	return status;
}

/* What --persist checks before leaving: every acknowledged operation is
 * in this member's log, and the log gives the probe's keys as the live
 * map held them. */
static int check_durable(grp_t *g, struct replica *r, const struct member_plan *plan,
			 unsigned rank)
{
	if (plan->acked_dir) {
		unsigned ids[TALLY_IDS];
		for (unsigned i = 0; i < plan->acked_ids && i < TALLY_IDS; i++)
			ids[i] = i;
		uint64_t checked;
		if (acked_check(g, plan->acked_dir, ids, plan->acked_ids, rank, &checked) != 0)
			return 1;
		note(plan, "member %u: all %" PRIu64 " acknowledged operations are in its log", rank,
		     checked);
	}
	if (!plan->probe)
		return 0;
	/* Taken on the engine thread, long since: read under the lock. */
	pthread_mutex_lock(&r->lock);
	struct history_probe probe = r->probe;
	uint64_t replayed = r->replayed;
	pthread_mutex_unlock(&r->lock);
	if (history_probe_check(g, &probe, rank) != 0)
		return 1;
	note(plan, "member %u: history of %u keys as of version 0x%" PRIx64 " and of time %" PRIu64
	     " us read back from its log as the live map held them (%" PRIu64 " deliveries replayed)",
	     rank, probe.n_keys, probe.version, probe.time_us, replayed);
	return 0;
}

static uint64_t senders_count(const struct replica *r)
{
	uint64_t n = 0;
	for (unsigned id = 0; id < TALLY_IDS; id++)
		n += r->tally.sends[id];
	return n;
}

int member_run(const grp_config *cfg, const struct member_plan *plan, char *line, size_t len)
{
	struct replica r;
	bool durable = persist_on(cfg);
	if (replica_for(&r, cfg, plan->load.ops, durable) != 0)
		return 1;
	/* Halfway through the load; after a restart, at the first mark, so
	 * that the history read back spans the log before the crash. */
	r.probe.armed = plan->probe && durable;
	r.probe.after = plan->restart ? 0 : senders_count(&r) * plan->load.ops / 2;
	int status = 0;
	grp_t *g;
	int rc = grp_join(cfg, durable ? &replica_durable_callbacks : &replica_callbacks, &r, &g);
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
		status = send_part(g, &r, plan, rank);
	if (!status && plan->joins)
		status = replica_await_joins(&r, plan->joins, rank, plan->wait_ms);
	if (!status)
		status = plan->restart ? replica_await_marks(&r, rank, plan->wait_ms)
				       : replica_await_all(&r, rank, plan->wait_ms);
	if (!status && durable)
		status = check_durable(g, &r, plan, rank);
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
