/* Configuration keys, driven by one table.
 *
 * key_table declares every key; parsing, validation, formatting, the
 * environment names and the dump all work from it through one parse/format
 * pair per value type (type_ops), so adding a key is one table entry. Values
 * are held parsed, in the form the typed getters of config.h return. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define STRING_MAX 255
#define HOSTPORTS_MAX 1024
#define LINE_MAX_CHARS 4095
#define ERROR_MAX 1024
#define ENV_NAME_MAX 128
#define ENV_PREFIX "GROUP_"

enum key_type { KEY_STRING, KEY_UINT, KEY_INT, KEY_BOOL, KEY_ENUM, KEY_HOSTPORTS };

struct key_def {
	const char *section;
	const char *name;
	enum key_type type;
	const char *default_text;
	/* The constraint that applies to the key's type. */
	union {
		bool non_empty;                   /* KEY_STRING */
		struct { uint64_t min, max; } u;  /* KEY_UINT */
		struct { int64_t min, max; } i;   /* KEY_INT */
		const char *const *choices;       /* KEY_ENUM, NULL-terminated */
	};
	const char *help;
};

static const char *const rdmc_schedules[] = { "binomial", "chain", "sequential", NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug", "trace", NULL };

/* Every key, grouped by section so that grp_config_dump writes each section
 * header once. Nothing else in this file names a key. */
static const struct key_def key_table[] = {
	{
		.section = "group", .name = "name", .type = KEY_STRING,
		.default_text = "libgroup", .non_empty = true,
		.help = "Group name; members reject bootstrap frames from a group of another name.",
	},
	{
		.section = "group", .name = "members", .type = KEY_HOSTPORTS,
		.default_text = "",
		.help = "Bootstrap address (host:port) of every member, in rank order.",
	},
	{
		.section = "member", .name = "rank", .type = KEY_UINT,
		.default_text = "0", .u = { 0, 1023 },
		.help = "This process's position in group.members.",
	},
	{
		.section = "member", .name = "listen_fd", .type = KEY_INT,
		.default_text = "-1", .i = { -1, 1048576 },
		.help = "An already-listening TCP socket to use as this member's bootstrap listener "
			"(socket activation, tests); -1 binds the address from group.members. "
			"Opening a group or table takes it over and closes it, on failure too "
			"(except GRP_EINVAL for invalid arguments).",
	},
	{
		.section = "fabric", .name = "provider", .type = KEY_STRING,
		.default_text = "tcp", .non_empty = true,
		.help = "libfabric provider: tcp (any Ethernet) or verbs (InfiniBand, RoCE, soft-RoCE).",
	},
	{
		.section = "fabric", .name = "address", .type = KEY_STRING,
		.default_text = "", .non_empty = false,
		.help = "Local address for fabric endpoints; empty = the host of this member's "
			"group.members entry. RoCE needs the RDMA netdev's address.",
	},
	{
		.section = "fabric", .name = "connect_timeout_ms", .type = KEY_UINT,
		.default_text = "15000", .u = { 1, 3600000 },
		.help = "How long to wait for every peer's bootstrap and fabric connection.",
	},
	{
		.section = "fabric", .name = "stall_timeout_ms", .type = KEY_UINT,
		.default_text = "10000", .u = { 1, 3600000 },
		.help = "A peer whose send queue stays full this long (it stopped draining its "
			"writes) is reported failed.",
	},
	{
		.section = "engine", .name = "spin_us", .type = KEY_UINT,
		.default_text = "0", .u = { 0, 1000000 },
		.help = "Idle engine: microseconds of busy polling before yielding. Spinning only "
			"pays where every member has a core to itself; with more busy threads than "
			"cores (several members per host) it starves the others.",
	},
	{
		.section = "engine", .name = "yield_us", .type = KEY_UINT,
		.default_text = "200", .u = { 0, 1000000 },
		.help = "Idle engine: microseconds of sched_yield polling before sleeping.",
	},
	{
		.section = "engine", .name = "sleep_ms", .type = KEY_UINT,
		.default_text = "20", .u = { 1, 1000 },
		.help = "Idle engine: longest sleep between checks; a remote write wakes it earlier.",
	},
	{
		.section = "multicast", .name = "senders", .type = KEY_STRING,
		.default_text = "all", .non_empty = true,
		.help = "Members that send: 'all', or their ranks separated by commas. Every other "
			"member only receives; declare only real senders, since each quiet sender "
			"costs nulls.",
	},
	{
		.section = "multicast", .name = "max_smc_payload", .type = KEY_UINT,
		.default_text = "10240", .u = { 0, 1048576 },
		.help = "Largest message in bytes that travels in a send-window slot; larger ones "
			"travel by RDMC, up to rdmc.max_payload.",
	},
	{
		.section = "multicast", .name = "window", .type = KEY_UINT,
		.default_text = "32", .u = { 1, 65536 },
		.help = "Messages a sender may have in flight before one is delivered everywhere.",
	},
	{
		.section = "multicast", .name = "nonblocking", .type = KEY_BOOL,
		.default_text = "false",
		.help = "grp_send returns GRP_EAGAIN instead of blocking when the window is full.",
	},
	{
		.section = "multicast", .name = "send_timeout_ms", .type = KEY_UINT,
		.default_text = "60000", .u = { 0, 86400000 },
		.help = "Longest a blocking grp_send waits for the window (GRP_ETIMEDOUT); 0 waits "
			"until the window opens or the view is wedged.",
	},
	{
		.section = "rdmc", .name = "max_payload", .type = KEY_UINT,
		.default_text = "16777216", .u = { 1, 17179869184u },
		.help = "Largest RDMC message in bytes. Raw RDMC registers one buffer of this size "
			"per member, ordered multicast two per sender (none when it is not above "
			"multicast.max_smc_payload).",
	},
	{
		.section = "rdmc", .name = "block_size", .type = KEY_UINT,
		.default_text = "1048576", .u = { 4096, 1073741824 },
		.help = "RDMC pipeline block in bytes (at most 2^20 blocks per message).",
	},
	{
		.section = "rdmc", .name = "schedule", .type = KEY_ENUM,
		.default_text = "binomial", .choices = rdmc_schedules,
		.help = "RDMC block schedule: binomial (pipeline, the default), chain, sequential.",
	},
	{
		.section = "log", .name = "level", .type = KEY_ENUM,
		.default_text = "error", .choices = log_levels,
		.help = "Log verbosity (also GROUP_LOG).",
	},
};

#define KEY_COUNT (sizeof key_table / sizeof key_table[0])

struct hostport_list {
	struct grp_hostport *items;
	size_t count;
};

union key_value {
	char str[STRING_MAX + 1];
	uint64_t u;
	int64_t i;
	bool b;
	size_t choice; /* index into the key's choices */
	struct hostport_list hostports;
};

struct grp_config {
	union key_value value[KEY_COUNT]; /* parallel to key_table */
	char error[ERROR_MAX];
};

/* Values parsed by one load or apply_env, moved into the config only once
 * every line or variable has been accepted, so a failed call changes
 * nothing. */
struct staging {
	bool staged[KEY_COUNT];
	union key_value value[KEY_COUNT];
};

__attribute__((format(printf, 3, 4)))
static int fail(grp_config *cfg, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
	va_end(ap);
	return err;
}

/* Parsers explain a rejection in their caller's buffer; the caller adds where
 * the value came from, which the parser does not know. */
__attribute__((format(printf, 3, 4)))
static int reject(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return GRP_ECONFIG;
}

/* Like snprintf at offset *used, but *used advances by the full length
 * wanted, so a formatter can report the size it needs as snprintf does. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(*used < len ? buf + *used : NULL, *used < len ? len - *used : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
}

/* Returns the length of s[0..len) without surrounding whitespace and stores
 * where it starts in *start. */
static size_t trim_span(const char *s, size_t len, size_t *start)
{
	size_t first = 0;
	while (first < len && isspace((unsigned char)s[first]))
		first++;
	while (len > first && isspace((unsigned char)s[len - 1]))
		len--;
	*start = first;
	return len - first;
}

static char *trim(char *s)
{
	size_t start;
	size_t len = trim_span(s, strlen(s), &start);
	s[start + len] = '\0';
	return s + start;
}

enum decimal_status { DECIMAL_OK, DECIMAL_MALFORMED, DECIMAL_OVERFLOW };

/* Accepts an optional '-' (when allowed) and decimal digits, nothing else:
 * strtoull would also take spaces and '+', and wrap "-1" to UINT64_MAX. */
static enum decimal_status parse_decimal(const char *text, size_t len, bool allow_minus,
					 bool *negative, uint64_t *magnitude)
{
	*negative = allow_minus && len > 0 && text[0] == '-';
	size_t i = *negative ? 1 : 0;
	if (i == len)
		return DECIMAL_MALFORMED;
	bool overflow = false;
	uint64_t value = 0;
	for (; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return DECIMAL_MALFORMED;
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			value = value * 10 + digit;
	}
	*magnitude = value;
	return overflow ? DECIMAL_OVERFLOW : DECIMAL_OK;
}

/* Control characters and surrounding spaces could not survive a trip through
 * an INI line, so grp_config_dump's output would not load back. */
static int parse_string(const struct key_def *def, const char *text, union key_value *out,
			char *why, size_t why_len)
{
	size_t len = strlen(text);
	if (len > STRING_MAX)
		return reject(why, why_len, "value of %zu characters exceeds the maximum of %d",
			      len, STRING_MAX);
	if (len == 0 && def->non_empty)
		return reject(why, why_len, "value must not be empty");
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return reject(why, why_len, "value contains a control character");
	}
	if (len > 0 && (text[0] == ' ' || text[len - 1] == ' '))
		return reject(why, why_len, "value '%s' begins or ends with a space", text);
	memcpy(out->str, text, len + 1);
	return 0;
}

static int parse_uint(const struct key_def *def, const char *text, union key_value *out,
		      char *why, size_t why_len)
{
	bool negative;
	uint64_t value;
	enum decimal_status status = parse_decimal(text, strlen(text), false, &negative, &value);
	if (status == DECIMAL_MALFORMED)
		return reject(why, why_len, "value '%s' is not an unsigned decimal integer", text);
	if (status == DECIMAL_OVERFLOW || value < def->u.min || value > def->u.max)
		return reject(why, why_len, "value '%s' out of range %" PRIu64 "..%" PRIu64, text,
			      def->u.min, def->u.max);
	out->u = value;
	return 0;
}

/* INT64_MIN itself is reported out of range: no key's range reaches it, and
 * negating its magnitude would overflow. */
static int parse_int(const struct key_def *def, const char *text, union key_value *out,
		     char *why, size_t why_len)
{
	bool negative;
	uint64_t magnitude;
	enum decimal_status status = parse_decimal(text, strlen(text), true, &negative, &magnitude);
	if (status == DECIMAL_MALFORMED)
		return reject(why, why_len, "value '%s' is not a decimal integer", text);
	if (status == DECIMAL_OK && magnitude <= INT64_MAX) {
		int64_t value = negative ? -(int64_t)magnitude : (int64_t)magnitude;
		if (value >= def->i.min && value <= def->i.max) {
			out->i = value;
			return 0;
		}
	}
	return reject(why, why_len, "value '%s' out of range %" PRId64 "..%" PRId64, text,
		      def->i.min, def->i.max);
}

static const struct {
	const char *word;
	bool value;
} bool_words[] = {
	{ "true", true }, { "false", false }, { "yes", true }, { "no", false },
	{ "on", true },   { "off", false },   { "1", true },   { "0", false },
};

static int parse_bool(const struct key_def *def, const char *text, union key_value *out,
		      char *why, size_t why_len)
{
	(void)def;
	for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++) {
		if (strcasecmp(text, bool_words[i].word) == 0) {
			out->b = bool_words[i].value;
			return 0;
		}
	}
	return reject(why, why_len, "value '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
		      text);
}

static int parse_enum(const struct key_def *def, const char *text, union key_value *out,
		      char *why, size_t why_len)
{
	char choices[ERROR_MAX / 2];
	size_t used = 0;
	for (size_t i = 0; def->choices[i]; i++) {
		if (strcmp(text, def->choices[i]) == 0) {
			out->choice = i;
			return 0;
		}
		append(choices, sizeof choices, &used, "%s%s", i ? ", " : "", def->choices[i]);
	}
	return reject(why, why_len, "value '%s' is not one of %s", text, choices);
}

static bool is_hostname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-';
}

/* Stores the address in inet_ntop's canonical form, so that "[0::1]" and
 * "[::1]" are recognised as duplicates and read back the same way. */
static int parse_ipv6_host(const char *entry, size_t entry_len, const char *host, size_t host_len,
			   char *out, char *why, size_t why_len)
{
	char literal[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	if (host_len >= sizeof literal)
		return reject(why, why_len, "entry '%.*s': host is not an IPv6 address",
			      (int)entry_len, entry);
	memcpy(literal, host, host_len);
	literal[host_len] = '\0';
	if (inet_pton(AF_INET6, literal, &addr) != 1)
		return reject(why, why_len, "entry '%.*s': host is not an IPv6 address",
			      (int)entry_len, entry);
	inet_ntop(AF_INET6, &addr, out, STRING_MAX + 1);
	return 0;
}

static int parse_hostname(const char *entry, size_t entry_len, const char *host, size_t host_len,
			  char *out, char *why, size_t why_len)
{
	if (host_len == 0)
		return reject(why, why_len, "entry '%.*s' has an empty host", (int)entry_len, entry);
	if (host_len > STRING_MAX)
		return reject(why, why_len, "entry '%.*s': host longer than %d characters",
			      (int)entry_len, entry, STRING_MAX);
	for (size_t i = 0; i < host_len; i++) {
		if (!is_hostname_char(host[i]))
			return reject(why, why_len,
				      "entry '%.*s': host may contain only [A-Za-z0-9.-] "
				      "(IPv6 addresses go in brackets)",
				      (int)entry_len, entry);
	}
	memcpy(out, host, host_len);
	out[host_len] = '\0';
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
			return reject(why, why_len, "entry '%.*s' lacks the ']' closing its IPv6 address",
				      (int)len, entry);
		colon = close + 1 < entry + len && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memrchr(entry, ':', len);
	}
	if (!colon)
		return reject(why, why_len, "entry '%.*s' does not end in ':port'", (int)len, entry);
	int rc = bracketed ? parse_ipv6_host(entry, len, entry + 1, (size_t)(colon - entry - 2),
					     out->host, why, why_len)
			   : parse_hostname(entry, len, entry, (size_t)(colon - entry), out->host,
					    why, why_len);
	if (rc != 0)
		return rc;
	bool negative;
	uint64_t port;
	const char *port_text = colon + 1;
	if (parse_decimal(port_text, (size_t)(entry + len - port_text), false, &negative, &port) !=
		    DECIMAL_OK ||
	    port < 1 || port > 65535)
		return reject(why, why_len, "entry '%.*s': port must be a number in 1..65535",
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
	len = trim_span(entry, len, &start);
	entry += start;
	if (len == 0)
		return reject(why, why_len, "empty entry in the list (stray ',')");
	struct grp_hostport *item = &list->items[list->count];
	int rc = parse_hostport(entry, len, item, why, why_len);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < list->count; i++) {
		if (same_hostport(&list->items[i], item))
			return reject(why, why_len, "entry '%.*s' appears twice", (int)len, entry);
	}
	list->count++;
	return 0;
}

static int parse_hostports(const struct key_def *def, const char *text, union key_value *out,
			   char *why, size_t why_len)
{
	(void)def;
	size_t start;
	size_t len = trim_span(text, strlen(text), &start);
	const char *cursor = text + start;
	const char *end = cursor + len;
	struct hostport_list list = { NULL, 0 };
	if (len == 0) {
		out->hostports = list;
		return 0;
	}
	size_t entries = 1;
	for (const char *c = cursor; c < end; c++)
		entries += *c == ',';
	if (entries > HOSTPORTS_MAX)
		return reject(why, why_len, "list has %zu entries, more than the maximum of %d",
			      entries, HOSTPORTS_MAX);
	list.items = calloc(entries, sizeof *list.items);
	if (!list.items) {
		reject(why, why_len, "out of memory");
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
	out->hostports = list;
	return 0;
}

static size_t format_string(const struct key_def *def, const union key_value *value,
			    char *buf, size_t len)
{
	(void)def;
	size_t used = 0;
	append(buf, len, &used, "%s", value->str);
	return used;
}

static size_t format_uint(const struct key_def *def, const union key_value *value,
			  char *buf, size_t len)
{
	(void)def;
	size_t used = 0;
	append(buf, len, &used, "%" PRIu64, value->u);
	return used;
}

static size_t format_int(const struct key_def *def, const union key_value *value,
			 char *buf, size_t len)
{
	(void)def;
	size_t used = 0;
	append(buf, len, &used, "%" PRId64, value->i);
	return used;
}

static size_t format_bool(const struct key_def *def, const union key_value *value,
			  char *buf, size_t len)
{
	(void)def;
	size_t used = 0;
	append(buf, len, &used, "%s", value->b ? "true" : "false");
	return used;
}

static size_t format_enum(const struct key_def *def, const union key_value *value,
			  char *buf, size_t len)
{
	size_t used = 0;
	append(buf, len, &used, "%s", def->choices[value->choice]);
	return used;
}

static size_t format_hostports(const struct key_def *def, const union key_value *value,
			       char *buf, size_t len)
{
	(void)def;
	size_t used = 0;
	if (len > 0)
		buf[0] = '\0'; /* an empty list appends nothing */
	for (size_t i = 0; i < value->hostports.count; i++) {
		const struct grp_hostport *hp = &value->hostports.items[i];
		bool ipv6 = strchr(hp->host, ':') != NULL;
		append(buf, len, &used, "%s%s%s%s:%u", i ? "," : "", ipv6 ? "[" : "", hp->host,
		       ipv6 ? "]" : "", (unsigned)hp->port);
	}
	return used;
}

static void release_hostports(union key_value *value)
{
	free(value->hostports.items);
	value->hostports.items = NULL;
	value->hostports.count = 0;
}

static const struct type_ops {
	int (*parse)(const struct key_def *def, const char *text, union key_value *out,
		     char *why, size_t why_len);
	/* snprintf-like: returns the length of the full text */
	size_t (*format)(const struct key_def *def, const union key_value *value,
			 char *buf, size_t len);
	void (*release)(union key_value *value); /* NULL: the value owns no memory */
} type_ops[] = {
	[KEY_STRING] = { parse_string, format_string, NULL },
	[KEY_UINT] = { parse_uint, format_uint, NULL },
	[KEY_INT] = { parse_int, format_int, NULL },
	[KEY_BOOL] = { parse_bool, format_bool, NULL },
	[KEY_ENUM] = { parse_enum, format_enum, NULL },
	[KEY_HOSTPORTS] = { parse_hostports, format_hostports, release_hostports },
};

static int parse_value(const struct key_def *def, const char *text, union key_value *out,
		       char *why, size_t why_len)
{
	return type_ops[def->type].parse(def, text, out, why, why_len);
}

static size_t format_value(const struct key_def *def, const union key_value *value,
			   char *buf, size_t len)
{
	return type_ops[def->type].format(def, value, buf, len);
}

static void release_value(const struct key_def *def, union key_value *value)
{
	if (type_ops[def->type].release)
		type_ops[def->type].release(value);
}

static size_t key_index(const struct key_def *def)
{
	return (size_t)(def - key_table);
}

/* Returns the table's copy of the section name, or NULL if unknown. */
static const char *find_section(const char *section)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(key_table[i].section, section) == 0)
			return key_table[i].section;
	}
	return NULL;
}

static const struct key_def *find_key(const char *section, size_t section_len, const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key_def *def = &key_table[i];
		if (strlen(def->section) == section_len &&
		    strncmp(def->section, section, section_len) == 0 && strcmp(def->name, name) == 0)
			return def;
	}
	return NULL;
}

/* key is "section.key". */
static const struct key_def *find_qualified_key(const char *key)
{
	const char *dot = strchr(key, '.');
	return dot ? find_key(key, (size_t)(dot - key), dot + 1) : NULL;
}

/* ENV_PREFIX + upper(section) + "_" + upper(name); an empty name gives the
 * prefix that every variable of the section starts with. */
static void env_name(const char *section, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, ENV_PREFIX "%s_%s", section, name);
	for (char *c = buf; *c; c++)
		*c = (char)toupper((unsigned char)*c);
}

static void stage(struct staging *staging, const struct key_def *def,
		  const union key_value *value)
{
	size_t i = key_index(def);
	if (staging->staged[i])
		release_value(def, &staging->value[i]);
	staging->value[i] = *value;
	staging->staged[i] = true;
}

/* Moves the staged values into cfg if rc is 0, else drops them; returns rc. */
static int finish_staging(grp_config *cfg, struct staging *staging, int rc)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (!staging->staged[i])
			continue;
		if (rc == 0) {
			release_value(&key_table[i], &cfg->value[i]);
			cfg->value[i] = staging->value[i];
		} else {
			release_value(&key_table[i], &staging->value[i]);
		}
	}
	return rc;
}

int grp_config_new(grp_config **out)
{
	if (!out)
		return GRP_EINVAL;
	grp_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return GRP_ENOMEM;
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char why[ERROR_MAX];
		int rc = parse_value(&key_table[i], key_table[i].default_text, &cfg->value[i],
				     why, sizeof why);
		if (rc != 0) {
			grp_config_free(cfg);
			return rc;
		}
	}
	*out = cfg;
	return 0;
}

void grp_config_free(grp_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < KEY_COUNT; i++)
		release_value(&key_table[i], &cfg->value[i]);
	free(cfg);
}

const char *grp_config_error(const grp_config *cfg)
{
	return cfg ? cfg->error : "";
}

struct ini_parser {
	grp_config *cfg;
	const char *name;
	unsigned line_no;
	const char *section; /* points into key_table; NULL before the first header */
	unsigned first_line[KEY_COUNT]; /* 0: not yet set by this file */
	struct staging staging;
};

__attribute__((format(printf, 3, 4)))
static int ini_fail(struct ini_parser *p, int err, const char *fmt, ...)
{
	char detail[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return fail(p->cfg, err, "%s:%u: %s", p->name, p->line_no, detail);
}

static int parse_section_line(struct ini_parser *p, char *line)
{
	size_t len = strlen(line);
	if (line[len - 1] != ']')
		return ini_fail(p, GRP_ECONFIG, "malformed section header '%s'", line);
	line[len - 1] = '\0';
	const char *section = trim(line + 1);
	p->section = find_section(section);
	if (!p->section)
		return ini_fail(p, GRP_ECONFIG, "unknown section [%s]", section);
	return 0;
}

static int parse_key_line(struct ini_parser *p, char *line)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return ini_fail(p, GRP_ECONFIG, "expected 'key = value', got '%s'", line);
	*eq = '\0';
	const char *name = trim(line);
	const char *value = trim(eq + 1);
	if (!*name)
		return ini_fail(p, GRP_ECONFIG, "missing key name before '='");
	if (!p->section)
		return ini_fail(p, GRP_ECONFIG, "key '%s' before any [section]", name);
	const struct key_def *def = find_key(p->section, strlen(p->section), name);
	if (!def)
		return ini_fail(p, GRP_ECONFIG, "unknown key '%s' in section [%s]", name, p->section);
	size_t i = key_index(def);
	if (p->first_line[i])
		return ini_fail(p, GRP_ECONFIG, "duplicate key '%s' in section [%s] (first set on line %u)",
				name, p->section, p->first_line[i]);
	char why[ERROR_MAX];
	union key_value parsed;
	int rc = parse_value(def, value, &parsed, why, sizeof why);
	if (rc != 0)
		return ini_fail(p, rc, "%s.%s: %s", def->section, def->name, why);
	p->first_line[i] = p->line_no;
	stage(&p->staging, def, &parsed);
	return 0;
}

/* Comments are whole lines only: a '#' or ';' inside a value belongs to the
 * value, so names and addresses need no escaping. */
static int parse_line(struct ini_parser *p, const char *text, size_t len)
{
	char line[LINE_MAX_CHARS + 1];
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len > LINE_MAX_CHARS)
		return ini_fail(p, GRP_ECONFIG, "line longer than %d characters (starts '%.40s')",
				LINE_MAX_CHARS, text);
	memcpy(line, text, len);
	line[len] = '\0';
	char *content = trim(line);
	if (content[0] == '\0' || content[0] == '#' || content[0] == ';')
		return 0;
	if (content[0] == '[')
		return parse_section_line(p, content);
	return parse_key_line(p, content);
}

static int parse_ini(grp_config *cfg, const char *text, const char *name)
{
	struct ini_parser p = { .cfg = cfg, .name = name };
	int rc = 0;
	while (rc == 0 && *text) {
		size_t len = strcspn(text, "\n");
		p.line_no++;
		rc = parse_line(&p, text, len);
		text += len + (text[len] == '\n');
	}
	return finish_staging(cfg, &p.staging, rc);
}

int grp_config_load_string(grp_config *cfg, const char *text, const char *name)
{
	if (!cfg)
		return GRP_EINVAL;
	if (!text || !name)
		return fail(cfg, GRP_EINVAL, "grp_config_load_string: NULL text or name");
	return parse_ini(cfg, text, name);
}

/* Reads all of path into a NUL-terminated heap string in *out. */
static int read_file(grp_config *cfg, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(cfg, GRP_EIO, "%s: cannot open: %s", path, strerror(errno));
	char *text = NULL;
	size_t len = 0, capacity = 0;
	int rc = 0;
	for (;;) {
		if (capacity - len < 2) {
			size_t grown = capacity ? capacity * 2 : 4096;
			char *bigger = realloc(text, grown);
			if (!bigger) {
				rc = fail(cfg, GRP_ENOMEM, "%s: out of memory", path);
				break;
			}
			text = bigger;
			capacity = grown;
		}
		size_t n = fread(text + len, 1, capacity - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	if (rc == 0 && ferror(f))
		rc = fail(cfg, GRP_EIO, "%s: cannot read: %s", path, strerror(errno));
	fclose(f);
	if (rc == 0) {
		text[len] = '\0';
		/* The parser works on C strings and would silently stop here. */
		if (strlen(text) != len)
			rc = fail(cfg, GRP_ECONFIG, "%s: contains a NUL byte", path);
	}
	if (rc != 0) {
		free(text);
		return rc;
	}
	*out = text;
	return 0;
}

int grp_config_load_file(grp_config *cfg, const char *path)
{
	if (!cfg)
		return GRP_EINVAL;
	if (!path)
		return fail(cfg, GRP_EINVAL, "grp_config_load_file: NULL path");
	char *text = NULL;
	int rc = read_file(cfg, path, &text);
	if (rc != 0)
		return rc;
	rc = parse_ini(cfg, text, path);
	free(text);
	return rc;
}

static const struct key_def *find_env_key(const char *var, size_t name_len)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char env[ENV_NAME_MAX];
		env_name(key_table[i].section, key_table[i].name, env, sizeof env);
		if (strlen(env) == name_len && strncmp(env, var, name_len) == 0)
			return &key_table[i];
	}
	return NULL;
}

static const char *find_env_section(const char *var, size_t name_len)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		char prefix[ENV_NAME_MAX];
		env_name(key_table[i].section, "", prefix, sizeof prefix);
		size_t prefix_len = strlen(prefix);
		if (prefix_len <= name_len && strncmp(prefix, var, prefix_len) == 0)
			return key_table[i].section;
	}
	return NULL;
}

/* var is one "NAME=value" entry of environ. Variables outside every known
 * section's prefix belong to someone else (GROUP_LOG is the logger's). */
static int apply_env_var(grp_config *cfg, struct staging *staging, const char *var)
{
	const char *eq = strchr(var, '=');
	if (!eq || strncmp(var, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
		return 0;
	size_t name_len = (size_t)(eq - var);
	const struct key_def *def = find_env_key(var, name_len);
	if (def) {
		char why[ERROR_MAX];
		union key_value parsed;
		int rc = parse_value(def, eq + 1, &parsed, why, sizeof why);
		if (rc != 0)
			return fail(cfg, rc, "environment variable %.*s: %s.%s: %s", (int)name_len, var,
				    def->section, def->name, why);
		stage(staging, def, &parsed);
		return 0;
	}
	const char *section = find_env_section(var, name_len);
	if (section)
		return fail(cfg, GRP_ECONFIG, "environment variable %.*s: no such key in section [%s]",
			    (int)name_len, var, section);
	return 0;
}

int grp_config_apply_env(grp_config *cfg)
{
	if (!cfg)
		return GRP_EINVAL;
	struct staging staging = { 0 };
	int rc = 0;
	for (char **var = environ; rc == 0 && *var; var++)
		rc = apply_env_var(cfg, &staging, *var);
	return finish_staging(cfg, &staging, rc);
}

int grp_config_set(grp_config *cfg, const char *key, const char *value)
{
	if (!cfg)
		return GRP_EINVAL;
	if (!key || !value)
		return fail(cfg, GRP_EINVAL, "grp_config_set: NULL key or value");
	const struct key_def *def = find_qualified_key(key);
	if (!def)
		return fail(cfg, GRP_ENOTFOUND, "unknown key '%s'", key);
	char why[ERROR_MAX];
	union key_value parsed;
	int rc = parse_value(def, value, &parsed, why, sizeof why);
	if (rc != 0)
		return fail(cfg, rc, "%s: %s", key, why);
	size_t i = key_index(def);
	release_value(def, &cfg->value[i]);
	cfg->value[i] = parsed;
	return 0;
}

/* cfg is const here, so failures cannot be recorded in grp_config_error. */
int grp_config_get(const grp_config *cfg, const char *key, char *buf, size_t len)
{
	if (!cfg || !key || !buf)
		return GRP_EINVAL;
	const struct key_def *def = find_qualified_key(key);
	if (!def)
		return GRP_ENOTFOUND;
	size_t needed = format_value(def, &cfg->value[key_index(def)], buf, len);
	return needed < len ? 0 : GRP_ENOSPC;
}

static int dump_key(const grp_config *cfg, size_t i, FILE *out)
{
	const struct key_def *def = &key_table[i];
	const union key_value *value = &cfg->value[i];
	if (i == 0 || strcmp(def->section, key_table[i - 1].section) != 0)
		fprintf(out, "\n[%s]\n", def->section);
	char env[ENV_NAME_MAX];
	env_name(def->section, def->name, env, sizeof env);
	size_t len = format_value(def, value, NULL, 0);
	char *text = malloc(len + 1);
	if (!text)
		return GRP_ENOMEM;
	format_value(def, value, text, len + 1);
	fprintf(out, "\n# %s\n# default: %s, env: %s\n%s =%s%s\n", def->help,
		def->default_text[0] ? def->default_text : "(empty)", env, def->name,
		len ? " " : "", text);
	free(text);
	return 0;
}

/* cfg is const here, so failures cannot be recorded in grp_config_error. */
int grp_config_dump(const grp_config *cfg, FILE *out)
{
	if (!cfg || !out)
		return GRP_EINVAL;
	fprintf(out, "# libgroup configuration: every key with its effective value.\n");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		int rc = dump_key(cfg, i, out);
		if (rc != 0)
			return rc;
	}
	return ferror(out) ? GRP_EIO : 0;
}

/* Getters are called with key names written in code: a miss is a bug. */
static const struct key_def *key_or_abort(const char *key)
{
	const struct key_def *def = find_qualified_key(key);
	if (!def)
		abort();
	return def;
}

static const union key_value *typed_value(const grp_config *cfg, const char *key,
					  enum key_type type)
{
	const struct key_def *def = key_or_abort(key);
	if (def->type != type)
		abort();
	return &cfg->value[key_index(def)];
}

const char *config_str(const grp_config *cfg, const char *key)
{
	const struct key_def *def = key_or_abort(key);
	const union key_value *value = &cfg->value[key_index(def)];
	if (def->type == KEY_ENUM)
		return def->choices[value->choice];
	if (def->type != KEY_STRING)
		abort();
	return value->str;
}

uint64_t config_uint(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, KEY_UINT)->u;
}

int64_t config_int(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, KEY_INT)->i;
}

bool config_bool(const grp_config *cfg, const char *key)
{
	return typed_value(cfg, key, KEY_BOOL)->b;
}

size_t config_hostports(const grp_config *cfg, const char *key, const struct grp_hostport **out)
{
	const struct hostport_list *list = &typed_value(cfg, key, KEY_HOSTPORTS)->hostports;
	*out = list->items;
	return list->count;
}
