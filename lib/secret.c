#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "log.h"

static const char *MOD = "config";
static const char KEY[] = "group.secret_file";

/* Room for the longest secret auth.h accepts, its line end, and one byte
 * more to tell a longer file. */
#define FILE_MAX (2u * AUTH_SECRET_MAX + 2u)

static int refuse(const char *path, const char *why)
{
	log_error(MOD, "%s '%s': %s", KEY, path, why);
	return GRP_ECONFIG;
}

static int read_secret(const char *path, struct auth_key *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return refuse(path, strerror(errno));
	struct stat st;
	char text[FILE_MAX];
	ssize_t n = -1;
	const char *why = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		why = "others than its owner may read or change it (chmod 600)";
	else if ((n = read(fd, text, sizeof text)) < 0)
		why = strerror(errno);
	close(fd);
	int rc = why ? GRP_ECONFIG : auth_key_parse(text, (size_t)n, out, &why);
	OPENSSL_cleanse(text, sizeof text);
	return rc && why ? refuse(path, why) : rc;
}

int secret_key_read(const grp_config *cfg, struct auth_key *out)
{
	const char *path = config_str(cfg, KEY);
	if (path[0])
		return read_secret(path, out);
	static atomic_bool warned;
	if (!atomic_exchange(&warned, true))
		log_warn(MOD, "the group is open: anyone who knows group.name can join it; set %s "
			 "(groupctl keygen FILE writes one)", KEY);
	return auth_key_from_name(config_str(cfg, "group.name"), out);
}
