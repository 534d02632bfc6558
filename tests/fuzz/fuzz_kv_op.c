/* A kvstore operation as a member delivers it: what is accepted lies
 * inside the message and encodes back to the same bytes. */
#include <string.h>

#include "fuzz.h"
#include "op.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_op op;
	if (op_decode(data, size, &op) != NULL)
		return 0;
	uint8_t again[OP_LEN_MAX];
	FUZZ_CHECK(op_encode(again, &op) == size);
	FUZZ_CHECK(memcmp(again, data, size) == 0);
	return 0;
}
