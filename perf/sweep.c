/* sweep: the Derecho figure — delivered bandwidth against group size for
 * 100 MB, 1 MB and 10 KB messages, with all, half or one member sending,
 * by raw RDMC (group/rdmc.h) and by ordered multicast (group/group.h: RDMC
 * for the two large sizes, the send window's slots for 10 KB), beside the
 * ceilings of the same machine measured in the same run (memcpy, and raw
 * one-sided writes of each size).
 *
 * Every message carries its sender's clock at its first send; each member
 * times from the earliest such start it sees to its last delivery (all
 * members share one clock on one host). Only messages from other members
 * count, in both modes; "aggregate" adds up every member's delivered bytes
 * per second, which for one sender is the replication bandwidth (delivered
 * x (n-1)).
 *
 *   sweep [-n MAX_MEMBERS] [-q] [-o DIR]      (-q: quick, for the demo)
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
enum mode { RAW, ORDERED };
static const char *const mode_names[] = { "raw", "ordered" };

struct run {
	const struct size_plan *size;
	enum mode mode;
	unsigned messages;
	unsigned senders; /* ranks n-senders .. n-1 send */
};

/* Written by the delivering thread only until the count is awaited. */
struct counted {
	struct delivery_count messages;
	unsigned me;
	uint64_t bytes, start_ns, last_ns;
};

static void count(struct counted *c, unsigned sender, const void *data, size_t len)
{
	if (sender == c->me)
		return;
	uint64_t started;
	memcpy(&started, data, sizeof started);
	if (started < c->start_ns)
		c->start_ns = started;
	c->bytes += len;
	c->last_ns = clock_now_ns();
	delivery_count_add(&c->messages);
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
	size_t off = 0;
	for (unsigned r = m->n - run->senders; r < m->n; r++)
		off += (size_t)snprintf(senders + off, sizeof senders - off, "%s%u", off ? "," : "", r);
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

static int member(const struct local_member *m, void *arg)
{
	const struct run *run = arg;
	struct counted c = { .me = m->rank, .start_ns = UINT64_MAX };
	delivery_count_init(&c.messages);
	struct endpoint e = { NULL, NULL };
	int rc = open_endpoint(m, run, &c, &e);
	bool sends = m->rank >= m->n - run->senders;
	uint8_t *buf = calloc(1, run->size->bytes);
	if (!buf)
		rc = 1;
	uint64_t started = clock_now_ns();
	if (buf)
		memcpy(buf, &started, sizeof started);
	for (unsigned i = 0; sends && !rc && i < run->messages; i++)
		rc = send_one(&e, buf, run->size->bytes);
	unsigned from_others = run->senders - (sends ? 1 : 0);
	if (!rc)
		rc = delivery_count_await(&c.messages, (uint64_t)from_others * run->messages, WAIT_MS);
	if (!rc && from_others)
		local_member_report(m, "%.3f",
				    (double)c.bytes / ((double)(c.last_ns - c.start_ns) / 1e9) / 1e6);
	free(buf);
	close_endpoint(&e);
	delivery_count_destroy(&c.messages);
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
 * dashed, the raw-write ceiling of one link dotted. */
static const char *plot_script =
	"set terminal pngcairo size 1500,520\n"
	"set output outfile\n"
	"set datafile separator ','\n"
	"set multiplot layout 1,3 title 'Aggregate delivered MB/s (all receivers together), "
	"members on one host: raw RDMC (solid) and ordered multicast (dashed)'\n"
	"set xlabel 'members'\n"
	"set ylabel 'MB/s'\n"
	"set xtics 1\n"
	"set yrange [0:*]\n"
	"set key bottom right font ',8'\n"
	"pats = 'all half one'\n"
	"do for [s in '100MB 1MB 10KB'] {\n"
	"  set title s.(s eq '10KB' ? ' (ordered: send-window slots)' : ' (ordered: RDMC)')\n"
	"  plot for [i=1:3] 'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq "
	"word(pats,i) && stringcolumn(4) eq 'raw' ? $3 : 1/0):5 with linespoints lc i dt 1 "
	"title word(pats,i).' raw', \\\n"
	"       for [i=1:3] 'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq "
	"word(pats,i) && stringcolumn(4) eq 'ordered' ? $3 : 1/0):5 with linespoints lc i dt 2 "
	"pt 6 title word(pats,i).' ordered', \\\n"
	"       'sweep.csv' using (stringcolumn(1) eq s && stringcolumn(2) eq 'one' && "
	"stringcolumn(4) eq 'raw' ? $3 : 1/0):7 with lines lc 'black' dt 3 "
	"title 'raw write, one link'\n"
	"}\n"
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
	for (unsigned i = 0; i < n; i++)
		if (status[i] != 0)
			return -1;
	return got.sum;
}

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
				  "size,senders,members,mode,aggregate_MBps,per_receiver_MBps,"
				  "raw_write_MBps");
	if (!csv)
		return 1;
	printf("sweep: members on 127.0.0.1; aggregate delivered MB/s; memcpy ceiling %.0f MB/s\n",
	       memcpy_mbps());
	printf("  %-6s %-5s %7s %12s %12s %8s %12s\n", "size", "send", "members", "raw RDMC",
	       "ordered", "ord/raw", "raw write");
	unsigned total = 3 * 3 * (max_members - 1), done = 0;
	int rc = 0;
	for (size_t s = 0; s < 3 && !rc; s++) {
		double ceiling = 0;
		rc = rawlink_measure(sizes[s].bytes, quick ? 2e8 : 1e9, &ceiling);
		for (size_t p = 0; p < 3 && !rc; p++) {
			for (unsigned n = 2; n <= max_members && !rc; n++) {
				double aggregate[2];
				struct run run = {
					.size = &sizes[s],
					.messages = quick ? sizes[s].quick_messages : sizes[s].messages,
					.senders = p == 0 ? n : p == 1 ? (n + 1) / 2 : 1,
				};
				unsigned receivers = run.senders == 1 ? n - 1 : n;
				for (enum mode mode = RAW; mode <= ORDERED && !rc; mode++) {
					run.mode = mode;
					aggregate[mode] = measure(n, &run);
					if (aggregate[mode] < 0) {
						fprintf(stderr, "sweep: %s %s %u members %s failed\n",
							sizes[s].label, patterns[p], n, mode_names[mode]);
						rc = 1;
						break;
					}
					fprintf(csv, "%s,%s,%u,%s,%.1f,%.1f,%.1f\n", sizes[s].label,
						patterns[p], n, mode_names[mode], aggregate[mode],
						aggregate[mode] / receivers, ceiling);
				}
				if (rc)
					break;
				printf("  %-6s %-5s %7u %12.0f %12.0f %8.2f %12.0f\n", sizes[s].label,
				       patterns[p], n, aggregate[RAW], aggregate[ORDERED],
				       aggregate[ORDERED] / aggregate[RAW], ceiling);
				fflush(stdout);
				perf_progress("sweep", ++done, total);
			}
		}
	}
	fclose(csv);
	if (!rc)
		perf_plot(dir, "sweep.png", plot_script);
	return rc ? 1 : 0;
}
