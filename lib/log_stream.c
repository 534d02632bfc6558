#include "log_stream.h"

#include <stdbool.h>
#include <stdlib.h>

#include <group/error.h>

#include "codec.h"
#include "fabric.h"
#include "log.h"
#include "view_record.h"

static const char *MOD = "persist";

void log_stream_head_encode(uint8_t out[LOG_STREAM_LOG_HEAD], uint32_t n_joiners)
{
	struct wcursor w = { .p = out, .cap = LOG_STREAM_LOG_HEAD };
	wc_u8(&w, LOG_STREAM_LOG);
	wc_u32(&w, n_joiners);
}

void log_stream_cut_encode(uint8_t out[LOG_STREAM_CUT_ENTRY], uint32_t id, uint64_t cut)
{
	struct wcursor w = { .p = out, .cap = LOG_STREAM_CUT_ENTRY };
	wc_u32(&w, id);
	wc_u64(&w, cut);
}

void log_stream_record_encode(uint8_t out[LOG_STREAM_RECORD_HEADER], const struct plog_record *r)
{
	struct wcursor w = { .p = out, .cap = LOG_STREAM_RECORD_HEADER };
	wc_u8(&w, (uint8_t)r->kind);
	wc_u32(&w, r->sender);
	wc_u64(&w, r->version);
	wc_u64(&w, r->hlc);
	wc_u32(&w, (uint32_t)r->len);
}

int log_stream_read_exactly(const struct log_stream_source *src, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		size_t got;
		int rc = src->read(src->arg, (uint8_t *)buf + done, len - done, &got);
		if (rc)
			return rc;
		if (got == 0)
			return done == 0 ? 1 : GRP_EPROTO;
		done += got;
	}
	return 0;
}

int log_stream_read_cut(const struct log_stream_source *src, uint32_t my_id, uint64_t *cut)
{
	uint8_t raw[4];
	int rc = log_stream_read_exactly(src, raw, sizeof raw);
	struct rcursor c = { .p = raw, .len = sizeof raw };
	uint32_t n = rc ? 0 : rc_u32(&c);
	bool found = false;
	if (!rc && (n == 0 || n > FAB_MAX_PEERS))
		rc = GRP_EPROTO;
	for (uint32_t i = 0; i < n && !rc; i++) {
		uint8_t entry[LOG_STREAM_CUT_ENTRY];
		rc = log_stream_read_exactly(src, entry, sizeof entry);
		struct rcursor e = { .p = entry, .len = sizeof entry };
		uint32_t id = rc_u32(&e);
		uint64_t at = rc_u64(&e);
		if (!rc && id == my_id) {
			*cut = at;
			found = true;
		}
	}
	if (!rc && !found)
		rc = GRP_EPROTO;
	if (rc)
		log_error(MOD, "the log stream names no end for our log: %s",
			  grp_strerror(rc == 1 ? GRP_EPROTO : rc));
	return rc == 1 ? GRP_EPROTO : rc;
}

int log_stream_read_record(const struct log_stream_source *src, size_t message_max, uint8_t **buf,
			   size_t *cap, struct plog_record *r)
{
	uint8_t head[LOG_STREAM_RECORD_HEADER];
	int rc = log_stream_read_exactly(src, head, sizeof head);
	if (rc)
		return rc;
	struct rcursor c = { .p = head, .len = sizeof head };
	uint8_t kind = rc_u8(&c);
	r->sender = rc_u32(&c);
	r->version = rc_u64(&c);
	r->hlc = rc_u64(&c);
	r->len = rc_u32(&c);
	size_t limit = kind == PLOG_VIEW ? VIEW_RECORD_MAX : message_max;
	if ((kind != PLOG_MESSAGE && kind != PLOG_VIEW) || r->len > limit) {
		log_error(MOD, "shipped log record: kind %u, length %zu: refused", kind, r->len);
		return GRP_EPROTO;
	}
	r->kind = kind;
	if (r->len > *cap) {
		uint8_t *bigger = realloc(*buf, r->len);
		if (!bigger)
			return GRP_ENOMEM;
		*buf = bigger;
		*cap = r->len;
	}
	rc = r->len ? log_stream_read_exactly(src, *buf, r->len) : 0;
	r->data = *buf;
	return rc == 1 ? GRP_EPROTO : rc;
}
