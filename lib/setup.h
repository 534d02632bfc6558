/* From a configuration to a member on its links: what grp_join,
 * grp_sst_open and grp_rdmc_open share. Every configuration error names
 * its key and the reason, in the log and in the returned GRP_ECONFIG. */
#ifndef GRP_LIB_SETUP_H
#define GRP_LIB_SETUP_H

#include <group/config.h>

#include "links.h"
#include <stdatomic.h>

struct member_setup {
	struct links_params links;
	struct links_member *members; /* by rank; joining: the contacts */
	unsigned n, rank;
	bool joining;                 /* group.contact is set */
	const atomic_bool *cancel;    /* joining gives up once it holds */
	unsigned connect_timeout_ms;
	unsigned stall_timeout_ms;
};

/* Reads and checks group.*, member.*, fabric.*, engine.* and log.level.
 * An inherited member.listen_fd that is a listening socket belongs to the
 * setup from here on (closed on error); any other value of it is refused
 * and left alone. */
int member_setup_read(const grp_config *cfg, struct member_setup *out);
/* Closes the inherited socket if links_open never took it. */
void member_setup_free(struct member_setup *s);

/* Opens the links and forms the group listed in the setup; ids[rank] gets
 * each member's node id. */
int member_setup_connect(struct member_setup *s, struct links **out, unsigned *ids);
/* Opens the links and joins the running group of the contacts in the
 * setup: *added is the view that added us (links_join). */
int member_setup_join(struct member_setup *s, bool sender, uint64_t log_version, struct links **out,
		      struct view_info *added);

/* Exchanges regions for a table or relay opened alone (not by an epoch):
 * posts ours, waits until every member's are here. */
int member_setup_exchange(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			  unsigned me, const struct links_regions *mine, struct links_regions *out,
			  unsigned timeout_ms);

#endif
