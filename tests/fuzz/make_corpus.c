/* make_corpus ROOT: writes the seed corpus of every fuzz target into
 * ROOT/<target>/ (tests/fuzz/corpus; the files are committed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corpus.h"

static const char *root;

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

void corpus_write(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", root, target);
	make_dir(path);
	snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

void corpus_write_text(const char *target, const char *name, const char *text)
{
	corpus_write(target, name, text, strlen(text));
}

void corpus_write_texts(const char *target, const struct text_seed *seeds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		corpus_write_text(target, seeds[i].name, seeds[i].text);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus ROOT\n");
		return 2;
	}
	root = argv[1];
	make_dir(root);
	seed_wire();
	seed_config();
	seed_persist();
	seed_stream();
	seed_kvstore();
	return 0;
}
