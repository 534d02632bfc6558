/* The host:port list value type (group.members): comma-separated entries,
 * each "host:port" or "[IPv6 address]:port", no entry twice. */
#ifndef GRP_CONFIG_HOSTPORTS_H
#define GRP_CONFIG_HOSTPORTS_H

#include <stddef.h>

#include "config.h"

#define HOSTPORTS_MAX 1024

struct hostport_list {
	struct grp_hostport *items; /* NULL when the list is empty */
	size_t count;
};

/* Parses text (surrounding whitespace ignored; empty is the empty list) into
 * a list the caller releases. GRP_ECONFIG or GRP_ENOMEM, with the reason in
 * why[why_len]. */
int hostports_parse(const char *text, struct hostport_list *out, char *why, size_t why_len);
/* Canonical text ("a:1,[::1]:2"), snprintf-like: returns the full length. */
size_t hostports_format(const struct hostport_list *list, char *buf, size_t len);
void hostports_release(struct hostport_list *list);

#endif
