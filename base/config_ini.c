/* Loading INI text, from a string or a file, into a configuration. */
#include "config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_CHARS 4095

struct ini_parser {
	grp_config *cfg;
	const char *name;
	unsigned line_no;
	const char *section; /* a key's copy of the name; NULL before the first header */
	unsigned *first_line; /* per key; 0: not yet set by this text */
	struct config_staging staging;
};

__attribute__((format(printf, 3, 4)))
static int ini_fail(struct ini_parser *p, int err, const char *fmt, ...)
{
	char detail[CONFIG_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return config_fail(p->cfg, err, "%s:%u: %s", p->name, p->line_no, detail);
}

static char *trim(char *s)
{
	size_t start;
	size_t len = config_trim_span(s, strlen(s), &start);
	s[start + len] = '\0';
	return s + start;
}

/* Returns the configuration's copy of the section name, or NULL if no key
 * has that section. */
static const char *find_section(const grp_config *cfg, const char *section)
{
	for (size_t i = 0; i < cfg->count; i++) {
		if (strcmp(cfg->key[i]->section, section) == 0)
			return cfg->key[i]->section;
	}
	return NULL;
}

static int parse_section_line(struct ini_parser *p, char *line)
{
	size_t len = strlen(line);
	if (line[len - 1] != ']')
		return ini_fail(p, GRP_ECONFIG, "malformed section header '%s'", line);
	line[len - 1] = '\0';
	const char *section = trim(line + 1);
	p->section = find_section(p->cfg, section);
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
	size_t i = config_find_key(p->cfg, p->section, strlen(p->section), name);
	if (i == p->cfg->count)
		return ini_fail(p, GRP_ECONFIG, "unknown key '%s' in section [%s]", name, p->section);
	if (p->first_line[i])
		return ini_fail(p, GRP_ECONFIG,
				"duplicate key '%s' in section [%s] (first set on line %u)", name,
				p->section, p->first_line[i]);
	char why[CONFIG_ERROR_MAX];
	union config_value parsed;
	int rc = config_value_parse(p->cfg->key[i], value, &parsed, why, sizeof why);
	if (rc != 0)
		return ini_fail(p, rc, "%s.%s: %s", p->section, name, why);
	p->first_line[i] = p->line_no;
	char origin[CONFIG_ERROR_MAX];
	snprintf(origin, sizeof origin, "%s:%u", p->name, p->line_no);
	config_stage(p->cfg, &p->staging, i, &parsed, origin);
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
	p.first_line = calloc(cfg->count, sizeof *p.first_line);
	if (!p.first_line)
		return config_fail(cfg, GRP_ENOMEM, "%s: out of memory", name);
	int rc = config_staging_begin(cfg, &p.staging);
	if (rc == 0) {
		while (rc == 0 && *text) {
			size_t len = strcspn(text, "\n");
			p.line_no++;
			rc = parse_line(&p, text, len);
			text += len + (text[len] == '\n');
		}
		rc = config_staging_end(cfg, &p.staging, rc);
	}
	free(p.first_line);
	return rc;
}

int grp_config_load_string(grp_config *cfg, const char *text, const char *name)
{
	if (!cfg)
		return GRP_EINVAL;
	if (!text || !name)
		return config_fail(cfg, GRP_EINVAL, "grp_config_load_string: NULL text or name");
	return parse_ini(cfg, text, name);
}

/* Reads all of path into a NUL-terminated heap string in *out. */
static int read_file(grp_config *cfg, const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return config_fail(cfg, GRP_EIO, "%s: cannot open: %s", path, strerror(errno));
	char *text = NULL;
	size_t len = 0, capacity = 0;
	int rc = 0;
	for (;;) {
		if (capacity - len < 2) {
			size_t grown = capacity ? capacity * 2 : 4096;
			char *bigger = realloc(text, grown);
			if (!bigger) {
				rc = config_fail(cfg, GRP_ENOMEM, "%s: out of memory", path);
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
		rc = config_fail(cfg, GRP_EIO, "%s: cannot read: %s", path, strerror(errno));
	fclose(f);
	if (rc == 0) {
		text[len] = '\0';
		/* The parser works on C strings and would silently stop here. */
		if (strlen(text) != len)
			rc = config_fail(cfg, GRP_ECONFIG, "%s: contains a NUL byte", path);
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
		return config_fail(cfg, GRP_EINVAL, "grp_config_load_file: NULL path");
	char *text = NULL;
	int rc = read_file(cfg, path, &text);
	if (rc != 0)
		return rc;
	rc = parse_ini(cfg, text, path);
	free(text);
	return rc;
}
