#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <group/sst.h>

static void test_columns_are_8_byte_aligned(void **state)
{
	(void)state;
	grp_sst_layout l = { 0 };
	assert_int_equal(grp_sst_layout_add(&l, 1, 3), 0);
	assert_int_equal(grp_sst_layout_add(&l, 8, 2), 8);
	assert_int_equal(grp_sst_layout_add(&l, 4, 1), 24);
	assert_int_equal(grp_sst_layout_add(&l, 1, 1), 32);
	assert_int_equal(l.row_bytes, 33);
}

static void test_oversized_columns_rejected(void **state)
{
	(void)state;
	grp_sst_layout l = { 0 };
	assert_int_equal(grp_sst_layout_add(&l, 8, 1), 0);
	assert_true(grp_sst_layout_add(&l, SIZE_MAX / 2, 4) == (size_t)-1);
	assert_true(grp_sst_layout_add(&l, (size_t)1 << 30, 1) == (size_t)-1);
	assert_true(grp_sst_layout_add(&l, 0, 1) == (size_t)-1);
	assert_true(grp_sst_layout_add(NULL, 8, 1) == (size_t)-1);
	assert_int_equal(l.row_bytes, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns_are_8_byte_aligned),
		cmocka_unit_test(test_oversized_columns_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
