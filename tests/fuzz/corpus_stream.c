/* Seeds of the state-transfer stream a joiner reads (log_stream). */
#include <string.h>

#include <group/group.h>

#include "corpus.h"
#include "epoch.h"
#include "fuzz.h"
#include "log_stream.h"
#include "view_record.h"

struct stream {
	uint8_t bytes[4096];
	size_t len;
};

static void put(struct stream *s, const void *p, size_t len)
{
	memcpy(s->bytes + s->len, p, len);
	s->len += len;
}

/* The kind and the table of where each joiner's log ends. */
static void stream_start(struct stream *s, const uint32_t *ids, uint32_t n)
{
	s->len = 0;
	uint8_t head[LOG_STREAM_LOG_HEAD], entry[LOG_STREAM_CUT_ENTRY];
	log_stream_head_encode(head, n);
	put(s, head, sizeof head);
	for (uint32_t i = 0; i < n; i++) {
		log_stream_cut_encode(entry, ids[i], epoch_version(1, i));
		put(s, entry, sizeof entry);
	}
}

static void stream_record(struct stream *s, enum plog_kind kind, uint64_t version, const void *p,
			  size_t len)
{
	struct plog_record r = { .kind = kind, .sender = 1, .version = version, .hlc = version,
				 .len = len, .data = p };
	uint8_t head[LOG_STREAM_RECORD_HEADER];
	log_stream_record_encode(head, &r);
	put(s, head, sizeof head);
	put(s, p, len);
}

void seed_stream(void)
{
	static struct stream s;
	const uint32_t joiners[] = { 7, FUZZ_MY_ID };
	stream_start(&s, joiners, 2);
	corpus_write("log_stream", "table_only", s.bytes, s.len);
	unsigned members[] = { 0, 1, FUZZ_MY_ID };
	grp_view v = { .vid = 2, .n_members = 3, .members = members };
	uint8_t view[VIEW_RECORD_MAX];
	stream_record(&s, PLOG_VIEW, epoch_version(2, 0), view, view_record_encode(&v, view));
	stream_record(&s, PLOG_MESSAGE, epoch_version(2, 1), "put k v", 7);
	stream_record(&s, PLOG_MESSAGE, epoch_version(2, 2), "", 0);
	corpus_write("log_stream", "view_and_messages", s.bytes, s.len);
	corpus_write("log_stream", "cut_inside_a_record", s.bytes, s.len - 3);
	stream_start(&s, joiners, 1);
	corpus_write("log_stream", "table_without_us", s.bytes, s.len);
	stream_start(&s, joiners, 0);
	corpus_write("log_stream", "empty_table", s.bytes, s.len);
	const uint8_t app_state[] = { LOG_STREAM_APP_STATE, 1, 2, 3 };
	corpus_write("log_stream", "application_state", app_state, sizeof app_state);
}
