/* RDMC multicast schedules as pure functions of
 * (kind, n, k, rank, step), kept apart from the transport so that every
 * group size can be checked by simulation alone.
 *
 * A message is cut into k blocks; rank 0 (the sender, "root") holds all of
 * them before step 0 and the other n-1 ranks must each receive every block
 * exactly once. In one step a rank sends at most one block and receives at
 * most one block, possibly from a different peer; a block received in step
 * t may be forwarded from step t+1 on. Both ends of a transfer compute it
 * independently: if a's send at step t is {c, b}, c's receive at step t is
 * {a, b}. The root never receives.
 *
 * Step counts (n >= 2; n = 1 takes none):
 *   sequential   (n-1)*k       the root sends every block to rank 1, then
 *                              every block to rank 2, ...
 *   chain        k + n - 2     a pipeline 0 -> 1 -> ... -> n-1
 *   binomial     k + ceil(log2 n) - 1, for every n, power of two or not.
 *                This is optimal: the root can first send its last block
 *                at step k-1, and after that the number of ranks holding a
 *                block at most doubles per step.
 *
 * The binomial pipeline has two constructions:
 *   - n = 2^l: the RDMC hypercube (Behrens et al.), as Derecho runs it.
 *     At step t every rank v exchanges with v XOR 2^(t mod l); block b
 *     leaves the root at step b along dimension b mod l, spreads through a
 *     binomial tree over the other l-1 dimensions, and at step b+l reaches
 *     the half of the cube that the tree did not cover.
 *   - any other n: Träff's circulant-graph broadcast ("Optimal broadcast
 *     schedules in logarithmic time", ACM TOPC 2025). With q = ceil(log2 n)
 *     and skips s_q = n, s_j = ceil(s_{j+1} / 2) (so s_0 = 1), rank r sends
 *     to r + s_j and receives from r - s_j (mod n) in every step t with
 *     j = (t + x) mod q. In each q-step phase a rank receives one block of
 *     every residue mod q: its "base block" of the current phase and the
 *     other q-1 from the previous phase; which one arrives in which step is
 *     its receive schedule, computed for one rank in O(log n) by Träff's
 *     search. The shift x makes the last block k-1 the first block of the
 *     final phase; that phase's other blocks would come after it, so their
 *     transfers carry k-1 again, and the run ends with the phase: k + q - 1
 *     steps. RDMC instead pairs the ranks past 2^l with "twins" of hypercube
 *     vertices; that needs intra-pair transfers and special cases, while the
 *     circulant reaches the same optimum with one rule.
 * In both, from step k on the root has no new block and resends k-1.
 * Checked by simulation for every n up to 1024 (the unit test) and, once
 * offline, the circulant's per-phase conditions for every n up to 65536
 * and the hypercube by simulation for every 2^l up to 65536.
 *
 * Nothing here allocates or keeps state; rdmc_schedule_step costs
 * O(log n) for binomial and O(1) for the others. */
#ifndef RDMC_SCHEDULE_H
#define RDMC_SCHEDULE_H

#include <stdint.h>

/* Largest group the schedules accept; ranks fit 16 bits. */
#define RDMC_SCHEDULE_MAX_N 65536u

enum rdmc_schedule_kind {
	RDMC_SCHEDULE_BINOMIAL,
	RDMC_SCHEDULE_CHAIN,
	RDMC_SCHEDULE_SEQUENTIAL,
};

struct rdmc_transfer {
	int peer;	/* rank, or -1 for none */
	uint32_t block;	/* 0 when peer is -1 */
};

struct rdmc_step {
	struct rdmc_transfer send, recv;
};

/* Steps the schedule takes to bring all k blocks from rank 0 to all n
 * ranks. 0 for n = 1, and also for arguments out of range (n outside
 * 1..RDMC_SCHEDULE_MAX_N, k = 0, an unknown kind, or a count that does not
 * fit 32 bits, which any k < 65536 avoids), so that such a call does
 * nothing rather than something wrong. */
uint32_t rdmc_schedule_steps(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k);

/* What `rank` does at `step` (0-based): at most one send and at most one
 * receive. Both are none when the arguments are out of range, including
 * rank >= n and step >= rdmc_schedule_steps(kind, n, k). */
void rdmc_schedule_step(enum rdmc_schedule_kind kind, uint32_t n, uint32_t k,
			uint32_t rank, uint32_t step, struct rdmc_step *out);

/* "binomial", "chain" or "sequential" (configuration and benchmark
 * names): 0 and *out set, or -1 and *out untouched. */
int rdmc_schedule_parse(const char *name, enum rdmc_schedule_kind *out);

/* The name rdmc_schedule_parse accepts for kind, or NULL. */
const char *rdmc_schedule_name(enum rdmc_schedule_kind kind);

#endif
