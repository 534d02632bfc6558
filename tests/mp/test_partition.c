/* Members on separate hosts: each in its own network namespace of a
 * partition rig (tests/harness/netns.h), configured by its address there.
 * A group forms and multicasts across the namespaces; the rig's cut and
 * split really keep members apart, and its namespaces go with the process
 * that made them, even one killed with SIGKILL. Then partitions for real
 * while members stream: a 2 | 3 split of five, where the two stop in a
 * minority and the three go on; a member cut off for a moment under the
 * suspicion timeout, which changes no view; and one cut off for good, which
 * the others remove while it stops. Every case is skipped where namespaces
 * cannot be made (not root). */
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
#include "member_log.h"
#include "netns.h"
#include "test_time.h"
#include "view_track.h"

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

/* Faults on the rig: members stream small messages while the rig splits
 * them or cuts one off, and the protocol, not the test, decides who goes
 * on. A member expected to end in a minority streams until grp_send says it
 * stopped (so the split is sure to catch it sending, however fast the
 * others are); the others send FAULT_MESSAGES each and run until they have
 * seen the view of the members expected to stay and every message of
 * those. Members log views and deliveries as in test_viewchange, and the
 * parent runs the delivery-log checker, and reads the logs for what each
 * case promises about views. */
#define FAULT_MAX 8u
#define FAULT_MESSAGES 2000u
#define SMALL 512u

static const struct payload_sizes small_sizes = { SMALL, SMALL };

struct fault_run {
	const struct netns_rig *rig;
	unsigned n;
	unsigned suspect_timeout_ms; /* before test_ms */
	unsigned char gone[FAULT_MAX]; /* expected to stop in a minority */
	/* >= 0: members wait before sending message FAULT_MESSAGES / 2 until
	 * the parent closes gate_wr (the fault is over by then). */
	int gate_rd, gate_wr;
	char dir[256];
};

struct fault_member {
	const struct fault_run *run;
	struct member_log ml;
	/* Our own last view callback, if we stopped: why. */
	enum grp_departure stop_reason;
};

static unsigned stays_count(const struct fault_run *run)
{
	unsigned stay = 0;
	for (unsigned r = 0; r < run->n; r++)
		stay += !run->gone[r];
	return stay;
}

static void fault_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct fault_member *st = user;
	member_log_deliver(&st->ml, m);
}

static void fault_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct fault_member *st = user;
	member_log_view(&st->ml, v);
	if (st->ml.views.stopped && v->n_departed == 1)
		st->stop_reason = v->departed_reason[0];
}

static grp_t *fault_join(const struct local_member *m, struct fault_member *st)
{
	char timeout[24], send_timeout[24];
	/* Scaled like every deadline: where everything runs slower, a member
	 * merely descheduled must not be taken for failed. */
	snprintf(timeout, sizeof timeout, "%u", test_ms(st->run->suspect_timeout_ms));
	snprintf(send_timeout, sizeof send_timeout, "%u", test_ms(WAIT_MS));
	grp_config *cfg = local_member_config(m);
	grp_callbacks cb = { .size = sizeof cb, .deliver = fault_deliver, .view = fault_view };
	grp_t *g = NULL;
	if (!cfg || grp_config_set(cfg, "membership.suspect_timeout_ms", timeout) ||
	    grp_config_set(cfg, "multicast.send_timeout_ms", send_timeout) ||
	    grp_join(cfg, &cb, st, &g) != 0)
		fprintf(stderr, "member %u: cannot join\n", m->rank);
	grp_config_free(cfg);
	return g;
}

static void pass_gate(const struct fault_run *run)
{
	char byte;
	if (run->gate_rd >= 0)
		while (read(run->gate_rd, &byte, 1) < 0 && errno == EINTR)
			;
}

/* Sends payload_for's messages 0, 1, ...: `count` of them, or until
 * grp_send fails if count is 0. Reports "ready" a quarter of the way to
 * FAULT_MESSAGES, and waits at the gate half way. Returns how many
 * grp_send accepted; *rc the first error. */
static uint64_t fault_send(const struct local_member *m, const struct fault_run *run, grp_t *g,
			   uint64_t count, int *rc)
{
	static uint8_t buf[SMALL];
	uint64_t k = 0;
	for (*rc = 0; (!count || k < count) && !*rc; k++) {
		if (k == FAULT_MESSAGES / 4)
			local_member_report(m, "ready");
		if (k == FAULT_MESSAGES / 2)
			pass_gate(run);
		*rc = grp_send(g, buf, payload_for(m->rank, k, &small_sizes, buf));
	}
	return *rc ? k - 1 : k;
}

/* A member in a minority: its stream ends with GRP_EMINORITY, its last
 * view callback named it departed for that reason in the view it was in
 * (the first: it never installed another), and grp_leave says it stopped. */
static int minority_member(const struct local_member *m, grp_t *g, struct fault_member *st)
{
	int rc;
	uint64_t accepted = fault_send(m, st->run, g, 0, &rc);
	/* After grp_leave no callback runs: st is ours alone to read. */
	int leave = grp_leave(g);
	grp_free(g);
	if (rc != GRP_EMINORITY) {
		fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s, expected GRP_EMINORITY\n",
			m->rank, accepted, grp_strerror(rc));
		return 30;
	}
	if (!st->ml.views.stopped || st->stop_reason != GRP_DEPARTED_MINORITY) {
		fprintf(stderr, "member %u: %s\n", m->rank,
			st->ml.views.stopped ? "its last view callback gave a reason other than MINORITY"
					  : "no view callback named it departed");
		return 31;
	}
	if (st->ml.views.views != 1 || st->ml.views.last_vid != 0) {
		fprintf(stderr, "member %u: installed %u views, the last %u, before it stopped\n",
			m->rank, st->ml.views.views, st->ml.views.last_vid);
		return 32;
	}
	if (st->ml.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, st->ml.views.problem);
		return 33;
	}
	if (leave != GRP_EMINORITY) {
		fprintf(stderr, "member %u: grp_leave: %s, expected GRP_EMINORITY\n", m->rank,
			grp_strerror(leave));
		return 34;
	}
	return delivery_log_accepted(st->run->dir, m->rank, accepted) ? 35 : 0;
}

/* A member expected to stay: sends all its messages and runs until done. */
static int staying_member(const struct local_member *m, grp_t *g, struct fault_member *st)
{
	int rc;
	uint64_t accepted = fault_send(m, st->run, g, FAULT_MESSAGES, &rc);
	if (rc) {
		fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", m->rank, accepted,
			grp_strerror(rc));
		rc = 20;
	} else if (delivery_count_await(&st->ml.done_signal, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: not done: %u members in view %u, %" PRIu64
			" deliveries\n", m->rank, st->ml.views.n, st->ml.views.last_vid,
			delivery_count_get(&st->ml.delivered));
		rc = 21;
	} else if (delivery_log_accepted(st->run->dir, m->rank, accepted) != 0) {
		rc = 22;
	}
	int leave = grp_leave(g);
	grp_free(g);
	if (!rc && st->ml.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, st->ml.views.problem);
		rc = 23;
	}
	if (!rc && leave) {
		fprintf(stderr, "member %u: grp_leave: %s\n", m->rank, grp_strerror(leave));
		rc = 24;
	}
	return rc;
}

static int fault_member_main(const struct local_member *m, void *arg)
{
	const struct fault_run *run = arg;
	if (run->gate_wr >= 0)
		close(run->gate_wr);
	CHECK(listens_on(m->listen_fd, netns_rig_address(run->rig, m->rank)));
	struct fault_member st = { .run = run };
	unsigned char stays[FAULT_MAX], senders[FAULT_MAX];
	for (unsigned r = 0; r < run->n; r++) {
		stays[r] = !run->gone[r];
		senders[r] = 1;
	}
	int opened = member_log_open(&st.ml, run->dir, m->rank, run->n, stays, senders,
				     FAULT_MESSAGES);
	grp_t *g = opened == 0 ? fault_join(m, &st) : NULL;
	if (!g)
		return 10;
	int rc = run->gone[m->rank] ? minority_member(m, g, &st) : staying_member(m, g, &st);
	member_log_close(&st.ml);
	return rc;
}

/* One view line of a log: "view VID members N ID... departed N ID:REASON...
 * joined N ID...". */
struct logged_view {
	unsigned vid;
	unsigned n_members, members[FAULT_MAX];
	unsigned n_departed, departed[FAULT_MAX], reason[FAULT_MAX];
};

static bool read_ids(const char **p, const char *what, unsigned *count, unsigned *ids,
		     unsigned *reasons)
{
	int used;
	char word[16];
	if (sscanf(*p, " %15s %u%n", word, count, &used) != 2 || strcmp(word, what) != 0 ||
	    *count > FAULT_MAX)
		return false;
	*p += used;
	for (unsigned i = 0; i < *count; i++) {
		if (reasons ? sscanf(*p, " %u:%u%n", &ids[i], &reasons[i], &used) != 2
			    : sscanf(*p, " %u%n", &ids[i], &used) != 1)
			return false;
		*p += used;
	}
	return true;
}

/* Reads member rank's view lines into views[]; their number, or -1. */
static int read_views(const char *dir, unsigned rank, struct logged_view *views, unsigned max)
{
	char path[300], line[512];
	snprintf(path, sizeof path, "%s/member-%u.log", dir, rank);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int count = 0;
	while (count >= 0 && fgets(line, sizeof line, f)) {
		if (strncmp(line, "view ", 5) != 0)
			continue;
		struct logged_view v;
		unsigned joined, joined_ids[FAULT_MAX];
		int used;
		const char *p = line;
		if ((unsigned)count == max || sscanf(p, "view %u%n", &v.vid, &used) != 1) {
			count = -1;
			break;
		}
		p += used;
		if (!read_ids(&p, "members", &v.n_members, v.members, NULL) ||
		    !read_ids(&p, "departed", &v.n_departed, v.departed, v.reason) ||
		    !read_ids(&p, "joined", &joined, joined_ids, NULL))
			count = -1;
		else
			views[count++] = v;
	}
	fclose(f);
	return count;
}

/* What the logs say about views beyond the checker's general rules:
 *  - a member in the minority saw view 0 only, and its last line names it
 *    departed for MINORITY in that view: it never installed another;
 *  - every departure a staying member saw is of a member expected to go,
 *    for FAILED (they did not leave: they were cut off), and its last
 *    view holds exactly the members expected to stay (no view change at
 *    all if nobody goes). */
static int check_fault_views(const struct fault_run *run, char *err, size_t len)
{
	struct logged_view views[16];
	for (unsigned r = 0; r < run->n; r++) {
		int count = read_views(run->dir, r, views, 16);
		if (count < 1) {
			snprintf(err, len, "member %u: no view lines, or malformed ones", r);
			return -1;
		}
		const struct logged_view *last = &views[count - 1];
		if (run->gone[r]) {
			for (int i = 0; i < count; i++)
				if (views[i].vid != 0) {
					snprintf(err, len, "member %u (minority) installed view %u",
						 r, views[i].vid);
					return -1;
				}
			if (count != 2 || last->n_departed != 1 || last->departed[0] != r ||
			    last->reason[0] != GRP_DEPARTED_MINORITY) {
				snprintf(err, len, "member %u (minority): its last view line does "
					 "not name it departed for MINORITY in view 0", r);
				return -1;
			}
			continue;
		}
		for (int i = 1; i < count; i++)
			for (unsigned d = 0; d < views[i].n_departed; d++)
				if (views[i].departed[d] >= run->n ||
				    !run->gone[views[i].departed[d]] ||
				    views[i].reason[d] != GRP_DEPARTED_FAILED) {
					snprintf(err, len, "member %u: view %u: member %u departed "
						 "for reason %u", r, views[i].vid,
						 views[i].departed[d], views[i].reason[d]);
					return -1;
				}
		unsigned stay = stays_count(run);
		if (last->n_members != stay || (stay == run->n && count != 1)) {
			snprintf(err, len, "member %u: ended in view %u of %u members, after %d "
				 "views", r, last->vid, last->n_members, count);
			return -1;
		}
	}
	return 0;
}

static void start_fault_run(struct fault_run *run, unsigned n, unsigned suspect_timeout_ms,
			    bool gate)
{
	run->n = n;
	run->suspect_timeout_ms = suspect_timeout_ms;
	run->gate_rd = run->gate_wr = -1;
	if (gate) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		run->gate_rd = fds[0];
		run->gate_wr = fds[1];
	}
	snprintf(run->dir, sizeof run->dir, "/tmp/grp-partition-XXXXXX");
	assert_non_null(mkdtemp(run->dir));
}

static void await_ready(struct local_group *lg)
{
	assert_int_equal(local_group_await_line(lg, "ready", test_ms(WAIT_MS)), 0);
}

/* Waits for the members (each exits 0 if it saw what it expected), then
 * checks the logs and removes them. */
static void finish_fault_run(struct fault_run *run, struct local_group *lg)
{
	int status[FAULT_MAX];
	int finished = local_group_finish(lg, test_ms(FINISH_MS), status);
	for (unsigned r = 0; r < run->n; r++)
		if (status[r] != 0)
			fprintf(stderr, "member %u exited %d (logs in %s)\n", r, status[r],
				run->dir);
	assert_int_equal(finished, 0);
	unsigned char senders[FAULT_MAX];
	memset(senders, 1, sizeof senders);
	struct delivery_log_expect expect = { .sizes = small_sizes, .is_sender = senders,
					      .gone = run->gone };
	char err[512];
	int rc = delivery_log_check_views(run->dir, run->n, &expect, err, sizeof err);
	if (!rc)
		rc = check_fault_views(run, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, run->dir);
	assert_int_equal(rc, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", run->dir);
	assert_int_equal(system(cmd), 0);
}

/* Split 2 | 3 of 5 while all stream: members 0 and 1, who see only each
 * other, stop in a minority without installing a view; 2, 3 and 4 remove
 * them and finish their streams. The cut connections stall rather than
 * reset, so the heartbeat timeout finds the failures; the members do not
 * depend on when it does: each side waits for its outcome, not a time. */
static void test_split_2_3(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(5);
	struct fault_run run = { .rig = rig, .gone = { 1, 1 } };
	start_fault_run(&run, 5, 500, false);
	struct local_group *lg = local_group_start_in(rig, fault_member_main, &run);
	assert_non_null(lg);
	await_ready(lg);
	assert_int_equal(netns_rig_split(rig, 1u << 0 | 1u << 1), 0);
	finish_fault_run(&run, lg);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

/* Member 2 cut off for a moment well under the suspicion timeout, then
 * connected again: its connections resume and nobody takes it for failed,
 * so the members finish their streams in view 0. Here the fault's duration
 * is the point of the test, not a synchronisation: 300 ms of silence (plus
 * TCP's retransmission delay once the link is back, some hundreds of ms)
 * against a 2000 ms timeout (longer still where test_ms stretches it). The members wait half way through their
 * streams until the link is back, so messages surely cross it after. */
static void test_cut_and_restored_before_timeout(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(3);
	struct fault_run run = { .rig = rig };
	start_fault_run(&run, 3, 2000, true);
	struct local_group *lg = local_group_start_in(rig, fault_member_main, &run);
	assert_non_null(lg);
	close(run.gate_rd);
	await_ready(lg);
	assert_int_equal(netns_rig_cut(rig, 2), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 300 * 1000 * 1000 }, NULL);
	assert_int_equal(netns_rig_restore(rig, 2), 0);
	close(run.gate_wr);
	finish_fault_run(&run, lg);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

/* Member 2 cut off for good while all stream: 0 and 1 remove it as failed
 * and finish their streams; 2, seeing neither, stops in a minority. */
static void test_cut_for_good_removed(void **state)
{
	(void)state;
	struct netns_rig *rig = make_rig(3);
	struct fault_run run = { .rig = rig, .gone = { 0, 0, 1 } };
	start_fault_run(&run, 3, 500, false);
	struct local_group *lg = local_group_start_in(rig, fault_member_main, &run);
	assert_non_null(lg);
	await_ready(lg);
	assert_int_equal(netns_rig_cut(rig, 2), 0);
	finish_fault_run(&run, lg);
	assert_int_equal(netns_rig_destroy(rig), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_members_on_separate_hosts),
		cmocka_unit_test(test_rig_cut_isolates_member),
		cmocka_unit_test(test_rig_split_separates_sides),
		cmocka_unit_test(test_rig_removed_when_its_process_is_killed),
		cmocka_unit_test(test_split_2_3),
		cmocka_unit_test(test_cut_and_restored_before_timeout),
		cmocka_unit_test(test_cut_for_good_removed),
	};
	return RUN_CASES(argc, argv, cases);
}
