#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

uint64_t fuzz_group_id(void)
{
	return frame_group_id(FUZZ_GROUP_NAME);
}

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

void *fuzz_copy(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

int fuzz_bytes_read(void *arg, void *buf, size_t cap, size_t *got)
{
	struct fuzz_bytes *b = arg;
	size_t n = b->len - b->off < cap ? b->len - b->off : cap;
	if (n)
		memcpy(buf, b->p + b->off, n);
	b->off += n;
	*got = n;
	return 0;
}
