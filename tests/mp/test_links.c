/* The links under the tables: one peer's endpoint is closed while the
 * others keep pushing. Three members share a table; member 2 says it is
 * done, waits until 0 and 1 have seen it, and goes; 0 and 1 close their
 * endpoint to it and push 20 000 counter updates to each other, which must
 * all arrive (no hang, no failure reported for each other, nothing leaked
 * under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <group/sst.h>

#include "cases.h"
#include "localgroup.h"
#include "test_time.h"
#include "sst_table.h"

#define WAIT_MS 60000u
#define PUSHES 20000u
#define LEAVER 2u

enum verdict { OK, E_OPEN = 10, E_PUSH, E_NOT_REACHED, E_NOT_CLOSED, E_FAILURE };

struct cells {
	size_t counter, done, closed;
};

struct cell_at_least {
	unsigned row;
	size_t column;
	uint64_t value;
};

static bool cell_reached(const grp_sst *sst, void *arg)
{
	const struct cell_at_least *c = arg;
	return grp_sst_load_u64(sst, c->row, c->column) >= c->value;
}

static int await_cell(grp_sst *sst, unsigned row, size_t column, uint64_t value)
{
	struct cell_at_least c = { row, column, value };
	return grp_sst_wait(sst, cell_reached, &c, test_ms(WAIT_MS)) == 0 ? OK : E_NOT_REACHED;
}

static int set_cell(grp_sst *sst, size_t column, uint64_t value)
{
	grp_sst_store_u64(sst, column, value);
	return grp_sst_push(sst, column, sizeof(uint64_t)) == 0 ? OK : E_PUSH;
}

/* Members 0 and 1: see the leaver go, close its endpoint, then count up
 * with each other. */
static int stay(grp_sst *sst, const struct cells *c, unsigned me)
{
	int rc = await_cell(sst, LEAVER, c->done, 1);
	if (!rc)
		rc = set_cell(sst, c->closed, 1);
	struct links *l = sst_links(sst);
	unsigned leaver_id = sst_row_id(sst, LEAVER);
	if (!rc) {
		sst_fence(sst); /* our `closed` lands before the endpoint goes */
		links_close_peer(l, leaver_id);
		if (!links_peer_failed(l, leaver_id))
			rc = E_NOT_CLOSED;
	}
	for (uint64_t k = 1; k <= PUSHES && !rc; k++)
		rc = set_cell(sst, c->counter, k);
	if (!rc)
		rc = await_cell(sst, 1 - me, c->counter, PUSHES);
	if (!rc && grp_sst_row_failed(sst, 1 - me))
		rc = E_FAILURE;
	/* Neither leaves before the other has seen every push. */
	if (!rc)
		rc = set_cell(sst, c->done, 1);
	if (!rc)
		rc = await_cell(sst, 1 - me, c->done, 1);
	return rc;
}

static int leave(grp_sst *sst, const struct cells *c)
{
	int rc = set_cell(sst, c->done, 1);
	for (unsigned row = 0; row < LEAVER && !rc; row++)
		rc = await_cell(sst, row, c->closed, 1);
	return rc;
}

static int member(const struct local_member *m, void *arg)
{
	(void)arg;
	grp_sst_layout layout = { 0 };
	struct cells c = {
		.counter = grp_sst_layout_add(&layout, sizeof(uint64_t), 1),
		.done = grp_sst_layout_add(&layout, sizeof(uint64_t), 1),
		.closed = grp_sst_layout_add(&layout, sizeof(uint64_t), 1),
	};
	grp_config *cfg = local_member_config(m);
	grp_sst *sst = NULL;
	int rc = cfg && grp_sst_open(cfg, &layout, NULL, NULL, &sst) == 0 ? OK : E_OPEN;
	grp_config_free(cfg);
	if (!rc)
		rc = m->rank == LEAVER ? leave(sst, &c) : stay(sst, &c, m->rank);
	if (rc)
		fprintf(stderr, "member %u: verdict %d\n", m->rank, rc);
	grp_sst_close(sst);
	return rc;
}

static void test_peer_closed_while_others_push(void **state)
{
	(void)state;
	run_members(3, member, NULL, WAIT_MS + 30000u);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_closed_while_others_push),
	};
	return RUN_CASES(argc, argv, tests);
}
