#include "config_hostports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_text.h"

#define HOST_MAX (sizeof ((struct grp_hostport *)0)->host - 1)

static bool is_hostname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

/* Stores the address in inet_ntop's canonical form, so that "[0::1]" and
 * "[::1]" are recognised as duplicates and read back the same way. */
static int parse_ipv6_host(const char *entry, size_t entry_len, const char *host, size_t host_len,
			   struct grp_hostport *out, char *why, size_t why_len)
{
	char literal[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	if (host_len >= sizeof literal)
		return config_reject(why, why_len, "entry '%.*s': host is not an IPv6 address",
				     (int)entry_len, entry);
	memcpy(literal, host, host_len);
	literal[host_len] = '\0';
	if (inet_pton(AF_INET6, literal, &addr) != 1)
		return config_reject(why, why_len, "entry '%.*s': host is not an IPv6 address",
				     (int)entry_len, entry);
	inet_ntop(AF_INET6, &addr, out->host, sizeof out->host);
	return 0;
}

static int parse_hostname(const char *entry, size_t entry_len, const char *host, size_t host_len,
			  struct grp_hostport *out, char *why, size_t why_len)
{
	if (host_len == 0)
		return config_reject(why, why_len, "entry '%.*s' has an empty host", (int)entry_len,
				     entry);
	if (host_len > HOST_MAX)
		return config_reject(why, why_len, "entry '%.*s': host longer than %zu characters",
				     (int)entry_len, entry, HOST_MAX);
	for (size_t i = 0; i < host_len; i++) {
		if (!is_hostname_char(host[i]))
			return config_reject(why, why_len,
					     "entry '%.*s': host may contain only [A-Za-z0-9.-] "
					     "(IPv6 addresses go in brackets)",
					     (int)entry_len, entry);
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	return 0;
}

/* entry is already trimmed and non-empty. */
static int parse_hostport(const char *entry, size_t len, struct grp_hostport *out,
			  char *why, size_t why_len)
{
	bool bracketed = entry[0] == '[';
	const char *colon;
	if (bracketed) {
		const char *close = memchr(entry, ']', len);
		if (!close)
			return config_reject(why, why_len,
					     "entry '%.*s' lacks the ']' closing its IPv6 address",
					     (int)len, entry);
		colon = close + 1 < entry + len && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memrchr(entry, ':', len);
	}
	if (!colon)
		return config_reject(why, why_len, "entry '%.*s' does not end in ':port'", (int)len,
				     entry);
	int rc = bracketed ? parse_ipv6_host(entry, len, entry + 1, (size_t)(colon - entry - 2),
					     out, why, why_len)
			   : parse_hostname(entry, len, entry, (size_t)(colon - entry), out, why,
					    why_len);
	if (rc != 0)
		return rc;
	bool negative;
	uint64_t port;
	const char *port_text = colon + 1;
	if (config_parse_decimal(port_text, (size_t)(entry + len - port_text), false, &negative,
				 &port) != DECIMAL_OK ||
	    port < 1 || port > 65535)
		return config_reject(why, why_len, "entry '%.*s': port must be a number in 1..65535",
				     (int)len, entry);
	out->port = (uint16_t)port;
	return 0;
}

static bool same_hostport(const struct grp_hostport *a, const struct grp_hostport *b)
{
	/* Host names are case-insensitive (RFC 4343); canonical IPv6 text is lower case. */
	return a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

static int add_hostport(struct hostport_list *list, const char *entry, size_t len,
			char *why, size_t why_len)
{
	size_t start;
	len = config_trim_span(entry, len, &start);
	entry += start;
	if (len == 0)
		return config_reject(why, why_len, "empty entry in the list (stray ',')");
	struct grp_hostport *item = &list->items[list->count];
	int rc = parse_hostport(entry, len, item, why, why_len);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < list->count; i++) {
		if (same_hostport(&list->items[i], item))
			return config_reject(why, why_len, "entry '%.*s' appears twice", (int)len,
					     entry);
	}
	list->count++;
	return 0;
}

int hostports_parse(const char *text, struct hostport_list *out, char *why, size_t why_len)
{
	size_t start;
	size_t len = config_trim_span(text, strlen(text), &start);
	const char *cursor = text + start;
	const char *end = cursor + len;
	struct hostport_list list = { NULL, 0 };
	if (len == 0) {
		*out = list;
		return 0;
	}
	size_t entries = 1;
	for (const char *c = cursor; c < end; c++)
		entries += *c == ',';
	if (entries > HOSTPORTS_MAX)
		return config_reject(why, why_len, "list has %zu entries, more than the maximum of %d",
				     entries, HOSTPORTS_MAX);
	list.items = calloc(entries, sizeof *list.items);
	if (!list.items) {
		config_reject(why, why_len, "out of memory");
		return GRP_ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < entries && rc == 0; i++) {
		const char *comma = memchr(cursor, ',', (size_t)(end - cursor));
		const char *stop = comma ? comma : end;
		rc = add_hostport(&list, cursor, (size_t)(stop - cursor), why, why_len);
		cursor = comma ? comma + 1 : end;
	}
	if (rc != 0) {
		free(list.items);
		return rc;
	}
	*out = list;
	return 0;
}

size_t hostports_format(const struct hostport_list *list, char *buf, size_t len)
{
	size_t used = 0;
	if (len > 0)
		buf[0] = '\0'; /* an empty list appends nothing */
	for (size_t i = 0; i < list->count; i++) {
		const struct grp_hostport *hp = &list->items[i];
		bool ipv6 = strchr(hp->host, ':') != NULL;
		config_append(buf, len, &used, "%s%s%s%s:%u", i ? "," : "", ipv6 ? "[" : "", hp->host,
			      ipv6 ? "]" : "", (unsigned)hp->port);
	}
	return used;
}

void hostports_release(struct hostport_list *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
