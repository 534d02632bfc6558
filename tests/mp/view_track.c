#include "view_track.h"

#include <stdio.h>
#include <string.h>

static bool member_of(const struct view_track *t, unsigned id)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->members[i] == id)
			return true;
	return false;
}

static void fail(struct view_track *t, const grp_view *v, const char *what)
{
	if (!t->problem[0])
		snprintf(t->problem, sizeof t->problem, "view %u (after %u views): %s", v->vid,
			 t->views, what);
}

/* Our own last view: the one we were in, naming us departed. */
static bool names_us_departed(const grp_view *v)
{
	return v->n_departed == 1 && v->my_rank < v->n_members &&
	       v->departed[0] == v->members[v->my_rank];
}

static void check_departures(struct view_track *t, const grp_view *v)
{
	unsigned expected = t->n;
	for (unsigned i = 0; i < v->n_departed; i++) {
		if (!member_of(t, v->departed[i]))
			fail(t, v, "a departed member was not in the view before");
		if (v->departed_reason[i] != GRP_DEPARTED_LEFT && !t->failures_allowed)
			fail(t, v, "a departure other than a clean leave");
		expected--;
	}
	if (v->n_members != expected)
		fail(t, v, "members are not the view before minus the departed");
	for (unsigned i = 0; i < v->n_members; i++)
		if (!member_of(t, v->members[i]))
			fail(t, v, "a member that was not in the view before");
}

void view_track_add(struct view_track *t, const grp_view *v)
{
	if (t->stopped)
		fail(t, v, "a view after we stopped");
	if (t->views > 0 && names_us_departed(v) && v->vid == t->last_vid) {
		if (!t->failures_allowed)
			fail(t, v, "we stopped");
		t->stopped = true;
		return;
	}
	if (v->n_members > VIEW_TRACK_MAX || v->my_rank >= v->n_members) {
		fail(t, v, "malformed");
		return;
	}
	if (t->views == 0) {
		if (v->n_joined != v->n_members || v->n_departed != 0)
			fail(t, v, "the first view does not have every member joined");
	} else {
		if (v->vid != t->last_vid + 1)
			fail(t, v, "does not follow the view before by one");
		if (v->n_joined != 0)
			fail(t, v, "someone joined");
		check_departures(t, v);
	}
	t->views++;
	t->last_vid = v->vid;
	t->n = v->n_members;
	memcpy(t->members, v->members, v->n_members * sizeof *v->members);
}
