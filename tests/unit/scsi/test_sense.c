/* Sense data: field errors, fixed and descriptor encoding with exact bytes,
 * truncation, round trips and decoding of hand-built sense data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_sense.h"

#define GUARD 0xa5

static void test_sense_set(void **state)
{
	struct prk_sense s;

	(void)state;
	memset(&s, 0xff, sizeof(s));
	prk_sense_set(&s, PRK_SK_UNIT_ATTENTION, PRK_ASC_RESERVATIONS_PREEMPTED);
	assert_int_equal(s.key, 0x6);
	assert_int_equal(s.asc, 0x2a);
	assert_int_equal(s.ascq, 0x03);
	assert_false(s.sksv);
	assert_false(s.cd);
	assert_false(s.bpv);
	assert_int_equal(s.bit, 0);
	assert_int_equal(s.field, 0);
	assert_false(s.has_info);
	assert_int_equal(s.info, 0);
}

static void test_field_err_set(void **state)
{
	struct prk_field_err e;

	(void)state;
	prk_field_err_set(&e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "SERVICE ACTION");
	assert_true(e.in_cdb);
	assert_true(e.has_ptr);
	assert_int_equal(e.byte, 1);
	assert_int_equal(e.bit, 4);
	assert_int_equal(e.asc, 0x2400);
	assert_string_equal(e.field, "SERVICE ACTION");

	prk_field_err_set(&e, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR, "X");
	assert_false(e.has_ptr);
	assert_false(e.in_cdb);
	assert_int_equal(e.bit, -1);
}

static void test_from_field_err_cdb_bit(void **state)
{
	struct prk_field_err e;
	struct prk_sense s;

	(void)state;
	prk_field_err_set(&e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "SERVICE ACTION");
	prk_sense_from_field_err(&s, &e);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0x24);
	assert_int_equal(s.ascq, 0x00);
	assert_true(s.sksv);
	assert_true(s.cd);
	assert_true(s.bpv);
	assert_int_equal(s.bit, 4);
	assert_int_equal(s.field, 1);
}

static void test_from_field_err_data_byte(void **state)
{
	struct prk_field_err e;
	struct prk_sense s;

	(void)state;
	prk_field_err_set(&e, false, 300, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
	                  "ADDITIONAL LENGTH");
	prk_sense_from_field_err(&s, &e);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0x26);
	assert_int_equal(s.ascq, 0x00);
	assert_true(s.sksv);
	assert_false(s.cd);
	assert_false(s.bpv);
	assert_int_equal(s.bit, 0);
	assert_int_equal(s.field, 300);
}

static void test_from_field_err_no_ptr(void **state)
{
	struct prk_field_err e;
	struct prk_sense s;

	(void)state;
	prk_field_err_set(&e, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR,
	                  "PARAMETER LIST LENGTH");
	prk_sense_from_field_err(&s, &e);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc, 0x1a);
	assert_int_equal(s.ascq, 0x00);
	assert_false(s.sksv);
	assert_false(s.cd);
	assert_false(s.bpv);
	assert_int_equal(s.field, 0);
}

static struct prk_sense cdb_field_sense(void)
{
	struct prk_field_err e;
	struct prk_sense s;

	prk_field_err_set(&e, true, 2, 3, PRK_ASC_INVALID_FIELD_IN_CDB, "TYPE");
	prk_sense_from_field_err(&s, &e);
	return s;
}

static void test_encode_fixed_bytes(void **state)
{
	static const uint8_t want[PRK_SENSE_FIXED_LEN] = {
	    0x70, 0,   0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0x00, 0, 0x80 | 0x40 | 0x08 | 3,
	    0x00, 0x02};
	struct prk_sense s = cdb_field_sense();
	uint8_t buf[PRK_SENSE_FIXED_LEN + 1];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_sense_encode_fixed(&s, buf, sizeof(buf)), PRK_SENSE_FIXED_LEN);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[PRK_SENSE_FIXED_LEN], GUARD);
}

static void test_encode_fixed_info(void **state)
{
	struct prk_sense s;
	uint8_t buf[PRK_SENSE_FIXED_LEN];

	(void)state;
	prk_sense_set(&s, PRK_SK_MEDIUM_ERROR, 0x1100);
	s.has_info = true;
	s.info = 0x12345678;
	prk_sense_encode_fixed(&s, buf, sizeof(buf));
	assert_int_equal(buf[0], 0xf0);
	assert_int_equal(buf[2], 0x03);
	assert_int_equal(buf[3], 0x12);
	assert_int_equal(buf[4], 0x34);
	assert_int_equal(buf[5], 0x56);
	assert_int_equal(buf[6], 0x78);
	assert_int_equal(buf[12], 0x11);
	assert_int_equal(buf[15], 0); /* no SKSV */

	/* Too wide for the 4-byte field: left out, not truncated. */
	s.info = 0x100000000ULL;
	prk_sense_encode_fixed(&s, buf, sizeof(buf));
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[3] | buf[4] | buf[5] | buf[6], 0);
}

static void test_encode_fixed_truncated(void **state)
{
	struct prk_sense s = cdb_field_sense();
	uint8_t full[PRK_SENSE_FIXED_LEN];
	uint8_t buf[PRK_SENSE_FIXED_LEN];

	(void)state;
	prk_sense_encode_fixed(&s, full, sizeof(full));
	for (size_t cap = 0; cap < PRK_SENSE_FIXED_LEN; cap++) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(prk_sense_encode_fixed(&s, buf, cap), PRK_SENSE_FIXED_LEN);
		assert_memory_equal(buf, full, cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], GUARD);
	}
	assert_int_equal(prk_sense_encode_fixed(&s, NULL, 0), PRK_SENSE_FIXED_LEN);
}

static void test_encode_desc_bytes(void **state)
{
	static const uint8_t want_sks[16] = {0x72, 0x05, 0x24, 0x00, 0,    0,    0,    8,
	                                     0x02, 0x06, 0,    0,    0xcb, 0x00, 0x02, 0};
	static const uint8_t want_all[28] = {
	    0x72, 0x05, 0x24, 0x00, 0,    0,    0,    20,   0x00, 0x0a, 0x80, 0,    0x01, 0x02,
	    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x02, 0x06, 0,    0,    0xcb, 0x00, 0x02, 0};
	static const uint8_t want_none[8] = {0x72, 0x06, 0x29, 0x00, 0, 0, 0, 0};
	struct prk_sense s = cdb_field_sense();
	uint8_t buf[PRK_SENSE_DESC_MAX_LEN + 1];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_sense_encode_desc(&s, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, want_sks, 16);
	assert_int_equal(buf[16], GUARD);

	s.has_info = true;
	s.info = 0x0102030405060708ULL;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_sense_encode_desc(&s, buf, sizeof(buf)), PRK_SENSE_DESC_MAX_LEN);
	assert_memory_equal(buf, want_all, sizeof(want_all));
	assert_int_equal(buf[PRK_SENSE_DESC_MAX_LEN], GUARD);

	prk_sense_set(&s, PRK_SK_UNIT_ATTENTION, PRK_ASC_POWER_ON_RESET);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_sense_encode_desc(&s, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, want_none, sizeof(want_none));
	assert_int_equal(buf[8], GUARD);
}

static void test_encode_desc_truncated(void **state)
{
	struct prk_sense s = cdb_field_sense();
	uint8_t buf[PRK_SENSE_DESC_MAX_LEN];

	(void)state;
	s.has_info = true;
	s.info = 7;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_sense_encode_desc(&s, buf, 10), PRK_SENSE_DESC_MAX_LEN);
	assert_int_equal(buf[0], 0x72);
	assert_int_equal(buf[7], 20); /* full additional length */
	assert_int_equal(buf[9], 0x0a);
	for (size_t i = 10; i < sizeof(buf); i++)
		assert_int_equal(buf[i], GUARD);
}

static void assert_sense_equal(const struct prk_sense *a, const struct prk_sense *b)
{
	assert_int_equal(a->key, b->key);
	assert_int_equal(a->asc, b->asc);
	assert_int_equal(a->ascq, b->ascq);
	assert_int_equal(a->sksv, b->sksv);
	assert_int_equal(a->cd, b->cd);
	assert_int_equal(a->bpv, b->bpv);
	assert_int_equal(a->bit, b->bit);
	assert_int_equal(a->field, b->field);
	assert_int_equal(a->has_info, b->has_info);
	assert_int_equal(a->info, b->info);
}

static void test_round_trips(void **state)
{
	struct prk_sense cases[5];
	struct prk_field_err e;
	uint8_t buf[PRK_SENSE_DESC_MAX_LEN];
	struct prk_sense got;

	(void)state;
	cases[0] = cdb_field_sense();
	prk_field_err_set(&e, false, 0x1234, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, "X");
	prk_sense_from_field_err(&cases[1], &e);
	prk_sense_set(&cases[2], PRK_SK_UNIT_ATTENTION, PRK_ASC_REGISTRATIONS_PREEMPTED);
	prk_sense_set(&cases[3], PRK_SK_MEDIUM_ERROR, 0x1100);
	cases[3].has_info = true;
	cases[3].info = 0xdeadbeef;
	cases[4] = cdb_field_sense();
	cases[4].has_info = true;
	cases[4].info = 0xffffffffULL;

	for (size_t i = 0; i < 5; i++) {
		size_t n = prk_sense_encode_fixed(&cases[i], buf, sizeof(buf));

		assert_int_equal(prk_sense_decode(buf, n, &got), 0);
		assert_sense_equal(&got, &cases[i]);
		n = prk_sense_encode_desc(&cases[i], buf, sizeof(buf));
		assert_int_equal(prk_sense_decode(buf, n, &got), 0);
		assert_sense_equal(&got, &cases[i]);
	}
	/* 64-bit information survives only the descriptor format. */
	cases[3].info = 0x0123456789abcdefULL;
	assert_int_equal(
	    prk_sense_decode(buf, prk_sense_encode_desc(&cases[3], buf, sizeof(buf)), &got), 0);
	assert_sense_equal(&got, &cases[3]);
	assert_int_equal(
	    prk_sense_decode(buf, prk_sense_encode_fixed(&cases[3], buf, sizeof(buf)), &got), 0);
	assert_false(got.has_info);
}

static void test_decode_fixed_hand_built(void **state)
{
	/* Deferred error (71h), VALID set, field pointer in the data. */
	static const uint8_t b[18] = {0xf1, 0,   0x05, 0, 0,    0x01, 0x00, 10,
	                              0,    0,   0,    0, 0x26, 0x00, 0,    0x80 | 0x08 | 0x02,
	                              0x00, 0x14};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, 5);
	assert_int_equal(s.asc, 0x26);
	assert_int_equal(s.ascq, 0);
	assert_true(s.has_info);
	assert_int_equal(s.info, 0x100);
	assert_true(s.sksv);
	assert_false(s.cd);
	assert_true(s.bpv);
	assert_int_equal(s.bit, 2);
	assert_int_equal(s.field, 0x14);
}

static void test_decode_fixed_short(void **state)
{
	/* Additional length 6: ASC/ASCQ present, no sense-key specific bytes,
	 * although the buffer has garbage there. */
	static const uint8_t b[18] = {0x70, 0, 0x06, 0,    0,    0, 0,    6,    0,
	                              0,    0, 0,    0x29, 0x01, 0, 0xff, 0xff, 0xff};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0x29);
	assert_int_equal(s.ascq, 0x01);
	assert_false(s.sksv);
	assert_int_equal(s.field, 0);
	/* Only 8 bytes: key only. */
	assert_int_equal(prk_sense_decode(b, 8, &s), 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0);
	/* Additional length claims 10 but only 13 bytes are given: the ASC is
	 * read, the ASCQ beyond len is not (the byte after holds a marker). */
	static const uint8_t c[14] = {0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0x77};
	assert_int_equal(prk_sense_decode(c, 13, &s), 0);
	assert_int_equal(s.asc, 0x24);
	assert_int_equal(s.ascq, 0);
	assert_int_equal(prk_sense_decode(c, 14, &s), 0);
	assert_int_equal(s.ascq, 0x77);
}

static void test_decode_too_short_or_unknown(void **state)
{
	static const uint8_t fixed[8] = {0x70, 0, 0x05, 0, 0, 0, 0, 0};
	static const uint8_t odd[8] = {0x7f, 0, 0x05, 0, 0, 0, 0, 0};
	static const uint8_t reserved[8] = {0x74, 0, 0x05, 0, 0, 0, 0, 0};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(fixed, 7, &s), -1);
	assert_int_equal(prk_sense_decode(fixed, 0, &s), -1);
	assert_int_equal(prk_sense_decode(odd, sizeof(odd), &s), -1);
	assert_int_equal(prk_sense_decode(reserved, sizeof(reserved), &s), -1);
}

static void test_decode_desc_skips_unknown(void **state)
{
	/* 73h (deferred), an unknown descriptor 80h of 4 bytes, then a sense
	 * key specific descriptor. */
	static const uint8_t b[] = {0x73,
	                            0x05,
	                            0x24,
	                            0x00,
	                            0,
	                            0,
	                            0,
	                            14,
	                            0x80,
	                            0x02,
	                            0xff,
	                            0xff,
	                            0x02,
	                            0x06,
	                            0,
	                            0,
	                            0xc0 | 0x08 | 0x07,
	                            0x00,
	                            0x09,
	                            0};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, 5);
	assert_int_equal(s.asc, 0x24);
	assert_true(s.sksv);
	assert_true(s.cd);
	assert_true(s.bpv);
	assert_int_equal(s.bit, 7);
	assert_int_equal(s.field, 9);
	assert_false(s.has_info);
}

/* Found by fuzzing: a second sense key specific descriptor without SKSV
 * must not leave the first one's C/D, BPV and field pointer behind. */
static void test_decode_desc_later_sks_replaces(void **state)
{
	static const uint8_t b[] = {0x72, 0x05, 0x24, 0x00, 0,    0,    0, 16, 0x02, 0x06, 0,    0,
	                            0xcf, 0x12, 0x34, 0,    0x02, 0x06, 0, 0,  0x4f, 0x56, 0x78, 0};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_false(s.sksv);
	assert_false(s.cd);
	assert_false(s.bpv);
	assert_int_equal(s.bit, 0);
	assert_int_equal(s.field, 0);
	/* Only the first: all of it. */
	assert_int_equal(prk_sense_decode(b, 16, &s), 0);
	assert_true(s.sksv);
	assert_true(s.cd);
	assert_true(s.bpv);
	assert_int_equal(s.bit, 7);
	assert_int_equal(s.field, 0x1234);
}

static void test_decode_desc_info_not_valid(void **state)
{
	static const uint8_t b[] = {0x72, 0x03, 0x11, 0x00, 0, 0, 0, 12, 0x00, 0x0a,
	                            0x00, 0,    1,    2,    3, 4, 5, 6,  7,    8};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_false(s.has_info);
	assert_int_equal(s.info, 0);
	assert_int_equal(s.key, 3);
}

static void test_decode_desc_overrun(void **state)
{
	/* Descriptor claims 6 more bytes but additional length leaves 4. */
	static const uint8_t b[] = {0x72, 0x05, 0x24, 0x00, 0,    0,    0,    4,
	                            0x02, 0x06, 0x00, 0x00, 0x80, 0x00, 0x01, 0};
	/* Half a descriptor header. */
	static const uint8_t c[] = {0x72, 0x05, 0x24, 0x00, 0, 0, 0, 1, 0x02};
	/* Known descriptor too short for its fields. */
	static const uint8_t d[] = {0x72, 0x05, 0x24, 0x00, 0, 0, 0, 4, 0x02, 0x02, 0, 0};
	static const uint8_t e[] = {0x72, 0x05, 0x24, 0x00, 0, 0, 0, 4, 0x00, 0x02, 0x80, 0};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), -1);
	/* The buffer shorter than the additional length bounds the walk too. */
	assert_int_equal(prk_sense_decode(b, 12, &s), -1);
	assert_int_equal(prk_sense_decode(c, sizeof(c), &s), -1);
	assert_int_equal(prk_sense_decode(d, sizeof(d), &s), -1);
	assert_int_equal(prk_sense_decode(e, sizeof(e), &s), -1);
	/* With only the header present there is nothing to walk. */
	assert_int_equal(prk_sense_decode(b, 8, &s), 0);
	assert_int_equal(s.asc, 0x24);
}

static void test_decode_desc_header_only(void **state)
{
	static const uint8_t b[] = {0x72, 0x06, 0x2a, 0x04, 0, 0, 0, 0};
	struct prk_sense s;

	(void)state;
	assert_int_equal(prk_sense_decode(b, sizeof(b), &s), 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0x2a);
	assert_int_equal(s.ascq, 0x04);
	assert_false(s.sksv);
}

static void test_asc_name(void **state)
{
	(void)state;
	assert_string_equal(prk_asc_name(PRK_ASC_INVALID_FIELD_IN_CDB), "INVALID FIELD IN CDB");
	/* The third-party copy codes prkit copy prints by name. */
	assert_string_equal(prk_asc_name(PRK_ASC_INVALID_OPERATION_FOR_COPY),
	                    "INVALID OPERATION FOR COPY SOURCE OR DESTINATION");
	assert_string_equal(prk_asc_name(PRK_ASC_COPY_TARGET_NOT_REACHABLE),
	                    "COPY TARGET DEVICE NOT REACHABLE");
	assert_string_equal(prk_asc_name(PRK_ASC_THIRD_PARTY_DEVICE_FAILURE),
	                    "THIRD PARTY DEVICE FAILURE");
	assert_string_equal(prk_asc_name(PRK_ASC_INVALID_FIELD_IN_PARAM_LIST),
	                    "INVALID FIELD IN PARAMETER LIST");
	assert_string_equal(prk_asc_name(PRK_ASC_PARAMETER_LIST_LENGTH_ERROR),
	                    "PARAMETER LIST LENGTH ERROR");
	assert_string_equal(prk_asc_name(PRK_ASC_INVALID_RELEASE_OF_PR),
	                    "INVALID RELEASE OF PERSISTENT RESERVATION");
	assert_string_equal(prk_asc_name(PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES),
	                    "INSUFFICIENT REGISTRATION RESOURCES");
	assert_string_equal(prk_asc_name(PRK_ASC_PR_INFORMATION_LOST),
	                    "PERSISTENT RESERVATION INFORMATION LOST");
	assert_string_equal(prk_asc_name(0x040b),
	                    "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE");
	assert_string_equal(prk_asc_name(0x040c),
	                    "LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN UNAVAILABLE STATE");
	assert_string_equal(prk_asc_name(0x2a06), "ASYMMETRIC ACCESS STATE CHANGED");
	assert_null(prk_asc_name(0x2605));
	assert_null(prk_asc_name(0xffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sense_set),
	    cmocka_unit_test(test_field_err_set),
	    cmocka_unit_test(test_from_field_err_cdb_bit),
	    cmocka_unit_test(test_from_field_err_data_byte),
	    cmocka_unit_test(test_from_field_err_no_ptr),
	    cmocka_unit_test(test_encode_fixed_bytes),
	    cmocka_unit_test(test_encode_fixed_info),
	    cmocka_unit_test(test_encode_fixed_truncated),
	    cmocka_unit_test(test_encode_desc_bytes),
	    cmocka_unit_test(test_encode_desc_truncated),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_decode_fixed_hand_built),
	    cmocka_unit_test(test_decode_fixed_short),
	    cmocka_unit_test(test_decode_too_short_or_unknown),
	    cmocka_unit_test(test_decode_desc_skips_unknown),
	    cmocka_unit_test(test_decode_desc_later_sks_replaces),
	    cmocka_unit_test(test_decode_desc_info_not_valid),
	    cmocka_unit_test(test_decode_desc_overrun),
	    cmocka_unit_test(test_decode_desc_header_only),
	    cmocka_unit_test(test_asc_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
