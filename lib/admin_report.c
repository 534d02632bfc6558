#include "admin_report.h"

#include <inttypes.h>

#define NAME_WIDTH 22

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* The separator and name of the next member of a JSON object. */
static void json_member(struct report *r, const char *name)
{
	fputs(r->first ? "" : ",", r->out);
	r->first = false;
	json_string(r->out, name);
	fputc(':', r->out);
}

void report_begin(struct report *r, FILE *out, bool json)
{
	*r = (struct report){ .out = out, .json = json, .first = true };
	if (json)
		fputc('{', out);
}

void report_end(struct report *r)
{
	if (r->json)
		fputs("}\n", r->out);
}

void report_u64(struct report *r, const char *name, uint64_t value)
{
	if (r->json) {
		json_member(r, name);
		fprintf(r->out, "%" PRIu64, value);
	} else {
		fprintf(r->out, "%-*s %" PRIu64 "\n", NAME_WIDTH, name, value);
	}
}

void report_str(struct report *r, const char *name, const char *value)
{
	if (r->json) {
		json_member(r, name);
		json_string(r->out, value);
	} else {
		fprintf(r->out, "%-*s %s\n", NAME_WIDTH, name, value);
	}
}

void report_table_begin(struct report *r, const char *name, const struct report_column *columns,
			unsigned n_columns)
{
	r->columns = columns;
	r->n_columns = n_columns;
	if (r->json) {
		json_member(r, name);
		fputc('[', r->out);
		r->first = true;
		return;
	}
	fputc('\n', r->out);
	const char *names[n_columns];
	for (unsigned c = 0; c < n_columns; c++)
		names[c] = columns[c].name;
	report_row(r, names);
}

void report_row(struct report *r, const char *const *values)
{
	if (!r->json) {
		for (unsigned c = 0; c + 1 < r->n_columns; c++)
			fprintf(r->out, "%-*s ", (int)r->columns[c].width, values[c]);
		fprintf(r->out, "%s\n", values[r->n_columns - 1]);
		return;
	}
	fputs(r->first ? "{" : ",{", r->out);
	r->first = true;
	for (unsigned c = 0; c < r->n_columns; c++) {
		json_member(r, r->columns[c].name);
		if (r->columns[c].numeric)
			fputs(values[c], r->out);
		else
			json_string(r->out, values[c]);
	}
	fputc('}', r->out);
	r->first = false;
}

void report_table_end(struct report *r)
{
	if (r->json)
		fputc(']', r->out);
	r->first = false;
}
