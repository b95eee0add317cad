/* PERSISTENT RESERVE IN (pr-rules.md B9, docs/pr-engine.md "PR IN"): READ
 * KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS, allocation
 * length truncation and unknown service actions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pr_test_util.h"

#define CTX                                                                                        \
	struct pt_ctx *c = *state;                                                                 \
	struct prk_pr_state *st = c->st

static const uint8_t all_types[] = {PRK_PR_WE,    PRK_PR_EA,    PRK_PR_WE_RO,
                                    PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* ---- READ KEYS ---- */

static void test_b9_read_keys_empty(void **state)
{
	CTX;
	uint8_t buf[64];
	struct prk_pr_result r;
	memset(buf, 0xcc, sizeof(buf));
	size_t n = pt_in(st, &c->a, PRK_PRIN_READ_KEYS, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n, 8);
	assert_int_equal(be32(buf), 0);
	assert_int_equal(be32(buf + 4), 0);
	assert_int_equal(buf[8], 0xcc);
}

static void test_b9_read_keys_duplicates_in_registration_order(void **state)
{
	CTX;
	uint64_t keys[8];
	uint32_t gen;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_A);       /* duplicate key */
	pt_reg(st, &c->a_port2, KEY_A); /* and again, same initiator on port 2 */
	pt_reg_atp(st, &c->d, KEY_D);
	assert_int_equal(pt_read_keys(st, &c->b, &gen, keys, 8), 5);
	assert_int_equal(gen, 5);
	assert_int_equal(keys[0], KEY_A);
	assert_int_equal(keys[1], KEY_B);
	assert_int_equal(keys[2], KEY_A);
	assert_int_equal(keys[3], KEY_A);
	assert_int_equal(keys[4], KEY_D);

	/* Raw layout: generation, ADDITIONAL LENGTH = 8 * n, big-endian keys. */
	uint8_t buf[128];
	struct prk_pr_result r;
	size_t n = pt_in(st, &c->b, PRK_PRIN_READ_KEYS, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n, 8 + 5 * 8);
	assert_int_equal(be32(buf), 5);
	assert_int_equal(be32(buf + 4), 40);
	assert_int_equal(be64(buf + 8), KEY_A);
	assert_int_equal(be64(buf + 16), KEY_B);
	assert_int_equal(be64(buf + 40), KEY_D);
}

static void test_b9_read_keys_after_removal(void **state)
{
	CTX;
	struct prk_pr_result r;
	uint64_t keys[8];
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, 0, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	size_t n = pt_read_keys(st, &c->a, NULL, keys, 8);
	assert_int_equal(n, 2);
	assert_true((keys[0] == KEY_A && keys[1] == KEY_C) ||
	            (keys[0] == KEY_C && keys[1] == KEY_A));
}

/* ---- READ RESERVATION ---- */

static void test_b9_read_reservation_none_additional_length_0(void **state)
{
	CTX;
	uint8_t buf[64];
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	memset(buf, 0xcc, sizeof(buf));
	size_t n = pt_in(st, &c->a, PRK_PRIN_READ_RESERVATION, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n, 8);
	assert_int_equal(be32(buf), 1);
	assert_int_equal(be32(buf + 4), 0);
	assert_int_equal(buf[8], 0xcc);
	struct prk_prin_resv rv;
	pt_read_resv(st, &c->d, &rv);
	assert_false(rv.present);
	assert_int_equal(rv.generation, 1);
}

static void test_b9_read_reservation_each_type(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	for (size_t t = 0; t < sizeof(all_types); t++) {
		uint8_t type = all_types[t];
		bool ar = prk_pr_type_all_registrants(type);
		pt_resv(st, &c->b, KEY_B, type);
		uint8_t buf[64];
		memset(buf, 0xcc, sizeof(buf));
		size_t n = pt_in(st, &c->d, PRK_PRIN_READ_RESERVATION, buf, sizeof(buf), &r);
		assert_good(&r);
		prk_pr_result_free(&r);
		assert_int_equal(n, 24);
		assert_int_equal(be32(buf), 2);
		assert_int_equal(be32(buf + 4), 16);
		assert_int_equal(be64(buf + 8), ar ? 0 : KEY_B);
		assert_int_equal(buf[21], type); /* SCOPE 0 in bits 7..4 */
		assert_int_equal(buf[24], 0xcc);

		struct prk_prin_resv rv;
		pt_read_resv(st, &c->a, &rv);
		assert_true(rv.present);
		assert_int_equal(rv.key, ar ? 0 : KEY_B);
		assert_int_equal(rv.type, type);
		assert_int_equal(rv.scope, 0);
		pt_out(st, &c->b, PRK_PROUT_RELEASE, type, KEY_B, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
}

/* ---- REPORT CAPABILITIES ---- */

static void test_b9_report_capabilities_exact_bits(void **state)
{
	CTX;
	uint8_t buf[32];
	struct prk_pr_result r;
	memset(buf, 0xcc, sizeof(buf));
	size_t n = pt_in(st, &c->d, PRK_PRIN_REPORT_CAPABILITIES, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n, 8);
	assert_int_equal(buf[0], 0x00);
	assert_int_equal(buf[1], 0x08);
	/* RLR_C (7), CRH (4), SIP_C (3), ATP_C (2), PTPL_C (0). */
	assert_int_equal(buf[2], 0x9d);
	/* TMV (7), ALLOW COMMANDS 001b (6..4), PTPL_A (0) = 0. */
	assert_int_equal(buf[3], 0x90);
	assert_int_equal(buf[4], 0xea);
	assert_int_equal(buf[5], 0x01);
	assert_int_equal(buf[6], 0x00);
	assert_int_equal(buf[7], 0x00);
	assert_int_equal(buf[8], 0xcc);

	struct prk_prin_caps caps;
	pt_read_caps(st, &c->d, &caps);
	assert_true(caps.rlr_c);
	assert_true(caps.crh);
	assert_true(caps.sip_c);
	assert_true(caps.atp_c);
	assert_true(caps.ptpl_c);
	assert_true(caps.tmv);
	assert_int_equal(caps.allow_commands, 1);
	assert_false(caps.ptpl_a);
	assert_int_equal(caps.type_mask, PRK_TYPE_MASK_ALL);
}

static void test_b9_report_capabilities_ptpl_a_follows_aptpl(void **state)
{
	CTX;
	struct prk_prin_caps caps;
	uint8_t buf[8];
	struct prk_pr_result r;
	pt_must_out(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_A, .aptpl = true));
	pt_read_caps(st, &c->d, &caps);
	assert_true(caps.ptpl_a);
	pt_in(st, &c->d, PRK_PRIN_REPORT_CAPABILITIES, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(buf[3], 0x91);
	pt_must_out(st, &c->a, PT_REQ(.sa = PRK_PROUT_REGISTER_AND_IGNORE, .sa_key = KEY_A));
	pt_read_caps(st, &c->d, &caps);
	assert_false(caps.ptpl_a);
	assert_true(caps.ptpl_c);
}

/* ---- READ FULL STATUS ---- */

static const struct prk_full_desc *desc_for(const struct prk_full_desc *d, size_t n,
                                            const char *name)
{
	const struct prk_full_desc *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (prk_iscsi_name_eq(d[i].tid.name, name)) {
			assert_null(found);
			found = &d[i];
		}
	assert_non_null(found);
	return found;
}

static void test_b9_full_status_descriptors(void **state)
{
	CTX;
	struct prk_pr_result r;
	struct prk_full_desc d[8];
	struct prk_tid t;
	uint32_t gen;
	pt_reg(st, &c->a_upper, KEY_A); /* exact, registered with an upper-case name */
	pt_reg(st, &c->c, KEY_C);       /* exact, port 2 */
	pt_reg_atp(st, &c->b, KEY_B);   /* ALL_TG_PT */
	/* d registered any-ISID by SPEC_I_PT (format 00b) from e on port 2. */
	pt_tid_dev(&t, PT_NAME_D);
	struct prk_nexus e;
	pt_nexus(&e, "iqn.2001-04.com.example:node-e", 0x1eULL, PT_RTPI_2);
	pt_out_req(st, &e,
	           PT_REQ(.sa = PRK_PROUT_REGISTER, .sa_key = KEY_D, .tids = &t, .n_tids = 1), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_RO);

	size_t n = pt_read_full(st, &c->b, &gen, d, 8);
	assert_int_equal(n, 5);
	assert_int_equal(gen, prk_pr_generation(st));

	const struct prk_full_desc *da = desc_for(d, n, PT_NAME_A);
	assert_int_equal(da->key, KEY_A);
	assert_true(da->r_holder);
	assert_int_equal(da->type, PRK_PR_WE_RO);
	assert_int_equal(da->scope, 0);
	assert_false(da->all_tg_pt);
	assert_int_equal(da->rtpi, PT_RTPI_1);
	assert_int_equal(da->tid.format, PRK_TID_FMT_PORT);
	assert_int_equal(da->tid.isid, PT_ISID_A);

	const struct prk_full_desc *dc = desc_for(d, n, PT_NAME_C);
	assert_int_equal(dc->key, KEY_C);
	assert_false(dc->r_holder);
	assert_false(dc->all_tg_pt);
	assert_int_equal(dc->rtpi, PT_RTPI_2);
	assert_int_equal(dc->tid.format, PRK_TID_FMT_PORT);
	assert_int_equal(dc->tid.isid, PT_ISID_C);

	const struct prk_full_desc *db = desc_for(d, n, PT_NAME_B);
	assert_int_equal(db->key, KEY_B);
	assert_false(db->r_holder);
	assert_true(db->all_tg_pt);
	assert_int_equal(db->tid.format, PRK_TID_FMT_PORT);
	assert_int_equal(db->tid.isid, PT_ISID_B);

	const struct prk_full_desc *dd = desc_for(d, n, PT_NAME_D);
	assert_int_equal(dd->key, KEY_D);
	assert_false(dd->r_holder);
	assert_false(dd->all_tg_pt);
	assert_int_equal(dd->rtpi, PT_RTPI_2);
	assert_int_equal(dd->tid.format, PRK_TID_FMT_DEVICE);

	const struct prk_full_desc *de = desc_for(d, n, "iqn.2001-04.com.example:node-e");
	assert_int_equal(de->key, KEY_D);
	assert_int_equal(de->rtpi, PT_RTPI_2);
	assert_int_equal(de->tid.isid, 0x1eULL);
}

static void test_b9_full_status_r_holder_every_registrant_for_ar(void **state)
{
	CTX;
	struct prk_full_desc d[8];
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg_atp(st, &c->c, KEY_C);
	for (size_t t = 0; t < sizeof(all_types); t++) {
		struct prk_pr_result r;
		uint8_t type = all_types[t];
		pt_resv(st, &c->b, KEY_B, type);
		size_t n = pt_read_full(st, &c->d, NULL, d, 8);
		assert_int_equal(n, 3);
		size_t holders = 0;
		for (size_t i = 0; i < n; i++) {
			if (d[i].r_holder) {
				holders++;
				assert_int_equal(d[i].type, type);
				assert_int_equal(d[i].scope, 0);
			}
		}
		if (prk_pr_type_all_registrants(type)) {
			assert_int_equal(holders, 3);
		} else {
			assert_int_equal(holders, 1);
			assert_true(desc_for(d, n, PT_NAME_B)->r_holder);
		}
		pt_out(st, &c->b, PRK_PROUT_RELEASE, type, KEY_B, 0, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
	}
	/* No reservation: no holder. */
	size_t n = pt_read_full(st, &c->d, NULL, d, 8);
	for (size_t i = 0; i < n; i++)
		assert_false(d[i].r_holder);
}

/* ---- Allocation length ---- */

/* For each allocation length: return value = min(full, cap), bytes past cap
 * untouched, the bytes returned equal the full answer's prefix, and
 * ADDITIONAL LENGTH (when returned) describes the full data. */
static void check_truncation(const struct prk_pr_state *st, const struct prk_nexus *from,
                             uint8_t sa, size_t expect_full, bool has_addl_len)
{
	uint8_t full[1024];
	struct prk_pr_result r;
	memset(full, 0, sizeof(full));
	size_t n_full = pt_in(st, from, sa, full, sizeof(full), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n_full, expect_full);
	size_t caps[] = {0,  1,  3,  4,  7,  8,  9,          12,     15,         16,
	                 23, 24, 25, 31, 32, 33, n_full - 1, n_full, n_full + 1, n_full + 100};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		size_t cap = caps[i];
		uint8_t *buf = malloc(cap + 64);
		assert_non_null(buf);
		memset(buf, 0xcc, cap + 64);
		size_t n = pt_in(st, from, sa, buf, cap, &r);
		assert_good(&r);
		prk_pr_result_free(&r);
		size_t want = cap < n_full ? cap : n_full;
		if (n != want)
			fail_msg("sa %u cap %zu: returned %zu, want %zu", sa, cap, n, want);
		for (size_t k = cap; k < cap + 64; k++)
			if (buf[k] != 0xcc)
				fail_msg("sa %u cap %zu: byte %zu written past cap", sa, cap, k);
		assert_memory_equal(buf, full, want);
		if (has_addl_len && cap >= 8)
			assert_int_equal(be32(buf + 4), n_full - 8);
		free(buf);
	}
}

static void test_b9_truncation_read_keys(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_C);
	check_truncation(st, &c->d, PRK_PRIN_READ_KEYS, 32, true);
}

static void test_b9_truncation_read_reservation(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_resv(st, &c->a, KEY_A, PRK_PR_EA);
	check_truncation(st, &c->d, PRK_PRIN_READ_RESERVATION, 24, true);
}

static void test_b9_truncation_report_capabilities(void **state)
{
	CTX;
	check_truncation(st, &c->d, PRK_PRIN_REPORT_CAPABILITIES, 8, false);
}

static void test_b9_truncation_read_full_status(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg_atp(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE);
	/* Descriptor lengths: 24 + TransportID ("<name>,i,0x<12 hex>" + NUL,
	 * padded to 4). */
	struct prk_tid ta, tb;
	pt_tid_port(&ta, &c->a);
	pt_tid_port(&tb, &c->b);
	size_t full = 8 + 24 + prk_tid_encoded_len(&ta) + 24 + prk_tid_encoded_len(&tb);
	check_truncation(st, &c->d, PRK_PRIN_READ_FULL_STATUS, full, true);

	/* The decoder sees a truncated answer as truncated. */
	uint8_t buf[40];
	struct prk_pr_result r;
	size_t n = pt_in(st, &c->d, PRK_PRIN_READ_FULL_STATUS, buf, sizeof(buf), &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	assert_int_equal(n, 40);
	struct prk_full_dec dec;
	struct prk_field_err err;
	assert_int_equal(prk_full_dec_start(&dec, buf, n, &err), 0);
	assert_int_equal(dec.additional_len, full - 8);
}

/* ---- Errors ---- */

static void test_b3a_prin_unknown_service_action_24_00(void **state)
{
	CTX;
	static const uint8_t bad[] = {0x04, 0x05, 0x10, 0x1f};
	pt_reg(st, &c->a, KEY_A);
	for (size_t i = 0; i < sizeof(bad); i++) {
		uint8_t cdb[10] = {0x5e, bad[i], 0, 0, 0, 0, 0, 0x01, 0x00, 0};
		uint8_t buf[256];
		struct prk_pr_result r;
		prk_pr_result_init(&r);
		prk_pr_in(st, &c->a, cdb, 10, buf, sizeof(buf), &r);
		assert_illegal(&r, PRK_ASC_INVALID_FIELD_IN_CDB);
		assert_field(&r, true, 1, -1);
		prk_pr_result_free(&r);
	}
}

/* ---- Consistency ---- */

static void test_b9_keys_reservation_full_status_agree(void **state)
{
	CTX;
	struct prk_pr_result r;
	pt_reg(st, &c->a, KEY_A);
	pt_reg(st, &c->b, KEY_B);
	pt_reg(st, &c->c, KEY_B);
	pt_reg_atp(st, &c->d, KEY_D);
	pt_resv(st, &c->c, KEY_B, PRK_PR_EA_RO);
	pt_out(st, &c->a, PRK_PROUT_PREEMPT, PRK_PR_EA_RO, KEY_A, KEY_D, &r);
	assert_good(&r);
	prk_pr_result_free(&r);
	pt_out(st, &c->b, PRK_PROUT_REGISTER, 0, KEY_B, KEY_C, &r);
	assert_good(&r);
	prk_pr_result_free(&r);

	uint64_t keys[8];
	struct prk_full_desc d[8];
	struct prk_prin_resv rv;
	uint32_t g1, g2;
	size_t nk = pt_read_keys(st, &c->a, &g1, keys, 8);
	size_t nd = pt_read_full(st, &c->a, &g2, d, 8);
	pt_read_resv(st, &c->a, &rv);
	assert_int_equal(nk, 3);
	assert_int_equal(nd, nk);
	assert_int_equal(prk_pr_reg_count(st), nk);
	assert_int_equal(g1, g2);
	assert_int_equal(g1, rv.generation);
	assert_int_equal(g1, prk_pr_generation(st));
	/* Same keys, in the same order. */
	for (size_t i = 0; i < nk; i++)
		assert_int_equal(keys[i], d[i].key);
	/* The reservation's holder descriptor carries the reservation's key. */
	size_t holders = 0;
	for (size_t i = 0; i < nd; i++)
		if (d[i].r_holder) {
			holders++;
			assert_int_equal(d[i].key, rv.key);
			assert_int_equal(d[i].type, rv.type);
			assert_true(prk_iscsi_name_eq(d[i].tid.name, PT_NAME_C));
		}
	assert_int_equal(holders, 1);
	assert_true(rv.present);
	assert_int_equal(rv.key, KEY_B);
	/* And the introspection API says the same. */
	for (size_t i = 0; i < nk; i++) {
		struct prk_pr_reg_info info;
		prk_pr_reg_info(st, i, &info);
		assert_int_equal(info.key, keys[i]);
		assert_int_equal(info.holder, d[i].r_holder);
		assert_int_equal(info.all_tg_pt, d[i].all_tg_pt);
	}
}

static void test_b9_prin_does_not_change_state(void **state)
{
	CTX;
	pt_reg(st, &c->a, KEY_A);
	pt_reg_atp(st, &c->b, KEY_B);
	pt_resv(st, &c->a, KEY_A, PRK_PR_WE_AR);
	struct prk_pr_state *before = prk_pr_state_clone(st);
	for (uint8_t sa = 0; sa <= PRK_PRIN_SA_MAX; sa++) {
		uint8_t buf[512];
		struct prk_pr_result r;
		pt_in(st, &c->a, sa, buf, sizeof(buf), &r);
		assert_good(&r);
		assert_false(r.changed);
		assert_false(r.persist);
		assert_int_equal(r.n_ua, 0);
		prk_pr_result_free(&r);
		pt_in(st, &c->d, sa, buf, sizeof(buf), &r); /* unregistered: allowed */
		assert_good(&r);
		prk_pr_result_free(&r);
	}
	assert_true(prk_pr_state_equal(st, before));
	prk_pr_state_free(before);
}

#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_b9_read_keys_empty),
	    T(test_b9_read_keys_duplicates_in_registration_order),
	    T(test_b9_read_keys_after_removal),
	    T(test_b9_read_reservation_none_additional_length_0),
	    T(test_b9_read_reservation_each_type),
	    T(test_b9_report_capabilities_exact_bits),
	    T(test_b9_report_capabilities_ptpl_a_follows_aptpl),
	    T(test_b9_full_status_descriptors),
	    T(test_b9_full_status_r_holder_every_registrant_for_ar),
	    T(test_b9_truncation_read_keys),
	    T(test_b9_truncation_read_reservation),
	    T(test_b9_truncation_report_capabilities),
	    T(test_b9_truncation_read_full_status),
	    T(test_b3a_prin_unknown_service_action_24_00),
	    T(test_b9_keys_reservation_full_status_agree),
	    T(test_b9_prin_does_not_change_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
