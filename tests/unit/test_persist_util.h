/* Helpers shared by the tests of persist/: a temporary directory per test,
 * default parameters, deterministic payloads and raw file access. */
#ifndef TEST_PERSIST_UTIL_H
#define TEST_PERSIST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plog.h"

#define MIB (1024u * 1024u)
#define TEST_GROUP 0x5eed5eed00000001u

struct tmp {
	char root[64];      /* the mkdtemp directory */
	char dir[96];       /* the log's directory inside it (created by plog_open) */
};

static inline void tmp_make(struct tmp *t)
{
	snprintf(t->root, sizeof t->root, "/tmp/plog-test-XXXXXX");
	if (!mkdtemp(t->root))
		abort();
	snprintf(t->dir, sizeof t->dir, "%s/log", t->root);
}

/* Removes a directory and the files in it. */
static inline void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	char file[PATH_MAX];
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    strlen(path) + strlen(e->d_name) + 2 > sizeof file)
			continue;
		strcpy(file, path);
		strcat(file, "/");
		strcat(file, e->d_name);
		struct stat st;
		if (lstat(file, &st) == 0 && S_ISDIR(st.st_mode))
			remove_dir(file);
		else
			unlink(file);
	}
	closedir(d);
	rmdir(path);
}

static inline void tmp_remove(struct tmp *t)
{
	remove_dir(t->root);
}

static inline struct plog_params params_for(const struct tmp *t, enum plog_mode mode)
{
	return (struct plog_params){ .dir = t->dir, .group_id = TEST_GROUP, .mode = mode,
				     .segment_bytes = MIB, .ring_bytes = MIB, .sync_interval_ms = 50 };
}

/* The payload of version v: its bytes depend on v and position. */
static inline void payload_fill(uint8_t *buf, size_t len, uint64_t v)
{
	uint64_t x = v * 0x9E3779B97F4A7C15u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

static inline int payload_matches(const void *data, size_t len, uint64_t v)
{
	uint8_t *expect = malloc(len ? len : 1);
	payload_fill(expect, len, v);
	int same = len == 0 || memcmp(expect, data, len) == 0;
	free(expect);
	return same;
}

static inline void seg_path(char *out, size_t cap, const struct tmp *t, unsigned index)
{
	snprintf(out, cap, "%s/seg-%08x.log", t->dir, index);
}

/* The whole of a file (malloc'd), its size in *len. */
static inline uint8_t *file_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	fstat(fd, &st);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	ssize_t got = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (got != st.st_size) {
		free(buf);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return buf;
}

static inline int file_write_at(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t done = pwrite(fd, buf, len, (off_t)off);
	close(fd);
	return done == (ssize_t)len ? 0 : -1;
}

static inline unsigned count_segments(const struct tmp *t)
{
	unsigned n = 0;
	char path[256];
	for (;;) {
		seg_path(path, sizeof path, t, n);
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

#endif
