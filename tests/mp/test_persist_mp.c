/* Persistence (persist.mode), for real: member processes with a log each
 * in a directory of their own (a subdirectory, by node id, of a temporary
 * directory the test removes), multicasting; after they exit the test opens
 * the logs itself (persist/plog.h) and compares them.
 *
 * Every member's application state is a count and an FNV hash of every
 * delivery in order (sender and payload), replayed ones included, so that
 * a member that came back with its log ends with the same state as the
 * ones that never left: its log's replay, plus what the member serving it
 * shipped, plus what it delivered since, is the whole history.
 *
 * Cases: three members in durable mode with grp_send_durable (the
 * persisted frontier only grows, covers every message of ours once
 * grp_send_durable returned, and the three logs hold the same 900
 * messages); a member killed mid-stream and started again on its log (it
 * replays, catches up, and ends with the others' state); a crash loop (a
 * random member killed and started again on its log, many times, while all
 * multicast: nothing the group reported persisted is missing from any
 * log, and every process delivered, across its replay, a prefix of one
 * history in version order: the crash loop's delivery check); a damaged log refused (GRP_ECORRUPT, nothing changed) and a torn
 * tail cut off; a full disk that stops its member (GRP_DEPARTED_LOG_FAILED)
 * while the others go on; a member with a log that forms the group again
 * (a total restart of a group of one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "fin_barrier.h"
#include "fnv.h"
#include "frame.h"
#include "localgroup.h"
#include "plog.h"
#include "test_time.h"

#define MAX_IDS 8u
#define MAX_PROCS 1024u
#define WAIT_MS 60000u
#define SUSPECT_MS 5000u
#define SEGMENT_MB 4u

/* What the test's processes share (MAP_SHARED, made before the fork). */
struct shared {
	char group_name[64];                /* written by rank 0 */
	/* The highest version any process of each node id saw reported
	 * persisted (the crash loop). */
	_Atomic uint64_t persisted_max[MAX_IDS];
	/* The crash loop: the harness rank of the process that holds each
	 * node id, each replacement's node id, and its contacts. */
	_Atomic unsigned holder[MAX_IDS];
	_Atomic unsigned id_of_rank[MAX_PROCS];
	_Atomic unsigned contact_rank[MAX_PROCS][2];
	/* By harness rank: the last version of the log a member comes back
	 * on, as the parent read it (a copy) before it started: replayed
	 * deliveries up to it came from that log, the later ones were
	 * shipped. */
	_Atomic uint64_t log_end[MAX_PROCS];
	/* The segment file of that log, and where its records end (its last
	 * non-zero byte + 1): at its first replayed delivery the member looks
	 * whether its log still ends there, i.e. was replayed, not cut back
	 * and shipped again (the API does not tell the two apart). */
	char check_segment[256];
	_Atomic uint64_t check_end;
	/* By harness rank: where a member that had to try again on a fresh
	 * socket listens ("" if at its harness address), written before it
	 * reports "in"; later replacements contact it there. */
	char moved_to[MAX_PROCS][64];
};

/* The shared memory of the running case (one per test process). */
static struct shared *case_shared;

struct scenario {
	const char *mode;      /* persist.mode */
	unsigned k;            /* members that form the group: ranks (and ids) 0..k-1 */
	unsigned messages;     /* per sender */
	size_t msg_bytes;
	unsigned segment_mb;
	unsigned cycles;       /* crash loop */
	char base[64];         /* the members' log directories: base/<node id> */
	const char *prepared;  /* a prepared log (corrupt_log_refused, formed_with_log_refused) */
	bool evict;            /* restart_member: id 2 is stopped, evicted, and rejoins by itself */
	struct shared *sh;
};

/* ---- the base directory: made by the parent, removed at the case's end,
 * or at exit after a failed case (not by the members, which inherit it) */

static char leftover_base[64];
static pid_t base_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_leftover_base(void)
{
	if (getpid() != base_owner || !leftover_base[0])
		return;
	local_group_stop_all();
	remove_tree(leftover_base);
	leftover_base[0] = '\0';
}

static void make_base(struct scenario *sc)
{
	if (base_owner == 0) {
		base_owner = getpid();
		atexit(remove_leftover_base);
	}
	remove_leftover_base(); /* a failed case's */
	snprintf(sc->base, sizeof sc->base, "/tmp/grp-persist-XXXXXX");
	assert_non_null(mkdtemp(sc->base));
	snprintf(leftover_base, sizeof leftover_base, "%s", sc->base);
}

static void remove_base(struct scenario *sc)
{
	assert_int_equal(remove_tree(sc->base), 0);
	leftover_base[0] = '\0';
}

static void dir_of(const struct scenario *sc, unsigned id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%u", sc->base, id);
}

static struct shared *share(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 0, sizeof(struct shared));
	case_shared = p;
	return p;
}

static void unshare_memory(struct shared *sh)
{
	case_shared = NULL;
	munmap(sh, sizeof *sh);
}

/* ---- configuration */

/* Entry `rank` of the harness's member list. */
static void entry_of(const struct local_member *m, unsigned rank, char *out, size_t cap)
{
	if (case_shared && rank < MAX_PROCS && case_shared->moved_to[rank][0]) {
		snprintf(out, cap, "%s", case_shared->moved_to[rank]);
		return;
	}
	const char *p = m->members;
	for (unsigned i = 0; i < rank; i++)
		p = strchr(p, ',') + 1;
	snprintf(out, cap, "%.*s", (int)strcspn(p, ","), p);
}

/* The entries of the given ranks, comma-separated. */
static void entries_of(const struct local_member *m, const unsigned *ranks, unsigned n, char *out,
		       size_t cap)
{
	size_t off = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char e[64];
		entry_of(m, ranks[i], e, sizeof e);
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? "," : "", e);
	}
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

struct member_spec {
	unsigned id;
	const char *members;  /* forming: group.members */
	const char *contact;  /* joining: group.contact */
	const char *listen;   /* joining: member.listen */
	int listen_fd;
	const char *dir;
	const char *mode;
	unsigned segment_mb;
	bool rejoin_auto;     /* membership.rejoin = auto */
};

static grp_config *config_of(const struct local_member *m, const struct member_spec *s)
{
	grp_config *cfg = local_member_config(m);
	char id[16], suspect[16], fd[16], seg[16];
	snprintf(id, sizeof id, "%u", s->id);
	snprintf(suspect, sizeof suspect, "%u", test_ms(SUSPECT_MS));
	snprintf(fd, sizeof fd, "%d", s->listen_fd);
	snprintf(seg, sizeof seg, "%u", s->segment_mb ? s->segment_mb : SEGMENT_MB);
	if (cfg && (grp_config_set(cfg, "membership.suspect_timeout_ms", suspect) ||
		    grp_config_set(cfg, "multicast.senders", "all") ||
		    grp_config_set(cfg, "member.listen_fd", fd) ||
		    (s->members && grp_config_set(cfg, "group.members", s->members)) ||
		    (s->contact && grp_config_set(cfg, "group.contact", s->contact)) ||
		    (s->listen && grp_config_set(cfg, "member.listen", s->listen)) ||
		    grp_config_set(cfg, "member.id", id) ||
		    grp_config_set(cfg, "persist.mode", s->mode) ||
		    grp_config_set(cfg, "persist.dir", s->dir) ||
		    grp_config_set(cfg, "persist.segment_mb", seg) ||
		    (s->rejoin_auto && grp_config_set(cfg, "membership.rejoin", "auto")))) {
		fprintf(stderr, "member %u: configuration: %s\n", m->rank, grp_config_error(cfg));
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* ---- the application: a count and a hash of every delivery */

enum msg_kind { KIND_DATA = 'M', KIND_MORE = 'P', KIND_FIN = 'F' };

struct app {
	const struct local_member *m;
	const struct scenario *sc;
	unsigned id;
	uint64_t count, hash;
	struct delivery_count delivered;     /* every delivery, replayed ones too */
	/* Replayed deliveries: from our own log (versions up to log_end)
	 * and shipped by the member serving us (later versions). Both reach
	 * deliver after the first view callback (a restart's leader: before). */
	bool viewed;
	unsigned first_vid;
	uint64_t log_end;
	uint64_t replayed_local, replayed_shipped;
	int log_intact;                      /* -1: not looked at, 0: cut back, 1: intact */
	/* The highest version delivered or installed (a view's: (vid + 1) << 40). */
	uint64_t top_version;
	_Atomic uint64_t own_version;        /* of our last message delivered here */
	/* The persisted callback: what it reported, and whether it ever
	 * went back or ran ahead of what was delivered here. */
	_Atomic uint64_t persisted;
	atomic_uint persisted_reports; /* the engine adds, the member's thread reads */
	char persisted_bad[160];
	bool frozen;                         /* crash loop: stop publishing persisted values */
	/* restart: reaching `mark` deliveries, and that version persisted. */
	uint64_t mark, mark_version;
	struct delivery_count marked;
	/* Where the run ends: the last "fin" of the view's members, or the
	 * last KIND_MORE message (the same point of the order everywhere). */
	struct fin_barrier end;
	/* disk full: KIND_MORE deliveries that end the run, and views. */
	uint64_t more_target, more_seen;
	atomic_bool lost_2;                  /* a view without node id 2 after one with it */
	struct delivery_count lost;          /* such views */
	struct delivery_count rejoined;      /* views that brought node id 2 back */
	bool had_2;
	struct delivery_count stopped;       /* our last view callback ran */
	atomic_int stop_reason;
	/* The crash loop's delivery trace (see trace_delivery), or NULL. */
	FILE *trace;
	char trace_path[128];
	uint64_t digest, last_version;
	bool order_broken;
};

static void app_init(struct app *a, const struct local_member *m, const struct scenario *sc,
		     unsigned id)
{
	memset(a, 0, sizeof *a);
	a->m = m;
	a->sc = sc;
	a->id = id;
	delivery_count_init(&a->delivered);
	delivery_count_init(&a->marked);
	fin_barrier_init(&a->end);
	delivery_count_init(&a->rejoined);
	delivery_count_init(&a->lost);
	a->log_intact = -1;
	delivery_count_init(&a->stopped);
}

/* ---- the crash loop's delivery check
 *
 * Every process, across its replay, what was shipped to it and what it
 * delivered live, must deliver a prefix of one sequence. Each checks its
 * own order as it goes: versions increase, and inside a view they number
 * the messages from 1 without a gap. Every TRACE_EVERY deliveries it
 * writes (version, digest of every delivery so far) to its trace file; a
 * break in order is written as version 0 with the version that broke it.
 * The test then requires, over all the traces, that equal versions carry
 * equal digests: the same history up to there. */
#define TRACE_EVERY 1024u

struct trace_point {
	uint64_t version, digest;
};

static void trace_write(struct app *a, uint64_t version, uint64_t digest)
{
	struct trace_point p = { version, digest };
	fwrite(&p, sizeof p, 1, a->trace);
	fflush(a->trace);
}

static void trace_open(struct app *a, unsigned rank)
{
	snprintf(a->trace_path, sizeof a->trace_path, "%s/trace-%u", a->sc->base, rank);
	a->trace = fopen(a->trace_path, "w");
	a->digest = FNV_OFFSET;
	a->last_version = 0;
	a->order_broken = false;
}

static void trace_delivery(struct app *a, const grp_delivery *msg)
{
	if (!a->trace || a->order_broken)
		return;
	const uint64_t nth_mask = (1ull << 40) - 1;
	bool same_view = a->last_version >> 40 == msg->version >> 40;
	uint64_t nth = same_view ? (a->last_version & nth_mask) + 1 : 1;
	if (msg->version <= a->last_version || (msg->version & nth_mask) != nth) {
		trace_write(a, 0, msg->version);
		a->order_broken = true;
		return;
	}
	a->last_version = msg->version;
	a->digest = fnv_mix(a->digest, &msg->version, sizeof msg->version);
	a->digest = fnv_mix(a->digest, &msg->sender, sizeof msg->sender);
	a->digest = fnv_mix(a->digest, msg->data, msg->len);
	if (a->count % TRACE_EVERY == 0)
		trace_write(a, a->last_version, a->digest);
}

static void trace_close(struct app *a)
{
	if (!a->trace)
		return;
	if (!a->order_broken && a->last_version)
		trace_write(a, a->last_version, a->digest);
	fclose(a->trace);
	a->trace = NULL;
}

/* Before another attempt to join: the state starts again. */
static void app_restart(struct app *a)
{
	if (a->trace) {
		fclose(a->trace);
		trace_open(a, a->m->rank);
	}
	a->count = a->hash = 0;
	a->viewed = false;
	a->replayed_local = a->replayed_shipped = 0;
	a->top_version = 0;
	a->log_intact = -1;
}

/* Message k of node id `id`: its kind, id and k, then bytes of them. */
static size_t fill_msg(uint8_t *buf, size_t len, enum msg_kind kind, unsigned id, uint64_t k)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(k * 7u + i * 13u + id * 101u + 1u) | 1u;
	buf[0] = (uint8_t)kind;
	if (len >= 13) {
		memcpy(buf + 1, &id, 4);
		memcpy(buf + 5, &k, 8);
	}
	return len;
}

/* 1 if the byte before check_end of check_segment is not zero: the log's
 * records still end where they did before the member came back. */
static int log_still_ends_at(const struct shared *sh)
{
	uint64_t end = atomic_load(&((struct shared *)sh)->check_end);
	int fd = end ? open(sh->check_segment, O_RDONLY) : -1;
	uint8_t byte = 0;
	int got = fd >= 0 ? (int)pread(fd, &byte, 1, (off_t)end - 1) : -1;
	if (fd >= 0)
		close(fd);
	return got == 1 && byte != 0;
}

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct app *a = user;
	a->hash = fnv_mix(a->hash, &msg->sender, sizeof msg->sender);
	a->hash = fnv_mix(a->hash, msg->data, msg->len);
	a->count++;
	trace_delivery(a, msg);
	if (msg->replayed && a->log_intact < 0 && a->log_end)
		a->log_intact = log_still_ends_at(a->sc->sh);
	if (msg->replayed)
		*(a->log_end && msg->version <= a->log_end ? &a->replayed_local
							   : &a->replayed_shipped) += 1;
	if (msg->version > a->top_version)
		a->top_version = msg->version;
	if (msg->sender == a->id && !msg->replayed)
		atomic_store(&a->own_version, msg->version);
	if (a->mark && a->count == a->mark)
		a->mark_version = msg->version;
	const uint8_t *p = msg->data;
	if (!msg->replayed && msg->len && p[0] == KIND_FIN &&
	    fin_barrier_note(&a->end, msg->sender, a->count, a->hash))
		a->frozen = true;
	if (!msg->replayed && msg->len && p[0] == KIND_MORE && ++a->more_seen == a->more_target)
		fin_barrier_end(&a->end, a->count, a->hash);
	delivery_count_add(&a->delivered);
}

static bool lists(const unsigned *ids, unsigned n, unsigned id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct app *a = user;
	if (!a->viewed)
		a->first_vid = v->vid;
	a->viewed = true;
	uint64_t version = ((uint64_t)v->vid + 1) << 40; /* its record's */
	if (version > a->top_version)
		a->top_version = version;
	if (v->n_departed == 1 && v->departed[0] == a->id) {
		atomic_store(&a->stop_reason, (int)v->departed_reason[0]);
		delivery_count_add(&a->stopped);
		return;
	}
	struct shared *sh = a->sc->sh;
	for (unsigned i = 0; i < v->n_departed; i++) {
		unsigned d = v->departed[i];
		local_member_report(a->m, "gone %u %u reason %d", d,
				    d < MAX_IDS ? atomic_load(&sh->holder[d]) : 0u,
				    (int)v->departed_reason[i]);
	}
	bool has_2 = lists(v->members, v->n_members, 2);
	if (a->had_2 && !has_2) {
		atomic_store(&a->lost_2, true);
		delivery_count_add(&a->lost);
	}
	if (!a->had_2 && has_2 && lists(v->joined, v->n_joined, 2) && v->vid > 0)
		delivery_count_add(&a->rejoined);
	a->had_2 = has_2;
	fin_barrier_view(&a->end, v);
}

static void on_persisted(grp_t *g, uint64_t version, void *user)
{
	(void)g;
	struct app *a = user;
	uint64_t last = atomic_load(&a->persisted);
	if (!a->persisted_bad[0] && atomic_load(&a->persisted_reports) && version <= last)
		snprintf(a->persisted_bad, sizeof a->persisted_bad,
			 "persisted %#" PRIx64 " after %#" PRIx64, version, last);
	if (!a->persisted_bad[0] && version > a->top_version)
		snprintf(a->persisted_bad, sizeof a->persisted_bad,
			 "persisted %#" PRIx64 " before its deliver here (at %#" PRIx64 ")",
			 version, a->top_version);
	atomic_fetch_add(&a->persisted_reports, 1);
	atomic_store(&a->persisted, version);
	if (a->mark_version && version >= a->mark_version && !delivery_count_get(&a->marked))
		delivery_count_add(&a->marked);
	struct shared *sh = a->sc->sh;
	if (!a->frozen && a->id < MAX_IDS) {
		uint64_t seen = atomic_load(&sh->persisted_max[a->id]);
		while (version > seen &&
		       !atomic_compare_exchange_weak(&sh->persisted_max[a->id], &seen, version))
			;
	}
}

static int join(const struct local_member *m, const struct member_spec *s, struct app *a,
		grp_t **g)
{
	grp_config *cfg = config_of(m, s);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view,
			     .persisted = on_persisted };
	int rc = cfg ? grp_join(cfg, &cb, a, g) : GRP_ECONFIG;
	grp_config_free(cfg);
	return rc;
}

/* The process killed before us may still hold its log's lock while the
 * kernel tears it down (grp_join would fail with GRP_EBUSY, its socket
 * spent): waits, bounded, until the lock is free. */
static int await_log_free(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int rc = -1;
	for (unsigned waited = 0; waited < test_ms(10000) && rc; waited += 10) {
		rc = flock(fd, LOCK_EX | LOCK_NB);
		if (rc)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
	close(fd); /* releases the lock */
	return rc;
}

/* A member that comes back on its log through the contacts: tries again
 * (on a fresh socket) while the group still has its old process, or the
 * member serving it failed. */
static int rejoin(const struct local_member *m, const struct member_spec *spec, struct app *a,
		  grp_t **g)
{
	char self[64], fresh[64];
	entry_of(m, m->rank, self, sizeof self);
	struct member_spec s = *spec;
	s.listen = self;
	s.listen_fd = m->listen_fd;
	if (spec->dir && await_log_free(spec->dir) != 0)
		return 23;
	for (unsigned attempt = 0; attempt < 5; attempt++) {
		app_restart(a);
		if (attempt > 0) {
			s.listen_fd = fresh_listener(fresh, sizeof fresh);
			s.listen = fresh;
			if (s.listen_fd < 0)
				return 20;
		}
		int rc = join(m, &s, a, g);
		if (!rc && attempt > 0)
			snprintf(a->sc->sh->moved_to[m->rank], sizeof a->sc->sh->moved_to[0], "%s",
				 fresh);
		if (!rc)
			return 0;
		fprintf(stderr, "rank %u (id %u): grp_join: %s\n", m->rank, s.id, grp_strerror(rc));
		if (rc != GRP_ETRANSFER && rc != GRP_EPEER && rc != GRP_ETIMEDOUT &&
		    rc != GRP_EIDTAKEN && rc != GRP_EBUSY)
			return 21;
		/* The group still lists our old process, or the killed process
		 * still holds the log's lock while the kernel tears it down:
		 * nothing to await but time. */
		nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	}
	return 22;
}

/* The first k entries of the list: the group's first view. */
static void first_members(const struct local_member *m, unsigned k, char *out, size_t cap)
{
	unsigned ranks[MAX_IDS];
	for (unsigned i = 0; i < k; i++)
		ranks[i] = i;
	entries_of(m, ranks, k, out, cap);
}

static void block_signals(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* Waits for sig (blocked), at most ms; 0 or -1. */
static int await_signal(int sig, unsigned ms)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	return sigtimedwait(&s, NULL, &t) == sig ? 0 : -1;
}

static bool signal_pending_now(int sig)
{
	return await_signal(sig, 0) == 0;
}

static int report_state(struct app *a, uint64_t count, uint64_t hash)
{
	local_member_report(a->m, "state %" PRIu64 " %016" PRIx64, count, hash);
	return 0;
}

static int check_persisted(struct app *a)
{
	if (a->persisted_bad[0]) {
		fprintf(stderr, "id %u: %s\n", a->id, a->persisted_bad);
		return 1;
	}
	return 0;
}

static void record_name(const struct local_member *m, const struct scenario *sc)
{
	if (m->rank == 0)
		snprintf(sc->sh->group_name, sizeof sc->sh->group_name, "%s", m->group_name);
}

/* ---- the parent's side */

static void await_line(struct local_group *lg, unsigned rank, const char *want)
{
	char line[256];
	do
		assert_int_equal(local_group_read_line(lg, rank, line, sizeof line,
						       test_ms(WAIT_MS)), 0);
	while (strcmp(line, want) != 0);
}

/* The next line of rank that starts with prefix (into line). */
static void await_prefix(struct local_group *lg, unsigned rank, const char *prefix, char *line,
			 size_t cap)
{
	do
		if (local_group_read_line(lg, rank, line, cap, test_ms(WAIT_MS)) != 0)
			fail_msg("rank %u did not report '%s...'", rank, prefix);
	while (strncmp(line, prefix, strlen(prefix)) != 0);
}

/* Collects "state C H" from the given ranks; they must agree. */
static void expect_same_state(struct local_group *lg, const unsigned *ranks, unsigned n)
{
	char first[256] = "", line[256];
	for (unsigned i = 0; i < n; i++) {
		await_prefix(lg, ranks[i], "state ", line, sizeof line);
		fprintf(stderr, "rank %u: %s\n", ranks[i], line);
		if (!first[0])
			snprintf(first, sizeof first, "%s", line);
		if (strcmp(first, line) != 0)
			fail_msg("rank %u ends with '%s', another with '%s'", ranks[i], line, first);
	}
}

/* One record of a log, as the checks compare them. */
struct rec {
	enum plog_kind kind;
	uint32_t sender;
	uint64_t version;
	size_t len;
	uint64_t hash;
};

struct log_copy {
	struct rec *r;
	size_t n, cap;
	uint64_t messages;
};

static void log_copy_free(struct log_copy *l)
{
	free(l->r);
	*l = (struct log_copy){ 0 };
}

/* Reads every record of the log in dir (which must exist). */
static void read_log(const struct scenario *sc, const char *dir, struct log_copy *out)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		fail_msg("no log directory %s", dir);
	struct plog_params p = {
		.dir = dir,
		.group_id = frame_group_id(sc->sh->group_name),
		.mode = PLOG_ASYNC,
		.segment_bytes = (size_t)(sc->segment_mb ? sc->segment_mb : SEGMENT_MB) << 20,
		.ring_bytes = 1u << 20,
		.sync_interval_ms = 200,
	};
	struct plog *log;
	struct plog_open_report report;
	int rc = plog_open(&p, &log, &report);
	if (rc)
		fail_msg("plog_open %s: %s", dir, grp_strerror(rc));
	struct plog_iter *it;
	assert_int_equal(plog_iter_versions(log, 0, UINT64_MAX, &it), 0);
	*out = (struct log_copy){ 0 };
	struct plog_record r;
	while ((rc = plog_iter_next(it, &r)) == 1) {
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 1024;
			out->r = realloc(out->r, out->cap * sizeof *out->r);
			assert_non_null(out->r);
		}
		out->r[out->n++] = (struct rec){ .kind = r.kind, .sender = r.sender,
						 .version = r.version, .len = r.len,
						 .hash = fnv_mix(FNV_OFFSET, r.data, r.len) };
		out->messages += r.kind == PLOG_MESSAGE;
	}
	plog_iter_free(it);
	plog_close(log);
	if (rc != 0)
		fail_msg("reading the log in %s: %s", dir, grp_strerror(rc));
	for (size_t i = 1; i < out->n; i++)
		if (out->r[i].version <= out->r[i - 1].version)
			fail_msg("%s: version %#" PRIx64 " after %#" PRIx64, dir, out->r[i].version,
				 out->r[i - 1].version);
}

static const struct rec *find_version(const struct log_copy *l, uint64_t v)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->r[mid].version < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->r[lo].version == v ? &l->r[lo] : NULL;
}

static bool same_rec(const struct rec *a, const struct rec *b)
{
	return a->kind == b->kind && a->sender == b->sender && a->len == b->len &&
	       a->hash == b->hash;
}

/* Every version both logs hold is the same record in both. */
static void expect_agree(const struct log_copy *a, const char *an, const struct log_copy *b,
			 const char *bn)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *o = find_version(b, a->r[i].version);
		if (o && !same_rec(&a->r[i], o))
			fail_msg("version %#" PRIx64 ": %s has kind %d sender %u len %zu, %s kind %d "
				 "sender %u len %zu (or other bytes)",
				 a->r[i].version, an, a->r[i].kind, a->r[i].sender, a->r[i].len, bn,
				 o->kind, o->sender, o->len);
	}
}

/* b holds every version of a up to `upto`. */
static void expect_holds(const struct log_copy *b, const char *bn, const struct log_copy *a,
			 uint64_t upto)
{
	for (size_t i = 0; i < a->n && a->r[i].version <= upto; i++)
		if (!find_version(b, a->r[i].version))
			fail_msg("%s lacks version %#" PRIx64 " (kind %d)", bn, a->r[i].version,
				 a->r[i].kind);
}

static void start_group(unsigned n, local_member_fn fn, struct scenario *sc,
			struct local_group **lg)
{
	*lg = local_group_start(n, fn, sc);
	assert_non_null(*lg);
}

static void finish_expect(struct local_group *lg, const unsigned *ranks, unsigned n)
{
	int status[MAX_PROCS];
	local_group_finish(lg, test_ms(WAIT_MS), status);
	for (unsigned i = 0; i < n; i++) {
		if (status[ranks[i]] != 0)
			fprintf(stderr, "rank %u exited %d\n", ranks[i], status[ranks[i]]);
		assert_int_equal(status[ranks[i]], 0);
	}
}

/* Prepared logs: PREP_MESSAGES of PREP_BYTES each from one sender. */
#define PREP_MESSAGES 100u
#define PREP_BYTES 1000u

/* The one segment file of a log directory. */
static void segment_of(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	unsigned found = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "seg-", 4) == 0 && len > 4 &&
		    strcmp(e->d_name + len - 4, ".log") == 0) {
			snprintf(out, cap, "%s/%s", dir, e->d_name);
			found++;
		}
	}
	closedir(d);
	if (found != 1)
		fail_msg("%s holds %u segment files, expected 1", dir, found);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	uint8_t *buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void write_at(const char *path, size_t off, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

/* A digest of a directory: every name, size and byte, in name order. */
static uint64_t dir_digest(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	uint64_t h = FNV_OFFSET;
	for (int i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		h = fnv_mix(h, names[i]->d_name, strlen(names[i]->d_name) + 1);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			size_t len;
			uint8_t *buf = read_file(path, &len);
			h = fnv_mix(h, &len, sizeof len);
			h = fnv_mix(h, buf, len);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return h;
}

/* Where message k's payload lies in the segment (it must, once). */
static size_t payload_offset(const uint8_t *file, size_t len, unsigned id, unsigned k)
{
	uint8_t msg[PREP_BYTES];
	fill_msg(msg, PREP_BYTES, KIND_DATA, id, k);
	const uint8_t *at = memmem(file, len, msg, PREP_BYTES);
	if (!at)
		fail_msg("message %u's payload is not in the segment", k);
	const uint8_t *again = memmem(at + 1, len - (size_t)(at + 1 - file), msg, PREP_BYTES);
	if (again)
		fail_msg("message %u's payload is twice in the segment", k);
	return (size_t)(at - file);
}

/* A copy of a log directory's files. */
static void copy_dir(const char *from, const char *to)
{
	assert_int_equal(mkdir(to, 0700), 0);
	DIR *d = opendir(from);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char src[512], dst[512];
		snprintf(src, sizeof src, "%s/%s", from, e->d_name);
		snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
		struct stat st;
		if (stat(src, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		size_t len;
		uint8_t *buf = read_file(src, &len);
		FILE *f = fopen(dst, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(buf);
	}
	closedir(d);
}

/* What a log holds, read from a copy (opening it may cut a torn tail):
 * its message records and its last version. */
static void log_end_of(const struct scenario *sc, const char *dir, const char *scratch,
		       uint64_t *messages, uint64_t *last)
{
	copy_dir(dir, scratch);
	struct log_copy l;
	read_log(sc, scratch, &l);
	*messages = l.messages;
	*last = l.n ? l.r[l.n - 1].version : 0;
	log_copy_free(&l);
	assert_int_equal(remove_tree(scratch), 0);
}

/* Where the records of dir's one segment end (end 0: found from the
 * file, its last non-zero byte + 1), for log_still_ends_at. */
static void set_check(const struct scenario *sc, const char *dir, size_t end)
{
	segment_of(dir, sc->sh->check_segment, sizeof sc->sh->check_segment);
	if (!end) {
		size_t len;
		uint8_t *file = read_file(sc->sh->check_segment, &len);
		end = len;
		while (end > 0 && file[end - 1] == 0)
			end--;
		free(file);
	}
	assert_true(end > 64);
	atomic_store(&sc->sh->check_end, end);
}

/* ======== durable_3_members */

static int durable3_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	record_name(m, sc);
	block_signals();
	struct app a;
	app_init(&a, m, sc, m->rank);
	char members[512], dir[128];
	first_members(m, sc->k, members, sizeof members);
	dir_of(sc, m->rank, dir, sizeof dir);
	struct member_spec s = { .id = m->rank, .members = members, .listen_fd = m->listen_fd,
				 .dir = dir, .mode = sc->mode };
	grp_t *g = NULL;
	int rc = join(m, &s, &a, &g);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 2;
	}
	uint8_t msg[256];
	for (unsigned i = 0; i < sc->messages && !rc; i++) {
		rc = grp_send_durable(g, msg, fill_msg(msg, sc->msg_bytes, KIND_DATA, a.id, i));
		if (rc) {
			fprintf(stderr, "member %u: grp_send_durable: %s\n", m->rank, grp_strerror(rc));
			rc = 3;
			break;
		}
		uint64_t own = atomic_load(&a.own_version), persisted = grp_persisted(g);
		if (own == 0 || persisted < own) {
			fprintf(stderr, "member %u: message %u: grp_persisted %#" PRIx64
				" below its version %#" PRIx64 "\n", m->rank, i, persisted, own);
			rc = 4;
		}
	}
	uint64_t total = (uint64_t)sc->k * sc->messages;
	if (!rc && delivery_count_await(&a.delivered, total, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: %" PRIu64 " deliveries of %" PRIu64 "\n", m->rank,
			delivery_count_get(&a.delivered), total);
		rc = 5;
	}
	if (!rc && atomic_load(&a.persisted_reports) == 0)
		rc = 6;
	if (!rc)
		rc = check_persisted(&a);
	if (!rc) {
		local_member_report(m, "persisted %u reports, last %#" PRIx64,
				    atomic_load(&a.persisted_reports),
				    atomic_load(&a.persisted));
		report_state(&a, a.count, a.hash);
	}
	/* Everyone stays until everyone reported: no view change in the logs. */
	if (!rc && await_signal(SIGUSR1, test_ms(WAIT_MS)) != 0)
		rc = 7;
	grp_leave(g);
	grp_free(g);
	return rc;
}

static void test_durable_3_members(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "durable", .k = 3, .messages = test_load(300),
			       .msg_bytes = 64 };
	make_base(&sc);
	sc.sh = share();
	struct local_group *lg;
	start_group(3, durable3_member, &sc, &lg);
	unsigned ranks[] = { 0, 1, 2 };
	expect_same_state(lg, ranks, 3);
	for (unsigned r = 0; r < 3; r++)
		local_group_kill(lg, r, SIGUSR1);
	finish_expect(lg, ranks, 3);
	struct log_copy logs[3];
	char dir[128], name[3][16];
	for (unsigned id = 0; id < 3; id++) {
		dir_of(&sc, id, dir, sizeof dir);
		read_log(&sc, dir, &logs[id]);
		snprintf(name[id], sizeof name[id], "log %u", id);
		if (logs[id].messages != 3u * sc.messages)
			fail_msg("log %u holds %" PRIu64 " messages, not %u", id, logs[id].messages,
				 3u * sc.messages);
	}
	/* The same messages: every message of one is in the others, equal. */
	for (unsigned id = 0; id < 3; id++) {
		for (unsigned o = 0; o < 3; o++) {
			if (o == id)
				continue;
			expect_agree(&logs[id], name[id], &logs[o], name[o]);
			for (size_t i = 0; i < logs[id].n; i++)
				if (logs[id].r[i].kind == PLOG_MESSAGE &&
				    !find_version(&logs[o], logs[id].r[i].version))
					fail_msg("%s lacks message version %#" PRIx64, name[o],
						 logs[id].r[i].version);
		}
	}
	for (unsigned id = 0; id < 3; id++)
		log_copy_free(&logs[id]);
	unshare_memory(sc.sh);
	remove_base(&sc);
}

/* ======== restart_one_replays_and_catches_up, evicted_member_rejoins_on_its_log
 * ranks 0, 1: ids 0, 1, send a third of their messages, a third once id 2
 * is gone, a third once it is back; rank 2: id 2, silent, killed once
 * `mark` deliveries are persisted; rank 3: id 2 again, on rank 2's log.
 * Evicted instead (sc->evict, membership.rejoin = auto): rank 2 is stopped
 * (SIGSTOP) past the suspicion timeout once `mark` deliveries are
 * persisted, and continued once the others removed it; it rejoins by
 * itself on its log; there is no rank 3. */

static int restart_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	record_name(m, sc);
	block_signals();
	bool again = m->rank == 3;
	unsigned id = again ? 2 : m->rank;
	struct app a;
	app_init(&a, m, sc, id);
	if (m->rank == 2)
		a.mark = sc->messages / 3;
	char members[512], contact[512], dir[128];
	first_members(m, sc->k, members, sizeof members);
	dir_of(sc, id, dir, sizeof dir);
	struct member_spec s = { .id = id, .members = members, .listen_fd = m->listen_fd,
				 .dir = dir, .mode = sc->mode, .rejoin_auto = sc->evict };
	grp_t *g = NULL;
	int rc;
	if (again) {
		if (await_signal(SIGUSR1, test_ms(WAIT_MS)) != 0)
			return 0; /* never called in */
		a.log_end = atomic_load(&sc->sh->log_end[m->rank]);
		unsigned ranks[] = { 0, 1 };
		entries_of(m, ranks, 2, contact, sizeof contact);
		s.members = NULL;
		s.contact = contact;
		rc = rejoin(m, &s, &a, &g);
		if (rc)
			return rc;
		local_member_report(m, "replayed %" PRIu64 " shipped %" PRIu64 " intact %d",
				    a.replayed_local, a.replayed_shipped, a.log_intact);
	} else {
		rc = join(m, &s, &a, &g);
		if (rc) {
			fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
			return 2;
		}
	}
	local_member_report(m, "in");
	if (m->rank == 2) {
		/* Persisted here and everywhere: in our log when we are killed. */
		if (delivery_count_await(&a.marked, 1, test_ms(WAIT_MS)) != 0) {
			fprintf(stderr, "rank 2: %" PRIu64 " persisted deliveries never came\n", a.mark);
			return 31;
		}
		local_member_report(m, "mark");
		if (!sc->evict) {
			await_signal(SIGUSR2, test_ms(WAIT_MS));
			fprintf(stderr, "rank 2 was not killed\n");
			return 32;
		}
	}
	uint8_t msg[256];
	if (m->rank < 2) {
		for (unsigned i = 0; i < sc->messages && !rc; i++) {
			/* A third while id 2 is gone (what it will be shipped),
			 * the last third once it is back. */
			if (i == sc->messages / 3 &&
			    delivery_count_await(&a.lost, 1, test_ms(WAIT_MS)) != 0) {
				fprintf(stderr, "member %u: id 2 was not removed\n", m->rank);
				rc = 33;
				break;
			}
			if (i == 2 * sc->messages / 3 &&
			    delivery_count_await(&a.rejoined, 1, test_ms(WAIT_MS)) != 0) {
				fprintf(stderr, "member %u: id 2 did not come back\n", m->rank);
				rc = 33;
				break;
			}
			rc = grp_send(g, msg, fill_msg(msg, sc->msg_bytes, KIND_DATA, id, i));
			if (rc) {
				fprintf(stderr, "member %u: grp_send: %s\n", m->rank, grp_strerror(rc));
				rc = 3;
			}
		}
	}
	uint64_t total = 2ull * sc->messages;
	if (!rc && delivery_count_await(&a.delivered, total, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "rank %u: %" PRIu64 " deliveries of %" PRIu64 "\n", m->rank,
			delivery_count_get(&a.delivered), total);
		rc = 5;
	}
	if (!rc && a.count != total)
		rc = 34;
	if (!rc)
		rc = check_persisted(&a);
	if (!rc)
		report_state(&a, a.count, a.hash);
	if (!rc && await_signal(SIGUSR2, test_ms(WAIT_MS)) != 0)
		rc = 7;
	grp_leave(g);
	grp_free(g);
	return rc;
}

/* The states agree, and the logs of ids 0, 1 and 2: every message of the
 * senders in each, equal where two hold a version. */
static void expect_three_agree(struct scenario *sc, struct local_group *lg, const unsigned *ranks)
{
	expect_same_state(lg, ranks, 3);
	for (unsigned i = 0; i < 3; i++)
		local_group_kill(lg, ranks[i], SIGUSR2);
	finish_expect(lg, ranks, 3);
	struct log_copy logs[3];
	char dir[128];
	static const char *const names[] = { "log 0", "log 1", "log 2" };
	for (unsigned id = 0; id < 3; id++) {
		dir_of(sc, id, dir, sizeof dir);
		read_log(sc, dir, &logs[id]);
		fprintf(stderr, "log %u: %zu records, %" PRIu64 " messages\n", id, logs[id].n,
			logs[id].messages);
	}
	for (unsigned x = 0; x < 3; x++)
		for (unsigned y = 0; y < 3; y++)
			if (x != y)
				expect_agree(&logs[x], names[x], &logs[y], names[y]);
	/* Up to the last message (the views of the members leaving at the
	 * end are not everyone's). */
	uint64_t last_message = 0;
	for (size_t i = 0; i < logs[0].n; i++)
		if (logs[0].r[i].kind == PLOG_MESSAGE)
			last_message = logs[0].r[i].version;
	assert_int_equal(logs[0].messages, 2ull * sc->messages);
	expect_holds(&logs[2], names[2], &logs[0], last_message);
	for (unsigned id = 0; id < 3; id++)
		log_copy_free(&logs[id]);
	unshare_memory(sc->sh);
	remove_base(sc);
}

/* Starts restart_member's processes, and once id 2's `mark` deliveries
 * are persisted sends it sig and waits until the others removed it. */
static struct local_group *start_and_remove_2(struct scenario *sc, unsigned processes, int sig)
{
	make_base(sc);
	sc->sh = share();
	struct local_group *lg;
	start_group(processes, restart_member, sc, &lg);
	await_line(lg, 2, "mark");
	local_group_kill(lg, 2, sig);
	char line[256];
	await_prefix(lg, 0, "gone 2 ", line, sizeof line);
	return lg;
}

static void test_restart_one_replays_and_catches_up(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "async", .k = 3, .messages = test_load(4000),
			       .msg_bytes = 64 };
	struct local_group *lg = start_and_remove_2(&sc, 4, SIGKILL);
	/* What its log holds (read from a copy), for the restarted process
	 * to tell its log's replay from what it is shipped. */
	char dir2[128], scratch[128];
	dir_of(&sc, 2, dir2, sizeof dir2);
	snprintf(scratch, sizeof scratch, "%s/scratch", sc.base);
	uint64_t in_log, log_end;
	log_end_of(&sc, dir2, scratch, &in_log, &log_end);
	atomic_store(&sc.sh->log_end[3], log_end);
	set_check(&sc, dir2, 0);
	local_group_kill(lg, 3, SIGUSR1);
	char line[256];
	await_prefix(lg, 3, "replayed ", line, sizeof line);
	fprintf(stderr, "restarted on a log of %" PRIu64 " messages: %s\n", in_log, line);
	unsigned long long replayed = 0, shipped = 0;
	int intact = -1;
	assert_int_equal(sscanf(line, "replayed %llu shipped %llu intact %d", &replayed, &shipped,
				&intact), 3);
	/* Its whole log, as it was, then the rest. */
	if (intact != 1)
		fail_msg("the restarted member's log was cut back before its replay (intact %d): "
			 "what it replayed was shipped again", intact);
	assert_true(in_log > 0);
	assert_int_equal(replayed, in_log);
	assert_true(shipped > 0);
	expect_three_agree(&sc, lg, (const unsigned[]){ 0, 1, 3 });
}

/* membership.rejoin = auto with a log: the evicted member goes on with its
 * log, is shipped only what it missed, and ends with everyone's state. */
static void test_evicted_member_rejoins_on_its_log(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "async", .k = 3, .messages = test_load(4000),
			       .msg_bytes = 64, .evict = true };
	struct local_group *lg = start_and_remove_2(&sc, 3, SIGSTOP);
	local_group_kill(lg, 2, SIGCONT);
	expect_three_agree(&sc, lg, (const unsigned[]){ 0, 1, 2 });
}

/* ======== crash_loop
 * ranks 0..2 form (ids 0..2); rank 3 + c is cycle c's replacement, with
 * the id and the contacts the parent put in shared memory. All send
 * flat out until SIGUSR2, then a "fin"; the state when every member's fin
 * was delivered is the end. */

/* GROUP_TEST_CRASH_CYCLES, default 200 (scripts/crash_loop.sh runs more
 * in rounds). */
static unsigned crash_cycles(void)
{
	const char *text = getenv("GROUP_TEST_CRASH_CYCLES");
	unsigned n = text ? (unsigned)strtoul(text, NULL, 10) : 200;
	return n < 1 ? 1 : n > MAX_PROCS - 3 ? MAX_PROCS - 3 : n;
}

static int crash_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct shared *sh = sc->sh;
	record_name(m, sc);
	block_signals();
	bool replacement = m->rank >= sc->k;
	/* A replacement waits its turn: as long as the whole loop may take. */
	if (replacement && await_signal(SIGUSR1, test_ms(WAIT_MS) + sc->cycles * test_ms(5000)) != 0)
		return 0;
	unsigned id = replacement ? atomic_load(&sh->id_of_rank[m->rank]) : m->rank;
	struct app a;
	app_init(&a, m, sc, id);
	trace_open(&a, m->rank);
	if (!a.trace)
		return 13;
	char members[512], contact[512], dir[128];
	first_members(m, sc->k, members, sizeof members);
	dir_of(sc, id, dir, sizeof dir);
	struct member_spec s = { .id = id, .members = members, .listen_fd = m->listen_fd,
				 .dir = dir, .mode = sc->mode };
	grp_t *g = NULL;
	int rc;
	if (replacement) {
		unsigned ranks[2] = { atomic_load(&sh->contact_rank[m->rank][0]),
				      atomic_load(&sh->contact_rank[m->rank][1]) };
		entries_of(m, ranks, 2, contact, sizeof contact);
		s.members = NULL;
		s.contact = contact;
		rc = rejoin(m, &s, &a, &g);
		if (!rc)
			local_member_report(m, "replayed %" PRIu64 " shipped %" PRIu64,
					    a.replayed_local, a.replayed_shipped);
	} else {
		rc = join(m, &s, &a, &g);
	}
	if (rc || !g) {
		fprintf(stderr, "rank %u (id %u): in: %d\n", m->rank, id, rc);
		grp_free(g);
		return rc ? rc : 2;
	}
	local_member_report(m, "in");
	uint8_t msg[256];
	uint64_t k = 0;
	/* Flat out, each message acknowledged durable before the next: the
	 * stream is what the logs can sync, and what a replacement lacks stays
	 * what a cycle's time can ship. */
	while (!rc && !signal_pending_now(SIGUSR2)) {
		rc = grp_send_durable(g, msg, fill_msg(msg, sc->msg_bytes, KIND_DATA, id, k));
		k += rc == 0;
	}
	if (!rc)
		rc = grp_send(g, msg, fill_msg(msg, sc->msg_bytes, KIND_FIN, id, k));
	if (rc) {
		fprintf(stderr, "rank %u (id %u): grp_send: %s\n", m->rank, id, grp_strerror(rc));
		rc = 3;
	} else if (delivery_count_await(&a.end.finished, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "rank %u (id %u): not every fin came\n", m->rank, id);
		rc = 12;
	}
	if (!rc)
		rc = check_persisted(&a);
	if (!rc)
		report_state(&a, a.end.end_count, a.end.end_hash);
	grp_leave(g);
	grp_free(g);
	trace_close(&a);
	return rc;
}

static int by_version(const void *x, const void *y)
{
	const struct trace_point *a = x, *b = y;
	return a->version < b->version ? -1 : a->version > b->version;
}

/* Over the traces of ranks 0..n-1 (a killed process's ends where it died;
 * a partial last point is dropped): no process broke the order, and equal
 * versions carry equal digests. Returns how many points it compared. */
static size_t check_traces(const struct scenario *sc, unsigned n)
{
	struct trace_point *all = NULL;
	size_t count = 0, cap = 0;
	for (unsigned r = 0; r < n; r++) {
		char path[128];
		snprintf(path, sizeof path, "%s/trace-%u", sc->base, r);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* never started: the run ended first */
		struct trace_point p;
		while (fread(&p, sizeof p, 1, f) == 1) {
			if (p.version == 0)
				fail_msg("rank %u delivered version %#" PRIx64 " out of order", r,
					 p.digest);
			if (count == cap) {
				cap = cap ? 2 * cap : 4096;
				all = realloc(all, cap * sizeof *all);
				assert_non_null(all);
			}
			all[count++] = p;
		}
		fclose(f);
	}
	qsort(all, count, sizeof *all, by_version);
	size_t shared = 0;
	for (size_t i = 1; i < count; i++) {
		if (all[i].version != all[i - 1].version)
			continue;
		shared++;
		if (all[i].digest != all[i - 1].digest)
			fail_msg("two processes delivered different histories up to version %#" PRIx64,
				 all[i].version);
	}
	free(all);
	return shared;
}

static void test_crash_loop(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "durable", .k = 3, .msg_bytes = 32,
			       .cycles = crash_cycles() };
	make_base(&sc);
	sc.sh = share();
	struct shared *sh = sc.sh;
	for (unsigned id = 0; id < 3; id++)
		atomic_store(&sh->holder[id], id);
	unsigned n = sc.k + sc.cycles;
	struct local_group *lg;
	start_group(n, crash_member, &sc, &lg);
	for (unsigned r = 0; r < 3; r++)
		await_line(lg, r, "in");
	unsigned seed = 7;
	unsigned long long replayed = 0, shipped = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned c = 0; c < sc.cycles; c++) {
		unsigned id = (unsigned)rand_r(&seed) % 3;
		unsigned victim = atomic_load(&sh->holder[id]);
		unsigned other[2] = { atomic_load(&sh->holder[(id + 1) % 3]),
				      atomic_load(&sh->holder[(id + 2) % 3]) };
		local_group_kill(lg, victim, SIGKILL);
		/* The group removed it (so its id is free again). */
		char want[64];
		snprintf(want, sizeof want, "gone %u %u ", id, victim);
		char line[256];
		await_prefix(lg, other[0], want, line, sizeof line);
		unsigned r = sc.k + c;
		atomic_store(&sh->id_of_rank[r], id);
		atomic_store(&sh->contact_rank[r][0], other[0]);
		atomic_store(&sh->contact_rank[r][1], other[1]);
		atomic_store(&sh->holder[id], r);
		local_group_kill(lg, r, SIGUSR1);
		/* "replayed L shipped S", then "in". */
		await_prefix(lg, r, "replayed ", line, sizeof line);
		unsigned long long l = 0, s = 0;
		assert_int_equal(sscanf(line, "replayed %llu shipped %llu", &l, &s), 2);
		replayed += l;
		shipped += s;
		await_line(lg, r, "in");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%u cycles in %.1f s; the replacements replayed %llu messages (from "
		"their logs and shipped)\n", sc.cycles,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		replayed + shipped);
	/* They came back on logs, not on an application state. */
	assert_true(replayed + shipped > 0);
	unsigned live[3];
	for (unsigned id = 0; id < 3; id++) {
		live[id] = atomic_load(&sh->holder[id]);
		local_group_kill(lg, live[id], SIGUSR2);
	}
	expect_same_state(lg, live, 3);
	finish_expect(lg, live, 3);
	/* Every process delivered a prefix of one history, in order. */
	size_t compared = check_traces(&sc, n);
	fprintf(stderr, "delivery traces: %zu points shared by two processes, all agree\n",
		compared);
	assert_true(compared > 0);
	uint64_t persisted = 0;
	for (unsigned id = 0; id < MAX_IDS; id++)
		if (atomic_load(&sh->persisted_max[id]) > persisted)
			persisted = atomic_load(&sh->persisted_max[id]);
	struct log_copy logs[3];
	char dir[128];
	static const char *const names[] = { "log 0", "log 1", "log 2" };
	for (unsigned id = 0; id < 3; id++) {
		dir_of(&sc, id, dir, sizeof dir);
		read_log(&sc, dir, &logs[id]);
		fprintf(stderr, "log %u: %zu records, %" PRIu64 " messages\n", id, logs[id].n,
			logs[id].messages);
	}
	fprintf(stderr, "highest version reported persisted: %#" PRIx64 "\n", persisted);
	assert_true(persisted > 0);
	for (unsigned x = 0; x < 3; x++) {
		for (unsigned y = 0; y < 3; y++) {
			if (x == y)
				continue;
			expect_agree(&logs[x], names[x], &logs[y], names[y]);
			/* Nothing reported persisted is missing anywhere. */
			expect_holds(&logs[y], names[y], &logs[x], persisted);
		}
	}
	for (unsigned id = 0; id < 3; id++) {
		assert_non_null(find_version(&logs[id], persisted));
		log_copy_free(&logs[id]);
	}
	unshare_memory(sc.sh);
	remove_base(&sc);
}

/* ======== prepared logs: a group of one forms, sends `messages` of
 * msg_bytes with grp_send_durable, and leaves. */

static int prepare_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	record_name(m, sc);
	struct app a;
	app_init(&a, m, sc, 0);
	char members[128];
	entry_of(m, 0, members, sizeof members);
	struct member_spec s = { .id = 0, .members = members, .listen_fd = m->listen_fd,
				 .dir = sc->prepared, .mode = "durable", .segment_mb = 1 };
	grp_t *g = NULL;
	int rc = join(m, &s, &a, &g);
	if (rc) {
		fprintf(stderr, "preparing: grp_join: %s\n", grp_strerror(rc));
		return 2;
	}
	uint8_t msg[PREP_BYTES];
	for (unsigned i = 0; i < PREP_MESSAGES && !rc; i++)
		rc = grp_send_durable(g, msg, fill_msg(msg, PREP_BYTES, KIND_DATA, 0, i));
	if (rc)
		fprintf(stderr, "preparing: grp_send_durable: %s\n", grp_strerror(rc));
	int left = grp_leave(g);
	grp_free(g);
	return rc ? 3 : left ? 4 : 0;
}

static void prepare_log(struct scenario *sc, const char *dir)
{
	struct scenario prep = *sc;
	prep.prepared = dir;
	struct local_group *lg;
	start_group(1, prepare_member, &prep, &lg);
	unsigned ranks[] = { 0 };
	finish_expect(lg, ranks, 1);
}

/* ======== corrupt_log_refused
 * ranks 0, 1, 2 (ids 0, 1, 2) form in durable mode; id 2 sends
 * PREP_MESSAGES with grp_send_durable and leaves. Its log is copied twice:
 * one copy damaged in the middle (rank 3 comes back on it as id 2: refused
 * with GRP_ECORRUPT, nothing changed), one with its last record torn
 * (rank 4 comes back on it as id 2: the tail is cut, the rest replayed,
 * the torn message shipped again). */

static int corrupt_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	record_name(m, sc);
	block_signals();
	bool again = m->rank >= 3;
	unsigned id = again ? 2 : m->rank;
	struct app a;
	app_init(&a, m, sc, id);
	char members[512], contact[512], dir[128];
	first_members(m, 3, members, sizeof members);
	if (again)
		snprintf(dir, sizeof dir, "%s/%s", sc->base, m->rank == 3 ? "corrupt" : "torn");
	else
		dir_of(sc, id, dir, sizeof dir);
	struct member_spec s = { .id = id, .members = members, .listen_fd = m->listen_fd,
				 .dir = dir, .mode = "durable", .segment_mb = 1 };
	grp_t *g = NULL;
	int rc;
	if (again) {
		if (await_signal(SIGUSR1, test_ms(WAIT_MS)) != 0)
			return 0;
		a.log_end = atomic_load(&sc->sh->log_end[m->rank]);
		unsigned ranks[] = { 0, 1 };
		entries_of(m, ranks, 2, contact, sizeof contact);
		s.members = NULL;
		s.contact = contact;
		/* The damaged log: one attempt, refused before anything. */
		if (m->rank == 3) {
			char self[64];
			entry_of(m, m->rank, self, sizeof self);
			s.listen = self;
			rc = join(m, &s, &a, &g);
		} else {
			rc = rejoin(m, &s, &a, &g);
		}
		local_member_report(m, "joined %d replayed %" PRIu64 " shipped %" PRIu64
				    " delivered %" PRIu64 " intact %d", rc, a.replayed_local,
				    a.replayed_shipped, delivery_count_get(&a.delivered), a.log_intact);
		if (rc) {
			grp_free(g);
			return 0;
		}
	} else {
		rc = join(m, &s, &a, &g);
		if (rc) {
			fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
			return 2;
		}
		local_member_report(m, "in");
	}
	if (m->rank == 2) {
		uint8_t msg[PREP_BYTES];
		for (unsigned i = 0; i < PREP_MESSAGES && !rc; i++)
			rc = grp_send_durable(g, msg, fill_msg(msg, PREP_BYTES, KIND_DATA, id, i));
		if (rc)
			fprintf(stderr, "id 2: grp_send_durable: %s\n", grp_strerror(rc));
		int left = grp_leave(g);
		grp_free(g);
		local_member_report(m, "left");
		return rc ? 3 : left ? 4 : 0;
	}
	if (await_signal(SIGUSR2, test_ms(WAIT_MS)) != 0)
		rc = 7;
	grp_leave(g);
	grp_free(g);
	return rc;
}

static void test_corrupt_log_refused(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "durable", .segment_mb = 1 };
	make_base(&sc);
	sc.sh = share();
	struct local_group *lg;
	start_group(5, corrupt_member, &sc, &lg);
	for (unsigned r = 0; r < 3; r++)
		await_line(lg, r, "in");
	/* Id 2 sent its messages and left; its process closed its log. */
	await_line(lg, 2, "left");
	char line[256];
	assert_int_equal(local_group_read_line(lg, 2, line, sizeof line, test_ms(WAIT_MS)), -1);
	await_prefix(lg, 0, "gone 2 ", line, sizeof line);
	await_prefix(lg, 1, "gone 2 ", line, sizeof line);

	char dir2[128], corrupt[128], torn[128], scratch[128], cseg[512], tseg[512];
	dir_of(&sc, 2, dir2, sizeof dir2);
	snprintf(corrupt, sizeof corrupt, "%s/corrupt", sc.base);
	snprintf(torn, sizeof torn, "%s/torn", sc.base);
	snprintf(scratch, sizeof scratch, "%s/scratch", sc.base);
	copy_dir(dir2, corrupt);
	copy_dir(dir2, torn);
	segment_of(corrupt, cseg, sizeof cseg);
	segment_of(torn, tseg, sizeof tseg);

	/* Damage: a byte flipped inside the payload of the record around
	 * offset 4096, with valid records after it. */
	size_t len;
	uint8_t *file = read_file(cseg, &len);
	size_t flip = 0;
	for (unsigned k = 0; k < PREP_MESSAGES && !flip; k++) {
		size_t at = payload_offset(file, len, 2, k);
		if (at <= 4096 && 4096 < at + PREP_BYTES)
			flip = 4096;
		else if (at > 4096)
			flip = at + PREP_BYTES / 2; /* the first payload after it */
	}
	assert_true(flip > 64 && flip < payload_offset(file, len, 2, PREP_MESSAGES - 1));
	uint8_t flipped = file[flip] ^ 0x5a;
	write_at(cseg, flip, &flipped, 1);
	free(file);

	/* A torn tail: the last 16 bytes of the last record zeroed (the
	 * records end at the last non-zero byte: zeros follow them). */
	file = read_file(tseg, &len);
	size_t end = len;
	while (end > 0 && file[end - 1] == 0)
		end--;
	size_t last = payload_offset(file, len, 2, PREP_MESSAGES - 1);
	if (end != last + PREP_BYTES)
		fail_msg("the last record does not end with message %u's payload (ends at %zu, "
			 "the payload at %zu)", PREP_MESSAGES - 1, end, last + PREP_BYTES);
	static const uint8_t zeros[16];
	write_at(tseg, end - 16, zeros, sizeof zeros);
	free(file);
	uint64_t torn_messages, torn_end;
	log_end_of(&sc, torn, scratch, &torn_messages, &torn_end);
	assert_int_equal(torn_messages, PREP_MESSAGES - 1);
	atomic_store(&sc.sh->log_end[4], torn_end);
	/* Message 98 ends the records that are left. */
	file = read_file(tseg, &len);
	set_check(&sc, torn, payload_offset(file, len, 2, PREP_MESSAGES - 2) + PREP_BYTES);
	free(file);

	uint64_t corrupt_before = dir_digest(corrupt);
	local_group_kill(lg, 3, SIGUSR1);
	await_prefix(lg, 3, "joined ", line, sizeof line);
	fprintf(stderr, "damaged log: %s\n", line);
	int rc = 0;
	unsigned long long replayed = 0, shipped = 0, delivered = 0;
	int intact = -1;
	assert_int_equal(sscanf(line, "joined %d replayed %llu shipped %llu delivered %llu intact %d",
				&rc, &replayed, &shipped, &delivered, &intact), 5);
	if (rc != GRP_ECORRUPT)
		fail_msg("on a damaged log grp_join returned %d (%s), not GRP_ECORRUPT", rc,
			 grp_strerror(rc));
	assert_int_equal(delivered, 0);
	assert_true(dir_digest(corrupt) == corrupt_before);

	local_group_kill(lg, 4, SIGUSR1);
	await_prefix(lg, 4, "joined ", line, sizeof line);
	fprintf(stderr, "torn tail: %s\n", line);
	assert_int_equal(sscanf(line, "joined %d replayed %llu shipped %llu delivered %llu intact %d",
				&rc, &replayed, &shipped, &delivered, &intact), 5);
	if (rc != 0)
		fail_msg("on a torn tail grp_join returned %d (%s)", rc, grp_strerror(rc));
	if (intact != 1)
		fail_msg("the log with a torn tail was cut back further than the torn record before "
			 "its replay (intact %d): what it replayed was shipped again", intact);
	/* Its log's 99, then the torn one from the member serving it. */
	assert_int_equal(replayed, PREP_MESSAGES - 1);
	assert_int_equal(shipped, 1);
	unsigned ranks[] = { 0, 1, 2, 3, 4 };
	for (unsigned i = 0; i < 5; i++)
		local_group_kill(lg, ranks[i], SIGUSR2);
	finish_expect(lg, ranks, 5);
	/* The torn log was repaired: the same messages as member 0's. */
	struct log_copy l0, lt;
	char dir0[128];
	dir_of(&sc, 0, dir0, sizeof dir0);
	read_log(&sc, dir0, &l0);
	read_log(&sc, torn, &lt);
	assert_int_equal(l0.messages, PREP_MESSAGES);
	assert_int_equal(lt.messages, PREP_MESSAGES);
	expect_agree(&lt, "the repaired log", &l0, "log 0");
	log_copy_free(&l0);
	log_copy_free(&lt);
	unshare_memory(sc.sh);
	remove_base(&sc);
}

/* ======== disk_full_member_leaves
 * rank 2's log is on a tmpfs of 3 MiB that it mounts in a mount namespace
 * of its own; all send 2 KiB messages until its log fails. */

static int mount_small_disk(const char *dir, char *why, size_t cap)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return snprintf(why, cap, "mkdir %s: %s", dir, strerror(errno)), -1;
	if (unshare(CLONE_NEWNS) != 0)
		return snprintf(why, cap, "unshare(CLONE_NEWNS): %s", strerror(errno)), -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return snprintf(why, cap, "mount --make-rprivate /: %s", strerror(errno)), -1;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=3m") != 0)
		return snprintf(why, cap, "mount tmpfs size=3m: %s", strerror(errno)), -1;
	return 0;
}

static int disk_full_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	record_name(m, sc);
	block_signals();
	struct app a;
	app_init(&a, m, sc, m->rank);
	a.more_target = 2ull * sc->messages;
	char members[512], dir[128];
	first_members(m, 3, members, sizeof members);
	dir_of(sc, m->rank, dir, sizeof dir);
	if (m->rank == 2) {
		char why[256];
		if (mount_small_disk(dir, why, sizeof why) != 0) {
			local_member_report(m, "skip %s", why);
			return 0;
		}
		local_member_report(m, "mounted");
	}
	struct member_spec s = { .id = m->rank, .members = members, .listen_fd = m->listen_fd,
				 .dir = dir, .mode = sc->mode, .segment_mb = 1 };
	grp_t *g = NULL;
	int rc = join(m, &s, &a, &g);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 2;
	}
	local_member_report(m, "in");
	uint8_t msg[4096];
	uint64_t deadline_ms = test_ms(WAIT_MS);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t k = 0;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t ms = (uint64_t)(now.tv_sec - t0.tv_sec) * 1000u +
			      (uint64_t)(now.tv_nsec / 1000000) - (uint64_t)(t0.tv_nsec / 1000000);
		if (ms > deadline_ms) {
			fprintf(stderr, "member %u: %" PRIu64 " messages sent in %" PRIu64 " ms and "
				"the small disk never filled\n", m->rank, k, ms);
			rc = 40;
			break;
		}
		if (m->rank != 2 && atomic_load(&a.lost_2))
			break;
		rc = grp_send(g, msg, fill_msg(msg, sc->msg_bytes, KIND_DATA, m->rank, k));
		if (rc)
			break;
		k++;
	}
	if (m->rank == 2) {
		local_member_report(m, "send %d after %" PRIu64 " messages", rc, k);
		if (rc != GRP_ENOSPC && rc != GRP_EIO) {
			fprintf(stderr, "member 2: grp_send: %s, not GRP_ENOSPC or GRP_EIO\n",
				grp_strerror(rc));
			rc = rc == 40 ? 40 : 41;
		} else if (delivery_count_await(&a.stopped, 1, test_ms(WAIT_MS)) != 0) {
			fprintf(stderr, "member 2: no last view callback\n");
			rc = 42;
		} else {
			int reason = atomic_load(&a.stop_reason);
			local_member_report(m, "departed reason %d", reason);
			rc = reason == GRP_DEPARTED_LOG_FAILED ? 0 : 43;
			int again = grp_send(g, msg, 16);
			if (!rc && again != GRP_ENOSPC && again != GRP_EIO) {
				fprintf(stderr, "member 2: grp_send after the failure: %s\n",
					grp_strerror(again));
				rc = 44;
			}
		}
		grp_free(g);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "member %u: grp_send: %s\n", m->rank, grp_strerror(rc));
		grp_free(g);
		return rc == 40 ? 40 : 3;
	}
	/* Without member 2: 100 more each, and the state after all 200. */
	local_member_report(m, "without 2 after %" PRIu64 " messages", k);
	for (unsigned i = 0; i < sc->messages && !rc; i++)
		rc = grp_send(g, msg, fill_msg(msg, sc->msg_bytes, KIND_MORE, m->rank, i));
	if (rc) {
		fprintf(stderr, "member %u: grp_send: %s\n", m->rank, grp_strerror(rc));
		rc = 3;
	} else if (delivery_count_await(&a.end.finished, 1, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: %" PRIu64 " of the last messages\n", m->rank,
			a.more_seen);
		rc = 45;
	}
	if (!rc)
		report_state(&a, a.end.end_count, a.end.end_hash);
	if (!rc && await_signal(SIGUSR2, test_ms(WAIT_MS)) != 0)
		rc = 7;
	grp_leave(g);
	grp_free(g);
	return rc;
}

static void test_disk_full_member_leaves(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "durable", .k = 3, .messages = 100, .msg_bytes = 2048,
			       .segment_mb = 1 };
	make_base(&sc);
	sc.sh = share();
	struct local_group *lg;
	start_group(3, disk_full_member, &sc, &lg);
	char line[256];
	assert_int_equal(local_group_read_line(lg, 2, line, sizeof line, test_ms(WAIT_MS)), 0);
	if (strncmp(line, "skip ", 5) == 0) {
		local_group_finish(lg, 0, NULL);
		unshare_memory(sc.sh);
		remove_base(&sc);
		skip_case(line + 5);
	}
	assert_string_equal(line, "mounted");
	await_prefix(lg, 2, "send ", line, sizeof line);
	fprintf(stderr, "member 2: %s\n", line);
	await_prefix(lg, 2, "departed ", line, sizeof line);
	fprintf(stderr, "member 2: %s\n", line);
	char want[32];
	snprintf(want, sizeof want, "departed reason %d", GRP_DEPARTED_LOG_FAILED);
	assert_string_equal(line, want);
	for (unsigned r = 0; r < 2; r++) {
		await_prefix(lg, r, "gone 2 ", line, sizeof line);
		fprintf(stderr, "member %u: %s\n", r, line);
	}
	unsigned ranks[] = { 0, 1 };
	expect_same_state(lg, ranks, 2);
	for (unsigned r = 0; r < 2; r++)
		local_group_kill(lg, r, SIGUSR2);
	unsigned all[] = { 0, 1, 2 };
	finish_expect(lg, all, 3);
	unshare_memory(sc.sh);
	remove_base(&sc);
}

/* ======== formed_with_log_restarts
 * A member whose log holds a group's history, given group.members (its
 * own address, as in the group of one that wrote the log): a total
 * restart. It replays its log, forms the group at the last view's vid + 1,
 * and logs on after it. */

static int form_again_member(const struct local_member *m, void *arg)
{
	const struct scenario *sc = arg;
	struct app a;
	app_init(&a, m, sc, 0);
	char members[128];
	entry_of(m, 0, members, sizeof members);
	struct member_spec s = { .id = 0, .members = members, .listen_fd = m->listen_fd,
				 .dir = sc->prepared, .mode = "durable", .segment_mb = 1 };
	grp_t *g = NULL;
	int rc = join(m, &s, &a, &g);
	local_member_report(m, "joined %d replayed %" PRIu64 " delivered %" PRIu64 " vid %u", rc,
			    a.replayed_local + a.replayed_shipped, delivery_count_get(&a.delivered),
			    a.first_vid);
	if (rc)
		return 0;
	uint8_t msg[PREP_BYTES];
	rc = grp_send_durable(g, msg, fill_msg(msg, PREP_BYTES, KIND_DATA, 0, PREP_MESSAGES));
	if (rc)
		fprintf(stderr, "after the restart: grp_send_durable: %s\n", grp_strerror(rc));
	else if (delivery_count_await(&a.delivered, PREP_MESSAGES + 1, test_ms(WAIT_MS)) != 0)
		rc = 5;
	if (!rc)
		rc = check_persisted(&a);
	grp_leave(g);
	grp_free(g);
	return rc;
}

static void test_formed_with_log_restarts(void **state)
{
	(void)state;
	struct scenario sc = { .mode = "durable", .segment_mb = 1 };
	make_base(&sc);
	sc.sh = share();
	char prepared[128];
	snprintf(prepared, sizeof prepared, "%s/prepared", sc.base);
	prepare_log(&sc, prepared);
	struct scenario again = sc;
	again.prepared = prepared;
	struct local_group *lg;
	start_group(1, form_again_member, &again, &lg);
	char line[256];
	await_prefix(lg, 0, "joined ", line, sizeof line);
	fprintf(stderr, "forming on a log: %s\n", line);
	int rc = 0;
	unsigned long long replayed = 0, delivered = 0;
	unsigned vid = 0;
	assert_int_equal(sscanf(line, "joined %d replayed %llu delivered %llu vid %u", &rc,
				&replayed, &delivered, &vid), 4);
	if (rc != 0)
		fail_msg("forming with a log (a total restart): grp_join returned %d (%s)", rc,
			 grp_strerror(rc));
	assert_int_equal(replayed, PREP_MESSAGES);
	assert_int_equal(delivered, PREP_MESSAGES);
	assert_int_equal(vid, 1); /* the log's last view was vid 0 */
	unsigned ranks[] = { 0 };
	finish_expect(lg, ranks, 1);
	/* The log goes on after the restart: 101 messages, the last in vid 1. */
	struct log_copy log;
	read_log(&sc, prepared, &log);
	assert_int_equal(log.messages, PREP_MESSAGES + 1);
	uint64_t last_message = 0;
	for (size_t i = 0; i < log.n; i++)
		if (log.r[i].kind == PLOG_MESSAGE)
			last_message = log.r[i].version;
	assert_int_equal((last_message >> 40) - 1, 1); /* versions are (vid + 1) << 40 | n */
	log_copy_free(&log);
	unshare_memory(sc.sh);
	remove_base(&sc);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test(test_durable_3_members),
		cmocka_unit_test(test_restart_one_replays_and_catches_up),
		cmocka_unit_test(test_evicted_member_rejoins_on_its_log),
		cmocka_unit_test(test_crash_loop),
		cmocka_unit_test(test_corrupt_log_refused),
		cmocka_unit_test(test_disk_full_member_leaves),
		cmocka_unit_test(test_formed_with_log_restarts),
	};
	return RUN_CASES(argc, argv, cases);
}
