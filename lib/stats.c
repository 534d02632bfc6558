/* grp_stats: the counters every layer adds to, with the view and the
 * durable frontier beside them. */
#include "stats.h"

#include <string.h>

#include "group_internal.h"

#define COUNTED(field, counter) { #field, offsetof(grp_stats_t, field), counter }
const struct stat_field stat_fields[] = {
	COUNTED(msgs_sent, COUNTER_MSGS_SENT),
	COUNTED(bytes_sent, COUNTER_BYTES_SENT),
	COUNTED(msgs_delivered, COUNTER_MSGS_DELIVERED),
	COUNTED(bytes_delivered, COUNTER_BYTES_DELIVERED),
	COUNTED(nulls_sent, COUNTER_NULLS_SENT),
	COUNTED(rdmc_blocks_sent, COUNTER_RDMC_BLOCKS_SENT),
	COUNTED(rdmc_blocks_received, COUNTER_RDMC_BLOCKS_RECEIVED),
	COUNTED(views_installed, COUNTER_VIEWS_INSTALLED),
	COUNTED(suspicions, COUNTER_SUSPICIONS),
	COUNTED(engine_sleeps, COUNTER_ENGINE_SLEEPS),
	COUNTED(engine_wakeups, COUNTER_ENGINE_WAKEUPS),
	COUNTED(send_window_waits, COUNTER_SEND_WINDOW_WAITS),
	COUNTED(persisted_version, COUNTER_COUNT),
	COUNTED(logged_version, COUNTER_COUNT),
};
const size_t n_stat_fields = sizeof stat_fields / sizeof stat_fields[0];

static uint64_t field_value(grp_t *g, const struct stat_field *f)
{
	if (f->counter < COUNTER_COUNT)
		return counter_get(&g->counters, f->counter);
	if (f->offset == offsetof(grp_stats_t, persisted_version))
		return atomic_load(&g->durable.frontier);
	return atomic_load(&g->durable.last_version);
}

GRP_API int grp_stats(grp_t *g, grp_stats_t *out)
{
	if (!g || !out || out->size < offsetof(grp_stats_t, vid) + sizeof out->vid)
		return GRP_EINVAL;
	grp_stats_t s = {
		.size = out->size < sizeof s ? out->size : sizeof s,
		.vid = atomic_load_explicit(&g->view_vid, memory_order_relaxed),
		.n_members = atomic_load_explicit(&g->view_n, memory_order_relaxed),
	};
	for (size_t i = 0; i < n_stat_fields; i++) {
		uint64_t v = field_value(g, &stat_fields[i]);
		memcpy((char *)&s + stat_fields[i].offset, &v, sizeof v);
	}
	memcpy(out, &s, s.size);
	return 0;
}
