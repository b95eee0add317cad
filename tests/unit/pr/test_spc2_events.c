/* SPC-2 RESERVE/RELEASE with CRH=1 (pr-rules.md B11) and the events of B12
 * (I_T nexus loss, LU reset, power on), as decided in docs/pr-engine.md. */
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

static const uint8_t RESERVE6[6] = {0x16, 0, 0, 0, 0, 0};
static const uint8_t RELEASE6[6] = {0x17, 0, 0, 0, 0, 0};
static const uint8_t RESERVE10[10] = {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t RELEASE10[10] = {0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static const uint8_t all_types[] = {PRK_PR_WE,    PRK_PR_EA,    PRK_PR_WE_RO,
                                    PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};

static int spc2(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
                size_t len, struct prk_pr_result *r)
{
	prk_pr_result_init(r);
	return prk_pr_spc2(st, from, cdb, len, r);
}

/* Runs an SPC-2 command and checks its status. */
#define SPC2_EXPECT(st, from, cdb, want)                                                           \
	do {                                                                                       \
		struct prk_pr_result r_;                                                           \
		spc2((st), (from), (cdb), sizeof(cdb), &r_);                                       \
		pt_assert_status_at(&r_, (want), __FILE__, __LINE__);                              \
		prk_pr_result_free(&r_);                                                           \
	} while (0)

static bool spc2_holder_is(const struct prk_pr_state *st, const struct prk_nexus *nx)
{
	struct prk_nexus h;
	memset(&h, 0, sizeof(h));
	if (!prk_pr_spc2_holder(st, &h))
		return false;
	return prk_nexus_eq(&h, nx);
}

static bool spc2_reserved(const struct prk_pr_state *st)
{
	struct prk_nexus h;
	return prk_pr_spc2_holder(st, &h);
}

/* ---- B11 without PR registrations ---- */

static void test_b11_reserve6_without_registrations_good(void **state)
{
	CTX;
	struct prk_pr_result r;
	assert_false(spc2_reserved(st));
	assert_int_equal(spc2(st, &c->d, RESERVE6, 6, &r), 0);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_true(spc2_holder_is(st, &c->d));
	assert_int_equal(prk_pr_generation(st), 0);
	assert_int_equal(prk_pr_reg_count(st), 0);
}

static void test_b11_reserve10_without_registrations_good(void **state)
{
	CTX;
	SPC2_EXPECT(st, &c->b, RESERVE10, PRK_STATUS_GOOD);
	assert_true(spc2_holder_is(st, &c->b));
	assert_false(spc2_holder_is(st, &c->b_port2));
}

static void test_b11_reserve_by_other_while_reserved_conflict(void **state)
{
	CTX;
	SPC2_EXPECT(st, &c->d, RESERVE6, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->b, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
	SPC2_EXPECT(st, &c->b, RESERVE10, PRK_STATUS_RESERVATION_CONFLICT);
	/* Nor may a third initiator. */
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
	assert_true(spc2_holder_is(st, &c->d));
}

static void test_b11_reserve_by_holder_again_good(void **state)
{
	CTX;
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->a_upper, RESERVE10, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->a_port2, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
	assert_true(spc2_holder_is(st, &c->a));
}

static void test_b11_release_by_holder_releases(void **state)
{
	CTX;
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->a, RELEASE6, PRK_STATUS_GOOD);
	assert_false(spc2_reserved(st));
	SPC2_EXPECT(st, &c->b, RESERVE10, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->b, RELEASE10, PRK_STATUS_GOOD);
	assert_false(spc2_reserved(st));
	/* RELEASE with nothing reserved: GOOD. */
	SPC2_EXPECT(st, &c->b, RELEASE10, PRK_STATUS_GOOD);
	/* PR works again once released. */
	pt_reg(st, &c->a, KEY_A);
}

static void test_b11_release_by_other_good_no_change(void **state)
{
	CTX;
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->b, RELEASE6, PRK_STATUS_GOOD);
	SPC2_EXPECT(st, &c->a_isid2, RELEASE10, PRK_STATUS_GOOD);
	assert_true(spc2_holder_is(st, &c->a));
}

static void test_b11_prin_conflict_while_spc2_reserved(void **state)
{
	CTX;
	uint8_t buf[256];
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
	const struct prk_nexus *who[] = {&c->a, &c->b};
	for (size_t w = 0; w < 2; w++)
		for (uint8_t sa = 0; sa <= PRK_PRIN_SA_MAX; sa++) {
			struct prk_pr_result r;
			pt_in(st, who[w], sa, buf, sizeof(buf), &r);
			assert_conflict(&r);
			prk_pr_result_free(&r);
		}
}

static void test_b11_prout_conflict_while_spc2_reserved(void **state)
{
	CTX;
	struct prk_pr_result r;
	SPC2_EXPECT(st, &c->a, RESERVE10, PRK_STATUS_GOOD);
	const struct prk_nexus *who[] = {&c->a, &c->b};
	for (size_t w = 0; w < 2; w++) {
		pt_out(st, who[w], PRK_PROUT_REGISTER, 0, 0, KEY_A, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
		pt_out(st, who[w], PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, KEY_A, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
		pt_out(st, who[w], PRK_PROUT_RESERVE, PRK_PR_WE, 0, 0, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
		pt_out(st, who[w], PRK_PROUT_CLEAR, 0, 0, 0, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
		/* docs order: the SPC-2 check comes before the CDB check. */
		uint8_t cdb[10] = {0x5f, 0x1f, 0, 0, 0, 0, 0, 0, 24, 0};
		uint8_t params[24] = {0};
		pt_out_raw(st, who[w], cdb, params, 24, &r);
		assert_conflict(&r);
		prk_pr_result_free(&r);
	}
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_true(spc2_holder_is(st, &c->a));
}

/* ---- B11 with PR registrations (CRH=1) ---- */

static void test_b11_crh_holder_reserve_release_good_no_change(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	for (size_t t = 0; t < sizeof(all_types); t++) {
		struct prk_pr_result r;
		pt_resv(st, &c->a, KEY_A, all_types[t]);
		struct prk_pr_state *before = prk_pr_state_clone(st);
		SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
		SPC2_EXPECT(st, &c->a, RESERVE10, PRK_STATUS_GOOD);
		SPC2_EXPECT(st, &c->a, RELEASE6, PRK_STATUS_GOOD);
		SPC2_EXPECT(st, &c->a, RELEASE10, PRK_STATUS_GOOD);
		assert_false(spc2_reserved(st));
		assert_true(prk_pr_state_equal(st, before));
		prk_pr_state_free(before);
		pt_out(st, &c->a, PRK_PROUT_RELEASE, all_types[t], KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b11_crh_registrant_under_ro_ar_good_no_change(void **state)
{
	CTX;
	static const uint8_t types[] = {PRK_PR_WE_RO, PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	for (size_t t = 0; t < sizeof(types); t++) {
		struct prk_pr_result r;
		pt_resv(st, &c->a, KEY_A, types[t]);
		struct prk_pr_state *before = prk_pr_state_clone(st);
		SPC2_EXPECT(st, &c->b, RESERVE6, PRK_STATUS_GOOD);
		SPC2_EXPECT(st, &c->b, RELEASE10, PRK_STATUS_GOOD);
		assert_false(spc2_reserved(st));
		assert_true(prk_pr_state_equal(st, before));
		prk_pr_state_free(before);
		/* Unregistered: conflict. */
		SPC2_EXPECT(st, &c->d, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
		SPC2_EXPECT(st, &c->d, RELEASE6, PRK_STATUS_RESERVATION_CONFLICT);
		pt_out(st, &c->a, PRK_PROUT_RELEASE, types[t], KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

static void test_b11_registrations_exist_conflict(void **state)
{
	CTX;
	/* Registrations, no reservation: everyone conflicts. */
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
	SPC2_EXPECT(st, &c->a, RELEASE6, PRK_STATUS_RESERVATION_CONFLICT);
	SPC2_EXPECT(st, &c->d, RESERVE10, PRK_STATUS_RESERVATION_CONFLICT);
	SPC2_EXPECT(st, &c->d, RELEASE10, PRK_STATUS_RESERVATION_CONFLICT);
	assert_false(spc2_reserved(st));

	/* WE / EA reservation: a registered non-holder conflicts. */
	static const uint8_t types[] = {PRK_PR_WE, PRK_PR_EA};
	for (size_t t = 0; t < 2; t++) {
		struct prk_pr_result r;
		pt_resv(st, &c->a, KEY_A, types[t]);
		SPC2_EXPECT(st, &c->b, RESERVE6, PRK_STATUS_RESERVATION_CONFLICT);
		SPC2_EXPECT(st, &c->b, RELEASE6, PRK_STATUS_RESERVATION_CONFLICT);
		SPC2_EXPECT(st, &c->d, RESERVE10, PRK_STATUS_RESERVATION_CONFLICT);
		pt_out(st, &c->a, PRK_PROUT_RELEASE, types[t], KEY_A, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
	assert_false(spc2_reserved(st));
}

static void test_b11_reserve10_3rdpty_longid_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint8_t cdb[10];
	static const struct {
		uint8_t op, byte1;
		int bit;
	} cases[] = {
	    {0x56, 0x10, 4}, /* RESERVE(10) 3RDPTY */
	    {0x56, 0x02, 1}, /* RESERVE(10) LONGID */
	    {0x57, 0x10, 4}, /* RELEASE(10) 3RDPTY */
	    {0x57, 0x02, 1}, /* RELEASE(10) LONGID */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(cdb, 0, sizeof(cdb));
		cdb[0] = cases[i].op;
		cdb[1] = cases[i].byte1;
		cdb[2] = 0x07; /* third-party device id */
		spc2(st, &c->a, cdb, 10, &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 1, cases[i].bit);
		prk_pr_result_free(&r);
	}
	assert_false(spc2_reserved(st));
}

static void test_b11_reserve6_extent_24_00(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint8_t cdb[6] = {0x16, 0x01, 0, 0, 0, 0};
	spc2(st, &c->a, cdb, 6, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 1, 0);
	prk_pr_result_free(&r);
	cdb[0] = 0x17;
	spc2(st, &c->a, cdb, 6, &r);
	assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
	assert_field(&r, true, 1, 0);
	prk_pr_result_free(&r);
	assert_false(spc2_reserved(st));
}

static void test_b11_access_while_spc2_reserved(void **state)
{
	CTX;
	static const struct {
		const char *name;
		uint8_t cdb[16];
		size_t len;
		bool other_allowed;
	} cmds[] = {
	    {"INQUIRY", {0x12, 0, 0, 0, 0x24, 0}, 6, true},
	    {"REPORT LUNS", {0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 12, true},
	    {"REQUEST SENSE", {0x03, 0, 0, 0, 18, 0}, 6, true},
	    {"LOG SENSE", {0x4d, 0, 0x4d, 0, 0, 0, 0, 0x02, 0, 0}, 10, true},
	    {"REPORT TARGET PORT GROUPS", {0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0}, 12, true},
	    {"READ(10)", {0x28, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, false},
	    {"WRITE(10)", {0x2a, 0, 0, 0, 0, 0x10, 0, 0, 8, 0}, 10, false},
	    {"TEST UNIT READY", {0}, 6, false},
	    {"READ CAPACITY(10)", {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, false},
	    {"MODE SENSE(6)", {0x1a, 0, 0x3f, 0, 0xff, 0}, 6, false},
	    {"MODE SELECT(6)", {0x15, 0x10, 0, 0, 0x18, 0}, 6, false},
	};
	SPC2_EXPECT(st, &c->a, RESERVE6, PRK_STATUS_GOOD);
	int bad = 0;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		enum prk_access got_other = prk_pr_access(st, &c->b, cmds[i].cdb, cmds[i].len);
		enum prk_access got_holder = prk_pr_access(st, &c->a, cmds[i].cdb, cmds[i].len);
		enum prk_access want =
		    cmds[i].other_allowed ? PRK_ACCESS_ALLOWED : PRK_ACCESS_CONFLICT;
		if (got_other != want) {
			print_error("%s from another nexus: %d, want %d\n", cmds[i].name, got_other,
			            want);
			bad++;
		}
		if (got_holder != PRK_ACCESS_ALLOWED) {
			print_error("%s from the SPC-2 holder: %d\n", cmds[i].name, got_holder);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	/* The same initiator port through another target port is not the
	 * holder. */
	assert_int_equal(prk_pr_access(st, &c->a_port2, cmds[5].cdb, cmds[5].len),
	                 PRK_ACCESS_CONFLICT);
	/* After RELEASE, everyone has access again. */
	SPC2_EXPECT(st, &c->a, RELEASE6, PRK_STATUS_GOOD);
	assert_int_equal(prk_pr_access(st, &c->b, cmds[6].cdb, cmds[6].len), PRK_ACCESS_ALLOWED);
}

/* ---- B12 ---- */

static void test_b12_nexus_loss_releases_spc2_of_holder_only(void **state)
{
	CTX;
	struct prk_pr_result r;
	SPC2_EXPECT(st, &c->d, RESERVE6, PRK_STATUS_GOOD);
	prk_pr_result_init(&r);
	prk_pr_nexus_loss(st, &c->b, &r);
	prk_pr_result_free(&r);
	assert_true(spc2_holder_is(st, &c->d));
	prk_pr_result_init(&r);
	prk_pr_nexus_loss(st, &c->d, &r);
	prk_pr_result_free(&r);
	assert_false(spc2_reserved(st));
	SPC2_EXPECT(st, &c->b, RESERVE6, PRK_STATUS_GOOD);
	assert_true(spc2_holder_is(st, &c->b));
}

static void test_b12_nexus_loss_keeps_pr(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA_RO);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	prk_pr_result_init(&r);
	prk_pr_nexus_loss(st, &c->a, &r);
	assert_false(r.changed);
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
	assert_true(prk_pr_is_holder(st, &c->a));
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_int_equal(prk_pr_generation(st), 2);
}

static void assert_ua_2903_everyone(const struct prk_pr_result *r, const struct pt_ctx *c)
{
	bool found = false;
	for (size_t i = 0; i < r->n_ua; i++)
		if (r->ua[i].asc == PRK_ASC_BUS_DEVICE_RESET && r->ua[i].to.everyone &&
		    !r->ua[i].skip_sender)
			found = true;
	assert_true(found);
	const struct prk_nexus *all[] = {&c->a, &c->b, &c->c, &c->d, &c->a_port2, &c->a_isid2};
	for (size_t i = 0; i < 6; i++)
		assert_true(pt_has_ua(r, PRK_ASC_BUS_DEVICE_RESET, NULL, all[i]));
}

static void test_b12_lu_reset_releases_spc2_ua_2903(void **state)
{
	CTX;
	struct prk_pr_result r;
	SPC2_EXPECT(st, &c->a, RESERVE10, PRK_STATUS_GOOD);
	prk_pr_result_init(&r);
	prk_pr_lu_reset(st, &r);
	assert_ua_2903_everyone(&r, c);
	prk_pr_result_free(&r);
	assert_false(spc2_reserved(st));
}

static void test_b12_lu_reset_keeps_pr_ua_2903(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg_atp(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_AR);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	prk_pr_result_init(&r);
	prk_pr_lu_reset(st, &r);
	assert_ua_2903_everyone(&r, c);
	assert_int_equal(r.n_abort, 0);
	prk_pr_result_free(&r);
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
	assert_resv(st, PRK_PR_WE_AR);
	assert_int_equal(prk_pr_reg_count(st), 2);
}

static void test_b12_power_on_without_aptpl_clears_all(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	assert_int_equal(prk_pr_generation(st), 2);
	prk_pr_power_on(st);
	assert_int_equal(prk_pr_reg_count(st), 0);
	assert_no_resv(st);
	assert_int_equal(prk_pr_generation(st), 0);
	assert_false(prk_pr_aptpl(st));
	uint32_t gen;
	uint64_t keys[4];
	assert_int_equal(pt_read_keys(st, &c->a, &gen, keys, 4), 0);
	assert_int_equal(gen, 0);
	/* A is a stranger now. */
	struct prk_pr_result r;
	pt_out(st, &c->a, PRK_PROUT_RESERVE, PRK_PR_EA, KEY_A, 0, &r);
	assert_conflict(&r);
	prk_pr_result_free(&r);
}

static void test_b12_power_on_with_aptpl_keeps_state(void **state)
{
	CTX;
	pt_must_out(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .aptpl = true));
	pt_reg_atp(st, &c->b, KEY_B);
	pt_must_out(st, &c->c, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_C, .aptpl = true));
	pt_resv(st, &c->b_port2, KEY_B, PRK_PR_WE_RO);
	assert_true(prk_pr_aptpl(st));
	assert_int_equal(prk_pr_generation(st), 3);
	prk_pr_power_on(st);
	assert_int_equal(prk_pr_generation(st), 0);
	assert_true(prk_pr_aptpl(st));
	assert_int_equal(prk_pr_reg_count(st), 3);
	assert_int_equal(pt_key_of(st, &c->a), KEY_A);
	assert_int_equal(pt_key_of(st, &c->b_port2), KEY_B);
	assert_int_equal(pt_key_of(st, &c->c), KEY_C);
	assert_resv(st, PRK_PR_WE_RO);
	assert_true(prk_pr_is_holder(st, &c->b));
	uint32_t gen;
	uint64_t keys[4];
	assert_int_equal(pt_read_keys(st, &c->d, &gen, keys, 4), 3);
	assert_int_equal(gen, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b11_reserve6_without_registrations_good),
	    T(test_b11_reserve10_without_registrations_good),
	    T(test_b11_reserve_by_other_while_reserved_conflict),
	    T(test_b11_reserve_by_holder_again_good),
	    T(test_b11_release_by_holder_releases),
	    T(test_b11_release_by_other_good_no_change),
	    T(test_b11_prin_conflict_while_spc2_reserved),
	    T(test_b11_prout_conflict_while_spc2_reserved),
	    T(test_b11_crh_holder_reserve_release_good_no_change),
	    T(test_b11_crh_registrant_under_ro_ar_good_no_change),
	    T(test_b11_registrations_exist_conflict),
	    T(test_b11_reserve10_3rdpty_longid_24_00),
	    T(test_b11_reserve6_extent_24_00),
	    T(test_b11_access_while_spc2_reserved),
	    T(test_b12_nexus_loss_releases_spc2_of_holder_only),
	    T(test_b12_nexus_loss_keeps_pr),
	    T(test_b12_lu_reset_releases_spc2_ua_2903),
	    T(test_b12_lu_reset_keeps_pr_ua_2903),
	    T(test_b12_power_on_without_aptpl_clears_all),
	    T(test_b12_power_on_with_aptpl_keeps_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
