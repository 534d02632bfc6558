#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin_report.h"
#include "config.h"
#include "group_internal.h"
#include "log.h"
#include "stats.h"

static const char *MOD = "admin";

/* A client has this long to send its line, and to take the answer. */
#define CLIENT_MS 1000
#define REQUEST_MAX 64

struct admin {
	grp_t *g;
	unsigned me; /* our node id (a rejoin keeps it) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char group[256];
	int listen_fd;
	int wake[2];
	pthread_t thread;
	pthread_mutex_t lock;
	struct view_info *view; /* under lock: the last view reported */
	struct config_description *config;
	size_t n_config;
};

static int bind_socket(struct admin *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, a->path, sizeof sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return GRP_EIO;
	int bound = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	if (bound != 0 && errno == EADDRINUSE) {
		/* A socket nobody answers on is a dead member's: ours now. */
		struct stat st;
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (probe >= 0)
			close(probe);
		if (live || stat(a->path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			log_error(MOD, "admin.socket %s: %s", a->path,
				  live ? "another process serves it" : "exists and is not a socket");
			close(fd);
			return live ? GRP_EBUSY : GRP_ECONFIG;
		}
		unlink(a->path);
		bound = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	}
	/* Owner only: the socket shows the group's membership and config. */
	if (bound != 0 || chmod(a->path, 0600) != 0 || listen(fd, 8) != 0) {
		log_error(MOD, "admin.socket %s: %s", a->path, strerror(errno));
		close(fd);
		return GRP_EIO;
	}
	a->listen_fd = fd;
	return 0;
}

static const char *state_of(grp_t *g)
{
	int stopped = atomic_load(&g->stop_reason);
	if (stopped)
		return grp_strerror(stopped);
	if (atomic_load(&g->snd.leaving))
		return "leaving";
	if (atomic_load(&g->durable.restart_pending))
		return "restarting";
	/* Before the first view, and while a rejoin puts a new one in place. */
	if (!atomic_load_explicit(&g->first_reported, memory_order_acquire))
		return "joining";
	return "running";
}

static void status(struct admin *a, struct report *r)
{
	static const struct report_column columns[] = {
		{ "self", 4, false }, { "rank", 5, true }, { "id", 5, true },
		{ "address", 28, false }, { "role", 7, false }, { "sends", 5, false },
	};
	unsigned me = a->me;
	report_str(r, "group", a->group);
	report_u64(r, "id", me);
	report_str(r, "state", state_of(a->g));
	pthread_mutex_lock(&a->lock);
	const struct view_info *v = a->view;
	if (v) {
		report_u64(r, "view", v->vid);
		report_u64(r, "members", v->n);
		report_u64(r, "leader", v->members[0].id);
		report_table_begin(r, "view_members", columns, 6);
		for (unsigned i = 0; i < v->n; i++) {
			const struct view_member *m = &v->members[i];
			bool sends = false;
			for (unsigned s = 0; s < v->n_senders; s++)
				sends |= v->senders[s] == i;
			char rank[16], id[16], address[FRAME_HOST_MAX + 16];
			snprintf(rank, sizeof rank, "%u", i);
			snprintf(id, sizeof id, "%u", m->id);
			snprintf(address, sizeof address, "%s:%u", m->host, m->port);
			const char *row[] = { m->id == me ? "*" : "", rank, id, address,
					      i == 0 ? "leader" : "member", sends ? "yes" : "no" };
			report_row(r, row);
		}
		report_table_end(r);
	}
	pthread_mutex_unlock(&a->lock);
}

static void stats(struct admin *a, struct report *r)
{
	grp_stats_t s = { .size = sizeof s };
	grp_stats(a->g, &s);
	for (size_t i = 0; i < n_stat_fields; i++) {
		uint64_t v;
		memcpy(&v, (const char *)&s + stat_fields[i].offset, sizeof v);
		report_u64(r, stat_fields[i].name, v);
	}
}

static void config(struct admin *a, struct report *r)
{
	static const struct report_column columns[] = {
		{ "key", 34, false }, { "value", 24, false }, { "from", 0, false },
	};
	report_table_begin(r, "keys", columns, 3);
	for (size_t i = 0; i < a->n_config; i++) {
		const struct config_description *d = &a->config[i];
		char key[160];
		snprintf(key, sizeof key, "%s.%s", d->section, d->name);
		const char *row[] = { key, d->value, d->origin };
		report_row(r, row);
	}
	report_table_end(r);
}

static const struct {
	const char *name;
	void (*write)(struct admin *a, struct report *r);
} commands[] = { { "status", status }, { "stats", stats }, { "config", config } };

static void answer(struct admin *a, int fd, const char *request)
{
	char command[16] = "", format[8] = "text";
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return;
	int fields = sscanf(request, "%15s %7s", command, format);
	bool json = strcmp(format, "json") == 0;
	size_t c = 0;
	while (c < sizeof commands / sizeof commands[0] && strcmp(commands[c].name, command) != 0)
		c++;
	if (fields < 1 || c == sizeof commands / sizeof commands[0] ||
	    (!json && strcmp(format, "text") != 0)) {
		fprintf(out, "error: unknown request '%s' (status, stats or config; then text or "
			     "json)\n", request);
	} else {
		struct report r;
		report_begin(&r, out, json);
		commands[c].write(a, &r);
		report_end(&r);
	}
	fclose(out);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(text);
}

static void serve_client(struct admin *a, int fd)
{
	struct timeval tv = { .tv_sec = CLIENT_MS / 1000, .tv_usec = CLIENT_MS % 1000 * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	char request[REQUEST_MAX + 1];
	size_t have = 0;
	while (have < REQUEST_MAX && !memchr(request, '\n', have)) {
		ssize_t n = recv(fd, request + have, REQUEST_MAX - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	request[have] = '\0';
	request[strcspn(request, "\r\n")] = '\0';
	if (have)
		answer(a, fd, request);
	close(fd);
}

static void *admin_main(void *arg)
{
	struct admin *a = arg;
	pthread_setname_np(pthread_self(), "grp-admin");
	struct pollfd fds[2] = { { .fd = a->listen_fd, .events = POLLIN },
				 { .fd = a->wake[0], .events = POLLIN } };
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve_client(a, fd);
	}
	return NULL;
}

static int snapshot_config(struct admin *a, const grp_config *cfg)
{
	a->n_config = config_key_count(cfg);
	a->config = calloc(a->n_config, sizeof *a->config);
	if (!a->config)
		return GRP_ENOMEM;
	for (size_t i = 0; i < a->n_config; i++) {
		int rc = config_key_describe(cfg, i, &a->config[i]);
		if (rc)
			return rc;
		/* The descriptions point into cfg, which the application may free. */
		a->config[i].origin = strdup(a->config[i].origin);
		if (!a->config[i].origin)
			return GRP_ENOMEM;
	}
	return 0;
}

static void admin_free(struct admin *a)
{
	for (size_t i = 0; a->config && i < a->n_config; i++) {
		free(a->config[i].value);
		free((char *)a->config[i].origin);
	}
	free(a->config);
	free(a->view);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		unlink(a->path);
	}
	for (int i = 0; i < 2; i++)
		if (a->wake[i] >= 0)
			close(a->wake[i]);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int admin_start(grp_t *g, const grp_config *cfg, unsigned my_id)
{
	const char *path = config_str(cfg, "admin.socket");
	if (!*path)
		return 0;
	struct admin *a = calloc(1, sizeof *a);
	if (!a)
		return GRP_ENOMEM;
	a->g = g;
	a->me = my_id;
	a->listen_fd = a->wake[0] = a->wake[1] = -1;
	pthread_mutex_init(&a->lock, NULL);
	snprintf(a->group, sizeof a->group, "%s", config_str(cfg, "group.name"));
	int rc = 0;
	if (strlen(path) >= sizeof a->path) {
		log_error(MOD, "admin.socket: a path of at most %zu bytes", sizeof a->path - 1);
		rc = GRP_ECONFIG;
	}
	if (!rc) {
		memcpy(a->path, path, strlen(path) + 1);
		rc = snapshot_config(a, cfg);
	}
	if (!rc)
		rc = bind_socket(a);
	if (!rc && pipe2(a->wake, O_CLOEXEC) != 0)
		rc = GRP_EIO;
	if (!rc && pthread_create(&a->thread, NULL, admin_main, a) != 0)
		rc = GRP_ENOMEM;
	if (rc) {
		admin_free(a);
		return rc;
	}
	atomic_store_explicit(&g->admin, a, memory_order_release);
	return 0;
}

void admin_stop(grp_t *g)
{
	struct admin *a = atomic_load_explicit(&g->admin, memory_order_acquire);
	if (!a)
		return;
	ssize_t ignored = write(a->wake[1], "x", 1);
	(void)ignored;
	pthread_join(a->thread, NULL);
	atomic_store_explicit(&g->admin, NULL, memory_order_relaxed);
	admin_free(a);
}

void admin_note_view(grp_t *g)
{
	struct admin *a = atomic_load_explicit(&g->admin, memory_order_acquire);
	if (!a)
		return;
	struct view_info *v = malloc(sizeof *v);
	if (v && links_view_copy(g->links, v) != 0) {
		free(v);
		v = NULL;
	}
	pthread_mutex_lock(&a->lock);
	free(a->view);
	a->view = v;
	pthread_mutex_unlock(&a->lock);
}
