#include "log_spec.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <group/error.h>

#include "config_text.h"

struct span {
	const char *at;
	size_t len;
};

static struct span trimmed(const char *text, size_t len)
{
	size_t start;
	size_t kept = config_trim_span(text, len, &start);
	return (struct span){ text + start, kept };
}

static int parse_level(struct span word, enum log_level *out, char *why, size_t why_len)
{
	char levels[64];
	size_t used = 0;
	for (int i = 0; i <= LOG_TRACE; i++) {
		if (strlen(log_level_names[i]) == word.len &&
		    strncasecmp(word.at, log_level_names[i], word.len) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
		config_append(levels, sizeof levels, &used, "%s%s", i ? ", " : "",
			      log_level_names[i]);
	}
	return config_reject(why, why_len, "'%.*s' is not a log level (%s)", (int)word.len, word.at,
			     levels);
}

static int parse_module(struct span name, int *out, char *why, size_t why_len)
{
	*out = log_module_find(name.at, name.len);
	if (*out >= 0)
		return 0;
	char modules[256];
	size_t used = 0;
	for (int i = 0; i < LOG_MODULE_COUNT; i++)
		config_append(modules, sizeof modules, &used, "%s%s", i ? ", " : "",
			      log_module_name(i));
	return config_reject(why, why_len, "'%.*s' is not a module (%s)", (int)name.len, name.at,
			     modules);
}

/* module_named records which modules an item named so far. */
static int parse_item(struct span item, int number, struct log_spec *spec, bool module_named[],
		      char *why, size_t why_len)
{
	if (item.len == 0)
		return config_reject(why, why_len, "item %d is empty", number);
	const char *eq = memchr(item.at, '=', item.len);
	if (!eq) {
		if (number > 1)
			return config_reject(why, why_len,
					     "'%.*s': a level without a module comes first only",
					     (int)item.len, item.at);
		return parse_level(item, &spec->default_level, why, why_len);
	}
	struct span name = trimmed(item.at, (size_t)(eq - item.at));
	struct span level = trimmed(eq + 1, (size_t)(item.at + item.len - (eq + 1)));
	if (name.len == 0)
		return config_reject(why, why_len, "'%.*s' names no module before '='",
				     (int)item.len, item.at);
	if (level.len == 0)
		return config_reject(why, why_len, "'%.*s' has no level after '='", (int)item.len,
				     item.at);
	int m;
	int rc = parse_module(name, &m, why, why_len);
	if (rc != 0)
		return rc;
	if (module_named[m])
		return config_reject(why, why_len, "module '%s' is given twice", log_module_name(m));
	module_named[m] = true;
	return parse_level(level, &spec->module_level[m], why, why_len);
}

int log_spec_parse(const char *text, struct log_spec *out, char *why, size_t why_len)
{
	if (trimmed(text, strlen(text)).len == 0)
		return config_reject(why, why_len,
				     "no spec: a level, module=level items, or the level then items");
	struct log_spec spec = { .default_level = LOG_ERROR };
	bool module_named[LOG_MODULE_COUNT] = { false };
	const char *at = text;
	for (int number = 1;; number++) {
		size_t len = strcspn(at, ",");
		int rc = parse_item(trimmed(at, len), number, &spec, module_named, why, why_len);
		if (rc != 0)
			return rc;
		if (at[len] == '\0')
			break;
		at += len + 1;
	}
	for (int m = 0; m < LOG_MODULE_COUNT; m++) {
		if (!module_named[m])
			spec.module_level[m] = spec.default_level;
	}
	*out = spec;
	return 0;
}
