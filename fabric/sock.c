#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <group/error.h>

#include "clock.h"
#include "log.h"

static const char *MOD = "bootstrap";

static int resolve(const char *host, uint16_t port, bool passive, struct addrinfo **out)
{
	char service[8];
	snprintf(service, sizeof service, "%u", port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	int rc = getaddrinfo(host, service, &hints, out);
	if (rc) {
		log_error(MOD, "cannot resolve %s:%u: %s", host, port, gai_strerror(rc));
		return GRP_ECONFIG;
	}
	return 0;
}

int sock_listen(const char *host, uint16_t port, int *fd_out)
{
	struct addrinfo *ai;
	int rc = resolve(host, port, true, &ai);
	if (rc)
		return rc;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		log_error(MOD, "cannot listen on %s:%u: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return GRP_EIO;
	}
	freeaddrinfo(ai);
	*fd_out = fd;
	return 0;
}

/* Waits for `events` on fd until the deadline. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, clock_ms_left(deadline));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return GRP_ETIMEDOUT;
		if (errno != EINTR)
			return GRP_EIO;
	}
}

int sock_connect(const char *host, uint16_t port, uint64_t deadline, int *fd_out)
{
	struct addrinfo *ai;
	int rc = resolve(host, port, false, &ai);
	if (rc)
		return rc;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return GRP_EIO;
	}
	rc = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS)
			rc = GRP_EPEER;
		else if ((rc = wait_fd(fd, POLLOUT, deadline)) == 0) {
			int err = 0;
			socklen_t len = sizeof err;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			rc = err ? GRP_EPEER : 0;
		}
	}
	freeaddrinfo(ai);
	int one = 1;
	if (!rc)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int sock_accept(int listen_fd, int wait_ms, int *fd_out)
{
	*fd_out = -1;
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };
	int rc = poll(&p, 1, wait_ms);
	if (rc <= 0)
		return rc == 0 || errno == EINTR ? 0 : GRP_EIO;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return errno == EAGAIN || errno == ECONNABORTED || errno == EINTR ? 0 : GRP_EIO;
	/* A frame is a header and a payload in two sends, answered at once:
	 * Nagle's wait for the peer's delayed acknowledgement would add 40 ms
	 * to every exchange. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*fd_out = fd;
	return 0;
}

int sock_send_all(int fd, const uint8_t *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return GRP_EPEER;
		int rc = wait_fd(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

int sock_recv_all(int fd, uint8_t *buf, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return GRP_EPEER;
		if (errno != EAGAIN && errno != EINTR)
			return GRP_EPEER;
		int rc = wait_fd(fd, POLLIN, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

int sock_send_frame(int fd, enum frame_type type, uint64_t group_id, const uint8_t *payload,
		    size_t len, uint64_t deadline)
{
	if (len > FRAME_MAX_PAYLOAD)
		return GRP_EMSGSIZE;
	uint8_t hdr[FRAME_HEADER_LEN];
	frame_header_encode(hdr, type, (uint32_t)len, group_id);
	int rc = sock_send_all(fd, hdr, sizeof hdr, deadline);
	return rc ? rc : sock_send_all(fd, payload, len, deadline);
}

int sock_recv_frame(int fd, uint64_t group_id, struct frame_header *hdr, uint8_t *payload,
		    uint64_t deadline)
{
	uint8_t raw[FRAME_HEADER_LEN];
	int rc = sock_recv_all(fd, raw, sizeof raw, deadline);
	if (!rc)
		rc = frame_header_decode(raw, group_id, hdr);
	if (!rc)
		rc = sock_recv_all(fd, payload, hdr->length, deadline);
	return rc;
}
