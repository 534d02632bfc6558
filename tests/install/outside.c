/* A program from outside the source tree, built against an installed
 * libgroup with pkg-config alone: it forms a group of one on 127.0.0.1 over
 * tcp, multicasts one message and waits until it is delivered. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <group/group.h>

#define DELIVERY_WAIT_MS 10000

static const char greeting[] = "hello from outside";

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	atomic_int *delivered = user;
	if (msg->len == sizeof greeting && memcmp(msg->data, greeting, sizeof greeting) == 0)
		atomic_store(delivered, 1);
}

/* The member's bootstrap listener, on a port the kernel picks, handed to the
 * library (member.listen_fd), so that runs side by side never collide. */
static int configure_loopback_member(grp_config *cfg)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("outside: loopback listener");
		if (fd >= 0)
			close(fd);
		return GRP_EIO;
	}
	char members[32], fd_text[16];
	snprintf(members, sizeof members, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	snprintf(fd_text, sizeof fd_text, "%d", fd);
	int rc = grp_config_set(cfg, "group.members", members);
	if (rc == 0)
		rc = grp_config_set(cfg, "member.listen_fd", fd_text);
	if (rc != 0) {
		fprintf(stderr, "outside: %s\n", grp_config_error(cfg));
		close(fd);
	}
	return rc;
}

static int await_delivery(const atomic_int *delivered)
{
	const struct timespec tick = { .tv_nsec = 1000000 };
	for (int ms = 0; ms < DELIVERY_WAIT_MS; ms++) {
		if (atomic_load(delivered))
			return 0;
		nanosleep(&tick, NULL);
	}
	return GRP_ETIMEDOUT;
}

int main(void)
{
	grp_config *cfg = NULL;
	int rc = grp_config_new(&cfg);
	if (rc == 0)
		rc = configure_loopback_member(cfg);
	atomic_int delivered = 0;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	grp_t *g = NULL;
	if (rc == 0)
		rc = grp_join(cfg, &cb, &delivered, &g);
	grp_config_free(cfg);
	if (rc == 0) {
		rc = grp_send(g, greeting, sizeof greeting);
		if (rc == 0)
			rc = await_delivery(&delivered);
		int left = grp_leave(g);
		grp_free(g);
		if (rc == 0)
			rc = left;
	}
	if (rc != 0) {
		fprintf(stderr, "outside: %s\n", grp_strerror(rc));
		return 1;
	}
	printf("outside: \"%s\" delivered\n", greeting);
	return 0;
}
