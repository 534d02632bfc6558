/* The replicated store's operation codec, map and snapshot (apps/kvstore):
 * what one member encodes another decodes unchanged, anything malformed is
 * refused, the map's hash tells maps apart by their pairs alone, and the
 * state a joiner loads is the state the member saved, streamed in chunks,
 * or refused if any of it is cut short or corrupt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "le.h"
#include "map.h"
#include "op.h"
#include "snapshot.h"

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

/* A snapshot stream in memory: what save writes, load reads back, at most
 * max_read bytes a call so that records straddle reads. */
struct stream {
	uint8_t *buf;
	size_t len, cap, pos;
	size_t max_read;
	unsigned writes;
	size_t largest_write;
	bool fail_reads;
};

static int stream_write(void *arg, const void *buf, size_t len)
{
	struct stream *s = arg;
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->writes++;
	if (len > s->largest_write)
		s->largest_write = len;
	return 0;
}

static int stream_read(void *arg, void *buf, size_t cap, size_t *got)
{
	struct stream *s = arg;
	if (s->fail_reads)
		return -1;
	size_t n = s->len - s->pos;
	if (n > cap)
		n = cap;
	if (n > s->max_read)
		n = s->max_read;
	memcpy(buf, s->buf + s->pos, n);
	s->pos += n;
	*got = n;
	return 0;
}

/* Senders 0, 7 and 4095 have had some of their 100 operations applied;
 * the other counts add up with theirs. */
static void sample_tally(struct kv_tally *t)
{
	memset(t, 0, sizeof *t);
	t->per_sender = 100;
	t->sends[0] = t->sends[7] = t->sends[4095] = true;
	t->from[0] = 100;
	t->from[7] = 3;
	t->from[4095] = 60;
	t->strangers = 2;
	t->puts = 120;
	t->deletes = 40;
	t->rejected = 5;
}

/* A map of n pairs, values of every length from 0 up. */
static void sample_map(struct kv_map *map, unsigned n)
{
	static char value[VALUE_MAX];
	memset(value, 'v', sizeof value);
	assert_int_equal(map_init(map), 0);
	for (unsigned i = 0; i < n; i++) {
		char key[KEY_MAX + 1];
		int key_len = snprintf(key, sizeof key, "key-%u", i);
		assert_int_equal(map_put(map, key, (uint16_t)key_len, value,
					 (uint16_t)(i % (VALUE_MAX + 1))), 0);
	}
}

static struct kv_tally saved_tally, loaded_tally;

/* The snapshot of the sample tally and a map of n pairs. */
static struct stream saved_stream(unsigned n, struct kv_map *map)
{
	struct stream s = { .max_read = SIZE_MAX };
	sample_tally(&saved_tally);
	sample_map(map, n);
	assert_int_equal(snapshot_save(&saved_tally, map, stream_write, &s), 0);
	return s;
}

/* Loads s into a fresh tally and map: NULL, or why it was refused. */
static const char *load(struct stream *s, struct kv_map *map)
{
	memset(&loaded_tally, 0, sizeof loaded_tally);
	assert_int_equal(map_init(map), 0);
	s->pos = 0;
	return snapshot_load(&loaded_tally, map, stream_read, s);
}

/* A map of n pairs saved, then loaded at most max_read bytes a read. */
static void assert_round_trip(unsigned n, size_t max_read)
{
	struct kv_map saved, loaded;
	struct stream s = saved_stream(n, &saved);
	s.max_read = max_read;
	assert_null(load(&s, &loaded));
	assert_int_equal(loaded.count, saved.count);
	assert_int_equal(map_hash(&loaded), map_hash(&saved));
	assert_memory_equal(&loaded_tally, &saved_tally, sizeof saved_tally);
	map_free(&saved);
	map_free(&loaded);
	free(s.buf);
}

static void test_snapshot_round_trip(void **state)
{
	(void)state;
	assert_round_trip(0, SIZE_MAX);
	assert_round_trip(5000, 777);
}

/* Streamed in chunks, never as one buffer of the whole map. */
static void test_snapshot_streamed_in_chunks(void **state)
{
	(void)state;
	struct kv_map saved;
	struct stream s = saved_stream(5000, &saved);
	assert_true(s.len > SNAPSHOT_CHUNK);
	assert_true(s.writes > 1);
	assert_true(s.largest_write <= SNAPSHOT_CHUNK);
	map_free(&saved);
	free(s.buf);
}

/* Every prefix is refused, and so is a byte too many or a broken stream. */
static void test_snapshot_truncated_rejected(void **state)
{
	(void)state;
	struct kv_map saved, loaded;
	struct stream s = saved_stream(20, &saved);
	size_t whole = s.len;
	for (s.len = 0; s.len < whole; s.len++) {
		assert_non_null(load(&s, &loaded));
		map_free(&loaded);
	}
	uint8_t extra = 0;
	stream_write(&s, &extra, 1);
	assert_string_equal(load(&s, &loaded), "bytes after the last entry");
	map_free(&loaded);
	s.len = whole;
	s.fail_reads = true;
	assert_string_equal(load(&s, &loaded), "the stream broke");
	map_free(&loaded);
	map_free(&saved);
	free(s.buf);
}

/* Offsets in the sample's stream (snapshot.h): the header, three sender
 * records of 10 bytes, then the entries. */
#define AT_SENDERS 56
#define AT_ENTRIES (AT_SENDERS + 3 * 10)

/* Each field set to a value out of its range, alone, is refused by name. */
static void test_snapshot_bad_field_rejected(void **state)
{
	(void)state;
	const struct {
		size_t at;
		unsigned bytes;
		uint64_t value;
		const char *why;
	} bad[] = {
		{ 0, 4, 0x5353564cu, "not a kvstore snapshot" },
		{ 4, 2, 0, "unknown snapshot version" },
		{ 4, 2, 2, "unknown snapshot version" },
		{ 6, 2, 4097, "more senders than node ids" },
		{ 8, 8, (uint64_t)UINT32_MAX + 1, "more entries than a store holds" },
		{ 24, 8, 121, "operation counts disagree" },
		{ AT_SENDERS + 10, 2, 4096, "sender id out of range" },
		{ AT_SENDERS + 10, 2, 0, "sender ids out of order" },
		{ AT_SENDERS + 12, 8, 101, "more operations applied of a sender than it performs" },
		{ AT_ENTRIES, 2, 0, "key length out of range" },
		{ AT_ENTRIES, 2, KEY_MAX + 1, "key length out of range" },
		{ AT_ENTRIES + 2, 2, VALUE_MAX + 1, "value too long" },
		{ 8, 8, 21, "truncated" },
		{ 8, 8, 19, "bytes after the last entry" },
	};
	struct kv_map saved, loaded;
	struct stream s = saved_stream(20, &saved);
	uint8_t *good = malloc(s.len);
	assert_non_null(good);
	memcpy(good, s.buf, s.len);
	assert_null(load(&s, &loaded));
	map_free(&loaded);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(s.buf, good, s.len);
		put_le(s.buf + bad[i].at, bad[i].value, bad[i].bytes);
		const char *why = load(&s, &loaded);
		if (!why || strcmp(why, bad[i].why) != 0)
			fail_msg("field at %zu = %llu: '%s', expected '%s'", bad[i].at,
				 (unsigned long long)bad[i].value, why ? why : "accepted", bad[i].why);
		map_free(&loaded);
	}
	map_free(&saved);
	free(good);
	free(s.buf);
}

/* Two entries under one key: the map would hold fewer pairs than the
 * header says. */
static void test_snapshot_duplicate_key_rejected(void **state)
{
	(void)state;
	struct kv_map one, loaded;
	struct stream s = saved_stream(1, &one);
	size_t entry = s.len - AT_ENTRIES;
	stream_write(&s, s.buf + AT_ENTRIES, entry);
	put_le(s.buf + 8, 2, 8);
	assert_string_equal(load(&s, &loaded), "a key appears twice");
	map_free(&loaded);
	map_free(&one);
	free(s.buf);
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
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_streamed_in_chunks),
		cmocka_unit_test(test_snapshot_truncated_rejected),
		cmocka_unit_test(test_snapshot_bad_field_rejected),
		cmocka_unit_test(test_snapshot_duplicate_key_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
