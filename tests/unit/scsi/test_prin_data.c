/* PR IN data: READ KEYS, READ RESERVATION, REPORT CAPABILITIES and READ FULL
 * STATUS, with exact bytes, truncation at the allocation length and every
 * decoder error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#include "scsi_test_util.h"

static void assert_guard(const uint8_t *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		assert_int_equal(buf[i], GUARD);
}

/* ---- READ KEYS ---- */

static void test_keys_encode_bytes(void **state)
{
	static const uint64_t keys[2] = {0x0102030405060708ULL, 0xa1a2a3a4a5a6a7a8ULL};
	static const uint8_t want[24] = {0,    0,    0x12, 0x34, 0,    0,    0,    16,
	                                 1,    2,    3,    4,    5,    6,    7,    8,
	                                 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
	uint8_t buf[25];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_keys_encode(0x1234, keys, 2, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, want, sizeof(want));
	assert_guard(buf, 24, 25);

	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_keys_encode(7, NULL, 0, buf, sizeof(buf)), 8);
	assert_int_equal(buf[3], 7);
	assert_int_equal(buf[7], 0);
	assert_guard(buf, 8, 25);
}

static void test_keys_encode_truncated(void **state)
{
	static const uint64_t keys[3] = {1, 2, 3};
	uint8_t full[32], buf[32];

	(void)state;
	assert_int_equal(prk_prin_keys_encode(9, keys, 3, full, sizeof(full)), 32);
	for (size_t cap = 0; cap < 32; cap++) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(prk_prin_keys_encode(9, keys, 3, buf, cap), 32);
		assert_memory_equal(buf, full, cap);
		assert_guard(buf, cap, sizeof(buf));
	}
	/* The ADDITIONAL LENGTH keeps describing all keys. */
	memset(buf, GUARD, sizeof(buf));
	prk_prin_keys_encode(9, keys, 3, buf, 12);
	assert_int_equal(buf[7], 24);
}

static void test_keys_decode(void **state)
{
	static const uint64_t keys[3] = {11, 0xffffffffffffffffULL, 33};
	uint8_t buf[32];
	struct prk_prin_keys k;
	struct prk_field_err e;

	(void)state;
	prk_prin_keys_encode(0xdeadbeef, keys, 3, buf, sizeof(buf));
	assert_int_equal(prk_prin_keys_decode(buf, 32, &k, &e), 0);
	assert_int_equal(k.generation, 0xdeadbeef);
	assert_int_equal(k.additional_len, 24);
	assert_int_equal(k.n_total, 3);
	assert_int_equal(k.n_present, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(prk_prin_keys_at(&k, i), keys[i]);
	assert_int_equal(prk_prin_keys_at(&k, 3), 0);

	/* Truncated after a key and a half. */
	assert_int_equal(prk_prin_keys_decode(buf, 20, &k, &e), 0);
	assert_int_equal(k.n_total, 3);
	assert_int_equal(k.n_present, 1);
	assert_int_equal(prk_prin_keys_at(&k, 0), 11);
	assert_int_equal(prk_prin_keys_at(&k, 1), 0);
	/* Header only. */
	assert_int_equal(prk_prin_keys_decode(buf, 8, &k, &e), 0);
	assert_int_equal(k.n_total, 3);
	assert_int_equal(k.n_present, 0);
	/* Extra bytes past ADDITIONAL LENGTH are not keys. */
	buf[7] = 8;
	assert_int_equal(prk_prin_keys_decode(buf, 32, &k, &e), 0);
	assert_int_equal(k.n_present, 1);
}

static void test_keys_decode_errors(void **state)
{
	uint8_t buf[16] = {0, 0, 0, 1, 0, 0, 0, 8};
	struct prk_prin_keys k;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_prin_keys_decode(buf, 7, &k, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	assert_int_equal(prk_prin_keys_decode(buf, 0, &k, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	buf[7] = 12;
	assert_int_equal(prk_prin_keys_decode(buf, 16, &k, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	buf[7] = 0;
	buf[4] = 0x80; /* 0x80000000 is a multiple of 8: fine, mostly absent */
	assert_int_equal(prk_prin_keys_decode(buf, 16, &k, &e), 0);
	assert_int_equal(k.n_total, 0x10000000);
	assert_int_equal(k.n_present, 1);
}

/* ---- READ RESERVATION ---- */

static void test_resv_encode_bytes(void **state)
{
	static const uint8_t want[24] = {0,    0,    0,    5,    0,    0,    0,    16,
	                                 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
	                                 0,    0,    0,    0,    0,    0x06, 0,    0};
	struct prk_prin_resv r = {.generation = 5,
	                          .present = true,
	                          .key = 0x1020304050607080ULL,
	                          .scope = 0,
	                          .type = PRK_PR_EA_RO};
	uint8_t buf[25];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_resv_encode(&r, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, want, sizeof(want));
	assert_guard(buf, 24, 25);

	r.scope = 0x2;
	prk_prin_resv_encode(&r, buf, sizeof(buf));
	assert_int_equal(buf[21], 0x26);

	r.present = false;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_resv_encode(&r, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, ((const uint8_t[8]){0, 0, 0, 5, 0, 0, 0, 0}), 8);
	assert_guard(buf, 8, 25);
}

static void test_resv_encode_truncated(void **state)
{
	struct prk_prin_resv r = {.generation = 1, .present = true, .key = 9, .type = PRK_PR_WE};
	uint8_t buf[24];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_resv_encode(&r, buf, 8), 24);
	assert_int_equal(buf[7], 16);
	assert_guard(buf, 8, 24);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_resv_encode(&r, buf, 3), 24);
	assert_int_equal(buf[2], 0);
	assert_guard(buf, 3, 24);
}

static void test_resv_decode(void **state)
{
	struct prk_prin_resv r = {
	    .generation = 77, .present = true, .key = 0, .scope = 0, .type = PRK_PR_WE_AR};
	struct prk_prin_resv got;
	struct prk_field_err e;
	uint8_t buf[32];

	(void)state;
	memset(buf, 0, sizeof(buf));
	prk_prin_resv_encode(&r, buf, sizeof(buf));
	assert_int_equal(prk_prin_resv_decode(buf, 24, &got, &e), 0);
	assert_int_equal(got.generation, 77);
	assert_true(got.present);
	assert_int_equal(got.key, 0);
	assert_int_equal(got.scope, 0);
	assert_int_equal(got.type, PRK_PR_WE_AR);
	/* More bytes than needed are fine. */
	assert_int_equal(prk_prin_resv_decode(buf, 32, &got, &e), 0);

	r.key = 0x99;
	r.type = PRK_PR_EA;
	r.scope = 0xf;
	prk_prin_resv_encode(&r, buf, sizeof(buf));
	assert_int_equal(prk_prin_resv_decode(buf, 24, &got, &e), 0);
	assert_int_equal(got.key, 0x99);
	assert_int_equal(got.scope, 0xf);
	assert_int_equal(got.type, PRK_PR_EA);

	r.present = false;
	prk_prin_resv_encode(&r, buf, sizeof(buf));
	assert_int_equal(prk_prin_resv_decode(buf, 8, &got, &e), 0);
	assert_false(got.present);
	assert_int_equal(got.generation, 77);
	assert_int_equal(got.key, 0);
}

static void test_resv_decode_errors(void **state)
{
	uint8_t buf[24] = {0, 0, 0, 1, 0, 0, 0, 16};
	struct prk_prin_resv got;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_prin_resv_decode(buf, 7, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	/* 16 announced but the descriptor is cut. */
	assert_int_equal(prk_prin_resv_decode(buf, 23, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	assert_int_equal(prk_prin_resv_decode(buf, 8, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	/* Neither 0 nor 16. */
	buf[7] = 8;
	assert_int_equal(prk_prin_resv_decode(buf, 24, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	buf[7] = 16;
	buf[4] = 1;
	assert_int_equal(prk_prin_resv_decode(buf, 24, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
	assert_false(got.present);
}

/* ---- REPORT CAPABILITIES ---- */

static void test_caps_encode_bytes(void **state)
{
	static const uint8_t want[8] = {0, 8, 0x9d, 0xd1, 0xea, 0x01, 0, 0};
	struct prk_prin_caps c = {.rlr_c = true,
	                          .crh = true,
	                          .sip_c = true,
	                          .atp_c = true,
	                          .ptpl_c = true,
	                          .tmv = true,
	                          .allow_commands = 5,
	                          .ptpl_a = true,
	                          .type_mask = PRK_TYPE_MASK_ALL};
	uint8_t buf[9];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_caps_encode(&c, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, want, sizeof(want));
	assert_guard(buf, 8, 9);

	memset(&c, 0, sizeof(c));
	memset(buf, GUARD, sizeof(buf));
	prk_prin_caps_encode(&c, buf, sizeof(buf));
	assert_memory_equal(buf, ((const uint8_t[8]){0, 8, 0, 0, 0, 0, 0, 0}), 8);

	/* Truncated. */
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prin_caps_encode(&c, buf, 2), 8);
	assert_int_equal(buf[1], 8);
	assert_guard(buf, 2, 9);
}

static void test_caps_single_bits(void **state)
{
	static const struct {
		size_t byte;
		uint8_t bit;
	} bits[] = {{2, 0x80}, {2, 0x10}, {2, 0x08}, {2, 0x04}, {2, 0x01}, {3, 0x80}, {3, 0x01}};
	struct prk_prin_caps c;
	struct prk_field_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint8_t buf[8] = {0, 8};
		bool *flags[7];

		buf[bits[i].byte] = bits[i].bit;
		assert_int_equal(prk_prin_caps_decode(buf, 8, &c, &e), 0);
		flags[0] = &c.rlr_c;
		flags[1] = &c.crh;
		flags[2] = &c.sip_c;
		flags[3] = &c.atp_c;
		flags[4] = &c.ptpl_c;
		flags[5] = &c.tmv;
		flags[6] = &c.ptpl_a;
		for (size_t j = 0; j < 7; j++)
			assert_int_equal(*flags[j], i == j);
		assert_int_equal(c.allow_commands, 0);
		assert_int_equal(c.type_mask, 0);
	}
	{
		uint8_t buf[8] = {0, 8, 0, 0x30, 0x80, 0x01, 0xff, 0xff};

		assert_int_equal(prk_prin_caps_decode(buf, 8, &c, &e), 0);
		assert_int_equal(c.allow_commands, 3);
		assert_int_equal(c.type_mask, PRK_TYPE_MASK_WR_EX_AR | PRK_TYPE_MASK_EX_AC_AR);
		assert_false(c.tmv);
		assert_false(c.ptpl_a);
	}
}

static void test_caps_round_trip(void **state)
{
	struct prk_field_err e;

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		struct prk_prin_caps c = {.rlr_c = v & 1,
		                          .crh = v & 2,
		                          .sip_c = v & 4,
		                          .atp_c = v & 8,
		                          .ptpl_c = v & 16,
		                          .tmv = v & 32,
		                          .allow_commands = (uint8_t)(v % 8),
		                          .ptpl_a = v & 64,
		                          .type_mask = (uint16_t)(v * 0x0101 & PRK_TYPE_MASK_ALL)};
		struct prk_prin_caps got;
		uint8_t buf[8];

		prk_prin_caps_encode(&c, buf, sizeof(buf));
		assert_int_equal(prk_prin_caps_decode(buf, 8, &got, &e), 0);
		assert_memory_equal(&got, &c, sizeof(c));
	}
}

static void test_caps_decode_errors(void **state)
{
	uint8_t buf[16] = {0, 8};
	struct prk_prin_caps c;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_prin_caps_decode(buf, 7, &c, &e), -1);
	assert_perr(e, 0, -1, "LENGTH");
	buf[1] = 7;
	assert_int_equal(prk_prin_caps_decode(buf, 8, &c, &e), -1);
	assert_perr(e, 0, -1, "LENGTH");
	buf[1] = 0;
	assert_int_equal(prk_prin_caps_decode(buf, 16, &c, &e), -1);
	assert_perr(e, 0, -1, "LENGTH");
	/* A longer LENGTH from a later standard is accepted. */
	buf[1] = 12;
	assert_int_equal(prk_prin_caps_decode(buf, 16, &c, &e), 0);
	buf[0] = 1;
	buf[1] = 0;
	assert_int_equal(prk_prin_caps_decode(buf, 8, &c, &e), 0);
}

static void test_type_mask_bit(void **state)
{
	uint16_t all = 0;

	(void)state;
	assert_int_equal(prk_type_mask_bit(PRK_PR_WE), 0x0200);
	assert_int_equal(prk_type_mask_bit(PRK_PR_EA), 0x0800);
	assert_int_equal(prk_type_mask_bit(PRK_PR_WE_RO), 0x2000);
	assert_int_equal(prk_type_mask_bit(PRK_PR_EA_RO), 0x4000);
	assert_int_equal(prk_type_mask_bit(PRK_PR_WE_AR), 0x8000);
	assert_int_equal(prk_type_mask_bit(PRK_PR_EA_AR), 0x0001);
	for (unsigned t = 0; t < 256; t++) {
		uint16_t b = prk_type_mask_bit((uint8_t)t);

		assert_int_equal(b != 0, prk_pr_type_valid((uint8_t)t));
		all |= b;
	}
	assert_int_equal(all, PRK_TYPE_MASK_ALL);
}

/* ---- READ FULL STATUS ---- */

static void sample_descs(struct prk_full_desc d[3])
{
	memset(d, 0, 3 * sizeof(d[0]));
	d[0].key = 0xaaaa;
	d[0].r_holder = true;
	d[0].scope = 0;
	d[0].type = PRK_PR_WE_RO;
	d[0].rtpi = 1;
	make_tid(&d[0].tid, PRK_TID_FMT_PORT, "iqn.2024-01.org.example:h1", 0x23d000000001ULL);
	d[1].key = 0xbbbb;
	d[1].all_tg_pt = true;
	d[1].rtpi = 0;
	make_tid(&d[1].tid, PRK_TID_FMT_DEVICE, "iqn.h2", 0);
	d[2].key = 0;
	d[2].rtpi = 0xfffe;
	make_tid(&d[2].tid, PRK_TID_FMT_PORT, "iqn.h3", 0xffffffffffffULL);
}

/* Lengths of the samples: 24 + 48 at 8, 24 + 24 at 80, 24 + 28 at 128;
 * total 8 + 172. */
#define SAMPLE_LEN 180

static size_t encode_samples(uint8_t *buf, size_t cap)
{
	struct prk_full_desc d[3];
	struct prk_full_enc enc;

	sample_descs(d);
	prk_full_enc_start(&enc, 0x01020304, buf, cap);
	for (int i = 0; i < 3; i++)
		prk_full_enc_add(&enc, &d[i]);
	return prk_full_enc_finish(&enc);
}

static void assert_desc_equal(const struct prk_full_desc *a, const struct prk_full_desc *b)
{
	assert_int_equal(a->key, b->key);
	assert_int_equal(a->all_tg_pt, b->all_tg_pt);
	assert_int_equal(a->r_holder, b->r_holder);
	assert_int_equal(a->scope, b->scope);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->rtpi, b->rtpi);
	assert_int_equal(a->tid.format, b->tid.format);
	assert_int_equal(a->tid.isid, b->tid.isid);
	assert_string_equal(a->tid.name, b->tid.name);
}

static void test_full_encode_bytes(void **state)
{
	uint8_t buf[SAMPLE_LEN + 1];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(encode_samples(buf, sizeof(buf)), SAMPLE_LEN);
	assert_guard(buf, SAMPLE_LEN, sizeof(buf));
	assert_memory_equal(buf, ((const uint8_t[8]){1, 2, 3, 4, 0, 0, 0, 172}), 8);
	/* First descriptor. */
	assert_memory_equal(buf + 8, ((const uint8_t[8]){0, 0, 0, 0, 0, 0, 0xaa, 0xaa}), 8);
	assert_int_equal(buf[8 + 12], 0x01);
	assert_int_equal(buf[8 + 13], 0x05);
	assert_int_equal(buf[8 + 19], 1);
	assert_int_equal(buf[8 + 23], 48);
	assert_int_equal(buf[8 + 24], 0x45);
	/* Second: ALL_TG_PT, not a holder, no scope/type. */
	assert_int_equal(buf[80 + 12], 0x02);
	assert_int_equal(buf[80 + 13], 0x00);
	assert_int_equal(buf[80 + 23], 24);
	assert_int_equal(buf[80 + 24], 0x05);
	/* Third. */
	assert_int_equal(buf[128 + 12], 0x00);
	assert_int_equal(buf[128 + 18], 0xff);
	assert_int_equal(buf[128 + 19], 0xfe);
	assert_int_equal(buf[128 + 23], 28);
	assert_int_equal(buf[128 + 24], 0x45);
}

static void test_full_round_trip(void **state)
{
	uint8_t buf[SAMPLE_LEN];
	struct prk_full_desc want[3], got;
	struct prk_full_dec dec;
	struct prk_field_err e;

	(void)state;
	sample_descs(want);
	encode_samples(buf, sizeof(buf));
	assert_int_equal(prk_full_dec_start(&dec, buf, sizeof(buf), &e), 0);
	assert_int_equal(dec.generation, 0x01020304);
	assert_int_equal(dec.additional_len, 172);
	assert_false(dec.truncated);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
		assert_desc_equal(&got, &want[i]);
	}
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 0);
	assert_false(dec.truncated);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 0);
}

static void test_full_scope_type_only_for_holder(void **state)
{
	uint8_t buf[SAMPLE_LEN];
	struct prk_full_desc d[3], got;
	struct prk_full_dec dec;
	struct prk_full_enc enc;
	struct prk_field_err e;

	(void)state;
	sample_descs(d);
	d[1].type = PRK_PR_EA;
	d[1].scope = 1;
	prk_full_enc_start(&enc, 0, buf, sizeof(buf));
	prk_full_enc_add(&enc, &d[1]);
	assert_int_equal(prk_full_enc_finish(&enc), 56);
	assert_int_equal(buf[8 + 13], 0);
	/* Garbage in byte 13 of a non-holder is not reported. */
	buf[8 + 13] = 0x13;
	assert_int_equal(prk_full_dec_start(&dec, buf, 56, &e), 0);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_false(got.r_holder);
	assert_int_equal(got.scope, 0);
	assert_int_equal(got.type, 0);
}

static void test_full_empty(void **state)
{
	uint8_t buf[8];
	struct prk_full_enc enc;
	struct prk_full_dec dec;
	struct prk_full_desc got;
	struct prk_field_err e;

	(void)state;
	prk_full_enc_start(&enc, 3, buf, sizeof(buf));
	assert_int_equal(prk_full_enc_finish(&enc), 8);
	assert_memory_equal(buf, ((const uint8_t[8]){0, 0, 0, 3, 0, 0, 0, 0}), 8);
	assert_int_equal(prk_full_dec_start(&dec, buf, 8, &e), 0);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 0);
	assert_false(dec.truncated);
}

static void test_full_encode_truncated(void **state)
{
	uint8_t full[SAMPLE_LEN], buf[SAMPLE_LEN];

	(void)state;
	encode_samples(full, sizeof(full));
	for (size_t cap = 0; cap < SAMPLE_LEN; cap += 3) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(encode_samples(buf, cap), SAMPLE_LEN);
		assert_memory_equal(buf, full, cap);
		assert_guard(buf, cap, sizeof(buf));
	}
	/* Cut at 8: ADDITIONAL LENGTH still describes everything. */
	memset(buf, GUARD, sizeof(buf));
	encode_samples(buf, 8);
	assert_int_equal(buf[7], 172);
}

static void test_full_encode_bad_tid(void **state)
{
	uint8_t buf[SAMPLE_LEN];
	struct prk_full_desc d[3];
	struct prk_full_enc enc;

	(void)state;
	sample_descs(d);
	strcpy(d[1].tid.name, "no spaces allowed");
	prk_full_enc_start(&enc, 0, buf, sizeof(buf));
	for (int i = 0; i < 3; i++)
		prk_full_enc_add(&enc, &d[i]);
	assert_true(enc.bad);
	assert_int_equal(prk_full_enc_finish(&enc), 0);
}

static void test_full_decode_truncated(void **state)
{
	uint8_t buf[SAMPLE_LEN];
	struct prk_full_desc want[3], got;
	struct prk_full_dec dec;
	struct prk_field_err e;

	(void)state;
	sample_descs(want);
	encode_samples(buf, sizeof(buf));
	/* Cut inside the second descriptor's TransportID, inside its header,
	 * and exactly after the first descriptor. */
	static const size_t cuts[] = {80 + 30, 80 + 10, 80};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(prk_full_dec_start(&dec, buf, cuts[i], &e), 0);
		assert_true(dec.truncated);
		assert_int_equal(dec.additional_len, 172);
		assert_int_equal(dec.len, cuts[i]);
		assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
		assert_desc_equal(&got, &want[0]);
		assert_int_equal(prk_full_dec_next(&dec, &got, &e), 0);
		assert_true(dec.truncated);
	}
	/* Only the header. */
	assert_int_equal(prk_full_dec_start(&dec, buf, 8, &e), 0);
	assert_true(dec.truncated);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 0);
}

static void test_full_decode_errors(void **state)
{
	uint8_t buf[SAMPLE_LEN + 8];
	struct prk_full_desc got;
	struct prk_full_dec dec;
	struct prk_field_err e;

	(void)state;
	encode_samples(buf, SAMPLE_LEN);
	assert_int_equal(prk_full_dec_start(&dec, buf, 7, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");

	/* Malformed TransportID in the second descriptor (at 80). */
	buf[80 + 24] = 0x07;
	assert_int_equal(prk_full_dec_start(&dec, buf, SAMPLE_LEN, &e), 0);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 104, 3, "PROTOCOL IDENTIFIER");
	buf[80 + 24] = 0x05;

	/* ADDITIONAL DESCRIPTOR LENGTH larger than the TransportID: move the
	 * third descriptor's length up by 4 and append 4 zero bytes. */
	encode_samples(buf, SAMPLE_LEN);
	memset(buf + SAMPLE_LEN, 0, 4);
	buf[7] = 176;
	buf[128 + 23] = 32;
	assert_int_equal(prk_full_dec_start(&dec, buf, SAMPLE_LEN + 4, &e), 0);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 128 + 20, -1, "ADDITIONAL DESCRIPTOR LENGTH");

	/* ADDITIONAL DESCRIPTOR LENGTH past ADDITIONAL LENGTH in complete
	 * data. */
	encode_samples(buf, SAMPLE_LEN);
	buf[128 + 23] = 32;
	assert_int_equal(prk_full_dec_start(&dec, buf, SAMPLE_LEN + 8, &e), 0);
	assert_false(dec.truncated);
	assert_int_equal(dec.len, SAMPLE_LEN);
	prk_full_dec_next(&dec, &got, &e);
	prk_full_dec_next(&dec, &got, &e);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 128 + 20, -1, "ADDITIONAL DESCRIPTOR LENGTH");

	/* ADDITIONAL DESCRIPTOR LENGTH smaller than the TransportID. */
	encode_samples(buf, SAMPLE_LEN);
	buf[8 + 23] = 44;
	assert_int_equal(prk_full_dec_start(&dec, buf, SAMPLE_LEN, &e), 0);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 8 + 24 + 2, -1, "ADDITIONAL LENGTH");

	/* ADDITIONAL DESCRIPTOR LENGTH too small for any TransportID header:
	 * make the last descriptor 24 + 2 bytes. */
	encode_samples(buf, SAMPLE_LEN);
	buf[7] = 128 - 8 + 26;
	buf[128 + 23] = 2;
	assert_int_equal(prk_full_dec_start(&dec, buf, 128 + 26, &e), 0);
	assert_false(dec.truncated);
	prk_full_dec_next(&dec, &got, &e);
	prk_full_dec_next(&dec, &got, &e);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 128 + 20, -1, "ADDITIONAL DESCRIPTOR LENGTH");

	/* Complete data whose ADDITIONAL LENGTH leaves a partial descriptor
	 * header. */
	encode_samples(buf, SAMPLE_LEN);
	buf[7] = 172 - 52 + 10;
	assert_int_equal(prk_full_dec_start(&dec, buf, SAMPLE_LEN, &e), 0);
	assert_false(dec.truncated);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), 1);
	assert_int_equal(prk_full_dec_next(&dec, &got, &e), -1);
	assert_perr(e, 4, -1, "ADDITIONAL LENGTH");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_encode_bytes),
	    cmocka_unit_test(test_keys_encode_truncated),
	    cmocka_unit_test(test_keys_decode),
	    cmocka_unit_test(test_keys_decode_errors),
	    cmocka_unit_test(test_resv_encode_bytes),
	    cmocka_unit_test(test_resv_encode_truncated),
	    cmocka_unit_test(test_resv_decode),
	    cmocka_unit_test(test_resv_decode_errors),
	    cmocka_unit_test(test_caps_encode_bytes),
	    cmocka_unit_test(test_caps_single_bits),
	    cmocka_unit_test(test_caps_round_trip),
	    cmocka_unit_test(test_caps_decode_errors),
	    cmocka_unit_test(test_type_mask_bit),
	    cmocka_unit_test(test_full_encode_bytes),
	    cmocka_unit_test(test_full_round_trip),
	    cmocka_unit_test(test_full_scope_type_only_for_holder),
	    cmocka_unit_test(test_full_empty),
	    cmocka_unit_test(test_full_encode_truncated),
	    cmocka_unit_test(test_full_encode_bad_tid),
	    cmocka_unit_test(test_full_decode_truncated),
	    cmocka_unit_test(test_full_decode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
