/* The replica's map from keys to values (byte strings, not terminated): a
 * chained hash table, doubled when it holds one key per bucket. */
#ifndef KV_MAP_H
#define KV_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_entry;

struct kv_map {
	struct kv_entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count;     /* keys held */
};

/* 0, or -1 out of memory. */
int map_init(struct kv_map *map);
void map_free(struct kv_map *map);

/* Sets key's value, replacing any earlier one; 0, or -1 out of memory (the
 * map is then unchanged). */
int map_put(struct kv_map *map, const char *key, uint16_t key_len, const char *value,
	    uint16_t value_len);

/* Whether the map holds key; if so *value (pointing into the map, valid
 * until the next change) and *value_len are its value. */
bool map_get(const struct kv_map *map, const char *key, uint16_t key_len, const char **value,
	     uint16_t *value_len);

/* Removes key, if the map holds it. */
void map_delete(struct kv_map *map, const char *key, uint16_t key_len);

/* Calls fn on every pair, in no particular order, until it returns
 * non-zero: returns that, or 0. fn must not change the map. */
typedef int (*map_pair_fn)(void *arg, const char *key, uint16_t key_len, const char *value,
			   uint16_t value_len);
int map_each(const struct kv_map *map, map_pair_fn fn, void *arg);

/* A hash of the pairs alone: equal maps have equal hashes, whatever order
 * their pairs were put in and wherever the table keeps them. */
uint64_t map_hash(const struct kv_map *map);

#endif
