/* One member's whole run, in --local mode or configured by a file. */
#ifndef KV_MEMBER_H
#define KV_MEMBER_H

#include <stddef.h>

#include <group/config.h>

#include "load.h"

/* How long a member waits for every sender's operations, on a quiet
 * machine. */
#define MEMBER_WAIT_MS 120000u

/* Joins the group cfg describes, sends this member's share of the load if
 * multicast.senders names it, waits at most wait_ms until every sender's
 * operations are applied, and leaves: 0 with the result line in line, or 1
 * having said why on stderr. */
int member_run(const grp_config *cfg, const struct load *load, unsigned wait_ms, char *line,
	       size_t len);

#endif
