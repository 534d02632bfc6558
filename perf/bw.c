/* bw: ordered-multicast throughput at every member.
 *
 * N members on 127.0.0.1; all, half or one of them send M messages of S
 * bytes as fast as the window allows. Each member times its deliveries from
 * the first to the last and reports messages/s and MB/s. The raw one-sided
 * write bandwidth for the same message size (perf/rawlink) is measured in
 * the same run, first, and every figure is also given as a fraction of it.
 *
 *   bw [-n MEMBERS] [-s BYTES] [-p all|half|one] [-m MESSAGES_PER_SENDER] [-o DIR]
 * Output: a table, progress lines on stderr, rows appended to DIR/bw.csv. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <group/group.h>

#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "rawlink.h"
#include "report.h"

#define WAIT_S 600

struct options {
	unsigned members;
	size_t size;
	const char *pattern;
	unsigned messages;
};

/* The times are written by the deliver callback only, and read once every
 * delivery is in. */
struct counter {
	struct delivery_count delivered;
	uint64_t expected;
	uint64_t first_ns, last_ns;
};

static unsigned sender_count(const struct options *o)
{
	if (strcmp(o->pattern, "one") == 0)
		return 1;
	return strcmp(o->pattern, "half") == 0 ? (o->members + 1) / 2 : o->members;
}

/* "one" is the last member, so that every lower rank fills with nulls;
 * otherwise the first ones send. */
static unsigned first_sender(const struct options *o)
{
	return strcmp(o->pattern, "one") == 0 ? o->members - 1 : 0;
}

static bool is_sender(const struct options *o, unsigned rank)
{
	return rank >= first_sender(o) && rank < first_sender(o) + sender_count(o);
}

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	(void)m;
	struct counter *c = user;
	uint64_t now = clock_now_ns();
	if (c->first_ns == 0)
		c->first_ns = now;
	c->last_ns = now;
	delivery_count_add(&c->delivered);
}

/* Waits for every delivery; rank 0 reports progress once a second. */
static int await_deliveries(const struct local_member *m, struct counter *c)
{
	uint64_t deadline = clock_deadline_ms(WAIT_S * 1000u);
	while (delivery_count_await(&c->delivered, c->expected, 1000) != 0) {
		if (clock_ms_left(deadline) == 0)
			return 1;
		if (m->rank == 0)
			local_member_report(m, "progress,%llu,%llu",
					    (unsigned long long)delivery_count_get(&c->delivered),
					    (unsigned long long)c->expected);
	}
	return 0;
}

static int multicast_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct counter c = { .expected = (uint64_t)sender_count(o) * o->messages };
	delivery_count_init(&c.delivered);
	char senders[256], size[32];
	perf_rank_range(first_sender(o), sender_count(o), senders, sizeof senders);
	snprintf(size, sizeof size, "%zu", o->size);
	const char *settings[] = { "multicast.max_smc_payload", size, NULL };
	grp_t *g = perf_join(m, senders, settings, on_deliver, &c);
	if (!g)
		return 1;
	int rc = 0;
	void *payload = calloc(1, o->size ? o->size : 1);
	for (unsigned i = 0; is_sender(o, m->rank) && i < o->messages && !rc; i++)
		rc = grp_send(g, payload, o->size);
	free(payload);
	if (!rc)
		rc = await_deliveries(m, &c);
	if (!rc) {
		double secs = (double)(c.last_ns - c.first_ns) / 1e9;
		double rate = secs > 0 ? (double)(c.expected - 1) / secs : 0;
		local_member_report(m, "member,%u,%.0f,%.2f", m->rank, rate,
				    rate * (double)o->size / 1e6);
	}
	grp_leave(g);
	grp_free(g);
	delivery_count_destroy(&c.delivered);
	return rc ? 1 : 0;
}

struct shown {
	const struct options *o;
	FILE *csv;
	double raw_mbps;
};

/* Progress goes to stderr; each member's result to stdout and the CSV. */
static void show(const char *line, void *arg)
{
	const struct shown *s = arg;
	unsigned long long done, total;
	unsigned rank;
	double rate, mbps;
	if (sscanf(line, "progress,%llu,%llu", &done, &total) == 2) {
		fprintf(stderr, "[bw %llu/%llu delivered at member 0]\n", done, total);
	} else if (sscanf(line, "member,%u,%lf,%lf", &rank, &rate, &mbps) == 3) {
		printf("  member %u: %10.0f msgs/s %9.1f MB/s  (%.1f%% of raw)\n", rank, rate, mbps,
		       100 * mbps / s->raw_mbps);
		fprintf(s->csv, "%u,%zu,%s,%u,%.0f,%.2f,%.0f,%.4f\n", s->o->members, s->o->size,
			s->o->pattern, rank, rate, mbps, s->raw_mbps, mbps / s->raw_mbps);
	}
}

int main(int argc, char **argv)
{
	struct options o = { .members = 3, .size = 10240, .pattern = "all", .messages = 20000 };
	const char *dir = "perf-results";
	int opt;
	while ((opt = getopt(argc, argv, "n:s:p:m:o:")) != -1) {
		switch (opt) {
		case 'n': o.members = (unsigned)atoi(optarg); break;
		case 's': o.size = (size_t)atol(optarg); break;
		case 'p': o.pattern = optarg; break;
		case 'm': o.messages = (unsigned)atoi(optarg); break;
		case 'o': dir = optarg; break;
		default: goto usage;
		}
	}
	/* Bandwidth needs bytes: 0-byte messages have no raw-write ceiling. */
	if (o.members < 1 || o.members > 64 || o.messages < 2 || o.size == 0 ||
	    (strcmp(o.pattern, "all") && strcmp(o.pattern, "half") && strcmp(o.pattern, "one")))
		goto usage;
	double raw_mbps;
	if (rawlink_measure(o.size, 5e8, &raw_mbps)) {
		fprintf(stderr, "bw: the raw write measurement failed\n");
		return 1;
	}
	char csv_name[] = "bw.csv";
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, csv_name);
	bool fresh = access(path, F_OK) != 0;
	FILE *csv = fresh ? perf_csv_open(dir, csv_name,
					  "members,bytes,senders,member,msgs_per_s,MB_per_s,raw_MB_per_s,fraction_of_raw")
			  : fopen(path, "a");
	if (!csv)
		return 1;
	printf("bw: %u members, %s sending, %u messages of %zu B each; raw writes of %zu B: %.0f MB/s\n",
	       o.members, o.pattern, o.messages, o.size, o.size, raw_mbps);
	struct local_group *lg = local_group_start(o.members, multicast_member, &o);
	if (!lg)
		return 1;
	struct shown shown = { &o, csv, raw_mbps };
	perf_collect(lg, o.members, NULL, show, &shown, WAIT_S * 1000u);
	fclose(csv);
	return local_group_finish(lg, 60000, NULL) ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-n MEMBERS] [-s BYTES] [-p all|half|one] [-m MESSAGES] [-o DIR]\n",
		argv[0]);
	return 2;
}
