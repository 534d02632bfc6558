/* chat: a chat room over libgroup in dispatch mode, on one poll(2) loop.
 *
 * Every line typed on stdin is multicast; every member prints every line,
 * in the same order, and every view. The loop polls stdin and grp_fd;
 * callbacks run in it, inside grp_dispatch (callbacks.mode = dispatch),
 * and sends never block it (multicast.nonblocking: a full window keeps the
 * line and retries shortly). End of input leaves the room.
 *
 *   chat -c FILE                      a member of the group FILE describes
 *                                     (group.members, member.rank, ...;
 *                                     GROUP_* variables override it)
 *   chat -m HOST:PORT,... -r RANK     the same from flags: the members'
 *                                     bootstrap addresses and our position
 *   chat -j HOST:PORT,... -i ID -l HOST:PORT
 *                                     join a running room through some of
 *                                     its members, as node ID, reachable at
 *                                     HOST:PORT
 *   -n NAME                           how our lines are signed (default:
 *                                     our node id)
 *
 * Output, one line per event:
 *   <2> alice: hello                  a line from node 2, signed alice
 *   * view 1: 0 1 2 3 (joined 3)      a view: members, who joined, who left
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <group/group.h>

#include "outbox.h"

/* How soon a line the full window refused is offered again. */
#define RETRY_MS 10
#define BATCH 64u

struct chat {
	char name[64];
	char sign[72];  /* "NAME: ", before each line we send */
	size_t sign_len;
	unsigned id;    /* our node id */
	bool stopped;   /* our last view: we are out of the group */
};

static void on_deliver(grp_t *g, const grp_delivery *msg, void *user)
{
	(void)g;
	(void)user;
	printf("<%u> %.*s\n", msg->sender, (int)msg->len, (const char *)msg->data);
}

static void print_ids(const char *label, const unsigned *ids, unsigned n,
		      const enum grp_departure *reasons)
{
	static const char *const why[] = { "?", "left", "failed", "minority", "evicted",
					   "log failed", "no memory" };
	if (!n)
		return;
	printf(" (%s", label);
	for (unsigned i = 0; i < n; i++) {
		unsigned r = reasons ? (unsigned)reasons[i] : 0;
		printf(" %u%s%s", ids[i], reasons ? " " : "",
		       reasons ? why[r < sizeof why / sizeof why[0] ? r : 0] : "");
	}
	printf(")");
}

static void on_view(grp_t *g, const grp_view *v, void *user)
{
	(void)g;
	struct chat *c = user;
	printf("* view %u:", v->vid);
	for (unsigned i = 0; i < v->n_members; i++)
		printf(" %u", v->members[i]);
	print_ids("joined", v->joined, v->n_joined, NULL);
	print_ids("departed", v->departed, v->n_departed, v->departed_reason);
	printf("\n");
	c->id = v->members[v->my_rank];
	c->stopped |= v->n_departed == 1 && v->departed[0] == c->id;
}

static int usage(void)
{
	fprintf(stderr, "usage: chat -c FILE [-n NAME]\n"
			"       chat -m HOST:PORT,... -r RANK [-n NAME]\n"
			"       chat -j HOST:PORT,... -i ID -l HOST:PORT [-n NAME]\n");
	return 2;
}

/* The configuration: FILE, then GROUP_* variables, then the flags, and
 * always dispatch mode with sends that do not block. */
static grp_config *configure(int argc, char **argv, struct chat *c)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0)
		return NULL;
	const char *file = NULL, *sets[16];
	size_t n = 0;
	int opt, rc = 0;
	while ((opt = getopt(argc, argv, "c:m:r:j:i:l:n:")) != -1 && n + 2 <= 12) {
		const char *key = opt == 'm' ? "group.members" : opt == 'r' ? "member.rank"
				  : opt == 'j' ? "group.contact" : opt == 'i' ? "member.id"
				  : opt == 'l' ? "member.listen" : NULL;
		if (opt == 'c')
			file = optarg;
		else if (opt == 'n')
			snprintf(c->name, sizeof c->name, "%s", optarg);
		else if (key) {
			sets[n++] = key;
			sets[n++] = optarg;
		} else
			rc = GRP_EINVAL;
	}
	sets[n++] = "callbacks.mode";
	sets[n++] = "dispatch";
	sets[n++] = "multicast.nonblocking";
	sets[n++] = "true";
	if (!rc && optind != argc)
		rc = GRP_EINVAL;
	if (!rc && file)
		rc = grp_config_load_file(cfg, file);
	if (!rc)
		rc = grp_config_apply_env(cfg);
	for (size_t i = 0; !rc && i < n; i += 2)
		rc = grp_config_set(cfg, sets[i], sets[i + 1]);
	if (rc) {
		if (rc == GRP_EINVAL)
			usage();
		else
			fprintf(stderr, "chat: %s\n", grp_config_error(cfg));
		grp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Signs and multicasts the lines waiting; false once the window is full
 * (they wait for a retry). */
static bool send_lines(grp_t *g, struct chat *c, struct outbox *o, char *msg, size_t cap)
{
	size_t len;
	const char *line;
	while ((line = outbox_line(o, cap - c->sign_len, &len))) {
		memcpy(msg + c->sign_len, line, len);
		int rc = len ? grp_send(g, msg, c->sign_len + len) : 0;
		if (rc == GRP_EAGAIN)
			return false;
		if (rc)
			fprintf(stderr, "chat: %s\n", grp_strerror(rc));
		outbox_pop(o, len);
	}
	return true;
}

static void dispatch_all(grp_t *g)
{
	while (grp_dispatch(g, BATCH) > 0)
		;
	fflush(stdout);
}

static int run(grp_t *g, struct chat *c)
{
	static struct outbox o;
	size_t cap = grp_max_msg_size(g) < 65536 ? grp_max_msg_size(g) : 65536;
	char *msg = malloc(cap);
	if (!msg || cap <= c->sign_len)
		return 1;
	memcpy(msg, c->sign, c->sign_len);
	bool sent_all = true;
	while (!c->stopped && !(outbox_done(&o) && sent_all)) {
		struct pollfd p[2] = { { .fd = grp_fd(g), .events = POLLIN },
				       { .fd = outbox_has_room(&o) ? STDIN_FILENO : -1,
					 .events = POLLIN } };
		if (poll(p, 2, sent_all ? -1 : RETRY_MS) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			dispatch_all(g);
		if ((p[1].revents & (POLLIN | POLLHUP)) && !outbox_fill(&o, STDIN_FILENO))
			break;
		sent_all = send_lines(g, c, &o, msg, cap);
	}
	free(msg);
	return c->stopped ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct chat c = { .name = "" };
	grp_config *cfg = configure(argc, argv, &c);
	if (!cfg)
		return 2;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	grp_t *g;
	int rc = grp_join(cfg, &cb, &c, &g);
	grp_config_free(cfg);
	if (rc) {
		fprintf(stderr, "chat: cannot join: %s\n", grp_strerror(rc));
		return 1;
	}
	/* The first view, and with it our id, came inside grp_join. */
	if (!c.name[0])
		snprintf(c.name, sizeof c.name, "%u", c.id);
	c.sign_len = (size_t)snprintf(c.sign, sizeof c.sign, "%s: ", c.name);
	fflush(stdout);
	int status = run(g, &c);
	rc = grp_leave(g);
	dispatch_all(g);
	grp_free(g);
	return status ? status : rc ? 1 : 0;
}
