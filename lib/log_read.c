/* Reading the member's log while the group runs (group.h, "Persistence"). */
#include <stdlib.h>

#include "durable.h"
#include "epoch.h"
#include "group_internal.h"

struct grp_log_iter {
	struct plog_iter *it;
};

static int open_iter(grp_t *g, bool by_time, uint64_t from, uint64_t to, grp_log_iter **out)
{
	if (!g || !out || from > to)
		return GRP_EINVAL;
	if (!g->durable.log)
		return GRP_ENOTFOUND;
	grp_log_iter *li = calloc(1, sizeof *li);
	if (!li)
		return GRP_ENOMEM;
	int rc = by_time ? plog_iter_times(g->durable.log, from, to, &li->it)
			 : plog_iter_versions(g->durable.log, from, to, &li->it);
	if (rc) {
		free(li);
		return rc;
	}
	*out = li;
	return 0;
}

GRP_API int grp_log_versions(grp_t *g, uint64_t from, uint64_t to, grp_log_iter **out)
{
	return open_iter(g, false, from, to, out);
}

GRP_API int grp_log_times(grp_t *g, uint64_t from_us, uint64_t to_us, grp_log_iter **out)
{
	return open_iter(g, true, from_us, to_us, out);
}

GRP_API int grp_log_next(grp_log_iter *li, grp_delivery *msg)
{
	if (!li || !msg)
		return GRP_EINVAL;
	struct plog_record r;
	int rc;
	while ((rc = plog_iter_next(li->it, &r)) == 1 && r.kind != PLOG_MESSAGE)
		;
	if (rc == 1)
		*msg = (grp_delivery){
			.vid = epoch_version_vid(r.version), .sender = r.sender,
			.data = r.data, .len = r.len, .version = r.version,
			.timestamp_us = r.hlc, .replayed = 1,
		};
	return rc;
}

GRP_API void grp_log_iter_free(grp_log_iter *li)
{
	if (!li)
		return;
	plog_iter_free(li->it);
	free(li);
}
