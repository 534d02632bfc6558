/* Writing the key table as mdoc(7) for group.ini(5). */
#include "config_man.h"

#include <inttypes.h>
#include <string.h>

#include "config_internal.h"

/* roff reads a backslash as an escape and a line that starts with '.' or
 * '\'' as a request; a help text may hold either. */
static void put_text(FILE *out, const char *s, size_t len)
{
	if (len > 0 && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			fputs("\\e", out);
		else
			fputc(s[i], out);
	}
}

/* One sentence a line: roff then spaces sentences as it should, and a
 * line-initial '.' inside a sentence cannot occur. */
static void put_sentences(FILE *out, const char *s)
{
	while (*s) {
		const char *end = strstr(s, ". ");
		size_t len = end ? (size_t)(end - s) + 1 : strlen(s);
		put_text(out, s, len);
		fputc('\n', out);
		s += len;
		while (*s == ' ')
			s++;
	}
}

/* A macro argument: quoted, so that spaces stay inside it, and led by \&,
 * so that a word like "No" is not read as a macro name. */
static void put_argument(FILE *out, const char *s)
{
	fputs("\"\\&", out);
	for (; *s; s++) {
		if (*s == '"')
			fputs("\\(dq", out);
		else if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* The type's line or lines, ending in ';' as the sentence goes on. */
static void put_type(FILE *out, const struct config_key *key)
{
	switch (key->type) {
	case CONFIG_STRING:
		fputs(key->non_empty ? "Text, not empty;\n" : "Text;\n", out);
		break;
	case CONFIG_UINT:
		fprintf(out, "Unsigned integer, %" PRIu64 " to %" PRIu64 ";\n", key->u.min, key->u.max);
		break;
	case CONFIG_INT:
		fprintf(out, "Integer, %" PRId64 " to %" PRId64 ";\n", key->i.min, key->i.max);
		break;
	case CONFIG_BOOL:
		fputs("Boolean: true or false, yes or no, on or off, 1 or 0;\n", out);
		break;
	case CONFIG_ENUM:
		fputs("One of\n.Cm", out);
		for (size_t i = 0; key->choices[i]; i++) {
			fputs(i ? " , " : " ", out);
			put_argument(out, key->choices[i]);
		}
		fputs(" ;\n", out);
		break;
	case CONFIG_HOSTPORTS:
		fputs("A comma-separated list of\n.Ar host : Ns Ar port ;\n", out);
		break;
	}
}

static void put_key(FILE *out, const struct config_key *key)
{
	char env[CONFIG_ENV_NAME_MAX];
	config_env_name(key->section, key->name, env, sizeof env);
	fputs(".It Cm ", out);
	put_argument(out, key->name);
	fputs("\n", out);
	put_sentences(out, key->help);
	fputs(".Pp\n", out);
	put_type(out, key);
	if (key->default_text[0]) {
		fputs("default\n.Ql ", out);
		put_argument(out, key->default_text);
		fputs(" ;\n", out);
	} else {
		fputs("empty by default;\n", out);
	}
	fprintf(out, "environment variable\n.Ev %s .\n", env);
}

int config_man_write(const grp_config *cfg, FILE *out)
{
	if (!cfg || !out)
		return GRP_EINVAL;
	for (size_t i = 0; i < cfg->count; i++) {
		const char *section = cfg->key[i]->section;
		bool opens = i == 0 || strcmp(section, cfg->key[i - 1]->section) != 0;
		bool closes = i + 1 == cfg->count || strcmp(section, cfg->key[i + 1]->section) != 0;
		if (opens)
			fprintf(out, ".Ss [%s]\n.Bl -tag -width Ds\n", section);
		put_key(out, cfg->key[i]);
		if (closes)
			fputs(".El\n", out);
	}
	return ferror(out) ? GRP_EIO : 0;
}
