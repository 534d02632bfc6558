/* One member's whole run, in --local mode, configured by a file, or
 * joining a running store. */
#ifndef KV_MEMBER_H
#define KV_MEMBER_H

#include <stdbool.h>
#include <stddef.h>

#include <group/config.h>

#include "load.h"

/* How long a member waits for every sender's operations, on a quiet
 * machine. */
#define MEMBER_WAIT_MS 120000u

struct member_plan {
	struct load load; /* what a sending founder sends */
	unsigned wait_ms; /* for the joiners, then for every sender's operations */
	/* Founders: joiners to wait for. Senders pause a quarter into their
	 * load until the view has grown by this many (so that they join
	 * mid-load), and nobody leaves before. */
	unsigned joins;
	/* persist.mode on (--persist): */
	const char *acked_dir; /* send durably, keep acked-<id>.txt here (acked.h); or NULL */
	unsigned acked_ids;    /* check the acknowledged operations of node ids 0..acked_ids-1 */
	bool probe;            /* record and check a key's history (history.h) */
	/* Back after every member was killed: the log is the state, the load
	 * is not sent again; each sender sends a mark and waits for every
	 * sender's before it reports. */
	bool restart;
	/* What the member found besides its result line (checks that passed). */
	void (*note)(void *arg, const char *text);
	void *note_arg;
};

/* Makes cfg a joiner's: group.contact, member.id and, unless NULL,
 * member.listen. A replica added to a running store applies the others'
 * operations and sends none, so its multicast.senders is not "all" (a
 * joiner sends only then). 0, or the error of grp_config_set, with
 * grp_config_error(cfg) naming the key. */
int member_config_joiner(grp_config *cfg, const char *contact, unsigned id, const char *listen);

/* Joins the group cfg describes (founding it, or, with group.contact,
 * joining it running), sends this member's share of the load if it is a
 * founder that multicast.senders names, waits until every sender's
 * operations are applied, checks what the plan asks, and leaves: 0 with
 * the result line in line, or 1 having said why on stderr. */
int member_run(const grp_config *cfg, const struct member_plan *plan, char *line, size_t len);

#endif
