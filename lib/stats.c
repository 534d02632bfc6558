/* grp_stats: the counters every layer adds to, with the view and the
 * durable frontier beside them. */
#include <stddef.h>
#include <string.h>

#include "group_internal.h"

GRP_API int grp_stats(grp_t *g, grp_stats_t *out)
{
	if (!g || !out || out->size < offsetof(grp_stats_t, vid) + sizeof out->vid)
		return GRP_EINVAL;
	const struct counters *c = &g->counters;
	grp_stats_t s = {
		.size = out->size < sizeof s ? out->size : sizeof s,
		.vid = atomic_load_explicit(&g->view_vid, memory_order_relaxed),
		.n_members = atomic_load_explicit(&g->view_n, memory_order_relaxed),
		.msgs_sent = counter_get(c, COUNTER_MSGS_SENT),
		.bytes_sent = counter_get(c, COUNTER_BYTES_SENT),
		.msgs_delivered = counter_get(c, COUNTER_MSGS_DELIVERED),
		.bytes_delivered = counter_get(c, COUNTER_BYTES_DELIVERED),
		.nulls_sent = counter_get(c, COUNTER_NULLS_SENT),
		.rdmc_blocks_sent = counter_get(c, COUNTER_RDMC_BLOCKS_SENT),
		.rdmc_blocks_received = counter_get(c, COUNTER_RDMC_BLOCKS_RECEIVED),
		.views_installed = counter_get(c, COUNTER_VIEWS_INSTALLED),
		.suspicions = counter_get(c, COUNTER_SUSPICIONS),
		.engine_sleeps = counter_get(c, COUNTER_ENGINE_SLEEPS),
		.engine_wakeups = counter_get(c, COUNTER_ENGINE_WAKEUPS),
		.send_window_waits = counter_get(c, COUNTER_SEND_WINDOW_WAITS),
		.persisted_version = atomic_load(&g->durable.frontier),
		.logged_version = atomic_load(&g->durable.last_version),
	};
	memcpy(out, &s, s.size);
	return 0;
}
