/* What a member reports once it has applied every operation: the line it
 * prints, which the --local parent reads back to check agreement. */
#ifndef KV_RESULT_H
#define KV_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESULT_LEN 256

struct result {
	uint64_t applied;
	uint64_t puts;
	uint64_t deletes;
	uint64_t rejected;
	size_t keys;
	uint64_t hash;
};

void result_format(const struct result *res, unsigned rank, char *line, size_t len);
/* True if line is a result line, then in *res. */
bool result_parse(const char *line, struct result *res);
bool results_equal(const struct result *a, const struct result *b);

#endif
