#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "config_man.h"
#include "epoch_keys.h"
#include "fabric_keys.h"
#include "links_keys.h"
#include "membership_keys.h"
#include "log.h"
#include "persist_keys.h"
#include "rdmc_keys.h"
#include "schedule.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every key with its documented default, in canonical form. */
static const struct {
	const char *key;
	const char *value;
} defaults[] = {
	{ "group.name", "libgroup" },
	{ "group.members", "" },
	{ "group.contact", "" },
	{ "group.secret_file", "" },
	{ "member.listen", "" },
	{ "member.rank", "0" },
	{ "member.id", "-1" },
	{ "member.listen_fd", "-1" },
	{ "member.leave_timeout_ms", "15000" },
	{ "fabric.provider", "tcp" },
	{ "fabric.address", "" },
	{ "fabric.connect_timeout_ms", "15000" },
	{ "fabric.stall_timeout_ms", "10000" },
	{ "engine.spin_us", "0" },
	{ "engine.yield_us", "200" },
	{ "engine.sleep_ms", "20" },
	{ "multicast.senders", "all" },
	{ "multicast.max_smc_payload", "10240" },
	{ "multicast.window", "32" },
	{ "multicast.nonblocking", "false" },
	{ "multicast.send_timeout_ms", "60000" },
	{ "rdmc.max_payload", "16777216" },
	{ "rdmc.block_size", "1048576" },
	{ "rdmc.schedule", "binomial" },
	{ "membership.suspect_timeout_ms", "1000" },
	{ "membership.rejoin", "off" },
	{ "persist.mode", "off" },
	{ "persist.dir", "" },
	{ "persist.segment_mb", "64" },
	{ "persist.ring_mb", "16" },
	{ "persist.sync_interval_ms", "200" },
	{ "log.level", "error" },
	{ "admin.socket", "" },
	{ "callbacks.mode", "engine" },
	{ "callbacks.queue_mb", "16" },
};

static int setup(void **state)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0)
		return -1;
	*state = cfg;
	return 0;
}

static int teardown(void **state)
{
	grp_config_free(*state);
	return 0;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!haystack || !strstr(haystack, needle))
		fail_msg("expected '%s' in '%s'", needle, haystack ? haystack : "(null)");
}

static void assert_value(const grp_config *cfg, const char *key, const char *expected)
{
	char buf[16384];
	assert_int_equal(grp_config_get(cfg, key, buf, sizeof buf), 0);
	assert_string_equal(buf, expected);
}

static void test_defaults(void **state)
{
	grp_config *cfg = *state;
	assert_string_equal(grp_config_error(cfg), "");
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		assert_value(cfg, defaults[i].key, defaults[i].value);

	assert_string_equal(config_str(cfg, "group.name"), "libgroup");
	assert_string_equal(config_str(cfg, "fabric.provider"), "tcp");
	assert_string_equal(config_str(cfg, "fabric.address"), "");
	assert_string_equal(config_str(cfg, "log.level"), "error");
	assert_int_equal(config_uint(cfg, "member.rank"), 0);
	assert_int_equal(config_int(cfg, "member.listen_fd"), -1);
	assert_int_equal(config_int(cfg, "member.id"), -1);
	assert_int_equal(config_uint(cfg, "member.leave_timeout_ms"), 15000);
	assert_int_equal(config_uint(cfg, "fabric.connect_timeout_ms"), 15000);
	assert_int_equal(config_uint(cfg, "fabric.stall_timeout_ms"), 10000);
	assert_int_equal(config_uint(cfg, "engine.spin_us"), 0);
	assert_false(config_bool(cfg, "multicast.nonblocking"));
	assert_int_equal(config_uint(cfg, "engine.yield_us"), 200);
	assert_int_equal(config_uint(cfg, "engine.sleep_ms"), 20);
	const struct grp_hostport *members;
	assert_int_equal(config_hostports(cfg, "group.members", &members), 0);
	assert_int_equal(config_hostports(cfg, "group.contact", &members), 0);
	assert_int_equal(config_hostports(cfg, "member.listen", &members), 0);
}

static void test_load_string_good(void **state)
{
	grp_config *cfg = *state;
	const char *text =
		"# a comment\n"
		"; another comment\n"
		"\n"
		"[group]\n"
		"  name   =   orders #7  \n"
		"members = 10.0.0.1:7100, 10.0.0.2:7100 ,node-3.example.com:7100\n"
		"\t# an indented comment\n"
		"[member]\n"
		"rank = 2\n"
		"listen_fd = 5\n"
		"[fabric]\n"
		"provider = verbs\n"
		"address = 192.168.1.5\n"
		"connect_timeout_ms = 3600000\n"
		"[ engine ]\n"
		"spin_us = 7\n"
		"yield_us = 1000000\n"
		"sleep_ms = 1000\n"
		"[multicast]\n"
		"nonblocking = Yes\n"
		"[log]\n"
		"level = trace";
	assert_int_equal(grp_config_load_string(cfg, text, "good.ini"), 0);

	/* Comments are whole lines only, so the '#' belongs to the value. */
	assert_string_equal(config_str(cfg, "group.name"), "orders #7");
	assert_value(cfg, "group.members", "10.0.0.1:7100,10.0.0.2:7100,node-3.example.com:7100");
	const struct grp_hostport *members;
	assert_int_equal(config_hostports(cfg, "group.members", &members), 3);
	assert_string_equal(members[2].host, "node-3.example.com");
	assert_int_equal(members[2].port, 7100);
	assert_int_equal(config_uint(cfg, "member.rank"), 2);
	assert_int_equal(config_int(cfg, "member.listen_fd"), 5);
	assert_string_equal(config_str(cfg, "fabric.provider"), "verbs");
	assert_string_equal(config_str(cfg, "fabric.address"), "192.168.1.5");
	assert_int_equal(config_uint(cfg, "fabric.connect_timeout_ms"), 3600000);
	assert_int_equal(config_uint(cfg, "engine.spin_us"), 7);
	assert_true(config_bool(cfg, "multicast.nonblocking"));
	assert_int_equal(config_uint(cfg, "engine.yield_us"), 1000000);
	assert_int_equal(config_uint(cfg, "engine.sleep_ms"), 1000);
	assert_string_equal(config_str(cfg, "log.level"), "trace");

	/* A later load overrides only the keys it names. */
	assert_int_equal(grp_config_load_string(cfg, "[member]\nrank = 3\n", "more.ini"), 0);
	assert_int_equal(config_uint(cfg, "member.rank"), 3);
	assert_string_equal(config_str(cfg, "group.name"), "orders #7");
}

struct reject_case {
	const char *name;
	const char *text;
	const char *needles[3];
};

static struct reject_case reject_cases[] = {
	{ "unknown section", "[group]\nname = x\n[grop]\n", { "bad.ini:3:", "[grop]" } },
	{ "unknown key", "[group]\n\nmembrs = a:1\n", { "bad.ini:3:", "'membrs'", "[group]" } },
	{ "key before section", "# c\nname = x\n[group]\n", { "bad.ini:2:", "'name'" } },
	{ "missing '='", "[group]\nname orders\n", { "bad.ini:2:", "name orders" } },
	{ "missing key name", "[group]\n = x\n", { "bad.ini:2:", "missing key" } },
	{ "malformed section header", "[group]\n[member\n", { "bad.ini:2:", "[member" } },
	{ "duplicate key", "[group]\nname = a\n\nname = b\n", { "bad.ini:4:", "'name'", "line 2" } },
	{ "uint below range", "[fabric]\nconnect_timeout_ms = 0\n",
	  { "bad.ini:2:", "fabric.connect_timeout_ms", "1..3600000" } },
	{ "uint above range", "[member]\nrank = 1024\n", { "bad.ini:2:", "member.rank", "0..1023" } },
	{ "negative uint", "[member]\nrank = -1\n", { "bad.ini:2:", "member.rank", "'-1'" } },
	{ "uint with plus sign", "[member]\nrank = +1\n", { "bad.ini:2:", "member.rank", "'+1'" } },
	{ "garbage uint", "[member]\nrank = 12abc\n", { "bad.ini:2:", "member.rank", "'12abc'" } },
	{ "uint with inner space", "[member]\nrank = 1 2\n", { "bad.ini:2:", "member.rank" } },
	{ "empty uint", "[member]\nrank =\n", { "bad.ini:2:", "member.rank" } },
	{ "uint overflowing 64 bits", "[member]\nrank = 18446744073709551616\n",
	  { "bad.ini:2:", "member.rank", "out of range" } },
	{ "bad bool", "[multicast]\nnonblocking = maybe\n",
	  { "bad.ini:2:", "multicast.nonblocking", "maybe" } },
	{ "huge uint", "[engine]\nspin_us = 99999999999999999999999\n",
	  { "bad.ini:2:", "engine.spin_us", "out of range" } },
	{ "int below range", "[member]\nlisten_fd = -2\n",
	  { "bad.ini:2:", "member.listen_fd", "-1..1048576" } },
	{ "int above range", "[member]\nlisten_fd = 1048577\n",
	  { "bad.ini:2:", "member.listen_fd", "-1..1048576" } },
	{ "garbage int", "[member]\nlisten_fd = --1\n", { "bad.ini:2:", "member.listen_fd", "'--1'" } },
	{ "member id below range", "[member]\nid = -2\n", { "bad.ini:2:", "member.id", "-1..4095" } },
	{ "member id above range", "[member]\nid = 4096\n", { "bad.ini:2:", "member.id", "-1..4095" } },
	{ "leave timeout of 0", "[member]\nleave_timeout_ms = 0\n",
	  { "bad.ini:2:", "member.leave_timeout_ms", "1..3600000" } },
	{ "leave timeout above an hour", "[member]\nleave_timeout_ms = 3600001\n",
	  { "bad.ini:2:", "member.leave_timeout_ms", "1..3600000" } },
	{ "bad enum", "[rdmc]\nschedule = loud\n", { "bad.ini:2:", "rdmc.schedule", "'loud'" } },
	{ "enum is case-sensitive", "[rdmc]\nschedule = CHAIN\n", { "bad.ini:2:", "rdmc.schedule" } },
	{ "bad log level", "[log]\nlevel = loud\n", { "bad.ini:2:", "log.level", "'loud'" } },
	{ "log spec naming no module", "[log]\nlevel = warn, nosuchmodule = debug\n",
	  { "bad.ini:2:", "log.level", "'nosuchmodule' is not a module" } },
	{ "empty required string", "[group]\nname =\n", { "bad.ini:2:", "group.name", "empty" } },
	{ "member without port", "[group]\nmembers = a:1, b\n", { "bad.ini:2:", "group.members", "'b'" } },
	{ "member port 0", "[group]\nmembers = a:0\n", { "bad.ini:2:", "group.members", "'a:0'" } },
	{ "member port 70000", "[group]\nmembers = a:70000\n",
	  { "bad.ini:2:", "group.members", "'a:70000'" } },
	{ "member port not a number", "[group]\nmembers = a:x1\n",
	  { "bad.ini:2:", "group.members", "'a:x1'" } },
	{ "member with empty host", "[group]\nmembers = :7000\n",
	  { "bad.ini:2:", "group.members", "':7000'" } },
	{ "duplicate member", "[group]\nmembers = a:1, b:2, a:1\n",
	  { "bad.ini:2:", "group.members", "twice" } },
	{ "duplicate member, host case differs", "[group]\nmembers = Node:1,node:1\n",
	  { "bad.ini:2:", "group.members", "twice" } },
	{ "duplicate IPv6 member, spelled differently", "[group]\nmembers = [::1]:1,[0::1]:1\n",
	  { "bad.ini:2:", "group.members", "twice" } },
	{ "member host with bad character", "[group]\nmembers = a_b:1\n",
	  { "bad.ini:2:", "group.members", "'a_b:1'" } },
	{ "IPv6 member without brackets", "[group]\nmembers = ::1:7000\n",
	  { "bad.ini:2:", "group.members", "'::1:7000'" } },
	{ "bad IPv6 literal", "[group]\nmembers = [zz::1]:7000\n",
	  { "bad.ini:2:", "group.members", "IPv6" } },
	{ "unterminated IPv6 bracket", "[group]\nmembers = [::1:7000\n",
	  { "bad.ini:2:", "group.members", "']'" } },
	{ "IPv6 member without port", "[group]\nmembers = [::1]\n",
	  { "bad.ini:2:", "group.members", "':port'" } },
	{ "empty member entry", "[group]\nmembers = a:1,,b:2\n",
	  { "bad.ini:2:", "group.members", "empty" } },
	{ "trailing comma in members", "[group]\nmembers = a:1,\n",
	  { "bad.ini:2:", "group.members", "empty" } },
	{ "listen port 0", "[member]\nlisten = a:0\n", { "bad.ini:2:", "member.listen", "'a:0'" } },
};

static void test_load_rejects(void **state)
{
	const struct reject_case *c = *state;
	grp_config *cfg;
	assert_int_equal(grp_config_new(&cfg), 0);
	assert_int_equal(grp_config_load_string(cfg, c->text, "bad.ini"), GRP_ECONFIG);
	for (size_t i = 0; i < ARRAY_SIZE(c->needles) && c->needles[i]; i++)
		assert_contains(grp_config_error(cfg), c->needles[i]);
	grp_config_free(cfg);
}

static void test_too_long_line(void **state)
{
	grp_config *cfg = *state;
	char text[8192];
	/* 4095 characters is the limit; a CR before the LF does not count. */
	int n = snprintf(text, sizeof text, "[group]\n#%04094d\r\n", 0);
	assert_int_equal(n, 8 + 4095 + 2);
	assert_int_equal(grp_config_load_string(cfg, text, "edge.ini"), 0);

	n = snprintf(text, sizeof text, "[group]\n\nname = %04089d\n", 0);
	assert_int_equal(n, 9 + 4096 + 1);
	assert_int_equal(grp_config_load_string(cfg, text, "long.ini"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "long.ini:3:");
	assert_contains(grp_config_error(cfg), "'name = 0000");
}

static void test_string_limits(void **state)
{
	grp_config *cfg = *state;
	char name[300];
	memset(name, 'n', 255);
	name[255] = '\0';
	assert_int_equal(grp_config_set(cfg, "group.name", name), 0);
	assert_string_equal(config_str(cfg, "group.name"), name);

	char text[512];
	snprintf(text, sizeof text, "[group]\nname = %sx\n", name);
	assert_int_equal(grp_config_load_string(cfg, text, "s.ini"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "s.ini:2:");
	assert_contains(grp_config_error(cfg), "group.name");

	assert_int_equal(grp_config_set(cfg, "group.name", ""), GRP_ECONFIG);
	assert_int_equal(grp_config_set(cfg, "group.name", " padded"), GRP_ECONFIG);
	assert_int_equal(grp_config_set(cfg, "group.name", "tab\there"), GRP_ECONFIG);
	assert_int_equal(grp_config_set(cfg, "group.name", "line\nbreak"), GRP_ECONFIG);
	assert_string_equal(config_str(cfg, "group.name"), name);

	/* fabric.address may be empty; group.name may not. */
	assert_int_equal(grp_config_set(cfg, "fabric.address", "10.1.1.1"), 0);
	assert_int_equal(grp_config_set(cfg, "fabric.address", ""), 0);
	assert_string_equal(config_str(cfg, "fabric.address"), "");
}

static void test_failed_load_keeps_values(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_load_string(cfg,
		"[group]\nname = first\nmembers = a:1\n[member]\nrank = 1\n", "one.ini"), 0);
	assert_int_equal(grp_config_load_string(cfg,
		"[group]\nname = second\nmembers = b:2, c:3\n[member]\nrank = 2\nrank = 3\n",
		"two.ini"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "two.ini:6:");
	assert_string_equal(config_str(cfg, "group.name"), "first");
	assert_value(cfg, "group.members", "a:1");
	assert_int_equal(config_uint(cfg, "member.rank"), 1);
}

static void test_set_get_round_trip(void **state)
{
	grp_config *cfg = *state;
	static const struct {
		const char *key, *input, *canonical;
	} cases[] = {
		{ "group.name", "orders", "orders" },
		{ "group.members", " b:2 , [0::1]:7000,Host.example:1 ", "b:2,[::1]:7000,Host.example:1" },
		{ "group.members", "", "" },
		{ "group.members", "  ", "" },
		{ "group.contact", "a:1,b:2", "a:1,b:2" },
		{ "member.listen", "[0::1]:7000", "[::1]:7000" },
		{ "member.rank", "007", "7" },
		{ "member.rank", "1023", "1023" },
		{ "member.listen_fd", "-0", "0" },
		{ "member.listen_fd", "1048576", "1048576" },
		{ "member.listen_fd", "-1", "-1" },
		{ "member.id", "4095", "4095" },
		{ "member.id", "0", "0" },
		{ "member.leave_timeout_ms", "1", "1" },
		{ "member.leave_timeout_ms", "3600000", "3600000" },
		{ "fabric.connect_timeout_ms", "1", "1" },
		{ "engine.sleep_ms", "1000", "1000" },
		{ "log.level", "debug", "debug" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(grp_config_set(cfg, cases[i].key, cases[i].input), 0);
		assert_value(cfg, cases[i].key, cases[i].canonical);
	}
	assert_int_equal(config_int(cfg, "member.listen_fd"), -1);
	assert_int_equal(config_uint(cfg, "member.rank"), 1023);
	assert_int_equal(config_int(cfg, "member.id"), 0);
	assert_int_equal(config_uint(cfg, "member.leave_timeout_ms"), 3600000);
	const struct grp_hostport *contact;
	assert_int_equal(config_hostports(cfg, "group.contact", &contact), 2);
	assert_string_equal(contact[0].host, "a");
	assert_int_equal(contact[0].port, 1);
	assert_string_equal(contact[1].host, "b");
	assert_int_equal(contact[1].port, 2);

	assert_int_equal(grp_config_set(cfg, "member.listen", "a:0"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "member.listen");
	assert_value(cfg, "member.listen", "[::1]:7000");

	assert_int_equal(grp_config_set(cfg, "member.rank", "1024"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "member.rank");
	assert_contains(grp_config_error(cfg), "'1024'");
	assert_int_equal(config_uint(cfg, "member.rank"), 1023);
}

static void test_get_truncates(void **state)
{
	grp_config *cfg = *state;
	char buf[9];
	assert_int_equal(grp_config_get(cfg, "group.name", buf, 4), GRP_ENOSPC);
	assert_string_equal(buf, "lib");
	assert_int_equal(grp_config_get(cfg, "group.name", buf, 8), GRP_ENOSPC);
	assert_string_equal(buf, "libgrou");
	assert_int_equal(grp_config_get(cfg, "group.name", buf, 9), 0);
	assert_string_equal(buf, "libgroup");
}

static void test_unknown_key(void **state)
{
	grp_config *cfg = *state;
	char buf[64];
	assert_int_equal(grp_config_set(cfg, "group.nmae", "x"), GRP_ENOTFOUND);
	assert_contains(grp_config_error(cfg), "group.nmae");
	assert_int_equal(grp_config_set(cfg, "name", "x"), GRP_ENOTFOUND);
	assert_int_equal(grp_config_set(cfg, "grop.name", "x"), GRP_ENOTFOUND);
	assert_int_equal(grp_config_get(cfg, "group.nmae", buf, sizeof buf), GRP_ENOTFOUND);
	assert_int_equal(grp_config_get(cfg, "group", buf, sizeof buf), GRP_ENOTFOUND);
}

static void test_members_limit(void **state)
{
	grp_config *cfg = *state;
	size_t len = 1025 * 8 + 1;
	char *list = malloc(len);
	assert_non_null(list);
	size_t used = 0;
	for (int port = 1; port <= 1024; port++)
		used += (size_t)snprintf(list + used, len - used, "%sh:%d", port > 1 ? "," : "", port);
	assert_int_equal(grp_config_set(cfg, "group.members", list), 0);
	const struct grp_hostport *members;
	assert_int_equal(config_hostports(cfg, "group.members", &members), 1024);
	assert_int_equal(members[1023].port, 1024);

	snprintf(list + used, len - used, ",h:1025");
	assert_int_equal(grp_config_set(cfg, "group.members", list), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "1024");
	assert_int_equal(config_hostports(cfg, "group.members", &members), 1024);
	free(list);
}

static void test_ipv6_member(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_load_string(cfg,
		"[group]\nmembers = [::1]:7000, 10.0.0.1:7001\n", "v6.ini"), 0);
	const struct grp_hostport *members;
	assert_int_equal(config_hostports(cfg, "group.members", &members), 2);
	assert_string_equal(members[0].host, "::1");
	assert_int_equal(members[0].port, 7000);
	assert_string_equal(members[1].host, "10.0.0.1");
	assert_int_equal(members[1].port, 7001);
	assert_value(cfg, "group.members", "[::1]:7000,10.0.0.1:7001");
}

static void test_crlf(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_load_string(cfg,
		"[group]\r\nname = crlf\r\n\r\n[member]\r\nrank = 4\r\n", "dos.ini"), 0);
	assert_string_equal(config_str(cfg, "group.name"), "crlf");
	assert_int_equal(config_uint(cfg, "member.rank"), 4);
}

static void test_env_override(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_load_string(cfg, "[fabric]\nprovider = tcp\n", "f.ini"), 0);
	setenv("GROUP_FABRIC_PROVIDER", "verbs", 1);
	setenv("GROUP_MEMBER_RANK", "9", 1);
	setenv("GROUP_MEMBER_ID", "4095", 1);
	setenv("GROUP_MEMBER_LEAVE_TIMEOUT_MS", "2500", 1);
	setenv("GROUP_LOG", "debug", 1);
	setenv("GROUP_NOSUCHSECTION_KEY", "x", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_FABRIC_PROVIDER");
	unsetenv("GROUP_MEMBER_RANK");
	unsetenv("GROUP_MEMBER_ID");
	unsetenv("GROUP_MEMBER_LEAVE_TIMEOUT_MS");
	unsetenv("GROUP_LOG");
	unsetenv("GROUP_NOSUCHSECTION_KEY");
	assert_int_equal(rc, 0);
	assert_string_equal(config_str(cfg, "fabric.provider"), "verbs");
	assert_int_equal(config_uint(cfg, "member.rank"), 9);
	assert_int_equal(config_int(cfg, "member.id"), 4095);
	assert_int_equal(config_uint(cfg, "member.leave_timeout_ms"), 2500);
}

static const char *origin_of(const grp_config *cfg, const char *key, char *buf, size_t cap)
{
	for (size_t i = 0; i < config_key_count(cfg); i++) {
		struct config_description d;
		assert_int_equal(config_key_describe(cfg, i, &d), 0);
		char name[96];
		snprintf(name, sizeof name, "%s.%s", d.section, d.name);
		free(d.value);
		if (strcmp(name, key) == 0) {
			snprintf(buf, cap, "%s", d.origin);
			return buf;
		}
	}
	fail_msg("no key %s", key);
	return NULL;
}

/* Each value remembers where it came from, the last writer winning; a
 * failed load changes no origin. */
static void test_origins(void **state)
{
	grp_config *cfg = *state;
	char buf[128];
	assert_string_equal(origin_of(cfg, "fabric.provider", buf, sizeof buf), "default");
	assert_int_equal(grp_config_load_string(cfg, "[fabric]\n\nprovider = tcp\n", "f.ini"), 0);
	assert_string_equal(origin_of(cfg, "fabric.provider", buf, sizeof buf), "f.ini:3");
	assert_int_not_equal(grp_config_load_string(cfg, "[fabric]\nprovider = tcp\nbad\n", "g.ini"),
			     0);
	assert_string_equal(origin_of(cfg, "fabric.provider", buf, sizeof buf), "f.ini:3");
	setenv("GROUP_FABRIC_PROVIDER", "verbs", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_FABRIC_PROVIDER");
	assert_int_equal(rc, 0);
	assert_string_equal(origin_of(cfg, "fabric.provider", buf, sizeof buf),
			    "env GROUP_FABRIC_PROVIDER");
	assert_int_equal(grp_config_set(cfg, "fabric.provider", "tcp"), 0);
	assert_string_equal(origin_of(cfg, "fabric.provider", buf, sizeof buf), "grp_config_set");
	struct config_description d;
	assert_int_equal(config_key_describe(cfg, config_key_count(cfg), &d), GRP_ENOTFOUND);
}

static void test_env_unknown_key(void **state)
{
	grp_config *cfg = *state;
	setenv("GROUP_FABRIC_PROVIDER", "verbs", 1);
	setenv("GROUP_FABRIC_BOGUS", "1", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_FABRIC_PROVIDER");
	unsetenv("GROUP_FABRIC_BOGUS");
	assert_int_equal(rc, GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "GROUP_FABRIC_BOGUS");
	/* All or nothing: the valid variable was not applied either. */
	assert_string_equal(config_str(cfg, "fabric.provider"), "tcp");
}

/* Names that share a prefix with a key's variable are not that key. */
static void test_env_near_miss_names(void **state)
{
	grp_config *cfg = *state;
	static const char *const names[] = { "GROUP_FABRIC_PROV", "GROUP_FABRIC_PROVIDERS" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		setenv(names[i], "verbs", 1);
		int rc = grp_config_apply_env(cfg);
		unsetenv(names[i]);
		assert_int_equal(rc, GRP_ECONFIG);
		assert_contains(grp_config_error(cfg), names[i]);
		assert_string_equal(config_str(cfg, "fabric.provider"), "tcp");
	}
}

static void test_env_bad_value(void **state)
{
	grp_config *cfg = *state;
	setenv("GROUP_MEMBER_RANK", "abc", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_MEMBER_RANK");
	assert_int_equal(rc, GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "GROUP_MEMBER_RANK");
	assert_contains(grp_config_error(cfg), "member.rank");
	assert_int_equal(config_uint(cfg, "member.rank"), 0);
}

static void test_env_member_id_out_of_range(void **state)
{
	grp_config *cfg = *state;
	setenv("GROUP_MEMBER_ID", "4096", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_MEMBER_ID");
	assert_int_equal(rc, GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "GROUP_MEMBER_ID");
	assert_contains(grp_config_error(cfg), "-1..4095");
	assert_int_equal(config_int(cfg, "member.id"), -1);
}

/* What a writer of the whole configuration (the dump, the manual's keys)
 * makes of cfg. */
static char *write_to_string(const grp_config *cfg, int (*writer)(const grp_config *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(writer(cfg, out), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static char *dump_to_string(const grp_config *cfg)
{
	return write_to_string(cfg, grp_config_dump);
}

static void assert_dump_round_trips(const grp_config *cfg)
{
	char *text = dump_to_string(cfg);
	grp_config *copy;
	assert_int_equal(grp_config_new(&copy), 0);
	assert_int_equal(grp_config_load_string(copy, text, "dump.ini"), 0);
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		char want[1024], got[1024];
		assert_int_equal(grp_config_get(cfg, defaults[i].key, want, sizeof want), 0);
		assert_int_equal(grp_config_get(copy, defaults[i].key, got, sizeof got), 0);
		assert_string_equal(got, want);
	}
	grp_config_free(copy);
	free(text);
}

static void test_dump_round_trip(void **state)
{
	grp_config *cfg = *state;
	assert_dump_round_trips(cfg);
	char *text = dump_to_string(cfg);
	/* An empty value leaves no trailing space. */
	assert_contains(text, "\nmembers =\n");
	free(text);

	static const struct {
		const char *key, *value;
	} changes[] = {
		{ "group.name", "#not-a-comment ;either" },
		{ "group.members", "[fe80::1]:7100, 10.0.0.2:7100,node3:7100" },
		{ "group.contact", "node1:7100,node2:7100" },
		{ "member.listen", "node4:7100" },
		{ "member.rank", "2" },
		{ "member.id", "4095" },
		{ "member.listen_fd", "17" },
		{ "member.leave_timeout_ms", "1" },
		{ "fabric.provider", "verbs" },
		{ "fabric.address", "10.9.8.7" },
		{ "fabric.connect_timeout_ms", "1" },
		{ "fabric.stall_timeout_ms", "3600000" },
		{ "engine.spin_us", "3" },
		{ "engine.yield_us", "999" },
		{ "multicast.senders", "0,2" },
		{ "multicast.max_smc_payload", "0" },
		{ "multicast.window", "65536" },
		{ "multicast.nonblocking", "on" },
		{ "multicast.send_timeout_ms", "0" },
		{ "engine.sleep_ms", "1000" },
		{ "rdmc.max_payload", "17179869184" },
		{ "rdmc.block_size", "4096" },
		{ "rdmc.schedule", "chain" },
		{ "log.level", "warn" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(changes); i++)
		assert_int_equal(grp_config_set(cfg, changes[i].key, changes[i].value), 0);
	assert_dump_round_trips(cfg);

	text = dump_to_string(cfg);
	assert_contains(text, "[engine]\n");
	assert_contains(text, "# How long to wait for every peer's bootstrap and fabric connection.\n"
			      "# default: 15000, env: GROUP_FABRIC_CONNECT_TIMEOUT_MS\n"
			      "connect_timeout_ms = 1\n");
	assert_contains(text, "members = [fe80::1]:7100,10.0.0.2:7100,node3:7100\n");
	free(text);
}

/* A dump's sections and "section.key" names, in the order it lists them. */
struct dump_outline {
	char sections[16][32];
	size_t section_count;
	char keys[64][96];
	size_t key_count;
};

static void outline_dump(const char *text, struct dump_outline *outline)
{
	memset(outline, 0, sizeof *outline);
	const char *section = "";
	while (*text) {
		size_t len = strcspn(text, "\n");
		if (text[0] == '[') {
			assert_true(outline->section_count < ARRAY_SIZE(outline->sections));
			char *name = outline->sections[outline->section_count++];
			snprintf(name, sizeof outline->sections[0], "%.*s", (int)len - 2, text + 1);
			section = name;
		} else if (len > 0 && text[0] != '#') {
			assert_true(outline->key_count < ARRAY_SIZE(outline->keys));
			snprintf(outline->keys[outline->key_count++], sizeof outline->keys[0], "%s.%.*s",
				 section, (int)strcspn(text, " "), text);
		}
		text += len + (text[len] == '\n');
	}
}

static void assert_listed_once(const struct dump_outline *outline, const char *key)
{
	size_t count = 0;
	for (size_t i = 0; i < outline->key_count; i++)
		count += strcmp(outline->keys[i], key) == 0;
	if (count != 1)
		fail_msg("%s is listed %zu times in the dump", key, count);
}

/* Every layer's keys reach the configuration through lib's registry, each
 * once, and the sections keep their order although layers share them. */
static void test_dump_lists_every_layer_key_once(void **state)
{
	grp_config *cfg = *state;
	char *text = dump_to_string(cfg);
	struct dump_outline outline;
	outline_dump(text, &outline);
	free(text);

	static const char *const sections[] = {
		"group", "member", "fabric", "engine", "multicast", "rdmc", "membership", "persist",
		"log", "admin", "callbacks",
	};
	assert_int_equal(outline.section_count, ARRAY_SIZE(sections));
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		assert_string_equal(outline.sections[i], sections[i]);

	const struct config_keys *const layers[] = {
		&links_config_keys, &fabric_config_keys, &epoch_config_keys,
		&rdmc_config_keys, &membership_config_keys, &persist_config_keys, &log_config_keys,
	};
	for (size_t l = 0; l < ARRAY_SIZE(layers); l++) {
		for (size_t k = 0; k < layers[l]->count; k++) {
			char key[96];
			snprintf(key, sizeof key, "%s.%s", layers[l]->keys[k].section,
				 layers[l]->keys[k].name);
			assert_listed_once(&outline, key);
		}
	}
	/* The API layer's own keys have no list outside its registry; the
	 * defaults table, which names every key, covers them. */
	assert_int_equal(outline.key_count, ARRAY_SIZE(defaults));
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		assert_listed_once(&outline, defaults[i].key);
}

/* The store knows no layer: it takes any registry, laying sections out in
 * the order their first key appears. */
static void test_store_from_any_registry(void **state)
{
	(void)state;
	static const struct config_key first_layer[] = {
		{ .section = "alpha", .name = "a", .type = CONFIG_UINT, .default_text = "1",
		  .u = { 0, 9 }, .help = "A." },
		{ .section = "beta", .name = "b", .type = CONFIG_BOOL, .default_text = "yes",
		  .help = "B." },
	};
	static const struct config_key second_layer[] = {
		{ .section = "gamma", .name = "g", .type = CONFIG_STRING, .default_text = "",
		  .help = "G." },
		{ .section = "alpha", .name = "c", .type = CONFIG_INT, .default_text = "-3",
		  .i = { -5, 5 }, .help = "C." },
	};
	static const struct config_keys first = CONFIG_KEYS(first_layer);
	static const struct config_keys second = CONFIG_KEYS(second_layer);
	const struct config_keys *const registry[] = { &first, &second };
	grp_config *cfg;
	assert_int_equal(config_store_new(registry, ARRAY_SIZE(registry), &cfg), 0);
	assert_int_equal(config_uint(cfg, "alpha.a"), 1);
	assert_int_equal(config_int(cfg, "alpha.c"), -3);
	assert_true(config_bool(cfg, "beta.b"));
	assert_string_equal(config_str(cfg, "gamma.g"), "");
	assert_int_equal(grp_config_set(cfg, "group.name", "x"), GRP_ENOTFOUND);

	char *text = dump_to_string(cfg);
	struct dump_outline outline;
	outline_dump(text, &outline);
	free(text);
	static const char *const sections[] = { "alpha", "beta", "gamma" };
	static const char *const keys[] = { "alpha.a", "alpha.c", "beta.b", "gamma.g" };
	assert_int_equal(outline.section_count, ARRAY_SIZE(sections));
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		assert_string_equal(outline.sections[i], sections[i]);
	assert_int_equal(outline.key_count, ARRAY_SIZE(keys));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		assert_string_equal(outline.keys[i], keys[i]);
	grp_config_free(cfg);
}

/* Registries that can only be bugs are refused rather than half-built. */
static void test_store_refuses_broken_registry(void **state)
{
	(void)state;
	static const struct config_key out_of_range[] = {
		{ .section = "alpha", .name = "a", .type = CONFIG_UINT, .default_text = "10",
		  .u = { 0, 9 }, .help = "A." },
	};
	static const struct config_keys bad_default = CONFIG_KEYS(out_of_range);
	const struct config_keys *const registry[] = { &bad_default };
	grp_config *cfg = NULL;
	assert_int_equal(config_store_new(registry, ARRAY_SIZE(registry), &cfg), GRP_ECONFIG);
	assert_int_equal(config_store_new(registry, 0, &cfg), GRP_EINVAL);
	assert_null(cfg);
}

static void test_load_file(void **state)
{
	grp_config *cfg = *state;
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "[group]\nname = from-file\n[member]\nrank = 5\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	int rc = grp_config_load_file(cfg, path);
	unlink(path);
	assert_int_equal(rc, 0);
	assert_string_equal(config_str(cfg, "group.name"), "from-file");
	assert_int_equal(config_uint(cfg, "member.rank"), 5);

	assert_int_equal(grp_config_load_file(cfg, "/nonexistent/group.ini"), GRP_EIO);
	assert_contains(grp_config_error(cfg), "/nonexistent/group.ini");
	assert_string_equal(config_str(cfg, "group.name"), "from-file");
}

static void test_load_file_errors_name_the_file(void **state)
{
	grp_config *cfg = *state;
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "[group]\nname = x\n[fabric]\nprovidr = tcp\n";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	int rc = grp_config_load_file(cfg, path);
	unlink(path);
	assert_int_equal(rc, GRP_ECONFIG);
	char where[64];
	snprintf(where, sizeof where, "%s:4:", path);
	assert_contains(grp_config_error(cfg), where);
	assert_contains(grp_config_error(cfg), "'providr'");
	assert_string_equal(config_str(cfg, "group.name"), "libgroup");
}

static void test_null_arguments(void **state)
{
	grp_config *cfg = *state;
	char buf[16];
	assert_int_equal(grp_config_new(NULL), GRP_EINVAL);
	assert_int_equal(grp_config_load_file(NULL, "x"), GRP_EINVAL);
	assert_int_equal(grp_config_load_file(cfg, NULL), GRP_EINVAL);
	assert_int_equal(grp_config_load_string(NULL, "", "x"), GRP_EINVAL);
	assert_int_equal(grp_config_load_string(cfg, NULL, "x"), GRP_EINVAL);
	assert_int_equal(grp_config_load_string(cfg, "", NULL), GRP_EINVAL);
	assert_int_equal(grp_config_apply_env(NULL), GRP_EINVAL);
	assert_int_equal(grp_config_set(NULL, "group.name", "x"), GRP_EINVAL);
	assert_int_equal(grp_config_set(cfg, NULL, "x"), GRP_EINVAL);
	assert_int_equal(grp_config_set(cfg, "group.name", NULL), GRP_EINVAL);
	assert_int_equal(grp_config_get(NULL, "group.name", buf, sizeof buf), GRP_EINVAL);
	assert_int_equal(grp_config_get(cfg, NULL, buf, sizeof buf), GRP_EINVAL);
	assert_int_equal(grp_config_get(cfg, "group.name", NULL, 0), GRP_EINVAL);
	assert_int_equal(grp_config_dump(NULL, stderr), GRP_EINVAL);
	assert_int_equal(grp_config_dump(cfg, NULL), GRP_EINVAL);
	assert_string_equal(grp_config_error(NULL), "");
	grp_config_free(NULL);
}

/* Runs config_apply_log_level with stderr captured; returns what it wrote. */
static char *apply_log_level_capturing_stderr(const grp_config *cfg)
{
	FILE *capture = tmpfile();
	assert_non_null(capture);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(capture), STDERR_FILENO), STDERR_FILENO);
	config_apply_log_level(cfg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	/* The logger wrote through the descriptor, behind the stream's back. */
	assert_int_equal(fseek(capture, 0, SEEK_END), 0);
	long len = ftell(capture);
	assert_true(len >= 0);
	char *text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	rewind(capture);
	assert_int_equal(fread(text, 1, (size_t)len, capture), (size_t)len);
	fclose(capture);
	return text;
}

static void test_log_level_applied(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_set(cfg, "log.level", "debug"), 0);
	config_apply_log_level(cfg);
	assert_true(log_enabled(LOG_DEBUG, "group"));
	assert_false(log_enabled(LOG_TRACE, "group"));

	assert_int_equal(grp_config_set(cfg, "log.level", "error"), 0);
	config_apply_log_level(cfg);
	assert_true(log_enabled(LOG_ERROR, "group"));
	assert_false(log_enabled(LOG_WARN, "group"));
}

/* GROUP_LOG_LEVEL is log.level's own variable, so it reaches the logger
 * through the configuration. */
static void test_log_level_from_its_variable(void **state)
{
	grp_config *cfg = *state;
	setenv("GROUP_LOG_LEVEL", "info", 1);
	int rc = grp_config_apply_env(cfg);
	unsetenv("GROUP_LOG_LEVEL");
	assert_int_equal(rc, 0);
	config_apply_log_level(cfg);
	assert_true(log_enabled(LOG_INFO, "group"));
	assert_false(log_enabled(LOG_DEBUG, "group"));
}

static void test_group_log_wins(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_set(cfg, "log.level", "warn,persist=trace"), 0);
	setenv("GROUP_LOG", "TRACE", 1);
	char *said = apply_log_level_capturing_stderr(cfg);
	assert_true(log_enabled(LOG_TRACE, "group"));
	assert_string_equal(said, "");
	free(said);

	/* As a whole: log.level's persist=trace is gone too. */
	setenv("GROUP_LOG", "info, membership=debug", 1);
	said = apply_log_level_capturing_stderr(cfg);
	assert_true(log_enabled(LOG_INFO, "group"));
	assert_false(log_enabled(LOG_DEBUG, "group"));
	assert_true(log_enabled(LOG_DEBUG, "membership"));
	assert_false(log_enabled(LOG_DEBUG, "persist"));
	assert_string_equal(said, "");
	free(said);

	/* Runs before test_group_log_invalid, whose report comes once per
	 * process, so silence here means an empty GROUP_LOG is not reported. */
	setenv("GROUP_LOG", "", 1);
	said = apply_log_level_capturing_stderr(cfg);
	unsetenv("GROUP_LOG");
	assert_true(log_enabled(LOG_WARN, "group"));
	assert_false(log_enabled(LOG_INFO, "group"));
	assert_true(log_enabled(LOG_TRACE, "persist"));
	assert_string_equal(said, "");
	free(said);
}

static void test_group_log_invalid(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_set(cfg, "log.level", "info"), 0);
	setenv("GROUP_LOG", "verbose", 1);
	char *first = apply_log_level_capturing_stderr(cfg);
	char *second = apply_log_level_capturing_stderr(cfg);
	unsetenv("GROUP_LOG");
	assert_true(log_enabled(LOG_INFO, "group"));
	assert_false(log_enabled(LOG_DEBUG, "group"));
	assert_contains(first, "GROUP_LOG=verbose");
	assert_contains(first, "error, warn, info, debug, trace");
	assert_string_equal(second, "");
	free(first);
	free(second);
}

/* log.level holds a log spec: the configuration takes what the logger
 * takes, and refuses the rest naming the key and the reason. */
static void test_log_spec_key(void **state)
{
	grp_config *cfg = *state;
	assert_int_equal(grp_config_set(cfg, "log.level", "warn,persist=debug"), 0);
	assert_value(cfg, "log.level", "warn,persist=debug");
	config_apply_log_level(cfg);
	assert_true(log_enabled(LOG_DEBUG, "persist"));
	assert_false(log_enabled(LOG_TRACE, "persist"));
	assert_true(log_enabled(LOG_WARN, "group"));
	assert_false(log_enabled(LOG_INFO, "group"));

	assert_int_equal(grp_config_set(cfg, "log.level", "warn,nosuchmodule=debug"), GRP_ECONFIG);
	assert_contains(grp_config_error(cfg), "log.level");
	assert_contains(grp_config_error(cfg), "'nosuchmodule' is not a module");
	assert_value(cfg, "log.level", "warn,persist=debug");
}

/* rdmc.schedule's choices must stay the names the schedules understand. */
static void test_rdmc_schedule_choices_match_schedules(void **state)
{
	grp_config *cfg = *state;
	size_t kinds = 0;
	for (; rdmc_schedule_name((enum rdmc_schedule_kind)kinds); kinds++) {
		const char *name = rdmc_schedule_name((enum rdmc_schedule_kind)kinds);
		assert_int_equal(grp_config_set(cfg, "rdmc.schedule", name), 0);
		assert_string_equal(config_str(cfg, "rdmc.schedule"), name);
	}
	const struct config_key *schedule = NULL;
	for (size_t k = 0; k < rdmc_config_keys.count; k++) {
		if (strcmp(rdmc_config_keys.keys[k].name, "schedule") == 0)
			schedule = &rdmc_config_keys.keys[k];
	}
	assert_non_null(schedule);
	size_t choices = 0;
	for (; schedule->choices[choices]; choices++) {
		enum rdmc_schedule_kind kind;
		assert_int_equal(rdmc_schedule_parse(schedule->choices[choices], &kind), 0);
	}
	assert_int_equal(choices, kinds);
}

static const char *const man_words[] = { "No", "plain", NULL };

static const struct config_key man_first_layer[] = {
	{ .section = "alpha", .name = "word", .type = CONFIG_ENUM, .default_text = "No",
	  .choices = man_words,
	  .help = "First sentence. .dotted second. 'quoted third. Back\\slash fourth." },
	{ .section = "beta", .name = "text", .type = CONFIG_STRING, .default_text = "a\"b",
	  .help = "Quoted default." },
};
static const struct config_key man_second_layer[] = {
	{ .section = "alpha", .name = "path", .type = CONFIG_STRING, .default_text = "",
	  .help = "Never set." },
};

/* group.ini(5)'s keys from a table holding what roff would misread: a
 * line-initial '.' or "'" and a backslash in a help text, a choice that is
 * a macro name, a default holding a quote; and an empty default. */
static char *man_page(void)
{
	static const struct config_keys first = CONFIG_KEYS(man_first_layer);
	static const struct config_keys second = CONFIG_KEYS(man_second_layer);
	const struct config_keys *const registry[] = { &first, &second };
	grp_config *cfg;
	assert_int_equal(config_store_new(registry, ARRAY_SIZE(registry), &cfg), 0);
	char *text = write_to_string(cfg, config_man_write);
	grp_config_free(cfg);
	return text;
}

static void test_man_escapes_what_roff_reads(void **state)
{
	(void)state;
	char *text = man_page();
	static const char *const lines[] = {
		("\n.It Cm \"\\&word\"\nFirst sentence.\n\\&.dotted second.\n\\&'quoted third.\n"
		 "Back\\eslash fourth.\n.Pp\n"),
		"\n.Cm \"\\&No\" , \"\\&plain\" ;\ndefault\n.Ql \"\\&No\" ;\n",
		"\n.Ql \"\\&a\\(dqb\" ;\n",
		"\nenvironment variable\n.Ev GROUP_ALPHA_WORD .\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		if (!strstr(text, lines[i]))
			fail_msg("missing:\n%s\nin:\n%s", lines[i], text);
	}
	free(text);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *at = strstr(text, what); at; at = strstr(at + 1, what))
		n++;
	return n;
}

static void test_man_one_list_per_section(void **state)
{
	(void)state;
	char *text = man_page();
	assert_int_equal(count(text, ".Ss ["), 2);
	assert_int_equal(count(text, "\n.Bl -tag"), 2);
	assert_int_equal(count(text, "\n.El\n"), 2);
	assert_int_equal(count(text, "\n.It "), 3);
	assert_non_null(strstr(text, ".Ss [alpha]\n.Bl -tag -width Ds\n.It Cm \"\\&word\""));
	assert_non_null(strstr(text, "empty by default;\nenvironment variable\n.Ev GROUP_ALPHA_PATH"));
	free(text);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* The log tests set GROUP_LOG themselves; an inherited one would change
	 * what they see. */
	unsetenv("GROUP_LOG");
	static const struct CMUnitTest fixed[] = {
		TEST(test_defaults),
		TEST(test_load_string_good),
		TEST(test_too_long_line),
		TEST(test_string_limits),
		TEST(test_failed_load_keeps_values),
		TEST(test_set_get_round_trip),
		TEST(test_get_truncates),
		TEST(test_unknown_key),
		TEST(test_members_limit),
		TEST(test_ipv6_member),
		TEST(test_crlf),
		TEST(test_env_override),
		TEST(test_origins),
		TEST(test_env_unknown_key),
		TEST(test_env_near_miss_names),
		TEST(test_env_bad_value),
		TEST(test_env_member_id_out_of_range),
		TEST(test_dump_round_trip),
		TEST(test_dump_lists_every_layer_key_once),
		TEST(test_store_from_any_registry),
		TEST(test_store_refuses_broken_registry),
		TEST(test_load_file),
		TEST(test_load_file_errors_name_the_file),
		TEST(test_null_arguments),
		TEST(test_log_spec_key),
		TEST(test_rdmc_schedule_choices_match_schedules),
		TEST(test_log_level_applied),
		TEST(test_log_level_from_its_variable),
		TEST(test_group_log_wins),
		TEST(test_group_log_invalid),
		cmocka_unit_test(test_man_escapes_what_roff_reads),
		cmocka_unit_test(test_man_one_list_per_section),
	};
	struct CMUnitTest tests[ARRAY_SIZE(fixed) + ARRAY_SIZE(reject_cases)];
	memcpy(tests, fixed, sizeof fixed);
	for (size_t i = 0; i < ARRAY_SIZE(reject_cases); i++) {
		tests[ARRAY_SIZE(fixed) + i] = (struct CMUnitTest){
			.name = reject_cases[i].name,
			.test_func = test_load_rejects,
			.initial_state = &reject_cases[i],
		};
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
