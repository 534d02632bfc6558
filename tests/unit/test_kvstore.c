/* The replicated store's operation codec and map (apps/kvstore): what one
 * member encodes another decodes unchanged, anything malformed is refused,
 * and the map's hash tells maps apart by their pairs alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "map.h"
#include "op.h"

#define KEYS 1000

static void assert_same_op(const struct kv_op *got, const struct kv_op *want)
{
	assert_int_equal(got->code, want->code);
	assert_int_equal(got->key_len, want->key_len);
	assert_int_equal(got->value_len, want->value_len);
	assert_memory_equal(got->key, want->key, want->key_len);
	if (want->value_len)
		assert_memory_equal(got->value, want->value, want->value_len);
}

static void test_op_round_trip(void **state)
{
	(void)state;
	char key[KEY_MAX], value[VALUE_MAX];
	memset(key, 'k', sizeof key);
	memset(value, 'v', sizeof value);
	const struct kv_op ops[] = {
		{ .code = OP_PUT, .key_len = 3, .value_len = 5, .key = "abc", .value = "hello" },
		{ .code = OP_PUT, .key_len = 1, .value_len = 0, .key = "a", .value = "" },
		{ .code = OP_PUT, .key_len = KEY_MAX, .value_len = VALUE_MAX, .key = key, .value = value },
		{ .code = OP_DELETE, .key_len = 3, .value_len = 0, .key = "abc", .value = "" },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		uint8_t buf[OP_LEN_MAX];
		size_t len = op_encode(buf, &ops[i]);
		assert_int_equal(len, OP_HEADER_LEN + ops[i].key_len + ops[i].value_len);
		struct kv_op got;
		assert_null(op_decode(buf, len, &got));
		assert_same_op(&got, &ops[i]);
	}
}

/* Every prefix of a well-formed op, and the op with a byte too many. */
static void test_op_wrong_length_rejected(void **state)
{
	(void)state;
	const struct kv_op put = { .code = OP_PUT, .key_len = 3, .value_len = 5, .key = "abc",
				   .value = "hello" };
	uint8_t buf[OP_LEN_MAX + 1];
	size_t len = op_encode(buf, &put);
	struct kv_op got;
	for (size_t prefix = 0; prefix < len; prefix++)
		assert_non_null(op_decode(buf, prefix, &got));
	assert_non_null(op_decode(buf, len + 1, &got));
	assert_null(op_decode(buf, len, &got));
}

/* A message whose lengths agree with its header, whatever the header says. */
static size_t raw_op(uint8_t *buf, uint8_t version, uint8_t code, uint16_t key_len,
		     uint16_t value_len)
{
	const uint8_t header[OP_HEADER_LEN] = { version, code, (uint8_t)key_len,
						(uint8_t)(key_len >> 8), (uint8_t)value_len,
						(uint8_t)(value_len >> 8) };
	memcpy(buf, header, sizeof header);
	memset(buf + OP_HEADER_LEN, 'x', (size_t)key_len + value_len);
	return OP_HEADER_LEN + (size_t)key_len + value_len;
}

static void test_op_bad_field_rejected(void **state)
{
	(void)state;
	struct header {
		uint8_t version, code;
		uint16_t key_len, value_len;
	};
	const struct header bad[] = {
		{ 0, OP_PUT, 3, 5 },                 /* format version */
		{ 2, OP_PUT, 3, 5 },                 /* format version */
		{ 1, 0, 3, 5 },                      /* operation */
		{ 1, 3, 3, 5 },                      /* operation */
		{ 1, OP_PUT, 0, 5 },                 /* empty key */
		{ 1, OP_PUT, KEY_MAX + 1, 5 },       /* key too long */
		{ 1, OP_PUT, 3, VALUE_MAX + 1 },     /* value too long */
		{ 1, OP_DELETE, 3, 1 },              /* delete with a value */
	};
	static uint8_t buf[OP_HEADER_LEN + UINT16_MAX * 2];
	struct kv_op got;
	assert_null(op_decode(buf, raw_op(buf, 1, OP_PUT, 3, 5), &got));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct header *h = &bad[i];
		size_t len = raw_op(buf, h->version, h->code, h->key_len, h->value_len);
		assert_non_null(op_decode(buf, len, &got));
	}
}

static void put_text(struct kv_map *map, const char *key, const char *value)
{
	assert_int_equal(map_put(map, key, (uint16_t)strlen(key), value, (uint16_t)strlen(value)), 0);
}

/* The hash of a fresh map holding exactly the pairs given, key, value, ... */
static uint64_t hash_of_pairs(const char *const *pairs, size_t n_pairs)
{
	struct kv_map map;
	assert_int_equal(map_init(&map), 0);
	for (size_t i = 0; i < n_pairs; i++)
		put_text(&map, pairs[2 * i], pairs[2 * i + 1]);
	uint64_t hash = map_hash(&map);
	map_free(&map);
	return hash;
}

static void test_map_put_overwrite_delete(void **state)
{
	(void)state;
	struct kv_map map;
	assert_int_equal(map_init(&map), 0);
	uint64_t empty = map_hash(&map);
	put_text(&map, "a", "1");
	put_text(&map, "b", "2");
	assert_int_equal(map.count, 2);
	put_text(&map, "a", "3");
	assert_int_equal(map.count, 2);
	const char *const after_overwrite[] = { "a", "3", "b", "2" };
	assert_int_equal(map_hash(&map), hash_of_pairs(after_overwrite, 2));
	const char *const before_overwrite[] = { "a", "1", "b", "2" };
	assert_int_not_equal(map_hash(&map), hash_of_pairs(before_overwrite, 2));

	map_delete(&map, "a", 1);
	assert_int_equal(map.count, 1);
	const char *const only_b[] = { "b", "2" };
	assert_int_equal(map_hash(&map), hash_of_pairs(only_b, 1));
	map_delete(&map, "a", 1);
	map_delete(&map, "absent", 6);
	assert_int_equal(map.count, 1);
	assert_int_equal(map_hash(&map), hash_of_pairs(only_b, 1));
	map_delete(&map, "b", 1);
	assert_int_equal(map.count, 0);
	assert_int_equal(map_hash(&map), empty);
	map_free(&map);
}

static void fill(struct kv_map *map, bool ascending)
{
	for (unsigned i = 0; i < KEYS; i++) {
		char key[16], value[16];
		unsigned k = ascending ? i : KEYS - 1 - i;
		snprintf(key, sizeof key, "key-%u", k);
		snprintf(value, sizeof value, "value-%u", k * 7);
		put_text(map, key, value);
	}
}

/* The table grows while it fills, so the two maps place their pairs at
 * different times in different tables; their hashes must not care. */
static void test_map_hash_independent_of_order(void **state)
{
	(void)state;
	struct kv_map up, down;
	assert_int_equal(map_init(&up), 0);
	assert_int_equal(map_init(&down), 0);
	fill(&up, true);
	fill(&down, false);
	assert_int_equal(up.count, KEYS);
	assert_int_equal(down.count, KEYS);
	assert_int_equal(map_hash(&up), map_hash(&down));
	put_text(&down, "key-0", "another value");
	assert_int_not_equal(map_hash(&up), map_hash(&down));
	map_free(&up);
	map_free(&down);
}

/* The same bytes split differently between key and value are other pairs. */
static void test_map_hash_tells_split_apart(void **state)
{
	(void)state;
	const char *const ab_c[] = { "ab", "c" };
	const char *const a_bc[] = { "a", "bc" };
	assert_int_not_equal(hash_of_pairs(ab_c, 1), hash_of_pairs(a_bc, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_round_trip),
		cmocka_unit_test(test_op_wrong_length_rejected),
		cmocka_unit_test(test_op_bad_field_rejected),
		cmocka_unit_test(test_map_put_overwrite_delete),
		cmocka_unit_test(test_map_hash_independent_of_order),
		cmocka_unit_test(test_map_hash_tells_split_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
