/* Joins into running groups, for real: member processes form a group from
 * a static list and multicast; joiner processes start beside them, join
 * through group.contact while the stream flows, and receive the state
 * (a count and a hash of every delivery, in order, plus padding that
 * crosses the transfer ring several times) from a member. Every member,
 * old or new, ends with the same count and hash: the joiner's state as of
 * its first view plus what it delivered in it equals what the others
 * delivered all along. Faults: the joiner killed mid-transfer, the member
 * serving it killed mid-transfer (the joiner's grp_join fails with a named
 * error and it joins again), a joiner under a node id the view has.
 * Members send payload_for messages and log their views and deliveries;
 * run() and run_churn() end with the delivery-log checker over every
 * process's log; run_heal() does not log, as the checker does not model a
 * member that stops and comes back by itself under the same rank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "fin_barrier.h"
#include "fnv.h"
#include "delivery_log.h"
#include "localgroup.h"
#include "state_read.h"
#include "test_time.h"

#define MAX_MEMBERS 64u
#define WAIT_MS 60000u
#define SUSPECT_MS 5000u
#define MSG_BYTES 64u

enum join_fault {
	NONE,
	KILL_JOINER,  /* the joiner, killed while it loads the state */
	KILL_SOURCE,  /* rank 0, killed while it serves the state */
	ID_TAKEN,     /* the joiner asks under rank 0's id */
	WRONG_KEY,    /* the joiner holds another group.secret_file */
	LEADER_DIES,  /* rank 0 dies once it proposed the join */
	REJOIN,       /* rank 2 killed; a new process joins under its id */
};

struct scenario {
	unsigned k;             /* members of the first view: ranks 0..k-1 */
	unsigned joiners;       /* ranks k..k+joiners-1 join */
	unsigned messages;      /* per first member */
	size_t pad;             /* bytes of state besides count and hash */
	enum join_fault fault;
	unsigned churn;         /* cycles of kill one, add one (run_churn) */
	bool closed;            /* every process has a group.secret_file */
	bool heal;              /* run_heal: membership.rejoin = auto, a split healed */
	char keys[64];          /* a directory with the group's key and another */
	char logs[64];          /* run(), run_churn(): a directory for the delivery logs */
	/* Churn's end: each sender's k of its "fin", UINT64_MAX until it
	 * sends it; [MAX_MEMBERS], by node id, shared by all the processes
	 * (the sender stores it before it sends). */
	_Atomic uint64_t *fin_k;
};

/* The messages: small, so that the stream stays quick. */
static const struct payload_sizes sizes = { 24, MSG_BYTES };

/* The joiner is turned away, by this error. */
static int refusal_expected(const struct scenario *sc)
{
	return sc->fault == ID_TAKEN ? GRP_EIDTAKEN : sc->fault == WRONG_KEY ? GRP_ESTRANGER : 0;
}

/* The first member that dies in the scenario, which sends nothing so that
 * what the others deliver does not depend on when it died; or -1. */
static int silent_rank(const struct scenario *sc)
{
	switch (sc->fault) {
	case KILL_SOURCE:
	case LEADER_DIES:
		return 0;
	case REJOIN:
		return 2;
	default:
		return -1;
	}
}

/* Joiners that end up members. */
static unsigned joined_in_end(const struct scenario *sc)
{
	return sc->joiners - (sc->fault == KILL_JOINER || refusal_expected(sc) ? 1 : 0);
}

struct app {
	const struct local_member *m;
	const struct scenario *sc;
	uint64_t count, hash;   /* the state: deliveries so far, hash of them */
	uint64_t loaded;        /* the count the state came with */
	/* Part of the state: each node's messages delivered so far, the k of
	 * its next one (with node ids the ranks: churn and heal). */
	uint64_t k_of[MAX_MEMBERS];
	struct delivery_count delivered;
	struct delivery_count members; /* size of the last view */
	struct delivery_count departures; /* views that removed someone */
	bool pad_ok;
	/* Churn's end: where the last member of the view said "fin". */
	struct fin_barrier end;
	/* States loaded to replace ours (after a view with state_replaced,
	 * which comes first): then k_of[] is the others'. */
	struct delivery_count back;
	bool replacing;
	/* The delivery log, written until the state reaches `total` (run())
	 * or the last "fin" (churn): the same point of the order everywhere;
	 * what follows, such as the others leaving, is not part of the run. */
	FILE *log;
	uint64_t total;
	bool log_done;
};

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct app *a = user;
	a->hash = fnv_mix(a->hash, &msg->sender, sizeof msg->sender);
	a->hash = fnv_mix(a->hash, msg->data, msg->len);
	a->count++;
	if (a->log && !a->log_done) {
		delivery_log_write(a->log, msg);
		a->log_done = a->total && a->count == a->total;
	}
	uint64_t k = msg->sender < MAX_MEMBERS ? a->k_of[msg->sender]++ : UINT64_MAX;
	if (a->sc->fin_k && k == atomic_load(&a->sc->fin_k[msg->sender]) &&
	    fin_barrier_note(&a->end, msg->sender, a->count, a->hash))
		a->log_done = true;
	delivery_count_add(&a->delivered);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct app *a = user;
	if (a->log && !a->log_done)
		delivery_log_view(a->log, v);
	if (v->n_departed == 1 && v->departed[0] == v->members[v->my_rank])
		local_member_report(a->m, "stopped");
	if (v->state_replaced) {
		local_member_report(a->m, "back");
		a->replacing = true;
	}
	fin_barrier_view(&a->end, v);
	/* The count only grows here: it is the largest view so far. */
	while (delivery_count_get(&a->members) < v->n_members)
		delivery_count_add(&a->members);
	if (v->n_departed && v->departed[0] != v->members[v->my_rank])
		delivery_count_add(&a->departures);
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
	if (!rc)
		rc = grp_state_write(g, a->k_of, sizeof a->k_of);
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
	rc = state_read_exactly(g, a->k_of, sizeof a->k_of);
	if (rc)
		return rc;
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
	rc = rc ? rc : got ? GRP_EPROTO : 0;
	if (!rc && a->replacing) {
		a->replacing = false;
		delivery_count_add(&a->back);
	}
	return rc;
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

/* This member's own entry of the member list. */
static void own_entry(const struct local_member *m, char *out, size_t cap)
{
	const char *p = m->members;
	for (unsigned i = 0; i < m->rank; i++)
		p = strchr(p, ',') + 1;
	snprintf(out, cap, "%.*s", (int)strcspn(p, ","), p);
}

/* A fresh listening socket on 127.0.0.1 for another attempt to join (an
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

/* attempt: a joiner's first uses the socket the harness bound (whose
 * address the list gives, so that later joiners find it there), later
 * ones a fresh one. */
static grp_config *config_for(const struct local_member *m, const struct scenario *sc,
			      unsigned attempt)
{
	grp_config *cfg = local_member_config(m);
	char first[4096], self[128], id[16], suspect[16], fdtext[16];
	/* Under churn the first members may all be gone: every process
	 * started before this one is a contact (the dead refuse at once). */
	first_members(m, sc->churn && m->rank >= sc->k ? m->rank : sc->k, first, sizeof first);
	bool joiner = m->rank >= sc->k;
	int fd = m->listen_fd;
	if (joiner && attempt == 0)
		own_entry(m, self, sizeof self);
	else if (joiner)
		fd = fresh_listener(self, sizeof self);
	snprintf(fdtext, sizeof fdtext, "%d", fd);
	char key[128];
	bool other = joiner && sc->fault == WRONG_KEY;
	snprintf(key, sizeof key, "%s/%s.key", sc->keys, other ? "other" : "group");
	unsigned node = m->rank;
	if (m->rank == sc->k && (sc->fault == ID_TAKEN || sc->fault == REJOIN))
		node = sc->fault == ID_TAKEN ? 0 : 2;
	if (m->rank == 0 && sc->fault == LEADER_DIES)
		setenv("GROUP_TEST_KILL_AT", "leader_proposed", 1);
	snprintf(id, sizeof id, "%u", node);
	snprintf(suspect, sizeof suspect, "%u", test_ms(SUSPECT_MS));
	if (cfg && (grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
		    (joiner && (fd < 0 || grp_config_set(cfg, "member.listen_fd", fdtext))) ||
		    grp_config_set(cfg, "multicast.senders", "all") ||
		    grp_config_set(cfg, joiner ? "group.contact" : "group.members", first) ||
		    (joiner && grp_config_set(cfg, "member.listen", self)) ||
		    grp_config_set(cfg, "member.id", id) ||
		    (sc->closed && grp_config_set(cfg, "group.secret_file", key)) ||
		    (sc->heal && grp_config_set(cfg, "membership.rejoin", "auto")))) {
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int join_group(const struct local_member *m, const struct scenario *sc, struct app *a,
		      unsigned attempt, grp_t **g)
{
	grp_config *cfg = config_for(m, sc, attempt);
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
	/* Every joiner comes in at least once (a killed one before it dies)
	 * beside every first member, unless one of those is gone by then. */
	bool all_meet = sc->fault == NONE || sc->fault == KILL_JOINER || sc->fault == KILL_SOURCE;
	all_meet &= !refusal_expected(sc);
	unsigned expected = sc->k + (all_meet ? sc->joiners : 0);
	for (unsigned i = 0; i < sc->messages; i++) {
		if (i == sc->messages / 2 &&
		    delivery_count_await(&a->members, expected, test_ms(WAIT_MS)) != 0) {
			fprintf(stderr, "member %u: the joiners did not come\n", m->rank);
			return 2;
		}
		/* The killed joiner is removed before the stream ends, so
		 * that the members' logs end in the view without it (had
		 * they delivered everything while it loaded, they would
		 * have left with it still in their last view). */
		if (i == sc->messages / 2 && sc->fault == KILL_JOINER &&
		    delivery_count_await(&a->departures, 1, test_ms(WAIT_MS)) != 0) {
			fprintf(stderr, "member %u: the killed joiner was not removed\n", m->rank);
			return 2;
		}
		int rc = grp_send(g, msg, payload_for(m->rank, i, &sizes, msg));
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
		/* A failed attempt's process was no member: its log starts again. */
		if (a->log)
			fclose(a->log);
		if (sc->logs[0] && !(a->log = delivery_log_open(sc->logs, m->rank)))
			return 9;
		int rc = join_group(m, sc, a, attempt, g);
		if (refusal_expected(sc) && m->rank == sc->k) {
			if (rc == refusal_expected(sc)) {
				local_member_report(m, "refused");
				return 0;
			}
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
	delivery_count_init(&a.departures);
	grp_t *g = NULL;
	bool joiner = m->rank >= sc->k;
	unsigned senders = sc->k - (silent_rank(sc) >= 0 ? 1 : 0);
	a.total = (uint64_t)senders * sc->messages + joined_in_end(sc);
	if (!joiner && !(a.log = delivery_log_open(sc->logs, m->rank)))
		return 9;
	/* With a refused joiner the members stay until the parent saw it
	 * refused (SIGUSR1): had member 0 left first, its id would be free.
	 * Blocked before the library starts its threads, which inherit it. */
	sigset_t go;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &go, NULL);
	int rc = joiner ? join_until_in(m, sc, &a, &g) : join_group(m, sc, &a, 0, &g);
	if (rc || !g) {
		grp_free(g);
		if (a.log)
			fclose(a.log);
		return rc; /* 0: the joiner refused by id */
	}
	uint64_t base = a.loaded;
	local_member_report(m, "in");
	/* A joiner, once in, says so with one message (its k = 0): the others
	 * deliver it before they leave, so that nobody leaves while a joiner
	 * comes in. */
	uint64_t sent = 0;
	if (!joiner && (int)m->rank != silent_rank(sc)) {
		rc = send_stream(m, sc, &a, g);
		sent = sc->messages;
	}
	uint8_t joined[MSG_BYTES];
	if (joiner) {
		sent = 1;
		if (grp_send(g, joined, payload_for(m->rank, 0, &sizes, joined)) != 0)
			rc = 4;
	}
	if (!rc)
		rc = report_state(m, &a, base, a.total);
	if (!rc && delivery_log_accepted(sc->logs, m->rank, sent) != 0)
		rc = 9;
	if (!rc && delivery_count_await(&a.members, 0, 0) == 0)
		local_member_report(m, "done");
	if (!rc && refusal_expected(sc) &&
	    sigtimedwait(&go, NULL, &(struct timespec){ .tv_sec = test_ms(WAIT_MS) / 1000 }) < 0)
		rc = 10;
	/* How the group ends (everyone leaving at once) is not checked here. */
	grp_leave(g);
	grp_free(g);
	fclose(a.log);
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

/* 32 random bytes as hex, readable by its owner only. */
static void write_key(const char *dir, const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s.key", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)name;
	for (int i = 0; i < 64; i++)
		fputc("0123456789abcdef"[rand_r(&seed) % 16], f);
	fputc('\n', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

static void make_keys(struct scenario *sc)
{
	snprintf(sc->keys, sizeof sc->keys, "/tmp/grp-join-keys-XXXXXX");
	assert_non_null(mkdtemp(sc->keys));
	write_key(sc->keys, "group");
	write_key(sc->keys, "other");
}

static void remove_keys(const struct scenario *sc)
{
	char path[128];
	for (const char *const *name = (const char *const[]){ "group", "other", NULL }; *name; name++) {
		snprintf(path, sizeof path, "%s/%s.key", sc->keys, *name);
		unlink(path);
	}
	rmdir(sc->keys);
}

/* The delivery-log checker over run()'s logs: the processes that did not
 * report are gone; every one sends but the silent rank; the joiner of
 * ID_TAKEN and REJOIN is under another node id than its rank. */
static void check_logs(const struct scenario *sc, const bool *reports)
{
	unsigned n = sc->k + sc->joiners, id_of_rank[MAX_MEMBERS];
	unsigned char gone[MAX_MEMBERS], is_sender[MAX_MEMBERS];
	for (unsigned r = 0; r < n; r++) {
		id_of_rank[r] = r;
		gone[r] = !reports[r];
		is_sender[r] = (int)r != silent_rank(sc);
	}
	if (sc->fault == ID_TAKEN || sc->fault == REJOIN)
		id_of_rank[sc->k] = sc->fault == ID_TAKEN ? 0 : 2;
	struct delivery_log_expect expect = { .sizes = sizes, .is_sender = is_sender,
					      .gone = gone, .id_of_rank = id_of_rank };
	char err[512];
	int rc = delivery_log_check_views(sc->logs, n, &expect, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s (logs kept in %s)\n", err, sc->logs);
	assert_int_equal(rc, 0);
	char cmd[100];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc->logs);
	assert_int_equal(system(cmd), 0);
}

static void run(const struct scenario *given)
{
	struct scenario copy = *given, *sc = &copy;
	if (sc->closed)
		make_keys(sc);
	snprintf(sc->logs, sizeof sc->logs, "/tmp/grp-join-logs-XXXXXX");
	assert_non_null(mkdtemp(sc->logs));
	unsigned n = sc->k + sc->joiners;
	bool reports[MAX_MEMBERS];
	for (unsigned r = 0; r < n; r++)
		reports[r] = true;
	struct local_group *lg = local_group_start(n, member, (void *)sc);
	assert_non_null(lg);
	char line[128];
	static const struct { enum join_fault fault; int victim; const char *cue; } kills[] = {
		{ KILL_JOINER, -1, "loading" }, /* -1: the joiner */
		{ KILL_SOURCE, 0, "serving" },
		{ REJOIN, 2, "in" },
	};
	for (size_t i = 0; i < sizeof kills / sizeof kills[0]; i++) {
		if (kills[i].fault != sc->fault)
			continue;
		unsigned victim = kills[i].victim < 0 ? sc->k : (unsigned)kills[i].victim;
		do
			assert_int_equal(local_group_read_line(lg, victim, line, sizeof line,
							       test_ms(WAIT_MS)), 0);
		while (strcmp(line, kills[i].cue) != 0);
		local_group_kill(lg, victim, SIGKILL);
		reports[victim] = false;
	}
	if (refusal_expected(sc)) {
		reports[sc->k] = false;
		do
			assert_int_equal(local_group_read_line(lg, sc->k, line, sizeof line,
							       test_ms(WAIT_MS)), 0);
		while (strcmp(line, "refused") != 0);
		for (unsigned r = 0; r < sc->k; r++)
			local_group_kill(lg, r, SIGUSR1);
	}
	if (sc->fault == LEADER_DIES)
		reports[0] = false; /* it kills itself at the fault point */
	expect_same_state(lg, sc, reports);
	int status[MAX_MEMBERS];
	int rc = local_group_finish(lg, test_ms(WAIT_MS), status);
	if (sc->closed)
		remove_keys(sc);
	for (unsigned r = 0; r < n; r++)
		if (reports[r] || (refusal_expected(sc) && r == sc->k))
			assert_int_equal(status[r], 0);
	(void)rc;
	check_logs(sc, reports);
}

/* Churn: the first k members, and every joiner once it is in, multicast
 * flat out until SIGUSR2; a joiner waits for SIGUSR1 before it joins.
 * Both signals are blocked in every thread and taken synchronously. */
static int churn_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct app a = { .m = m, .sc = sc };
	delivery_count_init(&a.delivered);
	delivery_count_init(&a.members);
	delivery_count_init(&a.departures);
	fin_barrier_init(&a.end);
	delivery_count_init(&a.back);
	sigset_t go, stop;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR1);
	sigemptyset(&stop);
	sigaddset(&stop, SIGUSR2);
	sigset_t both = go;
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	struct timespec wait = { .tv_sec = test_ms(4 * WAIT_MS) / 1000 }, now = { 0 };
	bool joiner = m->rank >= sc->k;
	if (joiner && sigtimedwait(&go, NULL, &wait) < 0)
		return 0; /* never called in: the run ended first */
	if (!joiner && sc->logs[0] && !(a.log = delivery_log_open(sc->logs, m->rank)))
		return 9;
	grp_t *g = NULL;
	int rc = joiner ? join_until_in(m, sc, &a, &g) : join_group(m, sc, &a, 0, &g);
	if (rc || !g) {
		if (a.log)
			fclose(a.log);
		return rc ? rc : 11;
	}
	local_member_report(m, "in");
	uint8_t msg[MSG_BYTES];
	uint64_t backs = 0, k = 0; /* k: the next message's */
	while (!rc && sigtimedwait(&stop, NULL, &now) < 0) {
		rc = grp_send(g, msg, payload_for(m->rank, k, &sizes, msg));
		k += rc == 0;
		/* Split off, it stopped; it rejoins by itself once healed, with
		 * the others' state: what of ours they did not deliver is void,
		 * and our stream goes on from what they did. */
		if (sc->heal && (rc == GRP_EMINORITY || rc == GRP_EEVICTED) &&
		    delivery_count_await(&a.back, ++backs, test_ms(4 * WAIT_MS)) == 0) {
			rc = 0;
			k = a.k_of[m->rank];
		}
	}
	/* "fin" is our next message, which the others know by its k. */
	if (!rc) {
		atomic_store(&sc->fin_k[m->rank], k);
		rc = grp_send(g, msg, payload_for(m->rank, k, &sizes, msg));
		k += rc == 0;
	}
	if (rc)
		fprintf(stderr, "member %u: grp_send: %s\n", m->rank, grp_strerror(rc));
	else if (delivery_count_await(&a.end.finished, 1, test_ms(WAIT_MS)) != 0)
		rc = 12;
	else if (sc->logs[0] && delivery_log_accepted(sc->logs, m->rank, k) != 0)
		rc = 9;
	else
		local_member_report(m, "state %" PRIu64 " %016" PRIx64, a.end.end_count, a.end.end_hash);
	grp_leave(g);
	grp_free(g);
	if (a.log)
		fclose(a.log);
	return rc;
}

/* sc->fin_k, in memory the member processes (forked later) share. */
static void share_fin_k(struct scenario *sc)
{
	void *shared = mmap(NULL, MAX_MEMBERS * sizeof *sc->fin_k, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	sc->fin_k = shared;
	for (unsigned i = 0; i < MAX_MEMBERS; i++)
		atomic_init(&sc->fin_k[i], UINT64_MAX);
}

static void unshare_fin_k(struct scenario *sc)
{
	munmap((void *)sc->fin_k, MAX_MEMBERS * sizeof *sc->fin_k);
}

static void await_line(struct local_group *lg, unsigned rank, const char *want)
{
	char line[128];
	do
		assert_int_equal(local_group_read_line(lg, rank, line, sizeof line,
						       test_ms(WAIT_MS)), 0);
	while (strcmp(line, want) != 0);
}

/* Kills a random member and calls a new process in, sc->churn times, while
 * all multicast; then every member must end with the same state, and
 * every joiner loaded a state it could check. */
static void run_churn(const struct scenario *given)
{
	/* All the processes, the churn's joiners included. */
	struct scenario all = *given, *sc = &all;
	all.joiners = sc->churn;
	snprintf(sc->logs, sizeof sc->logs, "/tmp/grp-join-logs-XXXXXX");
	assert_non_null(mkdtemp(sc->logs));
	share_fin_k(sc);
	unsigned n = sc->k + sc->churn, live[MAX_MEMBERS], n_live = sc->k;
	assert_true(n <= MAX_MEMBERS);
	struct local_group *lg = local_group_start(n, churn_member, (void *)sc);
	assert_non_null(lg);
	for (unsigned r = 0; r < sc->k; r++) {
		live[r] = r;
		await_line(lg, r, "in");
	}
	unsigned seed = 11;
	for (unsigned c = 0; c < sc->churn; c++) {
		unsigned pick = (unsigned)rand_r(&seed) % n_live;
		local_group_kill(lg, live[pick], SIGKILL);
		live[pick] = sc->k + c;
		local_group_kill(lg, sc->k + c, SIGUSR1);
		await_line(lg, sc->k + c, "in");
	}
	bool reports[MAX_MEMBERS] = { false };
	for (unsigned i = 0; i < n_live; i++) {
		reports[live[i]] = true;
		local_group_kill(lg, live[i], SIGUSR2);
	}
	expect_same_state(lg, sc, reports);
	int status[MAX_MEMBERS];
	local_group_finish(lg, test_ms(WAIT_MS), status);
	unshare_fin_k(sc);
	for (unsigned i = 0; i < n_live; i++)
		assert_int_equal(status[live[i]], 0);
	check_logs(sc, reports);
}

/* A group of 5 in a partition rig, every member with membership.rejoin =
 * auto, all multicasting: split 2 | 3; the 2 stop (minority) while the 3
 * go on; healed, the 2 come back by themselves with the 3's state, and
 * all 5 end with the same state. */
static void run_heal(const struct scenario *given)
{
	const char *why = netns_rig_unsupported();
	if (why)
		skip_case(why);
	struct scenario copy = *given, *sc = &copy;
	share_fin_k(sc);
	struct netns_rig *rig = netns_rig_create(sc->k);
	assert_non_null(rig);
	struct local_group *lg = local_group_start_in(rig, churn_member, (void *)sc);
	assert_non_null(lg);
	for (unsigned r = 0; r < sc->k; r++)
		await_line(lg, r, "in");
	assert_int_equal(netns_rig_split(rig, 1u << 0 | 1u << 1), 0);
	await_line(lg, 0, "stopped");
	await_line(lg, 1, "stopped");
	assert_int_equal(netns_rig_heal(rig), 0);
	await_line(lg, 0, "back");
	await_line(lg, 1, "back");
	bool reports[MAX_MEMBERS] = { false };
	for (unsigned r = 0; r < sc->k; r++) {
		reports[r] = true;
		local_group_kill(lg, r, SIGUSR2);
	}
	expect_same_state(lg, sc, reports);
	int status[MAX_MEMBERS];
	local_group_finish(lg, test_ms(WAIT_MS), status);
	unshare_fin_k(sc);
	assert_int_equal(netns_rig_destroy(rig), 0);
	for (unsigned r = 0; r < sc->k; r++)
		assert_int_equal(status[r], 0);
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

static void test_join_closed_group(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 1000, .pad = 1u << 20,
				.closed = true });
}

static void test_joiner_with_wrong_key_refused(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 200, .fault = WRONG_KEY,
				.closed = true });
}

static void test_leader_dies_with_join_pending(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 1000, .pad = 1u << 20,
				.fault = LEADER_DIES });
}

static void test_removed_member_rejoins_under_its_id(void **state)
{
	(void)state;
	run(&(struct scenario){ .k = 3, .joiners = 1, .messages = 1000, .pad = 1u << 20,
				.fault = REJOIN });
}

static void test_split_2_3_healed_rejoin_auto(void **state)
{
	(void)state;
	run_heal(&(struct scenario){ .k = 5, .pad = 1u << 20, .heal = true });
}

static void test_churn_50_cycles(void **state)
{
	(void)state;
	run_churn(&(struct scenario){ .k = 5, .churn = 50, .pad = 1u << 20 });
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
		cmocka_unit_test(test_join_closed_group),
		cmocka_unit_test(test_joiner_with_wrong_key_refused),
		cmocka_unit_test(test_leader_dies_with_join_pending),
		cmocka_unit_test(test_removed_member_rejoins_under_its_id),
		cmocka_unit_test(test_churn_50_cycles),
		cmocka_unit_test(test_split_2_3_healed_rejoin_auto),
	};
	return RUN_CASES(argc, argv, cases);
}
