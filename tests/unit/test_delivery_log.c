/* The delivery-log checker on synthetic logs, written with the writers the
 * member processes use: consistent runs with a kill, a join, and a new
 * process under a removed member's id pass, and a run breaking each of its
 * rules fails, naming the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "delivery_log.h"

#define MEMBERS 3u
#define MAX_LEN 64u

/* Not in group.h yet: what a member that lost its majority names itself
 * departed with. */
#define DEPARTED_MINORITY ((enum grp_departure)3)

static const struct payload_sizes sizes = { MAX_LEN, MAX_LEN };

struct msg {
	unsigned sender;
	uint64_t index, k;
};

/* View 0 as the survivors delivered it up to the ragged trim; member 2, then
 * killed, delivered its first three. */
static const struct msg view0[] = { { 0, 0, 0 }, { 1, 0, 0 }, { 2, 0, 0 }, { 0, 1, 1 }, { 1, 1, 1 } };
#define DELIVERED_BY_KILLED 3
/* View 1: sender 0 resends k = 2, which fell outside the trim, first. */
static const struct msg view1[] = { { 0, 0, 2 }, { 1, 0, 2 }, { 0, 1, 3 } };
static const struct msg view1_reordered[] = { { 1, 0, 2 }, { 0, 0, 2 }, { 0, 1, 3 } };
static const struct msg view1_resend_skipped[] = { { 0, 0, 3 }, { 1, 0, 2 }, { 0, 1, 4 } };
static const struct msg view1_index_repeated[] = { { 0, 0, 2 }, { 1, 0, 2 }, { 0, 0, 3 } };
/* Sender 2's k = 1, which the survivors never delivered. */
static const struct msg beyond_trim = { 2, 1, 1 };
#define COUNT(a) (sizeof a / sizeof a[0])

static const unsigned everyone[] = { 0, 1, 2 }, survivors[] = { 0, 1 }, member2[] = { 2 },
		      member1[] = { 1 };
static const enum grp_departure failed[] = { GRP_DEPARTED_FAILED },
				left[] = { GRP_DEPARTED_LEFT }, minority[] = { DEPARTED_MINORITY };
static const grp_view first_view = {
	.vid = 0, .n_members = 3, .members = everyone, .n_joined = 3, .joined = everyone,
};
static const grp_view after_kill = {
	.vid = 1, .n_members = 2, .members = survivors,
	.n_departed = 1, .departed = member2, .departed_reason = failed,
};

/* What write_run breaks; the comment names the rule it breaks. */
enum fault {
	NO_FAULT,
	MINORITY_LAST_WORD,   /* none: member 2 ends naming itself departed */
	TORN_LAST_LINE,       /* none: member 2's kill cut its last line */
	SURVIVORS_DISAGREE,   /* a: member 1 sees 2 as having left */
	VIEW_REPEATED,        /* a: member 1 logs view 0 again after view 1 */
	SURVIVOR_LAST_WORD,   /* a: survivor 1 names itself departed */
	DEPARTED_STAYS,       /* b: view 1 departs member 2 but still holds it */
	ORDER_DIFFERS,        /* c: member 1 delivers view 1 in another order */
	KILLED_DELIVERS_MORE, /* c: member 2 delivered past the survivors' trim */
	RESEND_SKIPPED,       /* d: member 1 never delivers sender 0's k = 2 */
	INDEX_REPEATED,       /* d: member 1 delivers index 0 of sender 0 twice */
	DELIVERY_BEFORE_VIEW, /* d: member 1 delivers before its first view */
	ACCEPTED_LOST,        /* e: member 0's grp_send accepted one more */
};

/* Messages whose sender (node id) is sent by the process of rank
 * rank_of_node[sender] (NULL: rank sender). */
static void write_messages_by(FILE *log, uint32_t vid, const struct msg *msgs, size_t count,
			      const unsigned *rank_of_node)
{
	uint8_t buf[MAX_LEN];
	for (size_t i = 0; i < count; i++) {
		unsigned rank = rank_of_node ? rank_of_node[msgs[i].sender] : msgs[i].sender;
		grp_delivery d = {
			.vid = vid, .sender = msgs[i].sender, .index = msgs[i].index, .data = buf,
			.len = payload_for(rank, msgs[i].k, &sizes, buf),
		};
		delivery_log_write(log, &d);
	}
}

static void write_messages(FILE *log, uint32_t vid, const struct msg *msgs, size_t count)
{
	write_messages_by(log, vid, msgs, count, NULL);
}

static const struct msg *view1_at_member1(enum fault fault)
{
	switch (fault) {
	case ORDER_DIFFERS:
		return view1_reordered;
	case RESEND_SKIPPED:
		return view1_resend_skipped;
	case INDEX_REPEATED:
		return view1_index_repeated;
	default:
		return view1;
	}
}

/* The last view line of a member that stops itself. */
static void write_last_word(FILE *log, const unsigned *self, const enum grp_departure *reason)
{
	grp_view last = { .vid = 1, .n_members = 1, .members = self,
			  .n_departed = 1, .departed = self, .departed_reason = reason };
	delivery_log_view(log, &last);
}

/* Three members: all send in view 0, member 2 is killed in it, members 0
 * and 1 install view 1 and go on; then `fault`. */
static void write_run(const char *dir, enum fault fault)
{
	FILE *log[MEMBERS];
	for (unsigned r = 0; r < MEMBERS; r++)
		assert_non_null(log[r] = delivery_log_open(dir, r));
	if (fault == DELIVERY_BEFORE_VIEW)
		write_messages(log[1], 0, view0, 1);
	for (unsigned r = 0; r < MEMBERS; r++)
		delivery_log_view(log[r], &first_view);
	write_messages(log[0], 0, view0, COUNT(view0));
	write_messages(log[1], 0, view0, COUNT(view0));
	write_messages(log[2], 0, view0, fault == KILLED_DELIVERS_MORE ? COUNT(view0)
								       : DELIVERED_BY_KILLED);
	if (fault == KILLED_DELIVERS_MORE)
		write_messages(log[2], 0, &beyond_trim, 1);

	grp_view next = after_kill, next_at_1 = after_kill;
	if (fault == DEPARTED_STAYS) {
		next.members = next_at_1.members = everyone;
		next.n_members = next_at_1.n_members = 3;
	}
	if (fault == SURVIVORS_DISAGREE)
		next_at_1.departed_reason = left;
	delivery_log_view(log[0], &next);
	delivery_log_view(log[1], &next_at_1);
	write_messages(log[0], 1, view1, COUNT(view1));
	write_messages(log[1], 1, view1_at_member1(fault), COUNT(view1));

	if (fault == VIEW_REPEATED)
		delivery_log_view(log[1], &first_view);
	if (fault == MINORITY_LAST_WORD)
		write_last_word(log[2], member2, minority);
	if (fault == SURVIVOR_LAST_WORD)
		write_last_word(log[1], member1, minority);
	if (fault == TORN_LAST_LINE)
		fputs("0 0 2 17", log[2]);
	assert_int_equal(delivery_log_accepted(dir, 0, fault == ACCEPTED_LOST ? 5 : 4), 0);
	assert_int_equal(delivery_log_accepted(dir, 1, 3), 0);
	for (unsigned r = 0; r < MEMBERS; r++)
		assert_int_equal(fclose(log[r]), 0);
}

static void remove_run(const char *dir, unsigned n)
{
	char path[128];
	for (unsigned r = 0; r < n; r++) {
		snprintf(path, sizeof path, "%s/member-%u.log", dir, r);
		remove(path);
		snprintf(path, sizeof path, "%s/member-%u.sent", dir, r);
		remove(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static const unsigned char all_send[MEMBERS] = { 1, 1, 1 }, two_send[MEMBERS] = { 1, 1, 0 },
			   killed_2[MEMBERS] = { 0, 0, 1 }, gone_1_2[MEMBERS] = { 0, 1, 1 };
static const struct delivery_log_expect kill_expected = {
	.sizes = { MAX_LEN, MAX_LEN }, .is_sender = all_send, .gone = killed_2,
};

/* Checks the n logs in dir against expect, then removes them: the check
 * passes if mention is NULL, else fails with an error mentioning it. */
static void check_dir(const char *dir, unsigned n, const struct delivery_log_expect *expect,
		      const char *mention, int fault)
{
	char err[512] = "";
	int rc = delivery_log_check_views(dir, n, expect, err, sizeof err);
	remove_run(dir, n);
	if (mention ? rc == 0 || !strstr(err, mention) : rc != 0)
		print_message("fault %d: rc %d, %s\n", fault, rc, err);
	if (!mention) {
		assert_int_equal(rc, 0);
	} else {
		assert_int_not_equal(rc, 0);
		assert_non_null(strstr(err, mention));
	}
}

/* The run with `fault`, checked against expect as check_dir does. */
static void check_run(enum fault fault, const struct delivery_log_expect *expect,
		      const char *mention)
{
	char dir[] = "/tmp/grp-delivery-log-XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_run(dir, fault);
	check_dir(dir, MEMBERS, expect, mention, (int)fault);
}

static void test_kill_and_resend_pass(void **state)
{
	(void)state;
	check_run(NO_FAULT, &kill_expected, NULL);
	check_run(MINORITY_LAST_WORD, &kill_expected, NULL);
	check_run(TORN_LAST_LINE, &kill_expected, NULL);
}

static void test_views_differ(void **state)
{
	(void)state;
	check_run(SURVIVORS_DISAGREE, &kill_expected, "members 1 and 0 differ in the departures");
	check_run(VIEW_REPEATED, &kill_expected, "member 1: view 0 after view 1");
	check_run(SURVIVOR_LAST_WORD, &kill_expected, "member 1, expected to survive");
	struct delivery_log_expect more_gone = kill_expected;
	more_gone.gone = gone_1_2;
	check_run(NO_FAULT, &more_gone, "final view 1 holds member 1");
}

static void test_membership_arithmetic(void **state)
{
	(void)state;
	check_run(DEPARTED_STAYS, &kill_expected, "view 1 holds node 2, which is not view 0's");
}

static void test_same_messages_in_a_view(void **state)
{
	(void)state;
	check_run(ORDER_DIFFERS, &kill_expected, "view 1, delivery 0: members 1 and 0 differ");
	check_run(KILLED_DELIVERS_MORE, &kill_expected,
		  "view 0: member 2 delivered 6 messages, member 0 5");
}

static void test_sender_order(void **state)
{
	(void)state;
	check_run(RESEND_SKIPPED, &kill_expected,
		  "member 1, view 1, delivery 0: not sender 0's message 2");
	check_run(INDEX_REPEATED, &kill_expected,
		  "member 1, view 1, delivery 2: sender 0 index 0, expected 1");
	check_run(DELIVERY_BEFORE_VIEW, &kill_expected,
		  "member 1 line 1: a delivery before its first view");
	struct delivery_log_expect two_senders = kill_expected;
	two_senders.is_sender = two_send;
	check_run(NO_FAULT, &two_senders,
		  "member 0, view 0, delivery 2: from 2, which is not a sender");
}

static void test_accepted_all_delivered(void **state)
{
	(void)state;
	check_run(ACCEPTED_LOST, &kill_expected,
		  "survivor 0 delivered 4 messages of survivor 0, whose grp_send accepted 5");
}

static void test_per_sender_count(void **state)
{
	(void)state;
	struct delivery_log_expect four_each = kill_expected;
	four_each.per_sender = 4;
	check_run(NO_FAULT, &four_each, "survivor 0 delivered 3 messages of sender 1, expected 4");
}

/* A join: members 0 and 1 form the group, 2 joins in view 1 and delivers
 * from there (from k = 2 of sender 0, k = 1 of sender 1, as the others
 * do), then 1 is killed. */
static const unsigned pair[] = { 0, 1 }, pair_and_2[] = { 0, 1, 2 }, after_join_kill[] = { 0, 2 };
static const grp_view pair_view = {
	.vid = 0, .n_members = 2, .members = pair, .n_joined = 2, .joined = pair,
};
static const grp_view joins_2 = {
	.vid = 1, .n_members = 3, .members = pair_and_2, .n_joined = 1, .joined = member2,
};
static const grp_view kills_1 = {
	.vid = 2, .n_members = 2, .members = after_join_kill,
	.n_departed = 1, .departed = member1, .departed_reason = failed,
};
static const struct msg before_join[] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 1 } };
static const struct msg with_joiner[] = { { 0, 0, 2 }, { 2, 0, 0 }, { 1, 0, 1 } };
static const struct msg after_kill_of_1[] = { { 0, 0, 3 }, { 2, 0, 1 } };
static const struct msg after_kill_gap[] = { { 0, 0, 4 }, { 2, 0, 1 } };

/* What write_join_run breaks (all at the joiner, member 2). */
enum join_fault {
	JOIN_OK,
	JOINER_GAP,            /* d: skips sender 0's k = 3 */
	JOINER_SKIPS_VIEW,     /* a: logs view 3 (2's content) after 1, the group had 2 */
	JOINER_STARTS_LATE,    /* a: its first view is 2, which does not join it */
	JOINER_DELIVERS_EARLY, /* d: delivers view 0's first message before its view 1 */
	JOINER_OLD_VIEW,       /* d: delivers a message of view 0 in its view 1 */
};

static void write_join_run(const char *dir, enum join_fault fault)
{
	FILE *log[MEMBERS];
	for (unsigned r = 0; r < MEMBERS; r++)
		assert_non_null(log[r] = delivery_log_open(dir, r));
	for (unsigned r = 0; r < 2; r++) {
		delivery_log_view(log[r], &pair_view);
		write_messages(log[r], 0, before_join, COUNT(before_join));
	}
	if (fault == JOINER_DELIVERS_EARLY)
		write_messages(log[2], 0, before_join, 1);
	for (unsigned r = 0; r < MEMBERS; r++) {
		if (r == 2 && fault == JOINER_STARTS_LATE)
			continue;
		delivery_log_view(log[r], &joins_2);
		if (r == 2 && fault == JOINER_OLD_VIEW)
			write_messages(log[r], 0, before_join, 1);
		write_messages(log[r], 1, with_joiner, COUNT(with_joiner));
	}
	grp_view last = kills_1;
	delivery_log_view(log[0], &last);
	write_messages(log[0], 2, after_kill_of_1, COUNT(after_kill_of_1));
	if (fault == JOINER_SKIPS_VIEW)
		last.vid = 3;
	delivery_log_view(log[2], &last);
	write_messages(log[2], last.vid,
		       fault == JOINER_GAP ? after_kill_gap : after_kill_of_1, COUNT(after_kill_of_1));
	/* The joiner counts its own k from 0; sender 0's 4 include the 2 its
	 * state stands for. */
	assert_int_equal(delivery_log_accepted(dir, 0, 4), 0);
	assert_int_equal(delivery_log_accepted(dir, 2, 2), 0);
	for (unsigned r = 0; r < MEMBERS; r++)
		assert_int_equal(fclose(log[r]), 0);
}

static void check_join_run(enum join_fault fault, const char *mention)
{
	static const unsigned char killed_1[MEMBERS] = { 0, 1, 0 };
	const struct delivery_log_expect expect = {
		.sizes = { MAX_LEN, MAX_LEN }, .is_sender = all_send, .gone = killed_1,
	};
	char dir[] = "/tmp/grp-delivery-log-XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_join_run(dir, fault);
	check_dir(dir, MEMBERS, &expect, mention, (int)fault);
}

static void test_joiner_pass(void **state)
{
	(void)state;
	check_join_run(JOIN_OK, NULL);
}

static void test_joiner_gap(void **state)
{
	(void)state;
	check_join_run(JOINER_GAP, "member 2, view 2, delivery 0: not sender 0's message 3");
}

static void test_joiner_views_not_a_suffix(void **state)
{
	(void)state;
	check_join_run(JOINER_SKIPS_VIEW,
		       "member 2: view 3 follows view 1, skipping the group's view 2");
	check_join_run(JOINER_STARTS_LATE,
		       "member 2: its first view 2 does not join its node 2");
}

static void test_joiner_delivers_before_its_view(void **state)
{
	(void)state;
	check_join_run(JOINER_DELIVERS_EARLY, "member 2 line 1: a delivery before its first view");
	check_join_run(JOINER_OLD_VIEW, "member 2 line 2: a delivery of view 0 in view 1");
}

/* A view that departs member 1 and joins 2: the library gives the joiner
 * no departures (it was not in the view before), which passes; other
 * departures than the others' do not. */
static void test_joiner_first_view_departures(void **state)
{
	(void)state;
	static const unsigned char killed_1[MEMBERS] = { 0, 1, 0 };
	const struct delivery_log_expect expect = {
		.sizes = { MAX_LEN, MAX_LEN }, .is_sender = all_send, .gone = killed_1,
	};
	const grp_view swap = {
		.vid = 1, .n_members = 2, .members = after_join_kill, .n_joined = 1, .joined = member2,
		.n_departed = 1, .departed = member1, .departed_reason = failed,
	};
	static const struct msg first[] = { { 0, 0, 0 }, { 1, 0, 0 } },
				after[] = { { 0, 0, 1 }, { 2, 0, 0 } };
	for (int wrong = 0; wrong <= 1; wrong++) {
		char dir[] = "/tmp/grp-delivery-log-XXXXXX";
		assert_non_null(mkdtemp(dir));
		FILE *log[MEMBERS];
		for (unsigned r = 0; r < MEMBERS; r++)
			assert_non_null(log[r] = delivery_log_open(dir, r));
		for (unsigned r = 0; r < 2; r++) {
			delivery_log_view(log[r], &pair_view);
			write_messages(log[r], 0, first, r == 0 ? COUNT(first) : 1);
		}
		grp_view at_joiner = swap;
		if (wrong)
			at_joiner.departed_reason = left;
		else
			at_joiner.n_departed = 0;
		delivery_log_view(log[0], &swap);
		delivery_log_view(log[2], &at_joiner);
		for (unsigned r = 0; r < MEMBERS; r += 2)
			write_messages(log[r], 1, after, COUNT(after));
		assert_int_equal(delivery_log_accepted(dir, 0, 2), 0);
		assert_int_equal(delivery_log_accepted(dir, 2, 1), 0);
		for (unsigned r = 0; r < MEMBERS; r++)
			assert_int_equal(fclose(log[r]), 0);
		check_dir(dir, MEMBERS, &expect,
			  wrong ? "members 2 and 0 differ in the departures of view 1" : NULL, wrong);
	}
}

/* A process under a removed member's id: ranks 0, 1, 2 form the group with
 * node ids 0, 1, 2; rank 2 is killed and removed (view 1); rank 3 joins
 * under node id 2 (view 2) and sends its own messages, k from 0. */
static void write_rejoin_run(const char *dir)
{
	static const unsigned rejoined_ranks[] = { 0, 1, 3 };
	static const grp_view removes_2 = {
		.vid = 1, .n_members = 2, .members = pair,
		.n_departed = 1, .departed = member2, .departed_reason = failed,
	};
	static const grp_view rejoins_2 = {
		.vid = 2, .n_members = 3, .members = everyone, .n_joined = 1, .joined = member2,
	};
	static const struct msg first[] = { { 0, 0, 0 }, { 1, 0, 0 } }, between[] = { { 0, 0, 1 } },
				last[] = { { 2, 0, 0 }, { 0, 0, 2 }, { 1, 0, 1 } };
	FILE *log[4];
	for (unsigned r = 0; r < 4; r++)
		assert_non_null(log[r] = delivery_log_open(dir, r));
	for (unsigned r = 0; r < 3; r++) {
		delivery_log_view(log[r], &first_view);
		write_messages(log[r], 0, first, r == 2 ? 1 : COUNT(first));
	}
	for (unsigned r = 0; r < 2; r++) {
		delivery_log_view(log[r], &removes_2);
		write_messages(log[r], 1, between, COUNT(between));
	}
	for (unsigned i = 0; i < 3; i++) {
		unsigned r = rejoined_ranks[i];
		delivery_log_view(log[r], &rejoins_2);
		write_messages_by(log[r], 2, last, COUNT(last), rejoined_ranks);
	}
	assert_int_equal(delivery_log_accepted(dir, 0, 3), 0);
	assert_int_equal(delivery_log_accepted(dir, 1, 2), 0);
	assert_int_equal(delivery_log_accepted(dir, 3, 1), 0);
	for (unsigned r = 0; r < 4; r++)
		assert_int_equal(fclose(log[r]), 0);
}

static void test_rejoin_under_removed_id(void **state)
{
	(void)state;
	static const unsigned id_of_rank[] = { 0, 1, 2, 2 };
	static const unsigned char senders[] = { 1, 1, 0, 1 }, killed[] = { 0, 0, 1, 0 };
	struct delivery_log_expect expect = {
		.sizes = { MAX_LEN, MAX_LEN }, .is_sender = senders, .gone = killed,
		.id_of_rank = id_of_rank,
	};
	for (int mapped = 1; mapped >= 0; mapped--) {
		char dir[] = "/tmp/grp-delivery-log-XXXXXX";
		assert_non_null(mkdtemp(dir));
		write_rejoin_run(dir);
		expect.id_of_rank = mapped ? id_of_rank : NULL;
		/* Without the map, rank 3 is node 3, which its views do not hold. */
		check_dir(dir, 4, &expect,
			  mapped ? NULL : "member 3 logged view 2, which its node 3 is not a member",
			  mapped);
	}
}

/* The checker of logs without view lines, which the multicast tests write. */
static void test_logs_without_views(void **state)
{
	(void)state;
	static const struct msg epoch0[] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 1 } };
	static const struct msg epoch1[] = { { 1, 0, 1 }, { 0, 0, 2 }, { 1, 1, 2 } };
	for (size_t last_at_1 = COUNT(epoch1) - 1; last_at_1 <= COUNT(epoch1); last_at_1++) {
		char dir[] = "/tmp/grp-delivery-log-XXXXXX";
		assert_non_null(mkdtemp(dir));
		for (unsigned r = 0; r < 2; r++) {
			FILE *log = delivery_log_open(dir, r);
			assert_non_null(log);
			write_messages(log, 0, epoch0, COUNT(epoch0));
			write_messages(log, 1, epoch1, r == 1 ? last_at_1 : COUNT(epoch1));
			assert_int_equal(fclose(log), 0);
		}
		char err[512] = "";
		int rc = delivery_log_check(dir, 2, all_send, 3, &sizes, err, sizeof err);
		remove_run(dir, 2);
		if (last_at_1 == COUNT(epoch1)) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_not_equal(rc, 0);
			assert_non_null(strstr(err,
					       "view 1: member 1 delivered 2 messages, member 0 3"));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_and_resend_pass),
		cmocka_unit_test(test_views_differ),
		cmocka_unit_test(test_membership_arithmetic),
		cmocka_unit_test(test_same_messages_in_a_view),
		cmocka_unit_test(test_sender_order),
		cmocka_unit_test(test_accepted_all_delivered),
		cmocka_unit_test(test_per_sender_count),
		cmocka_unit_test(test_joiner_pass),
		cmocka_unit_test(test_joiner_gap),
		cmocka_unit_test(test_joiner_views_not_a_suffix),
		cmocka_unit_test(test_joiner_delivers_before_its_view),
		cmocka_unit_test(test_joiner_first_view_departures),
		cmocka_unit_test(test_rejoin_under_removed_id),
		cmocka_unit_test(test_logs_without_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
