/* READ DEFECT DATA(10/12) (SBC-4 5.18/5.19): a virtual LU has no defects,
 * so both lists are valid and empty in any defined format; the header
 * echoes the request, the reserved format is 24/00, truncation follows
 * ALLOCATION LENGTH; listed by REPORT SUPPORTED OPERATION CODES. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"

static struct lt_res rdd10(struct lt_ctx *t, uint8_t req, uint16_t alloc)
{
	uint8_t c[10] = {PRK_OP_READ_DEFECT10, 0, req};
	lt_put16(c + 7, alloc);
	return lt_in(t, &t->a, c, 10, alloc);
}

static struct lt_res rdd12(struct lt_ctx *t, uint8_t req, uint32_t index, uint32_t alloc)
{
	uint8_t c[12] = {PRK_OP_READ_DEFECT12, req};
	lt_put32(c + 2, index);
	lt_put32(c + 6, alloc);
	return lt_in(t, &t->a, c, 12, alloc);
}

static void test_rdd10_empty_lists(void **state)
{
	struct lt_ctx *t = *state;
	/* the libiscsi call: nothing requested, short block format */
	struct lt_res r = rdd10(t, 0, 32);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4);
	assert_int_equal(r.data[1], 0x00);
	assert_int_equal(lt_get16(r.data + 2), 0);
	lt_res_free(&r);
	/* PLIST and GLIST in every defined format: valid, empty, same format */
	for (uint8_t f = 0; f < 7; f++) {
		r = rdd10(t, (uint8_t)(0x18 | f), 512);
		lt_assert_good(&r);
		assert_int_equal(r.len, 4);
		assert_int_equal(r.data[1], 0x18 | f);
		assert_int_equal(lt_get16(r.data + 2), 0);
		lt_res_free(&r);
	}
	r = rdd10(t, 0x10 | 3, 512); /* PLIST only */
	lt_assert_good(&r);
	assert_int_equal(r.data[1], 0x10 | 3);
	lt_res_free(&r);
	/* truncated to ALLOCATION LENGTH; 0 transfers nothing */
	r = rdd10(t, 0x18, 2);
	lt_assert_good(&r);
	assert_int_equal(r.len, 2);
	lt_res_free(&r);
	r = rdd10(t, 0x18, 0);
	lt_assert_good(&r);
	assert_int_equal(r.len, 0);
	lt_res_free(&r);
}

static void test_rdd12_empty_lists(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = rdd12(t, 0, 0, 32);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8);
	assert_int_equal(r.data[1], 0);
	assert_int_equal(lt_get16(r.data + 2), 0); /* GENERATION CODE: not supported */
	assert_int_equal(lt_get32(r.data + 4), 0);
	lt_res_free(&r);
	r = rdd12(t, 0x18 | 5, 1000, 64);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8);
	assert_int_equal(r.data[1], 0x18 | 5);
	assert_int_equal(lt_get32(r.data + 4), 0);
	lt_res_free(&r);
}

static void test_rdd_errors_and_rsoc(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = rdd10(t, 0x18 | 7, 32); /* reserved format */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, 2);
	r = rdd12(t, 0x07, 0, 32);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 2);
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_READ_DEFECT10, -1));
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_READ_DEFECT12, -1));
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x01,
	                 PRK_OP_READ_DEFECT12};
	lt_put32(c + 6, 64);
	r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 0x07, 0x03);
	assert_int_equal(lt_get16(r.data + 2), 12);
	lt_res_free(&r);
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

/* Read-like: it runs on a read-only LU. */
static void test_rdd_on_readonly(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = rdd10(t, 0x18, 32);
	lt_assert_good(&r);
	lt_res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rdd10_empty_lists, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rdd12_empty_lists, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rdd_errors_and_rsoc, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rdd_on_readonly, lt_setup_ro, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
