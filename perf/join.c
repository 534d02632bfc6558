/* join: what a join costs, at the joiner and at the members already in.
 *
 * n members (default 3) on 127.0.0.1 form a group, and each multicasts a
 * steady stream of small messages: 256 B, 1000 a second per member (-s,
 * -R; -R 0 sends flat out). A steady, moderate stream rather than a flood:
 * every member delivers every few hundred µs, so a pause in deliveries
 * stands out against a fine-grained baseline, and the transfer gets the
 * CPU it would get in a service that is busy but not saturated (this host
 * has 2 cores). After a warm-up and a baseline window, a joiner process
 * (node id n) joins with a state of S bytes, for each S of -S (default 0,
 * 1 MiB, 1 GiB), -r runs each (default 3), with a fresh group each run.
 * state_save at the member serving the joiner generates the state as it goes:
 * 1 MiB blocks of one pattern, each stamped with its index. state_load
 * checks every block and the length, and keeps nothing.
 *
 * CLOCK_MONOTONIC is one clock for every process of the host, so times
 * taken in different processes compare. At the joiner:
 *   t0        just before grp_join
 *   t_view    its view callback for the view that added it
 *   t_loaded  state_load returns (it was entered at t_load)
 *   t_first   its first delivery
 * reported as t0>view, view>loaded and t0>first (join to first delivery),
 * and load MB/s = S / (t_loaded - t_load). At the member serving it (rank
 * 0, the lowest-ranked member of the view before): save MB/s = S / the
 * time state_save ran. state_load is entered right after the joiner's
 * view and waits there for the source's first bytes: for a small state,
 * load MB/s is mostly that wait; for a large one the two agree. Load MB/s,
 * what the joiner sees, is the one the ratio uses.
 * Fabric: right before each run's group starts, rawlink_measure streams
 * one-sided writes of 2 MiB (the piece the transfer writes, a quarter of
 * its 8 MiB ring) between two processes of its own. This is fabric_bw's
 * code path, so load/fabric is the transfer against the raw fabric of the
 * same run. Both sides of that measurement poll without sleeping: on a
 * host whose cores are taken by other work it can come out below the
 * transfer.
 * Delivery gap: at every member already in, the longest time between two
 * consecutive deliveries, over the intervals that overlap the join window
 * [t0, t_loaded]. The serving member is given apart (it holds its
 * deliveries while state_save runs), the others as the max over them, and
 * beside them the same measure over a baseline window of -w ms (default
 * 2000) just before the joiner starts, max over all members.
 * Every figure is the median of the runs that succeeded.
 *
 *   join [-n MEMBERS] [-S SIZE,...] [-r RUNS] [-s MSG_BYTES] [-R MSGS_PER_S]
 *        [-w BASELINE_MS] [-b FABRIC_BYTES] [-o DIR]
 * FABRIC_BYTES (default 1e9) is what each fabric measurement writes: on a
 * busy host a shorter one varies several-fold from run to run. SIZE takes
 * a K, M or G suffix (powers of 1024). Output: a table; DIR/join.csv (a
 * row per run, with the 1-minute load average as it started),
 * DIR/join_summary.csv and DIR/join.png (default DIR perf-results); on
 * stderr a line per run and one per 256 MiB loaded. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <group/group.h>

#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "rawlink.h"
#include "report.h"
#include "state_read.h"

#define MAX_MEMBERS 16u
#define MAX_SIZES 8u
#define MAX_RUNS 100u
#define BLOCK_BYTES (1u << 20)
#define PIECE_BYTES (LINKS_RING_BYTES / 4u) /* links/transfer.c writes pieces of this */
#define PROGRESS_BYTES (256u << 20)
#define FORM_MS 60000u       /* for the group to form, and for the joiner to get in */
#define SLOWEST_BPS (4u << 20) /* a transfer slower than this is taken for stuck */
#define CLOSE_MS 5000u       /* for a delivery that closes the gap in progress */
#define WARMUP_MS 300u       /* first sends and connections settle before the baseline */

struct options {
	unsigned members;
	size_t sizes[MAX_SIZES];
	unsigned n_sizes;
	unsigned runs;
	size_t msg_bytes;
	unsigned rate; /* messages per second per member; 0: flat out */
	unsigned baseline_ms;
	double fabric_bytes;
	const char *dir;
};

/* What the processes of one run are told. */
struct plan {
	const struct options *o;
	size_t state;
};

/* A window of time over which members measure their longest delivery gap:
 * not begun while from is 0, open while to is 0. */
struct window {
	atomic_uint_fast64_t from, to;
};

/* Mapped before the members are forked: the parent opens the baseline
 * window and lets the joiner go, the joiner opens and closes the join
 * window, and the parent says when the members are to report. */
struct shared {
	struct window baseline, join;
	atomic_bool go, report;
};
static struct shared *shared;

static void shared_reset(void)
{
	atomic_store(&shared->baseline.from, 0);
	atomic_store(&shared->baseline.to, 0);
	atomic_store(&shared->join.from, 0);
	atomic_store(&shared->join.to, 0);
	atomic_store(&shared->go, false);
	atomic_store(&shared->report, false);
}

/* The interval (prev, now) between two deliveries counts for w if it
 * overlaps it. */
static void note_gap(struct window *w, uint64_t prev, uint64_t now, uint64_t *max)
{
	uint64_t from = atomic_load(&w->from), to = atomic_load(&w->to);
	if (from && prev && now > from && (!to || prev < to) && now - prev > *max)
		*max = now - prev;
}

/* ---- the state: blocks of one pattern, stamped with their index, so that
 * a block lost, repeated or out of place shows as well as a wrong byte, at
 * the cost of a memcmp a block ---- */

static uint8_t *pattern_new(void)
{
	uint64_t *w = malloc(BLOCK_BYTES);
	for (size_t i = 0; w && i < BLOCK_BYTES / 8; i++)
		w[i] = (i + 1) * 0x9e3779b97f4a7c15u;
	return (uint8_t *)w;
}

/* Block b of the state, of *len bytes (the last one may be short). */
static const uint8_t *pattern_block(uint8_t *block, uint64_t b, size_t state, size_t *len)
{
	size_t left = state - (size_t)b * BLOCK_BYTES;
	*len = left < BLOCK_BYTES ? left : BLOCK_BYTES;
	memcpy(block, &b, sizeof b);
	return block;
}

static uint64_t block_count(size_t state)
{
	return (state + BLOCK_BYTES - 1) / BLOCK_BYTES;
}

/* After the results are out the parent kills us: a leave would start a
 * view change of its own, which nothing here measures. */
static _Noreturn void wait_to_be_killed(void)
{
	for (;;)
		pause();
}

/* m->members lists every process's address, the joiner's last: the
 * group's members are the ones before it. */
static const char *split_members(const struct local_member *m, char *first, size_t cap)
{
	snprintf(first, cap, "%s", m->members);
	char *comma = strrchr(first, ',');
	if (comma)
		*comma = '\0';
	return comma ? m->members + (comma - first) + 1 : NULL;
}

/* ---- a member already in ---- */

struct member {
	const struct plan *p;
	grp_t *g;
	uint8_t *block;
	struct delivery_count delivered;
	pthread_mutex_t lock;
	/* under lock */
	uint64_t last_ns, gap_join, gap_base, save_from, save_to;
};

static void member_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	struct member *s = user;
	uint64_t now = clock_now_ns();
	pthread_mutex_lock(&s->lock);
	note_gap(&shared->baseline, s->last_ns, now, &s->gap_base);
	note_gap(&shared->join, s->last_ns, now, &s->gap_join);
	s->last_ns = now;
	pthread_mutex_unlock(&s->lock);
	delivery_count_add(&s->delivered);
}

static int state_save(grp_t *g, void *user)
{
	struct member *s = user;
	uint64_t from = clock_now_ns();
	int rc = 0;
	for (uint64_t b = 0; !rc && b < block_count(s->p->state); b++) {
		size_t len;
		const uint8_t *data = pattern_block(s->block, b, s->p->state, &len);
		rc = grp_state_write(g, data, len);
	}
	uint64_t to = clock_now_ns();
	pthread_mutex_lock(&s->lock);
	s->save_from = from;
	s->save_to = to;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Sends until the process is killed: the members' gaps must go on closing
 * after the join. A send held up (by a view change) is not made up for by
 * a burst. */
static void *stream(void *arg)
{
	struct member *s = arg;
	const struct options *o = s->p->o;
	void *payload = calloc(1, o->msg_bytes);
	uint64_t period = o->rate ? 1000000000u / o->rate : 0, next = clock_now_ns();
	while (payload) {
		int rc = grp_send(s->g, payload, o->msg_bytes);
		if (rc && rc != GRP_ETIMEDOUT && rc != GRP_EAGAIN && rc != GRP_EPEER) {
			fprintf(stderr, "member %u: grp_send: %s\n", grp_rank(s->g), grp_strerror(rc));
			break;
		}
		next += period;
		uint64_t now = clock_now_ns();
		if (next > now)
			perf_sleep_until(next);
		else
			next = now;
	}
	free(payload);
	return NULL;
}

static int member_main(const struct local_member *m, const struct plan *p)
{
	struct member s = { .p = p, .block = pattern_new() };
	pthread_mutex_init(&s.lock, NULL);
	delivery_count_init(&s.delivered);
	char first[1024];
	split_members(m, first, sizeof first);
	/* A send blocked in a view change comes back now and then. */
	const char *settings[] = { "group.members", first, "multicast.send_timeout_ms", "200",
				   NULL };
	grp_callbacks cb = { .size = sizeof cb, .deliver = member_deliver,
			     .state_save = state_save };
	pthread_t sender;
	if (!s.block || perf_join_with(m, "all", settings, &cb, &s, &s.g) != 0 ||
	    pthread_create(&sender, NULL, stream, &s) != 0)
		return 1;
	local_member_report(m, "ready");
	while (!atomic_load(&shared->report))
		perf_sleep_ms(5);
	/* The gap in progress when the joiner was loaded counts whole: wait
	 * for the delivery that ends it, or count it up to now. */
	uint64_t seen = delivery_count_get(&s.delivered);
	delivery_count_await(&s.delivered, seen + 1, CLOSE_MS);
	pthread_mutex_lock(&s.lock);
	uint64_t now = clock_now_ns();
	note_gap(&shared->join, s.last_ns, now, &s.gap_join);
	note_gap(&shared->baseline, s.last_ns, now, &s.gap_base);
	local_member_report(m, "member,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, s.gap_join,
			    s.gap_base, s.save_from, s.save_to);
	pthread_mutex_unlock(&s.lock);
	wait_to_be_killed();
}

/* ---- the joiner ---- */

struct joiner {
	const struct plan *p;
	const struct local_member *m;
	uint8_t *buf, *expect;
	uint64_t t_load, t_loaded;  /* on the thread in grp_join */
	atomic_uint_fast64_t t_view, t_first;
	struct delivery_count delivered;
	char why[96];               /* why state_load failed */
};

/* Sets *at to now if it is still 0: the first view and delivery count. */
static void note_first(atomic_uint_fast64_t *at)
{
	uint_fast64_t none = 0;
	atomic_compare_exchange_strong(at, &none, clock_now_ns());
}

static void joiner_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	(void)v;
	note_first(&((struct joiner *)user)->t_view);
}

static void joiner_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)msg;
	struct joiner *j = user;
	note_first(&j->t_first);
	delivery_count_add(&j->delivered);
}

static int state_load(grp_t *g, void *user)
{
	struct joiner *j = user;
	j->t_load = clock_now_ns();
	size_t state = j->p->state;
	for (uint64_t b = 0; b < block_count(state); b++) {
		size_t len;
		const uint8_t *expect = pattern_block(j->expect, b, state, &len);
		int rc = state_read_exactly(g, j->buf, len);
		if (rc) {
			snprintf(j->why, sizeof j->why, "reading block %" PRIu64 ": %s", b,
				 grp_strerror(rc));
			return rc;
		}
		if (memcmp(j->buf, expect, len) != 0) {
			snprintf(j->why, sizeof j->why, "block %" PRIu64 " is not the one sent", b);
			return GRP_EPROTO;
		}
		uint64_t loaded = (b + 1) * BLOCK_BYTES;
		if (loaded % PROGRESS_BYTES == 0)
			local_member_report(j->m, "progress,%" PRIu64, loaded >> 20);
	}
	size_t got;
	int rc = grp_state_read(g, j->buf, BLOCK_BYTES, &got);
	if (!rc && got)
		snprintf(j->why, sizeof j->why, "the state goes on past %zu bytes", state);
	j->t_loaded = clock_now_ns();
	atomic_store(&shared->join.to, j->t_loaded);
	return rc ? rc : got ? GRP_EPROTO : 0;
}

static int joiner_main(const struct local_member *m, const struct plan *p)
{
	struct joiner j = { .p = p, .m = m, .buf = malloc(BLOCK_BYTES), .expect = pattern_new() };
	delivery_count_init(&j.delivered);
	char first[1024], id[16];
	const char *self = split_members(m, first, sizeof first);
	snprintf(id, sizeof id, "%u", m->rank);
	const char *settings[] = { "group.contact", first, "member.listen", self, "member.id", id,
				   NULL };
	grp_callbacks cb = { .size = sizeof cb, .deliver = joiner_deliver, .view = joiner_view,
			     .state_load = state_load };
	if (!j.buf || !j.expect || !self) {
		fprintf(stderr, "joiner: out of memory, or no address of its own in %s\n", m->members);
		return 1;
	}
	local_member_report(m, "ready");
	while (!atomic_load(&shared->go))
		perf_sleep_ms(1);
	grp_t *g = NULL;
	uint64_t t0 = clock_now_ns();
	atomic_store(&shared->join.from, t0);
	int rc = perf_join_with(m, "all", settings, &cb, &j, &g);
	if (rc) {
		local_member_report(m, "error,grp_join: %s%s%s", grp_strerror(rc), j.why[0] ? "; " : "",
				    j.why);
		return 1;
	}
	if (delivery_count_await(&j.delivered, 1, CLOSE_MS) != 0) {
		local_member_report(m, "error,in, but no delivery within %u ms", CLOSE_MS);
		return 1;
	}
	local_member_report(m, "joined,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			    t0, (uint64_t)atomic_load(&j.t_view), j.t_load, j.t_loaded,
			    (uint64_t)atomic_load(&j.t_first));
	wait_to_be_killed();
}

static int process_main(const struct local_member *m, void *arg)
{
	const struct plan *p = arg;
	return m->rank < p->o->members ? member_main(m, p) : joiner_main(m, p);
}

/* ---- the parent ---- */

/* The figures of a run, in the order of the CSV columns. */
enum figure {
	T_VIEW, T_LOADED, T0_LOADED, T_FIRST, LOAD_MS, SAVE_MS, LOAD_MBPS, SAVE_MBPS, FABRIC_MBPS, RATIO,
	GAP_SOURCE, GAP_OTHERS, GAP_BASE, LOADAVG, FIGURES
};
static const char *const figure_names[FIGURES] = {
	"t0_view_ms", "view_loaded_ms", "t0_loaded_ms", "t0_first_ms", "load_ms", "save_ms", "load_MBps",
	"save_MBps", "fabric_MBps", "load_over_fabric", "gap_source_ms", "gap_others_ms",
	"gap_baseline_ms", "loadavg"
};

struct result {
	bool ok;
	double f[FIGURES]; /* NAN: none */
	char note[288];
};

static double ms_between(uint64_t from, uint64_t to)
{
	return ((double)to - (double)from) / 1e6;
}

static double mbps(size_t bytes, double ms)
{
	return bytes && ms > 0 ? (double)bytes / ms / 1e3 : NAN;
}

static void size_label(size_t bytes, char *buf, size_t cap)
{
	if (bytes >= 1u << 30 && bytes % (1u << 30) == 0)
		snprintf(buf, cap, "%zu GiB", bytes >> 30);
	else if (bytes >= 1u << 20 && bytes % (1u << 20) == 0)
		snprintf(buf, cap, "%zu MiB", bytes >> 20);
	else if (bytes)
		snprintf(buf, cap, "%zu B", bytes);
	else
		snprintf(buf, cap, "0");
}

/* The joiner's lines, progress on the way, up to its result. */
static bool read_joiner(struct local_group *lg, const struct plan *p, const char *label,
			struct result *r)
{
	unsigned n = p->o->members;
	uint64_t deadline =
		clock_deadline_ms(FORM_MS + (unsigned)(p->state / SLOWEST_BPS * 1000u));
	unsigned total_mib = (unsigned)(p->state >> 20);
	char line[256];
	while (local_group_read_line(lg, n, line, sizeof line, (unsigned)clock_ms_left(deadline)) ==
	       0) {
		unsigned mib;
		uint64_t t0, view, load, loaded, first;
		if (sscanf(line, "progress,%u", &mib) == 1) {
			char what[96];
			snprintf(what, sizeof what, "%s: MiB loaded", label);
			perf_progress(what, mib, total_mib);
		} else if (sscanf(line, "joined,%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64
				  ",%" SCNu64, &t0, &view, &load, &loaded, &first) == 5) {
			r->f[T_VIEW] = ms_between(t0, view);
			r->f[T_LOADED] = ms_between(view, loaded);
			r->f[T0_LOADED] = ms_between(t0, loaded);
			r->f[T_FIRST] = ms_between(t0, first);
			r->f[LOAD_MS] = ms_between(load, loaded);
			r->f[LOAD_MBPS] = mbps(p->state, r->f[LOAD_MS]);
			r->f[RATIO] = r->f[LOAD_MBPS] / r->f[FABRIC_MBPS];
			return true;
		} else if (strncmp(line, "error,", 6) == 0) {
			snprintf(r->note, sizeof r->note, "joiner: %s", line + 6);
			return false;
		}
	}
	snprintf(r->note, sizeof r->note,
		 clock_ms_left(deadline) ? "the joiner exited (see its stderr)"
					 : "the joiner was not in and loaded in time");
	return false;
}

/* Each member's gaps; rank 0 served the state. */
static bool read_members(struct local_group *lg, const struct plan *p, struct result *r)
{
	unsigned n = p->o->members;
	double others = n > 1 ? 0 : NAN, base = 0;
	for (unsigned rank = 0; rank < n; rank++) {
		char line[256];
		uint64_t gap_join, gap_base, save_from, save_to;
		if (local_group_read_line(lg, rank, line, sizeof line, CLOSE_MS + 5000u) != 0 ||
		    sscanf(line, "member,%" SCNu64 ",%" SCNu64 ",%" SCNu64 ",%" SCNu64, &gap_join,
			   &gap_base, &save_from, &save_to) != 4) {
			snprintf(r->note, sizeof r->note, "member %u did not report its gaps", rank);
			return false;
		}
		double gap = (double)gap_join / 1e6;
		if (rank == 0) {
			r->f[GAP_SOURCE] = gap;
			r->f[SAVE_MS] = save_to ? ms_between(save_from, save_to) : NAN;
			r->f[SAVE_MBPS] = mbps(p->state, r->f[SAVE_MS]);
		} else {
			others = gap > others ? gap : others;
		}
		base = (double)gap_base / 1e6 > base ? (double)gap_base / 1e6 : base;
	}
	r->f[GAP_OTHERS] = others;
	r->f[GAP_BASE] = base;
	return true;
}

static void run_once(const struct plan *p, const char *label, struct result *r)
{
	const struct options *o = p->o;
	unsigned n = o->members;
	memset(r, 0, sizeof *r);
	for (unsigned f = 0; f < FIGURES; f++)
		r->f[f] = NAN;
	r->f[LOADAVG] = perf_loadavg();
	if (rawlink_measure(PIECE_BYTES, o->fabric_bytes, &r->f[FABRIC_MBPS]) != 0) {
		snprintf(r->note, sizeof r->note, "the fabric measurement failed");
		return;
	}
	shared_reset();
	struct local_group *lg = local_group_start(n + 1, process_main, (void *)p);
	if (!lg) {
		snprintf(r->note, sizeof r->note, "cannot start the processes");
		return;
	}
	if (local_group_await_line(lg, "ready", FORM_MS) != 0) {
		snprintf(r->note, sizeof r->note, "the group did not form");
	} else {
		perf_sleep_ms(WARMUP_MS);
		atomic_store(&shared->baseline.from, clock_now_ns());
		perf_sleep_ms(o->baseline_ms);
		atomic_store(&shared->baseline.to, clock_now_ns());
		atomic_store(&shared->go, true);
		bool in = read_joiner(lg, p, label, r);
		atomic_store(&shared->report, true);
		r->ok = in && read_members(lg, p, r);
	}
	for (unsigned rank = 0; rank <= n; rank++)
		local_group_kill(lg, rank, SIGKILL);
	local_group_finish(lg, 10000, NULL);
}

/* The median of the runs' figure f, over the runs that have it. */
static double median_of(const struct result *rs, unsigned runs, enum figure f)
{
	double v[MAX_RUNS];
	size_t k = 0;
	for (unsigned i = 0; i < runs; i++)
		if (rs[i].ok && !isnan(rs[i].f[f]))
			v[k++] = rs[i].f[f];
	return k ? perf_percentile(v, k, 50) : NAN;
}

static void csv_figures(FILE *csv, const double *f)
{
	for (unsigned i = 0; i < FIGURES; i++)
		fprintf(csv, ",%.3f", f[i]);
}

static void print_header(void)
{
	printf("%-10s %5s %9s %11s %9s %9s %9s %11s %8s %10s %10s %10s %7s\n", "state", "runs",
	       "t0>view", "view>loaded", "t0>first", "load MB/s", "save MB/s", "fabric MB/s",
	       "load/fab", "gap source", "gap others", "gap base", "loadavg");
}

static void print_row(const char *label, unsigned ok, unsigned runs, const double *f)
{
	/* Each figure's column width (0: CSV only) and decimals, in the order
	 * of enum figure. */
	static const int width[FIGURES] = { 9, 11, 0, 9, 0, 0, 9, 9, 11, 8, 10, 10, 10, 7 };
	static const int decimals[FIGURES] = { 1, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 1, 1, 2 };
	printf("%-10s %2u/%-2u", label, ok, runs);
	for (unsigned i = 0; i < FIGURES; i++) {
		if (!width[i])
			continue;
		if (isnan(f[i]))
			printf(" %*s", width[i], "-");
		else
			printf(" %*.*f", width[i], decimals[i], f[i]);
	}
	printf("\n");
}

/* "256 B x 1000/s", or "256 B flat out". */
static const char *stream_text(const struct options *o, char *buf, size_t cap)
{
	if (o->rate)
		snprintf(buf, cap, "%zu B x %u/s", o->msg_bytes, o->rate);
	else
		snprintf(buf, cap, "%zu B flat out", o->msg_bytes);
	return buf;
}

/* A series of bars in the plot: its column in the summary, its title, and whether it has a number at all (gnuplot refuses a
 * histogram series without one: no "others" with one member, no rates
 * with only empty states). */
struct bars {
	int column;
	const char *title;
	bool shown;
};

/* Column of figure f in the summary: after state, bytes, members, runs, failed. */
static int column_of(enum figure f)
{
	return (int)f + 6;
}

static void bars_of(struct bars *b, enum figure f, const char *title, bool shown)
{
	b->column = column_of(f);
	b->title = title;
	b->shown = shown;
}

static size_t append_panel(char *script, size_t cap, size_t off, const char *title,
			   const char *ylabel, const struct bars *b, unsigned n)
{
	const char *sep = "";
	if (off < cap)
		off += (size_t)snprintf(script + off, cap - off, "set title '%s'\nset ylabel '%s'\nplot ",
					title, ylabel);
	for (unsigned i = 0; i < n && off < cap; i++) {
		if (!b[i].shown)
			continue;
		off += (size_t)snprintf(script + off, cap - off,
					"%sf every ::1 using %d:xticlabels(1) title '%s'", sep,
					b[i].column, b[i].title);
		sep = ", ";
	}
	if (off < cap)
		off += (size_t)snprintf(script + off, cap - off, "\n");
	return off;
}

/* Three panels from DIR/join_summary.csv, a cluster of bars per state
 * size: the joiner's times, the transfer against the fabric, the gaps. */
static void plot(const struct options *o)
{
	bool state = false;
	for (unsigned s = 0; s < o->n_sizes; s++)
		state |= o->sizes[s] > 0;
	struct bars times[3], rates[3], gaps[3];
	bars_of(&times[0], T_VIEW, "view", true);
	bars_of(&times[1], T0_LOADED, "loaded", true);
	bars_of(&times[2], T_FIRST, "first delivery", true);
	bars_of(&rates[0], LOAD_MBPS, "load (joiner)", state);
	bars_of(&rates[1], SAVE_MBPS, "save (source)", state);
	bars_of(&rates[2], FABRIC_MBPS, "raw writes (fabric)", true);
	bars_of(&gaps[0], GAP_SOURCE, "serving member", true);
	bars_of(&gaps[1], GAP_OTHERS, "other members", o->members > 1);
	bars_of(&gaps[2], GAP_BASE, "baseline (no join)", true);
	char script[4096], stream[64];
	size_t off = (size_t)snprintf(
		script, sizeof script,
		"set terminal pngcairo size 1500,500 noenhanced\n"
		"set output outfile\n"
		"set datafile separator ','\n"
		"set multiplot layout 1,3 title 'join into %u member(s) each sending %s "
		"(median of %u runs)'\n"
		"set style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.85 border -1\n"
		"set grid ytics\n"
		"set key below font ',9'\n"
		"set logscale y\n"
		"f = 'join_summary.csv'\n",
		o->members, stream_text(o, stream, sizeof stream), o->runs);
	off = append_panel(script, sizeof script, off, "at the joiner, from grp_join", "ms", times, 3);
	off = append_panel(script, sizeof script, off, "state transfer", "MB/s", rates, 3);
	off = append_panel(script, sizeof script, off, "longest delivery gap at the members", "ms",
			   gaps, 3);
	if (off < sizeof script)
		snprintf(script + off, sizeof script - off, "unset multiplot\n");
	perf_plot(o->dir, "join.png", script);
}

/* A CSV with the figures' columns between first_columns and last_columns. */
static FILE *csv_with_figures(const char *dir, const char *name, const char *first_columns,
			      const char *last_columns)
{
	char header[1024];
	size_t off = (size_t)snprintf(header, sizeof header, "%s", first_columns);
	for (unsigned f = 0; f < FIGURES && off < sizeof header; f++)
		off += (size_t)snprintf(header + off, sizeof header - off, ",%s", figure_names[f]);
	if (off < sizeof header)
		snprintf(header + off, sizeof header - off, "%s", last_columns);
	return perf_csv_open(dir, name, header);
}

static int run_all(const struct options *o)
{
	FILE *csv = csv_with_figures(o->dir, "join.csv", "members,state_bytes,run,ok", ",note");
	FILE *sum = csv_with_figures(o->dir, "join_summary.csv",
				     "state,state_bytes,members,runs,failed", "");
	struct result *rs = calloc(o->runs, sizeof *rs);
	if (!csv || !sum || !rs)
		return 1;
	char stream[64];
	printf("join: %u member%s on 127.0.0.1, each sending %s; joiner node %u; "
	       "%u runs per state size; baseline window %u ms; load avg %.2f\n",
	       o->members, o->members > 1 ? "s" : "", stream_text(o, stream, sizeof stream),
	       o->members, o->runs, o->baseline_ms, perf_loadavg());
	printf("times and gaps in ms, rates in MB/s (10^6 B/s); medians over the runs that succeeded\n");
	print_header();
	int failures = 0;
	for (unsigned s = 0; s < o->n_sizes; s++) {
		struct plan p = { .o = o, .state = o->sizes[s] };
		char size[32], label[64];
		size_label(p.state, size, sizeof size);
		unsigned ok = 0;
		for (unsigned i = 0; i < o->runs; i++) {
			snprintf(label, sizeof label, "join %s run %u/%u", size, i + 1, o->runs);
			run_once(&p, label, &rs[i]);
			ok += rs[i].ok;
			fprintf(csv, "%u,%zu,%u,%d", o->members, p.state, i, rs[i].ok);
			csv_figures(csv, rs[i].f);
			fprintf(csv, ",%s\n", rs[i].note);
			fflush(csv);
			fflush(stdout);
			char others[48] = ""; /* none with one member */
			if (!isnan(rs[i].f[GAP_OTHERS]))
				snprintf(others, sizeof others, ", %.1f at the others",
					 rs[i].f[GAP_OTHERS]);
			if (rs[i].ok)
				fprintf(stderr, "[%s: first delivery after %.1f ms, loaded in %.1f ms, "
					"gap %.1f ms at the source%s (baseline %.1f), load avg "
					"%.2f]\n", label, rs[i].f[T_FIRST], rs[i].f[LOAD_MS],
					rs[i].f[GAP_SOURCE], others, rs[i].f[GAP_BASE],
					rs[i].f[LOADAVG]);
			else
				fprintf(stderr, "[%s failed: %s]\n", label, rs[i].note);
		}
		double med[FIGURES];
		for (unsigned f = 0; f < FIGURES; f++)
			med[f] = median_of(rs, o->runs, f);
		print_row(size, ok, o->runs, med);
		fprintf(sum, "%s,%zu,%u,%u,%u", size, p.state, o->members, ok, o->runs - ok);
		csv_figures(sum, med);
		fprintf(sum, "\n");
		fflush(sum);
		failures += (int)(o->runs - ok);
	}
	fclose(csv);
	fclose(sum);
	free(rs);
	printf("load avg at the end %.2f; a row per run in %s/join.csv\n", perf_loadavg(), o->dir);
	/* gnuplot refuses series without a number. */
	if (failures < (int)(o->runs * o->n_sizes))
		plot(o);
	else
		printf("plot: none, no run succeeded\n");
	return failures ? 1 : 0;
}

/* "0,1M,1G": sizes with K, M or G (powers of 1024). */
static int parse_sizes(char *text, struct options *o)
{
	o->n_sizes = 0;
	for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
		char *end;
		unsigned long long v = strtoull(tok, &end, 10);
		unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
		if (end == tok || (shift && *++end) || *end || o->n_sizes == MAX_SIZES ||
		    v > (SIZE_MAX >> shift))
			return -1;
		o->sizes[o->n_sizes++] = (size_t)v << shift;
	}
	return o->n_sizes ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct options o = { .members = 3, .sizes = { 0, 1u << 20, 1u << 30 }, .n_sizes = 3,
			     .runs = 3, .msg_bytes = 256, .rate = 1000, .baseline_ms = 2000,
			     .fabric_bytes = 1e9, .dir = "perf-results" };
	int opt;
	while ((opt = getopt(argc, argv, "n:S:r:s:R:w:b:o:")) != -1) {
		switch (opt) {
		case 'n': o.members = (unsigned)atoi(optarg); break;
		case 'S':
			if (parse_sizes(optarg, &o))
				goto usage;
			break;
		case 'r': o.runs = (unsigned)atoi(optarg); break;
		case 's': o.msg_bytes = (size_t)atol(optarg); break;
		case 'R': o.rate = (unsigned)atoi(optarg); break;
		case 'w': o.baseline_ms = (unsigned)atoi(optarg); break;
		case 'b': o.fabric_bytes = atof(optarg); break;
		case 'o': o.dir = optarg; break;
		default: goto usage;
		}
	}
	/* The joiner is one more process: the harness starts n + 1. */
	if (optind != argc || o.members < 1 || o.members + 1 > MAX_MEMBERS || o.runs < 1 ||
	    o.runs > MAX_RUNS || o.msg_bytes == 0 || o.rate > 1000000 || o.fabric_bytes <= 0)
		goto usage;
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("join: mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run_all(&o);
usage:
	fprintf(stderr,
		"usage: %s [-n MEMBERS] [-S SIZE,...] [-r RUNS] [-s MSG_BYTES] [-R MSGS_PER_S]\n"
		"          [-w BASELINE_MS] [-b FABRIC_BYTES] [-o DIR]\n"
		"SIZE: bytes, or with a K, M or G suffix (powers of 1024)\n",
		argv[0]);
	return 2;
}
