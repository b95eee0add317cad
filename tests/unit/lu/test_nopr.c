/* An SPC-2 LU (cfg.no_pr): PERSISTENT RESERVE IN/OUT are unsupported
 * opcodes (20/00), REPORT SUPPORTED OPERATION CODES does not list them, and
 * RESERVE/RELEASE (6 and 10) keep working. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"

static int setup_nopr(void **state)
{
	struct prk_lu_config cfg = {0};
	cfg.block_size = 512;
	cfg.num_blocks = LT_BLOCKS;
	cfg.write_cache = true;
	cfg.no_pr = true;
	*state = lt_new(&cfg);
	return 0;
}

static struct lt_res prin_read_keys(struct lt_ctx *t)
{
	uint8_t c[10] = {PRK_OP_PR_IN, 0x00, 0, 0, 0, 0, 0, 0, 64, 0};
	return lt_in(t, &t->a, c, 10, 64);
}

static struct lt_res prout_register(struct lt_ctx *t)
{
	uint8_t c[10] = {PRK_OP_PR_OUT, 0x00, 0, 0, 0, 0, 0, 0, 24, 0};
	uint8_t p[24] = {0};
	lt_put64(p + 8, 0x1234); /* SERVICE ACTION RESERVATION KEY */
	return lt_out(t, &t->a, c, 10, p, 24);
}

static void test_pr_refused(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = prin_read_keys(t);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	assert_false(r.sense.sksv);
	r = prout_register(t);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	assert_false(r.sense.sksv);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 0);
	assert_false(prk_lu_cmd_supported(t->lu, PRK_OP_PR_IN, -1));
	assert_false(prk_lu_cmd_supported(t->lu, PRK_OP_PR_OUT, -1));
}

/* The same commands on a LU with persistent reservations (the default). */
static void test_pr_default(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = prin_read_keys(t);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = prout_register(t);
	lt_assert_good(&r);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 1);
}

static struct lt_res read1(struct lt_ctx *t, const struct prk_nexus *nx)
{
	uint8_t c[10];
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	return lt_in(t, nx, c, 10, 512);
}

static void test_reserve_release(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t res6[6] = {PRK_OP_RESERVE6}, rel6[6] = {PRK_OP_RELEASE6};
	uint8_t res10[10] = {PRK_OP_RESERVE10}, rel10[10] = {PRK_OP_RELEASE10};
	struct lt_res r = lt_in(t, &t->a, res6, 6, 0);
	lt_assert_good(&r);
	r = read1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	r = lt_in(t, &t->b, res6, 6, 0);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	r = read1(t, &t->a);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = lt_in(t, &t->a, rel6, 6, 0);
	lt_assert_good(&r);
	r = read1(t, &t->b);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = lt_in(t, &t->b, res10, 10, 0);
	lt_assert_good(&r);
	r = read1(t, &t->a);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	r = lt_in(t, &t->b, rel10, 10, 0);
	lt_assert_good(&r);
	r = read1(t, &t->a);
	lt_assert_good(&r);
	lt_res_free(&r);
}

/* Opcodes REPORT SUPPORTED OPERATION CODES lists (all commands format). */
static void listed_ops(struct lt_ctx *t, bool seen[256])
{
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES};
	lt_put32(c + 6, 4096);
	struct lt_res r = lt_in(t, &t->a, c, 12, 4096);
	lt_assert_good(&r);
	uint32_t len = lt_get32(r.data);
	memset(seen, 0, 256 * sizeof(seen[0]));
	for (uint32_t off = 4; off < 4 + len; off += 8)
		seen[r.data[off]] = true;
	lt_res_free(&r);
}

static uint8_t support_of(struct lt_ctx *t, uint8_t op)
{
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x01, op};
	lt_put32(c + 6, 64);
	struct lt_res r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	uint8_t support = r.data[1] & 0x07;
	lt_res_free(&r);
	return support;
}

static void test_rsoc(void **state)
{
	struct lt_ctx *t = *state;
	bool seen[256];
	listed_ops(t, seen);
	assert_false(seen[PRK_OP_PR_IN]);
	assert_false(seen[PRK_OP_PR_OUT]);
	assert_true(seen[PRK_OP_RESERVE6]);
	assert_true(seen[PRK_OP_RELEASE6]);
	assert_true(seen[PRK_OP_RESERVE10]);
	assert_true(seen[PRK_OP_RELEASE10]);
	assert_int_equal(support_of(t, PRK_OP_PR_IN), 1); /* not supported */
	assert_int_equal(support_of(t, PRK_OP_PR_OUT), 1);
	assert_int_equal(support_of(t, PRK_OP_RESERVE6), 3);
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

static void test_rsoc_default(void **state)
{
	struct lt_ctx *t = *state;
	bool seen[256];
	listed_ops(t, seen);
	assert_true(seen[PRK_OP_PR_IN]);
	assert_true(seen[PRK_OP_PR_OUT]);
	assert_int_equal(support_of(t, PRK_OP_PR_IN), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pr_refused, setup_nopr, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_pr_default, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_reserve_release, setup_nopr, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc, setup_nopr, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_default, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
