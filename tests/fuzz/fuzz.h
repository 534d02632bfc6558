/* What the fuzz targets share: the group they play, an invariant check
 * that stops the fuzzer, the input as a copy or as a stream, and the crcs
 * of the log's records computed for the fuzzer. The seed generator
 * (make_corpus.c) uses the same constants, so that its inputs are ones
 * the targets accept. */
#ifndef GRP_FUZZ_H
#define GRP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_GROUP_NAME "fuzz"
/* The node id of the member that receives (a joiner, for the log stream). */
#define FUZZ_MY_ID 2u
/* The server's challenge in the handshake: fixed, so that a saved input
 * that answers it stays valid; and the nonce of the seeds' client. */
#define FUZZ_NONCE_S_BYTE 0x5a
#define FUZZ_NONCE_C_BYTE 0xc3

uint64_t fuzz_group_id(void);

/* A broken invariant is a bug the fuzzer must report: it aborts. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* A copy of the input with a NUL after it, to change or to read as text
 * (malloc'd; NULL only out of memory). */
void *fuzz_copy(const uint8_t *data, size_t size);

/* The input as a stream that a reader callback drains. */
struct fuzz_bytes {
	const uint8_t *p;
	size_t len, off;
};
/* The signature of log_stream_read_fn and snapshot_read_fn: up to cap
 * bytes, *got 0 at the end. */
int fuzz_bytes_read(void *arg, void *buf, size_t cap, size_t *got);

/* A checksum is a wall a fuzzer does not climb. In the inputs of the log's
 * targets a crc field that holds zero stands for the right crc, which the
 * target writes in before it parses (a right crc of zero is a chance of
 * 1 in 2^32), so that mutations reach what the crc guards; a wrong
 * non-zero crc is left for the parser to refuse. */
void fuzz_seal_segment_header(uint8_t *header);
/* The record at `record`, if one whole lies within room bytes and its
 * header is not the zeros that end a segment: returns the bytes it spans,
 * else 0. */
size_t fuzz_seal_record(uint8_t *record, size_t room);
/* The header, then the records from the first on, as the scan finds them. */
void fuzz_seal_segment(uint8_t *file, size_t size);

#endif
