/* lat: delivery latency of ordered multicast, one message in flight.
 *
 * N members (default 3) on 127.0.0.1, rank 0 the only sender. For each
 * size from 1 B to 10 KB it sends a message stamped with CLOCK_MONOTONIC
 * (one clock for every process on this host), waits until it has delivered
 * it itself, and sends the next. The sender reports send-to-own-delivery;
 * every other member reports send-to-its-delivery. Median and p99.
 *
 * Each callbacks.mode in turn, a fresh group each (-m): engine, where the
 * deliver callback runs on the engine thread and the member's thread
 * waits on a condition variable; dispatch, where every member's thread
 * polls grp_fd and runs the callback inside grp_dispatch, so the figure
 * includes waking that thread.
 *
 *   lat [-n MEMBERS] [-i ITERATIONS] [-m engine|dispatch|both] [-o DIR]
 * Output: a table and DIR/lat.csv. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <group/group.h>

#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "report.h"

#define WAIT_MS 120000u

static const size_t sizes[] = { 1, 100, 1000, 10240 };
#define N_SIZES (sizeof sizes / sizeof sizes[0])

struct options {
	unsigned members;
	unsigned iters;
	const char *mode; /* callbacks.mode of this run */
};

/* Written by the deliver callback only; read once every delivery is in. */
struct samples {
	struct delivery_count delivered;
	double *us[N_SIZES];
	unsigned count[N_SIZES];
	unsigned warmup;
};

/* Payload: the size index and the send time; 1-byte messages carry only
 * the size index, and are timed by the sender's clock alone. */
static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	struct samples *s = user;
	uint64_t now = clock_now_ns();
	uint8_t which = ((const uint8_t *)m->data)[0];
	uint64_t sent = 0;
	if (m->len >= 1 + sizeof sent)
		memcpy(&sent, (const uint8_t *)m->data + 1, sizeof sent);
	if (which < N_SIZES && sent && grp_rank(g) != 0 && m->index % (s->warmup + 1) != 0) {
		unsigned *c = &s->count[which];
		s->us[which][*c] = (double)(now - sent) / 1000.0;
		(*c)++;
	}
	delivery_count_add(&s->delivered);
}

static int wait_delivered(grp_t *g, struct samples *s, uint64_t count)
{
	return perf_await_deliveries(g, &s->delivered, count, WAIT_MS, NULL) ? 1 : 0;
}

static void report(const struct local_member *m, const struct options *o, const char *who,
		   size_t size, double *v, unsigned n)
{
	if (n)
		local_member_report(m, "%s,%s,%zu,%.1f,%.1f,%u", o->mode, who, size,
				    perf_percentile(v, n, 50), perf_percentile(v, n, 99), m->rank);
}

/* Rank 0 sends each message after delivering the previous one. */
static int send_all(grp_t *g, struct samples *s, const struct options *o,
		    const struct local_member *m)
{
	uint8_t buf[10240] = { 0 };
	uint64_t sent_total = 0;
	unsigned per_size = o->iters + o->iters / 10;
	double *mine = calloc(per_size, sizeof *mine);
	int rc = mine ? 0 : 1;
	for (size_t w = 0; w < N_SIZES && !rc; w++) {
		unsigned kept = 0;
		for (unsigned i = 0; i < per_size && !rc; i++) {
			uint64_t t0 = clock_now_ns();
			buf[0] = (uint8_t)w;
			if (sizes[w] >= 1 + sizeof t0)
				memcpy(buf + 1, &t0, sizeof t0);
			rc = grp_send(g, buf, sizes[w]);
			if (!rc)
				rc = wait_delivered(g, s, ++sent_total);
			if (i >= per_size - o->iters)
				mine[kept++] = (double)(clock_now_ns() - t0) / 1000.0;
		}
		if (!rc)
			report(m, o, "sender", sizes[w], mine, kept);
	}
	free(mine);
	return rc;
}

static int member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	unsigned per_size = o->iters + o->iters / 10;
	struct samples s = { .warmup = 10 };
	delivery_count_init(&s.delivered);
	for (size_t w = 0; w < N_SIZES; w++)
		if (!(s.us[w] = calloc(per_size, sizeof(double))))
			return 1;
	const char *const settings[] = { "callbacks.mode", o->mode, NULL };
	grp_t *g = perf_join(m, "0", settings, on_deliver, &s);
	if (!g)
		return 1;
	int rc;
	uint64_t total = (uint64_t)per_size * N_SIZES;
	rc = m->rank == 0 ? send_all(g, &s, o, m) : wait_delivered(g, &s, total);
	for (size_t w = 0; w < N_SIZES && !rc && m->rank != 0; w++)
		report(m, o, "receiver", sizes[w], s.us[w], s.count[w]);
	grp_leave(g);
	grp_free(g);
	for (size_t w = 0; w < N_SIZES; w++)
		free(s.us[w]);
	delivery_count_destroy(&s.delivered);
	return rc;
}

static void show(const char *line, void *arg)
{
	(void)arg;
	char mode[16], role[16];
	size_t bytes;
	double median, p99;
	unsigned rank;
	if (sscanf(line, "%15[^,],%15[^,],%zu,%lf,%lf,%u", mode, role, &bytes, &median, &p99,
		   &rank) == 6)
		printf("  %-8s %-8s (member %u) %6zu B   median %8.1f us   p99 %8.1f us\n", mode,
		       role, rank, bytes, median, p99);
}

int main(int argc, char **argv)
{
	struct options o = { .members = 3, .iters = 2000 };
	const char *dir = "perf-results", *modes = "both";
	int opt;
	while ((opt = getopt(argc, argv, "n:i:m:o:")) != -1) {
		switch (opt) {
		case 'n': o.members = (unsigned)atoi(optarg); break;
		case 'i': o.iters = (unsigned)atoi(optarg); break;
		case 'm': modes = optarg; break;
		case 'o': dir = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n MEMBERS] [-i ITERATIONS] "
				"[-m engine|dispatch|both] [-o DIR]\n", argv[0]);
			return 2;
		}
	}
	bool both = strcmp(modes, "both") == 0;
	if (o.members < 1 || o.iters < 10 ||
	    (!both && strcmp(modes, "engine") && strcmp(modes, "dispatch"))) {
		fprintf(stderr, "lat: need -n >= 1, -i >= 10, -m engine, dispatch or both\n");
		return 2;
	}
	FILE *csv = perf_csv_open(dir, "lat.csv", "mode,role,bytes,median_us,p99_us,member");
	if (!csv)
		return 1;
	printf("lat: %u members, member 0 sends, one message in flight, %u per size\n", o.members,
	       o.iters);
	const char *run[] = { both ? "engine" : modes, both ? "dispatch" : NULL };
	int rc = 0;
	for (size_t i = 0; i < 2 && run[i] && !rc; i++) {
		o.mode = run[i];
		struct local_group *lg = local_group_start(o.members, member, &o);
		if (!lg)
			return 1;
		perf_collect(lg, o.members, csv, show, NULL, WAIT_MS);
		rc = local_group_finish(lg, 30000, NULL) ? 1 : 0;
	}
	fclose(csv);
	return rc;
}
