/* sweep: the Derecho figure for RDMC — delivered bandwidth against group
 * size for 100 MB, 1 MB and 10 KB messages, with all, half or one member
 * sending, beside the ceilings of the same machine measured in the same run
 * (memcpy, and raw one-sided writes of each size).
 *
 * Each member times from the moment the group is connected to its last
 * delivery; "aggregate" is every member's delivered bytes per second added
 * up, which for one sender is the replication bandwidth (delivered x (n-1)).
 * Ordered multicast over RDMC is not there yet (issue 4): this is raw RDMC.
 *
 *   sweep [-n MAX_MEMBERS] [-q] [-o DIR]      (-q: quick, for the demo)
 * Output: a table, DIR/sweep.csv, DIR/sweep.png. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/rdmc.h>

#include "clock.h"
#include "delivery_count.h"
#include "rawlink.h"
#include "report.h"

#define WAIT_MS 600000u

struct size_plan {
	const char *label;
	size_t bytes, block;
	unsigned messages, quick_messages;
};

static const struct size_plan sizes[] = {
	{ "100MB", 100000000, 1u << 20, 4, 2 },
	{ "1MB", 1000000, 1u << 18, 200, 40 },
	{ "10KB", 10240, 16384, 2000, 300 },
};
static const char *const patterns[] = { "all", "half", "one" };

struct run {
	const struct size_plan *size;
	unsigned messages;
	unsigned senders; /* ranks n-senders .. n-1 send */
};

struct counted {
	struct delivery_count messages;
	uint64_t bytes, last_ns; /* engine thread only until the count is awaited */
};

static void on_message(grp_rdmc *r, unsigned sender, uint64_t seq, const void *data, size_t len,
		       void *user)
{
	(void)r;
	(void)sender;
	(void)seq;
	(void)data;
	struct counted *c = user;
	c->bytes += len;
	c->last_ns = clock_now_ns();
	delivery_count_add(&c->messages);
}

static int member(const struct local_member *m, void *arg)
{
	const struct run *run = arg;
	char max[32], block[32];
	snprintf(max, sizeof max, "%zu", run->size->bytes);
	snprintf(block, sizeof block, "%zu", run->size->block);
	grp_config *cfg = local_member_config(m);
	if (!cfg || grp_config_set(cfg, "rdmc.max_payload", max) ||
	    grp_config_set(cfg, "rdmc.block_size", block))
		return 1;
	struct counted c = { .bytes = 0 };
	delivery_count_init(&c.messages);
	grp_rdmc_callbacks cb = { .size = sizeof cb, .on_message = on_message };
	grp_rdmc *r;
	int rc = grp_rdmc_open(cfg, &cb, &c, &r);
	grp_config_free(cfg);
	if (rc)
		return 1;
	uint64_t t0 = clock_now_ns();
	bool sends = m->rank >= m->n - run->senders;
	void *buf = calloc(1, run->size->bytes);
	for (unsigned i = 0; sends && buf && i < run->messages && !rc; i++)
		rc = grp_rdmc_send(r, buf, run->size->bytes);
	unsigned from_others = run->senders - (sends ? 1 : 0);
	if (!rc && buf)
		rc = delivery_count_await(&c.messages, (uint64_t)from_others * run->messages, WAIT_MS);
	if (!rc && buf && from_others)
		local_member_report(m, "%.3f", (double)c.bytes / ((double)(c.last_ns - t0) / 1e9) / 1e6);
	free(buf);
	grp_rdmc_close(r);
	delivery_count_destroy(&c.messages);
	return rc || !buf ? 1 : 0;
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

static const char *plot_script =
	"set terminal pngcairo size 1000,600\n"
	"set output outfile\n"
	"set datafile separator ','\n"
	"set title 'RDMC raw multicast: aggregate delivered bandwidth'\n"
	"set xlabel 'members'\n"
	"set ylabel 'MB/s (all members together)'\n"
	"set logscale y\n"
	"set xtics 1\n"
	"set key outside right\n"
	"plot for [s in '100MB 1MB 10KB'] for [p in 'all half one'] 'sweep.csv' "
	"using (stringcolumn(1) eq s && stringcolumn(2) eq p ? $3 : 1/0):4 "
	"with linespoints title s.' '.p\n";

int main(int argc, char **argv)
{
	unsigned max_members = 6;
	bool quick = false;
	const char *dir = "perf-results";
	int opt;
	while ((opt = getopt(argc, argv, "n:qo:")) != -1) {
		switch (opt) {
		case 'n': max_members = (unsigned)atoi(optarg); break;
		case 'q': quick = true; break;
		case 'o': dir = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n MAX_MEMBERS >= 2] [-q] [-o DIR]\n", argv[0]);
			return 2;
		}
	}
	if (max_members < 2 || max_members > 16) {
		fprintf(stderr, "sweep: -n must be 2..16\n");
		return 2;
	}
	FILE *csv = perf_csv_open(dir, "sweep.csv",
				  "size,senders,members,aggregate_MBps,per_receiver_MBps,raw_write_MBps");
	if (!csv)
		return 1;
	printf("sweep: raw RDMC, members on 127.0.0.1; memcpy ceiling %.0f MB/s\n", memcpy_mbps());
	printf("  %-6s %-5s %7s %14s %14s %12s\n", "size", "send", "members", "aggregate MB/s",
	       "per receiver", "raw write");
	unsigned total = 3 * 3 * (max_members - 1), done = 0;
	int rc = 0;
	for (size_t s = 0; s < 3 && !rc; s++) {
		double raw = 0;
		rc = rawlink_measure(sizes[s].bytes, quick ? 2e8 : 1e9, &raw);
		for (size_t p = 0; p < 3 && !rc; p++) {
			for (unsigned n = 2; n <= max_members && !rc; n++) {
				struct run run = {
					.size = &sizes[s],
					.messages = quick ? sizes[s].quick_messages : sizes[s].messages,
					.senders = p == 0 ? n : p == 1 ? (n + 1) / 2 : 1,
				};
				struct local_group *lg = local_group_start(n, member, &run);
				if (!lg)
					return 1;
				struct rates got = { 0, 0 };
				perf_collect(lg, n, NULL, add_rate, &got, WAIT_MS);
				rc = local_group_finish(lg, 60000, NULL);
				double per = got.members ? got.sum / got.members : 0;
				printf("  %-6s %-5s %7u %14.0f %14.0f %12.0f\n", sizes[s].label, patterns[p],
				       n, got.sum, per, raw);
				fprintf(csv, "%s,%s,%u,%.1f,%.1f,%.1f\n", sizes[s].label, patterns[p], n,
					got.sum, per, raw);
				perf_progress("sweep", ++done, total);
			}
		}
	}
	fclose(csv);
	if (!rc)
		perf_plot(dir, "sweep.png", plot_script);
	return rc ? 1 : 0;
}
