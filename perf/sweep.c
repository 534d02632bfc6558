/* sweep: the Derecho figure — delivered bandwidth against group size for
 * 100 MB, 1 MB and 10 KB messages, with all, half or one member sending,
 * by raw RDMC (group/rdmc.h) and by ordered multicast (group/group.h: RDMC
 * for the two large sizes, the send window's slots for 10 KB), beside the
 * ceilings of the same machine measured in the same run (memcpy, and raw
 * one-sided writes of each size).
 *
 * Each sender first sends one untimed message per RDMC buffer it has (raw:
 * one, ordered: two), so that the first touch of every receive buffer —
 * page faults worth ~10 % of a 100 MB transfer here — stays out of the
 * figure, and waits until those are delivered. Every timed message then
 * carries its sender's clock at its first timed send; each member times
 * from the earliest such start it sees to its last delivery (all members
 * share one clock on one host). Only messages from other members count, in
 * both modes; "aggregate" adds up every member's delivered bytes per
 * second, which for one sender is the replication bandwidth (delivered x
 * (n-1)).
 *
 *   sweep [-n MAX_MEMBERS] [-q] [-s SIZE] [-p PATTERN] [-m MESSAGES] [-r REPS] [-o DIR]
 * -q: quick, for the demo (fewer messages, one repetition); -s
 * 100MB|1MB|10KB and -p all|half|one run only that size or pattern; -m sets
 * the messages per sender; every figure is the median of -r runs (3), raw
 * and ordered taking turns.
 * Output: a table with ordered / raw per row, DIR/sweep.csv, DIR/sweep.png. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/group.h>
#include <group/rdmc.h>

#include "clock.h"
#include "delivery_count.h"
#include "rawlink.h"
#include "report.h"

#define WAIT_MS 600000u
#define MAX_REPS 15u

struct size_plan {
	const char *label;
	size_t bytes, block;
	unsigned messages, quick_messages;
};

static const struct size_plan sizes[] = {
	{ "100MB", 100000000, 1u << 20, 10, 2 },
	{ "1MB", 1000000, 1u << 18, 1000, 40 },
	{ "10KB", 10240, 16384, 5000, 300 },
};
static const char *const patterns[] = { "all", "half", "one" };
enum mode { RAW, ORDERED };
static const char *const mode_names[] = { "raw", "ordered" };

struct run {
	const struct size_plan *size;
	enum mode mode;
	unsigned messages;
	unsigned senders; /* ranks n-senders .. n-1 send */
};

/* Written by the delivering thread only until the counts are awaited. */
struct counted {
	struct delivery_count from_others, own;
	unsigned me;
	uint64_t bytes, start_ns, last_ns; /* timed messages from others */
};

/* A warm-up message carries 0 where a timed one has its sender's start. */
static void count(struct counted *c, unsigned sender, const void *data, size_t len)
{
	if (sender == c->me) {
		delivery_count_add(&c->own);
		return;
	}
	uint64_t started;
	memcpy(&started, data, sizeof started);
	if (started) {
		c->start_ns = started < c->start_ns ? started : c->start_ns;
		c->bytes += len;
		c->last_ns = clock_now_ns();
	}
	delivery_count_add(&c->from_others);
}

static void on_message(grp_rdmc *r, unsigned sender, uint64_t seq, const void *data, size_t len,
		       void *user)
{
	(void)r;
	(void)seq;
	count(user, sender, data, len);
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	count(user, msg->sender, msg->data, msg->len);
}

/* A member's sending side, whichever the mode. */
struct endpoint {
	grp_rdmc *raw;
	grp_t *ordered;
};

static int open_endpoint(const struct local_member *m, const struct run *run, struct counted *c,
			 struct endpoint *e)
{
	char max[32], block[32], senders[128];
	snprintf(max, sizeof max, "%zu", run->size->bytes);
	snprintf(block, sizeof block, "%zu", run->size->block);
	perf_rank_range(m->n - run->senders, run->senders, senders, sizeof senders);
	if (run->mode == ORDERED) {
		const char *settings[] = { "rdmc.max_payload", max, "rdmc.block_size", block, NULL };
		e->ordered = perf_join(m, senders, settings, on_deliver, c);
		return e->ordered ? 0 : 1;
	}
	grp_config *cfg = local_member_config(m);
	if (!cfg || grp_config_set(cfg, "rdmc.max_payload", max) ||
	    grp_config_set(cfg, "rdmc.block_size", block)) {
		grp_config_free(cfg);
		return 1;
	}
	grp_rdmc_callbacks cb = { .size = sizeof cb, .on_message = on_message };
	int rc = grp_rdmc_open(cfg, &cb, c, &e->raw);
	grp_config_free(cfg);
	if (rc)
		fprintf(stderr, "member %u: grp_rdmc_open: %s\n", m->rank, grp_strerror(rc));
	return rc ? 1 : 0;
}

static int send_one(struct endpoint *e, const void *buf, size_t len)
{
	return e->ordered ? grp_send(e->ordered, buf, len) : grp_rdmc_send(e->raw, buf, len);
}

static void close_endpoint(struct endpoint *e)
{
	if (e->ordered) {
		grp_leave(e->ordered);
		grp_free(e->ordered);
	}
	grp_rdmc_close(e->raw);
}

/* Sends `count` messages stamped with `started` (0: warm-up). */
static int send_stamped(struct endpoint *e, uint8_t *buf, size_t len, unsigned count,
			uint64_t started)
{
	memcpy(buf, &started, sizeof started);
	int rc = 0;
	for (unsigned i = 0; i < count && !rc; i++)
		rc = send_one(e, buf, len);
	return rc;
}

static int member(const struct local_member *m, void *arg)
{
	const struct run *run = arg;
	struct counted c = { .me = m->rank, .start_ns = UINT64_MAX };
	delivery_count_init(&c.from_others);
	delivery_count_init(&c.own);
	struct endpoint e = { NULL, NULL };
	int rc = open_endpoint(m, run, &c, &e);
	bool sends = m->rank >= m->n - run->senders;
	unsigned from_others = run->senders - (sends ? 1 : 0);
	unsigned warmup = run->mode == ORDERED ? 2 : 1;
	uint8_t *buf = calloc(1, run->size->bytes);
	if (!buf)
		rc = 1;
	if (!rc && sends)
		rc = send_stamped(&e, buf, run->size->bytes, warmup, 0);
	if (!rc && sends && run->mode == ORDERED)
		rc = delivery_count_await(&c.own, warmup, WAIT_MS);
	if (!rc)
		rc = delivery_count_await(&c.from_others, (uint64_t)from_others * warmup, WAIT_MS);
	if (!rc && sends)
		rc = send_stamped(&e, buf, run->size->bytes, run->messages, clock_now_ns());
	if (!rc && delivery_count_await(&c.from_others,
					(uint64_t)from_others * (warmup + run->messages), WAIT_MS)) {
		fprintf(stderr, "member %u (%s): %llu of %llu messages from the others\n", m->rank,
			mode_names[run->mode],
			(unsigned long long)delivery_count_get(&c.from_others),
			(unsigned long long)from_others * (warmup + run->messages));
		rc = GRP_ETIMEDOUT;
	}
	if (rc)
		fprintf(stderr, "member %u (%s): %s\n", m->rank, mode_names[run->mode],
			rc > 0 ? "cannot start" : grp_strerror(rc));
	if (!rc && from_others)
		local_member_report(m, "%.3f",
				    (double)c.bytes / ((double)(c.last_ns - c.start_ns) / 1e9) / 1e6);
	free(buf);
	close_endpoint(&e);
	delivery_count_destroy(&c.from_others);
	delivery_count_destroy(&c.own);
	return rc ? 1 : 0;
}

struct rates {
	double sum;
	unsigned members;
};

static void add_rate(const char *line, void *arg)
{
	struct rates *r = arg;
	r->sum += atof(line);
	r->members++;
}

static double memcpy_mbps(void)
{
	size_t bytes = 100000000;
	char *a = malloc(bytes), *b = malloc(bytes);
	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	memset(a, 1, bytes);
	memset(b, 2, bytes);
	uint64_t t0 = clock_now_ns();
	for (int i = 0; i < 5; i++)
		memcpy(i % 2 ? a : b, i % 2 ? b : a, bytes);
	double secs = (double)(clock_now_ns() - t0) / 1e9;
	double mbps = 5.0 * (double)bytes / secs / 1e6 + (a[bytes / 2] != b[bytes / 3]);
	free(a);
	free(b);
	return mbps;
}

/* One panel per size; a colour per sender pattern, raw solid, ordered
 * dashed, the raw-write ceiling of one link dotted. The variable `sizes`
 * names the panels. Rows of other series are NaN, which gnuplot takes for
 * missing (1/0 would break the lines). gnuplot reads the script from a
 * pipe, where a block must be on one line. */
static const char *plot_script =
	"set terminal pngcairo size 1500,520\n"
	"set output outfile\n"
	"set datafile separator ','\n"
	"set datafile missing NaN\n"
	"set multiplot layout 1,words(sizes) title 'Aggregate delivered MB/s (all receivers together), "
	"members on one host: raw RDMC (solid) and ordered multicast (dashed)'\n"
	"set xlabel 'members'\n"
	"set ylabel 'MB/s'\n"
	"set xtics 1\n"
	"set yrange [0:*]\n"
	"set key bottom right font ',8'\n"
	"pats = 'all half one'\n"
	"do for [s in sizes] { "
	"set title s.(s eq '10KB' ? ' (ordered: send-window slots)' : ' (ordered: RDMC)'); "
	"plot for [i=1:3] 'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq "
	"word(pats,i) && stringcolumn(4) eq 'raw' ? $3 : NaN):5 with linespoints lc i dt 1 "
	"title word(pats,i).' raw', "
	"for [i=1:3] 'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq "
	"word(pats,i) && stringcolumn(4) eq 'ordered' ? $3 : NaN):5 with linespoints lc i dt 2 "
	"pt 6 title word(pats,i).' ordered', "
	"'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq 'one' && "
	"stringcolumn(4) eq 'raw' ? $3 : NaN):7 with lines lc 'black' dt 3 "
	"title 'raw write, one link' }\n"
	"unset multiplot\n";

/* Runs one group and returns its aggregate MB/s, or a negative value. */
static double measure(unsigned n, const struct run *run)
{
	struct local_group *lg = local_group_start(n, member, (void *)run);
	if (!lg)
		return -1;
	struct rates got = { 0, 0 };
	perf_collect(lg, n, NULL, add_rate, &got, WAIT_MS);
	int status[16];
	local_group_finish(lg, 60000, status);
	double result = got.sum;
	for (unsigned i = 0; i < n; i++) {
		if (status[i] != 0) {
			fprintf(stderr, "sweep: %s, %u members: member %u exited with status %d\n",
				mode_names[run->mode], n, i, status[i]);
			result = -1;
		}
	}
	return result;
}

/* The median aggregate of each mode over `reps` runs, the modes taking
 * turns so that a slow spell of the machine hits both. */
static int measure_point(unsigned n, struct run *run, unsigned reps, double median[2])
{
	double got[2][MAX_REPS];
	for (unsigned r = 0; r < reps; r++) {
		for (enum mode mode = RAW; mode <= ORDERED; mode++) {
			run->mode = mode;
			got[mode][r] = measure(n, run);
			if (got[mode][r] < 0)
				return -1;
		}
	}
	for (enum mode mode = RAW; mode <= ORDERED; mode++)
		median[mode] = perf_percentile(got[mode], reps, 50);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned max_members = 6, messages = 0, reps = 3;
	bool quick = false;
	const char *dir = "perf-results", *only_size = NULL, *only_pattern = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:qs:p:m:r:o:")) != -1) {
		switch (opt) {
		case 'n': max_members = (unsigned)atoi(optarg); break;
		case 'q': quick = true; break;
		case 's': only_size = optarg; break;
		case 'p': only_pattern = optarg; break;
		case 'm': messages = (unsigned)atoi(optarg); break;
		case 'r': reps = (unsigned)atoi(optarg); break;
		case 'o': dir = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n MAX_MEMBERS >= 2] [-q] [-s 100MB|1MB|10KB] "
				"[-p all|half|one] [-m MESSAGES >= 1] [-r REPETITIONS 1..%u] [-o DIR]\n",
				argv[0], MAX_REPS);
			return 2;
		}
	}
	if (max_members < 2 || max_members > 16 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "sweep: -n must be 2..16, -r 1..%u\n", MAX_REPS);
		return 2;
	}
	if (quick)
		reps = 1;
	bool size_known = !only_size, pattern_known = !only_pattern;
	for (size_t i = 0; i < 3; i++) {
		size_known |= only_size && strcmp(only_size, sizes[i].label) == 0;
		pattern_known |= only_pattern && strcmp(only_pattern, patterns[i]) == 0;
	}
	if (!size_known || !pattern_known || (optind < argc)) {
		fprintf(stderr, "sweep: -s takes 100MB, 1MB or 10KB; -p all, half or one\n");
		return 2;
	}
	FILE *csv = perf_csv_open(dir, "sweep.csv",
				  "size,senders,members,mode,aggregate_MBps,per_receiver_MBps,"
				  "raw_write_MBps");
	if (!csv)
		return 1;
	printf("sweep: members on 127.0.0.1; aggregate delivered MB/s; memcpy ceiling %.0f MB/s\n",
	       memcpy_mbps());
	printf("  %-6s %-5s %7s %12s %12s %8s %12s\n", "size", "send", "members", "raw RDMC",
	       "ordered", "ord/raw", "raw write");
	unsigned total = (only_size ? 1 : 3) * (only_pattern ? 1 : 3) * (max_members - 1), done = 0;
	int rc = 0;
	for (size_t s = 0; s < 3 && !rc; s++) {
		if (only_size && strcmp(only_size, sizes[s].label) != 0)
			continue;
		double ceiling = 0;
		rc = rawlink_measure(sizes[s].bytes, quick ? 2e8 : 1e9, &ceiling);
		for (size_t p = 0; p < 3 && !rc; p++) {
			if (only_pattern && strcmp(only_pattern, patterns[p]) != 0)
				continue;
			for (unsigned n = 2; n <= max_members && !rc; n++) {
				double aggregate[2];
				struct run run = {
					.size = &sizes[s],
					.messages = messages       ? messages
						    : quick ? sizes[s].quick_messages
							    : sizes[s].messages,
					.senders = p == 0 ? n : p == 1 ? (n + 1) / 2 : 1,
				};
				unsigned receivers = run.senders == 1 ? n - 1 : n;
				if (measure_point(n, &run, reps, aggregate) != 0) {
					fprintf(stderr, "sweep: %s %s %u members failed\n",
						sizes[s].label, patterns[p], n);
					rc = 1;
					break;
				}
				for (enum mode mode = RAW; mode <= ORDERED; mode++)
					fprintf(csv, "%s,%s,%u,%s,%.1f,%.1f,%.1f\n", sizes[s].label,
						patterns[p], n, mode_names[mode], aggregate[mode],
						aggregate[mode] / receivers, ceiling);
				printf("  %-6s %-5s %7u %12.0f %12.0f %8.2f %12.0f\n", sizes[s].label,
				       patterns[p], n, aggregate[RAW], aggregate[ORDERED],
				       aggregate[ORDERED] / aggregate[RAW], ceiling);
				fflush(stdout);
				perf_progress("sweep", ++done, total);
			}
		}
	}
	fclose(csv);
	if (!rc) {
		char script[4096];
		snprintf(script, sizeof script, "sizes = '%s'\n%s",
			 only_size ? only_size : "100MB 1MB 10KB", plot_script);
		perf_plot(dir, "sweep.png", script);
	}
	return rc ? 1 : 0;
}
