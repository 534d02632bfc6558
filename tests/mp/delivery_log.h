/* Delivery logs of multicast tests and the checker of virtual synchrony
 * in each view, across views.
 *
 * Test senders send, as their k-th message, payload_for(sender, k): its
 * length and bytes derive from (sender, k) alone, so the checker can tell a
 * real message from an invented or corrupted one. Each member appends one
 * line per delivery, "vid sender index len hash", to DIR/member-RANK.log. */
#ifndef GRP_TEST_DELIVERY_LOG_H
#define GRP_TEST_DELIVERY_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <group/group.h>

/* Message lengths: one message in four is in [0, max_len], the others in
 * [0, small_max] (so with small_max == max_len, all of them). */
struct payload_sizes {
	size_t small_max, max_len;
};

/* Fills buf (room for sizes->max_len bytes) with message k of sender;
 * returns its length. */
size_t payload_for(unsigned sender, uint64_t k, const struct payload_sizes *sizes, uint8_t *buf);

/* FNV-1a over the bytes. */
uint64_t payload_hash(const void *data, size_t len);

/* Appends the line the checker reads for one delivery. */
void delivery_log_write(FILE *log, const grp_delivery *msg);

/* Checks the logs of members 0..n-1 in dir: identical sequences (so the
 * same views, and in each view the same messages in the same order),
 * views in increasing order, per-sender FIFO across views without gaps or
 * duplicates (the index starting from 0 in each view, the payload's k
 * counting on over all of them), exactly `per_sender`
 * messages from each of the senders named in is_sender[], nothing from
 * anyone else, every payload as payload_for made it. Returns 0, or -1 with
 * the first violation in err. */
int delivery_log_check(const char *dir, unsigned n, const unsigned char *is_sender,
		       uint64_t per_sender, const struct payload_sizes *sizes, char *err,
		       size_t err_len);

#endif
