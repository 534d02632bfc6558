#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void options_usage(FILE *out)
{
	fprintf(out,
		"usage: kvstore --local N [--ops M] [--senders all|half|one] [--keys K] [--seed S]\n"
		"                       [--kill R] [--add J] [--persist DIR|auto [--crash-all]]\n"
		"       kvstore -c FILE [--ops M] [--keys K] [--seed S] [--add J]\n"
		"       kvstore --join HOST:PORT[,HOST:PORT...] --id N [--listen HOST:PORT] [-c FILE]\n"
		"\n"
		"A key-value store replicated by libgroup's ordered multicast: every sending\n"
		"member performs M random puts and deletes; every member applies all of them\n"
		"in delivery order and prints a hash of its map.\n"
		"\n"
		"  --local N   run N members (1..%d) on 127.0.0.1 and check that they agree\n"
		"  -c FILE     run one member configured by the INI file FILE (GROUP_*\n"
		"              environment variables override it; multicast.senders says\n"
		"              which members send)\n"
		"  --ops M     operations per sending member (default 5000)\n"
		"  --senders   which local members send: all (default), half (the lower\n"
		"              ranks) or one (the last)\n"
		"  --keys K    number of distinct keys (default 1000)\n"
		"  --seed S    seed of the operations, mixed with each member's rank (default 1)\n"
		"  --kill R    with --local: SIGKILL member R (a sender) once it has sent a\n"
		"              quarter of its operations; the others must go on without it,\n"
		"              apply every operation a survivor sent, and agree\n"
		"  --add J     with --local: start J more members (N+J at most %d) that join\n"
		"              the running store during the load; with -c: wait for J\n"
		"              joiners. Senders pause a quarter into their load, and nobody\n"
		"              leaves, until the view has grown by J\n"
		"  --persist DIR\n"
		"              with --local: every member logs what it delivers (persist.mode\n"
		"              durable) in DIR/member-ID, sends with grp_send_durable and keeps\n"
		"              every acknowledged operation in DIR/acked-ID.txt; before\n"
		"              leaving each checks that all of them are in its log and reads a\n"
		"              few keys back from its log as of a version and a time. auto: a\n"
		"              fresh directory in /tmp, removed at the end if all went well\n"
		"  --crash-all with --persist: SIGKILL every member a quarter into the load,\n"
		"              start them again on their logs (a total restart), and check\n"
		"              that they agree and that no acknowledged operation was lost\n"
		"  --join HOST:PORT[,HOST:PORT...]\n"
		"              add a replica to a running store through the bootstrap\n"
		"              addresses of some of its members: it loads the map from a\n"
		"              member, applies every operation delivered after, sends none,\n"
		"              and prints its result once every sender's operations are\n"
		"              applied. -c FILE, if given, configures the rest (group.name,\n"
		"              group.secret_file, ...)\n"
		"  --id N      with --join: its node id (0..%d), one no member has\n"
		"  --listen HOST:PORT\n"
		"              with --join: its own bootstrap address, which members reach\n"
		"              it at (default: member.listen of FILE)\n"
		"  --help      print this and exit\n",
		LOCAL_MAX, LOCAL_MAX, TALLY_IDS - 1);
}

static bool parse_number(const char *name, const char *text, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	/* strtoull also takes blanks and a sign, and wraps "-1" around. */
	if (!isdigit((unsigned char)text[0]) || errno || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "kvstore: %s '%s': expected a number from %" PRIu64 " to %" PRIu64 "\n",
			name, text, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_senders(const char *text, enum senders_choice *out)
{
	static const char *const names[] = { [SENDERS_ALL] = "all", [SENDERS_HALF] = "half",
					     [SENDERS_ONE] = "one" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (enum senders_choice)i;
			return true;
		}
	}
	fprintf(stderr, "kvstore: --senders '%s': expected all, half or one\n", text);
	return false;
}

/* --join: a replica added to a running store, which sends nothing. */
static bool join_options_valid(const struct options *o, bool id_given, bool members_only)
{
	if (o->local_n || o->add || o->senders_given || members_only) {
		fprintf(stderr, "kvstore: --join adds a replica that sends nothing: --local, --add, "
			"--kill, --senders, --ops, --keys and --seed are for the store's members\n");
		return false;
	}
	if (!id_given) {
		fprintf(stderr, "kvstore: --join needs --id N, a node id no member has (0 to %d)\n",
			TALLY_IDS - 1);
		return false;
	}
	return true;
}

/* --persist runs with --local; a joiner would need the load's counts,
 * which come with the snapshot that durable mode does without. */
static bool persist_options_valid(const struct options *o)
{
	if (o->persist && (o->local_n == 0 || o->add)) {
		fprintf(stderr, "kvstore: --persist is for --local N, without --add\n");
		return false;
	}
	if (o->crash_all && (!o->persist || o->kill >= 0 || o->senders != SENDERS_ALL)) {
		fprintf(stderr, "kvstore: --crash-all needs --persist, every member sending, and "
			"no --kill\n");
		return false;
	}
	return true;
}

bool options_parse(int argc, char **argv, struct options *o, bool *help)
{
	enum { OPT_LOCAL = 256, OPT_OPS, OPT_SENDERS, OPT_KEYS, OPT_SEED, OPT_KILL, OPT_ADD,
	       OPT_JOIN, OPT_ID, OPT_LISTEN, OPT_PERSIST, OPT_CRASH_ALL };
	static const struct option longopts[] = {
		{ "local", required_argument, NULL, OPT_LOCAL },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "senders", required_argument, NULL, OPT_SENDERS },
		{ "keys", required_argument, NULL, OPT_KEYS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "kill", required_argument, NULL, OPT_KILL },
		{ "add", required_argument, NULL, OPT_ADD },
		{ "join", required_argument, NULL, OPT_JOIN },
		{ "id", required_argument, NULL, OPT_ID },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "persist", required_argument, NULL, OPT_PERSIST },
		{ "crash-all", no_argument, NULL, OPT_CRASH_ALL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*o = (struct options){ .load = { .ops = 5000, .keys = 1000, .seed = 1 },
			       .senders = SENDERS_ALL, .kill = -1 };
	*help = false;
	uint64_t n = 0, kill = 0, add = 0, id = 0;
	bool kill_given = false, id_given = false, load_given = false;
	bool ok = true;
	int opt;
	while (ok && (opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 'h': *help = true; break;
		case OPT_LOCAL: ok = parse_number("--local", optarg, 1, LOCAL_MAX, &n); break;
		case OPT_OPS:
			ok = parse_number("--ops", optarg, 0, UINT32_MAX, &o->load.ops);
			load_given = true;
			break;
		case OPT_KEYS:
			ok = parse_number("--keys", optarg, 1, UINT32_MAX, &o->load.keys);
			load_given = true;
			break;
		case OPT_SEED:
			ok = parse_number("--seed", optarg, 0, UINT64_MAX, &o->load.seed);
			load_given = true;
			break;
		case OPT_ADD: ok = parse_number("--add", optarg, 1, LOCAL_MAX - 1, &add); break;
		case OPT_JOIN: o->join = optarg; break;
		case OPT_ID:
			ok = parse_number("--id", optarg, 0, TALLY_IDS - 1, &id);
			id_given = true;
			break;
		case OPT_LISTEN: o->listen = optarg; break;
		case OPT_PERSIST: o->persist = optarg; break;
		case OPT_CRASH_ALL: o->crash_all = true; break;
		case OPT_KILL:
			ok = parse_number("--kill", optarg, 0, LOCAL_MAX - 1, &kill);
			kill_given = true;
			break;
		case OPT_SENDERS:
			ok = parse_senders(optarg, &o->senders);
			o->senders_given = true;
			break;
		default: ok = false; break; /* getopt_long said why */
		}
	}
	o->local_n = (unsigned)n;
	o->add = (unsigned)add;
	o->id = (unsigned)id;
	if (!ok || *help)
		return ok;
	if (optind < argc) {
		fprintf(stderr, "kvstore: unexpected argument '%s'\n", argv[optind]);
		return false;
	}
	if (o->join && (o->persist || o->crash_all)) {
		fprintf(stderr, "kvstore: --persist and --crash-all are for --local\n");
		return false;
	}
	if (o->join)
		return join_options_valid(o, id_given, load_given || kill_given);
	if (id_given || o->listen) {
		fprintf(stderr, "kvstore: --id and --listen are for --join\n");
		return false;
	}
	if ((o->local_n == 0) == (o->config_path == NULL)) {
		fprintf(stderr, "kvstore: give either --local N, -c FILE or --join HOST:PORT\n");
		return false;
	}
	if (o->local_n + o->add > LOCAL_MAX) {
		fprintf(stderr, "kvstore: --local N --add J: N+J is at most %d\n", LOCAL_MAX);
		return false;
	}
	if (kill_given && (o->local_n == 0 || kill >= o->local_n)) {
		fprintf(stderr, "kvstore: --kill takes a member of --local N: 0 to N-1\n");
		return false;
	}
	o->kill = kill_given ? (int)kill : -1;
	if (!persist_options_valid(o))
		return false;
	/* Every member of a deployment must agree on who sends, so that is
	 * the configuration's multicast.senders, not one member's flag. */
	if (o->config_path && o->senders_given) {
		fprintf(stderr, "kvstore: --senders is for --local; set multicast.senders in %s\n",
			o->config_path);
		return false;
	}
	return true;
}
