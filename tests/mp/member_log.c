#include "member_log.h"

#include <string.h>

#include "delivery_log.h"

int member_log_open(struct member_log *ml, const char *dir, unsigned rank, unsigned n,
		    const unsigned char *stays, const unsigned char *sender, uint64_t messages)
{
	if (n > MEMBER_LOG_MAX)
		return -1;
	*ml = (struct member_log){ .views.failures_allowed = true, .n = n, .messages = messages };
	memcpy(ml->stays, stays, n);
	memcpy(ml->sender, sender, n);
	delivery_count_init(&ml->done_signal);
	delivery_count_init(&ml->delivered);
	ml->log = delivery_log_open(dir, rank);
	return ml->log ? 0 : -1;
}

void member_log_close(struct member_log *ml)
{
	if (ml->log)
		fclose(ml->log);
	delivery_count_destroy(&ml->done_signal);
	delivery_count_destroy(&ml->delivered);
}

static bool finished(const struct member_log *ml)
{
	unsigned stay = 0;
	for (unsigned r = 0; r < ml->n; r++)
		stay += ml->stays[r];
	if (ml->views.stopped || ml->views.n != stay)
		return false;
	for (unsigned i = 0; i < ml->views.n; i++) {
		unsigned id = ml->views.members[i];
		if (id >= ml->n || !ml->stays[id] || (ml->sender[id] && ml->got[id] < ml->messages))
			return false;
	}
	return true;
}

static void check_done(struct member_log *ml)
{
	if (ml->done || !finished(ml))
		return;
	ml->done = true;
	fflush(ml->log);
	delivery_count_add(&ml->done_signal);
}

void member_log_deliver(struct member_log *ml, const grp_delivery *msg)
{
	if (ml->done)
		return;
	delivery_log_write(ml->log, msg);
	if (msg->sender < MEMBER_LOG_MAX)
		ml->got[msg->sender]++;
	delivery_count_add(&ml->delivered);
	check_done(ml);
}

void member_log_view(struct member_log *ml, const grp_view *view)
{
	if (ml->done)
		return;
	delivery_log_view(ml->log, view);
	view_track_add(&ml->views, view);
	check_done(ml);
}
