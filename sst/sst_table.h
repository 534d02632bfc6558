/* The shared state table as the layers above build it: one table per view,
 * on links that outlive it (group/sst.h is the table's public face).
 *
 * Life of a table: sst_create registers its memory and returns it
 * unconnected; the owner exchanges sst_region with every member (through
 * the links mailbox) and hands their regions to sst_connect; from then on
 * rows can be pushed. A table ends by sst_retire on the engine thread
 * (freed after the engine pass) or by sst_destroy once the engine is
 * stopped. */
#ifndef GRP_SST_TABLE_H
#define GRP_SST_TABLE_H

#include <group/sst.h>

#include "links.h"

struct sst_params {
	unsigned n, me;      /* rows; our row */
	const unsigned *ids; /* node id of each row's member (copied) */
	size_t row_bytes;    /* from a grp_sst_layout */
	unsigned fence_timeout_ms;
};

int sst_create(struct links *links, const struct sst_params *params,
	       const grp_sst_callbacks *callbacks, void *user, grp_sst **out);
struct fab_remote_region sst_region(const grp_sst *sst);
/* theirs[row].r[region] is member row's table (ours ignored): the result
 * of the links' region exchange. A row without that region (an absent
 * member) starts failed. */
void sst_connect(grp_sst *sst, const struct links_regions *theirs, unsigned region);
/* Makes sure every push posted so far has landed at every live member (a
 * read is answered only after the writes before it). Before closing, stop
 * the engine first so that no push follows. */
void sst_fence(grp_sst *sst);
/* Ends the table from the engine thread: its predicates stop, and it is
 * freed after the current engine pass. */
void sst_retire(grp_sst *sst);
/* Frees a table whose engine is stopped. */
void sst_destroy(grp_sst *sst);
struct links *sst_links(const grp_sst *sst);
/* The node id of row `row`'s member. */
unsigned sst_row_id(const grp_sst *sst, unsigned row);

#endif
