/* Joins into running groups, for real: member processes form a group from
 * a static list and multicast; joiner processes start beside them, join
 * through group.contact while the stream flows, and receive the state
 * (a count and a hash of every delivery, in order, plus padding that
 * crosses the transfer ring several times) from a member. Every member,
 * old or new, ends with the same count and hash: the joiner's state as of
 * its first view plus what it delivered in it equals what the others
 * delivered all along. Faults: the joiner killed mid-transfer, the member
 * serving it killed mid-transfer (the joiner's grp_join fails with a named
 * error and it joins again), a joiner under a node id the view has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "state_read.h"
#include "test_time.h"

#define MAX_MEMBERS 16u
#define WAIT_MS 60000u
#define SUSPECT_MS 5000u
#define MSG_BYTES 64u

enum join_fault { NONE, KILL_JOINER, KILL_SOURCE, ID_TAKEN };

struct scenario {
	unsigned k;             /* members of the first view: ranks 0..k-1 */
	unsigned joiners;       /* ranks k..k+joiners-1 join */
	unsigned messages;      /* per first member */
	size_t pad;             /* bytes of state besides count and hash */
	enum join_fault fault;
};

struct app {
	const struct local_member *m;
	const struct scenario *sc;
	uint64_t count, hash;   /* the state: deliveries so far, hash of them */
	uint64_t loaded;        /* the count the state came with */
	struct delivery_count delivered;
	struct delivery_count members; /* size of the last view */
	bool pad_ok;
};

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3u;
	}
	return h;
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct app *a = user;
	a->hash = mix(a->hash, &msg->sender, sizeof msg->sender);
	a->hash = mix(a->hash, msg->data, msg->len);
	a->count++;
	delivery_count_add(&a->delivered);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct app *a = user;
	/* The count only grows here: it is the largest view so far. */
	while (delivery_count_get(&a->members) < v->n_members)
		delivery_count_add(&a->members);
}

static uint8_t pad_byte(size_t i)
{
	return (uint8_t)(i * 131u + 7u);
}

static int state_save(grp_t *g, void *user)
{
	struct app *a = user;
	uint64_t head[2] = { a->count, a->hash };
	int rc = grp_state_write(g, head, sizeof head);
	if (!rc && a->sc->fault == KILL_SOURCE)
		local_member_report(a->m, "serving");
	uint8_t chunk[65536];
	for (size_t off = 0; !rc && off < a->sc->pad; off += sizeof chunk) {
		size_t len = a->sc->pad - off < sizeof chunk ? a->sc->pad - off : sizeof chunk;
		for (size_t i = 0; i < len; i++)
			chunk[i] = pad_byte(off + i);
		rc = grp_state_write(g, chunk, len);
	}
	return rc;
}

static int state_load(grp_t *g, void *user)
{
	struct app *a = user;
	uint64_t head[2];
	int rc = state_read_exactly(g, head, sizeof head);
	if (rc)
		return rc;
	if (a->sc->fault == KILL_JOINER)
		local_member_report(a->m, "loading");
	a->count = a->loaded = head[0];
	a->hash = head[1];
	uint8_t chunk[50000];
	a->pad_ok = true;
	for (size_t off = 0; off < a->sc->pad;) {
		size_t len = a->sc->pad - off < sizeof chunk ? a->sc->pad - off : sizeof chunk;
		rc = state_read_exactly(g, chunk, len);
		if (rc)
			return rc;
		for (size_t i = 0; i < len; i++)
			a->pad_ok &= chunk[i] == pad_byte(off + i);
		off += len;
	}
	size_t got;
	rc = grp_state_read(g, chunk, sizeof chunk, &got);
	return rc ? rc : got ? GRP_EPROTO : 0;
}

/* The first k entries of the member list: the first view's members. */
static void first_members(const struct local_member *m, unsigned k, char *out, size_t cap)
{
	snprintf(out, cap, "%s", m->members);
	char *p = out;
	for (unsigned i = 0; i < k && p; i++) {
		p = strchr(p, ',');
		if (p && i + 1 < k)
			p++;
	}
	if (p)
		*p = '\0';
}

/* A fresh listening socket on 127.0.0.1 for each attempt to join (an
 * attempt takes its socket over), and the address it tells. */
static int fresh_listener(char *addr, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(addr, cap, "127.0.0.1:%u", ntohs(sa.sin_port));
	return fd;
}

static grp_config *config_for(const struct local_member *m, const struct scenario *sc)
{
	grp_config *cfg = local_member_config(m);
	char first[1024], self[128], id[16], suspect[16], fdtext[16];
	first_members(m, sc->k, first, sizeof first);
	bool joiner = m->rank >= sc->k;
	int fd = joiner ? fresh_listener(self, sizeof self) : -1;
	snprintf(fdtext, sizeof fdtext, "%d", fd);
	unsigned node = sc->fault == ID_TAKEN && m->rank == sc->k ? 0 : m->rank;
	snprintf(id, sizeof id, "%u", node);
	snprintf(suspect, sizeof suspect, "%u", test_ms(SUSPECT_MS));
	if (cfg && (grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
		    (joiner && (fd < 0 || grp_config_set(cfg, "member.listen_fd", fdtext))) ||
		    grp_config_set(cfg, "multicast.senders", "all") ||
		    grp_config_set(cfg, joiner ? "group.contact" : "group.members", first) ||
		    (joiner && grp_config_set(cfg, "member.listen", self)) ||
		    grp_config_set(cfg, "member.id", id))) {
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int join_group(const struct local_member *m, const struct scenario *sc, struct app *a,
		      grp_t **g)
{
	grp_config *cfg = config_for(m, sc);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view,
			     .state_save = state_save, .state_load = state_load };
	int rc = cfg ? grp_join(cfg, &cb, a, g) : GRP_ECONFIG;
	grp_config_free(cfg);
	return rc;
}

/* Once every message was delivered here (a joiner counts from the state
 * it loaded), tells the parent the state. */
static int report_state(const struct local_member *m, struct app *a, uint64_t base,
			uint64_t total)
{
	if (delivery_count_await(&a->delivered, total - base, test_ms(WAIT_MS)) != 0 ||
	    a->count != total) {
		fprintf(stderr, "member %u: %" PRIu64 " deliveries, expected %" PRIu64 "\n",
			m->rank, base + delivery_count_get(&a->delivered), total);
		return 1;
	}
	local_member_report(m, "state %" PRIu64 " %016" PRIx64, a->count, a->hash);
	return 0;
}

/* A first member: sends half its messages, waits until the joiners are in
 * (so that they join mid-stream), sends the rest. */
static int send_stream(const struct local_member *m, const struct scenario *sc, struct app *a,
		       grp_t *g)
{
	uint8_t msg[MSG_BYTES];
	/* Every joiner comes in at least once (a killed one before it dies). */
	unsigned expected = sc->k + (sc->fault == ID_TAKEN ? 0 : sc->joiners);
	for (unsigned i = 0; i < sc->messages; i++) {
		if (i == sc->messages / 2 &&
		    delivery_count_await(&a->members, expected, test_ms(WAIT_MS)) != 0) {
			fprintf(stderr, "member %u: the joiners did not come\n", m->rank);
			return 2;
		}
		for (size_t b = 0; b < sizeof msg; b++)
			msg[b] = (uint8_t)(m->rank * 31u + i + b);
		int rc = grp_send(g, msg, sizeof msg);
		if (rc) {
			fprintf(stderr, "member %u: grp_send: %s\n", m->rank, grp_strerror(rc));
			return 3;
		}
	}
	return 0;
}

/* A joiner that may fail on the way in (its source was killed) joins
 * again; one under a taken id must be refused by name. */
static int join_until_in(const struct local_member *m, const struct scenario *sc, struct app *a,
			 grp_t **g)
{
	for (unsigned attempt = 0; attempt < 5; attempt++) {
		a->count = a->hash = a->loaded = 0;
		int rc = join_group(m, sc, a, g);
		if (sc->fault == ID_TAKEN && m->rank == sc->k) {
			if (rc == GRP_EIDTAKEN)
				return 0;
			fprintf(stderr, "joiner under a taken id: %s\n", grp_strerror(rc));
			return 5;
		}
		if (!rc)
			return a->pad_ok ? 0 : 6;
		fprintf(stderr, "joiner %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		if (rc != GRP_ETRANSFER && rc != GRP_EPEER && rc != GRP_ETIMEDOUT &&
		    rc != GRP_EIDTAKEN && rc != GRP_EEVICTED)
			return 7;
		/* Our failed attempt's process is still in the view until the
		 * group removes it: nothing to await but time. */
		nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	}
	return 8;
}

static int member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct app a = { .m = m, .sc = sc };
	delivery_count_init(&a.delivered);
	delivery_count_init(&a.members);
	grp_t *g = NULL;
	bool joiner = m->rank >= sc->k;
	int rc = joiner ? join_until_in(m, sc, &a, &g) : join_group(m, sc, &a, &g);
	if (!g)
		return rc ? rc : 0; /* the joiner refused by id */
	if (rc) {
		grp_free(g);
		return rc;
	}
	uint64_t base = a.loaded;
	local_member_report(m, "in");
	/* The member killed while serving sends nothing, so that what the
	 * others deliver does not depend on when it died. A joiner, once in,
	 * says so with one message: the others deliver it before they leave,
	 * so that nobody leaves while a joiner still comes in. */
	if (!joiner && !(sc->fault == KILL_SOURCE && m->rank == 0))
		rc = send_stream(m, sc, &a, g);
	if (joiner && grp_send(g, "joined", 6) != 0)
		rc = 4;
	unsigned senders = sc->k - (sc->fault == KILL_SOURCE ? 1 : 0);
	unsigned joined = sc->joiners - (sc->fault == KILL_JOINER || sc->fault == ID_TAKEN ? 1 : 0);
	if (!rc)
		rc = report_state(m, &a, base, (uint64_t)senders * sc->messages + joined);
	if (!rc && delivery_count_await(&a.members, 0, 0) == 0)
		local_member_report(m, "done");
	/* How the group ends (everyone leaving at once) is not checked here. */
	grp_leave(g);
	grp_free(g);
	return rc;
}

/* Collects "state C H" from every member that is to report, and checks
 * they agree. */
static void expect_same_state(struct local_group *lg, const struct scenario *sc,
			      const bool *reports)
{
	char first[128] = "", line[128];
	for (unsigned r = 0; r < sc->k + sc->joiners; r++) {
		if (!reports[r])
			continue;
		do
			assert_int_equal(local_group_read_line(lg, r, line, sizeof line,
							       test_ms(WAIT_MS)), 0);
		while (strncmp(line, "state ", 6) != 0);
		if (!first[0])
			snprintf(first, sizeof first, "%s", line);
		if (strcmp(first, line) != 0)
			fail_msg("member %u ends with '%s', another with '%s'", r, line, first);
	}
}

static void run(const struct scenario *sc)
{
	unsigned n = sc->k + sc->joiners;
	bool reports[MAX_MEMBERS];
	for (unsigned r = 0; r < n; r++)
		reports[r] = true;
	struct local_group *lg = local_group_start(n, member, (void *)sc);
	assert_non_null(lg);
	char line[128];
	if (sc->fault == KILL_JOINER || sc->fault == KILL_SOURCE) {
		unsigned victim = sc->fault == KILL_JOINER ? sc->k : 0;
		const char *cue = sc->fault == KILL_JOINER ? "loading" : "serving";
		do
			assert_int_equal(local_group_read_line(lg, victim, line, sizeof line,
							       test_ms(WAIT_MS)), 0);
		while (strcmp(line, cue) != 0);
		local_group_kill(lg, victim, SIGKILL);
		reports[victim] = false;
	}
	if (sc->fault == ID_TAKEN)
		reports[sc->k] = false;
	expect_same_state(lg, sc, reports);
	int status[MAX_MEMBERS];
	int rc = local_group_finish(lg, test_ms(WAIT_MS), status);
	for (unsigned r = 0; r < n; r++)
		if (reports[r] || sc->fault == ID_TAKEN)
			assert_int_equal(status[r], 0);
	(void)rc;
}

#define PAD (20u << 20) /* the ring is 8 MiB: crossed twice and a half */

static void test_join_one_into_1(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 1, .joiners = 1, .messages = 2000, .pad = PAD });
}

static void test_join_one_into_3(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 2000, .pad = PAD });
}

static void test_join_two_into_5(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 5, .joiners = 2, .messages = 1000, .pad = 1u << 20 });
}

static void test_herd_of_8_into_3(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 8, .messages = 1000, .pad = 1u << 20 });
}

static void test_joiner_killed_mid_transfer(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 1000, .pad = 256u << 20,
				.fault = KILL_JOINER });
}

static void test_source_killed_mid_transfer(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 1000, .pad = 256u << 20,
				.fault = KILL_SOURCE });
}

static void test_joiner_id_taken(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 200, .fault = ID_TAKEN });
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_join_one_into_1),
		cmocka_unit_test(test_join_one_into_3),
		cmocka_unit_test(test_join_two_into_5),
		cmocka_unit_test(test_herd_of_8_into_3),
		cmocka_unit_test(test_joiner_killed_mid_transfer),
		cmocka_unit_test(test_source_killed_mid_transfer),
		cmocka_unit_test(test_joiner_id_taken),
	};
	return RUN_CASES(argc, argv, cases);
}
