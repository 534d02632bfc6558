#include "logdir.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOGDIR_TEMPLATE "/tmp/kvstore-XXXXXX"

/* mkdir -p: every missing parent, then dir itself. */
static int make_dirs(char *path)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		int rc = mkdir(path, 0700);
		*p = saved;
		if (rc != 0 && errno != EEXIST)
			return -1;
		if (saved == '\0')
			return 0;
	}
}

/* Whether dir holds anything: an earlier run's logs belong to another
 * group.name (each --local run has its own), so a member would refuse
 * them, and its acknowledgements would mix with ours. */
static bool has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	const struct dirent *e;
	bool found = false;
	while (!found && (e = readdir(d)) != NULL)
		found = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return found;
}

int logdir_prepare(const char *given, char *out, size_t cap, bool *made)
{
	*made = strcmp(given, "auto") == 0;
	if ((size_t)snprintf(out, cap, "%s", *made ? LOGDIR_TEMPLATE : given) >= cap) {
		fprintf(stderr, "kvstore: --persist %s: path too long\n", given);
		return -1;
	}
	if (*made ? mkdtemp(out) == NULL : make_dirs(out) != 0) {
		fprintf(stderr, "kvstore: --persist %s: %s\n", out, strerror(errno));
		return -1;
	}
	if (!*made && has_entries(out)) {
		fprintf(stderr, "kvstore: --persist %s: not empty (an earlier run's logs?): give an "
			"empty or new directory, or auto\n", out);
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) == 0 ? 0 : errno;
}

int logdir_remove(const char *dir)
{
	/* Depth first, so that every directory is empty when its turn comes. */
	int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc != 0)
		fprintf(stderr, "kvstore: removing %s: %s\n", dir, strerror(rc > 0 ? rc : errno));
	return rc ? -1 : 0;
}
