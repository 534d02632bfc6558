#include "load.h"

#include <inttypes.h>
#include <stdio.h>

#include "hash.h"
#include "op.h"

#define PUT_PERCENT 70

/* splitmix64: any seed, even 0, starts a good stream. */
static uint64_t next_random(uint64_t *state)
{
	*state += 0x9e3779b97f4a7c15u;
	return mix64(*state);
}

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
	size_t room = max_msg - OP_HEADER_LEN - op.key_len;
	size_t longest = room < VALUE_MAX ? room : VALUE_MAX;
	op.value_len = (uint16_t)(next_random(rng) % (longest + 1));
	for (uint16_t i = 0; i < op.value_len; i++)
		value[i] = (char)('a' + next_random(rng) % 26);
	return op;
}

int load_send(grp_t *g, const struct load *load)
{
	uint8_t buf[OP_LEN_MAX];
	char key[KEY_MAX + 1], value[VALUE_MAX];
	unsigned rank = grp_rank(g);
	size_t max_msg = grp_max_msg_size(g);
	uint64_t rng = load->seed ^ mix64(rank + 1u);
	for (uint64_t i = 0; i < load->ops; i++) {
		if (i == load->ops / 4 && load->quarter_sent)
			load->quarter_sent(load->quarter_arg);
		struct kv_op op = random_op(&rng, load->keys, max_msg, key, value);
		size_t len = op_encode(buf, &op);
		int rc = load->acked ? grp_send_durable(g, buf, len) : grp_send(g, buf, len);
		if (rc) {
			fprintf(stderr, "kvstore: member %u: %s of operation %" PRIu64 ": %s\n", rank,
				load->acked ? "grp_send_durable" : "grp_send", i, grp_strerror(rc));
			return 1;
		}
		if (load->acked && load->acked(load->acked_arg, i, &op) != 0)
			return 1;
	}
	return 0;
}
