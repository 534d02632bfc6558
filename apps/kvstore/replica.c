#include "replica.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "op.h"

int replica_init(struct replica *r)
{
	memset(r, 0, sizeof *r);
	if (map_init(&r->map) != 0)
		return -1;
	clock_cond_init_monotonic(&r->changed);
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void replica_destroy(struct replica *r)
{
	map_free(&r->map);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
}

/* A node id's rank in the first view, or n_first if it was not there. */
static unsigned first_rank(const struct replica *r, unsigned id)
{
	if (id < r->n_first && r->first[id] == id) /* node ids by default */
		return id;
	for (unsigned i = 0; i < r->n_first; i++)
		if (r->first[i] == id)
			return i;
	return r->n_first;
}

static void apply(struct replica *r, const struct kv_op *op)
{
	if (op->code == OP_DELETE) {
		map_delete(&r->map, op->key, op->key_len);
		r->deletes++;
	} else if (map_put(&r->map, op->key, op->key_len, op->value, op->value_len) == 0) {
		r->puts++;
	} else {
		r->out_of_memory = true;
	}
}

/* One warning is enough to point at a bad sender; the count shows the rest. */
static void reject(struct replica *r, unsigned rank, const grp_delivery *msg, const char *why)
{
	if (r->rejected++ == 0)
		fprintf(stderr,
			"kvstore: member %u: rejected operation %" PRIu64 " of member %u (%zu bytes): "
			"%s; further rejections are only counted\n",
			rank, msg->index, msg->sender, msg->len, why);
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	struct replica *r = user;
	struct kv_op op;
	const char *invalid = op_decode(msg->data, msg->len, &op);
	pthread_mutex_lock(&r->lock);
	if (invalid)
		reject(r, grp_rank(g), msg, invalid);
	else
		apply(r, &op);
	unsigned sender = first_rank(r, msg->sender);
	if (sender < r->n_first)
		r->from[sender]++;
	else
		r->strangers++;
	r->delivered++;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static bool names_us_departed(const grp_view *v)
{
	return v->n_departed == 1 && v->my_rank < v->n_members &&
	       v->departed[0] == v->members[v->my_rank];
}

static void on_view(grp_t *g, const grp_view *view, void *user)
{
	(void)g;
	struct replica *r = user;
	pthread_mutex_lock(&r->lock);
	unsigned n = view->n_members < REPLICA_MAX_MEMBERS ? view->n_members : REPLICA_MAX_MEMBERS;
	if (r->n_first > 0 && names_us_departed(view)) {
		/* Our last call: we stopped, in the view we were in. */
		r->stopped = (int)view->departed_reason[0];
	} else {
		if (r->n_first == 0) {
			r->n_first = n;
			memcpy(r->first, view->members, n * sizeof *r->first);
		}
		r->n_members = n;
		memcpy(r->members, view->members, n * sizeof *r->members);
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

const grp_callbacks replica_callbacks = {
	.size = sizeof replica_callbacks, .deliver = on_deliver, .view = on_view,
};

unsigned replica_members(struct replica *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->n_first;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void replica_expect(struct replica *r, uint64_t operations, const bool *sends)
{
	pthread_mutex_lock(&r->lock);
	r->per_sender = operations;
	memcpy(r->sends, sends, r->n_first * sizeof *r->sends);
	r->expecting = true;
	pthread_mutex_unlock(&r->lock);
}

/* Under lock: every sender of the current view has had all its operations
 * applied. */
static bool all_applied(const struct replica *r)
{
	if (!r->expecting)
		return false;
	for (unsigned i = 0; i < r->n_members; i++) {
		unsigned s = first_rank(r, r->members[i]);
		if (s < r->n_first && r->sends[s] && r->from[s] < r->per_sender)
			return false;
	}
	return true;
}

int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms)
{
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (!all_applied(r) && !r->stopped && rc == 0)
		rc = pthread_cond_timedwait(&r->changed, &r->lock, &until);
	bool done = all_applied(r) && !r->stopped;
	int stopped = r->stopped;
	uint64_t delivered = r->delivered;
	unsigned n = r->n_members;
	pthread_mutex_unlock(&r->lock);
	if (done)
		return 0;
	if (stopped)
		fprintf(stderr, "kvstore: member %u: stopped (%s) after %" PRIu64 " operations\n",
			rank, stopped == GRP_DEPARTED_MINORITY ? "in a minority" : "evicted",
			delivered);
	else
		fprintf(stderr, "kvstore: member %u: the senders of its view of %u members have not "
			"all had their operations applied in %u ms (%" PRIu64 " applied)\n", rank, n,
			timeout_ms, delivered);
	return 1;
}

int replica_result(struct replica *r, unsigned rank, struct result *res)
{
	pthread_mutex_lock(&r->lock);
	bool out_of_memory = r->out_of_memory;
	unsigned too_many = r->n_first;
	for (unsigned s = 0; s < r->n_first; s++)
		if (r->from[s] > (r->sends[s] ? r->per_sender : 0))
			too_many = s;
	bool excess = too_many < r->n_first;
	uint64_t strangers = r->strangers;
	*res = (struct result){
		.applied = r->puts + r->deletes, .puts = r->puts, .deletes = r->deletes,
		.rejected = r->rejected, .keys = r->map.count, .hash = map_hash(&r->map),
	};
	pthread_mutex_unlock(&r->lock);
	if (out_of_memory)
		fprintf(stderr, "kvstore: member %u: out of memory applying a put\n", rank);
	if (excess)
		fprintf(stderr, "kvstore: member %u: more operations applied of member %u than it "
			"performs\n", rank, too_many);
	if (strangers)
		fprintf(stderr, "kvstore: member %u: %" PRIu64 " operations from outside the group\n",
			rank, strangers);
	return out_of_memory || excess || strangers ? 1 : 0;
}
