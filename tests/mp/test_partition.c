/* Members on separate hosts: each in its own network namespace of a
 * partition rig (tests/harness/netns.h), configured by its address there.
 * A group forms and multicasts across the namespaces; the rig's cut and
 * split really keep members apart, and its namespaces go with the process
 * that made them, even one killed with SIGKILL. Every case is skipped
 * where namespaces cannot be made (not root). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <group/group.h>

#include "cases.h"
#include "check.h"
#include "clock.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "netns.h"
#include "test_time.h"

#define MESSAGES 300u
#define PAYLOAD 4096u
/* Members wait WAIT_MS for deliveries, the parent FINISH_MS for members
 * (both scaled by test_ms). */
#define WAIT_MS 30000u
#define FINISH_MS (WAIT_MS + 30000u)
/* A connection that has not opened in this long across a bridge, where one
 * takes well under a millisecond, is not going to: the link is cut. */
#define UNREACHED_MS 1000u
/* How long a connection may take to open once a link is back. */
#define REACHED_MS 5000u

static void skip_without_rigs(void)
{
	const char *why = netns_rig_unsupported();
	if (why)
		skip_case(why);
}

static struct netns_rig *make_rig(unsigned n)
{
	skip_without_rigs();
	struct netns_rig *rig = netns_rig_create(n);
	assert_non_null(rig);
	return rig;
}

/* Whether fd listens on address, so the member sits in its namespace. */
static bool listens_on(int fd, const char *address)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char text[INET_ADDRSTRLEN];
	return getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
	       inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text) && strcmp(text, address) == 0;
}

struct multicast_run {
	const struct netns_rig *rig;
	char dir[256];
};

struct member_state {
	FILE *log;
	struct delivery_count delivered;
};

static const struct payload_sizes sizes = { PAYLOAD, PAYLOAD };

static void log_delivery(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct member_state *st = user;
	delivery_log_write(st->log, m);
	delivery_count_add(&st->delivered);
}

static int send_messages(grp_t *g, unsigned rank)
{
	static uint8_t buf[PAYLOAD];
	for (uint64_t k = 0; k < MESSAGES; k++)
		CHECK(grp_send(g, buf, payload_for(rank, k, &sizes, buf)) == 0);
	return 0;
}

/* Every member sends MESSAGES and logs every delivery. */
static int multicast_member(const struct local_member *m, void *arg)
{
	const struct multicast_run *r = arg;
	CHECK(listens_on(m->listen_fd, netns_rig_address(r->rig, m->rank)));
	char path[300];
	snprintf(path, sizeof path, "%s/member-%u.log", r->dir, m->rank);
	struct member_state st = { .log = fopen(path, "w") };
	CHECK(st.log);
	delivery_count_init(&st.delivered);
	grp_config *cfg = local_member_config(m);
	CHECK(cfg);
	grp_callbacks cb = { .size = sizeof cb, .deliver = log_delivery };
	grp_t *g;
	CHECK(grp_join(cfg, &cb, &st, &g) == 0);
	grp_config_free(cfg);
	CHECK(send_messages(g, m->rank) == 0);
	CHECK(delivery_count_await(&st.delivered, (uint64_t)m->n * MESSAGES, test_ms(WAIT_MS)) == 0);
	CHECK(grp_leave(g) == 0);
	grp_free(g);
	fclose(st.log);
	delivery_count_destroy(&st.delivered);
	return 0;
}

/* Three members, each on its own host, form a group and multicast: the
 * fabric runs over the rig's addresses, which exist nowhere else. */
static void test_members_on_separate_hosts(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(3);
	struct multicast_run r = { .rig = rig };
	snprintf(r.dir, sizeof r.dir, "/tmp/grp-partition-XXXXXX");
	assert_non_null(mkdtemp(r.dir));
	run_members_in(rig, multicast_member, &r, FINISH_MS);
	unsigned char is_sender[3] = { 1, 1, 1 };
	char err[512];
	int rc = delivery_log_check(r.dir, 3, is_sender, MESSAGES, &sizes, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, r.dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", r.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

/* Whether a TCP connection to address:port opens within wait_ms. */
static bool connect_within(const char *address, unsigned port, unsigned wait_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, address, &sa.sin_addr) != 1)
		return false;
	bool opened = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (!opened && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = -1;
		socklen_t len = sizeof err;
		opened = poll(&p, 1, (int)wait_ms) == 1 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return opened;
}

/* Whether member `from` opens a TCP connection to member `to`'s listening
 * socket within wait_ms: tried by a child in from's namespace, since this
 * process stays in its own. */
static bool reaches(const struct netns_rig *rig, unsigned from, unsigned to, unsigned wait_ms)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(netns_rig_enter(rig, from) == 0 &&
			      connect_within(netns_rig_address(rig, to), LOCAL_RIG_PORT, wait_ms)
		      ? 0 : 1);
	}
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Waits (bounded) until from reaches to again after the rig reconnected
 * them: the first attempts may still fail on a neighbour entry the cut
 * left failed. */
static bool reaches_again(const struct netns_rig *rig, unsigned from, unsigned to)
{
	uint64_t deadline = clock_deadline_ms(test_ms(REACHED_MS));
	while (clock_ms_left(deadline) > 0)
		if (reaches(rig, from, to, (unsigned)clock_ms_left(deadline)))
			return true;
	return false;
}

/* Members that only listen (the connections open without accept) until
 * the test closes its end of the release pipe. */
struct release {
	int rd, wr;
};

static int listening_member(const struct local_member *m, void *arg)
{
	const struct release *release = arg;
	close(release->wr);
	local_member_report(m, "listening");
	char byte;
	while (read(release->rd, &byte, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static struct local_group *start_listeners(const struct netns_rig *rig, struct release *release)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	*release = (struct release){ .rd = fds[0], .wr = fds[1] };
	struct local_group *lg = local_group_start_in(rig, listening_member, release);
	assert_non_null(lg);
	close(release->rd);
	assert_int_equal(local_group_await_line(lg, "listening", test_ms(5000)), 0);
	return lg;
}

static void release_listeners(struct local_group *lg, struct release *release)
{
	close(release->wr);
	assert_int_equal(local_group_finish(lg, test_ms(5000), NULL), 0);
}

/* A cut member is out of reach both ways while the others still reach
 * each other; restored, it is reached again. */
static void test_rig_cut_isolates_member(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(3);
	struct release release;
	struct local_group *lg = start_listeners(rig, &release);
	assert_true(reaches(rig, 0, 2, test_ms(REACHED_MS)));
	assert_int_equal(netns_rig_cut(rig, 2), 0);
	assert_false(reaches(rig, 0, 2, UNREACHED_MS));
	assert_false(reaches(rig, 2, 1, UNREACHED_MS));
	assert_true(reaches(rig, 0, 1, test_ms(REACHED_MS)));
	assert_int_equal(netns_rig_restore(rig, 2), 0);
	assert_true(reaches_again(rig, 0, 2));
	assert_true(reaches_again(rig, 2, 1));
	release_listeners(lg, &release);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

/* Split 3 | 2 of 5: each side reaches within itself and not across;
 * healed, across again. */
static void test_rig_split_separates_sides(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(5);
	struct release release;
	struct local_group *lg = start_listeners(rig, &release);
	assert_int_equal(netns_rig_split(rig, 1u << 3 | 1u << 4), 0);
	assert_true(reaches(rig, 0, 2, test_ms(REACHED_MS)));
	assert_true(reaches(rig, 4, 3, test_ms(REACHED_MS)));
	assert_false(reaches(rig, 1, 3, UNREACHED_MS));
	assert_false(reaches(rig, 4, 0, UNREACHED_MS));
	assert_int_equal(netns_rig_heal(rig), 0);
	assert_true(reaches_again(rig, 1, 3));
	assert_true(reaches_again(rig, 4, 0));
	release_listeners(lg, &release);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

/* Whether some namespace name of a rig made by pid is left. */
static bool rig_names_left(pid_t pid)
{
	char prefix[32];
	snprintf(prefix, sizeof prefix, "grprig-%d-", (int)pid);
	DIR *dir = opendir("/run/netns");
	bool left = false;
	struct dirent *e;
	while (dir && !left && (e = readdir(dir)))
		left = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (dir)
		closedir(dir);
	return left;
}

/* The guardian removes a rig whose process died of SIGKILL, which no exit
 * handler sees. It outlives that process, so this one adopts it as a
 * subreaper, to reap it and see it succeed. */
static void test_rig_removed_when_its_process_is_killed(void **state)
{
	(void)state;
	skip_without_rigs();
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ready[0]);
		bool made = netns_rig_create(2) != NULL;
		if (write(ready[1], made ? "+" : "-", 1) != 1 || !made)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char made = 0;
	struct pollfd p = { .fd = ready[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, (int)test_ms(5000)), 1);
	assert_int_equal(read(ready[0], &made, 1), 1);
	close(ready[0]);
	assert_int_equal(made, '+');
	assert_true(rig_names_left(pid));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	uint64_t deadline = clock_deadline_ms(test_ms(5000));
	while (rig_names_left(pid) && clock_ms_left(deadline) > 0)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	assert_false(rig_names_left(pid));
	int guardian_status;
	assert_true(wait(&guardian_status) > 0);
	assert_true(WIFEXITED(guardian_status) && WEXITSTATUS(guardian_status) == 0);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_members_on_separate_hosts),
		cmocka_unit_test(test_rig_cut_isolates_member),
		cmocka_unit_test(test_rig_split_separates_sides),
		cmocka_unit_test(test_rig_removed_when_its_process_is_killed),
	};
	return RUN_CASES(argc, argv, cases);
}
