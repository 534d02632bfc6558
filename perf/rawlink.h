/* Two members joined by libgroup's transport and nothing else: the raw
 * one-sided writes that the SST and multicast benchmarks are held against.
 * Control cells live in the first RAWLINK_CTRL_BYTES of the registered
 * buffer, bulk data after them. */
#ifndef GRP_PERF_RAWLINK_H
#define GRP_PERF_RAWLINK_H

#include "fabric.h"
#include "links.h"
#include "localgroup.h"

#define RAWLINK_CTRL_BYTES 4096u
#define RAWLINK_PING_CELL 0u
#define RAWLINK_FLAG_CELL 64u
#define RAWLINK_BARRIER_CELL 128u

struct rawlink {
	struct links *links;
	struct fab_domain *dom;
	struct fab_mr *mr;
	uint8_t *buf;
	struct fab_remote_region remote; /* the other's buffer */
	unsigned me, other;              /* ranks */
	unsigned other_id;               /* the other's node id */
};

/* Connects the two members with data_bytes of registered buffer after the
 * control cells. Member ranks must be 0 and 1. */
int rawlink_open(const struct local_member *m, size_t data_bytes, struct rawlink *l);
/* Waits for the other side to be done too, then releases everything. */
int rawlink_close(struct rawlink *l);

/* Writes value into the peer's cell at off (8 bytes, ordered after every
 * earlier write to that peer). Each cell only ever grows: a later, larger
 * value may overwrite one before the peer has looked. */
int rawlink_write_cell(struct rawlink *l, size_t off, uint64_t value);
/* Polls the completion queue and our cell at off until it reaches value. */
int rawlink_await_cell(struct rawlink *l, size_t off, uint64_t value, unsigned timeout_ms);

/* Rank 0 streams writes of `size` bytes (about total_bytes in all, at least
 * 4) into rank 1's buffer, then a flag; rank 1 acknowledges. Rank 0 gets the
 * bandwidth in GB/s, timed until the acknowledgement, and the write count.
 * `round` must differ between calls. */
int rawlink_stream(struct rawlink *l, size_t size, double total_bytes, uint64_t round,
		   double *gbps, unsigned *count);

/* Starts two members of its own and measures rawlink_stream for `size`
 * (about total_bytes in all): the ceiling a benchmark of the same size
 * reports against, in the same run. *mbps in MB/s. */
int rawlink_measure(size_t size, double total_bytes, double *mbps);

/* 8-byte write ping-pong; rank 0 gets the round trip's median and p99 in µs. */
int rawlink_pingpong(struct rawlink *l, unsigned iters, double *median_us, double *p99_us);

#endif
