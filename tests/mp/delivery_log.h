/* Delivery logs of multicast tests and the checker of virtual synchrony
 * in each view, across views, failures and departures.
 *
 * Test senders send, as their k-th message (k counting over all views),
 * payload_for(rank, k), rank the harness rank of the sending process: its
 * length and bytes derive from (rank, k) alone, so the checker can tell a
 * real message from an invented or corrupted one.
 *
 * Each member appends to DIR/member-RANK.log one line per event:
 *   view:     "view VID members N ID... departed N ID:REASON... joined N ID..."
 *             (REASON an enum grp_departure value)
 *   delivery: "VID SENDER INDEX LEN HASH"
 * and, if it ends its run alive, writes DIR/member-RANK.sent: how many
 * messages its grp_send accepted.
 *
 * Logs are per process, by harness rank 0..n-1; views and deliveries name
 * node ids, also below n. Rank r's process has node id r unless
 * expect->id_of_rank says otherwise; two ranks may share a node id when one
 * process was removed and a new one joined under its id later: in each
 * view the id stands for the rank with that id whose first view came
 * latest but not after it. A process may start in the group's first view
 * or join later: its first logged view is then one that lists it joined,
 * and its log starts there (a joiner whose grp_join failed reopens the log
 * for its next attempt).
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
	const unsigned char *is_sender; /* [n], by rank */
	/* [n], by rank, or NULL for nobody: the processes expected to end
	 * outside the group (killed, evicted, in a minority, left, refused).
	 * The others are the survivors. */
	const unsigned char *gone;
	/* Messages every survivor has from each sender; 0: not checked. */
	uint64_t per_sender;
	/* [n]: each rank's node id (below n); NULL: its rank. */
	const unsigned *id_of_rank;
};

/* Checks the logs of ranks 0..n-1 in dir (a line in err names the first
 * violation, its members (ranks), view and position; returns 0, or -1).
 * The group's views are all the views logged, in vid order:
 *  a. each member's views have increasing vids and include its node id,
 *     and are a run of the group's views, starting with the group's first
 *     or with one that lists it joined; every log that has a view has the
 *     same one (vids, members, departures with reasons, joined; but a
 *     joiner's first view may list no departures, as the library gives it
 *     none: it was not in the view before); every
 *     survivor ends with the group's last view, which holds exactly the
 *     survivors' node ids; a gone member's last line may name itself
 *     departed (for any reason but FAILED: it stopped itself);
 *  b. view v+1's members are view v's minus the departed (who were in v)
 *     plus the joined (who were not);
 *  c. in each view, the members that went on to the next view (in the
 *     final view, the survivors) delivered the same messages in the same
 *     order, and a member that did not a prefix of them;
 *  d. at each member, each sender's messages are payload_for's k = k0,
 *     k0 + 1, ... over all views, without gap or duplicate, the index
 *     counting from 0 in each view; k0 is 0 at a member that was there
 *     when the sender's process came in, else (a joiner) the sender's
 *     messages the group delivered before the joiner's first view; nothing
 *     from a non-sender or from outside the view; no delivery before the
 *     member's first view;
 *  e. from a member that wrote its .sent count C, every survivor has
 *     exactly C messages if the sender survived, at most C if it is gone,
 *     where a joiner has, besides what it delivered, the messages before
 *     its first view (k0 of d: its state stands for them);
 *  f. with expect->per_sender, every survivor has that many (as in e)
 *     from each sender. */
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
