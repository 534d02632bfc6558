/* Delivery logs of multicast tests and the checker of virtual synchrony
 * in each view, across views, failures and departures.
 *
 * Test senders send, as their k-th message (k counting over all views),
 * payload_for(sender, k): its length and bytes derive from (sender, k)
 * alone, so the checker can tell a real message from an invented or
 * corrupted one.
 *
 * Each member appends to DIR/member-RANK.log one line per event:
 *   view:     "view VID members N ID... departed N ID:REASON... joined N ID..."
 *             (REASON an enum grp_departure value)
 *   delivery: "VID SENDER INDEX LEN HASH"
 * and, if it ends its run alive, writes DIR/member-RANK.sent: how many
 * messages its grp_send accepted. Node ids are the ranks of the first
 * view, 0..n-1, and every member starts in the first view (joining later
 * is not modelled).
 *
 * A member the test kills leaves only what reached the file: open the log
 * with delivery_log_open (line-buffered), or fflush after every line. A last
 * line without its newline, which a kill cut short, is ignored. */
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

/* DIR/member-RANK.log, created empty and line-buffered; NULL on error. */
FILE *delivery_log_open(const char *dir, unsigned rank);

/* Appends the line the checker reads for one delivery. */
void delivery_log_write(FILE *log, const grp_delivery *msg);

/* Appends the line the checker reads for one view (the view callback's). */
void delivery_log_view(FILE *log, const grp_view *view);

/* Writes DIR/member-RANK.sent: the number of messages this member's
 * grp_send accepted (returned 0) over the whole run. Returns 0 or -1. */
int delivery_log_accepted(const char *dir, unsigned rank, uint64_t accepted);

struct delivery_log_expect {
	struct payload_sizes sizes;
	const unsigned char *is_sender; /* [n], by node id */
	/* [n], by node id, or NULL for nobody: the members expected to end
	 * outside the group (killed, evicted, in a minority, left). The
	 * others are the survivors. */
	const unsigned char *gone;
	/* Messages every survivor delivers from each sender; 0: not checked. */
	uint64_t per_sender;
};

/* Checks the logs of members 0..n-1 in dir (a line in err names the first
 * violation, its members, view and position; returns 0, or -1):
 *  a. each member's views have increasing vids and include it; the
 *     survivors logged the same views (vids, members, departures with
 *     reasons, joined), the final one holding exactly the survivors; a gone
 *     member's views are a prefix of theirs, and its last line may name
 *     itself departed (for any reason but FAILED: it stopped itself);
 *  b. view v+1's members are view v's minus the departed (who were in v)
 *     plus the joined (who were not);
 *  c. in each view, the members that went on to the next view (in the
 *     final view, the survivors) delivered the same messages in the same
 *     order, and a member that did not a prefix of them;
 *  d. at each member, each sender's messages are payload_for's k = 0, 1, ...
 *     over all views, without gap or duplicate, the index counting from 0
 *     in each view; nothing from a non-sender or from outside the view;
 *     no delivery before the first view;
 *  e. from a member that wrote its .sent count C, every survivor delivered
 *     exactly C messages if it survived, at most C if it is gone;
 *  f. with expect->per_sender, every survivor delivered that many from each
 *     sender. */
int delivery_log_check_views(const char *dir, unsigned n, const struct delivery_log_expect *expect,
			     char *err, size_t err_len);

/* The same for logs without view lines, from a run where nobody departs:
 * the views are the vids the deliveries carry, each with all n members.
 * So: every member's log the same, `per_sender` messages (not 0) from each
 * of the senders named in is_sender[]. */
int delivery_log_check(const char *dir, unsigned n, const unsigned char *is_sender,
		       uint64_t per_sender, const struct payload_sizes *sizes, char *err,
		       size_t err_len);

#endif
