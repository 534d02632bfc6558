#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where `ip netns` keeps the names of namespaces: each a bind mount of one. */
#define NETNS_DIR "/run/netns"
#define RIG_PREFIX "grprig-"
#define SUBNET "10.201.0."
#define MAIN_BRIDGE "br0"
#define SPLIT_BRIDGE "br1"
#define MEMBER_LINK "eth0"

struct netns_rig {
	unsigned n;
	char prefix[48]; /* grprig-PID-SEQ */
	char (*addresses)[16];
	pid_t guardian;
	int guardian_wr; /* a byte or EOF here tells the guardian to clean up */
	struct netns_rig *next_live;
};

/* The rigs this process made and has not destroyed, for
 * netns_rig_destroy_all. Forked members inherit the list; the owner's pid
 * keeps them from destroying their parent's rigs at their exit. */
static struct netns_rig *live_rigs;
static pid_t live_rigs_owner;

static void member_ns(const struct netns_rig *rig, unsigned i, char name[64])
{
	snprintf(name, 64, "%s-m%u", rig->prefix, i);
}

static void hub_ns(const struct netns_rig *rig, char name[64])
{
	snprintf(name, 64, "%s-hub", rig->prefix);
}

static void hub_port(unsigned i, char name[16])
{
	snprintf(name, 16, "p%u", i);
}

/* Runs `ip ARGS` with its output discarded (its errors go to stderr);
 * returns its exit status, 127 if it cannot run. */
static int ip_status(const char *const *args)
{
	const char *argv[16] = { "ip" };
	for (size_t i = 0; args[i] && i + 2 < sizeof argv / sizeof argv[0]; i++)
		argv[i + 1] = args[i];
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs `ip ARGS`; 0, or -1 naming the command on stderr after ip's own
 * complaint. */
static int run_ip(const char *const *args)
{
	int status = ip_status(args);
	if (status == 0)
		return 0;
	fprintf(stderr, "netns: `ip");
	for (size_t i = 0; args[i]; i++)
		fprintf(stderr, " %s", args[i]);
	fprintf(stderr, "` failed (exit status %d%s)\n", status,
		status == 127 ? ": is iproute2 installed?" : "");
	return -1;
}

#define IP(...) run_ip((const char *const[]){ __VA_ARGS__, NULL })

/* What `ip netns delete` does, without its complaint when another process
 * removed the name first: detach the namespace from its name. */
static int remove_namespace(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, NETNS_DIR "/%s", name);
	umount2(path, MNT_DETACH);
	if (unlink(path) == 0 || errno == ENOENT)
		return 0;
	fprintf(stderr, "netns: cannot remove namespace %s: %s\n", name, strerror(errno));
	return -1;
}

/* The hub first: its end goes, and with it every member's cable. */
static int remove_rig_namespaces(const struct netns_rig *rig)
{
	char name[64];
	hub_ns(rig, name);
	int rc = remove_namespace(name);
	for (unsigned i = 0; i < rig->n; i++) {
		member_ns(rig, i, name);
		rc |= remove_namespace(name);
	}
	return rc;
}

static bool owner_is_dead(const char *name)
{
	char *end;
	long pid = strtol(name + strlen(RIG_PREFIX), &end, 10);
	return end != name + strlen(RIG_PREFIX) && *end == '-' && pid > 0 &&
	       kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Best effort: the namespaces of rigs whose process died before its
 * guardian could remove them (the guardian killed too, say). */
static void remove_stale_rigs(void)
{
	DIR *dir = opendir(NETNS_DIR);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)))
		if (strncmp(e->d_name, RIG_PREFIX, strlen(RIG_PREFIX)) == 0 &&
		    owner_is_dead(e->d_name))
			remove_namespace(e->d_name);
	closedir(dir);
}

/* The guardian's life: out of the creator's process group and deaf to the
 * signals that end a test (a timeout kills the whole group), it keeps no
 * descriptor but its pipe and the standard ones (another rig's pipe held
 * here would hide that rig's EOF), and waits for a byte or for EOF, which
 * comes when the creator and its forked children are gone. */
static void guard(const struct netns_rig *rig, int rd)
{
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	int fd = dup2(rd, STDERR_FILENO + 1);
	close_range(STDERR_FILENO + 2, ~0u, 0);
	char byte;
	while (fd >= 0 && read(fd, &byte, 1) < 0 && errno == EINTR)
		;
	_exit(remove_rig_namespaces(rig) ? 1 : 0);
}

static int start_guardian(struct netns_rig *rig)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		perror("netns: guardian pipe");
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		guard(rig, pipefd[0]);
	}
	close(pipefd[0]);
	if (pid < 0) {
		perror("netns: guardian");
		close(pipefd[1]);
		return -1;
	}
	rig->guardian = pid;
	rig->guardian_wr = pipefd[1];
	return 0;
}

static void register_live(struct netns_rig *rig)
{
	if (live_rigs_owner == 0) {
		live_rigs_owner = getpid();
		atexit(netns_rig_destroy_all);
	}
	rig->next_live = live_rigs;
	live_rigs = rig;
}

static void unregister_live(struct netns_rig *rig)
{
	struct netns_rig **link = &live_rigs;
	while (*link && *link != rig)
		link = &(*link)->next_live;
	if (*link)
		*link = rig->next_live;
}

static struct netns_rig *new_rig(unsigned n)
{
	static unsigned seq;
	struct netns_rig *rig = calloc(1, sizeof *rig);
	if (!rig || !(rig->addresses = calloc(n, sizeof *rig->addresses))) {
		free(rig);
		return NULL;
	}
	rig->n = n;
	rig->guardian = -1;
	rig->guardian_wr = -1;
	snprintf(rig->prefix, sizeof rig->prefix, RIG_PREFIX "%d-%u", (int)getpid(), seq++);
	for (unsigned i = 0; i < n; i++)
		snprintf(rig->addresses[i], sizeof rig->addresses[i], SUBNET "%u", i + 1);
	return rig;
}

/* Two bridges: every member's cable on the main one, and a second for the
 * side a split moves off it. */
static int build_hub(const struct netns_rig *rig)
{
	char hub[64];
	hub_ns(rig, hub);
	return IP("netns", "add", hub) ||
	       IP("-n", hub, "link", "add", MAIN_BRIDGE, "type", "bridge") ||
	       IP("-n", hub, "link", "set", MAIN_BRIDGE, "up") ||
	       IP("-n", hub, "link", "add", SPLIT_BRIDGE, "type", "bridge") ||
	       IP("-n", hub, "link", "set", SPLIT_BRIDGE, "up");
}

/* Member i's namespace, cabled by a veth pair: MEMBER_LINK with its
 * address inside, hub_port(i) on the main bridge in the hub. */
static int build_member(const struct netns_rig *rig, unsigned i)
{
	char hub[64], ns[64], port[16], cidr[24];
	hub_ns(rig, hub);
	member_ns(rig, i, ns);
	hub_port(i, port);
	snprintf(cidr, sizeof cidr, "%s/24", rig->addresses[i]);
	return IP("netns", "add", ns) ||
	       IP("-n", hub, "link", "add", port, "type", "veth", "peer", "name", MEMBER_LINK,
		  "netns", ns) ||
	       IP("-n", hub, "link", "set", port, "master", MAIN_BRIDGE, "up") ||
	       IP("-n", ns, "addr", "add", cidr, "dev", MEMBER_LINK) ||
	       IP("-n", ns, "link", "set", MEMBER_LINK, "up") ||
	       IP("-n", ns, "link", "set", "lo", "up");
}

static bool may_make_namespaces(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

const char *netns_rig_unsupported(void)
{
	if (!may_make_namespaces())
		return "cannot make network namespaces here (needs root)";
	if (ip_status((const char *const[]){ "-V", NULL }) != 0)
		return "iproute2's ip does not run here";
	return NULL;
}

struct netns_rig *netns_rig_create(unsigned n)
{
	if (n == 0 || n > NETNS_RIG_MAX) {
		fprintf(stderr, "netns: a rig has 1 to %u members, not %u\n", NETNS_RIG_MAX, n);
		return NULL;
	}
	remove_stale_rigs();
	struct netns_rig *rig = new_rig(n);
	if (!rig || start_guardian(rig) != 0) {
		fprintf(stderr, "netns: cannot start a rig\n");
		free(rig ? rig->addresses : NULL);
		free(rig);
		return NULL;
	}
	register_live(rig);
	int rc = build_hub(rig);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = build_member(rig, i);
	if (rc) {
		fprintf(stderr, "netns: cannot make a rig of %u members\n", n);
		netns_rig_destroy(rig);
		return NULL;
	}
	return rig;
}

unsigned netns_rig_size(const struct netns_rig *rig)
{
	return rig->n;
}

const char *netns_rig_address(const struct netns_rig *rig, unsigned i)
{
	return rig->addresses[i];
}

int netns_rig_enter(const struct netns_rig *rig, unsigned i)
{
	char name[64], path[128];
	member_ns(rig, i, name);
	snprintf(path, sizeof path, NETNS_DIR "/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "netns: cannot enter %s: %s\n", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Puts member i's hub port on bridge, or on none (NULL): off every bridge,
 * its frames reach only the hub, which has no address to answer them. */
static int attach_port(const struct netns_rig *rig, unsigned i, const char *bridge)
{
	char hub[64], port[16];
	hub_ns(rig, hub);
	hub_port(i, port);
	return bridge ? IP("-n", hub, "link", "set", port, "master", bridge)
		      : IP("-n", hub, "link", "set", port, "nomaster");
}

int netns_rig_cut(struct netns_rig *rig, unsigned i)
{
	return attach_port(rig, i, NULL);
}

int netns_rig_restore(struct netns_rig *rig, unsigned i)
{
	return attach_port(rig, i, MAIN_BRIDGE);
}

int netns_rig_split(struct netns_rig *rig, uint64_t side_a)
{
	int rc = 0;
	for (unsigned i = 0; i < rig->n && !rc; i++)
		rc = attach_port(rig, i, side_a >> i & 1 ? SPLIT_BRIDGE : MAIN_BRIDGE);
	return rc;
}

int netns_rig_heal(struct netns_rig *rig)
{
	return netns_rig_split(rig, 0);
}

int netns_rig_destroy(struct netns_rig *rig)
{
	ssize_t ignored = write(rig->guardian_wr, "", 1);
	(void)ignored;
	close(rig->guardian_wr);
	int st = 0;
	while (waitpid(rig->guardian, &st, 0) < 0 && errno == EINTR)
		;
	bool removed = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!removed)
		fprintf(stderr, "netns: namespaces of %s may be left\n", rig->prefix);
	unregister_live(rig);
	free(rig->addresses);
	free(rig);
	return removed ? 0 : -1;
}

void netns_rig_destroy_all(void)
{
	if (getpid() != live_rigs_owner)
		return;
	while (live_rigs)
		netns_rig_destroy(live_rigs);
}
