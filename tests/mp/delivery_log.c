#include "delivery_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	return x ^ (x >> 33);
}

size_t payload_for(unsigned sender, uint64_t k, const struct payload_sizes *sizes, uint8_t *buf)
{
	uint64_t state = mix(((uint64_t)sender << 40) ^ k ^ 0x5bd1e995u);
	size_t max_len = (state >> 62) == 0 ? sizes->max_len : sizes->small_max;
	size_t len = (size_t)(state % (max_len + 1));
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			state = mix(state + i);
		buf[i] = (uint8_t)(state >> (8 * (i % 8)));
	}
	return len;
}

uint64_t payload_hash(const void *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < len; i++) {
		h ^= ((const uint8_t *)data)[i];
		h *= 0x100000001b3u;
	}
	return h;
}

void delivery_log_write(FILE *log, const grp_delivery *m)
{
	fprintf(log, "%u %u %" PRIu64 " %zu %" PRIx64 "\n", m->vid, m->sender, m->index, m->len,
		payload_hash(m->data, m->len));
}

struct entry {
	unsigned vid, sender;
	uint64_t index, len, hash;
};

static struct entry *read_log(const char *dir, unsigned rank, size_t *count, char *err,
			      size_t err_len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/member-%u.log", dir, rank);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_len, "member %u wrote no log (%s)", rank, path);
		return NULL;
	}
	size_t cap = 1024, n = 0;
	struct entry *v = malloc(cap * sizeof *v);
	struct entry e;
	while (v && fscanf(f, "%u %u %" SCNu64 " %" SCNu64 " %" SCNx64, &e.vid, &e.sender,
			   &e.index, &e.len, &e.hash) == 5) {
		if (n == cap) {
			struct entry *grown = realloc(v, 2 * cap * sizeof *v);
			if (!grown) {
				free(v);
				v = NULL;
				break;
			}
			v = grown;
			cap *= 2;
		}
		v[n++] = e;
	}
	fclose(f);
	*count = n;
	if (!v)
		snprintf(err, err_len, "out of memory reading %s", path);
	return v;
}

static int check_one(const struct entry *v, size_t count, unsigned n, const unsigned char *is_sender,
		     uint64_t per_sender, const struct payload_sizes *sizes, char *err, size_t err_len)
{
	/* next[s]: sender s's messages delivered so far, over every view;
	 * view_start[s]: how many of them came before the current view, whose
	 * index numbering starts again from 0. */
	uint64_t *next = calloc(n, sizeof *next);
	uint64_t *view_start = calloc(n, sizeof *view_start);
	uint8_t *buf = malloc(sizes->max_len + 1);
	int rc = next && view_start && buf ? 0 : -1;
	unsigned vid = count ? v[0].vid : 0;
	for (size_t i = 0; i < count && !rc; i++) {
		const struct entry *e = &v[i];
		if (e->vid < vid) {
			snprintf(err, err_len, "delivery %zu in view %u after view %u", i, e->vid, vid);
			rc = -1;
			break;
		}
		if (e->vid > vid) {
			vid = e->vid;
			memcpy(view_start, next, n * sizeof *next);
		}
		uint64_t want = e->sender < n ? next[e->sender] - view_start[e->sender] : 0;
		if (e->sender >= n || !is_sender[e->sender]) {
			snprintf(err, err_len, "delivery %zu from %u, who is not a sender", i, e->sender);
			rc = -1;
		} else if (e->index != want) {
			snprintf(err, err_len, "delivery %zu: sender %u index %" PRIu64 " in view %u, "
				 "expected %" PRIu64 " (FIFO, gap or duplicate)", i, e->sender, e->index,
				 e->vid, want);
			rc = -1;
		} else {
			size_t len = payload_for(e->sender, next[e->sender], sizes, buf);
			if (len != e->len || payload_hash(buf, len) != e->hash) {
				snprintf(err, err_len, "delivery %zu: sender %u message %" PRIu64
					 " has the wrong payload (invented or corrupt)", i, e->sender,
					 next[e->sender]);
				rc = -1;
			}
			next[e->sender]++;
		}
	}
	for (unsigned s = 0; s < n && !rc; s++) {
		uint64_t want = is_sender[s] ? per_sender : 0;
		if (next[s] != want) {
			snprintf(err, err_len, "%" PRIu64 " messages of sender %u delivered, expected %" PRIu64,
				 next[s], s, want);
			rc = -1;
		}
	}
	free(next);
	free(view_start);
	free(buf);
	return rc;
}

int delivery_log_check(const char *dir, unsigned n, const unsigned char *is_sender,
		       uint64_t per_sender, const struct payload_sizes *sizes, char *err,
		       size_t err_len)
{
	size_t first_count = 0;
	struct entry *first = read_log(dir, 0, &first_count, err, err_len);
	if (!first)
		return -1;
	int rc = check_one(first, first_count, n, is_sender, per_sender, sizes, err, err_len);
	for (unsigned r = 1; r < n && !rc; r++) {
		size_t count;
		struct entry *v = read_log(dir, r, &count, err, err_len);
		if (!v)
			rc = -1;
		for (size_t i = 0; !rc && i < count && i < first_count; i++) {
			if (memcmp(&v[i], &first[i], sizeof v[i]) != 0) {
				snprintf(err, err_len, "members 0 and %u differ at delivery %zu: order "
					 "is not total", r, i);
				rc = -1;
			}
		}
		if (!rc && count != first_count) {
			snprintf(err, err_len, "member %u delivered %zu messages, member 0 %zu", r, count,
				 first_count);
			rc = -1;
		}
		free(v);
	}
	free(first);
	return rc;
}
