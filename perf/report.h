/* What every benchmark shares: percentiles, CSV files, PNG plots through
 * gnuplot, and a progress line on stderr for long runs. */
#ifndef GRP_PERF_REPORT_H
#define GRP_PERF_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <group/group.h>

#include "delivery_count.h"
#include "localgroup.h"

/* Sorts v in place and returns the p-th percentile (0..100). */
double perf_percentile(double *v, size_t n, double p);

/* Opens `dir`/`name` for writing (creating dir), writes the header line.
 * NULL with a message on error. */
FILE *perf_csv_open(const char *dir, const char *name, const char *header);

/* Runs gnuplot on `script` with the variable `outfile` set; prints where the
 * PNG went, or why there is none (gnuplot missing). */
void perf_plot(const char *dir, const char *png_name, const char *script);

typedef void (*perf_line_fn)(const char *line, void *arg);

/* Reads the lines members report, member by member until each has exited
 * (or timeout_ms passes without a line), appends each to csv when csv is
 * not NULL, and hands it to show. */
void perf_collect(struct local_group *lg, unsigned n, FILE *csv, perf_line_fn show, void *arg,
		  unsigned timeout_ms);

/* Writes count consecutive ranks from `first`, "2,3,4", as multicast.senders
 * takes them. */
void perf_rank_range(unsigned first, unsigned count, char *buf, size_t len);

/* Joins this member's group with only `senders` sending ("all", "0",
 * "0,2", ...) and the settings, key and value in turn, up to a NULL key
 * (settings itself may be NULL). NULL, with the reason on stderr, if it
 * cannot. */
grp_t *perf_join(const struct local_member *m, const char *senders, const char *const *settings,
		 void (*deliver)(grp_t *g, const grp_delivery *msg, void *user), void *user);
/* The same with callbacks of one's own (view, state transfer): 0 and *out,
 * or grp_join's error, with the reason on stderr. */
int perf_join_with(const struct local_member *m, const char *senders, const char *const *settings,
		   const grp_callbacks *cb, void *user, grp_t **out);

/* Waits until the count c reaches target (the deliver callback adds to
 * it): in engine mode on the count; in dispatch mode (grp_fd answers) on a
 * poll(2) loop over grp_fd on this thread, which runs the callbacks. 0, or
 * -1 once timeout_ms passed. wakeups (may be NULL) counts the loop's
 * returns from poll. */
int perf_await_deliveries(grp_t *g, struct delivery_count *c, uint64_t target,
			  unsigned timeout_ms, unsigned long *wakeups);

/* The 1-minute load average, NAN if /proc does not tell: every figure is
 * reported with it, for other work on the host skews them. */
double perf_loadavg(void);

/* Sleeps ms milliseconds, through signals. */
void perf_sleep_ms(unsigned ms);
/* Sleeps until CLOCK_MONOTONIC reaches ns, through signals. */
void perf_sleep_until(uint64_t ns);

/* A "[label done/total]" line on stderr. */
void perf_progress(const char *label, unsigned done, unsigned total);

#endif
