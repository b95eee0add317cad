/* RESERVE and RELEASE: the RESERVE/RELEASE rows of pr-rules.md B2 and B3a and
 * the RELEASE rows of B4, as decided in docs/pr-engine.md. */
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

static const uint8_t all_types[] = {PRK_PR_WE,    PRK_PR_EA,    PRK_PR_WE_RO,
                                    PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};

/* a, b, c registered; d not. */
static void reg_abc(struct pt_ctx *c)
{
	pt_reg(c->st, &c->a, KEY_A);
	pt_reg(c->st, &c->b, KEY_B);
	pt_reg(c->st, &c->c, KEY_C);
}

/* ---- B2 ---- */

static void test_b2_unregistered_reserve_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	/* No reservation at all: still RESERVATION CONFLICT (docs, SCST). */
	pt_out(st, &c->d, PRK_PROUT_RESERVE, PRK_PR_WE, 0, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->d, PRK_PROUT_RESERVE, PRK_PR_EA, KEY_D, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_no_resv(st);

	/* With a reservation held by another. */
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out(st, &c->d, PRK_PROUT_RESERVE, PRK_PR_WE, 0, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_false(prk_pr_is_holder(st, &c->d));
}

static void test_b2_registered_nonholder_reserve_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	for (size_t i = 0; i < sizeof(all_types); i++) {
		pt_out(st, &c->b, PRK_PROUT_RESERVE, all_types[i], KEY_B, 0, &r);
		assert_conflict(&r);
		assert_false(r.changed);
		prk_pr_result_free(&r);
	}
	assert_resv(st, PRK_PR_EA);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b2_unregistered_release_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_out(st, &c->d, PRK_PROUT_RELEASE, PRK_PR_WE, 0, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);

	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out(st, &c->d, PRK_PROUT_RELEASE, PRK_PR_WE, 0, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_WE);
}

static void test_b2_registered_nonholder_release_good_noop(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_RO);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	pt_out(st, &c->b, PRK_PROUT_RELEASE, PRK_PR_EA_RO, KEY_B, 0, &r);
	assert_good(&r);
	assert_false(r.changed);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	/* Even with another type: the non-holder's RELEASE does nothing. */
	pt_out(st, &c->b, PRK_PROUT_RELEASE, PRK_PR_WE, KEY_B, 0, &r);
	assert_good(&r);
	assert_false(r.changed);
	prk_pr_result_free(&r);
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
	assert_resv(st, PRK_PR_EA_RO);
}

/* ---- B3a RESERVE ---- */

static void test_b3a_reserve_success_every_type(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	for (size_t i = 0; i < sizeof(all_types); i++) {
		uint32_t gen = prk_pr_generation(st);
		pt_out(st, &c->a, PRK_PROUT_RESERVE, all_types[i], KEY_A, 0, &r);
		assert_good(&r);
		assert_true(r.changed);
		assert_int_equal(r.n_ua, 0);
		prk_pr_result_free(&r);
		assert_resv(st, all_types[i]);
		assert_true(prk_pr_is_holder(st, &c->a));
		assert_true(prk_pr_is_holder(st, &c->a_upper));
		assert_int_equal(prk_pr_is_holder(st, &c->b),
		                 prk_pr_type_all_registrants(all_types[i]));
		assert_false(prk_pr_is_holder(st, &c->d));
		long h = -2;
		uint8_t t, s;
		assert_true(prk_pr_reservation(st, &t, &s, &h));
		assert_int_equal(
		    h, prk_pr_type_all_registrants(all_types[i]) ? -1 : prk_pr_find(st, &c->a));
		assert_int_equal(prk_pr_generation(st), gen);
		pt_out(st, &c->a, PRK_PROUT_RELEASE, all_types[i], KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
		assert_no_resv(st);
	}
}

static void test_b3a_reserve_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_out(st, &c->a, PRK_PROUT_RESERVE, PRK_PR_WE, KEY_B, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_no_resv(st);
	/* docs order: the key is checked before TYPE. */
	pt_out(st, &c->a, PRK_PROUT_RESERVE, 0x0, KEY_B, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
}

static void test_b3a_reserve_invalid_type_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	static const uint8_t bad[] = {0x0, 0x2, 0x4, 0x9, 0xa, 0xf};
	for (size_t i = 0; i < sizeof(bad); i++) {
		pt_out(st, &c->a, PRK_PROUT_RESERVE, bad[i], KEY_A, 0, &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 2, 3);
		assert_false(r.changed);
		prk_pr_result_free(&r);
	}
	assert_no_resv(st);
}

static void test_b3a_reserve_scope_not_lu_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	static const uint8_t bad[] = {0x1, 0x2, 0xf};
	for (size_t i = 0; i < sizeof(bad); i++) {
		pt_out_req(st, &c->a,
		           PT_REQ(.sa = PRK_PROUT_RESERVE, .scope = bad[i], .type = PRK_PR_WE,
		                  .key = KEY_A),
		           &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 2, 7);
		prk_pr_result_free(&r);
	}
	assert_no_resv(st);
}

static void test_b3a_reserve_other_holder_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	/* Same type and another type: both conflict for the non-holder. */
	pt_out(st, &c->c, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KEY_C, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->c, PRK_PROUT_RESERVE, PRK_PR_EA, KEY_C, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_false(prk_pr_is_holder(st, &c->c));
	assert_resv(st, PRK_PR_WE_RO);
}

static void test_b3a_reserve_holder_other_type_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	for (size_t i = 0; i < sizeof(all_types); i++) {
		if (all_types[i] == PRK_PR_WE)
			continue;
		pt_out(st, &c->a, PRK_PROUT_RESERVE, all_types[i], KEY_A, 0, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
	}
	assert_resv(st, PRK_PR_WE);
}

static void test_b3a_reserve_holder_same_type_good_no_change(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	for (size_t i = 0; i < sizeof(all_types); i++) {
		pt_resv(st, &c->a, KEY_A, all_types[i]);
		uint32_t gen = prk_pr_generation(st);
		struct prk_pr_state *before = prk_pr_state_clone(st);
		pt_out(st, &c->a_upper, PRK_PROUT_RESERVE, all_types[i], KEY_A, 0, &r);
		assert_good(&r);
		assert_false(r.changed);
		assert_int_equal(r.n_ua, 0);
		prk_pr_result_free(&r);
		assert_true(prk_pr_state_equal(st, before));
		prk_pr_state_free(before);
		assert_int_equal(prk_pr_generation(st), gen);
		pt_out(st, &c->a, PRK_PROUT_RELEASE, all_types[i], KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

/* For the all-registrants types every registrant is a holder, so another
 * registrant's RESERVE of the same type is the holder's no-op, and of another
 * type a conflict. */
static void test_b3a_reserve_ar_other_registrant_same_type_good(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_AR);
	pt_out(st, &c->b, PRK_PROUT_RESERVE, PRK_PR_EA_AR, KEY_B, 0, &r);
	assert_good(&r);
	assert_false(r.changed);
	prk_pr_result_free(&r);
	pt_out(st, &c->b, PRK_PROUT_RESERVE, PRK_PR_WE_AR, KEY_B, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_EA_AR);
}

/* ---- B3a RELEASE ---- */

static void test_b3a_release_no_reservation_good(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_out(st, &c->a, PRK_PROUT_RELEASE, PRK_PR_WE, KEY_A, 0, &r);
	assert_good(&r);
	assert_false(r.changed);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_no_resv(st);
	assert_int_equal(prk_pr_reg_count(st), 3);
}

static void test_b3a_release_holder_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	pt_out(st, &c->a, PRK_PROUT_RELEASE, PRK_PR_WE_RO, KEY_B, 0, &r);
	assert_conflict(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_WE_RO);
}

static void test_b3a_release_nonholder_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	pt_out(st, &c->b, PRK_PROUT_RELEASE, PRK_PR_WE_RO, KEY_C, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_WE_RO);
}

static void test_b3a_release_type_mismatch_26_04(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_RO);
	for (size_t i = 0; i < sizeof(all_types); i++) {
		if (all_types[i] == PRK_PR_EA_RO)
			continue;
		pt_out(st, &c->a, PRK_PROUT_RELEASE, all_types[i], KEY_A, 0, &r);
		assert_illegal(&r, PRK_ASC_INVALID_RELEASE_OF_PR);
		assert_int_equal(r.n_ua, 0);
		assert_false(r.changed);
		prk_pr_result_free(&r);
	}
	assert_resv(st, PRK_PR_EA_RO);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b3a_release_scope_mismatch_26_04(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_RELEASE, .scope = 0x2, .type = PRK_PR_WE, .key = KEY_A),
	           &r);
	assert_illegal(&r, PRK_ASC_INVALID_RELEASE_OF_PR);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_WE);
}

/* ---- B4: RELEASE unit attentions, one test per type ---- */

static void release_ua(void **state, uint8_t type, bool ua_expected)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, type);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->a, PRK_PROUT_RELEASE, type, KEY_A, 0, &r);
	assert_good(&r);
	assert_true(r.changed);
	assert_no_resv(st);
	if (ua_expected) {
		assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->b);
		assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->c);
	} else {
		assert_int_equal(r.n_ua, 0);
	}
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->a);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->d);
	assert_false(pt_has_any_ua(&r, &c->a, &c->a));
	assert_false(pt_has_any_ua(&r, &c->a, &c->d));
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	/* Registrations stay; RELEASE does not touch the generation (B8). */
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_int_equal(prk_pr_generation(st), gen);
}

static void test_b4_release_we_no_ua(void **state)
{
	release_ua(state, PRK_PR_WE, false);
}
static void test_b4_release_ea_no_ua(void **state)
{
	release_ua(state, PRK_PR_EA, false);
}
static void test_b4_release_we_ro_ua_2a04(void **state)
{
	release_ua(state, PRK_PR_WE_RO, true);
}
static void test_b4_release_ea_ro_ua_2a04(void **state)
{
	release_ua(state, PRK_PR_EA_RO, true);
}
static void test_b4_release_we_ar_ua_2a04(void **state)
{
	release_ua(state, PRK_PR_WE_AR, true);
}
static void test_b4_release_ea_ar_ua_2a04(void **state)
{
	release_ua(state, PRK_PR_EA_AR, true);
}

/* AR: any registrant is a holder, so any registrant's RELEASE ends the
 * reservation, and every other registrant (including the one that reserved)
 * gets 2A/04. */
static void test_b4_release_ar_by_other_registrant(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_AR);
	pt_out(st, &c->b, PRK_PROUT_RELEASE, PRK_PR_WE_AR, KEY_B, 0, &r);
	assert_good(&r);
	assert_no_resv(st);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->a);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->c);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->b);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->d);
	prk_pr_result_free(&r);
}

/* The 2A/04 of an RO release reaches every port of an ALL_TG_PT registrant. */
static void test_b4_release_ua_reaches_all_tg_pt_registrant(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->b, KEY_B);
	pt_reg_atp(st, &c->a, KEY_A);
	pt_resv(st, &c->b, KEY_B, PRK_PR_EA_RO);
	pt_out(st, &c->b, PRK_PROUT_RELEASE, PRK_PR_EA_RO, KEY_B, 0, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->a);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->a_port2);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->b, &c->a_isid2);
	prk_pr_result_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b2_unregistered_reserve_conflict),
	    T(test_b2_registered_nonholder_reserve_conflict),
	    T(test_b2_unregistered_release_conflict),
	    T(test_b2_registered_nonholder_release_good_noop),
	    T(test_b3a_reserve_success_every_type),
	    T(test_b3a_reserve_key_mismatch_conflict),
	    T(test_b3a_reserve_invalid_type_24_00),
	    T(test_b3a_reserve_scope_not_lu_24_00),
	    T(test_b3a_reserve_other_holder_conflict),
	    T(test_b3a_reserve_holder_other_type_conflict),
	    T(test_b3a_reserve_holder_same_type_good_no_change),
	    T(test_b3a_reserve_ar_other_registrant_same_type_good),
	    T(test_b3a_release_no_reservation_good),
	    T(test_b3a_release_holder_key_mismatch_conflict),
	    T(test_b3a_release_nonholder_key_mismatch_conflict),
	    T(test_b3a_release_type_mismatch_26_04),
	    T(test_b3a_release_scope_mismatch_26_04),
	    T(test_b4_release_we_no_ua),
	    T(test_b4_release_ea_no_ua),
	    T(test_b4_release_we_ro_ua_2a04),
	    T(test_b4_release_ea_ro_ua_2a04),
	    T(test_b4_release_we_ar_ua_2a04),
	    T(test_b4_release_ea_ar_ua_2a04),
	    T(test_b4_release_ar_by_other_registrant),
	    T(test_b4_release_ua_reaches_all_tg_pt_registrant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
