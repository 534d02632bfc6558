/* The state a member hands a joiner: its tally and its map, as one
 * stream, integers little-endian:
 *
 *   header: u32 magic "KVSS" | u16 version (1) | u16 senders | u64 entries |
 *           u64 per_sender | u64 puts | u64 deletes | u64 rejected |
 *           u64 strangers
 *   senders times: u16 node id (ascending) | u64 operations applied
 *   entries times: u16 key length | u16 value length | key | value
 *
 * and nothing after. Saving writes it in chunks of at most SNAPSHOT_CHUNK
 * bytes, so that a large map is never copied whole; loading checks every
 * field before it uses it. */
#ifndef KV_SNAPSHOT_H
#define KV_SNAPSHOT_H

#include <stddef.h>

#include "map.h"
#include "tally.h"

#define SNAPSHOT_CHUNK 65536

/* Appends len bytes to the stream: 0, or non-zero to stop. */
typedef int (*snapshot_write_fn)(void *arg, const void *buf, size_t len);
/* Reads up to cap bytes of the stream: 0 with *got bytes (0 at its end),
 * or non-zero if the stream broke. */
typedef int (*snapshot_read_fn)(void *arg, void *buf, size_t cap, size_t *got);

/* Writes tally and map: 0, or what write returned when it failed. */
int snapshot_save(const struct kv_tally *tally, const struct kv_map *map, snapshot_write_fn write,
		  void *arg);

/* Fills a zeroed tally and an empty map from the stream: NULL, or why the
 * stream is not a well-formed snapshot (tally and map then hold part of
 * it: free the map). */
const char *snapshot_load(struct kv_tally *tally, struct kv_map *map, snapshot_read_fn read,
			  void *arg);

#endif
