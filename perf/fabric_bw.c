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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "config.h"
#include "fabric.h"
#include "localgroup.h"
#include "mesh.h"
#include "report.h"

#define CTRL_BYTES 4096u
#define PING_OFF 0u
#define FLAG_OFF 64u
#define MAX_SIZE (100u * 1000u * 1000u)

static const size_t sizes[] = { 10u * 1000u, 1000u * 1000u, 100u * 1000u * 1000u };

struct options {
	double bytes_per_size;
	unsigned pingpong_iters;
};

struct link {
	struct fab_domain *dom;
	struct fab_mr *mr;
	uint8_t *buf;
	struct mesh_peer peers[2];
	unsigned me, other;
};

static volatile uint64_t *cell(struct link *l, size_t off)
{
	return (volatile uint64_t *)(l->buf + off);
}

static int open_link(const struct local_member *m, struct link *l)
{
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return 1;
	struct mesh_params mp;
	struct fab_params fp;
	int rc = mesh_params_from_config(cfg, &mp, &fp);
	if (!rc)
		rc = fab_domain_open(&fp, &l->dom);
	l->buf = aligned_alloc(4096, CTRL_BYTES + MAX_SIZE);
	if (!rc && !l->buf)
		rc = GRP_ENOMEM;
	if (!rc) {
		memset(l->buf, 0, CTRL_BYTES + MAX_SIZE);
		rc = fab_mr_reg(l->dom, l->buf, CTRL_BYTES + MAX_SIZE, &l->mr);
	}
	if (!rc)
		rc = mesh_connect(&mp, l->dom, &l->mr, 1, l->peers);
	grp_config_free(cfg);
	l->me = m->rank;
	l->other = 1 - m->rank;
	if (rc)
		fprintf(stderr, "fabric_bw member %u: %s\n", m->rank, grp_strerror(rc));
	return rc ? 1 : 0;
}

/* Writes the 8-byte cell at off (our copy) to the same place at the peer. */
static int write_cell(struct link *l, size_t off, uint64_t value)
{
	*cell(l, off + 8) = value;
	return fab_write(l->dom, l->other, l->mr, off + 8, &l->peers[l->other].regions[0], off, 8, 0);
}

static int await_cell(struct link *l, size_t off, uint64_t value, unsigned timeout_ms)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	unsigned spins = 0;
	while (*cell(l, off) != value) {
		fab_progress(l->dom);
		if ((++spins & 1023) == 0 && clock_ms_left(deadline) == 0)
			return GRP_ETIMEDOUT;
	}
	return 0;
}

static int pingpong(struct link *l, const struct local_member *m, unsigned iters)
{
	unsigned warmup = iters / 10 + 100;
	double *rtt = calloc(iters, sizeof *rtt);
	if (!rtt)
		return 1;
	int rc = 0;
	for (unsigned i = 1; i <= warmup + iters && !rc; i++) {
		uint64_t t0 = clock_now_ns();
		if (l->me == 0) {
			rc = write_cell(l, PING_OFF, i);
			if (!rc)
				rc = await_cell(l, PING_OFF, i, 10000);
		} else {
			rc = await_cell(l, PING_OFF, i, 10000);
			if (!rc)
				rc = write_cell(l, PING_OFF, i);
		}
		if (i > warmup)
			rtt[i - warmup - 1] = (double)(clock_now_ns() - t0) / 1000.0;
	}
	if (!rc && l->me == 0)
		local_member_report(m, "pingpong,8,%.2f,%.2f", perf_percentile(rtt, iters, 50),
				    perf_percentile(rtt, iters, 99));
	free(rtt);
	return rc;
}

static int stream(struct link *l, const struct local_member *m, size_t size, double total,
		  uint64_t round)
{
	unsigned count = (unsigned)(total / (double)size);
	if (count < 4)
		count = 4;
	if (l->me == 1) {
		int rc = await_cell(l, FLAG_OFF, round, 120000);
		return rc ? rc : write_cell(l, FLAG_OFF, round);
	}
	const struct fab_remote_region *dst = &l->peers[1].regions[0];
	uint64_t t0 = clock_now_ns();
	for (unsigned i = 0; i < count; i++) {
		int rc = fab_write(l->dom, 1, l->mr, CTRL_BYTES, dst, CTRL_BYTES, size, 0);
		if (rc)
			return rc;
	}
	int rc = write_cell(l, FLAG_OFF, round);
	if (!rc)
		rc = await_cell(l, FLAG_OFF, round, 120000);
	double secs = (double)(clock_now_ns() - t0) / 1e9;
	if (!rc)
		local_member_report(m, "bandwidth,%zu,%.3f,%u", size, (double)size * count / secs / 1e9,
				    count);
	return rc;
}

static int member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	struct link l = { 0 };
	int rc = open_link(m, &l);
	if (!rc)
		rc = pingpong(&l, m, o->pingpong_iters);
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] && !rc; s++)
		rc = stream(&l, m, sizes[s], o->bytes_per_size, 1000 + s);
	if (!rc)
		rc = fab_flush(l.dom, l.other, 10000);
	/* Both sides have seen the last flag; let the peer read its ack. */
	if (!rc && l.me == 0)
		rc = write_cell(&l, PING_OFF, UINT64_MAX);
	if (!rc && l.me == 1)
		rc = await_cell(&l, PING_OFF, UINT64_MAX, 10000);
	fab_mr_close(l.mr);
	fab_domain_close(l.dom);
	free(l.buf);
	if (!rc)
		local_member_report(m, "done");
	return rc ? 1 : 0;
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
	char line[256];
	while (local_group_read_line(lg, 0, line, sizeof line, 300000) == 0 &&
	       strcmp(line, "done") != 0) {
		fprintf(csv, "%s\n", line);
		char kind[32];
		size_t bytes;
		double a, b;
		if (sscanf(line, "%31[^,],%zu,%lf,%lf", kind, &bytes, &a, &b) != 4)
			continue;
		if (strcmp(kind, "pingpong") == 0)
			printf("  8 B write ping-pong      RTT median %8.2f us   p99 %8.2f us\n", a, b);
		else
			printf("  %9zu B writes       %8.3f GB/s  (%0.f writes)\n", bytes, a, b);
		fflush(stdout);
	}
	fclose(csv);
	int status[2];
	int rc = local_group_finish(lg, 30000, status);
	if (rc)
		fprintf(stderr, "fabric_bw: members exited with %d and %d\n", status[0], status[1]);
	return rc ? 1 : 0;
}
