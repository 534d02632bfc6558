#include "replica.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "op.h"
#include "snapshot.h"

int replica_init(struct replica *r, uint64_t per_sender, const bool *sends, bool durable)
{
	memset(r, 0, sizeof *r);
	if (map_init(&r->map) != 0)
		return -1;
	r->tally.per_sender = per_sender;
	r->founder = sends != NULL;
	r->durable = durable;
	if (sends)
		memcpy(r->sends_by_rank, sends, sizeof r->sends_by_rank);
	for (unsigned id = 0; durable && sends && id < REPLICA_MAX_MEMBERS && id < TALLY_IDS; id++)
		r->tally.sends[id] = sends[id];
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

static void apply(struct replica *r, const struct kv_op *op, unsigned sender)
{
	if (op->code == OP_MARK) {
		if (sender < TALLY_IDS)
			r->marked[sender] = true;
	} else if (op->code == OP_DELETE) {
		map_delete(&r->map, op->key, op->key_len);
		r->tally.deletes++;
	} else if (map_put(&r->map, op->key, op->key_len, op->value, op->value_len) == 0) {
		r->tally.puts++;
	} else {
		r->out_of_memory = true;
	}
}

/* One warning is enough to point at a bad sender; the count shows the rest. */
static void reject(struct replica *r, unsigned rank, const grp_delivery *msg, const char *why)
{
	if (r->tally.rejected++ == 0)
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
		apply(r, &op, msg->sender);
	/* A mark is no operation of the load: it counts nowhere. */
	bool mark = !invalid && op.code == OP_MARK;
	if (!mark && msg->sender < TALLY_IDS && r->tally.sends[msg->sender])
		r->tally.from[msg->sender]++;
	else if (!mark)
		r->tally.strangers++;
	r->delivered++;
	r->replayed += msg->replayed != 0;
	if (!msg->replayed && msg->sender == r->self && r->n_first > 0 && !mark) {
		r->own_live++;
		r->own_last_version = msg->version;
	}
	history_probe_take(&r->probe, &r->map, msg, invalid ? NULL : &op, r->delivered);
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static bool names_us_departed(const grp_view *v)
{
	return v->n_departed == 1 && v->my_rank < v->n_members &&
	       v->departed[0] == v->members[v->my_rank];
}

/* Under lock: a founder's first view names its senders by node id. */
static void first_view(struct replica *r)
{
	r->n_first = r->n_members;
	for (unsigned i = 0; r->founder && !r->durable && i < r->n_members; i++)
		if (r->members[i] < TALLY_IDS)
			r->tally.sends[r->members[i]] = r->sends_by_rank[i];
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
		r->n_members = n;
		memcpy(r->members, view->members, n * sizeof *r->members);
		r->self = view->members[view->my_rank];
		if (r->n_first == 0)
			first_view(r);
		if (n > r->largest)
			r->largest = n;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static int write_state(void *arg, const void *buf, size_t len)
{
	return grp_state_write(arg, buf, len);
}

static int read_state(void *arg, void *buf, size_t cap, size_t *got)
{
	return grp_state_read(arg, buf, cap, got);
}

/* No deliver or view callback runs while this does, so the map and tally
 * hold still without the lock, and the member's thread, which only reads
 * them, is not held up for the length of the transfer. */
static int on_state_save(grp_t *g, void *user)
{
	struct replica *r = user;
	if (r->out_of_memory) {
		fprintf(stderr, "kvstore: member %u: its map is wrong (out of memory): not serving "
			"a joiner\n", grp_rank(g));
		return 1;
	}
	return snapshot_save(&r->tally, &r->map, write_state, g);
}

static int on_state_load(grp_t *g, void *user)
{
	struct replica *r = user;
	pthread_mutex_lock(&r->lock);
	const char *why = snapshot_load(&r->tally, &r->map, read_state, g);
	pthread_mutex_unlock(&r->lock);
	if (why)
		fprintf(stderr, "kvstore: member %u: the state: %s\n", grp_rank(g), why);
	return why ? 1 : 0;
}

const grp_callbacks replica_callbacks = {
	.size = sizeof replica_callbacks, .deliver = on_deliver, .view = on_view,
	.state_save = on_state_save, .state_load = on_state_load,
};

/* persist.mode on: the log is the state (see replica.h). */
const grp_callbacks replica_durable_callbacks = {
	.size = sizeof replica_durable_callbacks, .deliver = on_deliver, .view = on_view,
};

int replica_own_version(struct replica *r, uint64_t seq, uint64_t *version)
{
	pthread_mutex_lock(&r->lock);
	int rc = r->own_live == seq + 1 ? 0 : -1;
	*version = r->own_last_version;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

bool replica_sends(struct replica *r, unsigned rank)
{
	if (!r->founder)
		return false;
	if (!r->durable)
		return rank < REPLICA_MAX_MEMBERS && r->sends_by_rank[rank];
	/* By node id: after a restart our rank need not be our first one. */
	pthread_mutex_lock(&r->lock);
	bool sends = r->self < TALLY_IDS && r->tally.sends[r->self];
	pthread_mutex_unlock(&r->lock);
	return sends;
}

/* Under lock: the view has grown by `joins` members. */
static bool joined(const struct replica *r, unsigned joins)
{
	return r->largest >= r->n_first + joins;
}

/* Under lock: every sender of the current view has had all its operations
 * applied. */
static bool all_applied(const struct replica *r, unsigned unused)
{
	(void)unused;
	for (unsigned i = 0; i < r->n_members; i++) {
		unsigned id = r->members[i];
		if (id < TALLY_IDS && r->tally.sends[id] && r->tally.from[id] < r->tally.per_sender)
			return false;
	}
	return true;
}

/* Under lock: every sender sent its mark. */
static bool all_marked(const struct replica *r, unsigned unused)
{
	(void)unused;
	for (unsigned id = 0; id < TALLY_IDS; id++)
		if (r->tally.sends[id] && !r->marked[id])
			return false;
	return true;
}

/* Waits until done(r, arg), at most timeout_ms, unless we stop first:
 * whether it is done, and *stopped. */
static bool await(struct replica *r, bool (*done)(const struct replica *, unsigned), unsigned arg,
		  unsigned timeout_ms, int *stopped)
{
	struct timespec until = clock_monotonic_in_ms(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (!done(r, arg) && !r->stopped && rc == 0)
		rc = pthread_cond_timedwait(&r->changed, &r->lock, &until);
	*stopped = r->stopped;
	bool ok = done(r, arg) && !r->stopped;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static void say_stopped(struct replica *r, unsigned rank, int stopped)
{
	fprintf(stderr, "kvstore: member %u: stopped (%s) after %" PRIu64 " operations\n", rank,
		stopped == GRP_DEPARTED_MINORITY ? "in a minority" : "evicted", r->delivered);
}

int replica_await_joins(struct replica *r, unsigned joins, unsigned rank, unsigned timeout_ms)
{
	int stopped;
	if (await(r, joined, joins, timeout_ms, &stopped))
		return 0;
	pthread_mutex_lock(&r->lock);
	if (stopped)
		say_stopped(r, rank, stopped);
	else
		fprintf(stderr, "kvstore: member %u: %u joiners awaited, the largest view had %u "
			"members, the first %u, in %u ms\n", rank, joins, r->largest, r->n_first,
			timeout_ms);
	pthread_mutex_unlock(&r->lock);
	return 1;
}

int replica_await_all(struct replica *r, unsigned rank, unsigned timeout_ms)
{
	int stopped;
	if (await(r, all_applied, 0, timeout_ms, &stopped))
		return 0;
	pthread_mutex_lock(&r->lock);
	if (stopped)
		say_stopped(r, rank, stopped);
	else
		fprintf(stderr, "kvstore: member %u: the senders of its view of %u members have not "
			"all had their operations applied in %u ms (%" PRIu64 " applied)\n", rank,
			r->n_members, timeout_ms, r->delivered);
	pthread_mutex_unlock(&r->lock);
	return 1;
}

int replica_await_marks(struct replica *r, unsigned rank, unsigned timeout_ms)
{
	int stopped;
	if (await(r, all_marked, 0, timeout_ms, &stopped))
		return 0;
	pthread_mutex_lock(&r->lock);
	if (stopped)
		say_stopped(r, rank, stopped);
	else
		fprintf(stderr, "kvstore: member %u: not every sender was back (its mark delivered) "
			"in %u ms\n", rank, timeout_ms);
	pthread_mutex_unlock(&r->lock);
	return 1;
}

int replica_result(struct replica *r, unsigned rank, struct result *res)
{
	pthread_mutex_lock(&r->lock);
	const struct kv_tally *t = &r->tally;
	bool out_of_memory = r->out_of_memory;
	unsigned too_many = TALLY_IDS;
	for (unsigned id = 0; id < TALLY_IDS; id++)
		if (t->sends[id] && t->from[id] > t->per_sender)
			too_many = id;
	uint64_t strangers = t->strangers;
	*res = (struct result){
		.applied = t->puts + t->deletes, .puts = t->puts, .deletes = t->deletes,
		.rejected = t->rejected, .keys = r->map.count, .hash = map_hash(&r->map),
	};
	pthread_mutex_unlock(&r->lock);
	if (out_of_memory)
		fprintf(stderr, "kvstore: member %u: out of memory applying a put\n", rank);
	if (too_many < TALLY_IDS)
		fprintf(stderr, "kvstore: member %u: more operations applied of member %u than it "
			"performs\n", rank, too_many);
	if (strangers)
		fprintf(stderr, "kvstore: member %u: %" PRIu64 " operations from members that are not senders\n",
			rank, strangers);
	return out_of_memory || too_many < TALLY_IDS || strangers ? 1 : 0;
}
