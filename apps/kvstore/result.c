#include "result.h"

#include <inttypes.h>
#include <stdio.h>

#define RESULT_PRINT "member %u: applied %" PRIu64 " ops (%" PRIu64 " puts, %" PRIu64 \
	" deletes, %" PRIu64 " rejected), %zu keys, map hash 0x%016" PRIx64
#define RESULT_SCAN "member %*u: applied %" SCNu64 " ops (%" SCNu64 " puts, %" SCNu64 \
	" deletes, %" SCNu64 " rejected), %zu keys, map hash 0x%" SCNx64
#define RESULT_FIELDS 6

void result_format(const struct result *res, unsigned rank, char *line, size_t len)
{
	snprintf(line, len, RESULT_PRINT, rank, res->applied, res->puts, res->deletes, res->rejected,
		 res->keys, res->hash);
}

bool result_parse(const char *line, struct result *res)
{
	return sscanf(line, RESULT_SCAN, &res->applied, &res->puts, &res->deletes, &res->rejected,
		      &res->keys, &res->hash) == RESULT_FIELDS;
}

bool results_equal(const struct result *a, const struct result *b)
{
	return a->applied == b->applied && a->puts == b->puts && a->deletes == b->deletes &&
	       a->rejected == b->rejected && a->keys == b->keys && a->hash == b->hash;
}
