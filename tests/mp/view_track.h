/* The views one member saw, checked as they arrive (from the view
 * callback): the first has every member joined; each later one follows by
 * one vid, nobody joins, and its members are the previous view's minus the
 * departed, each departure for an allowed reason. */
#ifndef GRP_TEST_VIEW_TRACK_H
#define GRP_TEST_VIEW_TRACK_H

#include <stdbool.h>

#include <group/group.h>

#define VIEW_TRACK_MAX 64u

struct view_track {
	unsigned views;
	uint32_t last_vid;
	unsigned n, members[VIEW_TRACK_MAX];
	bool failures_allowed; /* departures other than LEFT (set before the first view) */
	bool stopped;          /* a last view named us departed */
	char problem[160];     /* the first violation, "" if none */
};

void view_track_add(struct view_track *t, const grp_view *v);

#endif
