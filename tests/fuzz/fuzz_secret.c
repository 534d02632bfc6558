/* The text of a group.secret_file: a key, or GRP_ECONFIG and why not. */
#include <group/error.h>

#include "auth.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_key key;
	const char *why;
	int rc = auth_key_parse((const char *)data, size, &key, &why);
	FUZZ_CHECK(rc == 0 ? why == NULL : rc == GRP_ECONFIG && why != NULL);
	return 0;
}
