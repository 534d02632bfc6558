#include "schedule.h"

#include <stddef.h>
#include <string.h>

/* ceil(log2 RDMC_SCHEDULE_MAX_N): the most skips or dimensions there are. */
#define MAX_LOG 16

static const char *const kind_names[] = {
	[RDMC_SCHEDULE_BINOMIAL] = "binomial",
	[RDMC_SCHEDULE_CHAIN] = "chain",
	[RDMC_SCHEDULE_SEQUENTIAL] = "sequential",
};

int rdmc_schedule_parse(const char *name, enum rdmc_schedule_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (name && strcmp(name, kind_names[i]) == 0) {
			*out = (enum rdmc_schedule_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *rdmc_schedule_name(enum rdmc_schedule_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

static uint32_t ceil_log2(uint32_t n)
{
	uint32_t l = 0;
	while ((UINT32_C(1) << l) < n)
		l++;
	return l;
}

uint32_t rdmc_schedule_steps(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k)
{
	uint64_t steps;

	if (n < 2 || n > RDMC_SCHEDULE_MAX_N || k == 0)
		return 0;
	switch (kind) {
	case RDMC_SCHEDULE_BINOMIAL:
		steps = (uint64_t)k + ceil_log2(n) - 1;
		break;
	case RDMC_SCHEDULE_CHAIN:
		steps = (uint64_t)k + n - 2;
		break;
	case RDMC_SCHEDULE_SEQUENTIAL:
		steps = (uint64_t)(n - 1) * k;
		break;
	default:
		return 0;
	}
	return steps > UINT32_MAX ? 0 : (uint32_t)steps;
}

static void set(struct rdmc_transfer *x, uint32_t peer, int64_t block)
{
	if (block < 0) {
		x->peer = -1;
		x->block = 0;
	} else {
		x->peer = (int)peer;
		x->block = (uint32_t)block;
	}
}

/* ---- sequential and chain ---- */

static void sequential_step(uint32_t k, uint32_t rank, uint32_t step,
			    struct rdmc_step *out)
{
	uint32_t to = 1 + step / k;

	if (rank == 0)
		set(&out->send, to, step % k);
	else if (rank == to)
		set(&out->recv, 0, step % k);
}

static void chain_step(uint32_t n, uint32_t k, uint32_t rank, uint32_t step,
		       struct rdmc_step *out)
{
	/* Rank r forwards block t-r at step t: it got it from r-1 at t-1. */
	int64_t b = (int64_t)step - rank;

	if (rank + 1 < n && b >= 0 && b < k)
		set(&out->send, rank + 1, b);
	if (rank > 0 && b + 1 >= 0 && b + 1 < k)
		set(&out->recv, rank - 1, b + 1);
}

/* ---- binomial, n = 2^l: the RDMC hypercube ---- */

/* Block that vertex `to` receives from its partner at step t, or -1.
 *
 * Block b leaves the root along dimension d = b mod l at step b, so the
 * vertices of its tree are those with bit d set; the tree grows along
 * dimensions d+1, d+2, ... (mod l) in steps b+1, b+2, ..., and a vertex
 * joins it at the step of its last set bit in that order. At step b+l,
 * along d again, each tree vertex hands b to its partner with bit d clear.
 *
 * So along dimension j = t mod l: a vertex with bit j clear gets the block
 * whose tree finished, t-l. A vertex with bit j set is in the tree of the
 * block that started along its next set bit above j (cyclically), p
 * dimensions further on, and j is that tree's last dimension for it: block
 * t+p-l. Only 2^j itself has no other bit; it is fed by the root, block t.
 * Blocks past k-1 do not exist: the transfers that would carry them carry
 * k-1, and every vertex still receives k-1 exactly once within k+l-1 steps
 * (as in RDMC; the tests check it for every l up to 10). */
static int64_t cube_block(uint32_t l, uint32_t k, uint32_t to, uint32_t t)
{
	uint32_t j = t % l;
	uint32_t rot = ((to >> j) | (to << (l - j))) & ((UINT32_C(1) << l) - 1);
	int64_t b;

	if (to == 0)
		return -1;
	if (!(rot & 1)) {
		b = (int64_t)t - l;
	} else if (rot == 1) {
		b = t;
	} else {
		uint32_t p = 1;
		while (!(rot & (UINT32_C(1) << p)))
			p++;
		b = (int64_t)t + p - l;
	}
	if (b < 0)
		return -1;
	return b < k ? b : (int64_t)k - 1;
}

static void cube_step(uint32_t l, uint32_t k, uint32_t rank, uint32_t step,
		      struct rdmc_step *out)
{
	uint32_t partner = rank ^ (UINT32_C(1) << (step % l));

	set(&out->send, partner, cube_block(l, k, partner, step));
	set(&out->recv, partner, cube_block(l, k, rank, step));
}

/* ---- binomial, other n: Träff's circulant schedule ---- */

struct circulant {
	uint32_t n, q;
	uint32_t skip[MAX_LOG + 1];	/* skip[q] = n */
};

static void circulant_init(struct circulant *c, uint32_t n)
{
	c->n = n;
	c->q = ceil_log2(n);
	c->skip[c->q] = n;
	for (uint32_t j = c->q; j > 0; j--)
		c->skip[j - 1] = c->skip[j] - c->skip[j] / 2;
}

/* The base block of rank r > 0, the one block it receives in the phase the
 * root sent it: write r greedily as a sum of decreasing skips; the block
 * left the root along the smallest of them. q for the root, which has no
 * base block. */
static uint32_t circulant_base(const struct circulant *c, uint32_t r)
{
	uint32_t reached = 0;

	for (uint32_t j = c->q; j-- > 0;) {
		if (reached + c->skip[j] == r)
			return j;
		if (reached + c->skip[j] < r)
			reached += c->skip[j];
	}
	return c->q;
}

/* Träff's receive-schedule search (the paper's Algorithm "recvschedule")
 * for one rank r. The candidates are skip indices: e < q stands for block e
 * of the previous phase, e = q for r's base block. The search walks sums
 * of skips from large to small towards r + n, r seen one lap around the
 * circle so that blocks of the previous phase, whose paths pass the root's
 * position, can be reached; a candidate e fills the next open round j when
 * the sum through s_e stays within the round's sender, r + n - s_j, and
 * below the sum taken before. Rounds are filled in increasing order and
 * each candidate once. The paper proves that all q rounds get filled and
 * that every sender holds what it sends; the checks cover every n up to
 * 65536. The candidates left form a list in decreasing order with
 * sentinel -1, element e stored at index e+1. */
struct search {
	const struct circulant *c;
	uint32_t target;		/* r + n */
	uint32_t want;			/* stop once rounds 0..want are known */
	int8_t below[MAX_LOG + 2], above[MAX_LOG + 2];
	int8_t pick[MAX_LOG];
};

static void search_unlink(struct search *s, int e)
{
	s->below[s->above[e + 1] + 1] = s->below[e + 1];
	s->above[s->below[e + 1] + 1] = s->above[e + 1];
}

static uint32_t search_rounds(struct search *s, uint32_t reached, uint32_t bound, int e,
			      uint32_t round)
{
	const uint32_t *skip = s->c->skip;

	while (e >= 0 && round <= s->want) {
		uint32_t via = reached + skip[e];

		if (via + skip[round] <= s->target && via < bound) {
			if (via + skip[round + 1] <= s->target)
				round = search_rounds(s, via, bound, e, round);
			if (round > s->want || reached + skip[round + 1] > s->target)
				return round;
			bound = via;
			s->pick[round++] = (int8_t)e;
			search_unlink(s, e);
		}
		e = s->below[e + 1];
	}
	return round;
}

/* The block rank r > 0 receives in round j of a phase, relative to the
 * phase's first block: base - q .. q-1, negative for the previous phase. */
static int32_t circulant_recv(const struct circulant *c, uint32_t r, uint32_t j)
{
	struct search s = { .c = c, .target = c->n + r, .want = j };
	int q = (int)c->q;
	int b = (int)circulant_base(c, r);

	for (int e = -1; e <= q; e++) {
		s.below[e + 1] = (int8_t)(e == -1 ? q : e - 1);
		s.above[e + 1] = (int8_t)(e == q ? -1 : e + 1);
	}
	search_unlink(&s, b);
	search_rounds(&s, 0, 2 * c->n, q, 0);
	return s.pick[j] == q ? b : s.pick[j] - q;
}

static void circulant_step(uint32_t n, uint32_t k, uint32_t rank, uint32_t step,
			   struct rdmc_step *out)
{
	struct circulant c;

	circulant_init(&c, n);

	/* Shift the rounds by x so that the last block k-1 is block 0 of the
	 * final phase: its later blocks would be k, k+1, ..., so they carry
	 * k-1 again, and as each rank receives only its base block from the
	 * current phase, it gets k-1 exactly once. The run ends with that
	 * phase, step k+q-2. Blocks before 0 do not exist: nobody moves them. */
	uint32_t x = c.q - (k - 1) % c.q;	/* a whole phase more changes nothing */
	uint64_t round = (uint64_t)step + x;
	uint32_t j = (uint32_t)(round % c.q);
	int64_t first = (int64_t)(round - j) - x;	/* block 0 of this phase */
	uint32_t to = rank + c.skip[j] < n ? rank + c.skip[j] : rank + c.skip[j] - n;
	uint32_t from = rank >= c.skip[j] ? rank - c.skip[j] : rank + n - c.skip[j];

	if (to != 0) {
		int64_t b = first + circulant_recv(&c, to, j);
		set(&out->send, to, b < k ? b : (int64_t)k - 1);
	}
	if (rank != 0) {
		int64_t b = first + circulant_recv(&c, rank, j);
		set(&out->recv, from, b < k ? b : (int64_t)k - 1);
	}
}

void rdmc_schedule_step(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k,
			uint32_t rank, uint32_t step, struct rdmc_step *out)
{
	set(&out->send, 0, -1);
	set(&out->recv, 0, -1);
	if (rank >= n || step >= rdmc_schedule_steps(kind, n, k))
		return;

	switch (kind) {
	case RDMC_SCHEDULE_SEQUENTIAL:
		sequential_step(k, rank, step, out);
		break;
	case RDMC_SCHEDULE_CHAIN:
		chain_step(n, k, rank, step, out);
		break;
	case RDMC_SCHEDULE_BINOMIAL:
		if ((n & (n - 1)) == 0)
			cube_step(ceil_log2(n), k, rank, step, out);
		else
			circulant_step(n, k, rank, step, out);
		break;
	}
}
