#include "map.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define INITIAL_BUCKETS 64

struct kv_entry {
	struct kv_entry *next;
	uint16_t key_len;
	uint16_t value_len;
	char bytes[]; /* key, then value */
};

int map_init(struct kv_map *map)
{
	map->buckets = calloc(INITIAL_BUCKETS, sizeof *map->buckets);
	map->n_buckets = INITIAL_BUCKETS;
	map->count = 0;
	return map->buckets ? 0 : -1;
}

void map_free(struct kv_map *map)
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

int map_put(struct kv_map *map, const char *key, uint16_t key_len, const char *value,
	    uint16_t value_len)
{
	if (map->count >= map->n_buckets && map_grow(map) != 0)
		return -1;
	struct kv_entry *e = malloc(sizeof *e + key_len + value_len);
	if (!e)
		return -1;
	e->key_len = key_len;
	e->value_len = value_len;
	memcpy(e->bytes, key, key_len);
	memcpy(e->bytes + key_len, value, value_len);
	struct kv_entry **link = map_find(map, key, key_len);
	struct kv_entry *old = *link;
	e->next = old ? old->next : NULL;
	*link = e;
	if (old)
		free(old);
	else
		map->count++;
	return 0;
}

bool map_get(const struct kv_map *map, const char *key, uint16_t key_len, const char **value,
	     uint16_t *value_len)
{
	/* map_find hands out a link to change; reading through it changes nothing. */
	struct kv_entry *e = *map_find((struct kv_map *)map, key, key_len);
	if (!e)
		return false;
	*value = e->bytes + e->key_len;
	*value_len = e->value_len;
	return true;
}

void map_delete(struct kv_map *map, const char *key, uint16_t key_len)
{
	struct kv_entry **link = map_find(map, key, key_len);
	struct kv_entry *old = *link;
	if (!old)
		return;
	*link = old->next;
	free(old);
	map->count--;
}

int map_each(const struct kv_map *map, map_pair_fn fn, void *arg)
{
	for (size_t b = 0; b < map->n_buckets; b++)
		for (const struct kv_entry *e = map->buckets[b]; e; e = e->next) {
			int rc = fn(arg, e->bytes, e->key_len, e->bytes + e->key_len, e->value_len);
			if (rc)
				return rc;
		}
	return 0;
}

/* FNV-1a over the two lengths, then the key and value bytes: the lengths
 * keep ("ab", "c") and ("a", "bc") apart, and are little-endian so that
 * members on hosts of either byte order agree. Finalised by mix64 so that
 * similar pairs do not cancel out in map_hash's sum. */
static uint64_t pair_hash(const struct kv_entry *e)
{
	const uint8_t lengths[4] = { (uint8_t)e->key_len, (uint8_t)(e->key_len >> 8),
				     (uint8_t)e->value_len, (uint8_t)(e->value_len >> 8) };
	uint64_t h = fnv1a(FNV_OFFSET, lengths, sizeof lengths);
	return mix64(fnv1a(h, e->bytes, (size_t)e->key_len + e->value_len));
}

/* The sum (mod 2^64) of every pair's hash: a sum depends neither on the
 * order the pairs were inserted in nor on where the table keeps them. */
uint64_t map_hash(const struct kv_map *map)
{
	uint64_t sum = 0;
	for (size_t b = 0; b < map->n_buckets; b++)
		for (const struct kv_entry *e = map->buckets[b]; e; e = e->next)
			sum += pair_hash(e);
	return sum;
}
