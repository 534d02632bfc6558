#include "rawlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "setup.h"
#include "test_time.h"
#include "report.h"

static int rawlink_pingpong_barrier(struct rawlink *l);

/* The only exchange of a raw link. */
#define RAWLINK_STAMP 1u

/* Forms the pair on libgroup's links, exchanges the buffer's key, then
 * stops the engine: from here on only this thread drives the fabric, as a
 * raw user of it would. */
static int connect_pair(struct rawlink *l, const grp_config *cfg, size_t bytes)
{
	struct member_setup s;
	int rc = member_setup_read(cfg, &s);
	unsigned ids[2];
	if (!rc)
		rc = s.n == 2 ? member_setup_connect(&s, &l->links, ids) : GRP_EINVAL;
	if (!rc && !(l->buf = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096)))
		rc = GRP_ENOMEM;
	if (!rc) {
		memset(l->buf, 0, bytes);
		l->dom = links_domain(l->links);
		rc = fab_mr_reg(l->dom, l->buf, bytes, &l->mr);
	}
	struct links_regions mine = { .n = 1 }, theirs[2];
	if (!rc) {
		mine.r[0] = fab_mr_remote(l->mr);
		rc = member_setup_exchange(l->links, RAWLINK_STAMP, ids, 2, l->me, &mine, theirs,
					   s.connect_timeout_ms);
	}
	if (!rc) {
		l->other_id = ids[l->other];
		l->remote = theirs[l->other].r[0];
		links_engine_stop(l->links);
	}
	member_setup_free(&s);
	return rc;
}

int rawlink_open(const struct local_member *m, size_t data_bytes, struct rawlink *l)
{
	memset(l, 0, sizeof *l);
	l->me = m->rank;
	l->other = 1 - m->rank;
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return GRP_ECONFIG;
	int rc = connect_pair(l, cfg, RAWLINK_CTRL_BYTES + data_bytes);
	grp_config_free(cfg);
	if (!rc)
		rc = rawlink_pingpong_barrier(l);
	if (rc)
		fprintf(stderr, "member %u: raw link: %s\n", m->rank, grp_strerror(rc));
	return rc;
}

static volatile uint64_t *cell(struct rawlink *l, size_t off)
{
	return (volatile uint64_t *)(l->buf + off);
}

int rawlink_write_cell(struct rawlink *l, size_t off, uint64_t value)
{
	/* The source is the cell after the target cell: ours never collide. */
	*cell(l, off + 8) = value;
	return fab_write(l->dom, l->other_id, l->mr, off + 8, &l->remote, off, 8, 0);
}

int rawlink_await_cell(struct rawlink *l, size_t off, uint64_t value, unsigned timeout_ms)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	unsigned spins = 0;
	while (*cell(l, off) < value) {
		fab_progress(l->dom);
		if ((++spins & 1023) == 0 && clock_ms_left(deadline) == 0)
			return GRP_ETIMEDOUT;
	}
	return 0;
}

int rawlink_pingpong(struct rawlink *l, unsigned iters, double *median_us, double *p99_us)
{
	unsigned warmup = iters / 10 + 100;
	double *rtt = calloc(iters, sizeof *rtt);
	if (!rtt)
		return GRP_ENOMEM;
	int rc = 0;
	for (unsigned i = 1; i <= warmup + iters && !rc; i++) {
		uint64_t t0 = clock_now_ns();
		if (l->me == 0) {
			rc = rawlink_write_cell(l, RAWLINK_PING_CELL, i);
			if (!rc)
				rc = rawlink_await_cell(l, RAWLINK_PING_CELL, i, test_ms(10000));
		} else {
			rc = rawlink_await_cell(l, RAWLINK_PING_CELL, i, test_ms(10000));
			if (!rc)
				rc = rawlink_write_cell(l, RAWLINK_PING_CELL, i);
		}
		if (i > warmup)
			rtt[i - warmup - 1] = (double)(clock_now_ns() - t0) / 1000.0;
	}
	if (!rc) {
		*median_us = perf_percentile(rtt, iters, 50);
		*p99_us = perf_percentile(rtt, iters, 99);
	}
	free(rtt);
	return rc;
}

/* Both sides have seen the other's write: measurements start together. */
static int rawlink_pingpong_barrier(struct rawlink *l)
{
	if (l->me == 0) {
		int rc = rawlink_write_cell(l, RAWLINK_BARRIER_CELL, 1);
		return rc ? rc : rawlink_await_cell(l, RAWLINK_BARRIER_CELL, 1, test_ms(10000));
	}
	int rc = rawlink_await_cell(l, RAWLINK_BARRIER_CELL, 1, test_ms(10000));
	return rc ? rc : rawlink_write_cell(l, RAWLINK_BARRIER_CELL, 1);
}

int rawlink_stream(struct rawlink *l, size_t size, double total_bytes, uint64_t round,
		   double *gbps, unsigned *count)
{
	unsigned n = (unsigned)(total_bytes / (double)size);
	if (n < 4)
		n = 4;
	if (l->me == 1) {
		int rc = rawlink_await_cell(l, RAWLINK_FLAG_CELL, round, test_ms(120000));
		return rc ? rc : rawlink_write_cell(l, RAWLINK_FLAG_CELL, round);
	}
	const struct fab_remote_region *dst = &l->remote;
	uint64_t t0 = clock_now_ns();
	for (unsigned i = 0; i < n; i++) {
		int rc = fab_write(l->dom, l->other_id, l->mr, RAWLINK_CTRL_BYTES, dst,
				   RAWLINK_CTRL_BYTES, size, 0);
		if (rc)
			return rc;
	}
	int rc = rawlink_write_cell(l, RAWLINK_FLAG_CELL, round);
	if (!rc)
		rc = rawlink_await_cell(l, RAWLINK_FLAG_CELL, round, test_ms(120000));
	double secs = (double)(clock_now_ns() - t0) / 1e9;
	*gbps = (double)size * n / secs / 1e9;
	*count = n;
	return rc;
}

int rawlink_close(struct rawlink *l)
{
	int rc = fab_flush(l->dom, l->other_id, test_ms(10000));
	/* Rank 1 must not disconnect before rank 0 has seen its last write. */
	if (!rc)
		rc = rawlink_write_cell(l, RAWLINK_FLAG_CELL, UINT64_MAX);
	if (!rc)
		rc = rawlink_await_cell(l, RAWLINK_FLAG_CELL, UINT64_MAX, test_ms(10000));
	fab_mr_close(l->mr);
	links_close(l->links);
	free(l->buf);
	return rc;
}

struct measure {
	size_t size;
	double total_bytes;
};

static int measure_member(const struct local_member *m, void *arg)
{
	const struct measure *w = arg;
	struct rawlink l;
	if (rawlink_open(m, w->size, &l))
		return 1;
	double gbps = 0;
	unsigned count;
	int rc = rawlink_stream(&l, w->size, w->total_bytes, 1, &gbps, &count);
	if (!rc && m->rank == 0)
		local_member_report(m, "%.6f", gbps);
	return rawlink_close(&l) || rc ? 1 : 0;
}

int rawlink_measure(size_t size, double total_bytes, double *mbps)
{
	struct measure w = { size, total_bytes };
	struct local_group *lg = local_group_start(2, measure_member, &w);
	if (!lg)
		return 1;
	char line[64];
	double gbps = 0;
	if (local_group_read_line(lg, 0, line, sizeof line, 600000) == 0)
		sscanf(line, "%lf", &gbps);
	int status[2];
	int rc = local_group_finish(lg, 30000, status);
	if (rc || gbps <= 0) {
		fprintf(stderr, "raw writes of %zu B: members exited with %d and %d\n", size, status[0],
			status[1]);
		return 1;
	}
	*mbps = gbps * 1000;
	return 0;
}
