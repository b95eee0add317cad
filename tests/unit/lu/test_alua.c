/* Asymmetric logical unit access: the port group table, REPORT TARGET PORT
 * GROUPS listing every group with its current state (both header formats),
 * the access check of ports in standby and unavailable state (exact sense
 * key / ASC / ASCQ), and the 2A/06 unit attention on a state change. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

/* Four ports, one per state: (tpg, rtpi) = (7, 1) active/optimized, (8, 2)
 * active/non-optimized, (9, 3) standby, (10, 4) unavailable. */
struct alua_ctx {
	struct lt_ctx *t;
	struct prk_lu_port_groups tpgs;
	struct prk_nexus nx[5]; /* nx[i]: host C's nexus through rtpi i */
};

static int setup(void **state)
{
	struct alua_ctx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	lt_setup((void **)&x->t);
	assert_int_equal(prk_lu_port_groups_add(&x->tpgs, 7, 1, PRK_LU_ALUA_ACTIVE_OPTIMIZED), 0);
	assert_int_equal(prk_lu_port_groups_add(&x->tpgs, 8, 2, PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED),
	                 0);
	assert_int_equal(prk_lu_port_groups_add(&x->tpgs, 9, 3, PRK_LU_ALUA_STANDBY), 0);
	assert_int_equal(prk_lu_port_groups_add(&x->tpgs, 10, 4, PRK_LU_ALUA_UNAVAILABLE), 0);
	assert_int_equal(x->tpgs.n_restricted, 2);
	prk_lu_set_port_groups(x->t->lu, &x->tpgs);
	for (uint16_t i = 1; i <= 4; i++) {
		assert_int_equal(prk_nexus_init(&x->nx[i], LT_NAME_C, 0x400001370009ULL, i), 0);
		lt_login(x->t, &x->nx[i]); /* the power-on UA comes before the ALUA check */
	}
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct alua_ctx *x = *state;
	lt_free(x->t);
	free(x);
	return 0;
}

/* Commands go through port rtpi (group tpg = rtpi + 6, as in setup). */
static void via(struct alua_ctx *x, uint16_t rtpi)
{
	x->t->port.rtpi = rtpi;
	x->t->port.tpg = (uint16_t)(rtpi + 6);
	x->t->port.tpgt = rtpi;
}

static struct lt_res run(struct alua_ctx *x, uint16_t rtpi, const uint8_t *cdb, size_t len,
                         uint32_t edtl)
{
	via(x, rtpi);
	return lt_in(x->t, &x->nx[rtpi], cdb, len, edtl);
}

static struct lt_res rtpg(struct alua_ctx *x, uint16_t rtpi, bool ext, uint32_t alloc)
{
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_TARGET_PGS | (ext ? 0x20 : 0)};
	lt_put32(c + 6, alloc);
	return run(x, rtpi, c, 12, alloc);
}

/* One target port group descriptor: state, supported states, group, one
 * target port. */
static void assert_group(const uint8_t *g, uint8_t state, uint16_t tpg, uint16_t rtpi)
{
	assert_int_equal(g[0], state); /* PREF 0 */
	assert_int_equal(g[1], 0x8f);  /* T_SUP U_SUP S_SUP AN_SUP AO_SUP */
	assert_int_equal(lt_get16(g + 2), tpg);
	assert_int_equal(g[5], 0); /* STATUS CODE */
	assert_int_equal(g[7], 1); /* TARGET PORT COUNT */
	assert_int_equal(lt_get16(g + 10), rtpi);
}

static void test_rtpg_lists_every_group(void **state)
{
	struct alua_ctx *x = *state;
	struct lt_res r = rtpg(x, 1, false, 1024);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4 + 4 * 12);
	assert_int_equal(lt_get32(r.data), 4 * 12);
	assert_group(r.data + 4, PRK_LU_ALUA_ACTIVE_OPTIMIZED, 7, 1);
	assert_group(r.data + 16, PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED, 8, 2);
	assert_group(r.data + 28, PRK_LU_ALUA_STANDBY, 9, 3);
	assert_group(r.data + 40, PRK_LU_ALUA_UNAVAILABLE, 10, 4);
	lt_res_free(&r);

	/* Extended header (PARAMETER DATA FORMAT 001b): the same list after
	 * 8 bytes; RETURN DATA LENGTH counts everything after itself. */
	r = rtpg(x, 2, true, 1024);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8 + 4 * 12);
	assert_int_equal(lt_get32(r.data), 4 + 4 * 12);
	assert_int_equal(r.data[4], 0x10); /* FORMAT TYPE 001b */
	assert_int_equal(r.data[5], 0);    /* IMPLICIT TRANSITION TIME */
	assert_group(r.data + 8, PRK_LU_ALUA_ACTIVE_OPTIMIZED, 7, 1);
	assert_group(r.data + 20, PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED, 8, 2);
	assert_group(r.data + 32, PRK_LU_ALUA_STANDBY, 9, 3);
	assert_group(r.data + 44, PRK_LU_ALUA_UNAVAILABLE, 10, 4);
	lt_res_free(&r);

	/* Truncated at the allocation length, the length field unchanged. */
	r = rtpg(x, 1, false, 16);
	lt_assert_good(&r);
	assert_int_equal(r.len, 16);
	assert_int_equal(lt_get32(r.data), 4 * 12);
	lt_res_free(&r);
}

static void test_rtpg_current_state(void **state)
{
	struct alua_ctx *x = *state;
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_ACTIVE_OPTIMIZED), 1);
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 1, PRK_LU_ALUA_STANDBY), 1);
	struct lt_res r = rtpg(x, 3, false, 1024);
	lt_assert_good(&r);
	assert_group(r.data + 4, PRK_LU_ALUA_STANDBY, 7, 1);
	assert_group(r.data + 28, PRK_LU_ALUA_ACTIVE_OPTIMIZED, 9, 3);
	lt_res_free(&r);

	/* A removed port's group is gone; the others keep their order. */
	prk_lu_port_groups_remove(&x->tpgs, 2);
	r = rtpg(x, 3, false, 1024);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data), 3 * 12);
	assert_group(r.data + 4, PRK_LU_ALUA_STANDBY, 7, 1);
	assert_group(r.data + 16, PRK_LU_ALUA_ACTIVE_OPTIMIZED, 9, 3);
	assert_group(r.data + 28, PRK_LU_ALUA_UNAVAILABLE, 10, 4);
	lt_res_free(&r);

	/* The port the command came through is always listed, even when the
	 * table does not know it (active/optimized then). */
	r = rtpg(x, 2, false, 1024);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data), 4 * 12);
	assert_group(r.data + 40, PRK_LU_ALUA_ACTIVE_OPTIMIZED, 8, 2);
	lt_res_free(&r);
}

static void test_standby(void **state)
{
	struct alua_ctx *x = *state;
	uint8_t c[16];
	struct lt_res r;

	/* Refused: medium access, TEST UNIT READY, RESERVE(6). */
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	r = run(x, 3, c, 10, 512);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);
	assert_int_equal(r.sense_raw[2] & 0x0f, 0x02);
	assert_int_equal(r.sense_raw[12], 0x04);
	assert_int_equal(r.sense_raw[13], 0x0b);
	lt_cdb10(c, PRK_OP_WRITE10, 0, 0, 0);
	r = run(x, 3, c, 10, 0);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);
	memset(c, 0, sizeof(c));
	r = run(x, 3, c, 6, 0); /* TEST UNIT READY */
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);
	c[0] = PRK_OP_RESERVE6;
	r = run(x, 3, c, 6, 0);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);
	uint8_t rb[10] = {PRK_OP_READ_BUFFER, 0x02}; /* data mode: not an echo buffer */
	r = run(x, 3, rb, 10, 0);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);

	/* Allowed: INQUIRY, MODE SENSE, PR IN, RTPG, RSOC, REQUEST SENSE. */
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	r = run(x, 3, inq, 6, 96);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t ms[6] = {PRK_OP_MODE_SENSE6, 0, 0x3f, 0, 255, 0};
	r = run(x, 3, ms, 6, 255);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t prin[10] = {PRK_OP_PR_IN, 0x00, 0, 0, 0, 0, 0, 0, 64, 0};
	r = run(x, 3, prin, 10, 64);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = rtpg(x, 3, false, 1024);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t rsoc[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES};
	lt_put32(rsoc + 6, 4096);
	r = run(x, 3, rsoc, 12, 4096);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	r = run(x, 3, rs, 6, 18);
	lt_assert_good(&r);
	lt_res_free(&r);
	/* Allowed but not implemented: the opcode check answers. */
	uint8_t ls[10] = {PRK_OP_LOG_SENSE};
	r = run(x, 3, ls, 10, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	rb[1] = 0x0a; /* echo buffer */
	r = run(x, 3, rb, 10, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);

	/* The same commands through the active ports run. */
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	for (uint16_t p = 1; p <= 2; p++) {
		r = run(x, p, c, 10, 512);
		lt_assert_good(&r);
		lt_res_free(&r);
	}
}

static void test_unavailable(void **state)
{
	struct alua_ctx *x = *state;
	uint8_t c[16];
	struct lt_res r;

	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	r = run(x, 4, c, 10, 512);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(r.sense_raw[12], 0x04);
	assert_int_equal(r.sense_raw[13], 0x0c);
	memset(c, 0, sizeof(c));
	r = run(x, 4, c, 6, 0); /* TEST UNIT READY */
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	/* Allowed in standby, not in unavailable state. */
	uint8_t ms[6] = {PRK_OP_MODE_SENSE6, 0, 0x3f, 0, 255, 0};
	r = run(x, 4, ms, 6, 255);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	uint8_t prin[10] = {PRK_OP_PR_IN, 0x00, 0, 0, 0, 0, 0, 0, 64, 0};
	r = run(x, 4, prin, 10, 64);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);

	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	r = run(x, 4, inq, 6, 96);
	lt_assert_good(&r);
	lt_res_free(&r);
	r = rtpg(x, 4, true, 1024);
	lt_assert_good(&r);
	assert_group(r.data + 44, PRK_LU_ALUA_UNAVAILABLE, 10, 4);
	lt_res_free(&r);
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	r = run(x, 4, rs, 6, 18);
	lt_assert_good(&r);
	lt_res_free(&r);
}

static void test_ua_on_state_change(void **state)
{
	struct alua_ctx *x = *state;
	uint8_t tur[6] = {0};
	struct lt_res r;

	/* Setting the same state changes nothing. */
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_STANDBY), 0);
	r = run(x, 1, tur, 6, 0);
	lt_assert_good(&r);

	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_ACTIVE_OPTIMIZED), 1);
	assert_int_equal(x->tpgs.n_restricted, 1);
	prk_lu_alua_changed(x->t->lu);
	/* Every nexus, whatever its port, gets 2A/06 once. */
	for (uint16_t p = 1; p <= 4; p++) {
		r = run(x, p, tur, 6, 0);
		lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
	}
	r = run(x, 3, tur, 6, 0); /* port 3 is active now */
	lt_assert_good(&r);
	r = run(x, 4, tur, 6, 0); /* port 4 is still unavailable */
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	/* The nexuses of the setup got it too. */
	via(x, 1);
	r = lt_in(x->t, &x->t->b, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
	r = lt_in(x->t, &x->t->b, tur, 6, 0);
	lt_assert_good(&r);

	/* A UA is reported before the ALUA check refuses the command. */
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_STANDBY), 1);
	prk_lu_alua_changed(x->t->lu);
	r = run(x, 3, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
	r = run(x, 3, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY);
}

/* Without a table (or with every port active) nothing is refused. */
static void test_no_restrictions(void **state)
{
	struct alua_ctx *x = *state;
	uint8_t c[10];
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED), 1);
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 4, PRK_LU_ALUA_ACTIVE_OPTIMIZED), 1);
	assert_int_equal(x->tpgs.n_restricted, 0);
	prk_lu_alua_changed(x->t->lu);
	for (uint16_t p = 1; p <= 4; p++) {
		struct lt_res r = run(x, p, c, 10, 512);
		lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED);
		r = run(x, p, c, 10, 512);
		lt_assert_good(&r);
		lt_res_free(&r);
	}
	assert_int_equal(prk_lu_port_groups_set(&x->tpgs, 3, PRK_LU_ALUA_STANDBY), 1);
	prk_lu_set_port_groups(x->t->lu, NULL);
	struct lt_res r = run(x, 3, c, 10, 512);
	lt_assert_good(&r);
	lt_res_free(&r);
}

static void test_table(void **state)
{
	(void)state;
	struct prk_lu_port_groups t = {0};
	enum prk_lu_alua_state s;
	assert_int_equal(prk_lu_port_groups_add(&t, 1, 1, PRK_LU_ALUA_STANDBY), 0);
	assert_int_equal(prk_lu_port_groups_add(&t, 1, 2, PRK_LU_ALUA_STANDBY), -1); /* tpg used */
	assert_int_equal(prk_lu_port_groups_add(&t, 2, 1, PRK_LU_ALUA_STANDBY), -1); /* rtpi used */
	assert_int_equal(prk_lu_port_groups_add(&t, 2, 2, (enum prk_lu_alua_state)5), -1);
	assert_int_equal(prk_lu_port_groups_set(&t, 9, PRK_LU_ALUA_STANDBY), -1);
	assert_int_equal(prk_lu_port_groups_set(&t, 1, (enum prk_lu_alua_state)0xe), -1);
	assert_int_equal(t.n_restricted, 1);
	prk_lu_port_groups_remove(&t, 1);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.n_restricted, 0);
	for (uint16_t i = 0; i < PRK_LU_MAX_PORT_GROUPS; i++)
		assert_int_equal(prk_lu_port_groups_add(&t, i + 1, i + 1, PRK_LU_ALUA_UNAVAILABLE),
		                 0);
	assert_int_equal(prk_lu_port_groups_add(&t, 999, 999, PRK_LU_ALUA_STANDBY), -1); /* full */
	assert_int_equal(t.n_restricted, PRK_LU_MAX_PORT_GROUPS);
	assert_non_null(prk_lu_port_groups_find(&t, 64));
	assert_null(prk_lu_port_groups_find(&t, 65));
	assert_null(prk_lu_port_groups_find(NULL, 1));

	static const char *const names[] = {"active_optimized", "active_non_optimized", "standby",
	                                    "unavailable"};
	for (unsigned i = 0; i < 4; i++) {
		assert_string_equal(prk_lu_alua_state_name(i), names[i]);
		assert_int_equal(prk_lu_alua_state_parse(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(prk_lu_alua_state_name(4), "?");
	assert_int_equal(prk_lu_alua_state_parse("Standby", &s), -1);
	assert_int_equal(prk_lu_alua_state_parse("transitioning", &s), -1);
	assert_int_equal(prk_lu_alua_state_parse("", &s), -1);
}

/* INQUIRY reports implicit ALUA (TPGS = 01b). */
static void test_inquiry_tpgs(void **state)
{
	struct alua_ctx *x = *state;
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	struct lt_res r = run(x, 1, inq, 6, 96);
	lt_assert_good(&r);
	assert_int_equal((r.data[5] >> 4) & 0x03, 0x01);
	lt_res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rtpg_lists_every_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtpg_current_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_standby, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ua_on_state_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_restrictions, setup, teardown),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test_setup_teardown(test_inquiry_tpgs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
