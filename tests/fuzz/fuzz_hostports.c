/* A host:port list (group.members, group.contact): what parses must
 * format to canonical text that parses to the same list. */
#include <stdlib.h>
#include <string.h>

#include "config_hostports.h"
#include "config_text.h"
#include "fuzz.h"

/* The canonical text of a list (malloc'd). */
static char *format(const struct hostport_list *list)
{
	size_t len = hostports_format(list, NULL, 0);
	char *text = malloc(len + 1);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(hostports_format(list, text, len + 1) == len);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size);
	FUZZ_CHECK(text != NULL);
	char why[CONFIG_ERROR_MAX];
	struct hostport_list list;
	if (hostports_parse(text, &list, why, sizeof why) == 0) {
		char *canonical = format(&list);
		struct hostport_list again;
		FUZZ_CHECK(hostports_parse(canonical, &again, why, sizeof why) == 0);
		FUZZ_CHECK(again.count == list.count);
		char *canonical_again = format(&again);
		FUZZ_CHECK(strcmp(canonical, canonical_again) == 0);
		free(canonical_again);
		free(canonical);
		hostports_release(&again);
		hostports_release(&list);
	}
	free(text);
	return 0;
}
