/* PRgeneration (pr-rules.md B8, docs/pr-engine.md "PRgeneration"): +1 exactly
 * for every successful REGISTER, REGISTER AND IGNORE EXISTING KEY, CLEAR,
 * PREEMPT, PREEMPT AND ABORT, REGISTER AND MOVE and REPLACE LOST
 * RESERVATION, however many registrations change; unchanged by everything
 * else; 0 after power on. */
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

/* Asserts the generation both through the API and through READ KEYS. */
#define assert_gen(st, want)                                                                       \
	do {                                                                                       \
		uint32_t g_;                                                                       \
		uint64_t k_[1];                                                                    \
		struct prk_nexus o_;                                                               \
		pt_nexus(&o_, "iqn.2001-04.com.example:gen-observer", 7, 1);                       \
		pt_read_keys((st), &o_, &g_, k_, 0);                                               \
		assert_int_equal(g_, (uint32_t)(want));                                            \
		assert_int_equal(prk_pr_generation(st), (uint32_t)(want));                         \
	} while (0)

static void expect_good(struct prk_pr_state *st, const struct prk_nexus *from,
                        const struct pt_req *rq)
{
	struct prk_pr_result r;
	pt_out_req(st, from, rq, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
}

/* ---- +1 ---- */

static void test_b8_register_plus_one(void **state)
{
	CTX;
	assert_gen(st, 0);
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A));
	assert_gen(st, 1);
	expect_good(st, &c->b, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_B));
	assert_gen(st, 2);
}

static void test_b8_register_rekey_and_unregister_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_A, .sa_key = KEY_B));
	assert_gen(st, 2);
	/* Re-registering the same key is a successful REGISTER too. */
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_B, .sa_key = KEY_B));
	assert_gen(st, 3);
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_B, .sa_key = 0));
	assert_gen(st, 4);
}

static void test_b8_register_and_ignore_plus_one(void **state)
{
	CTX;
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = KEY_A));
	assert_gen(st, 1);
	expect_good(st, &c->a,
	            PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .key = KEY_X, .sa_key = KEY_C));
	assert_gen(st, 2);
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = 0));
	assert_gen(st, 3);
}

static void test_b8_spec_i_pt_several_registrations_plus_one(void **state)
{
	CTX;
	struct prk_tid t[3];
	pt_tid_port(&t[0], &c->b);
	pt_tid_port(&t[1], &c->c);
	pt_tid_dev(&t[2], PT_NAME_D);
	expect_good(st, &c->a,
	            PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .all_tg_pt = true, .tids = t,
	                   .n_tids = 3));
	assert_int_equal(prk_pr_reg_count(st), 4);
	assert_gen(st, 1);
}

static void test_b8_all_tg_pt_plus_one(void **state)
{
	CTX;
	expect_good(st, &c->a,
	            PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .all_tg_pt = true));
	assert_gen(st, 1);
	expect_good(
	    st, &c->b,
	    PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = KEY_B, .all_tg_pt = true));
	assert_gen(st, 2);
}

static void test_b8_clear_removing_several_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_reg_atp(st, &c->d, KEY_D);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	assert_gen(st, 4);
	expect_good(st, &c->b, PT_REQ(.sa = PRK_PROUT_CLEAR, .key = KEY_B));
	assert_gen(st, 5);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_b8_preempt_removing_several_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_B);
	pt_reg(st, &c->d, KEY_B);
	pt_resv(st, &c->b, KEY_B, PRK_PR_EA);
	assert_gen(st, 4);
	expect_good(
	    st, &c->a,
	    PT_REQ(.sa = PRK_PROUT_PREEMPT, .type = PRK_PR_WE, .key = KEY_A, .sa_key = KEY_B));
	assert_gen(st, 5);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

static void test_b8_preempt_abort_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_AR);
	assert_gen(st, 3);
	expect_good(st, &c->a,
	            PT_REQ(.sa = PRK_PROUT_PREEMPT_AND_ABORT, .type = PRK_PR_EA_AR, .key = KEY_A,
	                   .sa_key = 0));
	assert_gen(st, 4);
	assert_int_equal(prk_pr_reg_count(st), 1);
}

/* A PREEMPT that only changes the type (self preempt, nothing removed) still
 * completes a state-changing PREEMPT. */
static void test_b8_self_preempt_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	expect_good(
	    st, &c->a,
	    PT_REQ(.sa = PRK_PROUT_PREEMPT, .type = PRK_PR_EA, .key = KEY_A, .sa_key = KEY_A));
	assert_gen(st, 2);
}

static void test_b8_register_and_move_plus_one(void **state)
{
	CTX;
	struct prk_tid t;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	pt_tid_port(&t, &c->b);
	expect_good(st, &c->a,
	            PT_REQ(.sa = PRK_PROUT_REGISTER_AND_MOVE, .key = KEY_A, .sa_key = KEY_B,
	                   .rtpi = PT_RTPI_1, .move_tid = &t, .unreg = true));
	assert_gen(st, 2);
	assert_true(prk_pr_is_holder(st, &c->b));
}

static void test_b8_replace_lost_reservation_plus_one(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	prk_pr_mark_lost(st);
	uint32_t gen = prk_pr_generation(st);
	expect_good(
	    st, &c->b,
	    PT_REQ(.sa = PRK_PROUT_REPLACE_LOST, .type = PRK_PR_EA, .key = 0, .sa_key = KEY_B));
	assert_gen(st, gen + 1);
}

/* ---- unchanged ---- */

static void test_b8_reserve_release_unchanged(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);
	assert_gen(st, 2);
	/* Holder re-reserve, non-holder release, holder release. */
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_RESERVE, .type = PRK_PR_WE_RO, .key = KEY_A));
	expect_good(st, &c->b, PT_REQ(.sa = PRK_PROUT_RELEASE, .type = PRK_PR_WE_RO, .key = KEY_B));
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_RELEASE, .type = PRK_PR_WE_RO, .key = KEY_A));
	expect_good(st, &c->a, PT_REQ(.sa = PRK_PROUT_RELEASE, .type = PRK_PR_WE, .key = KEY_A));
	assert_gen(st, 2);
}

static void test_b8_prin_unchanged(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	for (int i = 0; i < 3; i++)
		for (uint8_t sa = 0; sa <= PRK_PRIN_SA_MAX; sa++) {
			uint8_t buf[256];
			struct prk_pr_result r;
			pt_in(st, &c->a, sa, buf, sizeof(buf), &r);
			assert_good(&r);
			prk_pr_result_free(&r);
		}
	assert_gen(st, 1);
}

static void test_b8_failed_commands_unchanged(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_tid t[2];
	uint8_t cdb[10], params[32];
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	assert_gen(st, 2);

	/* RESERVATION CONFLICT */
	pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, KEY_X, KEY_C, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->d, PRK_PROUT_REGISTER, 0, KEY_X, KEY_C, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->b, PRK_PROUT_CLEAR, 0, KEY_X, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->b, PRK_PROUT_PREEMPT, PRK_PR_WE, KEY_B, KEY_X, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
	/* CHECK CONDITION */
	pt_out(st, &c->b, PRK_PROUT_PREEMPT, 0x2, KEY_B, KEY_A, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	prk_pr_result_free(&r);
	pt_out(st, &c->b, PRK_PROUT_PREEMPT, PRK_PR_WE, KEY_B, 0, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	memset(params, 0, sizeof(params));
	pt_prout_cdb(cdb, PRK_PROUT_REGISTER, 0, 0, 16);
	pt_out_raw(st, &c->c, cdb, params, 16, &r);
	assert_illegal(&r, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	prk_pr_result_free(&r);
	pt_tid_port(&t[0], &c->c);
	pt_tid_port(&t[1], &c->b); /* already registered: all or nothing */
	pt_out_req(st, &c->a_isid2,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_D, .tids = t, .n_tids = 2), &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	prk_pr_result_free(&r);
	pt_out(st, &c->a, PRK_PROUT_REPLACE_LOST, PRK_PR_WE, 0, KEY_A, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	prk_pr_result_free(&r);
	assert_gen(st, 2);
	assert_int_equal(prk_pr_reg_count(st), 2);
}

static void test_b8_unregistered_sa_key_zero_noop_unchanged(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	expect_good(st, &c->d, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = 0));
	expect_good(st, &c->d, PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = 0));
	assert_gen(st, 1);
}

static void test_b8_spc2_and_events_unchanged(void **state)
{
	CTX;
	struct prk_pr_result r;
	static const uint8_t reserve6[6] = {0x16, 0, 0, 0, 0, 0};
	static const uint8_t release6[6] = {0x17, 0, 0, 0, 0, 0};
	prk_pr_result_init(&r);
	prk_pr_spc2(st, &c->a, reserve6, 6, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	prk_pr_result_init(&r);
	prk_pr_spc2(st, &c->a, release6, 6, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_reg(st, &c->a, KEY_A);
	prk_pr_result_init(&r);
	prk_pr_nexus_loss(st, &c->a, &r);
	prk_pr_result_free(&r);
	prk_pr_result_init(&r);
	prk_pr_lu_reset(st, &r);
	prk_pr_result_free(&r);
	assert_gen(st, 1);
}

/* The counter is plain uint32_t arithmetic: N successful registrations give
 * exactly N, whatever the mix. (The wrap at 2^32 itself cannot be reached
 * through the public API in a unit test.) */
static void test_b8_counter_counts_every_success(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint32_t n = 0;
	pt_reg(st, &c->a, KEY_A);
	n++;
	uint64_t key = KEY_A;
	for (uint32_t i = 0; i < 3000; i++) {
		uint64_t next = 0x1000 + i;
		if (i % 3 == 0)
			pt_out(st, &c->a, PRK_PROUT_REGISTER, 0, key, next, &r);
		else
			pt_out(st, &c->a, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, next, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
		key = next;
		n++;
		if (i % 100 == 0) {
			/* interleave non-counting commands */
			pt_out(st, &c->a, PRK_PROUT_RESERVE, PRK_PR_WE, key, 0, &r);
			assert_good(&r);
			prk_pr_result_free(&r);
			pt_out(st, &c->a, PRK_PROUT_RELEASE, PRK_PR_WE, key, 0, &r);
			assert_good(&r);
			prk_pr_result_free(&r);
		}
	}
	assert_gen(st, n);
	assert_int_equal(n, 3001);
}

static void test_b8_power_on_resets_to_zero(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	prk_pr_power_on(st);
	assert_gen(st, 0);
	pt_reg(st, &c->a, KEY_A);
	assert_gen(st, 1);

	/* With APTPL: registrations stay, the generation restarts. */
	expect_good(st, &c->b, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_B, .aptpl = true));
	assert_gen(st, 2);
	prk_pr_power_on(st);
	assert_gen(st, 0);
	assert_int_equal(prk_pr_reg_count(st), 2);
	expect_good(st, &c->b,
	            PT_REQ(.sa = PRK_PROUT_REGISTER, .key = KEY_B, .sa_key = KEY_C, .aptpl = true));
	assert_gen(st, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b8_register_plus_one),
	    T(test_b8_register_rekey_and_unregister_plus_one),
	    T(test_b8_register_and_ignore_plus_one),
	    T(test_b8_spec_i_pt_several_registrations_plus_one),
	    T(test_b8_all_tg_pt_plus_one),
	    T(test_b8_clear_removing_several_plus_one),
	    T(test_b8_preempt_removing_several_plus_one),
	    T(test_b8_preempt_abort_plus_one),
	    T(test_b8_self_preempt_plus_one),
	    T(test_b8_register_and_move_plus_one),
	    T(test_b8_replace_lost_reservation_plus_one),
	    T(test_b8_reserve_release_unchanged),
	    T(test_b8_prin_unchanged),
	    T(test_b8_failed_commands_unchanged),
	    T(test_b8_unregistered_sa_key_zero_noop_unchanged),
	    T(test_b8_spc2_and_events_unchanged),
	    T(test_b8_counter_counts_every_success),
	    T(test_b8_power_on_resets_to_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
