/* groupctl: operator's tool.
 *
 *   groupctl config [-c FILE]   print every key with its effective value
 *                               (defaults, then FILE, then GROUP_* variables),
 *                               default, environment variable and help;
 *                               exit 1 naming the first bad key or value. */
#include <stdio.h>
#include <string.h>

#include <group/config.h>

static int usage(void)
{
	fprintf(stderr, "usage: groupctl config [-c FILE]\n");
	return 2;
}

static int show_config(const char *path)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0)
		return 1;
	int rc = path ? grp_config_load_file(cfg, path) : 0;
	if (!rc)
		rc = grp_config_apply_env(cfg);
	if (!rc)
		rc = grp_config_dump(cfg, stdout);
	if (rc)
		fprintf(stderr, "groupctl: %s (%s)\n", grp_config_error(cfg), grp_strerror(rc));
	grp_config_free(cfg);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "config") != 0)
		return usage();
	if (argc == 2)
		return show_config(NULL);
	if (argc == 4 && strcmp(argv[2], "-c") == 0)
		return show_config(argv[3]);
	return usage();
}
