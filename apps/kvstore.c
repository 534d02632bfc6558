/* kvstore: a replicated key-value store over libgroup's ordered multicast.
 *
 * Every member keeps a map from string keys to string values. Updates are
 * multicast with grp_send and applied only when they are delivered, so every
 * member applies the same operations in the same order and must end with
 * the same map; each member prints a hash of its map to show that it does.
 *
 *   kvstore --local 3 --ops 3000 --senders half
 *	starts 3 member processes on 127.0.0.1; every sending member performs
 *	3000 random puts and deletes; the parent prints each member's result
 *	and exits 0 only if all members agree.
 *
 *   kvstore -c member0.ini --ops 3000
 *	one member of a real deployment: group.members, member.rank and
 *	multicast.senders come from the INI file (GROUP_* variables override
 *	it, see group/config.h); it prints its own result line.
 *
 * Wire format of one operation, integers little-endian:
 *
 *   u8 version (1) | u8 op (1 put, 2 delete) | u16 key length |
 *   u16 value length | key bytes | value bytes
 *
 * A key has 1..64 bytes, a value 0..1000 and a delete has none. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <group/group.h>

#include "clock.h"
#include "localgroup.h"

#define WIRE_VERSION 1
#define OP_PUT 1
#define OP_DELETE 2
#define HEADER_LEN 6
#define KEY_MAX 64
#define VALUE_MAX 1000
#define OP_LEN_MAX (HEADER_LEN + KEY_MAX + VALUE_MAX)

#define PUT_PERCENT 70
#define WAIT_S 120
/* Members report only once they have applied everything (WAIT_S at most)
 * and left; the margin covers joining and leaving. */
#define PARENT_WAIT_MS ((WAIT_S + 60) * 1000u)
#define LOCAL_MAX 64
#define SENDERS_TEXT_LEN 8192 /* "0,1,...,1023": the largest group */
#define RESULT_LEN 256
#define INITIAL_BUCKETS 64

#define FNV_OFFSET 0xcbf29ce484222325u
#define FNV_PRIME 0x100000001b3u

enum senders_choice { SENDERS_ALL, SENDERS_HALF, SENDERS_ONE };

struct options {
	unsigned local_n; /* 0 when run from a configuration file */
	const char *config_path;
	uint64_t ops;
	uint64_t keys;
	uint64_t seed;
	enum senders_choice senders;
	bool senders_given;
};

/* ---- hashing and random numbers ---- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

/* splitmix64's finaliser: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* splitmix64: any seed, even 0, starts a good stream. */
static uint64_t next_random(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15u;
	return mix64(*state);
}

/* ---- wire format ---- */

struct kv_op {
	uint8_t code;
	uint16_t key_len;
	uint16_t value_len;
	const char *key;
	const char *value; /* never NULL, even when value_len is 0 */
};

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static size_t op_encode(uint8_t *buf, const struct kv_op *op)
{
	buf[0] = WIRE_VERSION;
	buf[1] = op->code;
	put_u16(buf + 2, op->key_len);
	put_u16(buf + 4, op->value_len);
	memcpy(buf + HEADER_LEN, op->key, op->key_len);
	memcpy(buf + HEADER_LEN + op->key_len, op->value, op->value_len);
	return HEADER_LEN + (size_t)op->key_len + op->value_len;
}

/* Fills op from a delivered message; returns why the message is invalid, or
 * NULL if it is a well-formed operation. */
static const char *op_decode(const void *data, size_t len, struct kv_op *op)
{
	const uint8_t *p = data;
	if (len < HEADER_LEN)
		return "shorter than the header";
	if (p[0] != WIRE_VERSION)
		return "unknown format version";
	op->code = p[1];
	op->key_len = get_u16(p + 2);
	op->value_len = get_u16(p + 4);
	if (op->code != OP_PUT && op->code != OP_DELETE)
		return "unknown operation";
	if (op->key_len == 0 || op->key_len > KEY_MAX)
		return "key length out of range";
	if (op->value_len > VALUE_MAX)
		return "value too long";
	if (op->code == OP_DELETE && op->value_len != 0)
		return "delete carries a value";
	if (len != HEADER_LEN + (size_t)op->key_len + op->value_len)
		return "lengths disagree with the message length";
	op->key = (const char *)p + HEADER_LEN;
	op->value = op->key + op->key_len;
	return NULL;
}

/* ---- the map: chained hash table, doubled when it holds one key per bucket ---- */

struct kv_entry {
	struct kv_entry *next;
	uint16_t key_len;
	uint16_t value_len;
	char bytes[]; /* key, then value */
};

struct kv_map {
	struct kv_entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count;
};

static int map_init(struct kv_map *map)
{
	map->buckets = calloc(INITIAL_BUCKETS, sizeof *map->buckets);
	map->n_buckets = INITIAL_BUCKETS;
	map->count = 0;
	return map->buckets ? 0 : -1;
}

static void map_free(struct kv_map *map)
{
	for (size_t b = 0; b < map->n_buckets; b++) {
		struct kv_entry *e = map->buckets[b];
		while (e) {
			struct kv_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(map->buckets);
}

static size_t bucket_of(const struct kv_map *map, const char *key, uint16_t key_len)
{
	return (size_t)fnv1a(FNV_OFFSET, key, key_len) & (map->n_buckets - 1);
}

static int map_grow(struct kv_map *map)
{
	struct kv_map bigger = { .n_buckets = map->n_buckets * 2, .count = map->count };
	bigger.buckets = calloc(bigger.n_buckets, sizeof *bigger.buckets);
	if (!bigger.buckets)
		return -1;
	for (size_t b = 0; b < map->n_buckets; b++) {
		struct kv_entry *e = map->buckets[b];
		while (e) {
			struct kv_entry *next = e->next;
			struct kv_entry **head = &bigger.buckets[bucket_of(&bigger, e->bytes, e->key_len)];
			e->next = *head;
			*head = e;
			e = next;
		}
	}
	free(map->buckets);
	*map = bigger;
	return 0;
}

/* The link that points at key's entry, or the NULL link ending its chain. */
static struct kv_entry **map_find(struct kv_map *map, const char *key, uint16_t key_len)
{
	struct kv_entry **link = &map->buckets[bucket_of(map, key, key_len)];
	while (*link && ((*link)->key_len != key_len || memcmp((*link)->bytes, key, key_len) != 0))
		link = &(*link)->next;
	return link;
}

static int map_put(struct kv_map *map, const struct kv_op *op)
{
	if (map->count >= map->n_buckets && map_grow(map) != 0)
		return -1;
	struct kv_entry *e = malloc(sizeof *e + op->key_len + op->value_len);
	if (!e)
		return -1;
	e->key_len = op->key_len;
	e->value_len = op->value_len;
	memcpy(e->bytes, op->key, op->key_len);
	memcpy(e->bytes + op->key_len, op->value, op->value_len);
	struct kv_entry **link = map_find(map, op->key, op->key_len);
	struct kv_entry *old = *link;
	e->next = old ? old->next : NULL;
	*link = e;
	if (old)
		free(old);
	else
		map->count++;
	return 0;
}

static void map_delete(struct kv_map *map, const struct kv_op *op)
{
	struct kv_entry **link = map_find(map, op->key, op->key_len);
	struct kv_entry *old = *link;
	if (!old)
		return;
	*link = old->next;
	free(old);
	map->count--;
}

/* FNV-1a over the two lengths, then the key and value bytes: the lengths
 * keep ("ab", "c") and ("a", "bc") apart. */
static uint64_t pair_hash(const struct kv_entry *e)
{
	uint8_t lengths[4];
	put_u16(lengths, e->key_len);
	put_u16(lengths + 2, e->value_len);
	uint64_t h = fnv1a(FNV_OFFSET, lengths, sizeof lengths);
	return mix64(fnv1a(h, e->bytes, (size_t)e->key_len + e->value_len));
}

/* The sum (mod 2^64) of every pair's hash: a sum does not depend on the
 * order the pairs were inserted in nor on where the table keeps them, so
 * members with equal maps get equal hashes whatever their history. Each pair
 * hash is finalised by mix64 so that similar pairs do not cancel out. */
static uint64_t map_hash(const struct kv_map *map)
{
	uint64_t sum = 0;
	for (size_t b = 0; b < map->n_buckets; b++)
		for (const struct kv_entry *e = map->buckets[b]; e; e = e->next)
			sum += pair_hash(e);
	return sum;
}

/* ---- one member's replica, shared by main and the engine thread ---- */

struct replica {
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t all_delivered;
	struct kv_map map;
	unsigned n_members;
	uint64_t expected; /* operations of every sender together */
	uint64_t delivered;
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	bool out_of_memory; /* a put could not be applied: the map is wrong */
};

struct result {
	uint64_t applied;
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	size_t keys;
	uint64_t hash;
};

/* The line a member prints, and the parent reads back. */
#define RESULT_PRINT "member %u: applied %" PRIu64 " ops (%" PRIu64 " puts, %" PRIu64 \
	" deletes, %" PRIu64 " rejected), %zu keys, map hash 0x%016" PRIx64
#define RESULT_SCAN "member %*u: applied %" SCNu64 " ops (%" SCNu64 " puts, %" SCNu64 \
	" deletes, %" SCNu64 " rejected), %zu keys, map hash 0x%" SCNx64
#define RESULT_FIELDS 6

static int replica_init(struct replica *r)
{
	*r = (struct replica){ 0 };
	if (map_init(&r->map) != 0)
		return -1;
	clock_cond_init_monotonic(&r->all_delivered);
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

static void replica_destroy(struct replica *r)
{
	map_free(&r->map);
	pthread_cond_destroy(&r->all_delivered);
	pthread_mutex_destroy(&r->lock);
}

static void replica_apply(struct replica *r, const struct kv_op *op)
{
	if (op->code == OP_DELETE) {
		map_delete(&r->map, op);
		r->deletes++;
	} else if (map_put(&r->map, op) == 0) {
		r->puts++;
	} else {
		r->out_of_memory = true;
	}
}

/* One warning is enough to point at a bad sender; the count shows the rest. */
static void replica_reject(struct replica *r, unsigned rank, const grp_delivery *msg,
			   const char *why)
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
		replica_reject(r, grp_rank(g), msg, invalid);
	else
		replica_apply(r, &op);
	/* expected is still 0 until main has read the configuration: the
	 * needless wake-ups then find main not waiting yet. */
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

/* Reads "all" or "r0,r1,...", already validated by grp_join. */
static int count_senders(const char *text, unsigned rank, unsigned n_members,
			 unsigned *n_senders, bool *is_sender)
{
	if (strcmp(text, "all") == 0) {
		*n_senders = n_members;
		*is_sender = true;
		return 0;
	}
	*n_senders = 0;
	*is_sender = false;
	for (const char *p = text; *p != '\0';) {
		char *end;
		unsigned long sender = strtoul(p, &end, 10);
		if (end == p)
			return -1;
		++*n_senders;
		*is_sender |= sender == rank;
		p = end + strspn(end, ", ");
	}
	return 0;
}

/* Every sender performs ops operations: that tells a member how many it
 * must apply before it has them all. */
static int expect_load(struct replica *r, const grp_config *cfg, unsigned rank, uint64_t ops,
		       bool *is_sender)
{
	char senders[SENDERS_TEXT_LEN];
	unsigned n_senders;
	int rc = grp_config_get(cfg, "multicast.senders", senders, sizeof senders);
	if (rc) {
		fprintf(stderr, "kvstore: member %u: multicast.senders: %s\n", rank, grp_strerror(rc));
		return 1;
	}
	pthread_mutex_lock(&r->lock);
	rc = count_senders(senders, rank, r->n_members, &n_senders, is_sender);
	r->expected = ops * n_senders;
	pthread_mutex_unlock(&r->lock);
	if (rc)
		fprintf(stderr, "kvstore: member %u: cannot read multicast.senders '%s'\n", rank, senders);
	return rc ? 1 : 0;
}

static int wait_all_delivered(struct replica *r, unsigned rank)
{
	struct timespec until = clock_monotonic_in_ms(WAIT_S * 1000u);
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	while (r->delivered < r->expected && rc == 0)
		rc = pthread_cond_timedwait(&r->all_delivered, &r->lock, &until);
	uint64_t delivered = r->delivered, expected = r->expected;
	pthread_mutex_unlock(&r->lock);
	if (delivered >= expected)
		return 0;
	fprintf(stderr, "kvstore: member %u: received %" PRIu64 " of %" PRIu64 " operations in %d s\n",
		rank, delivered, expected, WAIT_S);
	return 1;
}

static int result_line(struct replica *r, unsigned rank, char *line, size_t len)
{
	pthread_mutex_lock(&r->lock);
	bool out_of_memory = r->out_of_memory;
	snprintf(line, len, RESULT_PRINT, rank, r->puts + r->deletes, r->puts, r->deletes,
		 r->rejected, r->map.count, map_hash(&r->map));
	pthread_mutex_unlock(&r->lock);
	if (out_of_memory)
		fprintf(stderr, "kvstore: member %u: out of memory applying a put\n", rank);
	return out_of_memory ? 1 : 0;
}

/* ---- the load ---- */

/* A put (PUT_PERCENT of the time) of a random-length value, or a delete, of
 * one of `keys` keys; key and value are the caller's buffers. */
static struct kv_op random_op(uint64_t *rng, uint64_t keys, size_t max_msg, char *key, char *value)
{
	struct kv_op op = { .key = key, .value = value };
	op.key_len = (uint16_t)snprintf(key, KEY_MAX + 1, "key-%" PRIu64, next_random(rng) % keys);
	if (next_random(rng) % 100 >= PUT_PERCENT) {
		op.code = OP_DELETE;
		return op;
	}
	op.code = OP_PUT;
	size_t room = max_msg - HEADER_LEN - op.key_len;
	size_t longest = room < VALUE_MAX ? room : VALUE_MAX;
	op.value_len = (uint16_t)(next_random(rng) % (longest + 1));
	for (uint16_t i = 0; i < op.value_len; i++)
		value[i] = (char)('a' + next_random(rng) % 26);
	return op;
}

static int send_load(grp_t *g, const struct options *o)
{
	uint8_t buf[OP_LEN_MAX];
	char key[KEY_MAX + 1], value[VALUE_MAX];
	unsigned rank = grp_rank(g);
	size_t max_msg = grp_max_msg_size(g);
	uint64_t rng = o->seed ^ mix64(rank + 1u);
	for (uint64_t i = 0; i < o->ops; i++) {
		struct kv_op op = random_op(&rng, o->keys, max_msg, key, value);
		int rc = grp_send(g, buf, op_encode(buf, &op));
		if (rc) {
			fprintf(stderr, "kvstore: member %u: grp_send of operation %" PRIu64 ": %s\n",
				rank, i, grp_strerror(rc));
			return 1;
		}
	}
	return 0;
}

/* Joins, sends this member's share of the load, waits until every sender's
 * operations are applied, leaves; on success line holds the result. */
static int run_member(const grp_config *cfg, const struct options *o, char *line, size_t len)
{
	struct replica r;
	if (replica_init(&r) != 0) {
		fprintf(stderr, "kvstore: out of memory\n");
		return 1;
	}
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	grp_t *g;
	int rc = grp_join(cfg, &cb, &r, &g);
	if (rc) {
		fprintf(stderr, "kvstore: grp_join: %s\n", grp_strerror(rc));
		replica_destroy(&r);
		return 1;
	}
	unsigned rank = grp_rank(g);
	bool is_sender;
	int status = expect_load(&r, cfg, rank, o->ops, &is_sender);
	/* Every member checks, not only senders, so that a group configured
	 * too small fails at once everywhere instead of waiting WAIT_S. */
	if (!status && grp_max_msg_size(g) < HEADER_LEN + KEY_MAX) {
		fprintf(stderr, "kvstore: member %u: multicast.max_smc_payload %zu is below %d\n",
			rank, grp_max_msg_size(g), HEADER_LEN + KEY_MAX);
		status = 1;
	}
	if (!status && is_sender)
		status = send_load(g, o);
	if (!status)
		status = wait_all_delivered(&r, rank);
	rc = grp_leave(g);
	grp_free(g);
	if (!status && rc) {
		fprintf(stderr, "kvstore: member %u: grp_leave: %s\n", rank, grp_strerror(rc));
		status = 1;
	}
	if (!status)
		status = result_line(&r, rank, line, len);
	replica_destroy(&r);
	return status;
}

/* ---- --local: a whole group in one program ---- */

static void senders_text(enum senders_choice choice, unsigned n, char *buf, size_t len)
{
	size_t off = 0;
	switch (choice) {
	case SENDERS_ALL:
		snprintf(buf, len, "all");
		break;
	case SENDERS_HALF:
		for (unsigned i = 0; i < (n + 1) / 2; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%u", i ? "," : "", i);
		break;
	case SENDERS_ONE:
		/* The last member, so that every lower rank has turns to fill. */
		snprintf(buf, len, "%u", n - 1);
		break;
	}
}

static int local_member(const struct local_member *m, void *arg)
{
	const struct options *o = arg;
	char senders[SENDERS_TEXT_LEN], line[RESULT_LEN];
	grp_config *cfg = local_member_config(m);
	if (!cfg)
		return 1;
	senders_text(o->senders, m->n, senders, sizeof senders);
	int status = grp_config_set(cfg, "multicast.senders", senders) ? 1 : 0;
	if (status)
		fprintf(stderr, "kvstore: member %u: %s\n", m->rank, grp_config_error(cfg));
	else
		status = run_member(cfg, o, line, sizeof line);
	grp_config_free(cfg);
	if (!status)
		local_member_report(m, "%s", line);
	return status;
}

static bool results_equal(const struct result *a, const struct result *b)
{
	return a->applied == b->applied && a->puts == b->puts && a->deletes == b->deletes &&
	       a->rejected == b->rejected && a->keys == b->keys && a->hash == b->hash;
}

/* Prints each member's result, then whether they all agree. */
static bool report_agreement(struct local_group *lg, unsigned n)
{
	struct result results[LOCAL_MAX];
	bool reported[LOCAL_MAX];
	int first = -1;
	for (unsigned i = 0; i < n; i++) {
		char line[RESULT_LEN];
		reported[i] = local_group_read_line(lg, i, line, sizeof line, PARENT_WAIT_MS) == 0 &&
			      sscanf(line, RESULT_SCAN, &results[i].applied, &results[i].puts,
				     &results[i].deletes, &results[i].rejected, &results[i].keys,
				     &results[i].hash) == RESULT_FIELDS;
		if (reported[i]) {
			printf("%s\n", line);
			if (first < 0)
				first = (int)i;
		}
	}
	bool agree = first >= 0;
	for (unsigned i = 0; i < n; i++) {
		if (!reported[i]) {
			printf("kvstore: member %u reported no result\n", i);
			agree = false;
		} else if (!results_equal(&results[i], &results[first])) {
			printf("kvstore: member %u differs from member %d\n", i, first);
			agree = false;
		}
	}
	if (agree)
		printf("kvstore: all %u members agree (hash 0x%016" PRIx64 ")\n", n, results[first].hash);
	return agree;
}

static int run_local(const struct options *o)
{
	struct local_group *lg = local_group_start(o->local_n, local_member, (void *)o);
	if (!lg)
		return 1;
	bool agree = report_agreement(lg, o->local_n);
	int status[LOCAL_MAX];
	bool exited_ok = local_group_finish(lg, PARENT_WAIT_MS, status) == 0;
	for (unsigned i = 0; i < o->local_n; i++)
		if (status[i] != 0)
			fprintf(stderr, "kvstore: member %u failed (exit status %d)\n", i, status[i]);
	return agree && exited_ok ? 0 : 1;
}

/* ---- -c: one member of a deployment ---- */

static int run_configured(const struct options *o)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0) {
		fprintf(stderr, "kvstore: out of memory\n");
		return 1;
	}
	int rc = grp_config_load_file(cfg, o->config_path);
	if (!rc)
		rc = grp_config_apply_env(cfg);
	if (rc) {
		const char *why = grp_config_error(cfg);
		if (*why) /* it names the file, line and key itself */
			fprintf(stderr, "kvstore: %s\n", why);
		else
			fprintf(stderr, "kvstore: %s: %s\n", o->config_path, grp_strerror(rc));
		grp_config_free(cfg);
		return 1;
	}
	char line[RESULT_LEN];
	int status = run_member(cfg, o, line, sizeof line);
	grp_config_free(cfg);
	if (!status)
		printf("%s\n", line);
	return status;
}

/* ---- command line ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvstore --local N [--ops M] [--senders all|half|one] [--keys K] [--seed S]\n"
		"       kvstore -c FILE [--ops M] [--keys K] [--seed S]\n"
		"\n"
		"A key-value store replicated by libgroup's ordered multicast: every sending\n"
		"member performs M random puts and deletes; every member applies all of them\n"
		"in delivery order and prints a hash of its map.\n"
		"\n"
		"  --local N   run N members (1..%d) on 127.0.0.1 and check that they agree\n"
		"  -c FILE     run one member configured by the INI file FILE (GROUP_*\n"
		"              environment variables override it; multicast.senders says\n"
		"              which members send)\n"
		"  --ops M     operations per sending member (default 5000)\n"
		"  --senders   which local members send: all (default), half (the lower\n"
		"              ranks) or one (the last)\n"
		"  --keys K    number of distinct keys (default 1000)\n"
		"  --seed S    seed of the operations, mixed with each member's rank (default 1)\n"
		"  --help      print this and exit\n",
		LOCAL_MAX);
}

static bool parse_number(const char *name, const char *text, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	/* strtoull also takes blanks and a sign, and wraps "-1" around. */
	if (!isdigit((unsigned char)text[0]) || errno || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "kvstore: %s '%s': expected a number from %" PRIu64 " to %" PRIu64 "\n",
			name, text, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_senders(const char *text, enum senders_choice *out)
{
	static const char *const names[] = { [SENDERS_ALL] = "all", [SENDERS_HALF] = "half",
					     [SENDERS_ONE] = "one" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (enum senders_choice)i;
			return true;
		}
	}
	fprintf(stderr, "kvstore: --senders '%s': expected all, half or one\n", text);
	return false;
}

/* Returns false, having said why, for a bad command line. */
static bool parse_options(int argc, char **argv, struct options *o, bool *help)
{
	enum { OPT_LOCAL = 256, OPT_OPS, OPT_SENDERS, OPT_KEYS, OPT_SEED };
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, OPT_LOCAL },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "senders", required_argument, NULL, OPT_SENDERS },
		{ "keys", required_argument, NULL, OPT_KEYS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n = 0;
	bool ok = true;
	int opt;
	while (ok && (opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'h': *help = true; break;
		case OPT_LOCAL: ok = parse_number("--local", optarg, 1, LOCAL_MAX, &n); break;
		case OPT_OPS: ok = parse_number("--ops", optarg, 0, UINT32_MAX, &o->ops); break;
		case OPT_KEYS: ok = parse_number("--keys", optarg, 1, UINT32_MAX, &o->keys); break;
		case OPT_SEED: ok = parse_number("--seed", optarg, 0, UINT64_MAX, &o->seed); break;
		case OPT_SENDERS:
			ok = parse_senders(optarg, &o->senders);
			o->senders_given = true;
			break;
		default: ok = false; break; /* getopt_long said why */
		}
	}
	o->local_n = (unsigned)n;
	if (!ok || *help)
		return ok;
	if (optind < argc) {
		fprintf(stderr, "kvstore: unexpected argument '%s'\n", argv[optind]);
		return false;
	}
	if ((o->local_n == 0) == (o->config_path == NULL)) {
		fprintf(stderr, "kvstore: give either --local N or -c FILE\n");
		return false;
	}
	/* Every member of a deployment must agree on who sends, so that is
	 * the configuration's multicast.senders, not one member's flag. */
	if (o->config_path && o->senders_given) {
		fprintf(stderr, "kvstore: --senders is for --local; set multicast.senders in %s\n",
			o->config_path);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	struct options o = { .ops = 5000, .keys = 1000, .seed = 1, .senders = SENDERS_ALL };
	bool help = false;
	if (!parse_options(argc, argv, &o, &help)) {
		usage(stderr);
		return 2;
	}
	if (help) {
		usage(stdout);
		return 0;
	}
	return o.local_n ? run_local(&o) : run_configured(&o);
}
