/* durable: what persistence (persist.mode) costs, against the in-memory
 * group and against the disk itself.
 *
 * N members (default 3) on 127.0.0.1, each with its own persist.dir in a
 * temporary directory made under -d (default /tmp) and removed at the end;
 * the filesystem type of that directory is printed (tmpfs syncs nothing).
 * For each persist.mode in off, async, durable and each size in 1 KiB,
 * 10 KiB, two groups are run one after the other, each with fresh logs:
 *
 *   throughput  every member sends M messages (-m) flat out with grp_send.
 *               "delivered": messages/s delivered at member 0 from its
 *               first delivery to its last. "persisted everywhere" (async,
 *               durable): messages/s from the first delivery until the
 *               persisted callback reports the version of the last one,
 *               i.e. until every member's log holds everything (durable:
 *               on disk); "lag" is that moment minus the last delivery.
 *   sequential  member 0 alone sends one message at a time, I times (-i,
 *               after I/10 not counted): async and durable time
 *               grp_send_durable from the call to its return (the message
 *               is in every member's log; durable: after an fdatasync at
 *               each); off times grp_send plus the wait for its own
 *               delivery, as perf/lat does. Median and p99.
 *
 * Before any group starts, the parent measures the disk under the same
 * directory: 1000 times, 1 KiB written after the previous one into a
 * preallocated file (as the log appends into a preallocated segment), then
 * fdatasync; median and p99 of the pair. A durable message cannot be
 * acknowledged faster than one of those (its members sync in parallel).
 *
 * Reference, printed beside the figures: etcd 3.4, 3 members on 127.0.0.1,
 * 1 KiB puts: 2,896 puts/s with 32 clients (p50 10.3 ms), 1.2 ms per put
 * for one sequential client. Target: durable 1 KiB persisted everywhere
 * >= 10x that throughput (28,960 msgs/s), sequential grp_send_durable
 * <= 0.3 ms (median).
 *
 * Settings of every member: multicast.max_smc_payload = the message size,
 * multicast.send_timeout_ms = 15000 (so that a durable wait that never
 * ends fails instead of hanging the run), persist.mode, persist.dir;
 * persist.* otherwise at their defaults (GROUP_PERSIST_* in the
 * environment overrides them, as every GROUP_* key).
 *
 *   durable [-n MEMBERS] [-m MESSAGES_PER_MEMBER] [-i ITERATIONS] [-d TMPDIR] [-o DIR]
 * Output: a table (progress lines on stderr), DIR/durable.csv, and
 * DIR/durable.png if gnuplot is installed. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <group/group.h>

#include "clock.h"
#include "delivery_count.h"
#include "localgroup.h"
#include "report.h"

#define WAIT_MS 120000u
/* How long a member waits for the persisted frontier to cover its last
 * delivery before it reports that it did not. */
#define PERSIST_WAIT_MS 30000u
#define SYNC_SAMPLES 1000u
#define SYNC_BYTES 1024u
#define SEND_TIMEOUT "15000"

/* etcd 3.4 on the same kind of setup, and what we aim at. */
#define ETCD_PUTS_PER_S 2896.0
#define ETCD_P50_MS 10.3
#define ETCD_SEQ_MS 1.2
#define TARGET_FACTOR 10.0
#define TARGET_SEQ_MS 0.3

enum mode { MODE_OFF, MODE_ASYNC, MODE_DURABLE, N_MODES };
static const char *const mode_names[N_MODES] = { "off", "async", "durable" };

static const size_t sizes[] = { 1024, 10240 };
#define N_SIZES (sizeof sizes / sizeof sizes[0])

struct options {
	unsigned members;
	unsigned messages;
	unsigned iters;
	const char *tmp_base;
	const char *dir;
	char tmp[PATH_MAX - 64];
};

enum phase { THROUGHPUT, SEQUENTIAL };

/* What one group runs: read by every member process (forked copies). */
struct run {
	const struct options *o;
	enum mode mode;
	size_t size;
	enum phase phase;
	char dir[PATH_MAX]; /* member r logs in dir/m<r> */
};

/* Written by the callbacks (engine thread); read by the member's main
 * thread after a delivery_count wait, whose lock orders them. */
struct tally {
	struct delivery_count delivered;
	struct delivery_count persisted; /* 1 once the frontier covers last_version */
	uint64_t expected;
	uint64_t count;
	uint64_t first_ns, last_ns;
	uint64_t last_version; /* of the expected-th delivery */
	uint64_t persisted_ns;
	atomic_bool departed; /* a view removed someone: stop waiting */
};

static void tally_init(struct tally *t, uint64_t expected)
{
	memset(t, 0, sizeof *t);
	delivery_count_init(&t->delivered);
	delivery_count_init(&t->persisted);
	t->expected = expected;
}

static void tally_destroy(struct tally *t)
{
	delivery_count_destroy(&t->delivered);
	delivery_count_destroy(&t->persisted);
}

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	(void)g;
	struct tally *t = user;
	uint64_t now = clock_now_ns();
	if (t->first_ns == 0)
		t->first_ns = now;
	if (++t->count <= t->expected)
		t->last_ns = now;
	if (t->count == t->expected)
		t->last_version = m->version;
	delivery_count_add(&t->delivered);
}

/* Runs after the deliver callback of `version`, so last_version is set
 * by the time a frontier covering it is reported. */
static void on_persisted(grp_t *g, uint64_t version, void *user)
{
	(void)g;
	struct tally *t = user;
	if (t->last_version && !t->persisted_ns && version >= t->last_version) {
		t->persisted_ns = clock_now_ns();
		delivery_count_add(&t->persisted);
	}
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct tally *t = user;
	if (v->n_departed)
		atomic_store(&t->departed, true);
}

/* Waits until `target` on c, or a member departs, or timeout_ms pass;
 * member 0 reports progress once a second when `label` is set. */
static int await_count(const struct local_member *m, struct tally *t, struct delivery_count *c,
		       uint64_t target, unsigned timeout_ms, const char *label)
{
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	while (delivery_count_await(c, target, 1000) != 0) {
		if (clock_ms_left(deadline) == 0 || atomic_load(&t->departed))
			return 1;
		if (label && m->rank == 0)
			local_member_report(m, "progress,%s,%llu,%llu", label,
					    (unsigned long long)delivery_count_get(c),
					    (unsigned long long)target);
	}
	return 0;
}

static grp_t *join(const struct local_member *m, const struct run *r, const char *senders,
		   struct tally *t)
{
	char size[32], dir[PATH_MAX + 16];
	snprintf(size, sizeof size, "%zu", r->size);
	snprintf(dir, sizeof dir, "%s/m%u", r->dir, m->rank);
	const char *settings[] = { "multicast.max_smc_payload", size,
				   "multicast.send_timeout_ms", SEND_TIMEOUT,
				   "persist.mode", mode_names[r->mode],
				   r->mode == MODE_OFF ? NULL : "persist.dir", dir,
				   NULL };
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view,
			     .persisted = on_persisted };
	grp_t *g = NULL;
	return perf_join_with(m, senders, settings, &cb, t, &g) ? NULL : g;
}

/* Every member sends flat out; member 0 reports its delivery and
 * persistence times. Then member 0 sends one more message, which every
 * member waits for before it leaves: nobody leaves (changing the view the
 * frontier is taken over) before member 0 has its figures. */
static int throughput_member(const struct local_member *m, const struct run *r)
{
	struct tally t;
	tally_init(&t, (uint64_t)r->o->messages * m->n);
	grp_t *g = join(m, r, "all", &t);
	if (!g) {
		tally_destroy(&t);
		return 1;
	}
	int rc = 0;
	void *payload = calloc(1, r->size);
	for (unsigned i = 0; i < r->o->messages && !rc; i++)
		rc = grp_send(g, payload, r->size);
	if (rc)
		local_member_report(m, "error,member %u: grp_send: %s", m->rank, grp_strerror(rc));
	if (!rc && await_count(m, &t, &t.delivered, t.expected, WAIT_MS, "delivered")) {
		local_member_report(m, "error,member %u: %llu of %llu delivered", m->rank,
				    (unsigned long long)delivery_count_get(&t.delivered),
				    (unsigned long long)t.expected);
		rc = 1;
	}
	bool persisted = true;
	if (!rc && r->mode != MODE_OFF &&
	    await_count(m, &t, &t.persisted, 1, PERSIST_WAIT_MS, NULL)) {
		persisted = false;
		local_member_report(m,
				    "error,member %u: persisted everywhere stays at %#llx after "
				    "%u ms; the last delivery is %#llx",
				    m->rank, (unsigned long long)grp_persisted(g), PERSIST_WAIT_MS,
				    (unsigned long long)t.last_version);
	}
	if (!rc && m->rank == 0) {
		double deliver_s = (double)(t.last_ns - t.first_ns) / 1e9;
		double persist_s = r->mode != MODE_OFF && persisted
					   ? (double)(t.persisted_ns - t.first_ns) / 1e9
					   : NAN;
		local_member_report(m, "throughput,%llu,%.6f,%.6f", (unsigned long long)t.expected,
				    deliver_s, persist_s);
		rc = grp_send(g, payload, 1);
	}
	if (!rc)
		rc = await_count(m, &t, &t.delivered, t.expected + 1, WAIT_MS, NULL);
	free(payload);
	grp_leave(g);
	grp_free(g);
	tally_destroy(&t);
	return rc ? 1 : 0;
}

/* Member 0 sends one message at a time and times each; the others
 * deliver. */
static int sequential_member(const struct local_member *m, const struct run *r)
{
	unsigned warmup = r->o->iters / 10, total = r->o->iters + warmup;
	struct tally t;
	tally_init(&t, total);
	grp_t *g = join(m, r, "0", &t);
	if (!g) {
		tally_destroy(&t);
		return 1;
	}
	int rc = 0;
	if (m->rank == 0) {
		double *us = calloc(r->o->iters, sizeof *us);
		void *payload = calloc(1, r->size);
		rc = us && payload ? 0 : 1;
		uint64_t next_progress = clock_deadline_ms(1000);
		for (unsigned i = 0; i < total && !rc; i++) {
			uint64_t t0 = clock_now_ns();
			if (r->mode == MODE_OFF) {
				rc = grp_send(g, payload, r->size);
				if (!rc && delivery_count_await(&t.delivered, i + 1, WAIT_MS))
					rc = GRP_ETIMEDOUT;
			} else {
				rc = grp_send_durable(g, payload, r->size);
			}
			uint64_t t1 = clock_now_ns();
			if (rc)
				local_member_report(m, "error,member 0: message %u of %u: %s after "
						    "%.1f ms", i + 1, total, grp_strerror(rc),
						    (double)(t1 - t0) / 1e6);
			else if (i >= warmup)
				us[i - warmup] = (double)(t1 - t0) / 1000.0;
			if (t1 >= next_progress) {
				local_member_report(m, "progress,sent,%u,%u", i + 1, total);
				next_progress = t1 + 1000000000u;
			}
		}
		if (!rc)
			local_member_report(m, "sequential,%u,%.1f,%.1f", r->o->iters,
					    perf_percentile(us, r->o->iters, 50),
					    perf_percentile(us, r->o->iters, 99));
		free(us);
		free(payload);
	} else if (await_count(m, &t, &t.delivered, total, WAIT_MS, NULL)) {
		local_member_report(m, "error,member %u: %llu of %u delivered", m->rank,
				    (unsigned long long)delivery_count_get(&t.delivered), total);
		rc = 1;
	}
	grp_leave(g);
	grp_free(g);
	tally_destroy(&t);
	return rc ? 1 : 0;
}

static int member(const struct local_member *m, void *arg)
{
	const struct run *r = arg;
	return r->phase == THROUGHPUT ? throughput_member(m, r) : sequential_member(m, r);
}

/* One (mode, size): NAN where there is no figure. */
struct result {
	bool ran;
	uint64_t delivered;
	double deliver_s, persist_s;
	double msgs_per_s, persisted_per_s, lag_ms;
	double median_us, p99_us;
	bool failed;
};

struct collected {
	const struct run *run;
	struct result *res;
};

static void show(const char *line, void *arg)
{
	struct collected *c = arg;
	struct result *res = c->res;
	char label[32];
	unsigned long long done, total, delivered;
	double a, b;
	unsigned n;
	if (strncmp(line, "error,", 6) == 0) {
		printf("  ! %s %zu B: %s\n", mode_names[c->run->mode], c->run->size, line + 6);
		res->failed = true;
	} else if (sscanf(line, "progress,%31[^,],%llu,%llu", label, &done, &total) == 3) {
		fprintf(stderr, "[durable %s %zu B: %llu/%llu %s at member 0]\n",
			mode_names[c->run->mode], c->run->size, done, total, label);
	} else if (sscanf(line, "throughput,%llu,%lf,%lf", &delivered, &a, &b) == 3) {
		res->delivered = delivered;
		res->deliver_s = a;
		res->persist_s = b;
		res->msgs_per_s = a > 0 ? (double)(delivered - 1) / a : NAN;
		res->persisted_per_s = b > 0 ? (double)(delivered - 1) / b : NAN;
		res->lag_ms = isnan(b) ? NAN : (b - a) * 1e3;
	} else if (sscanf(line, "sequential,%u,%lf,%lf", &n, &a, &b) == 3) {
		res->median_us = a;
		res->p99_us = b;
	}
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "durable: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Starts one group with fresh logs, collects its lines, removes its logs. */
static int run_group(const struct options *o, enum mode mode, size_t size, enum phase phase,
		     struct result *res)
{
	struct run r = { .o = o, .mode = mode, .size = size, .phase = phase };
	snprintf(r.dir, sizeof r.dir, "%s/%s-%zu-%s", o->tmp, mode_names[mode], size,
		 phase == THROUGHPUT ? "throughput" : "sequential");
	if (mkdir(r.dir, 0700) != 0) {
		fprintf(stderr, "durable: cannot create %s: %s\n", r.dir, strerror(errno));
		return 1;
	}
	struct local_group *lg = local_group_start(o->members, member, &r);
	if (!lg)
		return 1;
	struct collected c = { &r, res };
	perf_collect(lg, o->members, NULL, show, &c, WAIT_MS);
	int status[64];
	int rc = local_group_finish(lg, 60000, status);
	const char *what = phase == THROUGHPUT ? "throughput" : "sequential";
	for (unsigned i = 0; i < o->members && rc; i++)
		if (status[i] != 0)
			printf("  ! %s %zu B %s: member %u exited with status %d\n",
			       mode_names[mode], size, what, i, status[i]);
	remove_tree(r.dir);
	if (rc)
		res->failed = true;
	return rc;
}

/* The disk's floor: SYNC_BYTES appended into a preallocated file, then
 * fdatasync, SYNC_SAMPLES times (after 10 not counted). */
static int measure_fdatasync(const char *tmp, double *median_us, double *p99_us)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/fdatasync-probe", tmp);
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "durable: cannot create %s: %s\n", path, strerror(errno));
		return 1;
	}
	unsigned warmup = 10, total = SYNC_SAMPLES + warmup;
	off_t length = (off_t)total * SYNC_BYTES + (1 << 20);
	int rc = posix_fallocate(fd, 0, length);
	if (rc == 0)
		rc = fsync(fd) ? errno : 0;
	if (rc)
		fprintf(stderr, "durable: cannot preallocate %s: %s\n", path, strerror(rc));
	double *us = calloc(SYNC_SAMPLES, sizeof *us);
	char block[SYNC_BYTES];
	memset(block, 0x5a, sizeof block);
	for (unsigned i = 0; i < total && !rc && us; i++) {
		uint64_t t0 = clock_now_ns();
		off_t at = (off_t)i * SYNC_BYTES;
		if (pwrite(fd, block, sizeof block, at) != (ssize_t)sizeof block ||
		    fdatasync(fd) != 0) {
			fprintf(stderr, "durable: write + fdatasync on %s: %s\n", path,
				strerror(errno));
			rc = 1;
		}
		if (i >= warmup)
			us[i - warmup] = (double)(clock_now_ns() - t0) / 1000.0;
	}
	close(fd);
	unlink(path);
	if (!rc && us) {
		*median_us = perf_percentile(us, SYNC_SAMPLES, 50);
		*p99_us = perf_percentile(us, SYNC_SAMPLES, 99);
	}
	free(us);
	return rc || !us;
}

static const char *fs_name(long type)
{
	switch ((unsigned long)type) {
	case 0x01021994: return "tmpfs";
	case 0xef53: return "ext2/3/4";
	case 0x58465342: return "xfs";
	case 0x9123683e: return "btrfs";
	case 0x794c7630: return "overlayfs";
	case 0x2fc12fc1: return "zfs";
	case 0xf2f52010: return "f2fs";
	case 0x6969: return "nfs";
	case 0x65735546: return "fuse";
	case 0x858458f6: return "ramfs";
	default: return "unknown";
	}
}

static const char *plot_script =
	"set terminal pngcairo size 1600,600\n"
	"set output outfile\n"
	"set datafile separator ','\n"
	"set datafile missing NaN\n"
	"set multiplot layout 1,2 title sprintf('persist.mode: %d members on 127.0.0.1, "
	"logs on %s', members, fs)\n"
	"set style fill solid 0.7 border -1\n"
	"set boxwidth 0.4\n"
	"set logscale y\n"
	"set grid ytics\n"
	"set xtics ('off 1K' 0, 'off 10K' 1, 'async 1K' 3, 'async 10K' 4, 'durable 1K' 6, "
	"'durable 10K' 7)\n"
	"set xrange [-0.8:7.8]\n"
	"set key top right font ',9'\n"
	"set xtics font ',9'\n"
	"pos(m, b) = (m eq 'off' ? 0 : m eq 'async' ? 3 : 6) + (b > 1024 ? 1 : 0)\n"
	"set title 'Throughput at member 0, every member sending flat out'\n"
	"set ylabel 'messages/s'\n"
	"set yrange [100:*]\n"
	"plot 'durable.csv' using (stringcolumn(1) eq 'throughput' ? "
	"pos(stringcolumn(2), $3) - 0.2 : NaN):6 with boxes lc rgb '#4070c0' title 'delivered', "
	"'' using (stringcolumn(1) eq 'throughput' ? pos(stringcolumn(2), $3) + 0.2 : NaN):8 "
	"with boxes lc rgb '#c04040' title 'persisted everywhere', "
	"2896 with lines dt 2 lc 'black' title 'etcd 3.4, 1 KiB, 32 clients', "
	"28960 with lines dt 3 lc 'red' title 'target: 10x etcd'\n"
	"set title 'Member 0 alone, one at a time: grp\\_send\\_durable "
	"(off: grp\\_send + own delivery)'\n"
	"set key top left font ',9'\n"
	"set ylabel 'microseconds'\n"
	"set yrange [1:*]\n"
	"plot 'durable.csv' using (stringcolumn(1) eq 'sequential' ? "
	"pos(stringcolumn(2), $3) - 0.2 : NaN):10 with boxes lc rgb '#4070c0' title 'median', "
	"'' using (stringcolumn(1) eq 'sequential' ? pos(stringcolumn(2), $3) + 0.2 : NaN):11 "
	"with boxes lc rgb '#c04040' title 'p99', "
	"1200 with lines dt 2 lc 'black' title 'etcd 3.4, one client, 1 KiB', "
	"300 with lines dt 3 lc 'red' title 'target 0.3 ms', "
	"syncus with lines dt 4 lc 'dark-green' title '1 KiB write + fdatasync, median'\n"
	"unset multiplot\n";

static void csv_row(FILE *csv, const char *phase, const char *mode, size_t bytes, unsigned members,
		    uint64_t count, double rate, double mbps, double persisted_rate, double lag_ms,
		    double median_us, double p99_us, const char *fs)
{
	fprintf(csv, "%s,%s,%zu,%u,%llu,%.0f,%.2f,%.0f,%.2f,%.1f,%.1f,%.2f,%s\n", phase, mode,
		bytes, members, (unsigned long long)count, rate, mbps, persisted_rate, lag_ms,
		median_us, p99_us, perf_loadavg(), fs);
	fflush(csv);
}

static void print_row(enum mode mode, size_t size, const struct result *r)
{
	char persisted[32] = "-", lag[32] = "-", seq[64] = "-";
	if (mode != MODE_OFF && !isnan(r->persisted_per_s)) {
		snprintf(persisted, sizeof persisted, "%.0f", r->persisted_per_s);
		snprintf(lag, sizeof lag, "%.1f", r->lag_ms);
	} else if (mode != MODE_OFF) {
		snprintf(persisted, sizeof persisted, "n/a");
	}
	if (!isnan(r->median_us))
		snprintf(seq, sizeof seq, "%9.1f %9.1f", r->median_us, r->p99_us);
	char delivered[32] = "n/a", mbps[32] = "n/a";
	if (!isnan(r->msgs_per_s)) {
		snprintf(delivered, sizeof delivered, "%.0f", r->msgs_per_s);
		snprintf(mbps, sizeof mbps, "%.1f", r->msgs_per_s * (double)size / 1e6);
	}
	printf("  %-8s %3zu KiB %12s %8s %14s %9s   %-19s%s\n", mode_names[mode], size / 1024,
	       delivered, mbps, persisted, lag, seq, r->failed ? "  (failures above)" : "");
}

static void verdict(const char *what, int decimals, double ours, double theirs,
		    bool higher_better, double target)
{
	if (isnan(ours)) {
		printf("  %-44s n/a\n", what);
		return;
	}
	bool met = higher_better ? ours >= target : ours <= target;
	double factor = higher_better ? ours / theirs : theirs / ours;
	printf("  %-44s %9.*f  = %.2fx etcd; target %s%.*f: %s\n", what, decimals, ours, factor,
	       higher_better ? ">= " : "<= ", decimals, target, met ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	struct options o = { .members = 3, .messages = 20000, .iters = 2000, .tmp_base = "/tmp",
			     .dir = "perf-results" };
	int opt;
	while ((opt = getopt(argc, argv, "n:m:i:d:o:")) != -1) {
		switch (opt) {
		case 'n': o.members = (unsigned)atoi(optarg); break;
		case 'm': o.messages = (unsigned)atoi(optarg); break;
		case 'i': o.iters = (unsigned)atoi(optarg); break;
		case 'd': o.tmp_base = optarg; break;
		case 'o': o.dir = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc || o.members < 1 || o.members > 64 || o.messages < 2 || o.iters < 10)
		goto usage;
	size_t need = (size_t)snprintf(o.tmp, sizeof o.tmp, "%s/durable-XXXXXX", o.tmp_base);
	if (need >= sizeof o.tmp || !mkdtemp(o.tmp)) {
		fprintf(stderr, "durable: cannot make a directory in %s: %s\n", o.tmp_base,
			strerror(errno));
		return 1;
	}
	struct statfs sfs;
	char fs[64];
	if (statfs(o.tmp, &sfs) == 0)
		snprintf(fs, sizeof fs, "%s (0x%lx)", fs_name((long)sfs.f_type),
			 (unsigned long)sfs.f_type);
	else
		snprintf(fs, sizeof fs, "unknown (%s)", strerror(errno));
	FILE *csv = perf_csv_open(o.dir, "durable.csv",
				  "phase,mode,bytes,members,count,msgs_per_s,MB_per_s,"
				  "persisted_msgs_per_s,persist_lag_ms,median_us,p99_us,loadavg,"
				  "fs");
	if (!csv) {
		remove_tree(o.tmp);
		return 1;
	}
	printf("durable: %u members on 127.0.0.1; logs in %s, filesystem %s; load avg %.2f\n",
	       o.members, o.tmp, fs, perf_loadavg());
	printf("  throughput: every member sends %u messages flat out; sequential: member 0, "
	       "%u messages one at a time (after %u not counted)\n",
	       o.messages, o.iters, o.iters / 10);

	double sync_median = NAN, sync_p99 = NAN;
	int failures = 0;
	fprintf(stderr, "[durable: %u x (%u B write + fdatasync) in %s]\n", SYNC_SAMPLES,
		SYNC_BYTES, o.tmp);
	if (measure_fdatasync(o.tmp, &sync_median, &sync_p99) == 0) {
		printf("  disk: %u B written into a preallocated file + fdatasync: median %.1f us, "
		       "p99 %.1f us\n",
		       SYNC_BYTES, sync_median, sync_p99);
		csv_row(csv, "fdatasync", "-", SYNC_BYTES, 1, SYNC_SAMPLES, NAN, NAN, NAN, NAN,
			sync_median, sync_p99, fs);
	} else {
		failures++;
	}

	struct result res[N_MODES][N_SIZES];
	unsigned done = 0, phases = N_MODES * N_SIZES * 2;
	printf("\n  %-8s %7s %12s %8s %14s %9s   %s\n", "mode", "size", "delivered/s", "MB/s",
	       "persisted/s", "lag ms", "sequential us: median  p99");
	for (int m = 0; m < N_MODES; m++) {
		for (size_t s = 0; s < N_SIZES; s++) {
			struct result *r = &res[m][s];
			*r = (struct result){ .deliver_s = NAN, .persist_s = NAN, .msgs_per_s = NAN,
					      .persisted_per_s = NAN, .lag_ms = NAN,
					      .median_us = NAN, .p99_us = NAN };
			char label[64];
			snprintf(label, sizeof label, "%s %zu B throughput", mode_names[m],
				 sizes[s]);
			perf_progress(label, done, phases);
			failures += run_group(&o, (enum mode)m, sizes[s], THROUGHPUT, r) != 0;
			done++;
			if (!isnan(r->msgs_per_s))
				csv_row(csv, "throughput", mode_names[m], sizes[s], o.members,
					r->delivered, r->msgs_per_s,
					r->msgs_per_s * (double)sizes[s] / 1e6, r->persisted_per_s,
					r->lag_ms, NAN, NAN, fs);
			snprintf(label, sizeof label, "%s %zu B sequential", mode_names[m],
				 sizes[s]);
			perf_progress(label, done, phases);
			failures += run_group(&o, (enum mode)m, sizes[s], SEQUENTIAL, r) != 0;
			done++;
			if (!isnan(r->median_us))
				csv_row(csv, "sequential", mode_names[m], sizes[s], o.members,
					o.iters, NAN, NAN, NAN, NAN, r->median_us, r->p99_us, fs);
			print_row((enum mode)m, sizes[s], r);
		}
	}
	perf_progress("done", done, phases);
	fclose(csv);
	remove_tree(o.tmp);

	printf("\n  delivered/s: messages/s delivered at member 0, first to last delivery; "
	       "persisted/s: the same until the\n  persisted callback covered the last "
	       "delivery (in every member's log; durable: on disk); lag: that moment minus\n"
	       "  the last delivery. sequential: grp_send_durable call to return "
	       "(off: grp_send + own delivery).\n");
	printf("\n  reference: etcd 3.4, 3 members on 127.0.0.1, 1 KiB puts: %.0f puts/s with "
	       "32 clients (p50 %.1f ms),\n  %.1f ms per put for one sequential client\n",
	       ETCD_PUTS_PER_S, ETCD_P50_MS, ETCD_SEQ_MS);
	const struct result *durable_1k = &res[MODE_DURABLE][0], *async_1k = &res[MODE_ASYNC][0];
	double target_rate = TARGET_FACTOR * ETCD_PUTS_PER_S;
	verdict("durable 1 KiB, persisted everywhere, msgs/s", 0, durable_1k->persisted_per_s,
		ETCD_PUTS_PER_S, true, target_rate);
	verdict("durable 1 KiB, sequential median, ms", 3, durable_1k->median_us / 1e3,
		ETCD_SEQ_MS, false, TARGET_SEQ_MS);
	verdict("async 1 KiB, persisted everywhere, msgs/s", 0, async_1k->persisted_per_s,
		ETCD_PUTS_PER_S, true, target_rate);
	verdict("async 1 KiB, sequential median, ms", 3, async_1k->median_us / 1e3, ETCD_SEQ_MS,
		false, TARGET_SEQ_MS);
	printf("  (the disk's floor for one durable message: %.3f ms median, %.3f ms p99 "
	       "for 1 KiB + fdatasync)\n",
	       sync_median / 1e3, sync_p99 / 1e3);
	printf("  load avg at the end %.2f; rows in %s/durable.csv\n", perf_loadavg(), o.dir);

	char script[8192];
	snprintf(script, sizeof script, "members = %u\nfs = '%s'\nsyncus = %g\n%s", o.members, fs,
		 isnan(sync_median) ? 0.0 : sync_median, plot_script);
	perf_plot(o.dir, "durable.png", script);
	return failures ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-n MEMBERS] [-m MESSAGES_PER_MEMBER] [-i ITERATIONS] "
		"[-d TMPDIR] [-o DIR]\n", argv[0]);
	return 2;
}
