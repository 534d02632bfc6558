#include "outbox.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool outbox_fill(struct outbox *o, int fd)
{
	ssize_t n = read(fd, o->buf + o->len, sizeof o->buf - o->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	o->eof = n == 0;
	o->len += (size_t)n;
	return true;
}

bool outbox_has_room(const struct outbox *o)
{
	return !o->eof && o->len < sizeof o->buf;
}

const char *outbox_line(const struct outbox *o, size_t max, size_t *len)
{
	const char *nl = memchr(o->buf, '\n', o->len);
	size_t end = nl ? (size_t)(nl - o->buf) : o->len;
	/* A partial line goes once stdin ended, or once it fills the buffer. */
	if (!nl && !o->eof && o->len < sizeof o->buf)
		return NULL;
	if (end == 0 && !nl)
		return NULL;
	*len = end < max ? end : max;
	return o->buf;
}

void outbox_pop(struct outbox *o, size_t len)
{
	if (len < o->len && o->buf[len] == '\n')
		len++;
	memmove(o->buf, o->buf + len, o->len - len);
	o->len -= len;
}

bool outbox_done(const struct outbox *o)
{
	return o->eof && o->len == 0;
}
