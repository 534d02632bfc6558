#include "localgroup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "netns.h"
#include "test_time.h"

/* Room for "ADDRESS:PORT," in the member list. */
#define MEMBER_ENTRY 24

struct local_child {
	pid_t pid;
	int pidfd;
	int report_rd;
	bool reaped;
	int status;
	char pending[1024]; /* bytes read but not yet returned as a line */
	size_t pending_len;
};

struct local_group {
	unsigned n;
	struct local_child *children;
	struct local_group *next_live;
};

/* The groups this process started and has not finished, for
 * local_group_stop_all. Members inherit the list with their memory; the
 * owner's pid keeps them from stopping their own group at their exit. */
static struct local_group *live_groups;
static pid_t live_groups_owner;

static void register_live(struct local_group *lg)
{
	if (live_groups_owner == 0) {
		live_groups_owner = getpid();
		atexit(local_group_stop_all);
	}
	lg->next_live = live_groups;
	live_groups = lg;
}

static void unregister_live(struct local_group *lg)
{
	struct local_group **link = &live_groups;
	while (*link && *link != lg)
		link = &(*link)->next_live;
	if (*link)
		*link = lg->next_live;
}

void local_group_stop_all(void)
{
	if (getpid() != live_groups_owner)
		return;
	while (live_groups)
		local_group_finish(live_groups, 0, NULL);
}

/* A listening socket on address:port (port 0: one the kernel picks, then
 * in *port_out). */
static int listen_on(const char *address, unsigned port, int *fd_out, unsigned *port_out)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof sa;
	if (fd < 0 || inet_pton(AF_INET, address, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		fprintf(stderr, "localgroup: listening socket on %s:%u: %s\n", address, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*fd_out = fd;
	*port_out = ntohs(sa.sin_port);
	return 0;
}

/* In a rig, a member binds its own socket, in its namespace: the parent
 * stays in its own. */
static int take_place_in_rig(const struct netns_rig *rig, struct local_member *m)
{
	unsigned port;
	return netns_rig_enter(rig, m->rank) ||
	       listen_on(netns_rig_address(rig, m->rank), LOCAL_RIG_PORT, &m->listen_fd, &port);
}

static void run_child(struct local_member *m, const struct netns_rig *rig, local_member_fn fn,
		      void *arg, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	if (rig && take_place_in_rig(rig, m))
		_exit(125);
	/* exit, not _exit: LeakSanitizer checks members at exit. Nothing is
	 * left buffered from the parent (flushed before fork). */
	exit(fn(m, arg));
}

static int spawn(struct local_group *lg, unsigned rank, int *listen_fds, const char *members,
		 const char *group_name, const struct netns_rig *rig, local_member_fn fn, void *arg)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		for (unsigned i = 0; i < lg->n; i++)
			if (i != rank)
				close(listen_fds[i]);
		struct local_member m = {
			.rank = rank, .n = lg->n, .listen_fd = listen_fds[rank],
			.report_fd = pipefd[1], .members = members, .group_name = group_name,
		};
		run_child(&m, rig, fn, arg, parent);
	}
	close(pipefd[1]);
	struct local_child *c = &lg->children[rank];
	c->pid = pid;
	c->report_rd = pipefd[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return c->pidfd < 0 ? -1 : 0;
}

/* Member i's entry in the member list: in a rig its address and the
 * rig's port, else 127.0.0.1 and a port the kernel picks for the socket
 * bound here in listen_fds[i]. */
static int place_member(const struct netns_rig *rig, unsigned i, int *listen_fds, char *entry,
			size_t len)
{
	unsigned port;
	if (rig) {
		snprintf(entry, len, "%s:%u", netns_rig_address(rig, i), LOCAL_RIG_PORT);
		return 0;
	}
	if (listen_on("127.0.0.1", 0, &listen_fds[i], &port))
		return -1;
	snprintf(entry, len, "127.0.0.1:%u", port);
	return 0;
}

static struct local_group *start_group(unsigned n, const struct netns_rig *rig, local_member_fn fn,
				       void *arg)
{
	struct local_group *lg = calloc(1, sizeof *lg);
	int *fds = calloc(n, sizeof *fds);
	char *members = calloc(n, MEMBER_ENTRY);
	char group_name[64];
	snprintf(group_name, sizeof group_name, "localgroup-%d", (int)getpid());
	if (!lg || !fds || !members || !(lg->children = calloc(n, sizeof *lg->children))) {
		free(lg ? lg->children : NULL);
		free(lg);
		free(fds);
		free(members);
		return NULL;
	}
	lg->n = n;
	for (unsigned i = 0; i < n; i++)
		lg->children[i] = (struct local_child){ .pid = -1, .pidfd = -1, .report_rd = -1 };
	register_live(lg);
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	size_t off = 0;
	int rc = 0;
	for (unsigned i = 0; i < n && !rc; i++) {
		char entry[MEMBER_ENTRY];
		rc = place_member(rig, i, fds, entry, sizeof entry);
		if (!rc)
			off += (size_t)sprintf(members + off, "%s%s", i ? "," : "", entry);
	}
	for (unsigned i = 0; i < n && !rc; i++)
		rc = spawn(lg, i, fds, members, group_name, rig, fn, arg);
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(members);
	if (rc) {
		fprintf(stderr, "localgroup: cannot start %u members: %s\n", n, strerror(errno));
		local_group_finish(lg, 0, NULL);
		return NULL;
	}
	return lg;
}

struct local_group *local_group_start(unsigned n, local_member_fn fn, void *arg)
{
	return start_group(n, NULL, fn, arg);
}

struct local_group *local_group_start_in(const struct netns_rig *rig, local_member_fn fn, void *arg)
{
	return start_group(netns_rig_size(rig), rig, fn, arg);
}

static void reap(struct local_child *c, bool killed)
{
	int st;
	if (c->reaped || c->pid < 0 || waitpid(c->pid, &st, 0) != c->pid)
		return;
	c->reaped = true;
	if (killed)
		c->status = -1;
	else if (WIFEXITED(st))
		c->status = WEXITSTATUS(st);
	else
		c->status = 128 + WTERMSIG(st);
}

int local_group_read_line(struct local_group *lg, unsigned rank, char *buf, size_t len,
			  unsigned timeout_ms)
{
	struct local_child *c = &lg->children[rank];
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	for (;;) {
		char *nl = memchr(c->pending, '\n', c->pending_len);
		if (nl) {
			size_t line = (size_t)(nl - c->pending);
			snprintf(buf, len, "%.*s", (int)line, c->pending);
			c->pending_len -= line + 1;
			memmove(c->pending, nl + 1, c->pending_len);
			return 0;
		}
		struct pollfd p = { .fd = c->report_rd, .events = POLLIN };
		int rc = poll(&p, 1, clock_ms_left(deadline));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0 || c->pending_len == sizeof c->pending)
			return -1;
		ssize_t got = read(c->report_rd, c->pending + c->pending_len,
				   sizeof c->pending - c->pending_len);
		if (got <= 0)
			return -1;
		c->pending_len += (size_t)got;
	}
}

int local_group_await_line_from(struct local_group *lg, unsigned rank, const char *line,
				unsigned timeout_ms)
{
	char got[512];
	if (local_group_read_line(lg, rank, got, sizeof got, timeout_ms)) {
		fprintf(stderr, "localgroup: member %u did not report '%s'\n", rank, line);
		return -1;
	}
	if (strcmp(got, line) != 0) {
		fprintf(stderr, "localgroup: member %u reported '%s', not '%s'\n", rank, got, line);
		return -1;
	}
	return 0;
}

int local_group_await_line(struct local_group *lg, const char *line, unsigned timeout_ms)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	for (unsigned i = 0; i < lg->n; i++)
		if (local_group_await_line_from(lg, i, line, (unsigned)clock_ms_left(deadline)))
			return -1;
	return 0;
}

void local_group_kill(struct local_group *lg, unsigned rank, int sig)
{
	struct local_child *c = &lg->children[rank];
	if (c->pid > 0 && !c->reaped)
		kill(c->pid, sig);
}

int local_group_finish(struct local_group *lg, unsigned timeout_ms, int *status)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	int result = 0;
	for (unsigned i = 0; i < lg->n; i++) {
		struct local_child *c = &lg->children[i];
		if (c->pid < 0) {
			result = -1;
			continue;
		}
		struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
		int rc;
		do
			rc = poll(&p, 1, clock_ms_left(deadline));
		while (rc < 0 && errno == EINTR);
		bool killed = rc <= 0 && !c->reaped;
		if (killed) {
			kill(c->pid, SIGKILL);
			fprintf(stderr, "localgroup: member %u still running, killed\n", i);
		}
		reap(c, killed);
		if (c->status != 0)
			result = -1;
	}
	for (unsigned i = 0; i < lg->n; i++) {
		struct local_child *c = &lg->children[i];
		if (status)
			status[i] = c->pid < 0 ? -1 : c->status;
		if (c->pidfd >= 0)
			close(c->pidfd);
		if (c->report_rd >= 0)
			close(c->report_rd);
	}
	unregister_live(lg);
	free(lg->children);
	free(lg);
	return result;
}

void local_member_report(const struct local_member *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	ssize_t ignored = write(m->report_fd, line, (size_t)n);
	(void)ignored;
}

/* The suspicion timeout scaled like every test deadline (GROUP_TEST_TIME_SCALE:
 * sanitizers, emulated RDMA), so that a slowed member is not taken for a
 * failed one; the library's default where nothing scales. */
static int scale_suspect_timeout(grp_config *cfg)
{
	static const char key[] = "membership.suspect_timeout_ms";
	char text[24];
	if (grp_config_get(cfg, key, text, sizeof text) != 0)
		return -1;
	snprintf(text, sizeof text, "%u", test_ms((unsigned)strtoul(text, NULL, 10)));
	return grp_config_set(cfg, key, text);
}

grp_config *local_member_config(const struct local_member *m)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0)
		return NULL;
	char rank[16], fd[16];
	snprintf(rank, sizeof rank, "%u", m->rank);
	snprintf(fd, sizeof fd, "%d", m->listen_fd);
	int rc = scale_suspect_timeout(cfg);
	if (!rc)
		rc = grp_config_apply_env(cfg);
	if (!rc)
		rc = grp_config_set(cfg, "group.members", m->members);
	if (!rc)
		rc = grp_config_set(cfg, "member.rank", rank);
	if (!rc)
		rc = grp_config_set(cfg, "member.listen_fd", fd);
	if (!rc)
		rc = grp_config_set(cfg, "group.name", m->group_name);
	if (rc) {
		fprintf(stderr, "member %u: configuration: %s\n", m->rank, grp_config_error(cfg));
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

grp_config *local_singleton_config(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	grp_config *cfg = NULL;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) || grp_config_new(&cfg) ||
	    grp_config_apply_env(cfg)) {
		grp_config_free(cfg);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char members[64], fdtext[16];
	snprintf(members, sizeof members, "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(fdtext, sizeof fdtext, "%d", fd);
	if (grp_config_set(cfg, "group.members", members) ||
	    grp_config_set(cfg, "member.listen_fd", fdtext)) {
		grp_config_free(cfg);
		close(fd);
		return NULL;
	}
	return cfg;
}
