/* What every benchmark shares: percentiles, CSV files, PNG plots through
 * gnuplot, and a progress line on stderr for long runs. */
#ifndef GRP_PERF_REPORT_H
#define GRP_PERF_REPORT_H

#include <stddef.h>
#include <stdio.h>

/* Sorts v in place and returns the p-th percentile (0..100). */
double perf_percentile(double *v, size_t n, double p);

/* Opens `dir`/`name` for writing (creating dir), writes the header line.
 * NULL with a message on error. */
FILE *perf_csv_open(const char *dir, const char *name, const char *header);

/* Runs gnuplot on `script` with the variable `outfile` set; prints where the
 * PNG went, or why there is none (gnuplot missing). */
void perf_plot(const char *dir, const char *png_name, const char *script);

/* A "[label done/total]" line on stderr. */
void perf_progress(const char *label, unsigned done, unsigned total);

#endif
