/* The recovery scan of plog_open over a log directory that holds the
 * input as segment files: the input is cut before each further segment
 * magic, up to MAX_SEGMENTS files seg-0, seg-1, ..., each with its zero
 * crcs sealed (fuzz.h). It opens or refuses without harm, and an opened
 * log iterates exactly the records it reported, versions ascending. The
 * directory is on tmpfs where there is one, so that the syncs of a
 * repaired tail cost little. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "plog.h"
#include "segment.h"

#define MIB (1024u * 1024u)
#define MAX_SEGMENTS 8u

/* segment.h: every segment starts with it. */
static const char segment_magic[8] = { 'G', 'R', 'P', 'P', 'L', 'O', 'G', '1' };

static char root[256];
static char log_dir[300];

static void remove_log_dir(void)
{
	DIR *d = opendir(log_dir);
	if (!d)
		return;
	int fd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	rmdir(log_dir);
}

static void remove_root(void)
{
	remove_log_dir();
	rmdir(root);
}

static void root_init(void)
{
	if (root[0])
		return;
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(root, sizeof root, "%s/fuzz-plog-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(root) != NULL);
	snprintf(log_dir, sizeof log_dir, "%s/log", root);
	atexit(remove_root);
}

static void write_segment(uint32_t index, const uint8_t *data, size_t size)
{
	uint8_t *file = fuzz_copy(data, size);
	FUZZ_CHECK(file != NULL);
	fuzz_seal_segment(file, size);
	char name[SEGMENT_NAME_MAX], path[sizeof log_dir + SEGMENT_NAME_MAX];
	segment_name(name, index, false);
	snprintf(path, sizeof path, "%s/%s", log_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(size == 0 || write(fd, file, size) == (ssize_t)size);
	close(fd);
	free(file);
}

static void write_segments(const uint8_t *data, size_t size)
{
	FUZZ_CHECK(mkdir(log_dir, 0700) == 0);
	for (uint32_t index = 0; index < MAX_SEGMENTS; index++) {
		const uint8_t *next = index + 1 < MAX_SEGMENTS && size > 1
					      ? memmem(data + 1, size - 1, segment_magic, sizeof segment_magic)
					      : NULL;
		size_t len = next ? (size_t)(next - data) : size;
		write_segment(index, data, len);
		if (!next)
			return;
		data += len;
		size -= len;
	}
}

static void check_records(struct plog *log, const struct plog_open_report *report)
{
	struct plog_iter *it;
	FUZZ_CHECK(plog_iter_versions(log, 0, UINT64_MAX, &it) == 0);
	struct plog_record r;
	uint64_t records = 0, prev = 0;
	int rc;
	while ((rc = plog_iter_next(it, &r)) == 1) {
		FUZZ_CHECK(r.version > prev);
		prev = r.version;
		records++;
	}
	plog_iter_free(it);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(records == report->records);
	FUZZ_CHECK(prev == report->last_version);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	root_init();
	write_segments(data, size);
	struct plog_params p = {
		.dir = log_dir,
		.group_id = fuzz_group_id(),
		.mode = PLOG_ASYNC,
		.segment_bytes = MIB,
		.ring_bytes = MIB,
		.sync_interval_ms = 1000,
	};
	struct plog *log;
	struct plog_open_report report;
	if (plog_open(&p, &log, &report) == 0) {
		check_records(log, &report);
		plog_close(log);
	}
	remove_log_dir();
	return 0;
}
