/* groupctl: operator's tool.
 *
 *   groupctl status [-s SOCKET] [--json]
 *                               a running member's group, view, members
 *                               (ids, addresses, ranks, leader) and state;
 *   groupctl stats [-s SOCKET] [--json] [-i SECONDS [-n COUNT]]
 *                               its counters (grp_stats); with -i, each
 *                               one's rate over every interval;
 *   groupctl config -s SOCKET [--json]
 *                               its effective configuration, and where
 *                               each value came from (default, FILE:LINE,
 *                               environment, grp_config_set).
 *                               SOCKET: the member's admin.socket, or
 *                               GROUP_ADMIN_SOCKET.
 *   groupctl config [-c FILE]   without a socket: every key with its
 *                               effective value (defaults, then FILE, then
 *                               GROUP_* variables), default, environment
 *                               variable and help; exit 1 naming the first
 *                               bad key or value.
 *   groupctl keygen FILE        write a new group secret (32 random bytes
 *                               as hex) to FILE, readable by its owner
 *                               only, for group.secret_file; never
 *                               overwrites an existing file. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <group/config.h>

#include "admin_client.h"

static int usage(void)
{
	fprintf(stderr, "usage: groupctl status [-s SOCKET] [--json]\n"
			"       groupctl stats [-s SOCKET] [--json] [-i SECONDS [-n COUNT]]\n"
			"       groupctl config [-s SOCKET] [--json]\n"
			"       groupctl config [-c FILE]\n"
			"       groupctl keygen FILE\n");
	return 2;
}

struct options {
	const char *socket; /* -s, else GROUP_ADMIN_SOCKET */
	const char *file;   /* -c */
	bool json;
	unsigned interval_s, count;
};

static bool parse_count(const char *text, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > 86400)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .socket = getenv("GROUP_ADMIN_SOCKET") };
	if (o->socket && !*o->socket)
		o->socket = NULL;
	for (int i = 2; i < argc; i++) {
		bool has_value = i + 1 < argc;
		if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else if (strcmp(argv[i], "-s") == 0 && has_value)
			o->socket = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && has_value)
			o->file = argv[++i];
		else if (strcmp(argv[i], "-i") == 0 && has_value && parse_count(argv[i + 1], &o->interval_s))
			i++;
		else if (strcmp(argv[i], "-n") == 0 && has_value && parse_count(argv[i + 1], &o->count))
			i++;
		else
			return false;
	}
	return true;
}

/* status, stats and config of a running member. */
static int ask_member(const char *command, const struct options *o)
{
	if (!o->socket) {
		fprintf(stderr, "groupctl: which member? give -s SOCKET (its admin.socket) or set "
				"GROUP_ADMIN_SOCKET\n");
		return 2;
	}
	if (o->interval_s)
		return admin_stats_rates(o->socket, o->interval_s, o->count, o->json);
	return admin_ask(o->socket, command, o->json, stdout);
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
	struct options o;
	if (argc < 2 || !parse_options(argc, argv, &o))
		return usage();
	bool stats = strcmp(argv[1], "stats") == 0;
	if ((o.interval_s && !stats) || (o.count && !o.interval_s))
		return usage();
	if (strcmp(argv[1], "config") == 0 && (o.file || !o.socket))
		return o.json ? usage() : show_config(o.file);
	if (stats || strcmp(argv[1], "status") == 0 || strcmp(argv[1], "config") == 0)
		return o.file ? usage() : ask_member(argv[1], &o);
	return usage();
}
