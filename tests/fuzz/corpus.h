/* The seed corpus writer (make_corpus): each target's seeds, made with
 * the library's own encoders, plus edge cases by hand. */
#ifndef GRP_FUZZ_CORPUS_H
#define GRP_FUZZ_CORPUS_H

#include <stddef.h>

/* Writes ROOT/target/name (ROOT: make_corpus's argument); exits on error. */
void corpus_write(const char *target, const char *name, const void *data, size_t len);
void corpus_write_text(const char *target, const char *name, const char *text);

struct text_seed {
	const char *name;
	const char *text;
};
void corpus_write_texts(const char *target, const struct text_seed *seeds, size_t n);

/* One per file: the seeds of the targets of one area. */
void seed_wire(void);     /* frame, session */
void seed_config(void);   /* config, hostports, secret */
void seed_persist(void);  /* record, segment, plog_open */
void seed_stream(void);   /* log_stream */
void seed_kvstore(void);  /* kv_op, kv_snapshot */

#endif
