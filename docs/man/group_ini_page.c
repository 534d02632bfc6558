/* Writes group.ini(5) to standard output: the page's text from TEMPLATE,
 * with the line @KEYS@ replaced by every configuration key as the library
 * declares it, so that the page cannot drift from the key table. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <group/config.h>

#include "config_man.h"

#define KEYS_LINE "@KEYS@\n"
#define LINE_MAX_CHARS 4096

static int copy_template(FILE *in, const grp_config *cfg)
{
	char line[LINE_MAX_CHARS];
	bool keys_written = false;
	while (fgets(line, sizeof line, in)) {
		if (strcmp(line, KEYS_LINE) != 0) {
			fputs(line, stdout);
		} else if (config_man_write(cfg, stdout) == 0) {
			keys_written = true;
		} else {
			return 1;
		}
	}
	if (!keys_written)
		fprintf(stderr, "group_ini_page: the template has no @KEYS@ line\n");
	return keys_written && !ferror(in) && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: group_ini_page TEMPLATE\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	grp_config *cfg;
	int rc = 1;
	if (grp_config_new(&cfg) == 0) {
		rc = copy_template(in, cfg);
		grp_config_free(cfg);
	}
	fclose(in);
	return rc;
}
