/* viewchange: how long a failure takes to become a new view, and whether a
 * saturated group takes anyone for failed when nobody is.
 *
 * Fault runs. N members on 127.0.0.1 join; with load `load` every member
 * streams 10 KB messages as fast as the window allows (bw-style), with
 * `idle` nobody sends. After a warm-up (plus a random part of a heartbeat
 * period, so that faults do not fall in step with heartbeats) the parent
 * notes t0 = CLOCK_MONOTONIC and sends the victim (the last rank, or the
 * first, the leader, with -k first) SIGKILL (`kill`: its links break) or
 * SIGSTOP (`stop`: it hangs, found by heartbeat silence). CLOCK_MONOTONIC
 * is one clock for every process of the host, so members report absolute
 * times. At each survivor:
 *   t_suspect  when it first suspected the victim (for any reason: its own
 *              detection, or another's suspicion copied). Read without any
 *              hook in the library: the member runs at GROUP_LOG=info with
 *              its stderr on a pipe that a thread of its own reads, and
 *              takes the suspicion line's timestamp ("view 0: member X
 *              failed (...)", logged by the membership protocol when it
 *              suspects); other lines are passed on to the real stderr
 *              (info lines only if GROUP_LOG asked for them).
 *   t_view     when its view callback reported view 1.
 * Per run: detection = max over survivors of t_suspect - t0; protocol =
 * max t_view - min t_suspect (first suspicion anywhere to the last
 * install); total = max t_view - t0. Under load also gap = the longest time
 * a survivor went without a delivery, over the gaps that end between t0
 * and its first delivery in view 1 (the one in progress at t0 counts
 * whole: t0 reaches the members through memory shared before the fork),
 * max over survivors; and resume = t0 to the last survivor's first
 * delivery in view 1 (CSV only). Streaming goes on 150 ms past each
 * survivor's new view. A hung member is suspected once its heartbeat has
 * not changed for the timeout, counted from when its last heartbeat was
 * seen, up to a heartbeat period (timeout/10) before t0: detection of a
 * stop can be a little under the timeout. The CSV also says how each
 * survivor came to suspect: itself (direct: broken link, heartbeat) or
 * from another's suspicion (indirect).
 * Every figure is in ms; the table gives the median and the maximum of the
 * runs of each configuration.
 *
 *   viewchange [-n N|LO-HI] [-f kill|stop|both] [-l idle|load|both] [-r RUNS]
 *              [-k last|first] [-t SUSPECT_TIMEOUT_MS] [-s BYTES] [-o DIR]
 * Defaults: -n 3-6 -f both -l both -r 20 -k last, the library's
 * membership.suspect_timeout_ms (1000), 10240-byte messages, DIR
 * perf-results. The default sweep (16 configurations x 20 runs, a fresh
 * group each run: joining takes 0.5-1.7 s of it) took 11.5 minutes on 2
 * cores at a load average of 12 from other work.
 * Output: a table; DIR/viewchange.csv (one row per run, with the 1-minute
 * load average when it ran), DIR/viewchange_summary.csv, DIR/viewchange.png
 * (median detection, protocol and total against members, kill and stop).
 *
 * Soak run (false suspicions):
 *   viewchange --soak [SECONDS] [-n MEMBERS] [-t SUSPECT_TIMEOUT_MS] [-s BYTES] [-o DIR]
 * N members (default 5) all send 10 KB messages as fast as they can for
 * SECONDS (600 with a bare --soak) with the default suspect timeout; nobody
 * fails, so every suspicion is a false one, and so is every view change.
 * A progress line every 10 s on stderr (per-member MB/s delivered over the
 * last 10 s, false suspicions so far); at the end a table per member (MB/s
 * delivered over the whole run, views installed, suspicions), DIR/soak.csv
 * (per member per 10 s), DIR/soak_wide.csv (the same, a column per
 * member) and DIR/soak.png. Exit status 1 if anyone was
 * suspected. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <group/group.h>

#include "clock.h"
#include "localgroup.h"
#include "report.h"

#define MAX_MEMBERS 16u
#define JOIN_MS 60000u
#define LINGER_MS 150u       /* streaming goes on this long past the new view */
#define TICK_S 10u           /* soak progress period */

enum fault { KILL, STOP };
enum load { IDLE, LOAD };
static const char *const fault_names[] = { "kill", "stop" };
static const char *const load_names[] = { "idle", "load" };

struct options {
	unsigned n_lo, n_hi;
	unsigned faults, loads; /* bit masks of enum fault, enum load */
	unsigned runs;
	bool victim_first;
	unsigned timeout_ms; /* 0: the library's default */
	size_t size;
	long soak_s;         /* < 0: no soak */
	const char *dir;
};

/* What the members of one group are told. */
struct plan {
	const struct options *o;
	enum fault fault;
	enum load load;
	unsigned wait_ms; /* how long a survivor waits for its new view */
	unsigned soak_s;
};

/* t0, which the parent writes in memory its members share (mapped before
 * they are forked), just before it sends the signal: 0 until then. */
struct shared {
	atomic_uint_fast64_t t0;
};
static struct shared *shared;

/* ---- the log watcher: suspicion times without a hook in the library ---- */

enum how { HOW_NONE, HOW_LINK, HOW_HEARTBEAT, HOW_GOSSIP, HOW_PROPOSAL, HOW_OTHER };
static const char *const how_names[] = { "none", "link", "heartbeat", "gossip", "proposal",
					 "other" };

struct watch {
	int real_stderr;
	int rd;
	bool forward_info;  /* GROUP_LOG asked for info or more itself */
	atomic_bool quiet;  /* results are out: the teardown's noise is dropped */
	atomic_uint_fast64_t suspect_ns; /* our first suspicion in view 0 */
	atomic_uint how;
	atomic_uint suspicions; /* suspicion lines, every view */
	atomic_uint_fast64_t first_any_ns; /* our first suspicion in any view */
	atomic_uint first_any_vid, first_any_id;
	pthread_mutex_t lock;
	pthread_cond_t synced;
	unsigned sync_seen; /* under lock: the last marker read back */
};

static struct watch watch = { .lock = PTHREAD_MUTEX_INITIALIZER,
			       .synced = PTHREAD_COND_INITIALIZER };

#define SYNC_MARK "viewchange-sync "

/* A log line's CLOCK_REALTIME stamp as CLOCK_MONOTONIC: the offset between
 * the two clocks taken now, microseconds after the line was written. */
static uint64_t monotonic_of(long sec, long usec)
{
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	uint64_t mono = clock_now_ns();
	int64_t rt_ns = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
	int64_t line_ns = (int64_t)sec * 1000000000 + (int64_t)usec * 1000;
	int64_t at = (int64_t)mono - (rt_ns - line_ns);
	return at > (int64_t)mono ? mono : (uint64_t)at;
}

static enum how how_of(const char *why)
{
	if (strncmp(why, "its link broke", 14) == 0)
		return HOW_LINK;
	if (strncmp(why, "no heartbeat", 12) == 0)
		return HOW_HEARTBEAT;
	if (strncmp(why, "suspected by another", 20) == 0)
		return HOW_GOSSIP;
	if (strncmp(why, "proposed for removal", 20) == 0)
		return HOW_PROPOSAL;
	return HOW_OTHER;
}

/* "SEC.USEC [PID] LEVEL MODULE: view V: member X failed|leaves (WHY)" */
static void watch_line(const char *line)
{
	long sec, usec;
	int pid, off = -1;
	char level[8], module[24];
	bool info = false;
	unsigned mark;
	if (sscanf(line, SYNC_MARK "%u", &mark) == 1) {
		pthread_mutex_lock(&watch.lock);
		watch.sync_seen = mark;
		pthread_cond_broadcast(&watch.synced);
		pthread_mutex_unlock(&watch.lock);
		return;
	}
	if (sscanf(line, "%ld.%ld [%d] %7s %23[^:]: %n", &sec, &usec, &pid, level, module, &off) ==
		    5 && off > 0) {
		info = strcmp(level, "info") == 0;
		unsigned vid, id;
		char word[16];
		int why = -1;
		const char *msg = line + off;
		if (strcmp(module, "membership") == 0 &&
		    sscanf(msg, "view %u: member %u %15s (%n", &vid, &id, word, &why) == 3 &&
		    why > 0 && (strcmp(word, "failed") == 0 || strcmp(word, "leaves") == 0)) {
			uint64_t at = monotonic_of(sec, usec);
			atomic_fetch_add(&watch.suspicions, 1);
			if (atomic_load(&watch.first_any_ns) == 0) {
				atomic_store(&watch.first_any_vid, vid);
				atomic_store(&watch.first_any_id, id);
				atomic_store(&watch.first_any_ns, at);
			}
			if (vid == 0 && atomic_load(&watch.suspect_ns) == 0) {
				atomic_store(&watch.how, how_of(msg + why));
				atomic_store(&watch.suspect_ns, at);
			}
		}
	}
	if (atomic_load(&watch.quiet) || (info && !watch.forward_info))
		return;
	char out[1100];
	int n = snprintf(out, sizeof out, "%s\n", line);
	ssize_t ignored = write(watch.real_stderr, out, (size_t)n < sizeof out ? (size_t)n
								  : sizeof out - 1);
	(void)ignored;
}

static void *watch_thread(void *arg)
{
	(void)arg;
	char buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t got = read(watch.rd, buf + have, sizeof buf - 1 - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return NULL;
		have += (size_t)got;
		buf[have] = '\0';
		char *start = buf, *nl;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			watch_line(start);
			start = nl + 1;
		}
		have -= (size_t)(start - buf);
		memmove(buf, start, have);
		if (have == sizeof buf - 1) { /* a line too long to parse: pass it on */
			watch_line(buf);
			have = 0;
		}
	}
}

/* Waits until the watcher has read every line written to stderr before
 * now: a suspicion logged just before the view callback may still be in
 * the pipe when the results are written. */
static void watch_sync(void)
{
	static unsigned marks;
	unsigned mark = ++marks;
	char line[64];
	int n = snprintf(line, sizeof line, SYNC_MARK "%u\n", mark);
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	(void)ignored;
	pthread_mutex_lock(&watch.lock);
	while (watch.sync_seen != mark)
		pthread_cond_wait(&watch.synced, &watch.lock);
	pthread_mutex_unlock(&watch.lock);
}

/* Puts this member's stderr on a pipe the watcher reads, at GROUP_LOG=info
 * (or what GROUP_LOG says, if more). Before grp_join. */
static int watch_start(void)
{
	const char *env = getenv("GROUP_LOG");
	watch.forward_info = env && (strcasecmp(env, "info") == 0 ||
				     strcasecmp(env, "debug") == 0 || strcasecmp(env, "trace") == 0);
	if (!watch.forward_info)
		setenv("GROUP_LOG", "info", 1);
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	watch.real_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (watch.real_stderr < 0 || dup2(p[1], STDERR_FILENO) < 0)
		return -1;
	close(p[1]);
	watch.rd = p[0];
	setvbuf(stderr, NULL, _IOLBF, 0);
	pthread_t t;
	if (pthread_create(&t, NULL, watch_thread, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

/* ---- a member ---- */

struct member {
	const struct plan *p;
	grp_t *g;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	/* under lock */
	uint64_t view_ns;   /* our first view after vid 0 */
	uint32_t view_vid;
	unsigned view_members;
	bool removed;       /* a view callback named us departed */
	unsigned views;     /* views reported after vid 0 */
	uint64_t last_ns, gap_ns, gap_from, gap_to, first_new_ns;
	uint64_t delivered, bytes;
	atomic_bool stop;
};

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	struct member *s = user;
	uint64_t now = clock_now_ns();
	uint64_t t0 = atomic_load(&shared->t0);
	pthread_mutex_lock(&s->lock);
	/* The gaps that end from t0 up to our first delivery in the new view. */
	if (t0 && now >= t0 && !s->first_new_ns && s->last_ns && now - s->last_ns > s->gap_ns) {
		s->gap_ns = now - s->last_ns;
		s->gap_from = s->last_ns;
		s->gap_to = now;
	}
	s->last_ns = now;
	if (msg->vid >= 1 && !s->first_new_ns)
		s->first_new_ns = now;
	s->delivered++;
	s->bytes += msg->len;
	pthread_mutex_unlock(&s->lock);
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct member *s = user;
	uint64_t now = clock_now_ns();
	pthread_mutex_lock(&s->lock);
	if (v->vid >= 1) {
		s->views++;
		if (!s->view_ns) {
			s->view_ns = now;
			s->view_vid = v->vid;
			s->view_members = v->n_members;
		}
	}
	for (unsigned i = 0; i < v->n_departed; i++)
		s->removed |= v->departed_reason[i] == GRP_DEPARTED_MINORITY ||
			      v->departed_reason[i] == GRP_DEPARTED_EVICTED;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

static grp_t *join(const struct local_member *m, struct member *s)
{
	const struct options *o = s->p->o;
	grp_config *cfg = local_member_config(m);
	char size[32], timeout[32];
	snprintf(size, sizeof size, "%zu", o->size);
	snprintf(timeout, sizeof timeout, "%u", o->timeout_ms);
	int rc = cfg ? 0 : GRP_ENOMEM;
	if (!rc)
		rc = grp_config_set(cfg, "multicast.max_smc_payload", size);
	/* A send blocked in a wedged view comes back now and then to see
	 * whether the run is over. */
	if (!rc)
		rc = grp_config_set(cfg, "multicast.send_timeout_ms", "200");
	if (!rc && o->timeout_ms)
		rc = grp_config_set(cfg, "membership.suspect_timeout_ms", timeout);
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	grp_t *g = NULL;
	if (!rc)
		rc = grp_join(cfg, &cb, s, &g);
	if (rc)
		fprintf(stderr, "member %u: cannot join: %s\n", m->rank,
			rc == GRP_ECONFIG && cfg ? grp_config_error(cfg) : grp_strerror(rc));
	grp_config_free(cfg);
	return rc ? NULL : g;
}

static void *stream(void *arg)
{
	struct member *s = arg;
	size_t size = s->p->o->size;
	void *payload = calloc(1, size);
	while (payload && !atomic_load(&s->stop)) {
		int rc = grp_send(s->g, payload, size);
		if (rc == GRP_EPEER) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		} else if (rc && rc != GRP_ETIMEDOUT && rc != GRP_EAGAIN) {
			break; /* stopped (removed, minority) or closed */
		}
	}
	free(payload);
	return NULL;
}

/* Results are out: the parent kills us (nothing torn down here would be
 * measured, and a leave would start view changes of its own). */
static int wait_for_the_end(void)
{
	atomic_store(&watch.quiet, true);
	for (;;)
		pause();
	return 0;
}

static int member_start(const struct local_member *m, struct member *s, pthread_t *sender)
{
	pthread_condattr_t ca;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (watch_start() != 0) {
		fprintf(stderr, "member %u: cannot watch its log\n", m->rank);
		return -1;
	}
	s->g = join(m, s);
	if (!s->g)
		return -1;
	local_member_report(m, "ready");
	if (s->p->load == LOAD && pthread_create(sender, NULL, stream, s) != 0)
		return -1;
	return 0;
}

static int fault_member(const struct local_member *m, void *arg)
{
	struct member s = { .p = arg };
	pthread_t sender;
	if (member_start(m, &s, &sender) != 0)
		return 1;
	bool streaming = s.p->load == LOAD;
	struct timespec deadline = clock_monotonic_in_ms(s.p->wait_ms);
	pthread_mutex_lock(&s.lock);
	while (!s.view_ns && !s.removed &&
	       pthread_cond_timedwait(&s.changed, &s.lock, &deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s.lock);
	if (streaming) {
		perf_sleep_ms(LINGER_MS);
		atomic_store(&s.stop, true);
		pthread_join(sender, NULL);
	}
	watch_sync();
	pthread_mutex_lock(&s.lock);
	/* A gap that has not closed by now runs to now. */
	uint64_t now = clock_now_ns();
	if (streaming && !s.first_new_ns && s.last_ns && now - s.last_ns > s.gap_ns) {
		s.gap_ns = now - s.last_ns;
		s.gap_from = s.last_ns;
		s.gap_to = 0;
	}
	local_member_report(m, "result,%llu,%s,%llu,%u,%u,%d,%llu,%llu,%llu,%llu,%llu",
			    (unsigned long long)atomic_load(&watch.suspect_ns),
			    how_names[atomic_load(&watch.how)], (unsigned long long)s.view_ns,
			    s.view_vid, s.view_members, s.removed,
			    (unsigned long long)s.gap_ns, (unsigned long long)s.gap_from,
			    (unsigned long long)s.gap_to, (unsigned long long)s.first_new_ns,
			    (unsigned long long)s.delivered);
	pthread_mutex_unlock(&s.lock);
	local_member_report(m, "done");
	return wait_for_the_end();
}

static int soak_member(const struct local_member *m, void *arg)
{
	struct member s = { .p = arg };
	pthread_t sender;
	if (member_start(m, &s, &sender) != 0)
		return 1;
	uint64_t start = clock_now_ns();
	unsigned ticks = (s.p->soak_s + TICK_S - 1) / TICK_S;
	for (unsigned k = 1; k <= ticks; k++) {
		uint64_t at = start + (uint64_t)(k < ticks ? k * TICK_S : s.p->soak_s) * 1000000000u;
		perf_sleep_until(at);
		pthread_mutex_lock(&s.lock);
		local_member_report(m, "tick,%.3f,%llu,%llu,%u,%u,%d",
				    (double)(clock_now_ns() - start) / 1e9,
				    (unsigned long long)s.bytes, (unsigned long long)s.delivered,
				    s.views, atomic_load(&watch.suspicions), s.removed);
		pthread_mutex_unlock(&s.lock);
	}
	atomic_store(&s.stop, true);
	pthread_join(sender, NULL);
	watch_sync();
	uint64_t first = atomic_load(&watch.first_any_ns);
	local_member_report(m, "first,%.3f,%u,%u",
			    first ? (double)((int64_t)first - (int64_t)start) / 1e9 : -1.0,
			    atomic_load(&watch.first_any_vid), atomic_load(&watch.first_any_id));
	local_member_report(m, "done");
	return wait_for_the_end();
}

/* ---- the parent: fault runs ---- */

struct run_result {
	bool ok;
	double detect, first_detect, protocol, total, gap, resume; /* ms; NAN: none */
	unsigned direct, indirect;
	char note[96];
};

static double ms_between(uint64_t from, uint64_t to)
{
	return ((double)to - (double)from) / 1e6;
}

static void kill_all(struct local_group *lg, unsigned n)
{
	for (unsigned r = 0; r < n; r++)
		local_group_kill(lg, r, SIGKILL);
	local_group_finish(lg, 10000, NULL);
}

static void run_once(const struct plan *p, unsigned n, struct run_result *res)
{
	memset(res, 0, sizeof *res);
	res->detect = res->first_detect = res->protocol = res->total = NAN;
	res->gap = res->resume = NAN;
	unsigned victim = p->o->victim_first ? 0 : n - 1;
	atomic_store(&shared->t0, 0);
	struct local_group *lg = local_group_start(n, fault_member, (void *)p);
	if (!lg) {
		snprintf(res->note, sizeof res->note, "members not started");
		return;
	}
	if (local_group_await_line(lg, "ready", JOIN_MS) != 0) {
		snprintf(res->note, sizeof res->note, "join failed");
		kill_all(lg, n);
		return;
	}
	unsigned timeout = p->o->timeout_ms ? p->o->timeout_ms : 1000;
	unsigned heartbeat = timeout / 10 ? timeout / 10 : 1;
	unsigned warmup = p->load == LOAD ? 300 : 200;
	perf_sleep_ms(warmup + (unsigned)(drand48() * heartbeat));
	uint64_t t0 = clock_now_ns();
	atomic_store(&shared->t0, t0);
	local_group_kill(lg, victim, p->fault == KILL ? SIGKILL : SIGSTOP);

	uint64_t min_suspect = UINT64_MAX, max_suspect = 0, max_view = 0, max_first_new = 0;
	double gap = 0;
	bool ok = true, gaps_ok = true;
	for (unsigned r = 0; r < n; r++) {
		if (r == victim)
			continue;
		char line[512];
		unsigned long long suspect, view, gap_ns, gap_from, gap_to, first_new, delivered;
		unsigned vid, members;
		int removed;
		char how[16];
		bool got = false;
		while (local_group_read_line(lg, r, line, sizeof line, p->wait_ms + 10000) == 0) {
			if (strcmp(line, "done") == 0)
				break;
			got |= sscanf(line, "result,%llu,%15[^,],%llu,%u,%u,%d,%llu,%llu,%llu,%llu,%llu",
				      &suspect, how, &view, &vid, &members, &removed, &gap_ns,
				      &gap_from, &gap_to, &first_new, &delivered) == 11;
		}
		if (!got) {
			ok = false;
			snprintf(res->note, sizeof res->note, "member %u reported nothing", r);
			continue;
		}
		if (!view || vid != 1 || members != n - 1 || removed || !suspect) {
			ok = false;
			snprintf(res->note, sizeof res->note,
				 "member %u: view %u of %u members%s%s", r, vid, members,
				 removed ? ", removed" : "", suspect ? "" : ", no suspicion seen");
		}
		if (suspect) {
			min_suspect = suspect < min_suspect ? suspect : min_suspect;
			max_suspect = suspect > max_suspect ? suspect : max_suspect;
			bool direct = strcmp(how, "link") == 0 || strcmp(how, "heartbeat") == 0;
			res->direct += direct;
			res->indirect += !direct;
		}
		max_view = view > max_view ? view : max_view;
		if (p->load == LOAD) {
			if (!first_new)
				gaps_ok = false;
			double g = (double)gap_ns / 1e6;
			gap = g > gap ? g : gap;
			max_first_new = first_new > max_first_new ? first_new : max_first_new;
		}
	}
	kill_all(lg, n);
	res->ok = ok;
	if (min_suspect != UINT64_MAX) {
		res->detect = ms_between(t0, max_suspect);
		res->first_detect = ms_between(t0, min_suspect);
	}
	if (ok) {
		res->protocol = ms_between(min_suspect, max_view);
		res->total = ms_between(t0, max_view);
	}
	if (p->load == LOAD && ok) {
		res->gap = gap;
		res->resume = ms_between(t0, max_first_new);
		if (!gaps_ok)
			snprintf(res->note, sizeof res->note, "no delivery in the new view");
	}
}

struct series {
	double detect[256], protocol[256], total[256], gap[256];
	unsigned n, failed;
};

static void add_result(struct series *s, const struct run_result *r)
{
	if (!r->ok || s->n == 256) {
		s->failed++;
		return;
	}
	s->detect[s->n] = r->detect;
	s->protocol[s->n] = r->protocol;
	s->total[s->n] = r->total;
	s->gap[s->n] = r->gap;
	s->n++;
}

static void median_max(double *v, unsigned n, double *med, double *max)
{
	*med = perf_percentile(v, n, 50);
	*max = perf_percentile(v, n, 100);
}

#define PANEL(fa, title)                                                                          \
	"set title '" title "'\n"                                                                \
	"plot f every ::1 using 1:(sel('" fa "','idle',6)) with linespoints lw 2 lc 1 title 'detection, idle', " \
	"f every ::1 using 1:(sel('" fa "','load',6)) with linespoints lw 2 lc 1 dt 2 title 'detection, load', " \
	"f every ::1 using 1:(sel('" fa "','idle',8)) with linespoints lw 2 lc 2 title 'protocol, idle', " \
	"f every ::1 using 1:(sel('" fa "','load',8)) with linespoints lw 2 lc 2 dt 2 title 'protocol, load', " \
	"f every ::1 using 1:(sel('" fa "','idle',10)) with linespoints lw 2 lc 7 title 'total, idle', " \
	"f every ::1 using 1:(sel('" fa "','load',10)) with linespoints lw 2 lc 7 dt 2 title 'total, load'\n"

/* One panel per fault that ran. */
static void plot(const struct options *o)
{
	char script[4096];
	snprintf(script, sizeof script, "%s%s%s%s%s",
		 "set terminal pngcairo size 1300,520\n"
		 "set output outfile\n"
		 "set datafile separator ','\n",
		 o->faults == 3 ? "set multiplot layout 1,2 title 'fault to new view at every "
				  "survivor (median of the runs)'\n" : "",
		 "set xlabel 'members'\n"
		 "set ylabel 'ms'\n"
		 "set logscale y\n"
		 "set grid\n"
		 "set key top left font ',9'\n"
		 "set xtics 1\n"
		 "set offsets 0.2, 0.2, 0, 0\n"
		 "f = 'viewchange_summary.csv'\n"
		 "sel(fa, lo, c) = (strcol(2) eq fa && strcol(3) eq lo) ? column(c) : NaN\n",
		 o->faults & 1 << KILL ? PANEL("kill", "kill -9 (its links break)") : "",
		 o->faults & 1 << STOP ? PANEL("stop", "SIGSTOP (heartbeat silence)") : "");
	perf_plot(o->dir, "viewchange.png", script);
}

static int fault_runs(const struct options *o)
{
	FILE *csv = perf_csv_open(o->dir, "viewchange.csv",
				  "members,fault,load,run,victim,ok,detect_ms,first_detect_ms,protocol_ms,"
				  "total_ms,gap_ms,resume_ms,direct,indirect,loadavg,note");
	FILE *sum = perf_csv_open(o->dir, "viewchange_summary.csv",
				  "members,fault,load,runs,failed,detect_med,detect_max,protocol_med,"
				  "protocol_max,total_med,total_max,gap_med,gap_max");
	if (!csv || !sum)
		return 1;
	unsigned configs = 0, done = 0;
	for (unsigned f = 0; f < 2; f++)
		for (unsigned l = 0; l < 2; l++)
			configs += (o->faults >> f & 1) && (o->loads >> l & 1) ? o->n_hi - o->n_lo + 1 : 0;
	printf("viewchange: %u configurations x %u runs; suspect timeout %u ms; victim: %s rank; "
	       "load avg %.2f\n", configs, o->runs, o->timeout_ms ? o->timeout_ms : 1000,
	       o->victim_first ? "first (the leader)" : "last", perf_loadavg());
	printf("all in ms, median / max over the runs\n");
	printf("%-3s %-5s %-5s %5s %19s %19s %19s %19s\n", "n", "fault", "load", "runs",
	       "detection", "protocol", "total", "delivery gap");
	int failures = 0;
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned l = 0; l < 2; l++) {
			if (!(o->faults >> f & 1) || !(o->loads >> l & 1))
				continue;
			for (unsigned n = o->n_lo; n <= o->n_hi; n++) {
				unsigned timeout = o->timeout_ms ? o->timeout_ms : 1000;
				struct plan p = { .o = o, .fault = f, .load = l,
						  .wait_ms = 10000 + 5 * timeout };
				struct series *s = calloc(1, sizeof *s);
				if (!s)
					return 1;
				char label[64];
				snprintf(label, sizeof label, "viewchange n=%u %s %s", n, fault_names[f],
					 load_names[l]);
				for (unsigned r = 0; r < o->runs; r++) {
					struct run_result res;
					double la = perf_loadavg();
					run_once(&p, n, &res);
					add_result(s, &res);
					fprintf(csv, "%u,%s,%s,%u,%u,%d,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%u,%u,%.2f,%s\n",
						n, fault_names[f], load_names[l], r,
						o->victim_first ? 0 : n - 1, res.ok, res.detect,
						res.first_detect, res.protocol, res.total, res.gap,
						res.resume, res.direct, res.indirect, la, res.note);
					fflush(csv);
					if (!res.ok)
						fprintf(stderr, "[%s run %u: %s]\n", label, r, res.note);
					if ((r + 1) % 5 == 0 || r + 1 == o->runs)
						perf_progress(label, r + 1, o->runs);
				}
				double dm, dx, pm, px, tm, tx, gm = NAN, gx = NAN;
				median_max(s->detect, s->n, &dm, &dx);
				median_max(s->protocol, s->n, &pm, &px);
				median_max(s->total, s->n, &tm, &tx);
				if (l == LOAD)
					median_max(s->gap, s->n, &gm, &gx);
				fprintf(sum, "%u,%s,%s,%u,%u,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", n,
					fault_names[f], load_names[l], s->n, s->failed, dm, dx, pm, px, tm,
					tx, gm, gx);
				fflush(sum);
				char gap[32] = "-";
				if (l == LOAD)
					snprintf(gap, sizeof gap, "%8.1f / %8.1f", gm, gx);
				printf("%-3u %-5s %-5s %5u %8.1f / %8.1f %8.1f / %8.1f %8.1f / %8.1f %19s%s\n",
				       n, fault_names[f], load_names[l], s->n, dm, dx, pm, px, tm, tx, gap,
				       s->failed ? "  (some runs failed: see the CSV)" : "");
				fflush(stdout);
				failures += (int)s->failed;
				free(s);
				perf_progress("viewchange configurations", ++done, configs);
			}
		}
	}
	fclose(csv);
	fclose(sum);
	printf("load avg at the end %.2f; rows per run in %s/viewchange.csv\n", perf_loadavg(),
	       o->dir);
	plot(o);
	return failures ? 1 : 0;
}

/* ---- the parent: the soak ---- */

/* From DIR/soak_wide.csv: a row per 10 s, a column per member. */
static void soak_plot(const struct options *o, unsigned n, unsigned views, unsigned suspicions)
{
	char script[2048];
	snprintf(script, sizeof script,
		 "set terminal pngcairo size 1000,500\n"
		 "set output outfile\n"
		 "set datafile separator ','\n"
		 "set title \"%u members all sending: MB/s delivered per member, 10 s intervals\\n"
		 "false suspicions: %u view changes, %u suspicions\"\n"
		 "set xlabel 's'\n"
		 "set ylabel 'MB/s'\n"
		 "set grid\n"
		 "set yrange [0:*]\n"
		 "set key bottom right\n"
		 "plot for [m=0:%u] 'soak_wide.csv' every ::1 using 1:(column(m + 2)) "
		 "with linespoints title sprintf('member %%d', m)\n",
		 n, views, suspicions, n - 1);
	perf_plot(o->dir, "soak.png", script);
}

static int soak(const struct options *o)
{
	unsigned n = o->n_lo;
	struct plan p = { .o = o, .load = LOAD, .soak_s = (unsigned)o->soak_s };
	FILE *csv = perf_csv_open(o->dir, "soak.csv",
				  "seconds,member,MB_per_s,views,suspicions,removed,loadavg");
	FILE *wide = perf_csv_open(o->dir, "soak_wide.csv", "seconds,MB_per_s_by_member...");
	if (!csv || !wide)
		return 1;
	printf("soak: %u members all sending %zu B messages for %u s, suspect timeout %u ms; "
	       "load avg %.2f\n", n, o->size, p.soak_s, o->timeout_ms ? o->timeout_ms : 1000,
	       perf_loadavg());
	struct local_group *lg = local_group_start(n, soak_member, &p);
	if (!lg || local_group_await_line(lg, "ready", JOIN_MS) != 0) {
		if (lg)
			kill_all(lg, n);
		return 1;
	}
	double prev_t[MAX_MEMBERS] = { 0 }, rate_sum[MAX_MEMBERS] = { 0 };
	unsigned long long prev_bytes[MAX_MEMBERS] = { 0 }, bytes[MAX_MEMBERS] = { 0 };
	unsigned views[MAX_MEMBERS] = { 0 }, susp[MAX_MEMBERS] = { 0 };
	int removed[MAX_MEMBERS] = { 0 };
	bool alive[MAX_MEMBERS];
	double end_t[MAX_MEMBERS] = { 0 };
	for (unsigned r = 0; r < n; r++)
		alive[r] = true;
	unsigned ticks = (p.soak_s + TICK_S - 1) / TICK_S;
	char line[512];
	for (unsigned k = 1; k <= ticks; k++) {
		double min = INFINITY, sum = 0;
		unsigned max_views = 0, all_susp = 0, counted = 0;
		double la = perf_loadavg();
		fprintf(wide, "%u", k < ticks ? k * TICK_S : p.soak_s);
		for (unsigned r = 0; r < n; r++) {
			double t;
			unsigned long long b, d;
			if (!alive[r]) {
				fprintf(wide, ",NaN");
				continue;
			}
			if (local_group_read_line(lg, r, line, sizeof line, TICK_S * 3000u) != 0 ||
			    sscanf(line, "tick,%lf,%llu,%llu,%u,%u,%d", &t, &b, &d, &views[r], &susp[r],
				   &removed[r]) != 6) {
				fprintf(stderr, "[soak: member %u stopped reporting]\n", r);
				alive[r] = false;
				fprintf(wide, ",NaN");
				continue;
			}
			double rate = (double)(b - prev_bytes[r]) / (t - prev_t[r]) / 1e6;
			prev_bytes[r] = bytes[r] = b;
			prev_t[r] = end_t[r] = t;
			fprintf(csv, "%.1f,%u,%.2f,%u,%u,%d,%.2f\n", t, r, rate, views[r], susp[r],
				removed[r], la);
			fprintf(wide, ",%.2f", rate);
			min = rate < min ? rate : min;
			sum += rate;
			rate_sum[r] += rate;
			counted++;
		}
		for (unsigned r = 0; r < n; r++) {
			max_views = views[r] > max_views ? views[r] : max_views;
			all_susp += susp[r];
		}
		fprintf(wide, "\n");
		fflush(csv);
		fflush(wide);
		fflush(stdout);
		fprintf(stderr, "[soak %u/%u s] %.1f MB/s delivered per member (min %.1f), "
			"view changes %u, suspicions %u, load avg %.2f\n",
			k < ticks ? k * TICK_S : p.soak_s, p.soak_s, counted ? sum / counted : 0.0,
			counted ? min : 0.0, max_views, all_susp, la);
	}
	printf("%-7s %12s %7s %11s %8s\n", "member", "MB/s", "views", "suspicions", "removed");
	unsigned max_views = 0, all_susp = 0;
	double total = 0;
	for (unsigned r = 0; r < n; r++) {
		double avg = end_t[r] > 0 ? (double)bytes[r] / end_t[r] / 1e6 : 0;
		total += avg;
		printf("%-7u %12.1f %7u %11u %8s\n", r, avg, views[r], susp[r],
		       removed[r] ? "yes" : "no");
		max_views = views[r] > max_views ? views[r] : max_views;
		all_susp += susp[r];
	}
	for (unsigned r = 0; r < n; r++) {
		double at;
		unsigned vid, id;
		while (alive[r] && local_group_read_line(lg, r, line, sizeof line, 20000) == 0 &&
		       strcmp(line, "done") != 0)
			if (sscanf(line, "first,%lf,%u,%u", &at, &vid, &id) == 3 && at >= 0)
				printf("member %u first suspected member %u in view %u at %.1f s\n", r,
				       id, vid, at);
	}
	kill_all(lg, n);
	fclose(csv);
	fclose(wide);
	printf("soak: %u s, %u members: %.1f MB/s delivered per member on average "
	       "(%.1f aggregate); false suspicions: %u view change(s), %u suspicion(s) logged "
	       "over all members; load avg at the end %.2f\n",
	       p.soak_s, n, total / n, total, max_views, all_susp, perf_loadavg());
	soak_plot(o, n, max_views, all_susp);
	return max_views || all_susp ? 1 : 0;
}

static int parse_members(const char *text, unsigned *lo, unsigned *hi)
{
	char *end;
	unsigned long a = strtoul(text, &end, 10), b = a;
	if (*end == '-')
		b = strtoul(end + 1, &end, 10);
	if (*end || a < 2 || b < a || b > MAX_MEMBERS)
		return -1;
	*lo = (unsigned)a;
	*hi = (unsigned)b;
	return 0;
}

static int parse_choice(const char *text, const char *const names[2], unsigned *mask)
{
	if (strcmp(text, "both") == 0)
		*mask = 3;
	else if (strcmp(text, names[0]) == 0)
		*mask = 1;
	else if (strcmp(text, names[1]) == 0)
		*mask = 2;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .n_lo = 3, .n_hi = 6, .faults = 3, .loads = 3, .runs = 20,
			     .size = 10240, .soak_s = -1, .dir = "perf-results" };
	bool members_given = false;
	static const struct option longs[] = { { "soak", optional_argument, NULL, 'S' },
					       { NULL, 0, NULL, 0 } };
	int opt;
	while ((opt = getopt_long(argc, argv, "n:f:l:r:k:t:s:o:", longs, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_members(optarg, &o.n_lo, &o.n_hi))
				goto usage;
			members_given = true;
			break;
		case 'f':
			if (parse_choice(optarg, fault_names, &o.faults))
				goto usage;
			break;
		case 'l':
			if (parse_choice(optarg, load_names, &o.loads))
				goto usage;
			break;
		case 'r': o.runs = (unsigned)atoi(optarg); break;
		case 'k':
			if (strcmp(optarg, "first") && strcmp(optarg, "last"))
				goto usage;
			o.victim_first = strcmp(optarg, "first") == 0;
			break;
		case 't': o.timeout_ms = (unsigned)atoi(optarg); break;
		case 's': o.size = (size_t)atol(optarg); break;
		case 'o': o.dir = optarg; break;
		case 'S': /* --soak, --soak=N or --soak N */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			o.soak_s = optarg ? atol(optarg) : 600;
			if (o.soak_s <= 0)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind != argc || o.runs < 1 || o.size == 0 || o.soak_s > 86400)
		goto usage;
	srand48((long)clock_now_ns());
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.soak_s >= 0) {
		if (!members_given)
			o.n_lo = o.n_hi = 5;
		if (o.n_lo != o.n_hi)
			goto usage;
		return soak(&o);
	}
	if (o.n_lo < 3)
		goto usage; /* two members lose their majority with one gone */
	return fault_runs(&o);
usage:
	fprintf(stderr,
		"usage: %s [-n N|LO-HI] [-f kill|stop|both] [-l idle|load|both] [-r RUNS]\n"
		"          [-k last|first] [-t SUSPECT_TIMEOUT_MS] [-s BYTES] [-o DIR]\n"
		"       %s --soak [SECONDS] [-n MEMBERS] [-t SUSPECT_TIMEOUT_MS] [-s BYTES] [-o DIR]\n",
		argv[0], argv[0]);
	return 2;
}
