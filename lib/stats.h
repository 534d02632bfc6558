/* The 64-bit fields of grp_stats_t by name, for grp_stats and the admin
 * socket's stats. */
#ifndef GRP_LIB_STATS_H
#define GRP_LIB_STATS_H

#include <stddef.h>

#include <group/group.h>

#include "counters.h"

struct stat_field {
	const char *name;
	size_t offset;          /* in grp_stats_t */
	enum counter_id counter; /* COUNTER_COUNT: a version, not a counter */
};

extern const struct stat_field stat_fields[];
extern const size_t n_stat_fields;

#endif
