/* Unit attentions: power on once per nexus identity, which commands report
 * them and which leave them pending, REQUEST SENSE, LU reset, UAs for
 * nexuses that are logged out or were never seen, the bounded queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

static const uint8_t tur[6] = {PRK_OP_TEST_UNIT_READY};

static void expect_ua(struct lt_ctx *t, const struct prk_nexus *nx, uint16_t asc)
{
	struct lt_res r = lt_in(t, nx, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, asc);
}

static void expect_none(struct lt_ctx *t, const struct prk_nexus *nx)
{
	struct lt_res r = lt_in(t, nx, tur, 6, 0);
	lt_assert_good(&r);
}

static void test_power_on_once(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_nexus_up(t->lu, &t->c);
	expect_ua(t, &t->c, PRK_ASC_POWER_ON_RESET);
	expect_none(t, &t->c);
	prk_lu_nexus_down(t->lu, &t->c);
	prk_lu_nexus_up(t->lu, &t->c);
	expect_none(t, &t->c);
	/* another ISID of the same name is another I_T nexus */
	struct prk_nexus c2;
	assert_int_equal(prk_nexus_init(&c2, LT_NAME_C, 0x99, 1), 0);
	prk_lu_nexus_up(t->lu, &c2);
	expect_ua(t, &c2, PRK_ASC_POWER_ON_RESET);
	/* as is another target port */
	struct prk_nexus c3;
	assert_int_equal(prk_nexus_init(&c3, LT_NAME_C, 0x99, 2), 0);
	prk_lu_nexus_up(t->lu, &c3);
	expect_ua(t, &c3, PRK_ASC_POWER_ON_RESET);
}

static void test_inquiry_keeps_ua(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_nexus_up(t->lu, &t->c);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 36, 0};
	struct lt_res r = lt_in(t, &t->c, inq, 6, 36);
	lt_assert_good(&r);
	lt_res_free(&r);
	/* REPORT LUNS is not the LU's, but it must not eat the UA either */
	uint8_t rl[12] = {PRK_OP_REPORT_LUNS};
	r = lt_in(t, &t->c, rl, 12, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	expect_ua(t, &t->c, PRK_ASC_POWER_ON_RESET);
}

static void test_request_sense(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 252, 0};
	prk_lu_nexus_up(t->lu, &t->c);
	struct lt_res r = lt_in(t, &t->c, rs, 6, 252);
	lt_assert_good(&r);
	assert_int_equal(r.len, 18);
	assert_int_equal(r.data[0], 0x70);
	assert_int_equal(r.data[2], PRK_SK_UNIT_ATTENTION);
	assert_int_equal(r.data[12], 0x29);
	assert_int_equal(r.data[13], 0x00);
	lt_res_free(&r);
	expect_none(t, &t->c);
	r = lt_in(t, &t->c, rs, 6, 252);
	lt_assert_good(&r);
	assert_int_equal(r.data[2], PRK_SK_NO_SENSE);
	assert_int_equal(r.data[12], 0);
	lt_res_free(&r);
	/* DESC=1: descriptor format */
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	rs[1] = 1;
	r = lt_in(t, &t->c, rs, 6, 252);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8);
	static const uint8_t want[] = {0x72, 0x06, 0x2a, 0x09, 0, 0, 0, 0};
	assert_memory_equal(r.data, want, 8);
	lt_res_free(&r);
	/* allocation length 0: nothing transferred, UA still consumed */
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	rs[4] = 0;
	r = lt_in(t, &t->c, rs, 6, 0);
	lt_assert_good(&r);
	assert_int_equal(r.len, 0);
	expect_none(t, &t->c);
	expect_ua(t, &t->a, PRK_ASC_CAPACITY_DATA_CHANGED);
}

static void test_ua_before_everything(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	uint8_t bad[6] = {0xc0};
	struct lt_res r = lt_in(t, &t->a, bad, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_CAPACITY_DATA_CHANGED);
	r = lt_in(t, &t->a, bad, 6, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	assert_false(r.sense.sksv);
	/* b's READ: the UA, not the data */
	uint8_t rd[10];
	lt_cdb10(rd, PRK_OP_READ10, 0, 0, 1);
	r = lt_in(t, &t->b, rd, 10, 512);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_CAPACITY_DATA_CHANGED);
	assert_int_equal(r.len, 0);
}

static void test_reset(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_queue_ua_all(t->lu, PRK_ASC_MODE_PARAMETERS_CHANGED);
	prk_lu_reset(t->lu);
	/* 29h first, then the older one */
	expect_ua(t, &t->a, PRK_ASC_BUS_DEVICE_RESET);
	expect_ua(t, &t->a, PRK_ASC_MODE_PARAMETERS_CHANGED);
	expect_none(t, &t->a);
	expect_ua(t, &t->b, PRK_ASC_BUS_DEVICE_RESET);
}

static void test_logged_out_keeps_ua(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_nexus_down(t->lu, &t->b);
	prk_lu_queue_ua_all(t->lu, PRK_ASC_REPORTED_LUNS_DATA_CHANGED);
	prk_lu_nexus_up(t->lu, &t->b);
	expect_ua(t, &t->b, PRK_ASC_REPORTED_LUNS_DATA_CHANGED);
	expect_none(t, &t->b);
}

static void test_set_ua_for_unseen(void **state)
{
	struct lt_ctx *t = *state;
	/* exact nexus c, never logged in */
	struct prk_nexus_set s = {.nx = t->c};
	prk_lu_queue_ua(t->lu, &s, NULL, PRK_ASC_REGISTRATIONS_PREEMPTED);
	expect_none(t, &t->a);
	prk_lu_nexus_up(t->lu, &t->c);
	expect_ua(t, &t->c, PRK_ASC_POWER_ON_RESET);
	expect_ua(t, &t->c, PRK_ASC_REGISTRATIONS_PREEMPTED);
	expect_none(t, &t->c);
	/* any ISID, any port of name C */
	struct prk_nexus_set any = {.nx = t->c, .any_isid = true, .any_port = true};
	prk_lu_queue_ua(t->lu, &any, NULL, PRK_ASC_RESERVATIONS_RELEASED);
	expect_ua(t, &t->c, PRK_ASC_RESERVATIONS_RELEASED);
	struct prk_nexus c9;
	assert_int_equal(prk_nexus_init(&c9, LT_NAME_C, 0x1234, 3), 0);
	prk_lu_nexus_up(t->lu, &c9);
	expect_ua(t, &c9, PRK_ASC_POWER_ON_RESET);
	expect_ua(t, &c9, PRK_ASC_RESERVATIONS_RELEASED);
	expect_none(t, &c9);
	/* "except" skips the sender */
	struct prk_nexus_set all = {.everyone = true};
	prk_lu_queue_ua(t->lu, &all, &t->a, PRK_ASC_RESERVATIONS_PREEMPTED);
	expect_none(t, &t->a);
	expect_ua(t, &t->b, PRK_ASC_RESERVATIONS_PREEMPTED);
}

static void test_queue_bound_and_dedupe(void **state)
{
	struct lt_ctx *t = *state;
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	expect_ua(t, &t->a, PRK_ASC_CAPACITY_DATA_CHANGED);
	expect_none(t, &t->a);
	for (unsigned i = 0; i < 20; i++)
		prk_lu_queue_ua_all(t->lu, (uint16_t)(0x3f00 | i));
	for (unsigned i = 0; i < 16; i++)
		expect_ua(t, &t->a, (uint16_t)(0x3f00 | i));
	expect_none(t, &t->a);
}

static void test_many_nexuses(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_nexus *nx = calloc(300, sizeof(*nx));
	for (unsigned i = 0; i < 300; i++) {
		assert_int_equal(prk_nexus_init(&nx[i], LT_NAME_C, 0x1000 + i, 1), 0);
		prk_lu_nexus_up(t->lu, &nx[i]);
	}
	for (unsigned i = 0; i < 300; i++)
		expect_ua(t, &nx[i], PRK_ASC_POWER_ON_RESET);
	prk_lu_queue_ua_all(t->lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	for (unsigned i = 0; i < 300; i++) {
		expect_ua(t, &nx[i], PRK_ASC_CAPACITY_DATA_CHANGED);
		expect_none(t, &nx[i]);
	}
	free(nx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_power_on_once, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_inquiry_keeps_ua, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_request_sense, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_ua_before_everything, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_reset, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_logged_out_keeps_ua, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_set_ua_for_unseen, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_bound_and_dedupe, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_many_nexuses, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
