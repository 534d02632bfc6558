/* groupctl: operator's tool.
 *
 *   groupctl config [-c FILE]   print every key with its effective value
 *                               (defaults, then FILE, then GROUP_* variables),
 *                               default, environment variable and help;
 *                               exit 1 naming the first bad key or value.
 *   groupctl keygen FILE        write a new group secret (32 random bytes
 *                               as hex) to FILE, readable by its owner
 *                               only, for group.secret_file; never
 *                               overwrites an existing file. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <group/config.h>

static int usage(void)
{
	fprintf(stderr, "usage: groupctl config [-c FILE]\n"
			"       groupctl keygen FILE\n");
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

#define SECRET_BYTES 32

static int keygen(const char *path)
{
	unsigned char secret[SECRET_BYTES];
	char text[2 * SECRET_BYTES + 1];
	if (getrandom(secret, sizeof secret, 0) != (ssize_t)sizeof secret) {
		fprintf(stderr, "groupctl: no randomness: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof secret; i++)
		sprintf(text + 2 * i, "%02x", secret[i]);
	text[2 * SECRET_BYTES] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, text, sizeof text) == (ssize_t)sizeof text;
	if (!ok)
		fprintf(stderr, "groupctl: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(text, sizeof text);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "keygen") == 0)
		return keygen(argv[2]);
	if (argc < 2 || strcmp(argv[1], "config") != 0)
		return usage();
	if (argc == 2)
		return show_config(NULL);
	if (argc == 4 && strcmp(argv[2], "-c") == 0)
		return show_config(argv[3]);
	return usage();
}
