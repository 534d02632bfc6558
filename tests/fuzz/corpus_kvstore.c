/* Seeds of the kvstore: operations as delivered (kv_op) and the state a
 * joiner loads (kv_snapshot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "map.h"
#include "op.h"
#include "snapshot.h"

static void write_op(const char *name, uint8_t code, const char *key, uint16_t key_len,
		     const char *value, uint16_t value_len)
{
	uint8_t buf[OP_LEN_MAX];
	struct kv_op op = { .code = code, .key = key, .key_len = key_len, .value = value,
			    .value_len = value_len };
	corpus_write("kv_op", name, buf, op_encode(buf, &op));
}

static void seed_ops(void)
{
	static char longest[VALUE_MAX];
	memset(longest, 'v', sizeof longest);
	write_op("put", OP_PUT, "key", 3, "value", 5);
	write_op("put_longest", OP_PUT, longest, KEY_MAX, longest, VALUE_MAX);
	write_op("put_empty_value", OP_PUT, "k", 1, "", 0);
	write_op("delete", OP_DELETE, "key", 3, "", 0);
	write_op("mark", OP_MARK, "member 2", 8, "", 0);
}

/* The snapshot as one file. */
static int append(void *arg, const void *buf, size_t len)
{
	FILE *f = arg;
	return fwrite(buf, 1, len, f) == len ? 0 : -1;
}

static void write_snapshot(const char *name, const struct kv_tally *t, const struct kv_map *map)
{
	char *bytes = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&bytes, &len);
	if (!f || snapshot_save(t, map, append, f) != 0 || fclose(f) != 0) {
		fprintf(stderr, "make_corpus: snapshot_save failed\n");
		exit(1);
	}
	corpus_write("kv_snapshot", name, bytes, len);
	free(bytes);
}

static void seed_snapshots(void)
{
	/* 40 KiB: off the stack. */
	static struct kv_tally t;
	struct kv_map map;
	if (map_init(&map) != 0)
		exit(1);
	write_snapshot("empty", &t, &map);
	t.per_sender = 10;
	t.sends[1] = t.sends[4095] = true;
	t.from[1] = 10;
	t.from[4095] = 6;
	t.puts = 12;
	t.deletes = 3;
	t.rejected = 1;
	map_put(&map, "alpha", 5, "1", 1);
	map_put(&map, "beta", 4, "", 0);
	map_put(&map, "gamma", 5, "three", 5);
	write_snapshot("two_senders_three_keys", &t, &map);
	map_free(&map);
}

void seed_kvstore(void)
{
	seed_ops();
	seed_snapshots();
}
