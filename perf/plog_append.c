/* Appends 100k records of 1 KiB to a fresh log in PLOG_ASYNC and then in
 * PLOG_DURABLE mode, and prints the time of each including the final
 * plog_sync; then 2000 appends each followed by plog_sync (the cost of one
 * fdatasync): plog_append [DIR] (default: a new directory under /tmp). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include <group/error.h>

#include "clock.h"
#include "plog.h"

enum { RECORDS = 100000, PAYLOAD = 1024 };

/* A fresh log in root/label. */
static int open_log(const char *root, const char *label, enum plog_mode mode, struct plog **log)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/%s", root, label);
	struct plog_params p = { .dir = dir, .group_id = 1, .mode = mode, .segment_bytes = 64u << 20,
				 .ring_bytes = 8u << 20, .sync_interval_ms = 100 };
	int err = plog_open(&p, log, NULL);
	if (err)
		fprintf(stderr, "plog_open %s: %s\n", dir, grp_strerror(err));
	return err;
}

static int run(const char *root, enum plog_mode mode, const char *label)
{
	struct plog *log;
	int err = open_log(root, label, mode, &log);
	if (err)
		return 1;
	static uint8_t payload[PAYLOAD];
	memset(payload, 0x5a, sizeof payload);
	uint64_t start = clock_now_ns();
	for (uint64_t v = 1; v <= RECORDS && !err; v++)
		err = plog_append(log, PLOG_MESSAGE, 1, v, v, payload, sizeof payload, NULL);
	uint64_t appended = clock_now_ns();
	if (!err)
		err = plog_sync(log);
	uint64_t synced = clock_now_ns();
	plog_close(log);
	if (err) {
		fprintf(stderr, "%s: %s\n", label, grp_strerror(err));
		return 1;
	}
	double secs = (double)(synced - start) / 1e9;
	printf("%-8s %d x %d B: appends %.3f s, appends+sync %.3f s, %.0f records/s, %.1f MB/s\n", label,
	       RECORDS, PAYLOAD, (double)(appended - start) / 1e9, secs, RECORDS / secs,
	       RECORDS * (double)PAYLOAD / secs / 1e6);
	return 0;
}

/* The other end: every append waits for its own fdatasync. */
static int run_sync_each(const char *root, unsigned records)
{
	struct plog *log;
	int err = open_log(root, "sync-each", PLOG_DURABLE, &log);
	if (err)
		return 1;
	static uint8_t payload[PAYLOAD];
	uint64_t start = clock_now_ns();
	for (uint64_t v = 1; v <= records && !err; v++) {
		err = plog_append(log, PLOG_MESSAGE, 1, v, v, payload, sizeof payload, NULL);
		if (!err)
			err = plog_sync(log);
	}
	uint64_t end = clock_now_ns();
	plog_close(log);
	if (err) {
		fprintf(stderr, "sync-each: %s\n", grp_strerror(err));
		return 1;
	}
	printf("durable, plog_sync after each of %u x %d B: %.3f s, %.1f us per record\n", records, PAYLOAD,
	       (double)(end - start) / 1e9, (double)(end - start) / 1e3 / records);
	return 0;
}

int main(int argc, char **argv)
{
	char root[256];
	if (argc > 1) {
		snprintf(root, sizeof root, "%s", argv[1]);
	} else {
		snprintf(root, sizeof root, "/tmp/plog-bench-XXXXXX");
		if (!mkdtemp(root)) {
			perror("mkdtemp");
			return 1;
		}
	}
	struct statfs fs;
	if (statfs(root, &fs) == 0)
		printf("directory %s, filesystem magic 0x%lx\n", root, (unsigned long)fs.f_type);
	int rc = run(root, PLOG_ASYNC, "async") | run(root, PLOG_DURABLE, "durable") |
		 run_sync_each(root, 2000);
	printf("(files left in %s)\n", root);
	return rc;
}
