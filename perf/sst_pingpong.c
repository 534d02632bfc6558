/* sst_pingpong: what the SST adds on top of raw writes.
 *
 * Round trip: first over raw one-sided writes (perf/rawlink), then two members bounce a counter through SST pushes, each bounce
 * made by a predicate trigger on the engine thread (the way ordered
 * multicast uses the table), timed at rank 0: median and p99.
 * Push rate: 2..5 members each push an 8-byte cell to all others as fast as
 * they can for a fixed time; pushes/s per member and in total.
 *
 *   sst_pingpong [-o DIR] [-n ITERS] [-t SECONDS] [-m MAX_MEMBERS]
 * Output: a table, DIR/sst_pingpong.csv and DIR/sst_push_rate.png. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/sst.h>

#include "clock.h"
#include "localgroup.h"
#include "rawlink.h"
#include "report.h"

#define WAIT_MS 120000u

struct options {
	unsigned iters;
	double seconds;
	unsigned max_members;
};

struct bench {
	grp_sst *sst;
	size_t cell, done;
	unsigned total;
	uint64_t sent_at;
	double *rtt_us;
};

static int open_bench(const struct local_member *m, struct bench *b)
{
	grp_sst_layout layout = { 0 };
	b->cell = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	b->done = grp_sst_layout_add(&layout, sizeof(uint64_t), 1);
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return 1;
	int rc = grp_sst_open(cfg, &layout, NULL, NULL, &b->sst);
	grp_config_free(cfg);
	if (rc)
		fprintf(stderr, "member %u: %s\n", m->rank, grp_strerror(rc));
	return rc ? 1 : 0;
}

/* Sets our cell of `column` and waits until every member has done so. */
static int barrier(struct bench *b, size_t column, uint64_t value)
{
	return grp_sst_barrier(b->sst, column, value, WAIT_MS) ? 1 : 0;
}

static void close_bench(struct bench *b)
{
	barrier(b, b->done, UINT64_MAX);
	grp_sst_close(b->sst);
}

static uint64_t mine(const struct bench *b) { return grp_sst_load_u64(b->sst, grp_sst_rank(b->sst), b->cell); }
static uint64_t theirs(const struct bench *b) { return grp_sst_load_u64(b->sst, 1 - grp_sst_rank(b->sst), b->cell); }

static void send_cell(struct bench *b, uint64_t value)
{
	grp_sst_store_u64(b->sst, b->cell, value);
	grp_sst_push(b->sst, b->cell, sizeof(uint64_t));
}

static bool pong_arrived(const grp_sst *sst, void *arg)
{
	(void)sst;
	const struct bench *b = arg;
	uint64_t m = mine(b);
	/* Before the first ping both cells are 0: nothing has come back yet. */
	return m >= 1 && m <= b->total && theirs(b) == m;
}

static void ping_next(grp_sst *sst, void *arg)
{
	(void)sst;
	struct bench *b = arg;
	uint64_t m = mine(b);
	uint64_t now = clock_now_ns();
	b->rtt_us[m - 1] = (double)(now - b->sent_at) / 1000.0;
	b->sent_at = now;
	send_cell(b, m + 1);
}

static bool ping_arrived(const grp_sst *sst, void *arg)
{
	(void)sst;
	const struct bench *b = arg;
	return theirs(b) > mine(b);
}

static void pong(grp_sst *sst, void *arg)
{
	(void)sst;
	struct bench *b = arg;
	send_cell(b, theirs(b));
}

static bool finished(const grp_sst *sst, void *arg)
{
	(void)sst;
	const struct bench *b = arg;
	return mine(b) > b->total || (grp_sst_rank(b->sst) == 1 && theirs(b) > b->total);
}

static int pingpong_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct bench b = { .total = o->iters };
	if (open_bench(m, &b))
		return 1;
	b.rtt_us = calloc(o->iters + 1, sizeof *b.rtt_us);
	bool leader = m->rank == 0;
	int rc = grp_sst_predicate_add(b.sst, leader ? pong_arrived : ping_arrived,
				       leader ? ping_next : pong, &b, GRP_SST_RECURRENT, NULL);
	if (!rc && leader) {
		b.sent_at = clock_now_ns();
		send_cell(&b, 1);
	}
	if (!rc)
		rc = grp_sst_wait(b.sst, finished, &b, WAIT_MS);
	if (!rc && leader) {
		/* The first tenth warms up connections and caches. */
		unsigned skip = o->iters / 10;
		double *v = b.rtt_us + skip;
		size_t n = o->iters - skip;
		local_member_report(m, "rtt,2,%.2f,%.2f", perf_percentile(v, n, 50),
				    perf_percentile(v, n, 99));
	}
	close_bench(&b);
	free(b.rtt_us);
	return rc ? 1 : 0;
}

/* The same bounce over raw writes, each side polling its own memory. */
static int raw_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct rawlink l;
	if (rawlink_open(m, 0, &l))
		return 1;
	double median, p99;
	int rc = rawlink_pingpong(&l, o->iters, &median, &p99);
	if (!rc && m->rank == 0)
		local_member_report(m, "raw_rtt,2,%.2f,%.2f", median, p99);
	return rawlink_close(&l) || rc ? 1 : 0;
}

static int push_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct bench b = { 0 };
	if (open_bench(m, &b) || barrier(&b, b.done, 1))
		return 1;
	uint64_t start = clock_now_ns();
	uint64_t end = start + (uint64_t)(o->seconds * 1e9);
	uint64_t pushes = 0, now = start;
	int rc = 0;
	while (now < end && !rc) {
		for (unsigned i = 0; i < 64 && !rc; i++) {
			grp_sst_store_u64(b.sst, b.cell, ++pushes);
			rc = grp_sst_push(b.sst, b.cell, sizeof(uint64_t));
		}
		now = clock_now_ns();
	}
	double rate = (double)pushes / ((double)(now - start) / 1e9);
	/* Every member must see every other member's last value. */
	if (!rc)
		rc = barrier(&b, b.done, 2);
	local_member_report(m, "push,%u,%.0f,%llu", m->n, rate, (unsigned long long)pushes);
	close_bench(&b);
	return rc ? 1 : 0;
}

/* What the members of one run reported: round trips are printed (raw first,
 * then SST with its ratio to raw), push rates summed. */
struct tally {
	double raw_median;
	double push_sum;
};

static void show(const char *line, void *arg)
{
	struct tally *t = arg;
	char kind[16];
	unsigned members;
	double a, b;
	if (sscanf(line, "%15[^,],%u,%lf,%lf", kind, &members, &a, &b) != 4)
		return;
	if (strcmp(kind, "raw_rtt") == 0) {
		t->raw_median = a;
		printf("  raw write ping-pong         RTT median %8.2f us   p99 %8.2f us\n", a, b);
	} else if (strcmp(kind, "rtt") == 0) {
		printf("  SST ping-pong (2 members)   RTT median %8.2f us   p99 %8.2f us   (%.2fx raw)\n",
		       a, b, t->raw_median > 0 ? a / t->raw_median : 0);
	} else {
		t->push_sum += a;
	}
}

static int run(unsigned n, local_member_fn fn, struct options *o, FILE *csv, struct tally *t)
{
	struct local_group *lg = local_group_start(n, fn, o);
	if (!lg)
		return 1;
	t->push_sum = 0;
	perf_collect(lg, n, csv, show, t, WAIT_MS);
	return local_group_finish(lg, 30000, NULL) ? 1 : 0;
}

static const char *plot_script =
	"set terminal pngcairo size 800,500\n"
	"set output outfile\n"
	"set datafile separator ','\n"
	"set title 'SST pushes per second (8-byte cell to every other member)'\n"
	"set xlabel 'members'\n"
	"set ylabel 'pushes/s'\n"
	"set key left top\n"
	"plot 'sst_push_rate.csv' using 1:2 with linespoints title 'per member', "
	"'' using 1:3 with linespoints title 'all members'\n";

int main(int argc, char **argv)
{
	struct options o = { .iters = 20000, .seconds = 2.0, .max_members = 5 };
	const char *dir = "perf-results";
	int opt;
	while ((opt = getopt(argc, argv, "o:n:t:m:")) != -1) {
		switch (opt) {
		case 'o': dir = optarg; break;
		case 'n': o.iters = (unsigned)atoi(optarg); break;
		case 't': o.seconds = atof(optarg); break;
		case 'm': o.max_members = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-o DIR] [-n ITERS] [-t SECONDS] [-m MAX]\n", argv[0]);
			return 2;
		}
	}
	if (o.iters < 10 || o.max_members < 2) {
		fprintf(stderr, "sst_pingpong: need -n >= 10 and -m >= 2\n");
		return 2;
	}
	FILE *raw = perf_csv_open(dir, "sst_pingpong.csv", "kind,members,value1,value2");
	FILE *rate = perf_csv_open(dir, "sst_push_rate.csv", "members,per_member,total");
	if (!raw || !rate)
		return 1;
	printf("sst_pingpong: SST over one-sided writes, members on 127.0.0.1\n");
	struct tally t = { 0 };
	int rc = run(2, raw_member, &o, raw, &t);
	if (!rc)
		rc = run(2, pingpong_member, &o, raw, &t);
	for (unsigned n = 2; n <= o.max_members && !rc; n++) {
		rc = run(n, push_member, &o, raw, &t);
		double total = t.push_sum;
		if (!rc) {
			printf("  push rate, %u members        %10.0f pushes/s per member   %10.0f in total\n",
			       n, total / n, total);
			fprintf(rate, "%u,%.0f,%.0f\n", n, total / n, total);
		}
		perf_progress("push rate", n - 1, o.max_members - 1);
	}
	fclose(raw);
	fclose(rate);
	if (!rc)
		perf_plot(dir, "sst_push_rate.png", plot_script);
	return rc;
}
