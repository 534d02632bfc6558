/* The RDMC block relay: carries whole messages from a sender to every
 * member along a schedule, block by block, by one-sided writes through the
 * links into a region each member registers for it. Each write names its
 * stream (sender), buffer and block in the remote CQ data, with the epoch's
 * parity, so that a block for the next epoch's relay is never taken for
 * this one's; every member walks its own steps of the schedule in order,
 * waiting only for the block it has to forward.
 *
 * The relay does not announce messages: the layer above tells every member
 * what to expect (rdmc_relay_start) by its own means — raw RDMC by columns
 * of the table, ordered multicast by its slot headers — and reads the
 * result in place once rdmc_relay_completed names it.
 *
 * Buffers: each stream has `buffers` receive buffers of `capacity` bytes
 * at every member; at the stream's sender they are its send buffers. A
 * buffer is reused only once every member completed the transfer it held
 * (the layer above knows when) and our own writes from it completed
 * locally (rdmc_relay_released).
 *
 * Life: rdmc_relay_create registers the buffers; the owner exchanges
 * rdmc_relay_region with every member and hands theirs to
 * rdmc_relay_connect before the first transfer.
 *
 * Threads: rdmc_relay_start, _has_work and _progress run on the links'
 * engine thread. _released and _buffer may be called from any thread. */
#ifndef GRP_RDMC_RELAY_H
#define GRP_RDMC_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "links.h"
#include "schedule.h"

#define RDMC_MAX_STREAMS 1024u
#define RDMC_MAX_BUFFERS 2u

struct rdmc_relay_params {
	unsigned n, me;
	const unsigned *ids;           /* node id of each member (copied) */
	unsigned parity;               /* 0 or 1: the epoch's, told apart in CQ data */
	unsigned streams;
	const unsigned *stream_member; /* sender of each stream (copied) */
	unsigned buffers;              /* per stream, 1..RDMC_MAX_BUFFERS */
	size_t max_payload, block_size;
	enum rdmc_schedule_kind schedule;
};

struct rdmc_relay;

/* Why the sizes or the schedule cannot work for n members (message for a
 * configuration error), or NULL. */
const char *rdmc_relay_params_problem(size_t max_payload, size_t block_size,
				      enum rdmc_schedule_kind schedule, unsigned n);

int rdmc_relay_create(struct links *links, const struct rdmc_relay_params *p,
		      struct rdmc_relay **out);
struct fab_remote_region rdmc_relay_region(const struct rdmc_relay *r);
/* theirs[m].r[region] is member m's region (ours ignored): the result of
 * the links' region exchange. */
void rdmc_relay_connect(struct rdmc_relay *r, const struct links_regions *theirs,
			unsigned region);
/* Not from a links listener callback. */
void rdmc_relay_free(struct rdmc_relay *r);

size_t rdmc_relay_capacity(const struct rdmc_relay *r);
uint8_t *rdmc_relay_buffer(struct rdmc_relay *r, unsigned stream, unsigned buffer);

/* Expects message `tag` (non-zero, unique per stream and buffer) of len
 * bytes in a stream's buffer; at its sender, starts sending it. Again with
 * the same tag: nothing. GRP_EBUSY while the buffer is not released yet,
 * GRP_EMSGSIZE above the capacity, GRP_EINVAL for a stream or buffer out of
 * range. */
int rdmc_relay_start(struct rdmc_relay *r, unsigned stream, unsigned buffer, uint64_t tag,
		     size_t len);
/* The tag of the last message this member holds whole in the buffer, and
 * has forwarded as its schedule says; 0 if none. */
uint64_t rdmc_relay_completed(const struct rdmc_relay *r, unsigned stream, unsigned buffer);
/* The buffer's last message is complete here and every write that read it
 * has completed locally (true for a buffer never used). */
bool rdmc_relay_released(const struct rdmc_relay *r, unsigned stream, unsigned buffer);

/* Logs (warn) every message still in progress here: how far it got and
 * who owes us which block. For teardown with transfers in flight. */
void rdmc_relay_log_incomplete(const struct rdmc_relay *r);

/* Whether rdmc_relay_progress would post a block or complete a message. */
bool rdmc_relay_has_work(const struct rdmc_relay *r);
/* Posts what the schedules allow and completes what arrived whole; returns
 * whether a message completed. */
bool rdmc_relay_progress(struct rdmc_relay *r);

#endif
