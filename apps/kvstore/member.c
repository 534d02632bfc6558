#include "member.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/group.h>

#include "op.h"
#include "replica.h"

#define SENDERS_TEXT_LEN 8192 /* "0,1,...,1023": the largest group */

/* Reads "all" or "r0,r1,...", already validated by grp_join, into
 * sends[rank] for the n_members of the first view. */
static int read_senders(const char *text, unsigned n_members, bool *sends)
{
	for (unsigned i = 0; i < n_members; i++)
		sends[i] = strcmp(text, "all") == 0;
	if (strcmp(text, "all") == 0)
		return 0;
	for (const char *p = text; *p != '\0';) {
		char *end;
		unsigned long sender = strtoul(p, &end, 10);
		if (end == p || sender >= n_members)
			return -1;
		sends[sender] = true;
		p = end + strspn(end, ", ");
	}
	return 0;
}

/* Every sender performs ops operations: that tells a member how many it
 * must apply of each before it has them all. */
static int expect_load(struct replica *r, const grp_config *cfg, unsigned rank, uint64_t ops,
		       bool *is_sender)
{
	char senders[SENDERS_TEXT_LEN];
	bool sends[REPLICA_MAX_MEMBERS];
	unsigned n = replica_members(r);
	int rc = grp_config_get(cfg, "multicast.senders", senders, sizeof senders);
	if (rc) {
		fprintf(stderr, "kvstore: member %u: multicast.senders: %s\n", rank, grp_strerror(rc));
		return 1;
	}
	if (n > REPLICA_MAX_MEMBERS || read_senders(senders, n, sends) != 0) {
		fprintf(stderr, "kvstore: member %u: cannot read multicast.senders '%s'\n", rank, senders);
		return 1;
	}
	*is_sender = rank < n && sends[rank];
	replica_expect(r, ops, sends);
	return 0;
}

int member_run(const grp_config *cfg, const struct load *load, unsigned wait_ms, char *line,
	       size_t len)
{
	struct replica r;
	if (replica_init(&r) != 0) {
		fprintf(stderr, "kvstore: out of memory\n");
		return 1;
	}
	grp_t *g;
	int rc = grp_join(cfg, &replica_callbacks, &r, &g);
	if (rc) {
		fprintf(stderr, "kvstore: grp_join: %s\n", grp_strerror(rc));
		replica_destroy(&r);
		return 1;
	}
	unsigned rank = grp_rank(g);
	bool is_sender;
	int status = expect_load(&r, cfg, rank, load->ops, &is_sender);
	/* Every member checks, not only senders, so that a group configured
	 * too small fails at once everywhere instead of waiting wait_ms. */
	if (!status && grp_max_msg_size(g) < OP_HEADER_LEN + KEY_MAX) {
		fprintf(stderr, "kvstore: member %u: multicast.max_smc_payload %zu is below %d\n",
			rank, grp_max_msg_size(g), OP_HEADER_LEN + KEY_MAX);
		status = 1;
	}
	if (!status && is_sender)
		status = load_send(g, load);
	if (!status)
		status = replica_await_all(&r, rank, wait_ms);
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
