/* Epochs on long-lived links: while every member streams messages (small
 * ones in slots, large ones by RDMC), member 0 asks, from its deliver
 * callback (the engine thread), for the current epoch to end twice. Each
 * time every member seals the epoch, it drains, the next epoch (vid + 1,
 * same members, new tables and relay on the same links) connects, and the
 * old one is retired. The delivery-log checker then sees the same views,
 * and in each view the same messages in the same order, at every member;
 * per-sender FIFO across views; nothing lost, duplicated or invented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <group/group.h>

#include "cases.h"
#include "delivery_count.h"
#include "delivery_log.h"
#include "group_internal.h"
#include "localgroup.h"
#include "test_time.h"
#include "view_track.h"

#define MEMBERS 3u
#define MESSAGES 600u
#define SMC 4096u
#define LARGE (256u * 1024u)
#define BLOCK (16u * 1024u)
#define WAIT_MS 120000u

/* Member 0 ends the epoch when it has delivered this many messages. */
static const uint64_t renew_at[] = { 150, 900 };
#define RENEWALS (sizeof renew_at / sizeof renew_at[0])

struct member_state {
	grp_t *g;
	unsigned rank;
	FILE *log;
	struct delivery_count delivered;
	struct view_track views;
	unsigned renewed; /* views with the same members as the one before */
};

static void on_deliver(grp_t *g, const grp_delivery *m, void *user)
{
	struct member_state *st = user;
	delivery_log_write(st->log, m);
	uint64_t count = delivery_count_add(&st->delivered);
	for (unsigned i = 0; st->rank == 0 && i < RENEWALS; i++)
		if (count == renew_at[i])
			group_renew_epoch(g);
}

/* Views follow each other by one; all members join in the first, the
 * renewals keep them all, and members that finished leave at the end. */
static void on_view(grp_t *g, const grp_view *v, void *user)
{
	struct member_state *st = user;
	bool renewal = st->views.views > 0 && v->n_departed == 0;
	view_track_add(&st->views, v);
	if (v->my_rank != grp_rank(g))
		snprintf(st->views.problem, sizeof st->views.problem, "grp_rank is not my_rank");
	st->renewed += renewal;
}

static const struct payload_sizes sizes = { SMC, LARGE };

static int send_all(grp_t *g, unsigned rank)
{
	static uint8_t buf[LARGE];
	for (uint64_t k = 0; k < MESSAGES; k++) {
		int rc = grp_send(g, buf, payload_for(rank, k, &sizes, buf));
		if (rc) {
			fprintf(stderr, "member %u: grp_send %" PRIu64 ": %s\n", rank, k,
				grp_strerror(rc));
			return 20;
		}
	}
	return 0;
}

static int member(const struct local_member *m, void *arg)
{
	const char *dir = arg;
	char path[300];
	snprintf(path, sizeof path, "%s/member-%u.log", dir, m->rank);
	struct member_state st = { .rank = m->rank };
	delivery_count_init(&st.delivered);
	st.log = fopen(path, "w");
	grp_config *cfg = local_member_config(m);
	if (!st.log || !cfg || grp_config_set(cfg, "multicast.max_smc_payload", "4096") ||
	    grp_config_set(cfg, "rdmc.max_payload", "262144") ||
	    grp_config_set(cfg, "rdmc.block_size", "16384"))
		return 10;
	grp_callbacks cb = { .size = sizeof cb, .deliver = on_deliver, .view = on_view };
	int rc = grp_join(cfg, &cb, &st, &st.g);
	grp_config_free(cfg);
	if (rc) {
		fprintf(stderr, "member %u: grp_join: %s\n", m->rank, grp_strerror(rc));
		return 11;
	}
	rc = send_all(st.g, m->rank);
	uint64_t expected = (uint64_t)MEMBERS * MESSAGES;
	if (!rc && delivery_count_await(&st.delivered, expected, test_ms(WAIT_MS)) != 0) {
		fprintf(stderr, "member %u: delivered %" PRIu64 " of %" PRIu64 "\n", m->rank,
			delivery_count_get(&st.delivered), expected);
		rc = 12;
	}
	if (!rc && grp_leave(st.g) != 0)
		rc = 13;
	grp_free(st.g);
	fclose(st.log);
	delivery_count_destroy(&st.delivered);
	if (!rc && st.renewed != RENEWALS) {
		fprintf(stderr, "member %u: saw %u renewals, expected %zu\n", m->rank, st.renewed,
			RENEWALS);
		rc = 14;
	}
	if (!rc && st.views.problem[0]) {
		fprintf(stderr, "member %u: %s\n", m->rank, st.views.problem);
		rc = 15;
	}
	return rc;
}

static void test_epochs_renewed_while_messages_flow(void **state)
{
	(void)state;
	char dir[] = "/tmp/grp-epoch-XXXXXX";
	assert_non_null(mkdtemp(dir));
	run_members(MEMBERS, member, dir, WAIT_MS + 30000u);
	unsigned char is_sender[MEMBERS] = { 1, 1, 1 };
	char err[512];
	assert_logs_pass_then_remove(
		dir, delivery_log_check(dir, MEMBERS, is_sender, MESSAGES, &sizes, err, sizeof err),
		err);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epochs_renewed_while_messages_flow),
	};
	return RUN_CASES(argc, argv, tests);
}
