/* The APTPL record codec: round trips, and refusal of every damaged or
 * inconsistent record with the state left untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "prkit/crc32c.h"
#include "prkit/pr.h"

static struct prk_nexus a, b, c;

static void prout(struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t type,
                  uint64_t key, uint64_t sa_key, bool all_tg_pt, bool aptpl,
                  const struct prk_tid *tids, size_t n_tids)
{
	uint8_t params[256], cdb[10];
	size_t plen = prk_prout_params_encode_basic(key, sa_key, all_tg_pt, aptpl, tids, n_tids,
	                                            params, sizeof(params));
	struct prk_prout_cdb pc = {.sa = sa, .type = type, .param_len = (uint32_t)plen};
	prk_prout_cdb_encode(&pc, cdb);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	assert_int_equal(prk_pr_out(st, from, cdb, sizeof(cdb), params, plen, &res), 0);
	prk_pr_result_free(&res);
}

/* A state with an exact, an ALL_TG_PT and an any-ISID registration, a
 * WE-RO reservation and APTPL on. */
static struct prk_pr_state *sample(void)
{
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	struct prk_tid dev = {.format = PRK_TID_FMT_DEVICE};
	strcpy(dev.name, "iqn.2026-01.org.example:c");
	prout(st, &a, PRK_PROUT_REGISTER, 0, 0, 0x1111, false, true, &dev, 1);
	prout(st, &b, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, 0x2222, true, true, NULL, 0);
	prout(st, &a, PRK_PROUT_RESERVE, PRK_PR_WE_RO, 0x1111, 0, false, false, NULL, 0);
	return st;
}

static void test_record_round_trip(void **state)
{
	(void)state;
	struct prk_pr_state *st = sample();
	assert_int_equal(prk_pr_reg_count(st), 3);
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	assert_true(len > 36);

	struct prk_pr_state *back = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(back, rec, len, &err), 0);
	assert_true(prk_pr_state_equal(st, back));
	assert_true(prk_pr_aptpl(back));
	assert_true(prk_pr_is_holder(back, &a));
	assert_true(prk_pr_find(back, &c) >= 0); /* any-ISID registration covers c */

	/* After power on with APTPL the state survives, generation restarts. */
	prk_pr_power_on(back);
	assert_int_equal(prk_pr_generation(back), 0);
	assert_int_equal(prk_pr_reg_count(back), 3);
	free(rec);
	prk_pr_state_free(back);
	prk_pr_state_free(st);
}

static void test_record_every_byte_flip_refused(void **state)
{
	(void)state;
	struct prk_pr_state *st = sample();
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	struct prk_pr_state *target = prk_pr_state_new(NULL);
	prout(target, &c, PRK_PROUT_REGISTER, 0, 0, 0x77, false, false, NULL, 0);
	struct prk_pr_state *orig = prk_pr_state_clone(target);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			rec[i] ^= (uint8_t)(1u << bit);
			struct prk_field_err err;
			assert_int_equal(prk_pr_record_decode(target, rec, len, &err), -1);
			assert_non_null(err.field);
			assert_true(prk_pr_state_equal(target, orig));
			rec[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(rec);
	prk_pr_state_free(orig);
	prk_pr_state_free(target);
	prk_pr_state_free(st);
}

static void test_record_every_truncation_refused(void **state)
{
	(void)state;
	struct prk_pr_state *st = sample();
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	struct prk_pr_state *target = prk_pr_state_new(NULL);
	for (size_t n = 0; n < len; n++) {
		struct prk_field_err err;
		assert_int_equal(prk_pr_record_decode(target, rec, n, &err), -1);
		assert_int_equal(prk_pr_reg_count(target), 0);
	}
	free(rec);
	prk_pr_state_free(target);
	prk_pr_state_free(st);
}

/* Rewrites the CRC so that a deliberately inconsistent field is judged on
 * its own merits, not by the checksum. */
static void reseal(uint8_t *rec, size_t len)
{
	uint32_t crc = prk_crc32c(0, rec, 16);
	crc = prk_crc32c(crc, rec + 20, len - 20);
	rec[16] = (uint8_t)crc;
	rec[17] = (uint8_t)(crc >> 8);
	rec[18] = (uint8_t)(crc >> 16);
	rec[19] = (uint8_t)(crc >> 24);
}

static void expect_field(uint8_t *rec, size_t len, size_t off, uint8_t value, uint16_t err_byte)
{
	uint8_t *copy = malloc(len);
	memcpy(copy, rec, len);
	copy[off] = value;
	reseal(copy, len);
	struct prk_pr_state *t = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(t, copy, len, &err), -1);
	assert_int_equal(err.byte, err_byte);
	assert_int_equal(prk_pr_reg_count(t), 0);
	prk_pr_state_free(t);
	free(copy);
}

static void test_record_inconsistent_fields_named(void **state)
{
	(void)state;
	struct prk_pr_state *st = sample();
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	expect_field(rec, len, 8, 2, 8);     /* version 2 */
	expect_field(rec, len, 10, 0x3, 10); /* unknown flag */
	expect_field(rec, len, 24, 2, 24);   /* reservation present = 2 */
	expect_field(rec, len, 25, 2, 25);   /* type 2 does not exist */
	expect_field(rec, len, 26, 1, 26);   /* scope 1 */
	expect_field(rec, len, 28, 7, 28);   /* holder index past the list */
	expect_field(rec, len, 32, 9, 32);   /* registration count too large */
	/* First registration at 36: flags at 36+18, name length at 36+19,
	 * first name byte at 36+20 (upper case is not canonical). */
	expect_field(rec, len, 36 + 18, 0x4, 36 + 18);
	expect_field(rec, len, 36 + 19, 0, 36 + 19);
	expect_field(rec, len, 36 + 20, 'I', 36 + 20);
	/* A NUL inside the name: "iqn.2026-01.org.examp" would be a valid
	 * name of its own, but not the one the record was written with. */
	expect_field(rec, len, 36 + 20 + 21, 0, 36 + 20);
	/* Key zero. */
	uint8_t *z = malloc(len);
	memcpy(z, rec, len);
	memset(z + 36, 0, 8);
	reseal(z, len);
	struct prk_pr_state *t = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(t, z, len, &err), -1);
	assert_int_equal(err.byte, 36);
	prk_pr_state_free(t);
	free(z);
	free(rec);
	prk_pr_state_free(st);
}

static void test_record_duplicate_registration_refused(void **state)
{
	(void)state;
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	prout(st, &a, PRK_PROUT_REGISTER, 0, 0, 0x1, false, true, NULL, 0);
	prout(st, &c, PRK_PROUT_REGISTER, 0, 0, 0x2, false, true, NULL, 0);
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	/* Make the second registration's identity equal the first's. Both
	 * names have the same length, so the layout stays valid. */
	size_t first = 36, second = 36 + 20 + strlen(a.name);
	memcpy(rec + second + 8, rec + first + 8, 12 + strlen(a.name));
	reseal(rec, len);
	struct prk_pr_state *t = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(t, rec, len, &err), -1);
	assert_int_equal(err.byte, second);
	free(rec);
	prk_pr_state_free(t);
	prk_pr_state_free(st);
}

static void test_record_empty_state(void **state)
{
	(void)state;
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	assert_int_equal(len, 36);
	struct prk_pr_state *t = prk_pr_state_new(NULL);
	prout(t, &a, PRK_PROUT_REGISTER, 0, 0, 0x9, false, false, NULL, 0);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(t, rec, len, &err), 0);
	assert_int_equal(prk_pr_reg_count(t), 0);
	assert_true(prk_pr_state_equal(st, t));
	free(rec);
	prk_pr_state_free(t);
	prk_pr_state_free(st);
}

/* Without APTPL a power cycle forgets everything (B10/B12). */
static void test_record_without_aptpl_power_on_clears(void **state)
{
	(void)state;
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	prout(st, &a, PRK_PROUT_REGISTER, 0, 0, 0x1, false, false, NULL, 0);
	prout(st, &a, PRK_PROUT_RESERVE, PRK_PR_EA, 0x1, 0, false, false, NULL, 0);
	uint8_t *rec;
	size_t len = prk_pr_record_encode(st, &rec);
	struct prk_pr_state *t = prk_pr_state_new(NULL);
	struct prk_field_err err;
	assert_int_equal(prk_pr_record_decode(t, rec, len, &err), 0);
	assert_int_equal(prk_pr_reg_count(t), 1);
	prk_pr_power_on(t);
	assert_int_equal(prk_pr_reg_count(t), 0);
	assert_false(prk_pr_reservation(t, NULL, NULL, NULL));
	free(rec);
	prk_pr_state_free(t);
	prk_pr_state_free(st);
}

static int setup(void **state)
{
	(void)state;
	if (prk_nexus_init(&a, "iqn.2026-01.org.example:a", 0x400000000001ULL, 1) ||
	    prk_nexus_init(&b, "iqn.2026-01.org.example:b", 0x400000000002ULL, 2) ||
	    prk_nexus_init(&c, "iqn.2026-01.org.example:c", 0x400000000003ULL, 1))
		return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_round_trip),
	    cmocka_unit_test(test_record_every_byte_flip_refused),
	    cmocka_unit_test(test_record_every_truncation_refused),
	    cmocka_unit_test(test_record_inconsistent_fields_named),
	    cmocka_unit_test(test_record_duplicate_registration_refused),
	    cmocka_unit_test(test_record_empty_state),
	    cmocka_unit_test(test_record_without_aptpl_power_on_clears),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
