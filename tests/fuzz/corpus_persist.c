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

/* A segment file being built: its header, records, then zeros. Unsealed,
 * its crcs are zero: the targets compute them (fuzz.h). */
struct segment_file {
	uint8_t bytes[8192];
	size_t len;
	bool sealed;
};

static void segment_start(struct segment_file *f, bool sealed)
{
	memset(f, 0, sizeof *f);
	f->sealed = sealed;
	struct segment_header h = { .group_id = fuzz_group_id(), .first_version = 0, .index = 0 };
	segment_header_encode(f->bytes, &h);
	if (!sealed)
		memset(f->bytes + SEGMENT_HEADER_BYTES - 4, 0, 4);
	f->len = SEGMENT_HEADER_BYTES;
}

static void segment_add(struct segment_file *f, enum plog_kind kind, uint64_t version,
			  uint64_t hlc, const void *payload, size_t len)
{
	struct record_header h = { .kind = (uint8_t)kind, .len = (uint32_t)len, .sender = 1,
				   .version = version, .hlc = hlc };
	record_encode_header(f->bytes + f->len, &h, payload);
	if (!f->sealed)
		memset(f->bytes + f->len, 0, 4);
	memcpy(f->bytes + f->len + RECORD_HEADER_BYTES, payload, len);
	f->len += record_total_bytes(len);
}

/* The file: its records, then `zeros` zero bytes, which end them. */
static void segment_write(struct segment_file *f, const char *name, size_t zeros)
{
	corpus_write("plog_open", name, f->bytes, f->len + zeros);
}

/* A view of three members, then messages in it. */
static void segment_with_history(struct segment_file *f, bool sealed)
{
	unsigned members[] = { 0, 1, 2 };
	grp_view v = { .vid = 1, .n_members = 3, .members = members };
	uint8_t rec[VIEW_RECORD_MAX];
	size_t len = view_record_encode(&v, rec);
	segment_start(f, sealed);
	segment_add(f, PLOG_VIEW, epoch_version(1, 0), 1, rec, len);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 1), 2, "put k1 v1", 9);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 2), 3, "", 0);
	segment_add(f, PLOG_MESSAGE, epoch_version(1, 3), 5, "twelve bytes", 12);
}

static void seed_plog_open(void)
{
	static struct segment_file f;
	segment_start(&f, true);
	segment_write(&f, "header_only", 0);
	segment_write(&f, "empty", RECORD_HEADER_BYTES);
	segment_with_history(&f, false);
	segment_write(&f, "history_unsealed", 64);
	segment_with_history(&f, true);
	segment_write(&f, "history", 64);
	size_t last = f.len - record_total_bytes(12);
	f.bytes[last + RECORD_HEADER_BYTES] ^= 1;
	segment_write(&f, "torn_tail", 64);
	segment_with_history(&f, true);
	f.bytes[f.len + 40] = 0xff;
	segment_write(&f, "garbage_after_the_end", 64);
	segment_with_history(&f, true);
	f.bytes[SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES] ^= 1;
	segment_write(&f, "bad_record_before_good_ones", 64);
}

static void seed_record(void)
{
	static struct segment_file f;
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
