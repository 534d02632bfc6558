#include "snapshot.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"
#include "op.h"

#define MAGIC 0x5353564bu /* "KVSS" */
#define VERSION 1
#define HEADER_LEN 56
#define SENDER_LEN 10
#define ENTRY_HEADER_LEN 4
#define ENTRY_LEN_MAX (ENTRY_HEADER_LEN + KEY_MAX + VALUE_MAX)
/* --keys is 32-bit: no store holds more keys. */
#define ENTRIES_MAX UINT32_MAX

_Static_assert(ENTRY_LEN_MAX <= SNAPSHOT_CHUNK && HEADER_LEN <= SNAPSHOT_CHUNK,
	       "every record fits a chunk");

/* Saving: records gather in a chunk, which is written out when the next
 * one does not fit. */
struct writer {
	uint8_t buf[SNAPSHOT_CHUNK];
	size_t len;
	snapshot_write_fn write;
	void *arg;
	int rc;
};

/* Room for the next record of n bytes, or NULL once a write failed. */
static uint8_t *reserve(struct writer *w, size_t n)
{
	if (!w->rc && w->len + n > sizeof w->buf) {
		w->rc = w->write(w->arg, w->buf, w->len);
		w->len = 0;
	}
	if (w->rc)
		return NULL;
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void save_header(struct writer *w, const struct kv_tally *t, const struct kv_map *map)
{
	unsigned senders = 0;
	for (unsigned id = 0; id < TALLY_IDS; id++)
		senders += t->sends[id];
	uint8_t *h = reserve(w, HEADER_LEN);
	if (!h)
		return;
	put_le(h, MAGIC, 4);
	put_le(h + 4, VERSION, 2);
	put_le(h + 6, senders, 2);
	put_le(h + 8, map->count, 8);
	put_le(h + 16, t->per_sender, 8);
	put_le(h + 24, t->puts, 8);
	put_le(h + 32, t->deletes, 8);
	put_le(h + 40, t->rejected, 8);
	put_le(h + 48, t->strangers, 8);
}

static void save_senders(struct writer *w, const struct kv_tally *t)
{
	for (unsigned id = 0; id < TALLY_IDS; id++) {
		uint8_t *p = t->sends[id] ? reserve(w, SENDER_LEN) : NULL;
		if (p) {
			put_le(p, id, 2);
			put_le(p + 2, t->from[id], 8);
		}
	}
}

static int save_entry(void *arg, const char *key, uint16_t key_len, const char *value,
		      uint16_t value_len)
{
	struct writer *w = arg;
	uint8_t *p = reserve(w, ENTRY_HEADER_LEN + (size_t)key_len + value_len);
	if (!p)
		return w->rc;
	put_le(p, key_len, 2);
	put_le(p + 2, value_len, 2);
	memcpy(p + ENTRY_HEADER_LEN, key, key_len);
	memcpy(p + ENTRY_HEADER_LEN + key_len, value, value_len);
	return 0;
}

int snapshot_save(const struct kv_tally *tally, const struct kv_map *map, snapshot_write_fn write,
		  void *arg)
{
	/* Off the stack: state_save runs on a library thread. */
	struct writer *w = malloc(sizeof *w);
	if (!w)
		return -1;
	w->len = 0;
	w->write = write;
	w->arg = arg;
	w->rc = 0;
	save_header(w, tally, map);
	save_senders(w, tally);
	map_each(map, save_entry, w);
	if (!w->rc && w->len)
		w->rc = write(arg, w->buf, w->len);
	int rc = w->rc;
	free(w);
	return rc;
}

/* Loading: the stream's bytes pass through a chunk, from which each
 * record is taken whole. */
struct reader {
	uint8_t buf[SNAPSHOT_CHUNK];
	size_t pos, end;
	snapshot_read_fn read;
	void *arg;
	bool broke;
};

/* The next n bytes (n <= SNAPSHOT_CHUNK), valid until the next take; NULL
 * if the stream ends or breaks first. */
static const uint8_t *take(struct reader *r, size_t n)
{
	if (r->end - r->pos < n) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
		while (r->end < n) {
			size_t got;
			if (r->read(r->arg, r->buf + r->end, sizeof r->buf - r->end, &got) != 0)
				r->broke = true;
			if (r->broke || got == 0)
				return NULL;
			r->end += got;
		}
	}
	const uint8_t *p = r->buf + r->pos;
	r->pos += n;
	return p;
}

static const char *cut_short(const struct reader *r)
{
	return r->broke ? "the stream broke" : "truncated";
}

static const char *load_header(struct reader *r, struct kv_tally *t, unsigned *senders,
			       uint64_t *entries)
{
	const uint8_t *h = take(r, HEADER_LEN);
	if (!h)
		return cut_short(r);
	if (get_le(h, 4) != MAGIC)
		return "not a kvstore snapshot";
	if (get_le(h + 4, 2) != VERSION)
		return "unknown snapshot version";
	*senders = (unsigned)get_le(h + 6, 2);
	*entries = get_le(h + 8, 8);
	if (*senders > TALLY_IDS)
		return "more senders than node ids";
	if (*entries > ENTRIES_MAX)
		return "more entries than a store holds";
	t->per_sender = get_le(h + 16, 8);
	t->puts = get_le(h + 24, 8);
	t->deletes = get_le(h + 32, 8);
	t->rejected = get_le(h + 40, 8);
	t->strangers = get_le(h + 48, 8);
	return NULL;
}

static const char *load_senders(struct reader *r, struct kv_tally *t, unsigned senders)
{
	/* Every operation delivered was applied, deleted or rejected, and
	 * counted for its sender or as a stranger's (mod 2^64 is enough to
	 * tell a corrupt tally). */
	uint64_t counted = t->strangers;
	unsigned next_id = 0; /* ids ascend: none is listed twice */
	for (unsigned i = 0; i < senders; i++) {
		const uint8_t *p = take(r, SENDER_LEN);
		if (!p)
			return cut_short(r);
		unsigned id = (unsigned)get_le(p, 2);
		uint64_t applied = get_le(p + 2, 8);
		if (id >= TALLY_IDS)
			return "sender id out of range";
		if (id < next_id)
			return "sender ids out of order";
		next_id = id + 1;
		if (applied > t->per_sender)
			return "more operations applied of a sender than it performs";
		t->sends[id] = true;
		t->from[id] = applied;
		counted += applied;
	}
	if (counted != t->puts + t->deletes + t->rejected)
		return "operation counts disagree";
	return NULL;
}

static const char *load_entries(struct reader *r, struct kv_map *map, uint64_t entries)
{
	for (uint64_t i = 0; i < entries; i++) {
		const uint8_t *h = take(r, ENTRY_HEADER_LEN);
		if (!h)
			return cut_short(r);
		uint16_t key_len = (uint16_t)get_le(h, 2), value_len = (uint16_t)get_le(h + 2, 2);
		if (key_len == 0 || key_len > KEY_MAX)
			return "key length out of range";
		if (value_len > VALUE_MAX)
			return "value too long";
		const uint8_t *kv = take(r, (size_t)key_len + value_len);
		if (!kv)
			return cut_short(r);
		size_t before = map->count;
		const char *key = (const char *)kv;
		if (map_put(map, key, key_len, key + key_len, value_len) != 0)
			return "out of memory";
		if (map->count == before)
			return "a key appears twice";
	}
	return NULL;
}

/* Nothing follows the last entry. */
static const char *load_end(struct reader *r)
{
	if (take(r, 1))
		return "bytes after the last entry";
	return r->broke ? cut_short(r) : NULL;
}

const char *snapshot_load(struct kv_tally *tally, struct kv_map *map, snapshot_read_fn read,
			  void *arg)
{
	struct reader *r = malloc(sizeof *r);
	if (!r)
		return "out of memory";
	r->pos = r->end = 0;
	r->read = read;
	r->arg = arg;
	r->broke = false;
	unsigned senders;
	uint64_t entries;
	const char *why = load_header(r, tally, &senders, &entries);
	if (!why)
		why = load_senders(r, tally, senders);
	if (!why)
		why = load_entries(r, map, entries);
	if (!why)
		why = load_end(r);
	free(r);
	return why;
}
