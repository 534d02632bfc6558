#include "report.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double perf_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, compare_doubles);
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

FILE *perf_csv_open(const char *dir, const char *name, const char *header)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return NULL;
	}
	fprintf(f, "%s\n", header);
	return f;
}

void perf_plot(const char *dir, const char *png_name, const char *script)
{
	if (system("command -v gnuplot > /dev/null 2>&1") != 0) {
		printf("plot: gnuplot is not installed; the CSV is in %s\n", dir);
		return;
	}
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot -e \"outfile='%s'\" - 2>&1", dir, png_name);
	FILE *g = popen(cmd, "w");
	if (!g) {
		printf("plot: cannot run gnuplot\n");
		return;
	}
	fputs(script, g);
	int st = pclose(g);
	if (st == 0)
		printf("plot: %s/%s\n", dir, png_name);
	else
		printf("plot: gnuplot failed (status %d); the CSV is still in %s\n", st, dir);
}

int perf_await_deliveries(grp_t *g, struct delivery_count *c, uint64_t target,
			  unsigned timeout_ms, unsigned long *wakeups)
{
	int fd = grp_fd(g);
	if (fd < 0)
		return delivery_count_await(c, target, timeout_ms);
	uint64_t deadline = clock_deadline_ms(timeout_ms);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (delivery_count_get(c) < target) {
		int left = clock_ms_left(deadline);
		if (left <= 0 || (poll(&p, 1, left) < 0 && errno != EINTR))
			return -1;
		if (wakeups && p.revents)
			(*wakeups)++;
		while (grp_dispatch(g, 64) > 0)
			;
	}
	return 0;
}

double perf_loadavg(void)
{
	double l = NAN;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = NAN;
		fclose(f);
	}
	return l;
}

void perf_sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

void perf_sleep_until(uint64_t ns)
{
	struct timespec t = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

void perf_progress(const char *label, unsigned done, unsigned total)
{
	fflush(stdout);
	fprintf(stderr, "[%s %u/%u]\n", label, done, total);
}

void perf_collect(struct local_group *lg, unsigned n, FILE *csv, perf_line_fn show, void *arg,
		  unsigned timeout_ms)
{
	char line[512];
	for (unsigned r = 0; r < n; r++) {
		while (local_group_read_line(lg, r, line, sizeof line, timeout_ms) == 0) {
			if (csv)
				fprintf(csv, "%s\n", line);
			show(line, arg);
			fflush(stdout);
		}
	}
}

void perf_rank_range(unsigned first, unsigned count, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned r = first; r < first + count && off < len; r++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", off ? "," : "", r);
}

int perf_join_with(const struct local_member *m, const char *senders, const char *const *settings,
		   const grp_callbacks *cb, void *user, grp_t **out)
{
	grp_config *cfg = local_member_config(m);
	int rc = cfg ? grp_config_set(cfg, "multicast.senders", senders) : GRP_ENOMEM;
	for (size_t i = 0; !rc && settings && settings[i]; i += 2)
		rc = grp_config_set(cfg, settings[i], settings[i + 1]);
	if (!rc)
		rc = grp_join(cfg, cb, user, out);
	if (rc)
		fprintf(stderr, "member %u: cannot join: %s\n", m->rank,
			rc == GRP_ECONFIG && cfg ? grp_config_error(cfg) : grp_strerror(rc));
	grp_config_free(cfg);
	return rc;
}

grp_t *perf_join(const struct local_member *m, const char *senders, const char *const *settings,
		 void (*deliver)(grp_t *g, const grp_delivery *msg, void *user), void *user)
{
	grp_callbacks cb = { .size = sizeof cb, .deliver = deliver };
	grp_t *g = NULL;
	return perf_join_with(m, senders, settings, &cb, user, &g) ? NULL : g;
}
