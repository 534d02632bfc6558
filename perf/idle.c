/* idle: what an idle table or group costs, and what waking it costs.
 *
 * N members (default 4) open a table (-l table) or join a group (-l group)
 * and sit idle for T seconds (default 10); each reports its process CPU
 * time over that window as % of one core. Then rank 0 sends P pings, G ms
 * apart so that every engine is asleep when each arrives: to rank 1 through
 * the table, whose trigger echoes it; or as a multicast it waits to deliver.
 * It reports the round trip from sleep. Engine knobs come from
 * GROUP_ENGINE_SPIN_US / _YIELD_US / _SLEEP_MS. -l dispatch: the group in
 * callbacks.mode = dispatch, each member's thread idle in a poll(2) loop
 * over grp_fd rather than asleep, and how often that loop woke (nobody
 * sends: never, if the descriptor is quiet).
 *
 *   idle [-l table|group|dispatch] [-o DIR] [-n MEMBERS] [-t SECONDS] [-p PINGS] [-g GAP_MS]
 * Output: a table and DIR/idle-LAYER.csv. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <group/group.h>
#include <group/sst.h>

#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "report.h"

#define WAIT_MS 120000u

struct options {
	bool group;
	const char *callbacks; /* the group's callbacks.mode */
	unsigned members;
	double seconds;
	unsigned pings;
	unsigned gap_ms;
};

struct idle_table {
	grp_sst *sst;
	size_t cell, step;
	uint64_t want; /* the echo rank 0 waits for */
};

static int step(struct idle_table *t, uint64_t value)
{
	return grp_sst_barrier(t->sst, t->step, value, WAIT_MS) ? 1 : 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void sleep_for(double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static bool echo_due(const grp_sst *sst, void *arg)
{
	const struct idle_table *t = arg;
	return grp_sst_load_u64(sst, 0, t->cell) > grp_sst_load_u64(sst, 1, t->cell);
}

static void echo(grp_sst *sst, void *arg)
{
	const struct idle_table *t = arg;
	grp_sst_store_u64(sst, t->cell, grp_sst_load_u64(sst, 0, t->cell));
	grp_sst_push(sst, t->cell, sizeof(uint64_t));
}

static bool echoed(const grp_sst *sst, void *arg)
{
	const struct idle_table *t = arg;
	return grp_sst_load_u64(sst, 1, t->cell) >= t->want;
}

/* Rank 0 pings, rank 1's engine echoes from a trigger; the main thread of
 * rank 0 waits on a condition variable, as an application would. */
static int cold_pings(const struct local_member *m, struct idle_table *t, const struct options *o)
{
	if (m->rank == 1)
		return grp_sst_predicate_add(t->sst, echo_due, echo, t, GRP_SST_RECURRENT, NULL);
	if (m->rank != 0)
		return 0;
	double *rtt = calloc(o->pings, sizeof *rtt);
	int rc = rtt ? 0 : 1;
	for (unsigned i = 0; i < o->pings && !rc; i++) {
		sleep_for(o->gap_ms / 1000.0);
		uint64_t t0 = clock_now_ns();
		t->want = i + 1;
		grp_sst_store_u64(t->sst, t->cell, i + 1);
		grp_sst_push(t->sst, t->cell, sizeof(uint64_t));
		rc = grp_sst_wait(t->sst, echoed, t, WAIT_MS);
		rtt[i] = (double)(clock_now_ns() - t0) / 1000.0;
	}
	if (!rc)
		local_member_report(m, "cold_rtt_us,%u,%.1f,%.1f", m->n,
				    perf_percentile(rtt, o->pings, 50), perf_percentile(rtt, o->pings, 99));
	free(rtt);
	return rc;
}

/* The process's CPU time over an idle window: asleep, or for a group in
 * dispatch mode in its poll loop over grp_fd (g, d), whose wake-ups are
 * reported too. */
static void report_idle_cpu(const struct local_member *m, double seconds, grp_t *g,
			    struct delivery_count *d)
{
	bool dispatch = g && grp_fd(g) >= 0;
	unsigned long wakeups = 0;
	double cpu0 = cpu_seconds();
	uint64_t wall0 = clock_now_ns();
	if (dispatch)
		perf_await_deliveries(g, d, delivery_count_get(d) + 1, (unsigned)(seconds * 1000),
				      &wakeups);
	else
		sleep_for(seconds);
	double wall = (double)(clock_now_ns() - wall0) / 1e9;
	local_member_report(m, "idle_cpu_pct,%u,%.2f,%u", m->n, 100.0 * (cpu_seconds() - cpu0) / wall,
			    m->rank);
	if (dispatch)
		local_member_report(m, "idle_wakeups,%u,%lu,%u", m->n, wakeups, m->rank);
}

static void count_delivery(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	delivery_count_add(user);
}

/* Rank 0 multicasts and waits for its own delivery, which needs every
 * member's engine to wake and acknowledge. */
static int group_member(const struct local_member *m, const struct options *o)
{
	struct delivery_count d;
	delivery_count_init(&d);
	const char *const settings[] = { "callbacks.mode", o->callbacks, NULL };
	grp_t *g = perf_join(m, "0", settings, count_delivery, &d);
	if (!g)
		return 1;
	int rc = 0;
	report_idle_cpu(m, o->seconds, g, &d);
	double *rtt = calloc(o->pings, sizeof *rtt);
	for (unsigned i = 0; rtt && i < o->pings && !rc; i++) {
		if (m->rank != 0)
			continue;
		sleep_for(o->gap_ms / 1000.0);
		uint64_t t0 = clock_now_ns();
		rc = grp_send(g, &t0, sizeof t0) ||
		     perf_await_deliveries(g, &d, i + 1, WAIT_MS, NULL);
		rtt[i] = (double)(clock_now_ns() - t0) / 1000.0;
	}
	if (!rc)
		rc = perf_await_deliveries(g, &d, o->pings, WAIT_MS, NULL);
	if (!rc && rtt && m->rank == 0)
		local_member_report(m, "cold_rtt_us,%u,%.1f,%.1f", m->n,
				    perf_percentile(rtt, o->pings, 50), perf_percentile(rtt, o->pings, 99));
	free(rtt);
	grp_leave(g);
	grp_free(g);
	delivery_count_destroy(&d);
	return rc || !rtt ? 1 : 0;
}

static int member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	if (o->group)
		return group_member(m, o);
	struct idle_table t = { 0 };
	grp_sst_layout layout = { 0 };
	t.cell = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	t.step = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	grp_config *cfg = local_member_config(m);
	if (!cfg || grp_sst_open(cfg, &layout, NULL, NULL, &t.sst) != 0)
		return 1;
	grp_config_free(cfg);
	int rc = step(&t, 1);
	if (!rc) {
		report_idle_cpu(m, o->seconds, NULL, NULL);
		rc = step(&t, 2) || cold_pings(m, &t, o) || step(&t, 3);
	}
	grp_sst_close(t.sst);
	return rc ? 1 : 0;
}

static void show(const char *line, void *arg)
{
	(void)arg;
	char kind[32];
	unsigned n;
	double a, b;
	if (sscanf(line, "%31[^,],%u,%lf,%lf", kind, &n, &a, &b) != 4)
		return;
	if (strcmp(kind, "idle_cpu_pct") == 0)
		printf("  member %u idle CPU   %6.2f %% of one core\n", (unsigned)b, a);
	else if (strcmp(kind, "idle_wakeups") == 0)
		printf("  member %u poll loop woke %.0f times while idle\n", (unsigned)b, a);
	else
		printf("  round trip from sleep   median %8.1f us   p99 %8.1f us\n", a, b);
}

int main(int argc, char **argv)
{
	struct options o = { .members = 4, .seconds = 10, .pings = 20, .gap_ms = 100,
			     .callbacks = "engine" };
	const char *dir = "perf-results";
	int opt;
	while ((opt = getopt(argc, argv, "l:o:n:t:p:g:")) != -1) {
		switch (opt) {
		case 'l':
			if (strcmp(optarg, "group") && strcmp(optarg, "table") &&
			    strcmp(optarg, "dispatch"))
				goto usage;
			o.group = strcmp(optarg, "table") != 0;
			o.callbacks = strcmp(optarg, "dispatch") == 0 ? "dispatch" : "engine";
			break;
		case 'o': dir = optarg; break;
		case 'n': o.members = (unsigned)atoi(optarg); break;
		case 't': o.seconds = atof(optarg); break;
		case 'p': o.pings = (unsigned)atoi(optarg); break;
		case 'g': o.gap_ms = (unsigned)atoi(optarg); break;
		default:
			goto usage;
		}
	}
	if (o.members < 2 || o.pings < 1)
		goto usage;
	bool dispatch = strcmp(o.callbacks, "dispatch") == 0;
	FILE *csv = perf_csv_open(dir, !o.group ? "idle-table.csv" : dispatch ? "idle-dispatch.csv"
								   : "idle-group.csv",
				  "kind,members,value1,value2");
	if (!csv)
		return 1;
	printf("idle: %u members, %s, idle for %.0f s, then %u pings %u ms apart\n", o.members,
	       !o.group   ? "SST table"
	       : dispatch ? "ordered-multicast group in dispatch mode (poll loops on grp_fd)"
			  : "ordered-multicast group", o.seconds, o.pings, o.gap_ms);
	struct local_group *lg = local_group_start(o.members, member, &o);
	if (!lg)
		return 1;
	perf_collect(lg, o.members, csv, show, NULL, WAIT_MS);
	fclose(csv);
	return local_group_finish(lg, 30000, NULL) ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-l table|group|dispatch] [-o DIR] [-n MEMBERS >= 2] "
		"[-t SECONDS] "
		"[-p PINGS >= 1] [-g GAP_MS]\n", argv[0]);
	return 2;
}
