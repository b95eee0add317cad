/* REGISTER and REGISTER AND IGNORE EXISTING KEY: pr-rules.md B2 row 1, the
 * REGISTER rows of B3a, B5 (key change, unregister, implicit release, ALL_TG_PT,
 * APTPL), SPEC_I_PT, and docs/pr-engine.md "Identity". */
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

/* ---- B2 row 1: REGISTER / REGISTER AND IGNORE are allowed for everyone ---- */

static void test_b2_unregistered_register_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);

	assert_int_equal(pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, 0, KEY_B, &r), 0);
	assert_good(&r);
	assert_true(r.changed);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->b), KEY_B);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_resv(st, PRK_PR_EA);
	assert_true(prk_pr_is_holder(st, &c->a));
}

static void test_b2_unregistered_register_ignore_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);

	pt_out(st, &c->b, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->b), KEY_B);
}

static void test_b2_registered_nonholder_register_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);

	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, KEY_C, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->b), KEY_C);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_false(prk_pr_is_holder(st, &c->b));
}

static void test_b2_registered_nonholder_register_ignore_allowed(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);

	pt_out(st, &c->b, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KEY_D, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->b), KEY_D);
	assert_resv(st, PRK_PR_WE_RO);
}

/* ---- B3a REGISTER rows ---- */

static void test_b3a_unregistered_register_nonzero_key_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_X, KEY_A, &r);
	assert_conflict(&r);
	assert_false(r.changed);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_int_equal(prk_pr_generation(st), 0);
}

/* REGISTER AND IGNORE EXISTING KEY ignores RESERVATION KEY, also when the
 * sender is not registered. */
static void test_b3a_unregistered_register_ignore_nonzero_key_registers(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_out(st, &c->a, PRK_PROUT_REGISTER_AND_IGNORE, 0, KEY_X, KEY_A, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
}

static void test_b3a_unregistered_register_sa_key_zero_noop(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->b, KEY_B);
	uint32_t gen = prk_pr_generation(st);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	assert_non_null(before);

	/* REGISTER, with APTPL set: nothing at all changes (docs: not even
	 * APTPL or the generation). */
	pt_out_req(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = 0, .aptpl = true), &r);
	assert_good(&r);
	assert_false(r.changed);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = 0, .aptpl = true), &r);
	assert_good(&r);
	assert_false(r.changed);
	prk_pr_result_free(&r);

	assert_unregistered(st, &c->a);
	assert_false(prk_pr_aptpl(st));
	assert_int_equal(prk_pr_generation(st), gen);
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
}

static void test_b3a_registered_register_key_mismatch_conflict(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	uint32_t gen = prk_pr_generation(st);

	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_X, KEY_B, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	/* Unregistering with a wrong key conflicts too. */
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_X, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);

	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_int_equal(prk_pr_generation(st), gen);
}

static void test_b3a_register_ignore_skips_key_check(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_out(st, &c->a, PRK_PROUT_REGISTER_AND_IGNORE, 0, KEY_X, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b3a_registered_spec_i_pt_invalid_field(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_reg(st, &c->a, KEY_A);
	pt_tid_port(&t, &c->b);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_A, .sa_key = KEY_A, .tids = &t,
	                  .n_tids = 1),
	           &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 20, 3);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->b);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b3a_spec_i_pt_on_other_action_invalid_field(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_reg(st, &c->a, KEY_A);
	pt_tid_port(&t, &c->b);
	static const uint8_t sas[] = {
	    PRK_PROUT_RESERVE, PRK_PROUT_RELEASE,           PRK_PROUT_CLEAR,
	    PRK_PROUT_PREEMPT, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PROUT_REGISTER_AND_IGNORE};
	for (size_t i = 0; i < sizeof(sas); i++) {
		pt_out_req(st, &c->a,
		           PT_REQ(.sa = sas[i], .type = PRK_PR_WE, .key = KEY_A, .sa_key = KEY_A,
		                  .tids = &t, .n_tids = 1),
		           &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
		assert_field(&r, false, 20, 3);
		prk_pr_result_free(&r);
	}
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_no_resv(st);
}

static void test_b3a_all_tg_pt_on_other_action_invalid_field(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	static const uint8_t sas[] = {PRK_PROUT_RESERVE, PRK_PROUT_RELEASE, PRK_PROUT_CLEAR,
	                              PRK_PROUT_PREEMPT, PRK_PROUT_PREEMPT_AND_ABORT};
	for (size_t i = 0; i < sizeof(sas); i++) {
		pt_out_req(st, &c->a,
		           PT_REQ(.sa = sas[i], .type = PRK_PR_WE, .key = KEY_A, .sa_key = KEY_B,
		                  .all_tg_pt = true),
		           &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
		assert_field(&r, false, 20, 2);
		prk_pr_result_free(&r);
	}
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_no_resv(st);
}

static void test_b3a_param_list_length_not_24_error(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint8_t params[64];
	uint8_t cdb[10];
	memset(params, 0, sizeof(params));
	assert_int_equal(
	    prk_prout_params_encode_basic(0, KEY_A, false, false, NULL, 0, params, sizeof(params)),
	    24);
	static const size_t lens[] = {0, 8, 16, 23, 25, 28, 32};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pt_prout_cdb(cdb, PRK_PROUT_REGISTER, 0, 0, (uint32_t)lens[i]);
		pt_out_raw(st, &c->a, cdb, params, lens[i], &r);
		assert_illegal(&r, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		prk_pr_result_free(&r);
	}
	assert_int_equal(prk_pr_reg_count(st), 0);
	/* Exactly 24 works. */
	pt_prout_cdb(cdb, PRK_PROUT_REGISTER, 0, 0, 24);
	pt_out_raw(st, &c->a, cdb, params, 24, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
}

static void test_b3a_spec_i_pt_tpdl_mismatch_invalid_field(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint8_t params[256];
	uint8_t cdb[10];
	struct prk_tid t;
	pt_tid_port(&t, &c->b);
	memset(params, 0, sizeof(params));
	size_t len =
	    prk_prout_params_encode_basic(0, KEY_A, false, false, &t, 1, params, sizeof(params));
	assert_true(len > PRK_PROUT_SPEC_I_PT_HDR_LEN);
	/* Four extra bytes beyond TRANSPORTID PARAMETER DATA LENGTH + 28. */
	pt_prout_cdb(cdb, PRK_PROUT_REGISTER, 0, 0, (uint32_t)(len + 4));
	pt_out_raw(st, &c->a, cdb, params, len + 4, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_field(&r, false, 24, -1);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_b3a_register_insufficient_resources_55_04(void **state)
{
	CTX; /* max_registrations = 2 */
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	uint32_t gen = prk_pr_generation(st);
	pt_out(st, &c->c, PRK_PROUT_REGISTER, 0, 0, KEY_C, &r);
	assert_illegal(&r, PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES);
	prk_pr_result_free(&r);
	pt_out(st, &c->c, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KEY_C, &r);
	assert_illegal(&r, PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->c);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_int_equal(prk_pr_generation(st), gen);
	/* Re-keying an existing registration needs no room. */
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, KEY_D, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	/* After an unregistration there is room again. */
	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_reg(st, &c->c, KEY_C);
}

/* ---- B5 registration semantics ---- */

static void test_b5_register_changes_key(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, KEY_B, &r);
	assert_good(&r);
	assert_true(r.changed);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	assert_int_equal(pt_key_count(st, KEY_A), 0);
	assert_int_equal(pt_key_count(st, KEY_B), 1);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b5_register_ignore_changes_key(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_out(st, &c->a, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KEY_C, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_C);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b5_unregister_sa_key_zero(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, 0, &r);
	assert_good(&r);
	assert_true(r.changed);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_registered(st, &c->b);
	assert_int_equal(pt_key_count(st, KEY_A), 0);
	/* REGISTER AND IGNORE with SA key 0 unregisters too. */
	pt_out(st, &c->b, PRK_PROUT_REGISTER_AND_IGNORE, 0, KEY_X, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

/* B1 / docs "Identity": iSCSI names compare case-insensitively. */
static void test_b1_name_case_insensitive_identity(void **state)
{
	CTX;
	struct prk_pr_result r;
	assert_true(prk_nexus_eq(&c->a, &c->a_upper));
	assert_false(prk_nexus_eq(&c->a, &c->a_isid2));
	assert_false(prk_nexus_eq(&c->a, &c->a_port2));
	pt_reg(st, &c->a, KEY_A);
	assert_registered(st, &c->a_upper);
	/* The upper-case spelling is the same registration: a second REGISTER
	 * with RESERVATION KEY 0 conflicts, a key change works. */
	pt_out(st, &c->a_upper, PRK_PROUT_REGISTER, 0, 0, KEY_B, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->a_upper, PRK_PROUT_REGISTER, 0, KEY_A, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	/* Another ISID of the same name is another initiator port. */
	assert_unregistered(st, &c->a_isid2);
	assert_unregistered(st, &c->a_port2);
}

static void unregister_holder_ro(void **state, uint8_t type)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_resv(st, &c->a, KEY_A, type);

	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, 0, &r);
	assert_good(&r);
	assert_no_resv(st);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->b);
	assert_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->c);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->a);
	assert_no_ua(&r, PRK_ASC_RESERVATIONS_RELEASED, &c->a, &c->d);
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_int_equal(prk_pr_reg_count(st), 2);
}

static void test_b5_unregister_holder_we_ro_releases_ua_2a04(void **state)
{
	unregister_holder_ro(state, PRK_PR_WE_RO);
}

static void test_b5_unregister_holder_ea_ro_releases_ua_2a04(void **state)
{
	unregister_holder_ro(state, PRK_PR_EA_RO);
}

static void unregister_holder_plain(void **state, uint8_t type)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, type);

	pt_out(st, &c->a, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, 0, &r);
	assert_good(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_no_resv(st);
	assert_unregistered(st, &c->a);
	assert_registered(st, &c->b);
}

static void test_b5_unregister_holder_we_releases_no_ua(void **state)
{
	unregister_holder_plain(state, PRK_PR_WE);
}

static void test_b5_unregister_holder_ea_releases_no_ua(void **state)
{
	unregister_holder_plain(state, PRK_PR_EA);
}

static void unregister_ar_last(void **state, uint8_t type)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_resv(st, &c->b, KEY_B, type);

	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, 0, &r);
	assert_good(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_resv(st, type);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_true(prk_pr_is_holder(st, &c->c));
	assert_false(prk_pr_is_holder(st, &c->b));

	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, 0, &r);
	assert_good(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_resv(st, type);
	assert_true(prk_pr_is_holder(st, &c->c));

	pt_out(st, &c->c, PRK_PROUT_REGISTER, 0, KEY_C, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_no_resv(st);
	assert_int_equal(prk_pr_reg_count(st), 0);

	/* A new registrant does not inherit anything. */
	pt_reg(st, &c->d, KEY_D);
	assert_no_resv(st);
}

static void test_b5_unregister_we_ar_reservation_stays_until_last(void **state)
{
	unregister_ar_last(state, PRK_PR_WE_AR);
}

static void test_b5_unregister_ea_ar_reservation_stays_until_last(void **state)
{
	unregister_ar_last(state, PRK_PR_EA_AR);
}

static void test_b5_unregister_nonholder_keeps_reservation(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_RO);
	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, 0, &r);
	assert_good(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_resv(st, PRK_PR_EA_RO);
	assert_true(prk_pr_is_holder(st, &c->a));
}

/* Re-keying the holder keeps the reservation (it belongs to the
 * registration). */
static void test_b5_rekey_holder_keeps_reservation(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_prin_resv rv;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_A, KEY_B, &r);
	assert_good(&r);
	assert_int_equal(r.n_ua, 0);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->a));
	pt_read_resv(st, &c->d, &rv);
	assert_true(rv.present);
	assert_int_equal(rv.key, KEY_B);
	assert_int_equal(rv.type, PRK_PR_WE);
}

/* ---- ALL_TG_PT ---- */

static void test_b5_all_tg_pt_covers_other_target_ports(void **state)
{
	CTX;
	uint64_t keys[8];
	struct prk_full_desc d[4];
	uint32_t gen;
	pt_reg_atp(st, &c->a, KEY_A);
	assert_registered(st, &c->a);
	assert_registered(st, &c->a_port2);
	assert_int_equal(prk_pr_find(st, &c->a), prk_pr_find(st, &c->a_port2));
	/* Another initiator port of the same device is not covered. */
	assert_unregistered(st, &c->a_isid2);
	assert_int_equal(prk_pr_reg_count(st), 1);

	/* One registration: one key in READ KEYS, one descriptor. */
	assert_int_equal(pt_read_keys(st, &c->b, &gen, keys, 8), 1);
	assert_int_equal(keys[0], KEY_A);
	assert_int_equal(pt_read_full(st, &c->b, NULL, d, 4), 1);
	assert_true(d[0].all_tg_pt);
	assert_int_equal(d[0].key, KEY_A);

	struct prk_pr_reg_info info;
	prk_pr_reg_info(st, 0, &info);
	assert_true(info.all_tg_pt);
	assert_false(info.any_isid);
	assert_int_equal(info.key, KEY_A);
}

static void test_b5_all_tg_pt_key_change_from_other_port(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg_atp(st, &c->a, KEY_A);
	/* From port 2 the same registration is seen: REGISTER with
	 * RESERVATION KEY 0 conflicts, with KEY_A it re-keys. */
	pt_out(st, &c->a_port2, PRK_PROUT_REGISTER, 0, 0, KEY_B, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->a_port2, PRK_PROUT_REGISTER, 0, KEY_A, KEY_B, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	assert_int_equal(pt_key_of(st, &c->a_port2), KEY_B);
}

static void test_b5_all_tg_pt_unregister_from_other_port(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg_atp(st, &c->a, KEY_A);
	/* docs: ALL_TG_PT on the unregistering REGISTER is not required. */
	pt_out(st, &c->a_port2, PRK_PROUT_REGISTER, 0, KEY_A, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_unregistered(st, &c->a_port2);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

/* docs: ALL_TG_PT on a REGISTER from an already registered nexus is ignored. */
static void test_b5_all_tg_pt_ignored_when_registered(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_out_req(
	    st, &c->a,
	    PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_A, .sa_key = KEY_B, .all_tg_pt = true), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(pt_key_of(st, &c->a), KEY_B);
	assert_unregistered(st, &c->a_port2);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b5_all_tg_pt_holder_on_every_port(void **state)
{
	CTX;
	pt_reg_atp(st, &c->a, KEY_A);
	pt_resv(st, &c->a_port2, KEY_A, PRK_PR_EA);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_true(prk_pr_is_holder(st, &c->a_port2));
	assert_false(prk_pr_is_holder(st, &c->a_isid2));
	long h = -2;
	uint8_t t, s;
	assert_true(prk_pr_reservation(st, &t, &s, &h));
	assert_int_equal(h, prk_pr_find(st, &c->a));
}

/* ---- APTPL (B5, B10) ---- */

static void test_b5_aptpl_last_wins(void **state)
{
	CTX;
	struct prk_pr_result r;
	assert_false(prk_pr_aptpl(st));

	pt_out_req(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .aptpl = true), &r);
	assert_good(&r);
	assert_true(r.persist);
	prk_pr_result_free(&r);
	assert_true(prk_pr_aptpl(st));

	pt_out_req(st, &c->b, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_B, .aptpl = false),
	           &r);
	assert_good(&r);
	assert_true(r.persist); /* APTPL "just was" on: the record must be rewritten */
	prk_pr_result_free(&r);
	assert_false(prk_pr_aptpl(st));

	pt_out_req(st, &c->c,
	           PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = KEY_C, .aptpl = true), &r);
	assert_good(&r);
	assert_true(r.persist);
	prk_pr_result_free(&r);
	assert_true(prk_pr_aptpl(st));

	/* A key change carries APTPL too. */
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_A, .sa_key = KEY_D, .aptpl = false),
	           &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_false(prk_pr_aptpl(st));
}

static void test_b10_persist_flag_follows_aptpl(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_out_req(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A), &r);
	assert_good(&r);
	assert_false(r.persist);
	prk_pr_result_free(&r);
	pt_out(st, &c->a, PRK_PROUT_RESERVE, PRK_PR_WE, KEY_A, 0, &r);
	assert_good(&r);
	assert_false(r.persist);
	prk_pr_result_free(&r);

	pt_out_req(st, &c->b, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_B, .aptpl = true), &r);
	assert_good(&r);
	assert_true(r.persist);
	prk_pr_result_free(&r);
	/* With APTPL on, a RELEASE changes persistent state. */
	pt_out(st, &c->a, PRK_PROUT_RELEASE, PRK_PR_WE, KEY_A, 0, &r);
	assert_good(&r);
	assert_true(r.changed);
	assert_true(r.persist);
	prk_pr_result_free(&r);
}

/* ---- SPEC_I_PT ---- */

static void test_spec_i_pt_registers_sender_and_every_tid(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[2];
	pt_tid_port(&t[0], &c->b);
	pt_tid_port(&t[1], &c->c);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 2), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_int_equal(pt_key_count(st, KEY_A), 3);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_int_equal(pt_key_of(st, &c->b), KEY_A);
	/* Registered on the receiving target port (1), not on c's port 2. */
	assert_int_equal(pt_key_of(st, &c->c_port1), KEY_A);
	assert_unregistered(st, &c->c);
	assert_int_equal(prk_pr_generation(st), 1);
}

static void test_spec_i_pt_all_tg_pt_registers_every_port(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	pt_tid_port(&t, &c->b);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .all_tg_pt = true, .tids = &t,
	                  .n_tids = 1),
	           &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_registered(st, &c->a_port2);
	assert_registered(st, &c->b);
	assert_registered(st, &c->b_port2);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_int_equal(prk_pr_generation(st), 1);
}

static void test_spec_i_pt_already_registered_tid_all_or_nothing(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[2];
	pt_reg(st, &c->b, KEY_B);
	uint32_t gen = prk_pr_generation(st);
	pt_tid_port(&t[0], &c->c);
	pt_tid_port(&t[1], &c->b); /* b is registered on port 1 already */
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 2), &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	assert_false(r.changed);
	prk_pr_result_free(&r);
	assert_unregistered(st, &c->a);
	assert_unregistered(st, &c->c_port1);
	assert_int_equal(pt_key_of(st, &c->b), KEY_B);
	assert_int_equal(prk_pr_reg_count(st), 1);
	assert_int_equal(prk_pr_generation(st), gen);
}

static void test_spec_i_pt_duplicate_tid_rejected(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[3];
	pt_tid_port(&t[0], &c->b);
	pt_tid_port(&t[1], &c->c);
	pt_tid_port(&t[2], &c->b);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 3), &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_int_equal(prk_pr_generation(st), 0);
}

/* The same initiator port named twice with different name case is a
 * duplicate too. */
static void test_spec_i_pt_duplicate_tid_case_insensitive(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[2];
	struct prk_nexus b_upper;
	pt_nexus(&b_upper, "IQN.2001-04.COM.EXAMPLE:NODE-B", PT_ISID_B, PT_RTPI_1);
	pt_tid_port(&t[0], &c->b);
	pt_tid_port(&t[1], &b_upper);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 2), &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_spec_i_pt_format00_registers_any_isid(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t;
	struct prk_nexus b_other_isid, b_upper_other;
	pt_nexus(&b_other_isid, PT_NAME_B, 0x000000000777ULL, PT_RTPI_1);
	pt_nexus(&b_upper_other, "IQN.2001-04.com.EXAMPLE:Node-B", 0x000000000778ULL, PT_RTPI_1);
	pt_tid_dev(&t, PT_NAME_B);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = &t, .n_tids = 1), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 2);
	long i = prk_pr_find(st, &c->b);
	assert_true(i >= 0);
	assert_int_equal(prk_pr_find(st, &b_other_isid), i);
	assert_int_equal(prk_pr_find(st, &b_upper_other), i);
	/* Only on the receiving port (no ALL_TG_PT). */
	assert_unregistered(st, &c->b_port2);

	struct prk_pr_reg_info info;
	prk_pr_reg_info(st, (size_t)i, &info);
	assert_true(info.any_isid);
	assert_false(info.all_tg_pt);
	assert_int_equal(info.key, KEY_A);

	/* READ FULL STATUS shows it with a format-00b TransportID. */
	struct prk_full_desc d[4];
	size_t n = pt_read_full(st, &c->d, NULL, d, 4);
	assert_int_equal(n, 2);
	size_t found = 0;
	for (size_t k = 0; k < n; k++) {
		if (prk_iscsi_name_eq(d[k].tid.name, PT_NAME_B)) {
			assert_int_equal(d[k].tid.format, PRK_TID_FMT_DEVICE);
			found++;
		}
	}
	assert_int_equal(found, 1);

	/* Any ISID of b can use the registration. */
	pt_out(st, &b_other_isid, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KEY_A, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(prk_pr_is_holder(st, &c->b));
}

static void test_spec_i_pt_sender_tid_skipped(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[2];
	pt_tid_port(&t[0], &c->a_upper); /* the sender itself, other spelling */
	pt_tid_port(&t[1], &c->b);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 2), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 2);
	assert_int_equal(pt_key_count(st, KEY_A), 2);
	assert_registered(st, &c->a);
	assert_registered(st, &c->b);
}

static void test_spec_i_pt_capacity_55_04_nothing_registered(void **state)
{
	CTX; /* max_registrations = 2 */
	struct prk_pr_result r;
	struct prk_tid t[2];
	pt_tid_port(&t[0], &c->b);
	pt_tid_port(&t[1], &c->c);
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 2), &r);
	assert_illegal(&r, PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES);
	assert_false(r.changed);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_int_equal(prk_pr_generation(st), 0);
	/* Two fit. */
	pt_out_req(st, &c->a,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .tids = t, .n_tids = 1), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(prk_pr_reg_count(st), 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)
#define T2(f) cmocka_unit_test_setup_teardown(f, pt_setup_max2, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b2_unregistered_register_allowed),
	    T(test_b2_unregistered_register_ignore_allowed),
	    T(test_b2_registered_nonholder_register_allowed),
	    T(test_b2_registered_nonholder_register_ignore_allowed),
	    T(test_b3a_unregistered_register_nonzero_key_conflict),
	    T(test_b3a_unregistered_register_ignore_nonzero_key_registers),
	    T(test_b3a_unregistered_register_sa_key_zero_noop),
	    T(test_b3a_registered_register_key_mismatch_conflict),
	    T(test_b3a_register_ignore_skips_key_check),
	    T(test_b3a_registered_spec_i_pt_invalid_field),
	    T(test_b3a_spec_i_pt_on_other_action_invalid_field),
	    T(test_b3a_all_tg_pt_on_other_action_invalid_field),
	    T(test_b3a_param_list_length_not_24_error),
	    T(test_b3a_spec_i_pt_tpdl_mismatch_invalid_field),
	    T2(test_b3a_register_insufficient_resources_55_04),
	    T(test_b5_register_changes_key),
	    T(test_b5_register_ignore_changes_key),
	    T(test_b5_unregister_sa_key_zero),
	    T(test_b1_name_case_insensitive_identity),
	    T(test_b5_unregister_holder_we_ro_releases_ua_2a04),
	    T(test_b5_unregister_holder_ea_ro_releases_ua_2a04),
	    T(test_b5_unregister_holder_we_releases_no_ua),
	    T(test_b5_unregister_holder_ea_releases_no_ua),
	    T(test_b5_unregister_we_ar_reservation_stays_until_last),
	    T(test_b5_unregister_ea_ar_reservation_stays_until_last),
	    T(test_b5_unregister_nonholder_keeps_reservation),
	    T(test_b5_rekey_holder_keeps_reservation),
	    T(test_b5_all_tg_pt_covers_other_target_ports),
	    T(test_b5_all_tg_pt_key_change_from_other_port),
	    T(test_b5_all_tg_pt_unregister_from_other_port),
	    T(test_b5_all_tg_pt_ignored_when_registered),
	    T(test_b5_all_tg_pt_holder_on_every_port),
	    T(test_b5_aptpl_last_wins),
	    T(test_b10_persist_flag_follows_aptpl),
	    T(test_spec_i_pt_registers_sender_and_every_tid),
	    T(test_spec_i_pt_all_tg_pt_registers_every_port),
	    T(test_spec_i_pt_already_registered_tid_all_or_nothing),
	    T(test_spec_i_pt_duplicate_tid_rejected),
	    T(test_spec_i_pt_duplicate_tid_case_insensitive),
	    T(test_spec_i_pt_format00_registers_any_isid),
	    T(test_spec_i_pt_sender_tid_skipped),
	    T2(test_spec_i_pt_capacity_55_04_nothing_registered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
