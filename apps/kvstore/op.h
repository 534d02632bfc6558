/* The operations members multicast, and their wire format, integers
 * little-endian:
 *
 *   u8 version (1) | u8 op (1 put, 2 delete, 3 mark) | u16 key length |
 *   u16 value length | key bytes | value bytes
 *
 * A key has 1..64 bytes, a value 0..1000 and a delete has none. A mark
 * changes no key: a member restarted from its log (--crash-all) sends one,
 * its key naming the member, so that every member knows when all are back
 * and have every record the restart shipped them; it has no value. */
#ifndef KV_OP_H
#define KV_OP_H

#include <stddef.h>
#include <stdint.h>

#define OP_PUT 1
#define OP_DELETE 2
#define OP_MARK 3
#define OP_HEADER_LEN 6
#define KEY_MAX 64
#define VALUE_MAX 1000
#define OP_LEN_MAX (OP_HEADER_LEN + KEY_MAX + VALUE_MAX)

struct kv_op {
	uint8_t code;
	uint16_t key_len;
	uint16_t value_len;
	const char *key;
	const char *value; /* never NULL, even when value_len is 0 */
};

/* Writes a well-formed op into buf (room for OP_LEN_MAX bytes); returns
 * its length. */
size_t op_encode(uint8_t *buf, const struct kv_op *op);

/* Fills op from a delivered message, its key and value pointing into data;
 * returns why the message is invalid, or NULL if it is a well-formed
 * operation. */
const char *op_decode(const void *data, size_t len, struct kv_op *op);

#endif
