/* Lines typed on stdin, waiting to be multicast: read(2) appends bytes as
 * they come, complete lines leave from the front. Reads stop while a full
 * buffer waits, so a group that cannot take more slows the reader down. */
#ifndef CHAT_OUTBOX_H
#define CHAT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#define OUTBOX_BYTES 65536u

struct outbox {
	char buf[OUTBOX_BYTES];
	size_t len;
	bool eof; /* stdin ended: what is left is the last line */
};

/* Reads what fd has (one read); false on an error. */
bool outbox_fill(struct outbox *o, int fd);
/* Whether there is room to read into. */
bool outbox_has_room(const struct outbox *o);
/* The first complete line (without its newline, at most max bytes: a
 * longer line leaves in pieces), or NULL; *len its length. */
const char *outbox_line(const struct outbox *o, size_t max, size_t *len);
/* Drops the line outbox_line returned (and its newline). */
void outbox_pop(struct outbox *o, size_t len);
/* Nothing left to send, and stdin ended. */
bool outbox_done(const struct outbox *o);

#endif
