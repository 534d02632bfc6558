#include "log_modules.h"

#include <string.h>

/* In alphabetical order, so the list that a bad spec is answered with reads
 * well. */
static const char *const names[] = {
	"admin", "bootstrap", "config", "dispatch", "engine", "fabric", "group", "join", "links",
	"log", "membership", "multicast", "persist", "rdmc", "rejoin", "restart", "sst", "transfer",
};

_Static_assert(sizeof names / sizeof names[0] == LOG_MODULE_COUNT,
	       "LOG_MODULE_COUNT counts the names");

const char *log_module_name(int i)
{
	return names[i];
}

int log_module_find(const char *name, size_t len)
{
	for (int i = 0; i < LOG_MODULE_COUNT; i++) {
		if (strncmp(names[i], name, len) == 0 && names[i][len] == '\0')
			return i;
	}
	return -1;
}
