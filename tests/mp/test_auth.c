/* A closed group (group.secret_file) under attack on its bootstrap port.
 * Three members form a group and multicast while a fourth process, not a
 * member, attacks member 0: without the key, with the wrong key, replaying
 * a captured handshake, flipping one byte of an authenticated frame; or
 * flooding it with 1000 connections, a slowloris and a huge length prefix.
 * Every attack must be refused, and the group must form and deliver as if
 * nothing happened, member 0 holding at most BOOT_MAX_CONNS connections
 * meanwhile. A member with the wrong key is refused at once; bad secret
 * files are configuration errors. (The data plane's admission, tokens and
 * guessed region keys, is tests/unit/test_fabric_auth.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <group/group.h>

#include "auth.h"
#include "cases.h"
#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "session.h"
#include "sock.h"
#include "test_time.h"

#define WAIT_MS 30000u
#define MEMBERS 3u
#define FLOOD 1000u
/* bootstrap.c's limits, which the flood must not get past. */
#define BOOT_MAX_CONNS 64u
#define EXCHANGE_MS 2000u
/* Descriptors a member opens besides its bootstrap connections once
 * joined (fabric endpoints, queues, wake-up pipes): generous. */
#define OTHER_FDS 40u
#define SLOWLORIS_STEP_MS 100

static const char KEY_HEX[] = "6c696267726f75702074657374206b6579206f6e6c792c206e6f7420736563726574";
static const char WRONG_HEX[] = "00000000000000000000000000000000000000000000000000000000000000000000";

struct scenario {
	int (*attack)(const struct local_member *m);
	bool count_fds;
};

/* Written before the members start, inherited by them. */
static char dir[64], key_path[96], wrong_path[96];
/* The attacker holds the write ends: members see EOF once it is done
 * (done_pipe), member 0 a byte once the flood is at full strength. */
static int done_pipe[2] = { -1, -1 }, flood_pipe[2] = { -1, -1 };

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok && chmod(path, mode) == 0 ? 0 : -1;
}

static void make_keys(void)
{
	snprintf(dir, sizeof dir, "/tmp/grp-auth-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key_path, sizeof key_path, "%s/key", dir);
	snprintf(wrong_path, sizeof wrong_path, "%s/wrong", dir);
	assert_int_equal(write_file(key_path, KEY_HEX, 0600), 0);
	assert_int_equal(write_file(wrong_path, WRONG_HEX, 0600), 0);
}

static void remove_keys(void)
{
	unlink(key_path);
	unlink(wrong_path);
	rmdir(dir);
}

static uint16_t port_of(const struct local_member *m, unsigned rank)
{
	const char *p = m->members;
	for (unsigned r = 0; r < rank && p; r++)
		if ((p = strchr(p, ',')))
			p++;
	const char *colon = p ? strchr(p, ':') : NULL;
	return colon ? (uint16_t)atoi(colon + 1) : 0;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Until the pipe has a byte or its writers are gone. */
static void await_pipe(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	poll(&p, 1, (int)test_ms(WAIT_MS));
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	delivery_count_add(user);
}

static grp_config *member_config(const struct local_member *m, unsigned members,
				 const char *secret)
{
	grp_config *cfg = local_member_config(m);
	char list[256];
	snprintf(list, sizeof list, "%s", m->members);
	char *cut = list;
	for (unsigned r = 0; r < members && cut; r++)
		cut = strchr(cut + (r > 0), ',');
	if (cut)
		*cut = '\0';
	if (cfg && (grp_config_set(cfg, "group.members", list) ||
		    grp_config_set(cfg, "group.secret_file", secret))) {
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* grp_join with a configuration that is meant to fail. */
static int join_refused(grp_config *cfg)
{
	struct delivery_count unused;
	delivery_count_init(&unused);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	grp_t *g = NULL;
	int rc = cfg ? grp_join(cfg, &cb, &unused, &g) : GRP_ENOMEM;
	grp_config_free(cfg);
	if (!rc)
		grp_free(g);
	delivery_count_destroy(&unused);
	return rc;
}

/* Joins, checks the descriptors under the flood (member 0), sends one
 * message, delivers everyone's, and leaves once the attacker is done. */
static int member(const struct local_member *m, const struct scenario *sc)
{
	close(done_pipe[1]);
	close(flood_pipe[1]);
	unsigned base_fds = open_fds();
	grp_config *cfg = member_config(m, MEMBERS, key_path);
	if (!cfg)
		return 10;
	struct delivery_count delivered;
	delivery_count_init(&delivered);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver };
	grp_t *g = NULL;
	int rc = grp_join(cfg, &cb, &delivered, &g);
	grp_config_free(cfg);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 11;
	}
	if (sc->count_fds && m->rank == 0) {
		await_pipe(flood_pipe[0]);
		unsigned fds = open_fds();
		local_member_report(m, "fds under flood: %u (before joining %u)", fds, base_fds);
		if (fds > base_fds + BOOT_MAX_CONNS + OTHER_FDS)
			rc = 12;
	}
	if (!rc && grp_send(g, "hello", 5) != 0)
		rc = 13;
	if (!rc && delivery_count_await(&delivered, MEMBERS, test_ms(WAIT_MS)) != 0)
		rc = 14;
	await_pipe(done_pipe[0]);
	if (grp_leave(g) != 0 && !rc)
		rc = 15;
	grp_free(g);
	delivery_count_destroy(&delivered);
	return rc;
}

static int attacker_or_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	if (m->rank < MEMBERS)
		return member(m, sc);
	close(done_pipe[0]);
	close(flood_pipe[0]);
	return sc->attack(m);
}

static uint64_t group_id(const struct local_member *m)
{
	return frame_group_id(m->group_name);
}

static int connect_to(const struct local_member *m, unsigned rank, int *fd)
{
	return sock_connect("127.0.0.1", port_of(m, rank), clock_deadline_ms(test_ms(WAIT_MS)), fd);
}

/* Reads the server's challenge; its nonce in nonce_s. */
static int read_challenge(const struct local_member *m, int fd, uint8_t *nonce_s)
{
	static uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	int rc = sock_recv_frame(fd, group_id(m), &hdr, buf, clock_deadline_ms(test_ms(WAIT_MS)));
	if (rc || hdr.type != FRAME_CHALLENGE || hdr.length != AUTH_NONCE_LEN)
		return -1;
	memcpy(nonce_s, buf, AUTH_NONCE_LEN);
	return 0;
}

/* What the server does after our last frame: 1 if it refused (a REJECT,
 * or it closed without a word), 0 if it answered anything else. */
static int refused(const struct local_member *m, int fd)
{
	static uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	int rc = sock_recv_frame(fd, group_id(m), &hdr, buf, clock_deadline_ms(test_ms(WAIT_MS)));
	close(fd);
	return rc == GRP_EPEER || (rc == 0 && hdr.type == FRAME_REJECT);
}

/* Sends AUTH with the given payload after the challenge; the nonce in
 * nonce_s. */
static int send_auth(const struct local_member *m, int fd, const uint8_t *answer)
{
	return sock_send_frame(fd, FRAME_AUTH, group_id(m), answer, AUTH_PAYLOAD_LEN,
			       clock_deadline_ms(test_ms(WAIT_MS)));
}

static struct auth_key key_from(const char *hex)
{
	struct auth_key k;
	const char *why;
	auth_key_parse(hex, strlen(hex), &k, &why);
	return k;
}

static int no_key(const struct local_member *m)
{
	int fd;
	uint8_t nonce_s[AUTH_NONCE_LEN], answer[AUTH_PAYLOAD_LEN] = { 0 };
	if (connect_to(m, 0, &fd) || read_challenge(m, fd, nonce_s) || send_auth(m, fd, answer))
		return 20;
	return refused(m, fd) ? 0 : 21;
}

static int wrong_key(const struct local_member *m)
{
	int fd;
	struct auth_key k = key_from(WRONG_HEX);
	struct auth_session s;
	if (connect_to(m, 0, &fd))
		return 30;
	int rc = session_client_open(fd, &k, group_id(m), clock_deadline_ms(test_ms(WAIT_MS)), &s);
	close(fd);
	return rc == GRP_ESTRANGER ? 0 : 31;
}

/* A handshake made with the key, captured, and replayed on a new
 * connection: the server's nonce is fresh there. */
static int replayed_handshake(const struct local_member *m)
{
	int fd;
	struct auth_key k = key_from(KEY_HEX);
	uint8_t nonce_s[AUTH_NONCE_LEN], nonce_c[AUTH_NONCE_LEN] = { 7 }, answer[AUTH_PAYLOAD_LEN];
	if (connect_to(m, 0, &fd) || read_challenge(m, fd, nonce_s) ||
	    auth_client_answer(&k, group_id(m), nonce_s, nonce_c, answer) || send_auth(m, fd, answer))
		return 40;
	close(fd);
	if (connect_to(m, 0, &fd) || read_challenge(m, fd, nonce_s) || send_auth(m, fd, answer))
		return 41;
	return refused(m, fd) ? 0 : 42;
}

/* An authenticated connection whose first frame has one byte flipped
 * after its MAC was computed: closed without an answer, so no protocol
 * code saw it (a malformed HELLO with a good MAC gets a REJECT). */
static int flipped_byte(const struct local_member *m)
{
	int fd;
	struct auth_key k = key_from(KEY_HEX);
	struct auth_session s;
	uint64_t deadline = clock_deadline_ms(test_ms(WAIT_MS));
	if (connect_to(m, 0, &fd) || session_client_open(fd, &k, group_id(m), deadline, &s))
		return 50;
	uint8_t frame[FRAME_HEADER_LEN + 16 + AUTH_MAC_LEN] = { 0 };
	uint8_t *payload = frame + FRAME_HEADER_LEN;
	frame_header_encode(frame, FRAME_HELLO, 16 + AUTH_MAC_LEN, group_id(m));
	if (auth_seal(&s, frame, payload, 16, payload + 16))
		return 51;
	payload[3] ^= 0x20;
	if (sock_send_all(fd, frame, sizeof frame, deadline))
		return 52;
	static uint8_t buf[FRAME_MAX_PAYLOAD];
	struct frame_header hdr;
	int rc = sock_recv_frame(fd, group_id(m), &hdr, buf, deadline);
	close(fd);
	return rc == GRP_EPEER ? 0 : 53;
}

static int strangers(const struct local_member *m)
{
	int rc = no_key(m);
	rc = rc ? rc : wrong_key(m);
	rc = rc ? rc : replayed_handshake(m);
	rc = rc ? rc : flipped_byte(m);
	if (rc)
		fprintf(stderr, "attacker: attack failed with %d\n", rc);
	return rc;
}

/* Connections started without waiting: the kernel completes them into
 * member 0's backlog while we go on. */
static int open_flood(const struct local_member *m, int *fds)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (unsigned i = 0; i < FLOOD; i++) {
		fds[i] = -1;
		int rc = sock_connect("127.0.0.1", port_of(m, 0), clock_deadline_ms(test_ms(WAIT_MS)),
				      &fds[i]);
		if (rc) {
			fprintf(stderr, "attacker: flood connection %u: %s\n", i, grp_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* Waits until the server closes fd (reading and dropping what it sends);
 * the milliseconds it took, or -1 at the deadline. */
static int ms_until_closed(int fd, unsigned timeout_ms)
{
	uint64_t start = clock_now_ns(), deadline = clock_deadline_ms(timeout_ms);
	for (;;) {
		uint8_t buf[256];
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return (int)((clock_now_ns() - start) / 1000000u);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (n < 0 && poll(&p, 1, clock_ms_left(deadline)) == 0)
			return -1;
	}
}

/* One byte every 100 ms of a plausible AUTH frame: 5.6 s for the frame,
 * if the server waited that long. */
static int slowloris(const struct local_member *m)
{
	int fd;
	if (connect_to(m, 0, &fd))
		return 60;
	uint8_t frame[FRAME_HEADER_LEN + AUTH_PAYLOAD_LEN] = { 0 };
	frame_header_encode(frame, FRAME_AUTH, AUTH_PAYLOAD_LEN, group_id(m));
	uint64_t start = clock_now_ns();
	size_t sent = 0;
	while (sent < sizeof frame && send(fd, frame + sent, 1, MSG_NOSIGNAL) == 1) {
		sent++;
		/* The attack's own pace, not a wait for anything. */
		struct timespec ts = { 0, SLOWLORIS_STEP_MS * 1000000L };
		nanosleep(&ts, NULL);
		uint8_t b;
		if (recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
			break;
	}
	unsigned ms = (unsigned)((clock_now_ns() - start) / 1000000u);
	close(fd);
	fprintf(stderr, "attacker: slowloris closed after %u ms, %zu bytes\n", ms, sent);
	return sent < sizeof frame && ms < test_ms(EXCHANGE_MS + 1000u) ? 0 : 61;
}

/* A header announcing 4 GiB: refused on sight, long before the deadline. */
static int huge_length(const struct local_member *m)
{
	int fd;
	if (connect_to(m, 0, &fd))
		return 70;
	uint8_t hdr[FRAME_HEADER_LEN];
	frame_header_encode(hdr, FRAME_AUTH, 0xffffffffu, group_id(m));
	if (sock_send_all(fd, hdr, sizeof hdr, clock_deadline_ms(test_ms(WAIT_MS))))
		return 71;
	int ms = ms_until_closed(fd, test_ms(WAIT_MS));
	close(fd);
	fprintf(stderr, "attacker: huge length prefix closed after %d ms\n", ms);
	return ms >= 0 && (unsigned)ms < test_ms(EXCHANGE_MS) / 2 ? 0 : 72;
}

static int flood(const struct local_member *m)
{
	static int fds[FLOOD];
	int rc = open_flood(m, fds) ? 80 : 0;
	if (write(flood_pipe[1], "f", 1) != 1 && !rc)
		rc = 81;
	rc = rc ? rc : huge_length(m);
	rc = rc ? rc : slowloris(m);
	for (unsigned i = 0; i < FLOOD; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

static void run_attack(int (*attack)(const struct local_member *m), bool count_fds)
{
	make_keys();
	assert_int_equal(pipe(done_pipe), 0);
	assert_int_equal(pipe(flood_pipe), 0);
	struct scenario sc = { .attack = attack, .count_fds = count_fds };
	struct local_group *lg = local_group_start(MEMBERS + 1, attacker_or_member, &sc);
	for (unsigned i = 0; i < 2; i++) {
		close(done_pipe[i]);
		close(flood_pipe[i]);
	}
	assert_non_null(lg);
	char line[512];
	if (count_fds && local_group_read_line(lg, 0, line, sizeof line, test_ms(WAIT_MS)) == 0)
		fprintf(stderr, "member 0: %s\n", line);
	int status[MEMBERS + 1];
	local_group_finish(lg, test_ms(WAIT_MS), status);
	remove_keys();
	for (unsigned i = 0; i <= MEMBERS; i++) {
		if (status[i])
			fprintf(stderr, "%s %u exited %d\n", i < MEMBERS ? "member" : "attacker", i,
				status[i]);
		assert_int_equal(status[i], 0);
	}
}

static void test_strangers_refused_while_group_works(void **state)
{
	(void)state;
	run_attack(strangers, false);
}

static void test_flood_slowloris_huge_length_while_group_works(void **state)
{
	(void)state;
	run_attack(flood, true);
}

/* Member 1 holds another key: it learns so at once (GRP_ESTRANGER), while
 * member 0 never admits it and times out. */
static int mismatched_member(const struct local_member *m, void *arg)
{
	(void)arg;
	grp_config *cfg = member_config(m, 2, m->rank == 0 ? key_path : wrong_path);
	if (!cfg || grp_config_set(cfg, "fabric.connect_timeout_ms", "2000"))
		return 10;
	int rc = join_refused(cfg);
	if (rc != (m->rank == 0 ? GRP_ETIMEDOUT : GRP_ESTRANGER))
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
	return rc == (m->rank == 0 ? GRP_ETIMEDOUT : GRP_ESTRANGER) ? 0 : 20;
}

static void test_member_with_wrong_key_refused(void **state)
{
	(void)state;
	make_keys();
	run_members(2, mismatched_member, NULL, 20000);
	remove_keys();
}

/* Each bad secret file is GRP_ECONFIG before anything is opened. */
static int bad_secret_files(const struct local_member *m, void *arg)
{
	(void)arg;
	char short_path[128], open_path[128];
	snprintf(short_path, sizeof short_path, "%s/short", dir);
	snprintf(open_path, sizeof open_path, "%s/readable", dir);
	if (write_file(short_path, "00112233445566778899", 0600) ||
	    write_file(open_path, KEY_HEX, 0644))
		return 10;
	const char *paths[] = { short_path, open_path, "/nonexistent/key", dir };
	for (unsigned i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		int rc = join_refused(member_config(m, 1, paths[i]));
		if (rc != GRP_ECONFIG) {
			fprintf(stderr, "secret file %s: %s\n", paths[i], grp_strerror(rc));
			return 11 + (int)i;
		}
	}
	unlink(short_path);
	unlink(open_path);
	return 0;
}

static void test_bad_secret_files_refused(void **state)
{
	(void)state;
	make_keys();
	run_members(1, bad_secret_files, NULL, 10000);
	remove_keys();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strangers_refused_while_group_works),
		cmocka_unit_test(test_flood_slowloris_huge_length_while_group_works),
		cmocka_unit_test(test_member_with_wrong_key_refused),
		cmocka_unit_test(test_bad_secret_files_refused),
	};
	return RUN_CASES(argc, argv, tests);
}
