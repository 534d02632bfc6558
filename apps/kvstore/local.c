#include "local.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localgroup.h"
#include "logdir.h"
#include "member.h"
#include "result.h"
#include "test_time.h"

#define LOCAL_SENDERS_LEN 256 /* "0,1,...,31": half of the largest local group */
#define LOCAL_ADDRS_LEN 2048  /* "127.0.0.1:65535," for every local member */

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

/* Entries [from, to) of a comma-separated list. */
static void list_slice(const char *list, unsigned from, unsigned to, char *out, size_t cap)
{
	unsigned index = 0;
	const char *start = list;
	size_t len = 0;
	for (const char *p = list;; p++) {
		if (index == from && (p == list || p[-1] == ','))
			start = p;
		if (*p == '\0' || (*p == ',' && ++index == to)) {
			len = (size_t)(p - start);
			break;
		}
	}
	snprintf(out, cap, "%.*s", (int)len, start);
}

/* One start of the local members: the options, and with --persist where
 * their logs are and whether this is the start after --crash-all. */
struct local_life {
	const struct options *o;
	const char *persist_dir; /* or NULL */
	bool restart;
};

#define LOCAL_PATH_LEN 4096
/* Each log's segment files are preallocated: small ones for a test's load. */
#define LOCAL_SEGMENT_MB "8"

/* persist.mode durable, each member's log in a directory of its own under
 * the run's. */
static int persist_member(grp_config *cfg, const struct local_member *m, const char *dir)
{
	char own[LOCAL_PATH_LEN];
	snprintf(own, sizeof own, "%s/member-%u", dir, m->rank);
	int rc = grp_config_set(cfg, "persist.mode", "durable");
	if (!rc)
		rc = grp_config_set(cfg, "persist.dir", own);
	if (!rc && !getenv("GROUP_PERSIST_SEGMENT_MB"))
		rc = grp_config_set(cfg, "persist.segment_mb", LOCAL_SEGMENT_MB);
	return rc;
}

/* Ranks below o->local_n found the group from their list; the others join
 * it through theirs, on the sockets the launcher bound for them. */
static int place_member(grp_config *cfg, const struct local_member *m, const struct options *o)
{
	char founders[LOCAL_ADDRS_LEN], senders[LOCAL_SENDERS_LEN], self[LOCAL_ADDRS_LEN];
	list_slice(m->members, 0, o->local_n, founders, sizeof founders);
	if (m->rank >= o->local_n) {
		list_slice(m->members, m->rank, m->rank + 1, self, sizeof self);
		return member_config_joiner(cfg, founders, m->rank, self);
	}
	senders_text(o->senders, o->local_n, senders, sizeof senders);
	int rc = grp_config_set(cfg, "group.members", founders);
	return rc ? rc : grp_config_set(cfg, "multicast.senders", senders);
}

static void report_note(void *arg, const char *text)
{
	local_member_report(arg, "%s", text);
}

/* With --crash-all, the first sender tells the parent when to strike. */
static unsigned first_sender(const struct options *o)
{
	return o->senders == SENDERS_ONE ? o->local_n - 1 : 0;
}

static int local_member(const struct local_member *m, void *arg)
{
	const struct local_life *life = arg;
	const struct options *o = life->o;
	struct member_plan plan = { .load = o->load, .wait_ms = test_ms(MEMBER_WAIT_MS),
				    .joins = m->rank < o->local_n ? o->add : 0,
				    .acked_dir = life->persist_dir, .acked_ids = o->local_n,
				    .probe = life->persist_dir != NULL, .restart = life->restart,
				    .note = report_note, .note_arg = (void *)m };
	if (o->kill == (int)m->rank || (o->crash_all && !life->restart && m->rank == first_sender(o))) {
		plan.load.quarter_sent = report_loading;
		plan.load.quarter_arg = (void *)m;
	}
	char line[RESULT_LEN];
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return 1;
	int status = place_member(cfg, m, o) ? 1 : 0;
	if (!status && life->persist_dir)
		status = persist_member(cfg, m, life->persist_dir) ? 1 : 0;
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
		status = member_run(cfg, &plan, line, sizeof line);
	grp_config_free(cfg);
	if (!status)
		local_member_report(m, "%s", line);
	return status;
}

/* Prints the result of each of the n members but `killed` (-1: nobody
 * was), joiners included, and the notes before them, then whether they
 * all agree. */
static bool report_agreement(struct local_group *lg, unsigned n, unsigned joiners, int killed,
			     bool restarted)
{
	struct result results[LOCAL_MAX];
	bool reported[LOCAL_MAX];
	int first = -1;
	for (unsigned i = 0; i < n; i++) {
		char line[RESULT_LEN];
		if ((int)i == killed)
			continue;
		/* Notes (checks that passed) come before the result line. */
		while ((reported[i] = local_group_read_line(lg, i, line, sizeof line,
							    test_ms(PARENT_WAIT_MS)) == 0) &&
		       !result_parse(line, &results[i]))
			printf("%s\n", line);
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
	if (!agree)
		return false;
	printf("kvstore: all %u %s agree", n - (killed >= 0),
	       killed >= 0 ? "survivors" : restarted ? "restarted members" : "members");
	if (joiners)
		printf(", %u of them joined mid-load", joiners);
	printf(" (hash 0x%016" PRIx64 ")\n", results[first].hash);
	return true;
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

/* Waits for every member to exit: true if member `killed` (-1: none) died of
 * SIGKILL, or all did (all_killed), and every other exited with 0. */
static bool all_exited(struct local_group *lg, unsigned n, int killed, bool all_killed)
{
	int status[LOCAL_MAX];
	local_group_finish(lg, test_ms(PARENT_WAIT_MS), status);
	bool ok = true;
	for (unsigned i = 0; i < n; i++) {
		int want = all_killed || (int)i == killed ? 128 + SIGKILL : 0;
		if (status[i] != want) {
			fprintf(stderr, "kvstore: member %u failed (exit status %d, expected %d)\n", i,
				status[i], want);
			ok = false;
		}
	}
	return ok;
}

/* --crash-all: a quarter into the load every member dies of SIGKILL, one
 * after the other, so that their logs end at different points; then n new
 * processes with the same node ids and logs, at new addresses, restart the
 * group from their logs. */
static bool crash_and_restart(const struct options *o, const char *dir)
{
	unsigned n = o->local_n;
	struct local_life first = { .o = o, .persist_dir = dir }, second = first;
	second.restart = true;
	struct local_group *lg = local_group_start(n, local_member, &first);
	if (!lg)
		return false;
	bool struck = kill_mid_load(lg, first_sender(o));
	for (unsigned i = 0; struck && i < n; i++)
		if (i != first_sender(o))
			local_group_kill(lg, i, SIGKILL);
	if (struck)
		printf("kvstore: killed every member (SIGKILL); restarting them on their logs\n");
	if (!all_exited(lg, n, -1, struck) || !struck)
		return false;
	lg = local_group_start(n, local_member, &second);
	if (!lg)
		return false;
	bool agree = report_agreement(lg, n, 0, -1, true);
	return all_exited(lg, n, -1, false) && agree;
}

static bool run_once(const struct options *o, const char *dir)
{
	unsigned n = o->local_n + o->add;
	struct local_life life = { .o = o, .persist_dir = dir };
	struct local_group *lg = local_group_start(n, local_member, &life);
	if (!lg)
		return false;
	bool killed = o->kill < 0 || kill_mid_load(lg, (unsigned)o->kill);
	bool agree = killed && report_agreement(lg, n, o->add, o->kill, false);
	return all_exited(lg, n, o->kill, false) && agree;
}

int local_run(const struct options *o)
{
	if (o->kill >= 0 && !local_sender(o->senders, o->local_n, (unsigned)o->kill)) {
		fprintf(stderr, "kvstore: --kill %d: not a sender\n", o->kill);
		return 1;
	}
	char dir[LOCAL_PATH_LEN];
	bool made = false;
	if (o->persist && logdir_prepare(o->persist, dir, sizeof dir, &made) != 0)
		return 1;
	bool ok = o->crash_all ? crash_and_restart(o, dir) : run_once(o, o->persist ? dir : NULL);
	if (o->persist && ok && made)
		logdir_remove(dir);
	else if (o->persist)
		printf("kvstore: the logs and acknowledged operations are in %s\n", dir);
	return ok ? 0 : 1;
}
