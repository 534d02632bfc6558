/* One parse/format pair per value type, chosen through type_ops by the key's
 * declared type. */
#include "config_value.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "config_text.h"

/* Control characters and surrounding spaces could not survive a trip through
 * an INI line, so grp_config_dump's output would not load back. */
static int parse_string(const struct config_key *key, const char *text, union config_value *out,
			char *why, size_t why_len)
{
	size_t len = strlen(text);
	if (len > CONFIG_STRING_MAX)
		return config_reject(why, why_len,
				     "value of %zu characters exceeds the maximum of %d", len,
				     CONFIG_STRING_MAX);
	if (len == 0 && key->non_empty)
		return config_reject(why, why_len, "value must not be empty");
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return config_reject(why, why_len, "value contains a control character");
	}
	if (len > 0 && (text[0] == ' ' || text[len - 1] == ' '))
		return config_reject(why, why_len, "value '%s' begins or ends with a space", text);
	memcpy(out->str, text, len + 1);
	return 0;
}

static int parse_uint(const struct config_key *key, const char *text, union config_value *out,
		      char *why, size_t why_len)
{
	bool negative;
	uint64_t value;
	enum decimal_status status =
		config_parse_decimal(text, strlen(text), false, &negative, &value);
	if (status == DECIMAL_MALFORMED)
		return config_reject(why, why_len, "value '%s' is not an unsigned decimal integer",
				     text);
	if (status == DECIMAL_OVERFLOW || value < key->u.min || value > key->u.max)
		return config_reject(why, why_len, "value '%s' out of range %" PRIu64 "..%" PRIu64,
				     text, key->u.min, key->u.max);
	out->u = value;
	return 0;
}

/* INT64_MIN itself is reported out of range: no key's range reaches it, and
 * negating its magnitude would overflow. */
static int parse_int(const struct config_key *key, const char *text, union config_value *out,
		     char *why, size_t why_len)
{
	bool negative;
	uint64_t magnitude;
	enum decimal_status status =
		config_parse_decimal(text, strlen(text), true, &negative, &magnitude);
	if (status == DECIMAL_MALFORMED)
		return config_reject(why, why_len, "value '%s' is not a decimal integer", text);
	if (status == DECIMAL_OK && magnitude <= INT64_MAX) {
		int64_t value = negative ? -(int64_t)magnitude : (int64_t)magnitude;
		if (value >= key->i.min && value <= key->i.max) {
			out->i = value;
			return 0;
		}
	}
	return config_reject(why, why_len, "value '%s' out of range %" PRId64 "..%" PRId64, text,
			     key->i.min, key->i.max);
}

static const struct {
	const char *word;
	bool value;
} bool_words[] = {
	{ "true", true }, { "false", false }, { "yes", true }, { "no", false },
	{ "on", true },   { "off", false },   { "1", true },   { "0", false },
};

static int parse_bool(const struct config_key *key, const char *text, union config_value *out,
		      char *why, size_t why_len)
{
	(void)key;
	for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++) {
		if (strcasecmp(text, bool_words[i].word) == 0) {
			out->b = bool_words[i].value;
			return 0;
		}
	}
	return config_reject(why, why_len,
			     "value '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", text);
}

static int parse_enum(const struct config_key *key, const char *text, union config_value *out,
		      char *why, size_t why_len)
{
	char choices[CONFIG_ERROR_MAX / 2];
	size_t used = 0;
	for (size_t i = 0; key->choices[i]; i++) {
		if (strcmp(text, key->choices[i]) == 0) {
			out->choice = i;
			return 0;
		}
		config_append(choices, sizeof choices, &used, "%s%s", i ? ", " : "",
			      key->choices[i]);
	}
	return config_reject(why, why_len, "value '%s' is not one of %s", text, choices);
}

static int parse_hostports(const struct config_key *key, const char *text,
			   union config_value *out, char *why, size_t why_len)
{
	(void)key;
	return hostports_parse(text, &out->hostports, why, why_len);
}

static size_t format_string(const struct config_key *key, const union config_value *value,
			    char *buf, size_t len)
{
	(void)key;
	size_t used = 0;
	config_append(buf, len, &used, "%s", value->str);
	return used;
}

static size_t format_uint(const struct config_key *key, const union config_value *value,
			  char *buf, size_t len)
{
	(void)key;
	size_t used = 0;
	config_append(buf, len, &used, "%" PRIu64, value->u);
	return used;
}

static size_t format_int(const struct config_key *key, const union config_value *value,
			 char *buf, size_t len)
{
	(void)key;
	size_t used = 0;
	config_append(buf, len, &used, "%" PRId64, value->i);
	return used;
}

static size_t format_bool(const struct config_key *key, const union config_value *value,
			  char *buf, size_t len)
{
	(void)key;
	size_t used = 0;
	config_append(buf, len, &used, "%s", value->b ? "true" : "false");
	return used;
}

static size_t format_enum(const struct config_key *key, const union config_value *value,
			  char *buf, size_t len)
{
	size_t used = 0;
	config_append(buf, len, &used, "%s", key->choices[value->choice]);
	return used;
}

static size_t format_hostports(const struct config_key *key, const union config_value *value,
			       char *buf, size_t len)
{
	(void)key;
	return hostports_format(&value->hostports, buf, len);
}

static void release_hostports(union config_value *value)
{
	hostports_release(&value->hostports);
}

static const struct type_ops {
	int (*parse)(const struct config_key *key, const char *text, union config_value *out,
		     char *why, size_t why_len);
	size_t (*format)(const struct config_key *key, const union config_value *value,
			 char *buf, size_t len);
	void (*release)(union config_value *value); /* NULL: the value owns no memory */
} type_ops[] = {
	[CONFIG_STRING] = { parse_string, format_string, NULL },
	[CONFIG_UINT] = { parse_uint, format_uint, NULL },
	[CONFIG_INT] = { parse_int, format_int, NULL },
	[CONFIG_BOOL] = { parse_bool, format_bool, NULL },
	[CONFIG_ENUM] = { parse_enum, format_enum, NULL },
	[CONFIG_HOSTPORTS] = { parse_hostports, format_hostports, release_hostports },
};

int config_value_parse(const struct config_key *key, const char *text, union config_value *out,
		       char *why, size_t why_len)
{
	union config_value parsed;
	int rc = type_ops[key->type].parse(key, text, &parsed, why, why_len);
	if (rc == 0 && key->check) {
		rc = key->check(&parsed, why, why_len);
		if (rc != 0)
			config_value_release(key, &parsed);
	}
	if (rc == 0)
		*out = parsed;
	return rc;
}

size_t config_value_format(const struct config_key *key, const union config_value *value,
			   char *buf, size_t len)
{
	return type_ops[key->type].format(key, value, buf, len);
}

void config_value_release(const struct config_key *key, union config_value *value)
{
	if (type_ops[key->type].release)
		type_ops[key->type].release(value);
}
