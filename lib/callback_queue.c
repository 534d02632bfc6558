#include "callback_queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <group/error.h>

int callback_queue_init(struct callback_queue *q, size_t limit)
{
	*q = (struct callback_queue){ .limit = limit };
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0)
		return GRP_EIO;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		close(q->fd);
		return GRP_ENOMEM;
	}
	return 0;
}

void callback_queue_destroy(struct callback_queue *q)
{
	while (q->head) {
		struct event *ev = q->head;
		q->head = ev->next;
		free(ev);
	}
	pthread_mutex_destroy(&q->lock);
	close(q->fd);
}

void callback_queue_set_wake(struct callback_queue *q, void (*wake)(void *arg), void *arg)
{
	pthread_mutex_lock(&q->lock);
	q->wake = wake;
	q->wake_arg = arg;
	pthread_mutex_unlock(&q->lock);
}

/* Under lock. The counter only ever holds 0 or 1: it is written when the
 * queue stops being empty and read back to 0 when it becomes empty again,
 * so neither call can fail (a counter of 0 takes 1; one of 1 reads). */
static void signal_fd(struct callback_queue *q, bool readable)
{
	uint64_t value = 1;
	ssize_t n = readable ? write(q->fd, &value, sizeof value) : read(q->fd, &value, sizeof value);
	(void)n;
}

void callback_queue_push(struct callback_queue *q, struct event *ev)
{
	ev->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->tail)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	q->bytes += ev->bytes;
	if (q->waiting++ == 0)
		signal_fd(q, true);
	pthread_mutex_unlock(&q->lock);
}

struct event *callback_queue_pop(struct callback_queue *q)
{
	pthread_mutex_lock(&q->lock);
	struct event *ev = q->head;
	if (ev) {
		q->head = ev->next;
		if (!q->head)
			q->tail = NULL;
		if (--q->waiting == 0)
			signal_fd(q, false);
	}
	pthread_mutex_unlock(&q->lock);
	return ev;
}

/* Under lock. */
static bool fits(const struct callback_queue *q, size_t bytes)
{
	return q->bytes == 0 || (bytes != SIZE_MAX && q->bytes + bytes <= q->limit);
}

void callback_queue_done(struct callback_queue *q, struct event *ev)
{
	pthread_mutex_lock(&q->lock);
	q->bytes -= ev->bytes;
	if (q->awaited && fits(q, q->awaited)) {
		q->awaited = 0;
		if (q->wake)
			q->wake(q->wake_arg);
	}
	pthread_mutex_unlock(&q->lock);
	free(ev);
}

/* Under lock: fits, or remembered as awaited (the larger need wins: the
 * engine may wait for room and for an idle queue at once). */
static bool fits_or_await(struct callback_queue *q, size_t bytes)
{
	if (fits(q, bytes))
		return true;
	if (bytes > q->awaited)
		q->awaited = bytes;
	return false;
}

bool callback_queue_has_room(struct callback_queue *q, size_t bytes)
{
	pthread_mutex_lock(&q->lock);
	bool ok = fits_or_await(q, bytes);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

bool callback_queue_idle(struct callback_queue *q)
{
	pthread_mutex_lock(&q->lock);
	bool ok = fits_or_await(q, SIZE_MAX);
	pthread_mutex_unlock(&q->lock);
	return ok;
}

size_t callback_queue_waiting(struct callback_queue *q)
{
	pthread_mutex_lock(&q->lock);
	size_t n = q->waiting;
	pthread_mutex_unlock(&q->lock);
	return n;
}
