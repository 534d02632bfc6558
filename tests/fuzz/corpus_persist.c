/* Seeds of the log on disk: records (record), segment headers and file
 * names (segment) and whole segment files (plog_open). */
#include <stdbool.h>
#include <string.h>

#include <group/group.h>

#include "corpus.h"
#include "epoch.h"
#include "fuzz.h"
#include "plog.h"
#include "record.h"
#include "segment.h"
#include "view_record.h"

/* Segment files back to back, as fuzz_plog_open cuts its input into
 * files. Unsealed, their crcs are zero: the targets compute them (fuzz.h). */
struct log_files {
	uint8_t bytes[16384];
	size_t len;
	bool sealed;
};

static void log_start(struct log_files *f, bool sealed)
{
	memset(f, 0, sizeof *f);
	f->sealed = sealed;
}

static void segment_begin(struct log_files *f, uint32_t index, uint64_t first_version)
{
	struct segment_header h = { .group_id = fuzz_group_id(), .first_version = first_version,
				    .index = index };
	segment_header_encode(f->bytes + f->len, &h);
	f->len += SEGMENT_HEADER_BYTES;
	if (!f->sealed)
		memset(f->bytes + f->len - 4, 0, 4);
}

static void segment_add(struct log_files *f, enum plog_kind kind, uint64_t version, uint64_t hlc,
			const void *payload, size_t len)
{
	struct record_header h = { .kind = (uint8_t)kind, .len = (uint32_t)len, .sender = 1,
				   .version = version, .hlc = hlc };
	record_encode_header(f->bytes + f->len, &h, payload);
	if (!f->sealed)
		memset(f->bytes + f->len, 0, 4);
	memcpy(f->bytes + f->len + RECORD_HEADER_BYTES, payload, len);
	f->len += record_total_bytes(len);
}

/* The zeros after a segment's last record, which end its records. */
static void segment_end(struct log_files *f, size_t zeros)
{
	f->len += zeros;
}

static void log_write(const struct log_files *f, const char *name)
{
	corpus_write("plog_open", name, f->bytes, f->len);
}

/* A first segment: a view of three members, then messages in it. */
static void segment_with_history(struct log_files *f, bool sealed)
{
	unsigned members[] = { 0, 1, 2 };
	grp_view v = { .vid = 1, .n_members = 3, .members = members };
	uint8_t rec[VIEW_RECORD_MAX];
	size_t len = view_record_encode(&v, rec);
	log_start(f, sealed);
	segment_begin(f, 0, 0);
	segment_add(f, PLOG_VIEW, epoch_version(1, 0), 1, rec, len);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 1), 2, "put k1 v1", 9);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 2), 3, "", 0);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 3), 5, "twelve bytes", 12);
}

/* A second segment after segment_with_history's. */
static void second_segment(struct log_files *f)
{
	segment_begin(f, 1, epoch_version(1, 4));
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 4), 8, "in the second", 13);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 6), 9, "a gap is fine", 13);
}

/* Breaks the payload of the last record. */
static void tear_last(struct log_files *f, size_t last_len)
{
	f->bytes[f->len - record_total_bytes(last_len) + RECORD_HEADER_BYTES] ^= 1;
}

/* The log so far alone, then with a second segment after it. */
static void write_alone_and_with_second(struct log_files *f, const char *alone,
					const char *with_second)
{
	segment_end(f, 64);
	log_write(f, alone);
	second_segment(f);
	segment_end(f, 64);
	log_write(f, with_second);
}

static void seed_plog_open(void)
{
	static struct log_files f;
	log_start(&f, true);
	segment_begin(&f, 0, 0);
	log_write(&f, "header_only");
	segment_end(&f, RECORD_HEADER_BYTES);
	log_write(&f, "empty");
	segment_with_history(&f, true);
	write_alone_and_with_second(&f, "history", "two_segments");
	segment_with_history(&f, false);
	write_alone_and_with_second(&f, "history_unsealed", "two_segments_unsealed");
	segment_with_history(&f, true);
	tear_last(&f, 12);
	write_alone_and_with_second(&f, "torn_tail", "torn_tail_in_the_first_of_two");
	segment_with_history(&f, true);
	segment_end(&f, 64);
	segment_begin(&f, 1, epoch_version(1, 4));
	segment_end(&f, RECORD_HEADER_BYTES);
	log_write(&f, "empty_last_segment");
	segment_with_history(&f, true);
	f.bytes[f.len + 40] = 0xff;
	segment_end(&f, 64);
	log_write(&f, "garbage_after_the_end");
	segment_with_history(&f, true);
	f.bytes[SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES] ^= 1;
	segment_end(&f, 64);
	log_write(&f, "bad_record_before_good_ones");
}

static void seed_record(void)
{
	static struct log_files f;
	segment_with_history(&f, true);
	size_t view_len = record_total_bytes(1 + 4 + 4 + 3 * 4);
	const uint8_t *first = f.bytes + SEGMENT_HEADER_BYTES;
	corpus_write("record", "view", first, view_len);
	corpus_write("record", "message", first + view_len, record_total_bytes(9));
	corpus_write("record", "message_empty", first + view_len + record_total_bytes(9),
		     RECORD_HEADER_BYTES);
	corpus_write("record", "zeros", f.bytes + f.len, RECORD_HEADER_BYTES);
	segment_with_history(&f, false);
	corpus_write("record", "view_unsealed", first, view_len);
}

static void seed_segment(void)
{
	uint8_t header[SEGMENT_HEADER_BYTES];
	struct segment_header h = { .group_id = fuzz_group_id(), .first_version = 1ull << 32,
				    .index = 42 };
	segment_header_encode(header, &h);
	corpus_write("segment", "header", header, sizeof header);
	memset(header + sizeof header - 4, 0, 4);
	corpus_write("segment", "header_unsealed", header, sizeof header);
	h.group_id++;
	segment_header_encode(header, &h);
	corpus_write("segment", "header_of_another_group", header, sizeof header);
	char name[SEGMENT_NAME_MAX];
	segment_name(name, 0xffffffffu, false);
	corpus_write_text("segment", "name_last", name);
	segment_name(name, 42, true);
	corpus_write_text("segment", "name_tmp", name);
	corpus_write_text("segment", "name_upper_hex", "seg-0000002A.log");
}

void seed_persist(void)
{
	seed_record();
	seed_segment();
	seed_plog_open();
}
