/* REGISTER AND MOVE (pr-rules.md B2 row 5, B7) and REPLACE LOST RESERVATION
 * (SPC-5), as decided in docs/pr-engine.md. The LU has target ports 1 and 2
 * (prk_pr_config.rtpis). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pr_test_util.h"

#define CTX                                                                                        \
	struct pt_ctx *c = *state;                                                                 \
	struct prk_pr_state *st = c->st

static const uint16_t ports12[] = {PT_RTPI_1, PT_RTPI_2};

static int setup_ports12_max2(void **state)
{
	struct prk_pr_config cfg = {.max_registrations = 2, .rtpis = ports12, .n_rtpis = 2};
	return pt_setup_cfg(state, &cfg);
}

/* REGISTER AND MOVE of from's reservation to (tid, rtpi). */
static int move(struct prk_pr_state *st, const struct prk_nexus *from, uint64_t key,
                uint64_t sa_key, const struct prk_tid *tid, uint16_t rtpi, bool unreg, bool aptpl,
                struct prk_pr_result *r)
{
	return pt_out_req(st, from,
	                  PT_REQ(.sa = PRK_PROUT_REGISTER_AND_MOVE, .type = PRK_PR_EA, .key = key,
	                         .sa_key = sa_key, .move_tid = tid, .rtpi = rtpi, .unreg = unreg,
	                         .aptpl = aptpl),
	                  r);
}

/* a holds a WE-RO reservation; b is registered; d is not. */
static void setup_holder_a(struct pt_ctx *c, uint8_t type)
{
	pt_reg(c->st, &c->a, KEY_A);
	pt_reg(c->st, &c->b, KEY_B);
	pt_resv(c->st, &c->a, KEY_A, type);
}

/* ---- B2 row 5 ---- */

static void test_b2_unregistered_register_and_move_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_tid_port(&t, &c->c);
	/* No reservation, no registration. */
	move(st, &c->d, 0, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	setup_holder_a(c, PRK_PR_WE_RO);
	move(st, &c->d, 0, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	move(st, &c->d, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b2_registered_nonholder_register_and_move_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE_RO);
	pt_tid_port(&t, &c->c);
	uint32_t gen = prk_pr_generation(st);
	move(st, &c->b, KEY_B, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_generation(st), gen);
}

/* ---- B7 error rows ---- */

static void test_b7_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_B, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b7_sa_key_zero_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_A, 0, &t, PT_RTPI_2, false, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 8, -1);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b7_no_reservation_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_reg(st, &c->a, KEY_A);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 1, -1);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_int_equal(prk_pr_generation(st), 1);
}

static void test_b7_all_registrants_reservation_conflict(void **state)
{
	CTX;
	static const uint8_t ar[] = {PRK_PR_WE_AR, PRK_PR_EA_AR};
	struct prk_tid t;
	pt_tid_port(&t, &c->c);
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		setup_holder_a(c, ar[i]);
		move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
		assert_unregistered(st, &c->c);
		assert_resv(st, ar[i]);
		pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b7_format00_transport_id_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_dev(&t, PT_NAME_C);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 24, -1); /* FORMAT CODE, byte 0 of the TransportID */
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b7_destination_is_sender_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->a_upper); /* the same initiator port, other spelling */
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_1, false, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 24, -1);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b7_unknown_rtpi_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	static const uint16_t bad[] = {0, 3, 0x1234};
	for (size_t i = 0; i < 3; i++) {
		move(st, &c->a, KEY_A, KEY_C, &t, bad[i], false, false, &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
		assert_field(&r, false, 18, -1);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_reg_count(st), 2);
}

/* prk_pr_set_ports replaces the port list: a new port becomes valid. */
static void test_b7_set_ports_changes_valid_rtpi(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	struct prk_nexus c3;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_A, KEY_C, &t, 3, false, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	static const uint16_t p123[] = {1, 2, 3};
	assert_int_equal(prk_pr_set_ports(st, p123, 3), 0);
	move(st, &c->a, KEY_A, KEY_C, &t, 3, false, false, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_nexus(&c3, PT_NAME_C, PT_ISID_C, 3);
	assert_true(prk_pr_is_holder(st, &c3));
}

static void test_b7_tid_length_mismatch_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	uint8_t params[512], cdb[10];
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	memset(params, 0, sizeof(params));
	size_t len = prk_prout_params_encode_move(KEY_A, KEY_C, false, false, PT_RTPI_2, &t, params,
	                                          sizeof(params));
	assert_true(len > PRK_PROUT_MOVE_HDR_LEN);
	pt_prout_cdb(cdb, PRK_PROUT_REGISTER_AND_MOVE, 0, PRK_PR_WE, (uint32_t)(len + 8));
	pt_out_raw(st, &c->a, cdb, params, len + 8, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 20, -1);
	prk_pr_result_free(&r);
	/* Shorter than the header: PARAMETER LIST LENGTH ERROR. */
	pt_prout_cdb(cdb, PRK_PROUT_REGISTER_AND_MOVE, 0, PRK_PR_WE, 16);
	pt_out_raw(st, &c->a, cdb, params, 16, &r);
	assert_illegal(&r, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_unregistered(st, &c->c);
}

/* docs: UNREG=1 when the sender's registration also covers the destination
 * is 26/00 at UNREG (byte 17 bit 1). */
static void test_b7_unreg_when_sender_covers_destination_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_reg_atp(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_tid_port(&t, &c->a);
	move(st, &c->a, KEY_A, KEY_B, &t, PT_RTPI_2, true, false, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 17, 1);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_true(prk_pr_is_holder(st, &c->a_port2));
}

static void test_b7_insufficient_resources_55_04(void **state)
{
	CTX; /* max 2 registrations */
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_illegal(&r, PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_true(prk_pr_is_holder(st, &c->a));
	/* Moving to the already registered b needs no room. */
	pt_tid_port(&t, &c->b);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_1, false, false, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->b));
}

/* ---- B7 effect ---- */

static void test_b7_move_to_unregistered_destination(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE_RO);
	pt_tid_port(&t, &c->c);
	uint32_t gen = prk_pr_generation(st);
	/* The CDB says EA; the reservation keeps its WE-RO type. */
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
	assert_good(&r);
	assert_true(r.changed);
	assert_int_equal(r.n_ua, 0); /* B7: no UA */
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->c), KEY_C);
	assert_true(prk_pr_is_holder(st, &c->c));
	assert_false(prk_pr_is_holder(st, &c->a));
	assert_int_equal(pt_key_of(st, &c->a), KEY_A); /* UNREG=0: sender stays */
	assert_resv(st, PRK_PR_WE_RO);
	long h = -2;
	uint8_t ty, sc;
	assert_true(prk_pr_reservation(st, &ty, &sc, &h));
	assert_int_equal(h, prk_pr_find(st, &c->c));
	assert_int_equal(prk_pr_generation(st), gen + 1);
	assert_int_equal(prk_pr_reg_count(st), 3);
	/* c_port1 is another I_T nexus: not registered. */
	assert_unregistered(st, &c->c_port1);

	struct prk_prin_resv rv;
	pt_read_resv(st, &c->d, &rv);
	assert_true(rv.present);
	assert_int_equal(rv.key, KEY_C);
	assert_int_equal(rv.type, PRK_PR_WE_RO);
	assert_int_equal(rv.scope, 0);
}

static void test_b7_move_to_registered_destination_rekeys(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_EA);
	pt_tid_port(&t, &c->b);
	move(st, &c->a, KEY_A, KEY_D, &t, PT_RTPI_1, false, false, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->b), KEY_D);
	assert_int_equal(pt_key_count(st, KEY_B), 0);
	assert_int_equal(pt_key_count(st, KEY_D), 1);
	assert_true(prk_pr_is_holder(st, &c->b));
	assert_resv(st, PRK_PR_EA);
	assert_int_equal(prk_pr_reg_count(st), 2);
}

static void test_b7_move_unreg_unregisters_sender(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_EA_RO);
	pt_tid_port(&t, &c->c);
	uint32_t gen = prk_pr_generation(st);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, true, false, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_true(prk_pr_is_holder(st, &c->c));
	assert_resv(st, PRK_PR_EA_RO);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_int_equal(prk_pr_generation(st), gen + 1);
}

static void test_b7_move_aptpl(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->c);
	move(st, &c->a, KEY_A, KEY_C, &t, PT_RTPI_2, false, true, &r);
	assert_good(&r);
	assert_true(r.persist);
	prk_pr_result_free(&r);
	assert_true(prk_pr_aptpl(st));
	/* And back. */
	pt_tid_port(&t, &c->a);
	move(st, &c->c, KEY_C, KEY_A, &t, PT_RTPI_1, false, false, &r);
	assert_good(&r);
	assert_true(r.persist);
	prk_pr_result_free(&r);
	assert_false(prk_pr_aptpl(st));
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b7_move_to_same_initiator_other_port_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_WE);
	pt_tid_port(&t, &c->a);
	move(st, &c->a, KEY_A, KEY_D, &t, PT_RTPI_2, false, false, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->a_port2));
	assert_false(prk_pr_is_holder(st, &c->a));
	assert_int_equal(pt_key_of(st, &c->a_port2), KEY_D);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
}

/* ---- REPLACE LOST RESERVATION ---- */

static int rlr(struct prk_pr_state *st, const struct prk_nexus *from, uint8_t scope, uint8_t type,
               uint64_t key, uint64_t sa_key, struct prk_pr_result *r)
{
	return pt_out_req(st, from,
	                  PT_REQ(.sa = PRK_PROUT_REPLACE_LOST, .scope = scope, .type = type,
	                         .key = key, .sa_key = sa_key),
	                  r);
}

static void test_rlr_without_lost_state_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	assert_false(prk_pr_lost(st));
	rlr(st, &c->d, 0, PRK_PR_WE, 0, KEY_D, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 1, -1);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->d);
	assert_no_resv(st);
	assert_int_equal(prk_pr_generation(st), 0);
}

static void test_rlr_mark_lost_drops_state(void **state)
{
	CTX;
	setup_holder_a(c, PRK_PR_EA);
	prk_pr_mark_lost(st);
	assert_true(prk_pr_lost(st));
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_no_resv(st);
	struct prk_sense s;
	memset(&s, 0, sizeof(s));
	prk_pr_lost_sense(&s);
	assert_int_equal(s.key, PRK_SK_HARDWARE_ERROR);
	assert_int_equal(s.asc, 0x44);
	assert_int_equal(s.ascq, 0x01);
}

static void test_rlr_lost_other_prout_hardware_error_44_01(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	setup_holder_a(c, PRK_PR_EA);
	prk_pr_mark_lost(st);
	pt_tid_port(&t, &c->c);
	static const uint8_t sas[] = {PRK_PROUT_REGISTER,
	                              PRK_PROUT_RESERVE,
	                              PRK_PROUT_RELEASE,
	                              PRK_PROUT_CLEAR,
	                              PRK_PROUT_PREEMPT,
	                              PRK_PROUT_PREEMPT_AND_ABORT,
	                              PRK_PROUT_REGISTER_AND_IGNORE};
	const struct prk_nexus *who[] = {&c->a, &c->d};
	for (size_t w = 0; w < 2; w++) {
		for (size_t i = 0; i < sizeof(sas); i++) {
			pt_out(st, who[w], sas[i], PRK_PR_EA, 0, KEY_D, &r);
			assert_check(&r, PRK_SK_HARDWARE_ERROR, PRK_ASC_PR_INFORMATION_LOST);
			prk_pr_result_free(&r);
		}
		move(st, who[w], KEY_A, KEY_C, &t, PT_RTPI_2, false, false, &r);
		assert_check(&r, PRK_SK_HARDWARE_ERROR, PRK_ASC_PR_INFORMATION_LOST);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_lost(st));
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_rlr_lost_key_nonzero_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	prk_pr_mark_lost(st);
	rlr(st, &c->a, 0, PRK_PR_WE, KEY_A, KEY_A, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_lost(st));
	assert_unregistered(st, &c->a);
}

static void test_rlr_lost_sa_key_zero_26_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	prk_pr_mark_lost(st);
	rlr(st, &c->a, 0, PRK_PR_WE, 0, 0, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	assert_true(prk_pr_lost(st));
}

static void test_rlr_lost_invalid_type_scope_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	prk_pr_mark_lost(st);
	rlr(st, &c->a, 0, 0x4, 0, KEY_A, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 2, 3);
	prk_pr_result_free(&r);
	rlr(st, &c->a, 0x1, PRK_PR_WE, 0, KEY_A, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 2, 7);
	prk_pr_result_free(&r);
	assert_true(prk_pr_lost(st));
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_rlr_success_registers_reserves_clears_lost(void **state)
{
	CTX;
	struct prk_pr_result r;
	setup_holder_a(c, PRK_PR_EA);
	prk_pr_mark_lost(st);
	uint32_t gen = prk_pr_generation(st);
	rlr(st, &c->b, 0, PRK_PR_EA_RO, 0, KEY_B, &r);
	assert_good(&r);
	assert_true(r.changed);
	prk_pr_result_free(&r);
	assert_false(prk_pr_lost(st));
	assert_int_equal(pt_key_of(st, &c->b), KEY_B);
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_resv(st, PRK_PR_EA_RO);
	assert_true(prk_pr_is_holder(st, &c->b));
	assert_int_equal(prk_pr_generation(st), gen + 1);

	/* Back to normal: other PR OUT work; RLR is 24/00 again. */
	pt_reg(st, &c->a, KEY_A);
	rlr(st, &c->c, 0, PRK_PR_WE, 0, KEY_C, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->b));
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup_ports12, pt_teardown)
#define T2(f) cmocka_unit_test_setup_teardown(f, setup_ports12_max2, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b2_unregistered_register_and_move_conflict),
	    T(test_b2_registered_nonholder_register_and_move_conflict),
	    T(test_b7_key_mismatch_conflict),
	    T(test_b7_sa_key_zero_26_00),
	    T(test_b7_no_reservation_24_00),
	    T(test_b7_all_registrants_reservation_conflict),
	    T(test_b7_format00_transport_id_26_00),
	    T(test_b7_destination_is_sender_26_00),
	    T(test_b7_unknown_rtpi_26_00),
	    T(test_b7_set_ports_changes_valid_rtpi),
	    T(test_b7_tid_length_mismatch_26_00),
	    T(test_b7_unreg_when_sender_covers_destination_26_00),
	    T2(test_b7_insufficient_resources_55_04),
	    T(test_b7_move_to_unregistered_destination),
	    T(test_b7_move_to_registered_destination_rekeys),
	    T(test_b7_move_unreg_unregisters_sender),
	    T(test_b7_move_aptpl),
	    T(test_b7_move_to_same_initiator_other_port_allowed),
	    T(test_rlr_without_lost_state_24_00),
	    T(test_rlr_mark_lost_drops_state),
	    T(test_rlr_lost_other_prout_hardware_error_44_01),
	    T(test_rlr_lost_key_nonzero_conflict),
	    T(test_rlr_lost_sa_key_zero_26_00),
	    T(test_rlr_lost_invalid_type_scope_24_00),
	    T(test_rlr_success_registers_reserves_clears_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
