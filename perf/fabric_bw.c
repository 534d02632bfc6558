/* fabric_bw: the ceilings every other benchmark is held against.
 *
 * Two member processes on 127.0.0.1, connected by the transport libgroup
 * uses (lib/fabric over the configured provider). Rank 0 streams one-sided
 * writes of 10 KB, 1 MB and 100 MB into rank 1's registered buffer, then a
 * flag; bandwidth is timed until rank 1's acknowledgement comes back. The
 * ping-pong bounces an 8-byte write, each side polling its completion queue
 * and its memory as an RDMA application would.
 *
 *   fabric_bw [-o DIR] [-b BYTES_PER_SIZE] [-n PINGPONG_ITERS]
 * Output: a table on stdout and DIR/fabric_bw.csv (default perf-results). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "rawlink.h"
#include "report.h"

#define MAX_SIZE (100u * 1000u * 1000u)

static const size_t sizes[] = { 10u * 1000u, 1000u * 1000u, 100u * 1000u * 1000u };

struct options {
	double bytes_per_size;
	unsigned pingpong_iters;
};

static int member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct rawlink l;
	int rc = rawlink_open(m, MAX_SIZE, &l);
	if (rc)
		return 1;
	double median, p99;
	rc = rawlink_pingpong(&l, o->pingpong_iters, &median, &p99);
	if (!rc && m->rank == 0)
		local_member_report(m, "pingpong,8,%.2f,%.2f", median, p99);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] && !rc; s++) {
		double gbps;
		unsigned count;
		rc = rawlink_stream(&l, sizes[s], o->bytes_per_size, 1000 + s, &gbps, &count);
		if (!rc && m->rank == 0)
			local_member_report(m, "bandwidth,%zu,%.3f,%u", sizes[s], gbps, count);
	}
	rc = rawlink_close(&l) || rc;
	return rc ? 1 : 0;
}

static void show(const char *line, void *arg)
{
	(void)arg;
	char kind[32];
	size_t bytes;
	double a, b;
	if (sscanf(line, "%31[^,],%zu,%lf,%lf", kind, &bytes, &a, &b) != 4)
		return;
	if (strcmp(kind, "pingpong") == 0)
		printf("  8 B write ping-pong      RTT median %8.2f us   p99 %8.2f us\n", a, b);
	else
		printf("  %9zu B writes       %8.3f GB/s  (%0.f writes)\n", bytes, a, b);
}

int main(int argc, char **argv)
{
	struct options o = { .bytes_per_size = 2e9, .pingpong_iters = 20000 };
	const char *dir = "perf-results";
	int opt;
	while ((opt = getopt(argc, argv, "o:b:n:")) != -1) {
		switch (opt) {
		case 'o': dir = optarg; break;
		case 'b': o.bytes_per_size = atof(optarg); break;
		case 'n': o.pingpong_iters = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-o DIR] [-b BYTES_PER_SIZE] [-n ITERS]\n", argv[0]);
			return 2;
		}
	}
	FILE *csv = perf_csv_open(dir, "fabric_bw.csv", "kind,bytes,value1,value2");
	if (!csv)
		return 1;
	struct local_group *lg = local_group_start(2, member, &o);
	if (!lg)
		return 1;
	printf("fabric_bw: raw one-sided writes between 2 processes on 127.0.0.1 (provider %s)\n",
	       getenv("GROUP_FABRIC_PROVIDER") ? getenv("GROUP_FABRIC_PROVIDER") : "tcp");
	perf_collect(lg, 2, csv, show, NULL, 300000);
	fclose(csv);
	int status[2];
	int rc = local_group_finish(lg, 30000, status);
	if (rc)
		fprintf(stderr, "fabric_bw: members exited with %d and %d\n", status[0], status[1]);
	return rc ? 1 : 0;
}
