/* kvstore's command line. */
#ifndef KV_OPTIONS_H
#define KV_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "load.h"
#include "tally.h" /* TALLY_IDS: the node ids --id may name */

#define LOCAL_MAX 64

enum senders_choice { SENDERS_ALL, SENDERS_HALF, SENDERS_ONE };

struct options {
	unsigned local_n; /* 0 when run from a configuration file or joining */
	const char *config_path; /* or NULL */
	const char *join;   /* --join: the contacts of a running store, or NULL */
	unsigned id;        /* --join: our node id */
	const char *listen; /* --join: our bootstrap address, or NULL (the file's) */
	unsigned add;       /* joiners to start (--local) or wait for (-c) */
	struct load load;
	enum senders_choice senders;
	bool senders_given;
	int kill; /* --kill R: the member to SIGKILL mid-load, or -1 */
	const char *persist; /* --persist DIR (or "auto": a fresh temporary one), or NULL */
	bool crash_all;      /* --crash-all: SIGKILL every member mid-load, restart them */
};

/* Fills o from the command line, defaults where it says nothing; sets
 * *help for --help. Returns false, having said why, for a bad one. */
bool options_parse(int argc, char **argv, struct options *o, bool *help);

void options_usage(FILE *out);

#endif
