/* persist/: a full disk. In a child with its own mount namespace, a 4 MiB
 * tmpfs: a 16 MiB segment cannot be made, and a log of 1 MiB segments
 * filled until it fails reports GRP_ENOSPC and keeps everything it
 * reported synced. The child's exit status says which check failed. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <group/error.h>

#include "test_persist_util.h"

enum {
	CHILD_OK = 0,
	CHILD_NO_NAMESPACE = 77, /* not allowed here: the parent skips */
	CHILD_SETUP_FAILED = 10,
	CHILD_BIG_SEGMENT_OPENED = 11,
	CHILD_OPEN_FAILED = 12,
	CHILD_NEVER_FULL = 13,
	CHILD_WRONG_ERROR = 14,
	CHILD_ON_FAILED_WRONG = 15,
	CHILD_REOPEN_FAILED = 16,
	CHILD_SYNCED_LOST = 17,
	CHILD_NOTHING_SYNCED = 18,
};

static atomic_int failed_with;
static atomic_int failed_calls;

static void note_failed(void *arg, int err)
{
	(void)arg;
	atomic_store(&failed_with, err);
	atomic_fetch_add(&failed_calls, 1);
}

static int fill_until_full(const struct tmp *t)
{
	struct plog_params p = params_for(t, PLOG_DURABLE);
	p.on_failed = note_failed;
	struct plog *log;
	if (plog_open(&p, &log, NULL) != 0)
		return CHILD_OPEN_FAILED;
	uint8_t buf[1024];
	int err = 0;
	uint64_t v;
	/* 4 MiB of tmpfs cannot hold 8 MiB of records. */
	for (v = 1; v <= 8 * 1024 && err == 0; v++) {
		payload_fill(buf, sizeof buf, v);
		err = plog_append(log, PLOG_MESSAGE, 1, v, v, buf, sizeof buf, NULL);
	}
	if (err == 0)
		err = plog_sync(log);
	/* Failed for good: every later call says so. */
	int again = plog_append(log, PLOG_MESSAGE, 1, v + 100, v + 100, buf, sizeof buf, NULL);
	int sync_again = plog_sync(log);
	uint64_t synced = plog_synced(log);
	plog_close(log);
	if (err == 0)
		return CHILD_NEVER_FULL;
	if (err != GRP_ENOSPC || again != GRP_ENOSPC || sync_again != GRP_ENOSPC)
		return CHILD_WRONG_ERROR;
	if (atomic_load(&failed_calls) != 1 || atomic_load(&failed_with) != GRP_ENOSPC)
		return CHILD_ON_FAILED_WRONG;
	if (synced == 0)
		return CHILD_NOTHING_SYNCED;

	struct plog_open_report rep;
	if (plog_open(&p, &log, &rep) != 0)
		return CHILD_REOPEN_FAILED;
	struct plog_iter *it;
	uint64_t expect = 1;
	if (plog_iter_versions(log, 1, synced, &it) == 0) {
		struct plog_record rec;
		while (plog_iter_next(it, &rec) == 1 && rec.version == expect &&
		       payload_matches(rec.data, rec.len, rec.version))
			expect++;
		plog_iter_free(it);
	}
	plog_close(log);
	return expect == synced + 1 && rep.last_version >= synced ? CHILD_OK : CHILD_SYNCED_LOST;
}

static int child(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		return errno == EPERM ? CHILD_NO_NAMESPACE : CHILD_SETUP_FAILED;
	/* Our tmpfs must not show in the parent's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return CHILD_SETUP_FAILED;
	struct tmp t;
	tmp_make(&t);
	if (mount("tmpfs", t.root, "tmpfs", 0, "size=4M") != 0) {
		int no_right = errno == EPERM;
		tmp_remove(&t);
		return no_right ? CHILD_NO_NAMESPACE : CHILD_SETUP_FAILED;
	}
	int result;
	struct tmp big = t;
	snprintf(big.dir, sizeof big.dir, "%s/big", t.root);
	struct plog_params p = params_for(&big, PLOG_DURABLE);
	p.segment_bytes = 16 * MIB;
	struct plog *log;
	if (plog_open(&p, &log, NULL) != GRP_ENOSPC) {
		result = CHILD_BIG_SEGMENT_OPENED;
	} else {
		result = fill_until_full(&t);
	}
	umount(t.root);
	tmp_remove(&t);
	return result;
}

static void test_disk_full(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_NO_NAMESPACE) {
		print_message("no right to a mount namespace here (needs root): skipped\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
