#include "rawlink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/error.h>

#include "clock.h"
#include "config.h"
#include "report.h"

int rawlink_open(const struct local_member *m, size_t data_bytes, struct rawlink *l)
{
	memset(l, 0, sizeof *l);
	l->me = m->rank;
	l->other = 1 - m->rank;
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return GRP_ECONFIG;
	size_t bytes = RAWLINK_CTRL_BYTES + data_bytes;
	struct mesh_params mp;
	struct fab_params fp;
	int rc = mesh_params_from_config(cfg, &mp, &fp);
	if (!rc)
		rc = fab_domain_open(&fp, &l->dom);
	if (!rc && !(l->buf = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096)))
		rc = GRP_ENOMEM;
	if (!rc) {
		memset(l->buf, 0, bytes);
		rc = fab_mr_reg(l->dom, l->buf, bytes, &l->mr);
	}
	if (!rc)
		rc = mesh_connect(&mp, l->dom, &l->mr, 1, l->peers);
	grp_config_free(cfg);
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
	return fab_write(l->dom, l->other, l->mr, off + 8, &l->peers[l->other].regions[0], off, 8, 0);
}

int rawlink_await_cell(struct rawlink *l, size_t off, uint64_t value, unsigned timeout_ms)
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
				rc = rawlink_await_cell(l, RAWLINK_PING_CELL, i, 10000);
		} else {
			rc = rawlink_await_cell(l, RAWLINK_PING_CELL, i, 10000);
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

int rawlink_close(struct rawlink *l)
{
	int rc = fab_flush(l->dom, l->other, 10000);
	/* Rank 1 must not disconnect before rank 0 has seen its last write. */
	if (!rc)
		rc = rawlink_write_cell(l, RAWLINK_FLAG_CELL, UINT64_MAX);
	if (!rc)
		rc = rawlink_await_cell(l, RAWLINK_FLAG_CELL, UINT64_MAX, 10000);
	fab_mr_close(l->mr);
	fab_domain_close(l->dom);
	free(l->buf);
	return rc;
}
