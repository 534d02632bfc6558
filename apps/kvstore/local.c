#include "local.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localgroup.h"
#include "member.h"
#include "result.h"
#include "test_time.h"

#define LOCAL_SENDERS_LEN 256 /* "0,1,...,31": half of the largest local group */

/* Members report only once they have applied everything (MEMBER_WAIT_MS
 * at most) and left; the margin covers joining and leaving. */
#define PARENT_WAIT_MS (MEMBER_WAIT_MS + 60000u)

static void senders_text(enum senders_choice choice, unsigned n, char *buf, size_t len)
{
	size_t off = 0;
	switch (choice) {
	case SENDERS_ALL:
		snprintf(buf, len, "all");
		break;
	case SENDERS_HALF:
		for (unsigned i = 0; i < (n + 1) / 2; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? "," : "", i);
		break;
	case SENDERS_ONE:
		/* The last member, so that every lower rank has turns to fill. */
		snprintf(buf, len, "%u", n - 1);
		break;
	}
}

static bool local_sender(enum senders_choice choice, unsigned n, unsigned rank)
{
	switch (choice) {
	case SENDERS_ALL:
		return true;
	case SENDERS_HALF:
		return rank < (n + 1) / 2;
	case SENDERS_ONE:
		return rank == n - 1;
	}
	return false;
}

/* What the member --kill names tells the parent: strike now. */
#define KILL_ME "loading"

static void report_loading(void *arg)
{
	local_member_report(arg, KILL_ME);
}

static int local_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct load load = o->load;
	if (o->kill == (int)m->rank) {
		load.quarter_sent = report_loading;
		load.quarter_arg = (void *)m;
	}
	char senders[LOCAL_SENDERS_LEN], line[RESULT_LEN];
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return 1;
	senders_text(o->senders, m->n, senders, sizeof senders);
	int status = grp_config_set(cfg, "multicast.senders", senders) ? 1 : 0;
	/* Operations fit a send-window slot: no RDMC buffers (2 x 16 MiB per
	 * sender by default, allocated again at every view change), unless
	 * the environment asks for them. */
	char smc[32];
	if (!status && !getenv("GROUP_RDMC_MAX_PAYLOAD"))
		status = grp_config_get(cfg, "multicast.max_smc_payload", smc, sizeof smc) ||
			 grp_config_set(cfg, "rdmc.max_payload", smc) ? 1 : 0;
	if (status)
		fprintf(stderr, "kvstore: member %u: %s\n", m->rank, grp_config_error(cfg));
	else
		status = member_run(cfg, &load, test_ms(MEMBER_WAIT_MS), line, sizeof line);
	grp_config_free(cfg);
	if (!status)
		local_member_report(m, "%s", line);
	return status;
}

/* Prints the result of each member but `killed` (-1: nobody was), then
 * whether they all agree. */
static bool report_agreement(struct local_group *lg, unsigned n, int killed)
{
	struct result results[LOCAL_MAX];
	bool reported[LOCAL_MAX];
	int first = -1;
	for (unsigned i = 0; i < n; i++) {
		char line[RESULT_LEN];
		if ((int)i == killed)
			continue;
		reported[i] = local_group_read_line(lg, i, line, sizeof line,
						    test_ms(PARENT_WAIT_MS)) == 0 &&
			      result_parse(line, &results[i]);
		if (reported[i]) {
			printf("%s\n", line);
			if (first < 0)
				first = (int)i;
		}
	}
	bool agree = first >= 0;
	for (unsigned i = 0; i < n; i++) {
		if ((int)i == killed)
			continue;
		if (!reported[i]) {
			printf("kvstore: member %u reported no result\n", i);
			agree = false;
		} else if (!results_equal(&results[i], &results[first])) {
			printf("kvstore: member %u differs from member %d\n", i, first);
			agree = false;
		}
	}
	if (agree && killed >= 0)
		printf("kvstore: all %u survivors agree (hash 0x%016" PRIx64 ")\n", n - 1,
		       results[first].hash);
	else if (agree)
		printf("kvstore: all %u members agree (hash 0x%016" PRIx64 ")\n", n, results[first].hash);
	return agree;
}

/* Kills the member --kill names once it has sent a quarter of its load. */
static bool kill_mid_load(struct local_group *lg, unsigned victim)
{
	char line[RESULT_LEN];
	if (local_group_read_line(lg, victim, line, sizeof line, test_ms(PARENT_WAIT_MS)) != 0 ||
	    strcmp(line, KILL_ME) != 0) {
		printf("kvstore: member %u did not report that it is loading\n", victim);
		return false;
	}
	local_group_kill(lg, victim, SIGKILL);
	printf("kvstore: killed member %u (SIGKILL) a quarter into its load\n", victim);
	return true;
}

int local_run(const struct options *o)
{
	if (o->kill >= 0 && !local_sender(o->senders, o->local_n, (unsigned)o->kill)) {
		fprintf(stderr, "kvstore: --kill %d: not a sender\n", o->kill);
		return 1;
	}
	struct local_group *lg = local_group_start(o->local_n, local_member, (void *)o);
	if (!lg)
		return 1;
	bool killed = o->kill < 0 || kill_mid_load(lg, (unsigned)o->kill);
	bool agree = killed && report_agreement(lg, o->local_n, o->kill);
	int status[LOCAL_MAX];
	local_group_finish(lg, test_ms(PARENT_WAIT_MS), status);
	bool exited_ok = true;
	for (unsigned i = 0; i < o->local_n; i++) {
		int want = (int)i == o->kill ? 128 + SIGKILL : 0;
		if (status[i] != want) {
			fprintf(stderr, "kvstore: member %u failed (exit status %d, expected %d)\n", i,
				status[i], want);
			exited_ok = false;
		}
	}
	return agree && exited_ok ? 0 : 1;
}
