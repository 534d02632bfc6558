/* kvstore: a replicated key-value store over libgroup's ordered multicast.
 *
 * Every member keeps a map from string keys to string values. Updates are
 * multicast with grp_send and applied only when they are delivered, so every
 * member applies the same operations in the same order and must end with
 * the same map; each member prints a hash of its map to show that it does.
 *
 *   kvstore --local 3 --ops 3000 --senders half
 *	starts 3 member processes on 127.0.0.1; every sending member performs
 *	3000 random puts and deletes; the parent prints each member's result
 *	and exits 0 only if all members agree.
 *
 *   kvstore --local 3 --ops 3000 --kill 2
 *	the same, but member 2 is killed with SIGKILL a quarter into its load:
 *	the two others go on in the view without it, apply every operation
 *	either of them sent and the same prefix of member 2's, and must agree.
 *
 *   kvstore --local 3 --ops 3000 --add 1
 *	the same, and one more process joins the running store during the
 *	load (the senders pause a quarter into it until it is in): it loads
 *	the map from a member, applies what is delivered after, and must end
 *	with the same map as the others.
 *
 *   kvstore --local 3 --ops 3000 --persist /tmp/kv [--crash-all]
 *	the same in durable mode: each member logs what it delivers in
 *	/tmp/kv/member-<id> (persist.mode durable; "auto": a fresh directory
 *	in /tmp, removed if all went well), sends with grp_send_durable and
 *	appends each acknowledged operation, with its version, to
 *	/tmp/kv/acked-<id>.txt. Before leaving, each finds every acknowledged
 *	operation in its log, byte for byte at its version, and reads a few
 *	keys back from the log as of a version and a time, which must be what
 *	its live map held then. --crash-all: a quarter into the load every
 *	member is killed with SIGKILL, and new processes with the same ids and
 *	logs restart the group (a total restart); they rebuild their maps
 *	from their logs, must agree, and make the same checks.
 *
 *   kvstore -c member0.ini --ops 3000 [--add 1]
 *	one member of a real deployment: group.members, member.rank and
 *	multicast.senders come from the INI file (GROUP_* variables override
 *	it, see group/config.h); it prints its own result line. With --add,
 *	it waits for that many joiners before it leaves.
 *
 *   kvstore --join host0:7000,host1:7000 --id 9 --listen host9:7000 [-c FILE]
 *	adds a replica to that running store; it prints the same result line.
 *
 * The map is map.c, the operations' wire format op.c, a member's replica
 * replica.c, the state a joiner loads snapshot.c, its run member.c, the
 * random load load.c, --local local.c; with --persist, the acknowledged
 * operations acked.c, reading a key's past from the log history.c, the
 * directory logdir.c. */
#include <stdio.h>

#include <group/config.h>

#include "local.h"
#include "member.h"
#include "options.h"
#include "result.h"

/* -c: one member of a deployment; --join: a replica added to one. */
static int run_configured(const struct options *o)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0) {
		fprintf(stderr, "kvstore: out of memory\n");
		return 1;
	}
	int rc = o->config_path ? grp_config_load_file(cfg, o->config_path) : 0;
	if (!rc)
		rc = grp_config_apply_env(cfg);
	if (!rc && o->join)
		rc = member_config_joiner(cfg, o->join, o->id, o->listen);
	if (rc) {
		const char *why = grp_config_error(cfg);
		if (*why) /* it names the file, line and key itself */
			fprintf(stderr, "kvstore: %s\n", why);
		else
			fprintf(stderr, "kvstore: %s: %s\n", o->config_path ? o->config_path : "--join",
				grp_strerror(rc));
		grp_config_free(cfg);
		return 1;
	}
	char line[RESULT_LEN];
	const struct member_plan plan = { .load = o->load, .wait_ms = MEMBER_WAIT_MS,
					  .joins = o->add };
	int status = member_run(cfg, &plan, line, sizeof line);
	grp_config_free(cfg);
	if (!status)
		printf("%s\n", line);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	bool help;
	if (!options_parse(argc, argv, &o, &help)) {
		options_usage(stderr);
		return 2;
	}
	if (help) {
		options_usage(stdout);
		return 0;
	}
	return o.local_n ? local_run(&o) : run_configured(&o);
}
