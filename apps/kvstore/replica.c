#include "replica.h"

#include <inttypes.h>
#include <stdio.h>

#include "clock.h"
#include "op.h"

int replica_init(struct replica *r)
{
	*r = (struct replica){ 0 };
	if (map_init(&r->map) != 0)
		return -1;
	clock_cond_init_monotonic(&r->all_delivered);
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void replica_destroy(struct replica *r)
{
	map_free(&r->map);
	pthread_cond_destroy(&r->all_delivered);
	pthread_mutex_destroy(&r->lock);
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
	/* expected is still 0 until the member has read the configuration:
	 * the needless wake-ups then find nobody waiting yet. */
	if (++r->delivered >= r->expected)
		pthread_cond_broadcast(&r->all_delivered);
	pthread_mutex_unlock(&r->lock);
}

static void on_view(grp_t *g, const grp_view *view, void *user)
{
	(void)g;
	struct replica *r = user;
	pthread_mutex_lock(&r->lock);
	r->n_members = view->n_members;
	pthread_mutex_unlock(&r->lock);
}

const grp_callbacks replica_callbacks = {
	.size = sizeof replica_callbacks, .deliver = on_deliver, .view = on_view,
};

unsigned replica_members(struct replica *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->n_members;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void replica_expect(struct replica *r, uint64_t operations)
{
	pthread_mutex_lock(&r->lock);
	r->expected = operations;
	pthread_mutex_unlock(&r->lock);
}

int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms)
{
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (r->delivered < r->expected && rc == 0)
		rc = pthread_cond_timedwait(&r->all_delivered, &r->lock, &until);
	uint64_t delivered = r->delivered, expected = r->expected;
	pthread_mutex_unlock(&r->lock);
	if (delivered >= expected)
		return 0;
	fprintf(stderr, "kvstore: member %u: received %" PRIu64 " of %" PRIu64 " operations in %u ms\n",
		rank, delivered, expected, timeout_ms);
	return 1;
}

int replica_result(struct replica *r, unsigned rank, struct result *res)
{
	pthread_mutex_lock(&r->lock);
	bool out_of_memory = r->out_of_memory;
	*res = (struct result){
		.applied = r->puts + r->deletes, .puts = r->puts, .deletes = r->deletes,
		.rejected = r->rejected, .keys = r->map.count, .hash = map_hash(&r->map),
	};
	pthread_mutex_unlock(&r->lock);
	if (out_of_memory)
		fprintf(stderr, "kvstore: member %u: out of memory applying a put\n", rank);
	return out_of_memory ? 1 : 0;
}
