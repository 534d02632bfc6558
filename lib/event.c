#include "event.h"

#include <stdlib.h>
#include <string.h>

/* The copies follow the header: payload bytes, or a view's ids then its
 * departure reasons (both 4-byte types, after a header whose size is a
 * multiple of its 8-byte alignment). */
static void *copies(struct event *ev)
{
	return ev + 1;
}

static struct event *event_new(enum event_kind kind, size_t extra)
{
	struct event *ev = malloc(sizeof *ev + extra);
	if (ev)
		*ev = (struct event){ .kind = kind, .bytes = sizeof *ev + extra };
	return ev;
}

size_t event_delivery_bytes(size_t len)
{
	return sizeof(struct event) + len;
}

static struct event *copy_delivery(const grp_delivery *msg)
{
	struct event *ev = event_new(EVENT_DELIVERY, msg->len);
	if (!ev)
		return NULL;
	ev->msg = *msg;
	if (msg->len)
		memcpy(copies(ev), msg->data, msg->len);
	ev->msg.data = copies(ev);
	return ev;
}

static struct event *copy_view(const grp_view *v)
{
	unsigned n = v->n_members + v->n_joined + v->n_departed;
	struct event *ev = event_new(EVENT_VIEW, n * sizeof(unsigned) +
						 v->n_departed * sizeof(enum grp_departure));
	if (!ev)
		return NULL;
	ev->view = *v;
	unsigned *members = copies(ev);
	unsigned *joined = members + v->n_members;
	unsigned *departed = joined + v->n_joined;
	enum grp_departure *reasons = (enum grp_departure *)(departed + v->n_departed);
	/* Empty lists are NULL in a view, which memcpy may not be given. */
	memcpy(members, v->members, v->n_members * sizeof *members);
	if (v->n_joined)
		memcpy(joined, v->joined, v->n_joined * sizeof *joined);
	if (v->n_departed) {
		memcpy(departed, v->departed, v->n_departed * sizeof *departed);
		memcpy(reasons, v->departed_reason, v->n_departed * sizeof *reasons);
	}
	ev->view.members = members;
	ev->view.joined = v->n_joined ? joined : NULL;
	ev->view.departed = v->n_departed ? departed : NULL;
	ev->view.departed_reason = v->n_departed ? reasons : NULL;
	return ev;
}

struct event *event_copy(const struct event *ev)
{
	switch (ev->kind) {
	case EVENT_DELIVERY:
		return copy_delivery(&ev->msg);
	case EVENT_VIEW:
		return copy_view(&ev->view);
	case EVENT_PERSISTED: {
		struct event *copy = event_new(EVENT_PERSISTED, 0);
		if (copy)
			copy->version = ev->version;
		return copy;
	}
	}
	return NULL;
}
