/* CLEAR, PREEMPT and PREEMPT AND ABORT: pr-rules.md B2 (CLEAR/PREEMPT rows),
 * B3a CLEAR, B4 (CLEAR and PREEMPT unit attentions) and every case of B6 as
 * decided in docs/pr-engine.md. */
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

static const uint8_t preempts[] = {PRK_PROUT_PREEMPT, PRK_PROUT_PREEMPT_AND_ABORT};

static void reg_abc(struct pt_ctx *c)
{
	pt_reg(c->st, &c->a, KEY_A);
	pt_reg(c->st, &c->b, KEY_B);
	pt_reg(c->st, &c->c, KEY_C);
}

/* ---- CLEAR ---- */

static void test_b2_unregistered_clear_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_out(st, &c->d, PRK_PROUT_CLEAR, 0, 0, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->d, PRK_PROUT_CLEAR, 0, 0, 0, &r);
	assert_conflict(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_resv(st, PRK_PR_WE);
	assert_int_equal(prk_pr_generation(st), gen);
}

static void test_b3a_clear_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->b, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_resv(st, PRK_PR_EA);
	assert_int_equal(prk_pr_generation(st), gen);
}

/* B2: a registered non-holder may CLEAR; B4: 2A/03 to every other registrant. */
static void test_b2_registered_nonholder_clear_b4_ua_2a03(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->b, PRK_PROUT_CLEAR, 0, KEY_B, 0, &r);
	assert_good(&r);
	assert_true(r.changed);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->b, &c->a);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->b, &c->c);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->b, &c->b);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->b, &c->d);
	assert_false(pt_has_any_ua(&r, &c->b, &c->b));
	assert_false(pt_has_any_ua(&r, &c->b, &c->d));
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_no_resv(st);
	assert_int_equal(prk_pr_generation(st), gen + 1);
	assert_int_equal(pt_key_count(st, KEY_A) + pt_key_count(st, KEY_B), 0);
}

static void test_b4_clear_by_holder_without_reservation(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_reg_atp(st, &c->d, KEY_D);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->c);
	/* d registered on every port: every port gets it. */
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->d);
	struct prk_nexus d1;
	pt_nexus(&d1, PT_NAME_D, PT_ISID_D, PT_RTPI_1);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &d1);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a);
	/* a's other ISID was never registered. */
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a_isid2);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_int_equal(prk_pr_generation(st), gen + 1);
	/* Everyone can register afresh. */
	pt_reg(st, &c->b, KEY_B);
}

/* The sender's own ALL_TG_PT registration covers other I_T nexuses (its
 * port on the other target ports): they are registered I_T nexuses other
 * than the sender and get the UA. */
static void test_b4_clear_ua_reaches_sender_other_target_ports(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg_atp(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a_port2);
	assert_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->b);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a_upper);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_PREEMPTED, &c->a, &c->a_isid2);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

/* ---- B2 PREEMPT rows ---- */

static void test_b2_unregistered_preempt_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	for (size_t i = 0; i < 2; i++) {
		pt_out(st, &c->d, preempts[i], PRK_PR_WE, 0, KEY_A, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
	}
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	for (size_t i = 0; i < 2; i++) {
		pt_out(st, &c->d, preempts[i], PRK_PR_WE, 0, KEY_A, &r);
		assert_conflict(&r);
		assert_int_equal(r.n_abort, 0);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_reg_count(st), 3);
}

static void test_b2_registered_nonholder_preempt_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out(st, &c->b, PRK_PROUT_PREEMPT, PRK_PR_WE, KEY_B, KEY_A, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->b));
	assert_unregistered(st, &c->a);
}

static void test_b2_registered_nonholder_preempt_abort_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out(st, &c->b, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_WE, KEY_B, KEY_A, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->b));
	assert_unregistered(st, &c->a);
}

/* ---- B6 preconditions ---- */

static void test_b6_preempt_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	uint32_t gen = prk_pr_generation(st);
	for (size_t i = 0; i < 2; i++) {
		pt_out(st, &c->b, preempts[i], PRK_PR_EA, KEY_C, KEY_A, &r);
		assert_conflict(&r);
		assert_int_equal(r.n_ua, 0);
		assert_int_equal(r.n_abort, 0);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_int_equal(prk_pr_generation(st), gen);
}

/* ---- B6 case 1: no reservation, or SA key not the holder's ---- */

static void test_b6_case1_no_reservation_removes_every_match(void **state)
{
	CTX;
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_reg(st, &c->a, KEY_A);
		pt_reg(st, &c->b, KEY_B);
		pt_reg(st, &c->c, KEY_B); /* duplicate key on another nexus */
		pt_reg(st, &c->d, KEY_D);
		uint32_t gen = prk_pr_generation(st);
		/* TYPE is ignored in this case: 0 is not an error. */
		pt_out(st, &c->a, preempts[i], 0, KEY_A, KEY_B, &r);
		assert_good(&r);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->c);
		assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->a);
		assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->d);
		assert_false(pt_has_any_ua(&r, &c->a, &c->d));
		assert_false(pt_has_any_ua(&r, &c->a, &c->a));
		if (preempts[i] == PRK_PROUT_PREEMPT) {
			assert_int_equal(r.n_abort, 0);
		} else {
			assert_abort(&r, &c->b);
			assert_abort(&r, &c->c);
			assert_no_abort(&r, &c->a);
			assert_no_abort(&r, &c->d);
		}
		prk_pr_result_free(&r);
		assert_no_resv(st); /* no reservation is created */
		assert_unregistered(st, &c->b);
		assert_unregistered(st, &c->c);
		assert_registered(st, &c->a);
		assert_registered(st, &c->d);
		assert_int_equal(prk_pr_generation(st), gen + 1);
		pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b6_case1_nonholder_key_keeps_reservation(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_reg(st, &c->d, KEY_D);
	pt_resv(st, &c->d, KEY_D, PRK_PR_EA_RO);
	/* a preempts b (not the holder) with another TYPE: type is ignored. */
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_WE, KEY_A, KEY_B, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->c);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->d);
	assert_false(pt_has_any_ua(&r, &c->a, &c->c));
	assert_false(pt_has_any_ua(&r, &c->a, &c->d));
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_EA_RO);
	assert_true(prk_pr_is_holder(st, &c->d));
	assert_false(prk_pr_is_holder(st, &c->a));
	assert_unregistered(st, &c->b);
}

static void test_b6_case1_no_match_conflict(void **state)
{
	CTX;
	reg_abc(c);
	for (int with_resv = 0; with_resv < 2; with_resv++) {
		if (with_resv)
			pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
		for (size_t i = 0; i < 2; i++) {
			struct prk_pr_result r;
			uint32_t gen = prk_pr_generation(st);
			pt_out(st, &c->b, preempts[i], PRK_PR_WE, KEY_B, KEY_X, &r);
			assert_conflict(&r);
			assert_int_equal(r.n_ua, 0);
			assert_int_equal(r.n_abort, 0);
			prk_pr_result_free(&r);
			assert_int_equal(prk_pr_generation(st), gen);
			assert_int_equal(prk_pr_reg_count(st), 3);
		}
	}
	assert_true(prk_pr_is_holder(st, &c->a));
}

/* ---- B6 case 2: SA key 0 without an all-registrants reservation ---- */

static void test_b6_case2_sa_key_zero_no_reservation_26_00(void **state)
{
	CTX;
	reg_abc(c);
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_out(st, &c->a, preempts[i], PRK_PR_WE, KEY_A, 0, &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
		assert_field(&r, false, 8, -1);
		assert_int_equal(r.n_abort, 0);
		prk_pr_result_free(&r);
	}
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_no_resv(st);
}

static void test_b6_case2_sa_key_zero_non_ar_reservation_26_00(void **state)
{
	CTX;
	static const uint8_t types[] = {PRK_PR_WE, PRK_PR_EA, PRK_PR_WE_RO, PRK_PR_EA_RO};
	reg_abc(c);
	for (size_t t = 0; t < sizeof(types); t++) {
		pt_resv(st, &c->b, KEY_B, types[t]);
		for (size_t i = 0; i < 2; i++) {
			struct prk_pr_result r;
			uint32_t gen = prk_pr_generation(st);
			/* From a non-holder and from the holder. */
			pt_out(st, &c->a, preempts[i], types[t], KEY_A, 0, &r);
			assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
			assert_field(&r, false, 8, -1);
			prk_pr_result_free(&r);
			pt_out(st, &c->b, preempts[i], types[t], KEY_B, 0, &r);
			assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
			prk_pr_result_free(&r);
			assert_int_equal(prk_pr_generation(st), gen);
		}
		assert_resv(st, types[t]);
		assert_true(prk_pr_is_holder(st, &c->b));
		assert_int_equal(prk_pr_reg_count(st), 3);
		struct prk_pr_result rel;
		pt_out(st, &c->b, PRK_PROUT_RELEASE, types[t], KEY_B, 0, &rel);
		assert_good(&rel);
		prk_pr_result_free(&rel);
	}
}

/* ---- B6 case 3: SA key is the (non-AR) holder's ---- */

static void test_b6_case3_preempt_holder_same_type(void **state)
{
	CTX;
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_reg(st, &c->a, KEY_A);
		pt_reg(st, &c->b, KEY_B);
		pt_reg(st, &c->c, KEY_B); /* holder's key also on c */
		pt_reg(st, &c->d, KEY_D);
		pt_resv(st, &c->b, KEY_B, PRK_PR_WE_RO);
		uint32_t gen = prk_pr_generation(st);

		pt_out(st, &c->a, preempts[i], PRK_PR_WE_RO, KEY_A, KEY_B, &r);
		assert_good(&r);
		assert_true(r.changed);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->c);
		assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->d);
		/* TYPE and SCOPE unchanged: no 2A/04. */
		assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->d);
		assert_false(pt_has_any_ua(&r, &c->a, &c->d));
		assert_false(pt_has_any_ua(&r, &c->a, &c->a));
		if (preempts[i] == PRK_PROUT_PREEMPT_AND_ABORT) {
			assert_abort(&r, &c->b);
			assert_abort(&r, &c->c);
			assert_no_abort(&r, &c->a);
			assert_no_abort(&r, &c->d);
		} else {
			assert_int_equal(r.n_abort, 0);
		}
		prk_pr_result_free(&r);

		assert_resv(st, PRK_PR_WE_RO);
		assert_true(prk_pr_is_holder(st, &c->a));
		assert_false(prk_pr_is_holder(st, &c->d));
		assert_unregistered(st, &c->b);
		assert_unregistered(st, &c->c);
		assert_int_equal(prk_pr_reg_count(st), 2);
		assert_int_equal(prk_pr_generation(st), gen + 1);
		pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b6_case3_type_change_ua_2a04(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_reg(st, &c->d, KEY_D);
	pt_resv(st, &c->b, KEY_B, PRK_PR_WE);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_EA_RO, KEY_A, KEY_B, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->c);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->d);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->a);
	assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->c);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_EA_RO);
	assert_true(prk_pr_is_holder(st, &c->a));
}

/* "It is not an error for the persistent reservation holder to preempt
 * itself": the sender keeps its registration and gets the new type; other
 * registrations with its key go. */
static void test_b6_case3_self_preempt_changes_type(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_A); /* same key as the holder */
	pt_reg(st, &c->c, KEY_C);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_EA, KEY_A, KEY_A, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->c);
	assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->a);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->a);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_EA);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_unregistered(st, &c->b);
	assert_registered(st, &c->c);
	assert_int_equal(prk_pr_generation(st), gen + 1);
}

/* Self preempt with the same type from an only registrant: still GOOD. */
static void test_b6_case3_self_preempt_same_type(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_WE_RO, KEY_A, KEY_A, &r);
	assert_good(&r);
	assert_false(pt_has_any_ua(&r, &c->a, &c->a));
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_WE_RO);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b6_case3_invalid_type_scope_24_00_no_change(void **state)
{
	CTX;
	reg_abc(c);
	pt_resv(st, &c->b, KEY_B, PRK_PR_WE);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_out(st, &c->a, preempts[i], 0x2, KEY_A, KEY_B, &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 2, 3);
		assert_int_equal(r.n_ua, 0);
		assert_int_equal(r.n_abort, 0);
		prk_pr_result_free(&r);
		pt_out_req(st, &c->a,
		           PT_REQ(.sa = preempts[i], .scope = 1, .type = PRK_PR_WE, .key = KEY_A,
		                  .sa_key = KEY_B),
		           &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 2, 7);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
}

static void test_b6_duplicate_keys_on_several_nexuses_all_removed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->b_port2, KEY_B);
	pt_reg(st, &c->c, KEY_B);
	pt_reg(st, &c->a_isid2, KEY_B);
	pt_reg(st, &c->d, KEY_D);
	pt_resv(st, &c->b_port2, KEY_B, PRK_PR_EA);
	assert_int_equal(pt_key_count(st, KEY_B), 4);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA, KEY_A, KEY_B, &r);
	assert_good(&r);
	const struct prk_nexus *gone[] = {&c->b, &c->b_port2, &c->c, &c->a_isid2};
	for (size_t i = 0; i < 4; i++) {
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, gone[i]);
		assert_abort(&r, gone[i]);
		assert_unregistered(st, gone[i]);
	}
	assert_no_abort(&r, &c->a);
	assert_no_abort(&r, &c->d);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_count(st, KEY_B), 0);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_true(prk_pr_is_holder(st, &c->a));
}

/* The sender is never removed, even when it carries the SA key. */
static void test_b6_sender_never_removed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_B); /* the sender has the key it preempts */
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_resv(st, &c->b, KEY_B, PRK_PR_WE);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_WE, KEY_B, KEY_B, &r);
	assert_good(&r);
	assert_no_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->a);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_unregistered(st, &c->b);
	assert_registered(st, &c->c);

	/* Case 1 as well: no reservation, the sender shares the key. */
	pt_out(st, &c->a, PRK_PROUT_RELEASE, PRK_PR_WE, KEY_B, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_reg(st, &c->d, KEY_B);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, 0, KEY_B, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_registered(st, &c->a);
	assert_unregistered(st, &c->d);
}

/* ---- B6 case 4: all-registrants reservation ---- */

static void case4_sa_key_zero(void **state, uint8_t sa, uint8_t old_type, uint8_t new_type)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_reg_atp(st, &c->d, KEY_D);
	pt_resv(st, &c->b, KEY_B, old_type);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->a, sa, new_type, KEY_A, 0, &r);
	assert_good(&r);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->c);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->d);
	assert_false(pt_has_any_ua(&r, &c->a, &c->a));
	if (sa == PRK_PROUT_PREEMPT_AND_ABORT) {
		/* docs: every registered nexus, the sender included. */
		assert_abort(&r, &c->a);
		assert_abort(&r, &c->b);
		assert_abort(&r, &c->c);
		assert_abort(&r, &c->d);
		struct prk_nexus d1;
		pt_nexus(&d1, PT_NAME_D, PT_ISID_D, PT_RTPI_1);
		assert_abort(&r, &d1);
		assert_no_abort(&r, &c->a_isid2);
	} else {
		assert_int_equal(r.n_abort, 0);
	}
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_resv(st, new_type);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(prk_pr_generation(st), gen + 1);
	long h = -2;
	uint8_t t, s;
	prk_pr_reservation(st, &t, &s, &h);
	if (prk_pr_type_all_registrants(new_type))
		assert_int_equal(h, -1);
	else
		assert_int_equal(h, prk_pr_find(st, &c->a));
}

static void test_b6_case4_ar_sa_key_zero_preempt_to_ea_ro(void **state)
{
	case4_sa_key_zero(state, PRK_PROUT_PREEMPT, PRK_PR_WE_AR, PRK_PR_EA_RO);
}

static void test_b6_case4_ar_sa_key_zero_preempt_same_type(void **state)
{
	case4_sa_key_zero(state, PRK_PROUT_PREEMPT, PRK_PR_EA_AR, PRK_PR_EA_AR);
}

static void test_b6_case4_ar_sa_key_zero_preempt_abort_aborts_everyone(void **state)
{
	case4_sa_key_zero(state, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA_AR, PRK_PR_WE);
}

static void test_b6_case4_ar_sa_key_nonzero_removes_only_matching(void **state)
{
	CTX;
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_reg(st, &c->a, KEY_A);
		pt_reg(st, &c->b, KEY_B);
		pt_reg(st, &c->c, KEY_C);
		pt_reg(st, &c->d, KEY_B);
		pt_resv(st, &c->c, KEY_C, PRK_PR_WE_AR);
		uint32_t gen = prk_pr_generation(st);
		/* A different TYPE in the CDB does not matter: the reservation
		 * stays as it is. */
		pt_out(st, &c->a, preempts[i], PRK_PR_EA, KEY_A, KEY_B, &r);
		assert_good(&r);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
		assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->d);
		assert_false(pt_has_any_ua(&r, &c->a, &c->c));
		assert_false(pt_has_any_ua(&r, &c->a, &c->a));
		if (preempts[i] == PRK_PROUT_PREEMPT_AND_ABORT) {
			assert_abort(&r, &c->b);
			assert_abort(&r, &c->d);
			assert_no_abort(&r, &c->a);
			assert_no_abort(&r, &c->c);
		} else {
			assert_int_equal(r.n_abort, 0);
		}
		prk_pr_result_free(&r);
		assert_resv(st, PRK_PR_WE_AR);
		assert_true(prk_pr_is_holder(st, &c->a));
		assert_true(prk_pr_is_holder(st, &c->c));
		assert_unregistered(st, &c->b);
		assert_unregistered(st, &c->d);
		assert_int_equal(prk_pr_generation(st), gen + 1);
		pt_out(st, &c->a, PRK_PROUT_CLEAR, 0, KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b6_case4_ar_sa_key_nonzero_no_match_conflict(void **state)
{
	CTX;
	reg_abc(c);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_AR);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	for (size_t i = 0; i < 2; i++) {
		struct prk_pr_result r;
		pt_out(st, &c->b, preempts[i], PRK_PR_EA_AR, KEY_B, KEY_X, &r);
		assert_conflict(&r);
		assert_int_equal(r.n_abort, 0);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
}

/* ---- PREEMPT AND ABORT abort sets ---- */

static void test_b6_preempt_abort_all_tg_pt_registration_every_port(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg_atp(st, &c->b, KEY_B);
	pt_resv(st, &c->b_port2, KEY_B, PRK_PR_EA);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA, KEY_A, KEY_B, &r);
	assert_good(&r);
	assert_abort(&r, &c->b);
	assert_abort(&r, &c->b_port2);
	assert_no_abort(&r, &c->a);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_REGISTRATIONS_PREEMPTED, &c->a, &c->b_port2);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->b_port2);
	assert_true(prk_pr_is_holder(st, &c->a));
}

/* Plain PREEMPT never names nexuses to abort. */
static void test_b6_preempt_has_no_abort_set(void **state)
{
	CTX;
	struct prk_pr_result r;
	reg_abc(c);
	pt_resv(st, &c->b, KEY_B, PRK_PR_EA_AR);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_EA_AR, KEY_A, 0, &r);
	assert_good(&r);
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b2_unregistered_clear_conflict),
	    T(test_b3a_clear_key_mismatch_conflict),
	    T(test_b2_registered_nonholder_clear_b4_ua_2a03),
	    T(test_b4_clear_by_holder_without_reservation),
	    T(test_b4_clear_ua_reaches_sender_other_target_ports),
	    T(test_b2_unregistered_preempt_conflict),
	    T(test_b2_registered_nonholder_preempt_allowed),
	    T(test_b2_registered_nonholder_preempt_abort_allowed),
	    T(test_b6_preempt_key_mismatch_conflict),
	    T(test_b6_case1_no_reservation_removes_every_match),
	    T(test_b6_case1_nonholder_key_keeps_reservation),
	    T(test_b6_case1_no_match_conflict),
	    T(test_b6_case2_sa_key_zero_no_reservation_26_00),
	    T(test_b6_case2_sa_key_zero_non_ar_reservation_26_00),
	    T(test_b6_case3_preempt_holder_same_type),
	    T(test_b6_case3_type_change_ua_2a04),
	    T(test_b6_case3_self_preempt_changes_type),
	    T(test_b6_case3_self_preempt_same_type),
	    T(test_b6_case3_invalid_type_scope_24_00_no_change),
	    T(test_b6_duplicate_keys_on_several_nexuses_all_removed),
	    T(test_b6_sender_never_removed),
	    T(test_b6_case4_ar_sa_key_zero_preempt_to_ea_ro),
	    T(test_b6_case4_ar_sa_key_zero_preempt_same_type),
	    T(test_b6_case4_ar_sa_key_zero_preempt_abort_aborts_everyone),
	    T(test_b6_case4_ar_sa_key_nonzero_removes_only_matching),
	    T(test_b6_case4_ar_sa_key_nonzero_no_match_conflict),
	    T(test_b6_preempt_abort_all_tg_pt_registration_every_port),
	    T(test_b6_preempt_has_no_abort_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
