/* A shared state table on its own (group/sst.h): links of its own, one
 * table, closed with them. */
#include <stdlib.h>

#include "setup.h"
#include "sst_table.h"

/* The only exchange a standalone table makes. */
#define TABLE_STAMP 1u

static int open_table(const struct member_setup *s, struct links *l, const unsigned *ids,
		      const grp_sst_layout *layout, const grp_sst_callbacks *callbacks, void *user,
		      grp_sst **out)
{
	struct sst_params p = {
		.n = s->n, .me = s->rank, .ids = ids, .row_bytes = layout->row_bytes,
		.fence_timeout_ms = s->stall_timeout_ms,
	};
	int rc = sst_create(l, &p, callbacks, user, out);
	if (rc)
		return rc;
	struct links_regions mine = { .n = 1, .r = { sst_region(*out) } };
	struct links_regions *theirs = calloc(s->n, sizeof *theirs);
	rc = theirs ? member_setup_exchange(l, TABLE_STAMP, ids, s->n, s->rank, &mine, theirs,
					    s->connect_timeout_ms)
		    : GRP_ENOMEM;
	if (!rc)
		sst_connect(*out, theirs, 0);
	free(theirs);
	return rc;
}

GRP_API int grp_sst_open(const grp_config *cfg, const grp_sst_layout *layout,
			 const grp_sst_callbacks *callbacks, void *user, grp_sst **out)
{
	if (!cfg || !layout || !out || layout->row_bytes == 0)
		return GRP_EINVAL;
	struct member_setup s;
	int rc = member_setup_read(cfg, &s);
	if (rc)
		return rc;
	struct links *l = NULL;
	unsigned *ids = calloc(s.n, sizeof *ids);
	rc = ids ? member_setup_connect(&s, &l, ids) : GRP_ENOMEM;
	grp_sst *sst = NULL;
	if (!rc)
		rc = open_table(&s, l, ids, layout, callbacks, user, &sst);
	free(ids);
	member_setup_free(&s);
	if (rc) {
		if (l)
			links_engine_stop(l);
		sst_destroy(sst);
		links_close(l);
		return rc;
	}
	*out = sst;
	return 0;
}

/* The engine stops before the fences, so that a trigger still running (an
 * acknowledgement after a delivery the application has just seen) posts
 * its pushes before them, not after. */
GRP_API void grp_sst_close(grp_sst *sst)
{
	if (!sst)
		return;
	struct links *l = sst_links(sst);
	links_engine_stop(l);
	sst_fence(sst);
	sst_destroy(sst);
	links_close(l);
}
