#include "op.h"

#include <string.h>

#include "le.h"

#define WIRE_VERSION 1

size_t op_encode(uint8_t *buf, const struct kv_op *op)
{
	buf[0] = WIRE_VERSION;
	buf[1] = op->code;
	put_le(buf + 2, op->key_len, 2);
	put_le(buf + 4, op->value_len, 2);
	memcpy(buf + OP_HEADER_LEN, op->key, op->key_len);
	memcpy(buf + OP_HEADER_LEN + op->key_len, op->value, op->value_len);
	return OP_HEADER_LEN + (size_t)op->key_len + op->value_len;
}

const char *op_decode(const void *data, size_t len, struct kv_op *op)
{
	const uint8_t *p = data;
	if (len < OP_HEADER_LEN)
		return "shorter than the header";
	if (p[0] != WIRE_VERSION)
		return "unknown format version";
	op->code = p[1];
	op->key_len = (uint16_t)get_le(p + 2, 2);
	op->value_len = (uint16_t)get_le(p + 4, 2);
	if (op->code != OP_PUT && op->code != OP_DELETE && op->code != OP_MARK)
		return "unknown operation";
	if (op->key_len == 0 || op->key_len > KEY_MAX)
		return "key length out of range";
	if (op->value_len > VALUE_MAX)
		return "value too long";
	if (op->code == OP_DELETE && op->value_len != 0)
		return "delete carries a value";
	if (op->code == OP_MARK && op->value_len != 0)
		return "mark carries a value";
	if (len != OP_HEADER_LEN + (size_t)op->key_len + op->value_len)
		return "lengths disagree with the message length";
	op->key = (const char *)p + OP_HEADER_LEN;
	op->value = op->key + op->key_len;
	return NULL;
}
