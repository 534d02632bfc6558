#include "admin_client.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNTERS 64

int admin_ask(const char *socket_path, const char *command, bool json, FILE *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof sa.sun_path) {
		fprintf(stderr, "groupctl: socket path too long: %s\n", socket_path);
		return 1;
	}
	strcpy(sa.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "groupctl: %s: %s (is admin.socket set on a running member?)\n",
			socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	char request[64];
	int len = snprintf(request, sizeof request, "%s %s\n", command, json ? "json" : "text");
	int rc = send(fd, request, (size_t)len, MSG_NOSIGNAL) == len ? 0 : 1;
	char buf[4096];
	ssize_t n;
	bool error = false, first = true;
	while (!rc && (n = recv(fd, buf, sizeof buf, 0)) > 0) {
		if (first && strncmp(buf, "error:", 6) == 0)
			error = true;
		first = false;
		fwrite(buf, 1, (size_t)n, error ? stderr : out);
	}
	close(fd);
	return rc || error || first ? 1 : 0;
}

struct sample {
	unsigned n;
	char name[MAX_COUNTERS][40];
	uint64_t value[MAX_COUNTERS];
};

/* The "name value" lines of a text stats answer. */
static int read_sample(const char *socket_path, struct sample *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return 1;
	int rc = admin_ask(socket_path, "stats", false, out);
	fclose(out);
	s->n = 0;
	for (char *line = strtok(text, "\n"); !rc && line && s->n < MAX_COUNTERS;
	     line = strtok(NULL, "\n")) {
		if (sscanf(line, "%39s %" SCNu64, s->name[s->n], &s->value[s->n]) == 2)
			s->n++;
	}
	free(text);
	return rc;
}

static void print_rates(const struct sample *a, const struct sample *b, unsigned interval_s,
			bool json)
{
	if (json)
		printf("{\"interval_s\":%u,\"counters\":{", interval_s);
	else
		printf("%-22s %20s %14s\n", "counter", "total", "per second");
	for (unsigned i = 0; i < b->n && i < a->n; i++) {
		double rate = (double)(b->value[i] - a->value[i]) / interval_s;
		if (json)
			printf("%s\"%s\":{\"total\":%" PRIu64 ",\"per_s\":%.1f}", i ? "," : "",
			       b->name[i], b->value[i], rate);
		else
			printf("%-22s %20" PRIu64 " %14.1f\n", b->name[i], b->value[i], rate);
	}
	printf(json ? "}}\n" : "\n");
	fflush(stdout);
}

int admin_stats_rates(const char *socket_path, unsigned interval_s, unsigned count, bool json)
{
	struct sample a, b;
	if (read_sample(socket_path, &a))
		return 1;
	for (unsigned done = 0; count == 0 || done < count; done++) {
		struct timespec ts = { .tv_sec = interval_s };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if (read_sample(socket_path, &b))
			return 1;
		print_rates(&a, &b, interval_s, json);
		a = b;
	}
	return 0;
}
