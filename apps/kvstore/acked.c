#include "acked.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ACKED_PATH_LEN 4096

static void acked_path(const char *dir, unsigned id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/acked-%u.txt", dir, id);
}

FILE *acked_open(const char *dir, unsigned id)
{
	char path[ACKED_PATH_LEN];
	acked_path(dir, id, path, sizeof path);
	FILE *f = fopen(path, "a");
	if (!f)
		fprintf(stderr, "kvstore: %s: %s\n", path, strerror(errno));
	return f;
}

int acked_write(FILE *f, uint64_t seq, uint64_t version, const struct kv_op *op)
{
	if (op->code == OP_PUT)
		fprintf(f, "%" PRIu64 " %" PRIx64 " put %.*s %.*s\n", seq, version, op->key_len,
			op->key, op->value_len, op->value);
	else
		fprintf(f, "%" PRIu64 " %" PRIx64 " del %.*s\n", seq, version, op->key_len, op->key);
	if (fflush(f) != 0 || ferror(f)) {
		fprintf(stderr, "kvstore: writing the acknowledged operations: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* One acknowledged operation, as its sender multicast it. */
struct acked_op {
	uint64_t version;
	unsigned sender;
	uint64_t seq;
	size_t len;
	uint8_t payload[OP_LEN_MAX];
};

struct acked_set {
	struct acked_op *ops;
	size_t n, cap;
};

/* Splits "<seq> <version> put <key> <value>" or "<seq> <version> del <key>"
 * (no newline) into op, its payload encoded as the sender sent it. */
static bool parse_line(char *line, unsigned sender, struct acked_op *op)
{
	char *end;
	errno = 0;
	op->seq = strtoull(line, &end, 10);
	if (errno || end == line || *end != ' ')
		return false;
	char *p = end + 1;
	op->version = strtoull(p, &end, 16);
	if (errno || end == p || *end != ' ')
		return false;
	p = end + 1;
	struct kv_op kv = { .value = "" };
	if (strncmp(p, "put ", 4) == 0)
		kv.code = OP_PUT;
	else if (strncmp(p, "del ", 4) == 0)
		kv.code = OP_DELETE;
	else
		return false;
	p += 4;
	char *space = strchr(p, ' ');
	size_t key_len = space ? (size_t)(space - p) : strlen(p);
	if ((kv.code == OP_PUT) != (space != NULL) || key_len == 0 || key_len > KEY_MAX)
		return false;
	kv.key = p;
	kv.key_len = (uint16_t)key_len;
	if (space) {
		size_t value_len = strlen(space + 1);
		if (value_len > VALUE_MAX)
			return false;
		kv.value = space + 1;
		kv.value_len = (uint16_t)value_len;
	}
	op->sender = sender;
	op->len = op_encode(op->payload, &kv);
	return true;
}

/* Adds the complete lines of one sender's file to set: 0, or 1 having said why. */
static int read_file(const char *dir, unsigned id, unsigned rank, struct acked_set *set)
{
	char path[ACKED_PATH_LEN];
	acked_path(dir, id, path, sizeof path);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0; /* a member that sends nothing acknowledges nothing */
		fprintf(stderr, "kvstore: member %u: %s: %s\n", rank, path, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	uint64_t next_seq = 0;
	int status = 0;
	while (!status && (got = getline(&line, &line_cap, f)) > 0) {
		if (line[got - 1] != '\n')
			break; /* cut short by the kill: never acknowledged whole */
		line[got - 1] = '\0';
		if (set->n == set->cap) {
			size_t cap = set->cap ? 2 * set->cap : 1024;
			struct acked_op *ops = realloc(set->ops, cap * sizeof *ops);
			if (!ops) {
				fprintf(stderr, "kvstore: member %u: out of memory\n", rank);
				status = 1;
				break;
			}
			set->ops = ops;
			set->cap = cap;
		}
		struct acked_op *op = &set->ops[set->n];
		if (!parse_line(line, id, op) || op->seq != next_seq) {
			fprintf(stderr, "kvstore: member %u: %s: line %" PRIu64 " is not operation %"
				PRIu64 ": '%s'\n", rank, path, next_seq + 1, next_seq, line);
			status = 1;
			break;
		}
		next_seq++;
		set->n++;
	}
	free(line);
	fclose(f);
	return status;
}

static int by_version(const void *a, const void *b)
{
	const struct acked_op *x = a, *y = b;
	return x->version < y->version ? -1 : x->version > y->version;
}

/* Walks the log once, in version order, beside the operations sorted by
 * version. */
static int match_log(grp_t *g, const struct acked_set *set, unsigned rank)
{
	grp_log_iter *it;
	int rc = grp_log_versions(g, 0, UINT64_MAX, &it);
	if (rc) {
		fprintf(stderr, "kvstore: member %u: grp_log_versions: %s\n", rank, grp_strerror(rc));
		return 1;
	}
	grp_delivery msg = { 0 };
	int have = grp_log_next(it, &msg); /* 1: msg is the next record; 0: the end */
	uint64_t missing = 0;
	for (size_t i = 0; i < set->n && have >= 0; i++) {
		const struct acked_op *op = &set->ops[i];
		while (have == 1 && msg.version < op->version)
			have = grp_log_next(it, &msg);
		if (have < 0)
			break;
		bool at = have == 1 && msg.version == op->version;
		bool found = at && msg.sender == op->sender && msg.len == op->len &&
			     memcmp(msg.data, op->payload, op->len) == 0;
		if (!found && missing++ < 5)
			fprintf(stderr, "kvstore: member %u: acknowledged operation %" PRIu64
				" of member %u (version 0x%" PRIx64 ") is not in the log%s\n", rank,
				op->seq, op->sender, op->version,
				at ? " (another message has its version)" : "");
	}
	grp_log_iter_free(it);
	if (have < 0) {
		fprintf(stderr, "kvstore: member %u: grp_log_next: %s\n", rank, grp_strerror(have));
		return 1;
	}
	if (missing)
		fprintf(stderr, "kvstore: member %u: %" PRIu64 " acknowledged operations are lost\n",
			rank, missing);
	return missing ? 1 : 0;
}

int acked_check(grp_t *g, const char *dir, const unsigned *ids, unsigned n, unsigned rank,
		uint64_t *checked)
{
	struct acked_set set = { 0 };
	int status = 0;
	for (unsigned i = 0; i < n && !status; i++)
		status = read_file(dir, ids[i], rank, &set);
	if (!status) {
		qsort(set.ops, set.n, sizeof *set.ops, by_version);
		status = match_log(g, &set, rank);
	}
	*checked = set.n;
	free(set.ops);
	return status;
}
