#include "history.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void value_set(struct history_value *v, const char *bytes, uint16_t len)
{
	v->present = true;
	v->len = len;
	memcpy(v->bytes, bytes, len);
}

/* Applies every operation on key that the iterator yields, in log order
 * (the delivery order): the last one decides the value. */
static int replay_key(grp_log_iter *it, const char *key, uint16_t key_len,
		      struct history_value *out)
{
	out->present = false;
	out->len = 0;
	grp_delivery msg;
	int rc;
	while ((rc = grp_log_next(it, &msg)) == 1) {
		struct kv_op op;
		/* Rejected operations changed nothing live either. */
		if (op_decode(msg.data, msg.len, &op) != NULL || op.key_len != key_len ||
		    memcmp(op.key, key, key_len) != 0)
			continue;
		if (op.code == OP_PUT)
			value_set(out, op.value, op.value_len);
		else if (op.code == OP_DELETE)
			out->present = false;
	}
	grp_log_iter_free(it);
	return rc;
}

int history_get_at_version(grp_t *g, const char *key, uint16_t key_len, uint64_t version,
			   struct history_value *out)
{
	grp_log_iter *it;
	int rc = grp_log_versions(g, 0, version, &it);
	return rc ? rc : replay_key(it, key, key_len, out);
}

int history_get_at_time(grp_t *g, const char *key, uint16_t key_len, uint64_t time_us,
			struct history_value *out)
{
	grp_log_iter *it;
	int rc = grp_log_times(g, 0, time_us, &it);
	return rc ? rc : replay_key(it, key, key_len, out);
}

static void probe_add_key(struct history_probe *p, const struct kv_map *map, const char *key,
			  uint16_t key_len)
{
	for (unsigned i = 0; i < p->n_keys; i++)
		if (p->key_lens[i] == key_len && memcmp(p->keys[i], key, key_len) == 0)
			return;
	unsigned i = p->n_keys++;
	p->key_lens[i] = key_len;
	memcpy(p->keys[i], key, key_len);
	const char *value;
	uint16_t len;
	p->values[i].present = false;
	if (map_get(map, key, key_len, &value, &len))
		value_set(&p->values[i], value, len);
}

void history_probe_take(struct history_probe *p, const struct kv_map *map,
			const grp_delivery *msg, const struct kv_op *op, uint64_t applied)
{
	if (!p->armed || p->taken || msg->replayed || applied < p->after)
		return;
	p->taken = true;
	p->version = msg->version;
	p->time_us = msg->timestamp_us;
	/* The key this very delivery changed shows whether the version and
	 * the time bound include it; the others, the state around it. */
	if (op && op->code != OP_MARK)
		probe_add_key(p, map, op->key, op->key_len);
	for (unsigned k = 0; p->n_keys < PROBE_KEYS; k++) {
		char key[KEY_MAX + 1];
		int len = snprintf(key, sizeof key, "key-%u", k);
		probe_add_key(p, map, key, (uint16_t)len);
	}
}

static bool same(const struct history_value *a, const struct history_value *b)
{
	return a->present == b->present &&
	       (!a->present || (a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0));
}

static void describe(const struct history_value *v, char *out, size_t cap)
{
	if (v->present)
		snprintf(out, cap, "'%.*s' (%u bytes)", v->len > 20 ? 20 : (int)v->len, v->bytes,
			 (unsigned)v->len);
	else
		snprintf(out, cap, "no value");
}

int history_probe_check(grp_t *g, const struct history_probe *p, unsigned rank)
{
	if (!p->armed)
		return 0;
	if (!p->taken) {
		fprintf(stderr, "kvstore: member %u: history: the probe was never taken\n", rank);
		return 1;
	}
	int status = 0;
	for (unsigned i = 0; i < p->n_keys; i++) {
		struct history_value got;
		for (int by_time = 0; by_time <= 1; by_time++) {
			int rc = by_time ? history_get_at_time(g, p->keys[i], p->key_lens[i],
							       p->time_us, &got)
					 : history_get_at_version(g, p->keys[i], p->key_lens[i],
								  p->version, &got);
			const char *how = by_time ? "time" : "version";
			if (rc) {
				fprintf(stderr, "kvstore: member %u: history: reading the log by %s: %s\n",
					rank, how, grp_strerror(rc));
				return 1;
			}
			if (!same(&got, &p->values[i])) {
				char want[48], have[48];
				describe(&p->values[i], want, sizeof want);
				describe(&got, have, sizeof have);
				fprintf(stderr, "kvstore: member %u: history: %.*s as of its %s "
					"(version 0x%" PRIx64 ", time %" PRIu64 " us): the live map held "
					"%s, the log gives %s\n", rank, p->key_lens[i], p->keys[i], how,
					p->version, p->time_us, want, have);
				status = 1;
			}
		}
	}
	return status;
}
