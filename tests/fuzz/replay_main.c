/* The main of a fuzz target built without libFuzzer: runs every file of
 * the directories (or the files) it is given through the target once, in
 * name order, so that every build re-checks the saved corpus. An empty
 * or unreadable corpus fails: a replay of nothing proves nothing. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads a whole file (malloc'd, at least one byte so that an empty file
 * is not mistaken for a failure). */
static uint8_t *read_input(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long len = -1;
	if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
		data = malloc((size_t)len + 1);
	if (data && fread(data, 1, (size_t)len, f) != (size_t)len) {
		free(data);
		data = NULL;
	}
	if (f)
		fclose(f);
	*size = (size_t)len;
	return data;
}

static int replay_file(const char *path)
{
	size_t size;
	uint8_t *data = read_input(path, &size);
	if (!data) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	printf("Running: %s\n", path);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 1;
}

static int is_input(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* The number of inputs replayed, or -1. */
static int replay_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_input, alphasort);
	if (n < 0) {
		perror(dir);
		return -1;
	}
	int replayed = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (replayed >= 0) {
			int rc = replay_file(path);
			replayed = rc < 0 ? rc : replayed + rc;
		}
		free(names[i]);
	}
	free(names);
	return replayed;
}

int main(int argc, char **argv)
{
	int total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int n = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? replay_dir(argv[i])
									: replay_file(argv[i]);
		if (n <= 0) {
			fprintf(stderr, "%s: no input replayed\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("%d inputs replayed\n", total);
	return argc > 1 ? 0 : 1;
}
