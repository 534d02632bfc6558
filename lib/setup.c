#include "setup.h"

#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "frame.h"
#include "log.h"
#include "secret.h"

static const char *MOD = "config";

__attribute__((format(printf, 1, 2)))
static int config_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error(MOD, "%s", msg);
	return GRP_ECONFIG;
}

static bool is_listening_socket(int fd)
{
	int listening = 0;
	socklen_t len = sizeof listening;
	return fcntl(fd, F_GETFD) >= 0 &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

static bool host_resolves(const char *host)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return false;
	freeaddrinfo(ai);
	return true;
}

static int read_members(const grp_config *cfg, struct member_setup *s)
{
	const struct grp_hostport *hp;
	size_t n = config_hostports(cfg, "group.members", &hp);
	uint64_t rank = config_uint(cfg, "member.rank");
	if (n == 0)
		return config_error("group.members is empty: list every member's host:port");
	if (n > FAB_MAX_PEERS)
		return config_error("group.members lists %zu members, at most %u", n, FAB_MAX_PEERS);
	if (rank >= n)
		return config_error("member.rank %llu is not a position in group.members (%zu "
				    "members: 0..%zu)", (unsigned long long)rank, n, n - 1);
	s->members = calloc(n, sizeof *s->members);
	if (!s->members)
		return GRP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->members[i] = (struct links_member){ .host = hp[i].host, .port = hp[i].port };
	s->n = (unsigned)n;
	s->rank = (unsigned)rank;
	return 0;
}

/* A joiner: the contacts, its own address, and an explicit node id. */
static int read_contacts(const grp_config *cfg, struct member_setup *s)
{
	const struct grp_hostport *hp, *listen;
	size_t n = config_hostports(cfg, "group.contact", &hp);
	if (config_hostports(cfg, "member.listen", &listen) != 1)
		return config_error("member.listen: a joiner (group.contact set) needs its own "
				    "bootstrap address, one host:port");
	if (config_int(cfg, "member.id") < 0)
		return config_error("member.id: a joiner (group.contact set) needs an explicit "
				    "node id, 0..%u", FAB_MAX_PEERS - 1);
	s->members = calloc(n + 1, sizeof *s->members);
	if (!s->members)
		return GRP_ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->members[i] = (struct links_member){ .host = hp[i].host, .port = hp[i].port };
	/* Our own address last, where read_listener finds it. */
	s->members[n] = (struct links_member){ .host = listen->host, .port = listen->port };
	s->n = (unsigned)n;
	s->rank = (unsigned)n;
	s->joining = true;
	return 0;
}

static int read_listener(const grp_config *cfg, struct member_setup *s)
{
	int fd = (int)config_int(cfg, "member.listen_fd");
	s->links.listen_fd = -1;
	s->links.listen_host = s->members[s->rank].host;
	s->links.listen_port = s->members[s->rank].port;
	if (fd < 0)
		return 0;
	if (!is_listening_socket(fd))
		return config_error("member.listen_fd %d is not a listening socket of this process",
				    fd);
	s->links.listen_fd = fd;
	return 0;
}

int member_setup_read(const grp_config *cfg, struct member_setup *s)
{
	*s = (struct member_setup){ .links.listen_fd = -1 };
	config_apply_log_level(cfg);
	const struct grp_hostport *contacts;
	bool joining = config_hostports(cfg, "group.contact", &contacts) > 0;
	int rc = joining ? read_contacts(cfg, s) : read_members(cfg, s);
	if (!rc)
		rc = read_listener(cfg, s);
	if (rc) {
		member_setup_free(s);
		return rc;
	}
	int64_t id = config_int(cfg, "member.id");
	const char *address = config_str(cfg, "fabric.address");
	s->links.provider = config_str(cfg, "fabric.provider");
	s->links.address = address[0] ? address : s->members[s->rank].host;
	s->links.group_id = frame_group_id(config_str(cfg, "group.name"));
	s->links.my_id = id < 0 ? s->rank : (unsigned)id;
	s->stall_timeout_ms = (unsigned)config_uint(cfg, "fabric.stall_timeout_ms");
	s->links.stall_timeout_ms = s->stall_timeout_ms;
	s->links.idle = (struct links_idle){
		.spin_ns = config_uint(cfg, "engine.spin_us") * 1000u,
		.yield_ns = config_uint(cfg, "engine.yield_us") * 1000u,
		.sleep_ms = (int)config_uint(cfg, "engine.sleep_ms"),
	};
	s->connect_timeout_ms = (unsigned)config_uint(cfg, "fabric.connect_timeout_ms");
	if (s->links.my_id >= FAB_MAX_PEERS)
		rc = config_error("member.id %u: node ids are below %u (or -1 for member.rank)",
				  s->links.my_id, FAB_MAX_PEERS);
	else if (!host_resolves(s->links.address))
		rc = config_error("%s '%s' does not resolve to an address", address[0]
					  ? "fabric.address" : "this member's group.members host",
				  s->links.address);
	if (!rc)
		rc = secret_key_read(cfg, &s->links.key);
	if (rc)
		member_setup_free(s);
	return rc;
}

void member_setup_free(struct member_setup *s)
{
	if (s->links.listen_fd >= 0)
		close(s->links.listen_fd);
	s->links.listen_fd = -1;
	free(s->members);
	s->members = NULL;
}

int member_setup_connect(struct member_setup *s, struct links **out, unsigned *ids)
{
	struct links *l;
	int rc = links_open(&s->links, &l);
	s->links.listen_fd = -1; /* links_open took it, on every path */
	if (rc)
		return rc;
	rc = links_form(l, s->members, s->n, s->rank, s->connect_timeout_ms, ids);
	if (rc) {
		links_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

int member_setup_join(struct member_setup *s, bool sender, uint64_t log_version,
		      struct links **out, struct view_info *added)
{
	struct links *l;
	int rc = links_open(&s->links, &l);
	s->links.listen_fd = -1; /* links_open took it, on every path */
	if (rc)
		return rc;
	struct links_join_params jp = {
		.contacts = s->members, .n_contacts = s->n, .sender = sender,
		.log_version = log_version, .timeout_ms = s->connect_timeout_ms, .cancel = s->cancel,
	};
	rc = links_join(l, &jp, added);
	if (rc) {
		links_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

struct exchange_wait {
	struct links *l;
	uint64_t stamp;
	const unsigned *ids;
	unsigned n, me;
	const struct links_regions *mine;
	struct links_regions *out;
	int rc;
};

static bool exchange_settled(void *arg)
{
	struct exchange_wait *w = arg;
	w->rc = links_exchange_collect(w->l, w->stamp, w->ids, w->n, w->me, NULL, w->mine,
				       w->out);
	return w->rc != GRP_EAGAIN;
}

int member_setup_exchange(struct links *l, uint64_t stamp, const unsigned *ids, unsigned n,
			  unsigned me, const struct links_regions *mine, struct links_regions *out,
			  unsigned timeout_ms)
{
	int rc = links_exchange_post(l, stamp, ids, n, me, mine);
	if (rc)
		return rc;
	struct exchange_wait w = { l, stamp, ids, n, me, mine, out, GRP_EAGAIN };
	rc = links_wait(l, exchange_settled, &w, timeout_ms);
	return rc ? rc : w.rc;
}
