/* PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE through the LU: the access
 * check in the command path, PR-driven unit attentions, SPC-2 reservations
 * and nexus loss, "PR information lost". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

#define KEY_A 0xaaaa0000000000a1ULL
#define KEY_B 0xbbbb0000000000b2ULL

static struct lt_res prout(struct lt_ctx *t, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
                           uint64_t key, uint64_t sa_key)
{
	struct prk_prout_cdb pc = {.sa = sa, .scope = 0, .type = type, .param_len = 24};
	uint8_t c[10], p[24];
	prk_prout_cdb_encode(&pc, c);
	assert_int_equal(prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, p, 24),
	                 24);
	return lt_out(t, nx, c, 10, p, 24);
}

static void prout_ok(struct lt_ctx *t, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
                     uint64_t key, uint64_t sa_key)
{
	struct lt_res r = prout(t, nx, sa, type, key, sa_key);
	lt_assert_good(&r);
}

static struct lt_res write1(struct lt_ctx *t, const struct prk_nexus *nx)
{
	uint8_t c[10], blk[512] = {0};
	lt_cdb10(c, PRK_OP_WRITE10, 0, 0, 1);
	return lt_out(t, nx, c, 10, blk, 512);
}

static struct lt_res read1(struct lt_ctx *t, const struct prk_nexus *nx)
{
	uint8_t c[10];
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	return lt_in(t, nx, c, 10, 512);
}

static void test_read_keys(void **state)
{
	struct lt_ctx *t = *state;
	prout_ok(t, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A);
	prout_ok(t, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B);
	struct prk_prin_cdb ic = {.sa = PRK_PRIN_READ_KEYS, .alloc_len = 64};
	uint8_t c[10];
	prk_prin_cdb_encode(&ic, c);
	struct lt_res r = lt_in(t, &t->a, c, 10, 64);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8 + 16);
	assert_int_equal(lt_get32(r.data), 2); /* PRgeneration */
	assert_int_equal(lt_get32(r.data + 4), 16);
	assert_int_equal(lt_get64(r.data + 8), KEY_A);
	assert_int_equal(lt_get64(r.data + 16), KEY_B);
	lt_res_free(&r);
	/* truncated by EDTL */
	r = lt_in(t, &t->a, c, 10, 12);
	lt_assert_good(&r);
	assert_int_equal(r.len, 12);
	lt_res_free(&r);
	/* bad service action */
	c[1] = 0x1f;
	r = lt_in(t, &t->a, c, 10, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
}

static void test_conflict_under_ea(void **state)
{
	struct lt_ctx *t = *state;
	prout_ok(t, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A);
	prout_ok(t, &t->a, PRK_PROUT_RESERVE, PRK_PR_EA, KEY_A, 0);
	struct lt_res r = write1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(r.sense_len, 0);
	r = read1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(r.len, 0);
	/* always-allowed commands still run */
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 36, 0};
	r = lt_in(t, &t->b, inq, 6, 36);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t tur[6] = {0};
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_good(&r);
	/* the holder writes */
	r = write1(t, &t->a);
	lt_assert_good(&r);
	/* a pending UA wins over the conflict */
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	r = write1(t, &t->b);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_CAPACITY_DATA_CHANGED);
	r = write1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
}

static void test_write_exclusive(void **state)
{
	struct lt_ctx *t = *state;
	prout_ok(t, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A);
	prout_ok(t, &t->a, PRK_PROUT_RESERVE, PRK_PR_WE, KEY_A, 0);
	struct lt_res r = read1(t, &t->b);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = write1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
}

static void test_preempt_ua(void **state)
{
	struct lt_ctx *t = *state;
	prout_ok(t, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A);
	prout_ok(t, &t->a, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KEY_A, 0);
	prout_ok(t, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B);
	prout_ok(t, &t->b, PRK_PROUT_PREEMPT, PRK_PR_WE_RO, KEY_B, KEY_A);
	/* the preempted nexus learns on its next command */
	struct lt_res r = read1(t, &t->a);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_REGISTRATIONS_PREEMPTED);
	/* and is now unregistered: WE-RO keeps it from writing */
	r = write1(t, &t->a);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	/* the sender gets nothing */
	r = write1(t, &t->b);
	lt_assert_good(&r);
}

static void test_release_ua_and_errors(void **state)
{
	struct lt_ctx *t = *state;
	prout_ok(t, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A);
	prout_ok(t, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B);
	prout_ok(t, &t->a, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KEY_A, 0);
	prout_ok(t, &t->a, PRK_PROUT_RELEASE, PRK_PR_WE_RO, KEY_A, 0);
	struct lt_res r = read1(t, &t->b);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_RESERVATIONS_RELEASED);
	/* wrong key: conflict */
	r = prout(t, &t->a, PRK_PROUT_RESERVE, PRK_PR_WE, KEY_B, 0);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	/* short parameter list */
	struct prk_prout_cdb pc = {.sa = PRK_PROUT_REGISTER, .param_len = 24};
	uint8_t c[10], p[24] = {0};
	prk_prout_cdb_encode(&pc, c);
	r = lt_out(t, &t->a, c, 10, p, 20);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* bad type */
	r = prout(t, &t->a, PRK_PROUT_RESERVE, 0x2, KEY_A, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, 3);
}

static void test_spc2_reserve(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t res6[6] = {PRK_OP_RESERVE6}, rel6[6] = {PRK_OP_RELEASE6};
	struct lt_res r = lt_in(t, &t->a, res6, 6, 0);
	lt_assert_good(&r);
	r = write1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	r = lt_in(t, &t->b, res6, 6, 0);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	r = write1(t, &t->a);
	lt_assert_good(&r);
	r = lt_in(t, &t->a, rel6, 6, 0);
	lt_assert_good(&r);
	r = write1(t, &t->b);
	lt_assert_good(&r);
	/* EXTENT bit */
	res6[1] = 0x01;
	r = lt_in(t, &t->a, res6, 6, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 0);
	/* RESERVE(10), then nexus loss releases it */
	uint8_t res10[10] = {PRK_OP_RESERVE10};
	r = lt_in(t, &t->a, res10, 10, 0);
	lt_assert_good(&r);
	r = read1(t, &t->b);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	prk_lu_nexus_down(t->lu, &t->a);
	r = read1(t, &t->b);
	lt_assert_good(&r);
	lt_res_free(&r);
	/* and a LU reset releases one too */
	prk_lu_nexus_up(t->lu, &t->a);
	r = lt_in(t, &t->a, res10, 10, 0);
	lt_assert_good(&r);
	prk_lu_reset(t->lu);
	r = read1(t, &t->b);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_BUS_DEVICE_RESET);
	r = read1(t, &t->b);
	lt_assert_good(&r);
	lt_res_free(&r);
}

static void test_lost(void **state)
{
	struct lt_ctx *t = *state;
	prk_pr_mark_lost(prk_lu_pr(t->lu));
	struct lt_res r = read1(t, &t->a);
	lt_assert_sense(&r, PRK_SK_HARDWARE_ERROR, PRK_ASC_PR_INFORMATION_LOST);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 36, 0};
	r = lt_in(t, &t->a, inq, 6, 36);
	lt_assert_good(&r);
	lt_res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_keys, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_conflict_under_ea, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_exclusive, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_preempt_ua, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_release_ua_and_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_spc2_reserve, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_lost, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
