/* The data plane's admission, over the tcp provider on loopback in one
 * process: a connection request without the token announced for its node
 * id is refused, one with it is accepted; memory-region keys are random
 * where the provider lets us choose them; a write with a guessed key lands
 * nothing and fails the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <group/error.h>

#include "clock.h"
#include "fabric.h"

#define GROUP 0x5eed5eed5eed5eedu
#define TOKEN 0x1234567890abcdefu
#define WAIT_MS 10000u
#define REGION 4096u

struct fixture {
	struct fab_domain *a, *b, *stranger;
	uint8_t *mem;
	struct fab_mr *mr;
};

static struct fab_domain *open_domain(unsigned id)
{
	struct fab_params p = { .provider = "tcp", .address = "127.0.0.1", .group_id = GROUP,
				.my_id = id, .stall_timeout_ms = WAIT_MS };
	struct fab_domain *d = NULL;
	int rc = fab_domain_open(&p, &d);
	if (rc == GRP_EPROVIDER)
		skip();
	assert_int_equal(rc, 0);
	return d;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->a = open_domain(0);
	f->b = open_domain(1);
	f->stranger = open_domain(1);
	f->mem = aligned_alloc(4096, REGION);
	memset(f->mem, 0, REGION);
	assert_int_equal(fab_mr_reg(f->a, f->mem, REGION, &f->mr), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fab_mr_close(f->mr);
	fab_domain_close(f->stranger);
	fab_domain_close(f->b);
	fab_domain_close(f->a);
	free(f->mem);
	free(f);
	return 0;
}

typedef bool (*condition)(struct fixture *f);

/* Drives every domain until cond holds; false at the deadline. */
static bool progress_until(struct fixture *f, condition cond)
{
	uint64_t deadline = clock_deadline_ms(WAIT_MS);
	while (!cond(f)) {
		if (clock_ms_left(deadline) == 0)
			return false;
		fab_progress(f->a);
		fab_progress(f->b);
		fab_progress(f->stranger);
	}
	return true;
}

static bool stranger_refused(struct fixture *f)
{
	return fab_peer_failed(f->stranger, 0);
}

static bool b_connected(struct fixture *f)
{
	return fab_peer_connected(f->a, 1) && fab_peer_connected(f->b, 0);
}

static bool b_write_failed(struct fixture *f)
{
	return fab_peer_failed(f->b, 0);
}

static void connect_to_a(struct fab_domain *from, struct fab_domain *a, uint64_t token)
{
	uint8_t name[FAB_ADDR_MAX];
	size_t len;
	assert_int_equal(fab_listen_name(a, name, &len), 0);
	assert_int_equal(fab_peer_connect(from, 0, name, len, token), 0);
}

static void test_request_without_announced_token_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(fab_peer_expect(f->a, 1, TOKEN), 0);
	connect_to_a(f->stranger, f->a, TOKEN ^ 1);
	assert_true(progress_until(f, stranger_refused));
	assert_false(fab_peer_connected(f->a, 1));
	connect_to_a(f->b, f->a, TOKEN);
	assert_true(progress_until(f, b_connected));
}

/* Two registrations in a row do not get neighbouring keys (the old
 * counter's), nor the same one. */
static void test_region_keys_unpredictable(void **state)
{
	struct fixture *f = *state;
	uint8_t other[64];
	struct fab_mr *mr;
	assert_int_equal(fab_mr_reg(f->a, other, sizeof other, &mr), 0);
	uint64_t k1 = fab_mr_remote(f->mr).key, k2 = fab_mr_remote(mr).key;
	fab_mr_close(mr);
	uint64_t gap = k1 > k2 ? k1 - k2 : k2 - k1;
	assert_true(gap > 1000000u);
}

static void test_write_with_guessed_key_fails(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(fab_peer_expect(f->a, 1, TOKEN), 0);
	connect_to_a(f->b, f->a, TOKEN);
	assert_true(progress_until(f, b_connected));
	uint8_t *src = aligned_alloc(4096, REGION);
	memset(src, 0xab, REGION);
	struct fab_mr *local;
	assert_int_equal(fab_mr_reg(f->b, src, REGION, &local), 0);
	struct fab_remote_region guessed = fab_mr_remote(f->mr);
	guessed.key ^= 0x1;
	/* Small writes are injected: the post succeeds, the target refuses. */
	fab_write(f->b, 0, local, 0, &guessed, 0, 64, 0);
	fab_write(f->b, 0, local, 0, &guessed, 0, REGION, 0);
	assert_true(progress_until(f, b_write_failed));
	for (unsigned i = 0; i < REGION; i++)
		assert_int_equal(f->mem[i], 0);
	fab_mr_close(local);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_without_announced_token_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_region_keys_unpredictable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_with_guessed_key_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
