/* The kvstore state a joiner loads from the member serving it: a
 * snapshot that loads saves to one that loads to the same tally and map. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "snapshot.h"

struct saved {
	uint8_t *p;
	size_t len;
};

static int save_to_memory(void *arg, const void *buf, size_t len)
{
	struct saved *s = arg;
	uint8_t *grown = realloc(s->p, s->len + len);
	if (!grown)
		return -1;
	memcpy(grown + s->len, buf, len);
	s->p = grown;
	s->len += len;
	return 0;
}

/* A snapshot into a fresh tally and map; false if it is refused. */
static bool load(const uint8_t *data, size_t size, struct kv_tally *tally, struct kv_map *map)
{
	struct fuzz_bytes bytes = { .p = data, .len = size };
	memset(tally, 0, sizeof *tally);
	FUZZ_CHECK(map_init(map) == 0);
	return snapshot_load(tally, map, fuzz_bytes_read, &bytes) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each tally is 40 KiB: off the stack. */
	struct kv_tally *tally = malloc(2 * sizeof *tally);
	FUZZ_CHECK(tally != NULL);
	struct kv_map map, again;
	if (load(data, size, &tally[0], &map)) {
		struct saved saved = { NULL, 0 };
		FUZZ_CHECK(snapshot_save(&tally[0], &map, save_to_memory, &saved) == 0);
		FUZZ_CHECK(load(saved.p, saved.len, &tally[1], &again));
		FUZZ_CHECK(memcmp(&tally[0], &tally[1], sizeof *tally) == 0);
		FUZZ_CHECK(again.count == map.count && map_hash(&again) == map_hash(&map));
		map_free(&again);
		free(saved.p);
	}
	map_free(&map);
	free(tally);
	return 0;
}
