/* persist/: CRC32C, appends read back after a reopen, hlc and version
 * rules, segment rollover, iterators (also while the writer appends), the
 * synced version in both modes. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <group/error.h>

#include "record.h"
#include "test_persist_util.h"

/* ---- CRC32C ---- */

static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0u;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
	}
	return ~crc;
}

static void test_crc32c_vectors(void **state)
{
	(void)state;
	assert_int_equal(plog_crc32c(0, "123456789", 9), 0xE3069283u);
	uint8_t zeros[32] = { 0 };
	assert_int_equal(plog_crc32c(0, zeros, sizeof zeros), 0x8A9136AAu);
	uint8_t ones[32];
	memset(ones, 0xff, sizeof ones);
	assert_int_equal(plog_crc32c(0, ones, sizeof ones), 0x62A8AB43u);
	assert_int_equal(plog_crc32c(0, NULL, 0), 0);
}

/* Every length and starting alignment through the 8-byte loop and the
 * tail, and chaining across any split, agree with the bit-by-bit form. */
static void test_crc32c_matches_bitwise(void **state)
{
	(void)state;
	uint8_t buf[300];
	payload_fill(buf, sizeof buf, 42);
	for (size_t start = 0; start < 8; start++)
		for (size_t len = 0; start + len <= sizeof buf; len += 7)
			assert_int_equal(plog_crc32c(0, buf + start, len), crc32c_bitwise(buf + start, len));
	uint32_t whole = plog_crc32c(0, buf, sizeof buf);
	for (size_t split = 0; split <= sizeof buf; split += 13)
		assert_int_equal(plog_crc32c(plog_crc32c(0, buf, split), buf + split, sizeof buf - split),
				 whole);
}

/* ---- round trip ---- */

static size_t mixed_len(unsigned i)
{
	if (i % 97 == 0)
		return 0;
	if (i % 250 == 7)
		return 600 * 1024; /* above half the 1 MiB ring: written by the appender */
	return (i * 2654435761u) % 4000;
}

struct expect {
	uint64_t version, hlc;
	uint32_t sender;
	size_t len;
	enum plog_kind kind;
};

static void append_mixed(struct plog *log, struct expect *ex, unsigned n)
{
	size_t cap = 600 * 1024;
	uint8_t *buf = malloc(cap);
	for (unsigned i = 0; i < n; i++) {
		ex[i] = (struct expect){ .version = 10 + 3 * (uint64_t)i, .hlc = 1000 + 5 * (uint64_t)i,
					 .sender = i * 7, .len = mixed_len(i),
					 .kind = i % 50 == 0 ? PLOG_VIEW : PLOG_MESSAGE };
		payload_fill(buf, ex[i].len, ex[i].version);
		uint64_t hlc_used = 0;
		assert_int_equal(plog_append(log, ex[i].kind, ex[i].sender, ex[i].version, ex[i].hlc, buf,
					     ex[i].len, &hlc_used),
				 0);
		assert_true(hlc_used == ex[i].hlc);
	}
	free(buf);
}

static void check_all(struct plog *log, const struct expect *ex, unsigned n)
{
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 0, UINT64_MAX, &it), 0);
	struct plog_record rec;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(plog_iter_next(it, &rec), 1);
		assert_true(rec.version == ex[i].version);
		assert_true(rec.hlc == ex[i].hlc);
		assert_int_equal(rec.sender, ex[i].sender);
		assert_int_equal(rec.kind, ex[i].kind);
		assert_int_equal(rec.len, ex[i].len);
		assert_true(payload_matches(rec.data, rec.len, rec.version));
	}
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_ASYNC);
	struct plog *log;
	struct plog_open_report rep;
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_true(rep.records == 0 && rep.last_version == 0 && !rep.truncated);
	enum { N = 1000 };
	struct expect *ex = calloc(N, sizeof *ex);
	append_mixed(log, ex, N);
	assert_true(plog_last_version(log) == ex[N - 1].version);
	assert_true(plog_last_hlc(log) == ex[N - 1].hlc);
	/* Iterators see what the writer wrote: all of it once synced. */
	assert_int_equal(plog_sync(log), 0);
	check_all(log, ex, N);
	plog_close(log);

	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_false(rep.truncated);
	assert_int_equal(rep.records, N);
	assert_true(rep.first_version == ex[0].version);
	assert_true(rep.last_version == ex[N - 1].version);
	assert_true(rep.last_hlc == ex[N - 1].hlc);
	assert_true(plog_last_version(log) == ex[N - 1].version);
	assert_true(plog_synced(log) == ex[N - 1].version);
	check_all(log, ex, N);
	plog_close(log);
	free(ex);
	tmp_remove(&t);
}

static void test_hlc_raised_and_versions_increase(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_DURABLE);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	uint64_t hlc;
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 5, 100, "a", 1, &hlc), 0);
	assert_true(hlc == 100);
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 6, 50, "b", 1, &hlc), 0);
	assert_true(hlc == 101);
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 7, 101, "c", 1, &hlc), 0);
	assert_true(hlc == 102);
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 8, 500, "d", 1, &hlc), 0);
	assert_true(hlc == 500);
	assert_true(plog_last_hlc(log) == 500);
	/* Versions strictly increase; nothing changes on a refusal. */
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 8, 600, "e", 1, &hlc), GRP_EINVAL);
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 3, 600, "e", 1, &hlc), GRP_EINVAL);
	assert_int_equal(plog_append(log, (enum plog_kind)3, 1, 9, 600, "e", 1, &hlc), GRP_EINVAL);
	assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, 9, 600, NULL, 1, &hlc), GRP_EINVAL);
	assert_true(plog_last_version(log) == 8);
	assert_true(plog_last_hlc(log) == 500);
	assert_int_equal(plog_sync(log), 0);
	plog_close(log);
	struct plog_open_report rep;
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_int_equal(rep.records, 4);
	assert_true(rep.last_hlc == 500);
	/* The hlc rule holds across a reopen. */
	assert_int_equal(plog_append(log, PLOG_VIEW, 2, 9, 1, NULL, 0, &hlc), 0);
	assert_true(hlc == 501);
	assert_int_equal(plog_append(log, PLOG_VIEW, 2, 8, 1000, NULL, 0, &hlc), GRP_EINVAL);
	plog_close(log);
	tmp_remove(&t);
}

static void test_bad_params(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog *log;
	struct plog_params p = params_for(&t, PLOG_ASYNC);
	p.segment_bytes = MIB - 1;
	assert_int_equal(plog_open(&p, &log, NULL), GRP_EINVAL);
	p = params_for(&t, PLOG_ASYNC);
	p.ring_bytes = 4096;
	assert_int_equal(plog_open(&p, &log, NULL), GRP_EINVAL);
	p = params_for(&t, (enum plog_mode)7);
	assert_int_equal(plog_open(&p, &log, NULL), GRP_EINVAL);
	p = params_for(&t, PLOG_ASYNC);
	p.sync_interval_ms = 0;
	assert_int_equal(plog_open(&p, &log, NULL), GRP_EINVAL);
	assert_int_equal(plog_open(NULL, &log, NULL), GRP_EINVAL);
	tmp_remove(&t);
}

/* One log, one writer: a second open of the directory is refused while
 * the first is open, and succeeds once it is closed. */
static void test_second_open_refused(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog *first, *second;
	struct plog_params p = params_for(&t, PLOG_ASYNC);
	assert_int_equal(plog_open(&p, &first, NULL), 0);
	assert_int_equal(plog_append(first, PLOG_MESSAGE, 1, 1, 1, "x", 1, NULL), 0);
	assert_int_equal(plog_open(&p, &second, NULL), GRP_EBUSY);
	plog_close(first);
	struct plog_open_report report;
	assert_int_equal(plog_open(&p, &second, &report), 0);
	assert_int_equal(report.records, 1);
	plog_close(second);
	tmp_remove(&t);
}

/* A record larger than a segment gets a segment of its own, sized to
 * fit; the records around it go on in ordinary segments. */
static void test_record_larger_than_segment(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_DURABLE);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	size_t big = 3 * MIB + 5;
	uint8_t *buf = malloc(big);
	for (uint64_t v = 1; v <= 5; v++) {
		size_t len = v == 3 ? big : 100;
		payload_fill(buf, len, v);
		assert_int_equal(plog_append(log, PLOG_MESSAGE, 1, v, v, buf, len, NULL), 0);
	}
	free(buf);
	assert_int_equal(plog_sync(log), 0);
	assert_int_equal(count_segments(&t), 3);
	char path[256];
	seg_path(path, sizeof path, &t, 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size == 64 + record_total_bytes(big));
	plog_close(log);
	struct plog_open_report rep;
	assert_int_equal(plog_open(&p, &log, &rep), 0);
	assert_int_equal(rep.records, 5);
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 2, 4, &it), 0);
	struct plog_record rec;
	for (uint64_t v = 2; v <= 4; v++) {
		assert_int_equal(plog_iter_next(it, &rec), 1);
		assert_true(rec.version == v);
		assert_int_equal(rec.len, v == 3 ? big : 100);
		assert_true(payload_matches(rec.data, rec.len, v));
	}
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
	plog_close(log);
	tmp_remove(&t);
}

/* ---- rollover and iterators ---- */

enum { KIB_RECORDS = 4000 };

static uint64_t kib_hlc(uint64_t v)
{
	return 5000 + 10 * v;
}

static void append_kib(struct plog *log, uint64_t from, uint64_t to)
{
	uint8_t buf[1024];
	for (uint64_t v = from; v <= to; v++) {
		payload_fill(buf, sizeof buf, v);
		assert_int_equal(plog_append(log, PLOG_MESSAGE, (uint32_t)v, v, kib_hlc(v), buf, sizeof buf,
					     NULL),
				 0);
	}
}

/* Exactly the versions first..last, in order, with their payloads. */
static void expect_range(struct plog_iter *it, uint64_t first, uint64_t last)
{
	struct plog_record rec;
	for (uint64_t v = first; v <= last; v++) {
		assert_int_equal(plog_iter_next(it, &rec), 1);
		assert_true(rec.version == v);
		assert_true(rec.hlc == kib_hlc(v));
		assert_int_equal(rec.len, 1024);
		assert_true(payload_matches(rec.data, rec.len, v));
	}
	assert_int_equal(plog_iter_next(it, &rec), 0);
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
}

static void test_rollover_and_ranges(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_ASYNC);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	append_kib(log, 1, KIB_RECORDS); /* 4000 * 1056 bytes: over 4 segments of 1 MiB */
	assert_int_equal(plog_sync(log), 0);
	assert_true(count_segments(&t) >= 4);

	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 1, KIB_RECORDS, &it), 0);
	expect_range(it, 1, KIB_RECORDS);
	assert_int_equal(plog_iter_versions(log, 1234, 3210, &it), 0);
	expect_range(it, 1234, 3210);
	assert_int_equal(plog_iter_versions(log, 3999, 99999, &it), 0);
	expect_range(it, 3999, KIB_RECORDS);
	/* hlc between records: the first record at or after it. */
	assert_int_equal(plog_iter_times(log, kib_hlc(900) - 5, kib_hlc(2900) + 5, &it), 0);
	expect_range(it, 900, 2900);
	assert_int_equal(plog_iter_times(log, 0, kib_hlc(1), &it), 0);
	expect_range(it, 1, 1);
	struct plog_record rec;
	assert_int_equal(plog_iter_times(log, kib_hlc(KIB_RECORDS) + 1, UINT64_MAX, &it), 0);
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
	assert_int_equal(plog_iter_versions(log, 20, 10, &it), 0);
	assert_int_equal(plog_iter_next(it, &rec), 0);
	plog_iter_free(it);
	plog_close(log);

	/* The index rebuilt by the recovery scan serves the same ranges. */
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	assert_int_equal(plog_iter_versions(log, 2500, 2600, &it), 0);
	expect_range(it, 2500, 2600);
	assert_int_equal(plog_iter_times(log, kib_hlc(17), kib_hlc(3333), &it), 0);
	expect_range(it, 17, 3333);
	plog_close(log);
	tmp_remove(&t);
}

/* A record changed on disk after it was written fails its check when
 * read back. */
static void test_iterator_checks_crc(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_DURABLE);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	append_kib(log, 1, 10);
	assert_int_equal(plog_sync(log), 0);
	char path[256];
	seg_path(path, sizeof path, &t, 0);
	uint8_t junk = 0xa5;
	assert_int_equal(file_write_at(path, 64 + 4 * record_total_bytes(1024) + 600, &junk, 1), 0);
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 1, 10, &it), 0);
	struct plog_record rec;
	for (uint64_t v = 1; v <= 4; v++)
		assert_int_equal(plog_iter_next(it, &rec), 1);
	assert_int_equal(plog_iter_next(it, &rec), GRP_ECORRUPT);
	plog_iter_free(it);
	plog_close(log);
	tmp_remove(&t);
}

struct appender {
	struct plog *log;
	uint64_t last;
	atomic_bool done;
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	append_kib(a->log, 1, a->last);
	atomic_store(&a->done, true);
	return NULL;
}

/* Each pass reads a prefix of the log, whole and in order, never shorter
 * than the one before; once the appender is done a pass reads it all. */
static void test_iterate_while_appending(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	struct plog_params p = params_for(&t, PLOG_ASYNC);
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	struct appender a = { .log = log, .last = 6000 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, appender_main, &a), 0);
	uint64_t seen_before = 0;
	unsigned passes = 0;
	for (bool last_pass = false; !last_pass; passes++) {
		last_pass = atomic_load(&a.done);
		struct plog_iter *it;
		assert_int_equal(plog_iter_versions(log, 1, UINT64_MAX, &it), 0);
		struct plog_record rec;
		uint64_t v = 0;
		int rc;
		while ((rc = plog_iter_next(it, &rec)) == 1) {
			assert_true(rec.version == v + 1);
			assert_true(payload_matches(rec.data, rec.len, rec.version));
			v = rec.version;
		}
		assert_int_equal(rc, 0);
		plog_iter_free(it);
		assert_true(v >= seen_before);
		seen_before = v;
		if (last_pass) {
			/* Appends done; written may still trail: wait for it. */
			assert_int_equal(plog_sync(log), 0);
			assert_int_equal(plog_iter_versions(log, 1, UINT64_MAX, &it), 0);
			expect_range(it, 1, a.last);
		}
	}
	pthread_join(th, NULL);
	assert_true(passes >= 1);
	plog_close(log);
	tmp_remove(&t);
}

/* ---- synced ---- */

struct synced_calls {
	pthread_mutex_t lock;
	uint64_t values[100000];
	size_t n;
};

static void record_synced(void *arg, uint64_t v)
{
	struct synced_calls *c = arg;
	pthread_mutex_lock(&c->lock);
	if (c->n < sizeof c->values / sizeof c->values[0])
		c->values[c->n++] = v;
	pthread_mutex_unlock(&c->lock);
}

static void check_synced_mode(enum plog_mode mode)
{
	struct tmp t;
	tmp_make(&t);
	static struct synced_calls calls = { .lock = PTHREAD_MUTEX_INITIALIZER };
	calls.n = 0;
	struct plog_params p = params_for(&t, mode);
	p.on_synced = record_synced;
	p.arg = &calls;
	p.sync_interval_ms = 3600 * 1000; /* ASYNC: only plog_sync forces a sync */
	struct plog *log;
	assert_int_equal(plog_open(&p, &log, NULL), 0);
	assert_true(plog_synced(log) == 0);
	assert_int_equal(plog_sync(log), 0);
	append_kib(log, 1, 500);
	assert_int_equal(plog_sync(log), 0);
	assert_true(plog_synced(log) == 500);
	append_kib(log, 501, 1500);
	assert_int_equal(plog_sync(log), 0);
	assert_true(plog_synced(log) == 1500);
	plog_close(log);
	/* Joined: every call was made. */
	assert_true(calls.n >= 2);
	for (size_t i = 1; i < calls.n; i++)
		assert_true(calls.values[i] > calls.values[i - 1]);
	assert_true(calls.values[calls.n - 1] == 1500);
	tmp_remove(&t);
}

static void test_durable_synced(void **state)
{
	(void)state;
	check_synced_mode(PLOG_DURABLE);
}

static void test_async_synced(void **state)
{
	(void)state;
	check_synced_mode(PLOG_ASYNC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_matches_bitwise),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hlc_raised_and_versions_increase),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_second_open_refused),
		cmocka_unit_test(test_record_larger_than_segment),
		cmocka_unit_test(test_rollover_and_ranges),
		cmocka_unit_test(test_iterator_checks_crc),
		cmocka_unit_test(test_iterate_while_appending),
		cmocka_unit_test(test_durable_synced),
		cmocka_unit_test(test_async_synced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
