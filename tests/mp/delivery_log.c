#include "delivery_log.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	return x ^ (x >> 33);
}

size_t payload_for(unsigned sender, uint64_t k, const struct payload_sizes *sizes, uint8_t *buf)
{
	uint64_t state = mix(((uint64_t)sender << 40) ^ k ^ 0x5bd1e995u);
	size_t max_len = (state >> 62) == 0 ? sizes->max_len : sizes->small_max;
	size_t len = (size_t)(state % (max_len + 1));
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			state = mix(state + i);
		buf[i] = (uint8_t)(state >> (8 * (i % 8)));
	}
	return len;
}

uint64_t payload_hash(const void *data, size_t len)
{
	return fnv_mix(FNV_OFFSET, data, len);
}

/* DIR/member-RANK.SUFFIX into path; false if it does not fit. */
static bool member_path(char *path, size_t size, const char *dir, unsigned rank,
			const char *suffix)
{
	int len = snprintf(path, size, "%s/member-%u.%s", dir, rank, suffix);
	return len >= 0 && (size_t)len < size;
}

FILE *delivery_log_open(const char *dir, unsigned rank)
{
	char path[1024];
	FILE *log = member_path(path, sizeof path, dir, rank, "log") ? fopen(path, "w") : NULL;
	/* Whole lines reach the file as they are written: a member killed at any
	 * time leaves the log of all it did. */
	if (log && setvbuf(log, NULL, _IOLBF, BUFSIZ) != 0) {
		fclose(log);
		return NULL;
	}
	return log;
}

void delivery_log_write(FILE *log, const grp_delivery *m)
{
	fprintf(log, "%u %u %" PRIu64 " %zu %" PRIx64 "\n", m->vid, m->sender, m->index, m->len,
		payload_hash(m->data, m->len));
}

static void write_ids(FILE *log, const char *what, unsigned count, const unsigned *ids)
{
	fprintf(log, " %s %u", what, count);
	for (unsigned i = 0; i < count; i++)
		fprintf(log, " %u", ids[i]);
}

void delivery_log_view(FILE *log, const grp_view *v)
{
	fprintf(log, "view %" PRIu32, v->vid);
	write_ids(log, "members", v->n_members, v->members);
	fprintf(log, " departed %u", v->n_departed);
	for (unsigned i = 0; i < v->n_departed; i++)
		fprintf(log, " %u:%u", v->departed[i], (unsigned)v->departed_reason[i]);
	write_ids(log, "joined", v->n_joined, v->joined);
	fputc('\n', log);
}

int delivery_log_accepted(const char *dir, unsigned rank, uint64_t accepted)
{
	char path[1024];
	FILE *f = member_path(path, sizeof path, dir, rank, "sent") ? fopen(path, "w") : NULL;
	if (!f)
		return -1;
	int printed = fprintf(f, "%" PRIu64 "\n", accepted);
	return fclose(f) == 0 && printed > 0 ? 0 : -1;
}

struct entry {
	unsigned vid, sender;
	uint64_t index, len, hash;
};

struct departure {
	unsigned id, reason;
};

struct view_rec {
	unsigned vid, n_members, n_departed, n_joined;
	unsigned *members, *joined;
	struct departure *departed;
	size_t first, end; /* its deliveries: the member's entries [first, end) */
};

/* One rank's log: one process. */
struct member_log {
	unsigned id; /* its node id */
	struct view_rec *views;
	size_t n_views, views_cap;
	struct entry *entries;
	size_t n_entries, entries_cap;
	/* Its last line named itself departed: it stopped itself. */
	bool stopped;
	unsigned stop_reason;
	size_t first; /* the group view its first one is (with n_views > 0) */
	/* [n]: the next k it expects from each sender rank; in the end, how
	 * many of that sender's messages it has, those before its first view
	 * (which its state stands for) included. */
	uint64_t *next_k;
};

struct run {
	const char *dir;
	unsigned n;
	const struct delivery_log_expect *expect;
	bool views_from_deliveries; /* no view lines: the deliveries' vids make them */
	struct member_log *logs;   /* [n], by rank */
	/* The group's views in vid order, each every log's that has it: the
	 * rank whose record stands for it (the first that was in the view
	 * before, if any), and that record. */
	size_t n_group;
	unsigned *group_owner;
	const struct view_rec **group;
	/* [n_group][n]: in each group view, the rank holding each node id
	 * (UINT_MAX: none that logged a view). */
	unsigned *rank_of;
	/* [n_group][n]: each sender rank's messages delivered before each
	 * group view, which is the k its first message there has. */
	uint64_t *k_start;
	/* Scratch: per-sender counts in one view, a node set, one payload. */
	uint64_t *in_view;
	unsigned char *node_set;
	uint8_t *payload;
	char *err;
	size_t err_len;
};

static int fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->err_len, fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_gone(const struct run *r, unsigned rank)
{
	return r->expect->gone && r->expect->gone[rank];
}

static bool in_list(const unsigned *ids, unsigned count, unsigned id)
{
	for (unsigned i = 0; i < count; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static size_t view_length(const struct view_rec *v)
{
	return v->end - v->first;
}

/* items, grown if full to hold one more; NULL (items untouched) if out of
 * memory. */
static void *room_for_one(void *items, size_t *cap, size_t count, size_t size)
{
	if (count < *cap)
		return items;
	size_t grown_cap = *cap ? 2 * *cap : 64;
	void *grown = realloc(items, grown_cap * size);
	if (grown)
		*cap = grown_cap;
	return grown;
}

static void free_view(struct view_rec *v)
{
	free(v->members);
	free(v->joined);
	free(v->departed);
}

static void skip_spaces(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static bool skip_word(const char **p, const char *word)
{
	skip_spaces(p);
	size_t len = strlen(word);
	if (strncmp(*p, word, len) != 0)
		return false;
	*p += len;
	return true;
}

/* A decimal number below limit. */
static bool read_below(const char **p, unsigned long limit, unsigned *value)
{
	skip_spaces(p);
	if (**p < '0' || **p > '9')
		return false;
	char *end;
	unsigned long v = strtoul(*p, &end, 10);
	*p = end;
	*value = (unsigned)v;
	return v < limit;
}

/* "WORD COUNT ID..." with node ids below n. */
static bool read_ids(const char **p, const char *word, unsigned n, unsigned *count,
		     unsigned **ids)
{
	if (!skip_word(p, word) || !read_below(p, n + 1ul, count))
		return false;
	*ids = malloc((*count + 1) * sizeof **ids);
	for (unsigned i = 0; *ids && i < *count; i++)
		if (!read_below(p, n, &(*ids)[i]))
			return false;
	return *ids != NULL;
}

/* "departed COUNT ID:REASON..." */
static bool read_departures(const char **p, unsigned n, struct view_rec *v)
{
	if (!skip_word(p, "departed") || !read_below(p, n + 1ul, &v->n_departed))
		return false;
	v->departed = malloc((v->n_departed + 1) * sizeof *v->departed);
	for (unsigned i = 0; v->departed && i < v->n_departed; i++)
		if (!read_below(p, n, &v->departed[i].id) || !skip_word(p, ":") ||
		    !read_below(p, UINT_MAX, &v->departed[i].reason))
			return false;
	return v->departed != NULL;
}

static bool parse_view(const char *line, unsigned n, struct view_rec *v)
{
	const char *p = line;
	return skip_word(&p, "view") && read_below(&p, UINT_MAX, &v->vid) &&
	       read_ids(&p, "members", n, &v->n_members, &v->members) &&
	       read_departures(&p, n, v) && read_ids(&p, "joined", n, &v->n_joined, &v->joined) &&
	       skip_word(&p, "\n");
}

/* The view of a log without view lines: everyone, joined in the first. */
static bool synthesize_view(unsigned vid, unsigned n, bool first, struct view_rec *v)
{
	v->vid = vid;
	v->n_members = n;
	v->n_joined = first ? n : 0;
	v->members = malloc((n + 1) * sizeof *v->members);
	v->joined = malloc((n + 1) * sizeof *v->joined);
	v->departed = malloc(sizeof *v->departed);
	for (unsigned i = 0; v->members && v->joined && i < n; i++)
		v->members[i] = v->joined[i] = i;
	return v->members && v->joined && v->departed;
}

/* Appends v to the member's views, which then own its lists. */
static int add_view(struct run *r, struct member_log *m, struct view_rec *v)
{
	struct view_rec *views = room_for_one(m->views, &m->views_cap, m->n_views, sizeof *views);
	if (!views) {
		free_view(v);
		return fail(r, "out of memory");
	}
	m->views = views;
	v->first = v->end = m->n_entries;
	m->views[m->n_views++] = *v;
	return 0;
}

static int unreadable(struct run *r, unsigned rank, size_t line_no, const char *line)
{
	return fail(r, "member %u line %zu unreadable: %.*s", rank, line_no,
		    (int)strcspn(line, "\n"), line);
}

static int read_view_line(struct run *r, unsigned rank, size_t line_no, const char *line)
{
	struct member_log *m = &r->logs[rank];
	struct view_rec v = { 0 };
	if (!parse_view(line, r->n, &v)) {
		free_view(&v);
		return unreadable(r, rank, line_no, line);
	}
	for (unsigned i = 0; i < v.n_departed; i++) {
		if (v.departed[i].id == m->id) {
			/* Its own end, not a view of the group. */
			m->stopped = true;
			m->stop_reason = v.departed[i].reason;
		}
	}
	if (m->stopped) {
		free_view(&v);
		return 0;
	}
	return add_view(r, m, &v);
}

static int read_delivery_line(struct run *r, unsigned rank, size_t line_no, const char *line)
{
	struct member_log *m = &r->logs[rank];
	struct entry e;
	char end;
	if (sscanf(line, "%u %u %" SCNu64 " %" SCNu64 " %" SCNx64 "%c", &e.vid, &e.sender, &e.index,
		   &e.len, &e.hash, &end) != 6 || end != '\n')
		return unreadable(r, rank, line_no, line);
	if (r->views_from_deliveries && (m->n_views == 0 || m->views[m->n_views - 1].vid != e.vid)) {
		struct view_rec v = { 0 };
		if (!synthesize_view(e.vid, r->n, m->n_views == 0, &v)) {
			free_view(&v);
			return fail(r, "out of memory");
		}
		if (add_view(r, m, &v))
			return -1;
	}
	if (m->n_views == 0)
		return fail(r, "member %u line %zu: a delivery before its first view", rank, line_no);
	struct view_rec *v = &m->views[m->n_views - 1];
	if (e.vid != v->vid)
		return fail(r, "member %u line %zu: a delivery of view %u in view %u", rank, line_no,
			    e.vid, v->vid);
	struct entry *entries = room_for_one(m->entries, &m->entries_cap, m->n_entries,
					     sizeof *entries);
	if (!entries)
		return fail(r, "out of memory");
	m->entries = entries;
	m->entries[m->n_entries++] = e;
	v->end = m->n_entries;
	return 0;
}

static int read_member_log(struct run *r, unsigned rank)
{
	char path[1024];
	if (!member_path(path, sizeof path, r->dir, rank, "log"))
		return fail(r, "directory name too long: %s", r->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(r, "member %u wrote no log (%s)", rank, path);
	char *line = NULL;
	size_t cap = 0, line_no = 0;
	ssize_t len;
	int rc = 0;
	/* A last line without its newline is a write the member's kill cut. */
	while (!rc && (len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
		if (r->logs[rank].stopped)
			rc = fail(r, "member %u line %zu: a line after the one naming itself departed",
				  rank, ++line_no);
		else if (line[0] == 'v')
			rc = read_view_line(r, rank, ++line_no, line);
		else
			rc = read_delivery_line(r, rank, ++line_no, line);
	}
	free(line);
	fclose(f);
	return rc;
}

/* Rule a at one rank: increasing vids, each view holding its node id, and
 * its own departure only as the last word of one expected gone. */
static int check_own_views(struct run *r, unsigned rank)
{
	const struct member_log *m = &r->logs[rank];
	for (size_t i = 0; i < m->n_views; i++) {
		const struct view_rec *v = &m->views[i];
		if (i > 0 && v->vid <= m->views[i - 1].vid)
			return fail(r, "member %u: view %u after view %u (vids must increase)", rank,
				    v->vid, m->views[i - 1].vid);
		if (!in_list(v->members, v->n_members, m->id))
			return fail(r, "member %u logged view %u, which its node %u is not a member "
				    "of", rank, v->vid, m->id);
	}
	if (m->stopped && !is_gone(r, rank))
		return fail(r, "member %u, expected to survive, names itself departed (reason %u)",
			    rank, m->stop_reason);
	if (m->stopped && m->stop_reason == GRP_DEPARTED_FAILED)
		return fail(r, "member %u names itself departed as failed, which only others can "
			    "see", rank);
	return 0;
}

/* Rule b: b's members are a's minus the departed plus the joined; `rank`
 * logged b. */
static int check_membership_step(struct run *r, unsigned rank, const struct view_rec *a,
				 const struct view_rec *b)
{
	enum { OUT, EXPECTED, SEEN };
	unsigned char *node = r->node_set;
	memset(node, OUT, r->n);
	for (unsigned i = 0; i < a->n_members; i++)
		node[a->members[i]] = EXPECTED;
	for (unsigned i = 0; i < b->n_departed; i++) {
		unsigned gone = b->departed[i].id;
		if (!in_list(a->members, a->n_members, gone))
			return fail(r, "member %u: view %u departs node %u, which was not in view %u",
				    rank, b->vid, gone, a->vid);
		node[gone] = OUT;
	}
	for (unsigned i = 0; i < b->n_joined; i++) {
		if (in_list(a->members, a->n_members, b->joined[i]))
			return fail(r, "member %u: view %u joins node %u, already in view %u", rank,
				    b->vid, b->joined[i], a->vid);
		node[b->joined[i]] = EXPECTED;
	}
	for (unsigned i = 0; i < b->n_members; i++) {
		if (node[b->members[i]] != EXPECTED)
			return fail(r, "member %u: view %u holds node %u, which is not view %u's "
				    "members minus departed plus joined (or twice)", rank, b->vid,
				    b->members[i], a->vid);
		node[b->members[i]] = SEEN;
	}
	for (unsigned i = 0; i < r->n; i++)
		if (node[i] == EXPECTED)
			return fail(r, "member %u: view %u lacks node %u, which was in view %u and did "
				    "not depart", rank, b->vid, i, a->vid);
	return 0;
}

/* The rank's record of group view g, or NULL if it did not log it. */
static const struct view_rec *view_at(const struct run *r, unsigned rank, size_t g)
{
	const struct member_log *m = &r->logs[rank];
	return m->n_views > 0 && m->first <= g && g < m->first + m->n_views ? &m->views[g - m->first]
									  : NULL;
}

/* Rule d for one delivery, at the given position of group view g. */
static int check_delivery(struct run *r, unsigned rank, size_t g, size_t position,
			  const struct entry *e)
{
	const struct view_rec *v = r->group[g];
	uint64_t *next_k = r->logs[rank].next_k;
	if (e->sender >= r->n)
		return fail(r, "member %u, view %u, delivery %zu: from %u, which is not a sender",
			    rank, v->vid, position, e->sender);
	if (!in_list(v->members, v->n_members, e->sender))
		return fail(r, "member %u, view %u, delivery %zu: from %u, which is not a member of "
			    "the view", rank, v->vid, position, e->sender);
	unsigned sender = r->rank_of[g * r->n + e->sender];
	if (sender == UINT_MAX)
		return fail(r, "member %u, view %u, delivery %zu: from node %u, which no member "
			    "that logged a view was", rank, v->vid, position, e->sender);
	if (!r->expect->is_sender[sender])
		return fail(r, "member %u, view %u, delivery %zu: from %u, which is not a sender",
			    rank, v->vid, position, e->sender);
	if (e->index != r->in_view[sender])
		return fail(r, "member %u, view %u, delivery %zu: sender %u index %" PRIu64
			    ", expected %" PRIu64 " (gap or duplicate)", rank, v->vid, position,
			    e->sender, e->index, r->in_view[sender]);
	uint64_t k = next_k[sender];
	size_t len = payload_for(sender, k, &r->expect->sizes, r->payload);
	if (len != e->len || payload_hash(r->payload, len) != e->hash)
		return fail(r, "member %u, view %u, delivery %zu: not sender %u's message %" PRIu64
			    " (invented, corrupt, or a gap or duplicate across views)", rank,
			    v->vid, position, sender, k);
	r->in_view[sender]++;
	next_k[sender]++;
	return 0;
}

/* Rule d at one rank: each sender's k goes on from where the group was at
 * the rank's first view, so a joiner's too. */
static int check_sender_order(struct run *r, unsigned rank)
{
	struct member_log *m = &r->logs[rank];
	if (m->n_views > 0)
		memcpy(m->next_k, &r->k_start[m->first * r->n], r->n * sizeof *m->next_k);
	for (size_t j = 0; j < m->n_views; j++) {
		const struct view_rec *v = &m->views[j];
		memset(r->in_view, 0, r->n * sizeof *r->in_view);
		for (size_t i = v->first; i < v->end; i++)
			if (check_delivery(r, rank, m->first + j, i - v->first, &m->entries[i]))
				return -1;
	}
	return 0;
}

/* What two views differ in, or NULL if nothing. */
static const char *view_difference(const struct view_rec *a, const struct view_rec *b)
{
	if (a->vid != b->vid)
		return "vid";
	if (a->n_members != b->n_members ||
	    memcmp(a->members, b->members, a->n_members * sizeof *a->members) != 0)
		return "members";
	if (a->n_departed != b->n_departed ||
	    memcmp(a->departed, b->departed, a->n_departed * sizeof *a->departed) != 0)
		return "departures";
	if (a->n_joined != b->n_joined ||
	    memcmp(a->joined, b->joined, a->n_joined * sizeof *a->joined) != 0)
		return "joined";
	return NULL;
}

/* One logged view, for sorting them all by vid, then the records of
 * members that saw the view before it first (then by rank). */
struct logged_view {
	unsigned vid, rank;
	size_t i;
	/* The log's first view and some members were there before: a joiner's
	 * first, whose departures the library leaves out (group.h defines
	 * them against the view before, which the joiner did not have). */
	bool joiners_first;
};

static int by_vid(const void *pa, const void *pb)
{
	const struct logged_view *a = pa, *b = pb;
	if (a->vid != b->vid)
		return a->vid < b->vid ? -1 : 1;
	if (a->joiners_first != b->joiners_first)
		return a->joiners_first ? 1 : -1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* Rule a across ranks: the group's views are every view logged, by vid,
 * each logged the same by all that have it; each rank's views are a run of
 * them that starts with the group's first view or one that joins its node.
 * A joiner's first view may lack the departures. Fills r->group,
 * group_owner and each log's `first`. */
static int build_group(struct run *r, struct logged_view *all)
{
	size_t count = 0;
	for (unsigned rank = 0; rank < r->n; rank++)
		for (size_t i = 0; i < r->logs[rank].n_views; i++) {
			const struct view_rec *v = &r->logs[rank].views[i];
			all[count++] = (struct logged_view){ v->vid, rank, i,
							     i == 0 && v->n_joined < v->n_members };
		}
	qsort(all, count, sizeof *all, by_vid);
	for (size_t i = 0; i < count; i++) {
		const struct view_rec *v = &r->logs[all[i].rank].views[all[i].i];
		if (r->n_group == 0 || r->group[r->n_group - 1]->vid != v->vid) {
			r->group_owner[r->n_group] = all[i].rank;
			r->group[r->n_group++] = v;
		}
		const struct view_rec *record = r->group[r->n_group - 1];
		struct view_rec seen = *v;
		if (all[i].joiners_first && seen.n_departed == 0) {
			seen.n_departed = record->n_departed;
			seen.departed = record->departed;
		}
		const char *what = view_difference(&seen, record);
		if (what)
			return fail(r, "members %u and %u differ in the %s of view %u", all[i].rank,
				    r->group_owner[r->n_group - 1], what, v->vid);
		if (all[i].i == 0)
			r->logs[all[i].rank].first = r->n_group - 1;
	}
	for (unsigned rank = 0; rank < r->n; rank++) {
		const struct member_log *m = &r->logs[rank];
		for (size_t i = 1; i < m->n_views; i++) {
			size_t g = m->first + i;
			if (r->group[g]->vid != m->views[i].vid)
				return fail(r, "member %u: view %u follows view %u, skipping the group's "
					    "view %u (which member %u logged)", rank, m->views[i].vid,
					    m->views[i - 1].vid, r->group[g]->vid, r->group_owner[g]);
		}
		if (m->n_views > 0 && m->first > 0 &&
		    !in_list(m->views[0].joined, m->views[0].n_joined, m->id))
			return fail(r, "member %u: its first view %u does not join its node %u, and "
				    "the group had views before", rank, m->views[0].vid, m->id);
	}
	return 0;
}

/* Rule a at the end: every survivor's last view is the group's last, which
 * holds exactly the survivors' node ids. */
static int check_final_members(struct run *r)
{
	const struct view_rec *last = r->group[r->n_group - 1];
	unsigned *survivor_of = r->rank_of; /* scratch: not filled yet */
	for (unsigned id = 0; id < r->n; id++)
		survivor_of[id] = UINT_MAX;
	for (unsigned rank = 0; rank < r->n; rank++) {
		const struct member_log *m = &r->logs[rank];
		if (is_gone(r, rank))
			continue;
		if (m->n_views == 0)
			return fail(r, "survivor %u logged no view", rank);
		if (m->first + m->n_views != r->n_group)
			return fail(r, "survivor %u's last view is %u, the group's %u (which member %u "
				    "logged)", rank, m->views[m->n_views - 1].vid, last->vid,
				    r->group_owner[r->n_group - 1]);
		if (survivor_of[m->id] != UINT_MAX)
			return fail(r, "members %u and %u both survive as node %u",
				    survivor_of[m->id], rank, m->id);
		survivor_of[m->id] = rank;
	}
	for (unsigned id = 0; id < r->n; id++) {
		bool member = in_list(last->members, last->n_members, id);
		if (member && survivor_of[id] == UINT_MAX)
			return fail(r, "final view %u holds member %u, which was expected gone",
				    last->vid, id);
		if (!member && survivor_of[id] != UINT_MAX)
			return fail(r, "final view %u lacks survivor %u", last->vid, id);
	}
	return 0;
}

/* Whether the rank delivered all of group view g: it installed the next,
 * or survived in the final one. */
static bool completed_view(const struct run *r, unsigned rank, size_t g)
{
	return view_at(r, rank, g + 1) || !is_gone(r, rank);
}

/* The rank whose deliveries in group view g the others are held against:
 * the first that completed it, else the one that delivered most. */
static unsigned view_reference(const struct run *r, size_t g)
{
	unsigned best = UINT_MAX;
	for (unsigned rank = 0; rank < r->n; rank++) {
		const struct view_rec *v = view_at(r, rank, g);
		if (!v)
			continue;
		if (completed_view(r, rank, g))
			return rank;
		if (best == UINT_MAX || view_length(v) > view_length(view_at(r, best, g)))
			best = rank;
	}
	return best;
}

/* r->rank_of: a node id's holder in a group view is the rank with that id
 * whose first view came latest but not after it (a process that joined
 * under the id of a removed one takes it over); and r->k_start, from what
 * each view's reference delivered. */
static void map_senders(struct run *r)
{
	for (size_t g = 0; g < r->n_group; g++) {
		unsigned *holder = &r->rank_of[g * r->n];
		for (unsigned id = 0; id < r->n; id++)
			holder[id] = UINT_MAX;
		for (unsigned rank = 0; rank < r->n; rank++) {
			const struct member_log *m = &r->logs[rank];
			unsigned *h = &holder[m->id];
			if (m->n_views > 0 && m->first <= g &&
			    (*h == UINT_MAX || r->logs[*h].first < m->first))
				*h = rank;
		}
	}
	for (size_t g = 0; g + 1 < r->n_group; g++) {
		uint64_t *next = &r->k_start[(g + 1) * r->n];
		memcpy(next, &r->k_start[g * r->n], r->n * sizeof *next);
		unsigned ref_id = view_reference(r, g);
		const struct member_log *ref = &r->logs[ref_id];
		const struct view_rec *v = view_at(r, ref_id, g);
		for (size_t i = v->first; i < v->end; i++) {
			unsigned sender = ref->entries[i].sender;
			/* What maps to no rank, rule d names at the member. */
			if (sender < r->n && r->rank_of[g * r->n + sender] != UINT_MAX)
				next[r->rank_of[g * r->n + sender]]++;
		}
	}
}

static bool same_entry(const struct entry *a, const struct entry *b)
{
	return a->vid == b->vid && a->sender == b->sender && a->index == b->index &&
	       a->len == b->len && a->hash == b->hash;
}

/* Rule c for group view g. */
static int check_view_deliveries(struct run *r, size_t g)
{
	unsigned ref_id = view_reference(r, g);
	const struct member_log *ref = &r->logs[ref_id];
	const struct view_rec *rv = view_at(r, ref_id, g);
	for (unsigned rank = 0; rank < r->n; rank++) {
		const struct member_log *m = &r->logs[rank];
		const struct view_rec *v = view_at(r, rank, g);
		if (rank == ref_id || !v)
			continue;
		for (size_t i = 0; i < view_length(v) && i < view_length(rv); i++) {
			const struct entry *a = &m->entries[v->first + i];
			const struct entry *b = &ref->entries[rv->first + i];
			if (!same_entry(a, b))
				return fail(r, "view %u, delivery %zu: members %u and %u differ "
					    "(sender %u index %" PRIu64 ", sender %u index %" PRIu64 ")",
					    rv->vid, i, rank, ref_id, a->sender, a->index, b->sender,
					    b->index);
		}
		bool completed = completed_view(r, rank, g);
		if (completed ? view_length(v) != view_length(rv) : view_length(v) > view_length(rv))
			return fail(r, "view %u: member %u delivered %zu messages, member %u %zu%s",
				    rv->vid, rank, view_length(v), ref_id, view_length(rv),
				    completed ? "" : " (one that did not complete the view delivers "
				    "a prefix)");
	}
	return 0;
}

/* DIR/member-RANK.sent into *accepted: 1 if read, 0 if there is none, -1 on
 * error. */
static int read_accepted(struct run *r, unsigned rank, uint64_t *accepted)
{
	char path[1024];
	if (!member_path(path, sizeof path, r->dir, rank, "sent"))
		return fail(r, "directory name too long: %s", r->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	bool read = fscanf(f, "%" SCNu64, accepted) == 1;
	fclose(f);
	return read ? 1 : fail(r, "member %u's %s unreadable", rank, path);
}

/* Rule e: every survivor has what a survivor's grp_send accepted, and no
 * more than a gone one's did. */
static int check_accepted(struct run *r)
{
	for (unsigned sender = 0; sender < r->n; sender++) {
		uint64_t accepted;
		int found = read_accepted(r, sender, &accepted);
		if (found < 0)
			return -1;
		for (unsigned rank = 0; found && rank < r->n; rank++) {
			uint64_t got = r->logs[rank].next_k[sender];
			if (!is_gone(r, rank) && (is_gone(r, sender) ? got > accepted : got != accepted))
				return fail(r, "survivor %u delivered %" PRIu64 " messages of %s %u, "
					    "whose grp_send accepted %" PRIu64, rank, got,
					    is_gone(r, sender) ? "gone member" : "survivor", sender,
					    accepted);
		}
	}
	return 0;
}

/* Rule f. */
static int check_per_sender(struct run *r)
{
	for (unsigned rank = 0; r->expect->per_sender && rank < r->n; rank++) {
		for (unsigned s = 0; !is_gone(r, rank) && s < r->n; s++) {
			uint64_t want = r->expect->is_sender[s] ? r->expect->per_sender : 0;
			if (r->logs[rank].next_k[s] != want)
				return fail(r, "survivor %u delivered %" PRIu64 " messages of "
					    "sender %u, expected %" PRIu64, rank,
					    r->logs[rank].next_k[s], s, want);
		}
	}
	return 0;
}

/* The group views' tables, once the logs are read. */
static int allocate_group(struct run *r, struct logged_view **all)
{
	size_t views = 0;
	for (unsigned rank = 0; rank < r->n; rank++)
		views += r->logs[rank].n_views;
	if (views == 0)
		return fail(r, "no member logged a view");
	*all = malloc(views * sizeof **all);
	r->group = malloc(views * sizeof *r->group);
	r->group_owner = malloc(views * sizeof *r->group_owner);
	r->rank_of = malloc(views * r->n * sizeof *r->rank_of);
	r->k_start = calloc(views * r->n, sizeof *r->k_start);
	if (!*all || !r->group || !r->group_owner || !r->rank_of || !r->k_start)
		return fail(r, "out of memory");
	return 0;
}

static int check_run(struct run *r)
{
	for (unsigned rank = 0; rank < r->n; rank++) {
		r->logs[rank].id = r->expect->id_of_rank ? r->expect->id_of_rank[rank] : rank;
		if (r->logs[rank].id >= r->n)
			return fail(r, "member %u: node id %u, not below %u", rank, r->logs[rank].id,
				    r->n);
	}
	for (unsigned rank = 0; rank < r->n; rank++)
		if (read_member_log(r, rank) || check_own_views(r, rank))
			return -1;
	struct logged_view *all = NULL;
	int rc = allocate_group(r, &all) || build_group(r, all) ? -1 : 0;
	free(all);
	if (rc)
		return -1;
	for (size_t g = 1; g < r->n_group; g++)
		if (check_membership_step(r, r->group_owner[g], r->group[g - 1], r->group[g]))
			return -1;
	bool any_survivor = false;
	for (unsigned rank = 0; rank < r->n; rank++)
		any_survivor |= !is_gone(r, rank);
	if (!any_survivor)
		return fail(r, "no member is expected to survive: nothing to check against");
	if (check_final_members(r))
		return -1;
	map_senders(r);
	for (unsigned rank = 0; rank < r->n; rank++)
		if (check_sender_order(r, rank))
			return -1;
	for (size_t g = 0; g < r->n_group; g++)
		if (check_view_deliveries(r, g))
			return -1;
	return check_accepted(r) || check_per_sender(r) ? -1 : 0;
}

static int check_logs(const char *dir, unsigned n, const struct delivery_log_expect *expect,
		      bool views_from_deliveries, char *err, size_t err_len)
{
	struct run r = {
		.dir = dir, .n = n, .expect = expect, .views_from_deliveries = views_from_deliveries,
		.logs = calloc(n, sizeof *r.logs), .in_view = calloc(n, sizeof *r.in_view),
		.node_set = calloc(n, 1), .payload = malloc(expect->sizes.max_len + 1),
		.err = err, .err_len = err_len,
	};
	bool allocated = r.logs && r.in_view && r.node_set && r.payload;
	for (unsigned rank = 0; allocated && rank < n; rank++)
		allocated = (r.logs[rank].next_k = calloc(n, sizeof *r.logs[rank].next_k)) != NULL;
	int rc = allocated ? check_run(&r) : fail(&r, "out of memory");
	for (unsigned rank = 0; r.logs && rank < n; rank++) {
		for (size_t j = 0; j < r.logs[rank].n_views; j++)
			free_view(&r.logs[rank].views[j]);
		free(r.logs[rank].views);
		free(r.logs[rank].entries);
		free(r.logs[rank].next_k);
	}
	free(r.logs);
	free(r.group);
	free(r.group_owner);
	free(r.rank_of);
	free(r.k_start);
	free(r.in_view);
	free(r.node_set);
	free(r.payload);
	return rc;
}

int delivery_log_check_views(const char *dir, unsigned n, const struct delivery_log_expect *expect,
			     char *err, size_t err_len)
{
	return check_logs(dir, n, expect, false, err, err_len);
}

int delivery_log_check(const char *dir, unsigned n, const unsigned char *is_sender,
		       uint64_t per_sender, const struct payload_sizes *sizes, char *err,
		       size_t err_len)
{
	struct delivery_log_expect expect = {
		.sizes = *sizes, .is_sender = is_sender, .per_sender = per_sender,
	};
	return check_logs(dir, n, &expect, true, err, err_len);
}
