/* Seeds of the configuration: INI files (config), host:port lists
 * (hostports) and secret files (secret). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <group/config.h>

#include "corpus.h"

/* grp_config_dump's text of cfg, the library's own INI. */
static void write_dump(const char *name, grp_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f || grp_config_dump(cfg, f) != 0 || fclose(f) != 0) {
		fprintf(stderr, "make_corpus: grp_config_dump failed\n");
		exit(1);
	}
	corpus_write("config", name, text, len);
	free(text);
}

static void set(grp_config *cfg, const char *key, const char *value)
{
	if (grp_config_set(cfg, key, value) != 0) {
		fprintf(stderr, "make_corpus: %s\n", grp_config_error(cfg));
		exit(1);
	}
}

static const struct text_seed ini_seeds[] = {
	{ "members_only", "[group]\nname = orders\nmembers = 10.0.0.1:7100,10.0.0.2:7100\n" },
	{ "crlf_comments_spaces", "; a comment\r\n# another\r\n  [ member ]  \r\n  id =  3  \r\n\r\n"
				  "[group]\ncontact = a:1 , [::1]:2\n" },
	{ "duplicate_key", "[member]\nid = 1\nid = 2\n" },
	{ "key_before_section", "id = 1\n" },
	{ "unknown_section", "[nowhere]\nx = 1\n" },
	{ "int_out_of_range", "[member]\nid = -9223372036854775808\n" },
	{ "uint_overflow", "[rdmc]\nmax_payload = 18446744073709551616\n" },
	{ "log_level_unknown_module", "[log]\nlevel = info,nowhere=debug\n" },
};

static void seed_ini(void)
{
	grp_config *cfg;
	if (grp_config_new(&cfg) != 0)
		exit(1);
	write_dump("dump_defaults", cfg);
	set(cfg, "group.name", "orders");
	set(cfg, "group.members", "10.0.0.1:7100,[fe80::1]:7100,host-c.example:7100");
	set(cfg, "member.id", "4095");
	set(cfg, "multicast.senders", "half");
	set(cfg, "multicast.nonblocking", "yes");
	set(cfg, "persist.mode", "durable");
	set(cfg, "persist.dir", "/var/lib/group");
	set(cfg, "log.level", "warn, persist=debug, transfer = info");
	write_dump("dump_every_type", cfg);
	grp_config_free(cfg);
	corpus_write_texts("config", ini_seeds, sizeof ini_seeds / sizeof ini_seeds[0]);
	corpus_write("config", "nul_inside", "[member]\nid = 1\0\n", 16);
}

static const struct text_seed hostports_seeds[] = {
	{ "mixed", "127.0.0.1:7000,[::1]:7001,host-a.example:1" },
	{ "ipv6_non_canonical", "[0:0::1]:2,[FE80::1]:65535" },
	{ "spaces", "  a:1 ,\tb:2  " },
	{ "same_host_other_case", "A:1,a:1" },
	{ "port_zero", "a:0" },
	{ "unclosed_bracket", "[::1:5" },
	{ "stray_comma", "a:1,,b:2" },
	{ "empty", "" },
};

static void seed_secret(void)
{
	char hex[2 * 1024 + 2];
	for (size_t i = 0; i < sizeof hex - 2; i++)
		hex[i] = "0123456789abcdefABCDEF"[i % 22];
	hex[sizeof hex - 2] = '\n';
	hex[sizeof hex - 1] = '\0';
	corpus_write("secret", "longest", hex, sizeof hex - 1);
	corpus_write("secret", "shortest", hex + sizeof hex - 2 - 64, 65);
	corpus_write("secret", "too_short", hex + sizeof hex - 2 - 62, 63);
	corpus_write("secret", "odd", hex, 65);
	corpus_write_text("secret", "not_hex",
			  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n");
	corpus_write("secret", "empty", "", 0);
}

void seed_config(void)
{
	seed_ini();
	corpus_write_texts("hostports", hostports_seeds,
			   sizeof hostports_seeds / sizeof hostports_seeds[0]);
	seed_secret();
}
