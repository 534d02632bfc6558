/* What the admin socket answers, written once for two readers: aligned
 * "name: value" lines and tables for people, JSON for scripts. */
#ifndef GRP_LIB_ADMIN_REPORT_H
#define GRP_LIB_ADMIN_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct report {
	FILE *out;
	bool json;
	bool first;   /* no member written yet in the current JSON object or array */
	bool in_row;
	unsigned n_columns;
	const struct report_column *columns;
};

struct report_column {
	const char *name;
	unsigned width;  /* in the text form */
	bool numeric;    /* a JSON number, not a string */
};

void report_begin(struct report *r, FILE *out, bool json);
void report_end(struct report *r);
void report_u64(struct report *r, const char *name, uint64_t value);
void report_str(struct report *r, const char *name, const char *value);
/* A table of rows under name; each row gives one value per column, as
 * text (numeric columns hold decimal digits). */
void report_table_begin(struct report *r, const char *name, const struct report_column *columns,
			unsigned n_columns);
void report_row(struct report *r, const char *const *values);
void report_table_end(struct report *r);

#endif
