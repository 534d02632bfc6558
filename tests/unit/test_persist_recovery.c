/* persist/: what plog_open does with damaged files (a torn tail is cut, all
 * else refused with the files left as they were) and plog_truncate_after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <group/error.h>

#include "codec.h"
#include "record.h"
#include "segment.h"
#include "test_persist_util.h"

enum { PAYLOAD = 1024 };

static uint64_t rec_hlc(uint64_t v)
{
	return 7000 + 3 * v;
}

/* Every record has a 1 KiB payload: record v of a segment whose first
 * record is first sits at a known offset. */
static uint64_t offset_of(uint64_t v, uint64_t first)
{
	return SEGMENT_HEADER_BYTES + (v - first) * record_total_bytes(PAYLOAD);
}

/* Records per 1 MiB segment. */
static uint64_t per_segment(void)
{
	return (MIB - SEGMENT_HEADER_BYTES) / record_total_bytes(PAYLOAD);
}

static void append_range(struct plog *log, uint64_t from, uint64_t to)
{
	uint8_t buf[PAYLOAD];
	for (uint64_t v = from; v <= to; v++) {
		payload_fill(buf, sizeof buf, v);
		assert_int_equal(plog_append(log, PLOG_MESSAGE, 9, v, rec_hlc(v), buf, sizeof buf, NULL), 0);
	}
}

static void make_log(const struct tmp *t, uint64_t n)
{
	struct plog_params p = params_for(t, PLOG_DURABLE);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	append_range(log, 1, n);
	plog_close(log);
}

static void expect_versions(struct plog *log, uint64_t last)
{
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 0, UINT64_MAX, &it), 0);
	struct plog_record rec;
	for (uint64_t v = 1; v <= last; v++) {
		assert_int_equal(plog_iter_next(it, &rec), 1);
		assert_true(rec.version == v);
		assert_true(rec.hlc == rec_hlc(v));
		assert_true(payload_matches(rec.data, rec.len, v));
	}
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
}

static int open_once(const struct tmp *t, struct plog_open_report *rep)
{
	struct plog_params p = params_for(t, PLOG_DURABLE);
	struct plog *log;
	int err = plog_open(&p, &log, rep);
	if (err == 0)
		plog_close(log);
	return err;
}

/* ---- torn tails ---- */

static void damage_bytes(const char *path, uint64_t off, size_t len, uint8_t value)
{
	uint8_t *buf = malloc(len);
	memset(buf, value, len);
	assert_int_equal(file_write_at(path, off, buf, len), 0);
	free(buf);
}

/* Damages [from, to) of the last record (relative to its start), opens,
 * and checks the cut, the records kept, an append and a clean reopen. */
static void check_torn_tail(uint64_t n, size_t from, size_t to, uint8_t value)
{
	struct tmp t;
	tmp_make(&t);
	make_log(&t, n);
	unsigned last_seg = (unsigned)((n - 1) / per_segment());
	uint64_t off = offset_of(n, last_seg * per_segment() + 1);
	char path[256];
	seg_path(path, sizeof path, &t, last_seg);
	damage_bytes(path, off + from, to - from, value);

	struct plog_params p = params_for(&t, PLOG_DURABLE);
	struct plog *log;
	struct plog_open_report rep;
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_true(rep.truncated);
	assert_int_equal(rep.truncated_segment, last_seg);
	assert_true(rep.truncated_offset == off);
	assert_true(rep.reason[0] != '\0');
	assert_true(rep.records == n - 1);
	assert_true(rep.last_version == n - 1);
	assert_true(rep.last_hlc == rec_hlc(n - 1));
	expect_versions(log, n - 1);
	append_range(log, n, n + 5);
	assert_int_equal(plog_sync(log), 0);
	expect_versions(log, n + 5);
	plog_close(log);

	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_false(rep.truncated);
	assert_true(rep.records == n + 5);
	expect_versions(log, n + 5);
	plog_close(log);
	tmp_remove(&t);
}

static void test_torn_tail_payload_zeroed(void **state)
{
	(void)state;
	check_torn_tail(100, 500, record_total_bytes(PAYLOAD), 0);
}

static void test_torn_tail_garbage(void **state)
{
	(void)state;
	check_torn_tail(100, 16, 200, 0xab);
}

static void test_torn_tail_header_half_written(void **state)
{
	(void)state;
	check_torn_tail(100, 8, record_total_bytes(PAYLOAD), 0);
}

/* The torn record was the only one of the last segment: the segment goes. */
static void test_torn_tail_alone_in_last_segment(void **state)
{
	(void)state;
	check_torn_tail(per_segment() + 1, 100, 101, 0x5a);
}

static void test_torn_tail_in_second_segment(void **state)
{
	(void)state;
	check_torn_tail(per_segment() + 40, 40, 41, 0x01);
}

/* Garbage after the last good record and nothing valid: a tail too. */
static void test_garbage_after_end_is_cut(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 10);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	uint64_t end = offset_of(11, 1);
	damage_bytes(path, end + 4096, 64, 0x77);
	struct plog_open_report rep;
	assert_int_equal(open_once(&t, &rep), 0);
	assert_true(rep.truncated);
	assert_true(rep.truncated_offset == end);
	assert_true(rep.records == 10);
	size_t len = 0;
	uint8_t *bytes = file_read(path, &len);
	for (size_t i = end; i < len; i++)
		assert_int_equal(bytes[i], 0);
	free(bytes);
	assert_int_equal(open_once(&t, &rep), 0);
	assert_false(rep.truncated);
	tmp_remove(&t);
}

/* ---- refused: nothing changes on disk ---- */

struct snapshot {
	unsigned n;
	uint8_t *bytes[8];
	size_t len[8];
};

static void snapshot_take(const struct tmp *t, struct snapshot *s)
{
	s->n = count_segments(t);
	assert_true(s->n <= 8);
	for (unsigned i = 0; i < s->n; i++) {
		char path[256];
		seg_path(path, sizeof path, t, i);
		s->bytes[i] = file_read(path, &s->len[i]);
		assert_non_null(s->bytes[i]);
	}
}

static void snapshot_unchanged(const struct tmp *t, struct snapshot *s)
{
	struct snapshot now;
	snapshot_take(t, &now);
	assert_int_equal(now.n, s->n);
	for (unsigned i = 0; i < s->n; i++) {
		assert_int_equal(now.len[i], s->len[i]);
		assert_memory_equal(now.bytes[i], s->bytes[i], s->len[i]);
		free(now.bytes[i]);
		free(s->bytes[i]);
	}
}

static void expect_refused(const struct tmp *t, int err)
{
	struct snapshot before;
	snapshot_take(t, &before);
	struct plog_open_report rep;
	assert_int_equal(open_once(t, &rep), err);
	snapshot_unchanged(t, &before);
}

static void test_flipped_byte_in_middle(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 100);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	size_t len = 0;
	uint8_t *bytes = file_read(path, &len);
	uint64_t at = offset_of(50, 1) + RECORD_HEADER_BYTES + 300;
	uint8_t flipped = bytes[at] ^ 0x10;
	free(bytes);
	assert_int_equal(file_write_at(path, at, &flipped, 1), 0);
	expect_refused(&t, GRP_ECORRUPT);
	tmp_remove(&t);
}

static void test_flipped_version_in_middle(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 100);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	damage_bytes(path, offset_of(30, 1) + 16, 1, 0xee);
	expect_refused(&t, GRP_ECORRUPT);
	tmp_remove(&t);
}

static void test_zeroed_page_in_middle(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 100); /* about 103 KiB of records */
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	damage_bytes(path, 16 * 1024, 4096, 0);
	expect_refused(&t, GRP_ECORRUPT);
	tmp_remove(&t);
}

/* A zeroed page that starts exactly on a record: the scan sees an end
 * marker there, and valid records after it. */
static void test_zeroed_records_in_middle(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 100);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	damage_bytes(path, offset_of(40, 1), 4 * record_total_bytes(PAYLOAD), 0);
	expect_refused(&t, GRP_ECORRUPT);
	tmp_remove(&t);
}

static void test_bad_record_in_earlier_segment(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, per_segment() + 20);
	assert_int_equal(count_segments(&t), 2);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	/* Its last record: nothing valid follows it in that segment. */
	damage_bytes(path, offset_of(per_segment(), 1) + 700, 1, 0x3c);
	expect_refused(&t, GRP_ECORRUPT);
	tmp_remove(&t);
}

static void rewrite_header_u32(const char *path, uint64_t off, uint32_t value, bool fix_crc)
{
	size_t len = 0;
	uint8_t *bytes = file_read(path, &len);
	struct wcursor w = { .p = bytes + off, .cap = 4 };
	wc_u32(&w, value);
	if (fix_crc) {
		struct wcursor c = { .p = bytes + 60, .cap = 4 };
		wc_u32(&c, plog_crc32c(0, bytes, 60));
	}
	assert_int_equal(file_write_at(path, 0, bytes, SEGMENT_HEADER_BYTES), 0);
	free(bytes);
}

static void test_segment_header_checks(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, per_segment() + 5);
	char path[256];
	seg_path(path, sizeof path, &t, 1);
	size_t len = 0;
	uint8_t *good = file_read(path, &len);

	damage_bytes(path, 3, 1, 'X');
	expect_refused(&t, GRP_ECORRUPT);
	assert_int_equal(file_write_at(path, 0, good, SEGMENT_HEADER_BYTES), 0);

	damage_bytes(path, 24, 1, 0x99); /* first version, crc not fixed */
	expect_refused(&t, GRP_ECORRUPT);
	assert_int_equal(file_write_at(path, 0, good, SEGMENT_HEADER_BYTES), 0);

	rewrite_header_u32(path, 8, 99, true);
	expect_refused(&t, GRP_EVERSION);
	assert_int_equal(file_write_at(path, 0, good, SEGMENT_HEADER_BYTES), 0);

	rewrite_header_u32(path, 32, 7, true); /* index differs from the name */
	expect_refused(&t, GRP_ECORRUPT);
	assert_int_equal(file_write_at(path, 0, good, SEGMENT_HEADER_BYTES), 0);

	struct plog_params p = params_for(&t, PLOG_DURABLE);
	p.group_id = TEST_GROUP + 1;
	struct plog *log;
	struct snapshot before;
	snapshot_take(&t, &before);
	assert_int_equal(plog_open(&p, &log, NULL), GRP_ESTRANGER);
	snapshot_unchanged(&t, &before);

	struct plog_open_report rep;
	assert_int_equal(open_once(&t, &rep), 0);
	assert_true(rep.records == per_segment() + 5);
	free(good);
	tmp_remove(&t);
}

static void test_missing_segment(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	make_log(&t, 2 * per_segment() + 5);
	assert_int_equal(count_segments(&t), 3);
	char from[256], to[256];
	seg_path(from, sizeof from, &t, 1);
	snprintf(to, sizeof to, "%s/elsewhere", t.root);
	assert_int_equal(rename(from, to), 0);
	struct plog_open_report rep;
	assert_int_equal(open_once(&t, &rep), GRP_ECORRUPT);
	tmp_remove(&t);
}

/* ---- truncate_after ---- */

static void test_truncate_after(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	uint64_t n = 3 * per_segment() + 10;
	struct plog_params p = params_for(&t, PLOG_DURABLE);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	append_range(log, 1, n);
	assert_int_equal(plog_sync(log), 0);
	assert_int_equal(count_segments(&t), 4);

	/* An iterator half way: it goes on after the cut, up to it. */
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 1, UINT64_MAX, &it), 0);
	struct plog_record rec;
	for (uint64_t v = 1; v <= 1000; v++)
		assert_int_equal(plog_iter_next(it, &rec), 1);

	uint64_t keep = per_segment() + 300; /* inside the second segment */
	assert_int_equal(plog_truncate_after(log, keep), 0);
	assert_true(plog_last_version(log) == keep);
	assert_true(plog_last_hlc(log) == rec_hlc(keep));
	assert_true(plog_synced(log) == keep);
	assert_int_equal(count_segments(&t), 2);
	for (uint64_t v = 1001; v <= keep; v++) {
		assert_int_equal(plog_iter_next(it, &rec), 1);
		assert_true(rec.version == v);
	}
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
	expect_versions(log, keep);
	/* The versions cut may come again. */
	append_range(log, keep + 1, keep + 50);
	assert_int_equal(plog_sync(log), 0);
	assert_true(plog_synced(log) == keep + 50);
	expect_versions(log, keep + 50);
	plog_close(log);

	struct plog_open_report rep;
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_false(rep.truncated);
	assert_true(rep.records == keep + 50);
	expect_versions(log, keep + 50);

	/* Exactly at the end of a segment: the next segment goes whole. */
	assert_int_equal(plog_truncate_after(log, per_segment()), 0);
	assert_int_equal(count_segments(&t), 1);
	expect_versions(log, per_segment());
	/* Nothing above: nothing to do. */
	assert_int_equal(plog_truncate_after(log, per_segment() + 100), 0);
	assert_true(plog_last_version(log) == per_segment());
	plog_close(log);
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_true(rep.records == per_segment());
	assert_true(rep.last_version == per_segment());

	/* Everything. */
	assert_int_equal(plog_truncate_after(log, 0), 0);
	assert_true(plog_last_version(log) == 0);
	assert_true(plog_last_hlc(log) == 0);
	expect_versions(log, 0);
	append_range(log, 1, 3);
	plog_close(log);
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_true(rep.records == 3);
	expect_versions(log, 3);
	plog_close(log);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_tail_payload_zeroed),
		cmocka_unit_test(test_torn_tail_garbage),
		cmocka_unit_test(test_torn_tail_header_half_written),
		cmocka_unit_test(test_torn_tail_alone_in_last_segment),
		cmocka_unit_test(test_torn_tail_in_second_segment),
		cmocka_unit_test(test_garbage_after_end_is_cut),
		cmocka_unit_test(test_flipped_byte_in_middle),
		cmocka_unit_test(test_flipped_version_in_middle),
		cmocka_unit_test(test_zeroed_page_in_middle),
		cmocka_unit_test(test_zeroed_records_in_middle),
		cmocka_unit_test(test_bad_record_in_earlier_segment),
		cmocka_unit_test(test_segment_header_checks),
		cmocka_unit_test(test_missing_segment),
		cmocka_unit_test(test_truncate_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
