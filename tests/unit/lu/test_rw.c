/* READ CAPACITY, READ/WRITE (6/10/12/16), WRITE AND VERIFY, VERIFY,
 * PRE-FETCH, SYNCHRONIZE CACHE: data round trips, range and field errors,
 * residual reporting (spdtl), readonly LUs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

#define BS 512

static void test_read_capacity10(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[10] = {PRK_OP_READ_CAPACITY10};
	struct lt_res r = lt_in(t, &t->a, c, 10, 8);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8);
	assert_int_equal(lt_get32(r.data), LT_BLOCKS - 1);
	assert_int_equal(lt_get32(r.data + 4), BS);
	lt_res_free(&r);
	lt_put32(c + 2, 5); /* LBA without PMI */
	r = lt_in(t, &t->a, c, 10, 8);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
	c[8] = 1; /* PMI */
	r = lt_in(t, &t->a, c, 10, 8);
	lt_assert_good(&r);
	lt_res_free(&r);
}

static void test_read_capacity16(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_READ_CAPACITY16};
	lt_put32(c + 10, 32);
	struct lt_res r = lt_in(t, &t->a, c, 16, 32);
	lt_assert_good(&r);
	assert_int_equal(r.len, 32);
	assert_int_equal(lt_get64(r.data), LT_BLOCKS - 1);
	assert_int_equal(lt_get32(r.data + 8), BS);
	assert_int_equal(r.data[12], 0x10); /* RC BASIS 01b */
	assert_int_equal(r.data[13], 0x03); /* 8 logical blocks per 4 KiB physical block */
	assert_int_equal(r.data[14], 0x00); /* thick: no LBPME, LOWEST ALIGNED LBA 0 */
	assert_int_equal(r.data[15], 0x00);
	lt_res_free(&r);
	lt_put32(c + 10, 12);
	r = lt_in(t, &t->a, c, 16, 32);
	lt_assert_good(&r);
	assert_int_equal(r.len, 12);
	assert_int_equal(r.spdtl, 12);
	lt_res_free(&r);
}

static void test_read_capacity_4k(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_READ_CAPACITY16};
	lt_put32(c + 10, 32);
	struct lt_res r = lt_in(t, &t->a, c, 16, 32);
	lt_assert_good(&r);
	assert_int_equal(lt_get64(r.data), LT_BLOCKS / 8 - 1);
	assert_int_equal(lt_get32(r.data + 8), 4096);
	assert_int_equal(r.data[13], 0x00); /* one logical block per physical block */
	lt_res_free(&r);
	uint8_t w[3 * 4096], back[3 * 4096];
	lt_pattern(w, sizeof(w), 44);
	lt_write_blocks(t, 10, 3, w);
	lt_read_blocks(t, 10, 3, back);
	assert_memory_equal(w, back, sizeof(w));
}

static void test_round_trip_all_sizes(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[8 * BS], c[16];
	struct lt_res r;

	static const uint8_t wr[] = {PRK_OP_WRITE10, PRK_OP_WRITE12, PRK_OP_WRITE16};
	static const uint8_t rd[] = {PRK_OP_READ10, PRK_OP_READ12, PRK_OP_READ16};
	for (unsigned i = 0; i < 3; i++) {
		uint64_t lba = 100 + 10 * i;
		lt_pattern(w, sizeof(w), i + 1);
		memset(c, 0, sizeof(c));
		c[0] = wr[i];
		if (i == 0) {
			lt_put32(c + 2, (uint32_t)lba);
			lt_put16(c + 7, 8);
		} else if (i == 1) {
			lt_put32(c + 2, (uint32_t)lba);
			lt_put32(c + 6, 8);
		} else {
			lt_put64(c + 2, lba);
			lt_put32(c + 10, 8);
		}
		r = lt_out(t, &t->a, c, 16, w, sizeof(w));
		lt_assert_good(&r);
		assert_int_equal(r.spdtl, sizeof(w));
		c[0] = rd[i];
		r = lt_in(t, &t->a, c, 16, sizeof(w));
		lt_assert_good(&r);
		assert_int_equal(r.len, sizeof(w));
		assert_memory_equal(r.data, w, sizeof(w));
		lt_res_free(&r);
	}
}

static void test_rw6_zero_means_256(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t *w = malloc(256 * BS), c[6] = {PRK_OP_WRITE6, 0x00, 0x01, 0x00, 0, 0};
	lt_pattern(w, 256 * BS, 6);
	struct lt_res r = lt_out(t, &t->a, c, 6, w, 256 * BS);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, 256 * BS);
	c[0] = PRK_OP_READ6;
	r = lt_in(t, &t->a, c, 6, 256 * BS);
	lt_assert_good(&r);
	assert_int_equal(r.len, 256 * BS);
	assert_memory_equal(r.data, w, 256 * BS);
	lt_res_free(&r);
	/* 21-bit LBA: past the end */
	uint8_t c2[6] = {PRK_OP_READ6, 0x1f, 0xff, 0xff, 1, 0};
	r = lt_in(t, &t->a, c2, 6, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	free(w);
}

static void test_range_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16];
	struct lt_res r;

	lt_cdb10(c, PRK_OP_READ10, 0, LT_BLOCKS - 1, 2);
	r = lt_in(t, &t->a, c, 10, 2 * BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	assert_false(r.sense.sksv);
	lt_cdb10(c, PRK_OP_READ10, 0, LT_BLOCKS - 1, 1);
	r = lt_in(t, &t->a, c, 10, BS);
	lt_assert_good(&r);
	lt_res_free(&r);
	/* zero length: GOOD without data, but the LBA must exist */
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 0);
	r = lt_in(t, &t->a, c, 10, 0);
	lt_assert_good(&r);
	assert_int_equal(r.len, 0);
	lt_cdb10(c, PRK_OP_WRITE10, 0, LT_BLOCKS, 0);
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	lt_cdb16(c, PRK_OP_READ16, 0, UINT64_MAX, 2); /* wrap-around */
	r = lt_in(t, &t->a, c, 16, 2 * BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	lt_cdb16(c, PRK_OP_WRITE16, 0, LT_BLOCKS - 1, 0xffffffffu);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
}

static void test_protect_and_max_xfer(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16];
	struct lt_res r;

	lt_cdb10(c, PRK_OP_READ10, 0x20, 0, 1); /* RDPROTECT 001b */
	r = lt_in(t, &t->a, c, 10, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
	lt_cdb16(c, PRK_OP_WRITE16, 0x80, 0, 1);
	r = lt_out(t, &t->a, c, 16, c, 1);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);

	struct prk_lu_config cfg = t->cfg;
	cfg.max_xfer_blocks = 16;
	struct lt_ctx *t2 = lt_new(&cfg);
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 17);
	r = lt_in(t2, &t2->a, c, 10, 17 * BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 7, -1);
	lt_cdb16(c, PRK_OP_READ16, 0, 0, 17);
	r = lt_in(t2, &t2->a, c, 16, 17 * BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 10, -1);
	lt_cdb16(c, PRK_OP_READ16, 0, 0, 16);
	r = lt_in(t2, &t2->a, c, 16, 16 * BS);
	lt_assert_good(&r);
	lt_res_free(&r);
	lt_free(t2);
}

/* EDTL below the CDB's length: the LU sends EDTL bytes and reports the
 * full length in spdtl (residual overflow). */
static void test_read_short_edtl(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[4 * BS], c[10];
	lt_pattern(w, sizeof(w), 9);
	lt_write_blocks(t, 50, 4, w);
	lt_cdb10(c, PRK_OP_READ10, 0, 50, 4);
	struct lt_res r = lt_in(t, &t->a, c, 10, 1000);
	lt_assert_good(&r);
	assert_int_equal(r.len, 1000);
	assert_int_equal(r.spdtl, 4 * BS);
	assert_memory_equal(r.data, w, 1000);
	lt_res_free(&r);
	/* EDTL above: underflow, spdtl < edtl */
	r = lt_in(t, &t->a, c, 10, 8 * BS);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4 * BS);
	assert_int_equal(r.spdtl, 4 * BS);
	lt_res_free(&r);
	/* no EDTL at all */
	r = lt_in(t, &t->a, c, 10, 0);
	lt_assert_good(&r);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.spdtl, 4 * BS);
}

/* Data-out shorter than the CDB's length: whole blocks present are written,
 * GOOD, spdtl = the CDB's length. */
static void test_write_short_data(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t old[4 * BS], w[4 * BS], back[4 * BS], c[10];
	lt_pattern(old, sizeof(old), 1);
	lt_pattern(w, sizeof(w), 2);
	lt_write_blocks(t, 60, 4, old);
	lt_cdb10(c, PRK_OP_WRITE10, 0, 60, 4);
	struct lt_res r = lt_out(t, &t->a, c, 10, w, 3 * BS + 100);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, 4 * BS);
	lt_read_blocks(t, 60, 4, back);
	assert_memory_equal(back, w, 3 * BS);
	assert_memory_equal(back + 3 * BS, old + 3 * BS, BS);
	/* less than a block: nothing written */
	r = lt_out(t, &t->a, c, 10, w + BS, 100);
	lt_assert_good(&r);
	lt_read_blocks(t, 60, 1, back);
	assert_memory_equal(back, w, BS);
}

static void test_unaligned_data_out(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t *buf = malloc(2 * BS + 1), back[2 * BS], c[10];
	lt_pattern(buf + 1, 2 * BS, 17);
	lt_cdb10(c, PRK_OP_WRITE10, 0x08 /* FUA */, 70, 2);
	struct lt_res r = lt_out(t, &t->a, c, 10, buf + 1, 2 * BS);
	lt_assert_good(&r);
	lt_read_blocks(t, 70, 2, back);
	assert_memory_equal(back, buf + 1, 2 * BS);
	free(buf);
}

static void test_write_and_verify(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[2 * BS], back[2 * BS], c[16];
	lt_pattern(w, sizeof(w), 3);
	lt_cdb10(c, PRK_OP_WRITE_VERIFY10, 0x02 /* BYTCHK */, 80, 2);
	struct lt_res r = lt_out(t, &t->a, c, 10, w, sizeof(w));
	lt_assert_good(&r);
	lt_read_blocks(t, 80, 2, back);
	assert_memory_equal(back, w, sizeof(w));
	lt_cdb16(c, PRK_OP_WRITE_VERIFY16, 0x04, 80, 2); /* BYTCHK 10b */
	r = lt_out(t, &t->a, c, 16, w, sizeof(w));
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 2);
	lt_cdb16(c, PRK_OP_WRITE_VERIFY16, 0, LT_BLOCKS, 1);
	r = lt_out(t, &t->a, c, 16, w, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
}

static void test_verify(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[4 * BS], c[16];
	struct lt_res r;
	lt_pattern(w, sizeof(w), 4);
	lt_write_blocks(t, 90, 4, w);

	lt_cdb10(c, PRK_OP_VERIFY10, 0, 90, 4); /* BYTCHK 0: medium check only */
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_good(&r);
	lt_cdb10(c, PRK_OP_VERIFY10, 0, LT_BLOCKS - 2, 4);
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);

	lt_cdb16(c, PRK_OP_VERIFY16, 0x02, 90, 4); /* BYTCHK 01b */
	r = lt_out(t, &t->a, c, 16, w, sizeof(w));
	lt_assert_good(&r);
	w[700] ^= 0x40;
	w[900] ^= 0x01;
	r = lt_out(t, &t->a, c, 16, w, sizeof(w));
	lt_assert_sense(&r, PRK_SK_MISCOMPARE, 0x1d00);
	assert_true(r.sense.has_info);
	assert_int_equal(r.sense.info, 700);
	assert_int_equal(r.sense_raw[0], 0xf0); /* fixed, VALID */

	lt_cdb10(c, PRK_OP_VERIFY10, 0x04, 90, 4); /* BYTCHK 10b */
	r = lt_out(t, &t->a, c, 10, w, sizeof(w));
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 2);
	lt_cdb10(c, PRK_OP_VERIFY10, 0x06, 90, 4); /* BYTCHK 11b */
	r = lt_out(t, &t->a, c, 10, w, sizeof(w));
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 2);
}

/* The 12-byte forms (iscsi-test-cu Verify12 / WriteVerify12 skipped them
 * as not implemented). */
static void test_verify12_and_write_verify12(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[2 * BS], back[2 * BS], c[12] = {0};
	lt_pattern(w, sizeof(w), 12);
	c[0] = PRK_OP_WRITE_VERIFY12;
	lt_put32(c + 2, 300);
	lt_put32(c + 6, 2);
	struct lt_res r = lt_out(t, &t->a, c, 12, w, sizeof(w));
	lt_assert_good(&r);
	lt_read_blocks(t, 300, 2, back);
	assert_memory_equal(back, w, sizeof(w));
	c[0] = PRK_OP_VERIFY12;
	c[1] = 0x02; /* BYTCHK 01b */
	r = lt_out(t, &t->a, c, 12, w, sizeof(w));
	lt_assert_good(&r);
	w[513] ^= 0x80;
	r = lt_out(t, &t->a, c, 12, w, sizeof(w));
	lt_assert_sense(&r, PRK_SK_MISCOMPARE, 0x1d00);
	assert_int_equal(r.sense.info, 513);
}

static void test_prefetch_sync(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16];
	struct lt_res r;
	static const uint8_t ops10[] = {PRK_OP_PRE_FETCH10, PRK_OP_SYNC_CACHE10};
	static const uint8_t ops16[] = {PRK_OP_PRE_FETCH16, PRK_OP_SYNC_CACHE16};
	for (int i = 0; i < 2; i++) {
		lt_cdb10(c, ops10[i], 0x02, 0, 0);
		r = lt_in(t, &t->a, c, 10, 0);
		lt_assert_good(&r);
		lt_cdb10(c, ops10[i], 0, LT_BLOCKS - 1, 2);
		r = lt_in(t, &t->a, c, 10, 0);
		lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		lt_cdb16(c, ops16[i], 0, 10, 100);
		r = lt_in(t, &t->a, c, 16, 0);
		lt_assert_good(&r);
		lt_cdb16(c, ops16[i], 0, LT_BLOCKS, 0);
		r = lt_in(t, &t->a, c, 16, 0);
		lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	}
}

static void test_readonly(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t w[BS] = {1}, c[16];
	struct lt_res r;
	static const uint8_t ops[] = {PRK_OP_WRITE10, PRK_OP_WRITE_VERIFY10, PRK_OP_WRITE_SAME10};
	for (unsigned i = 0; i < sizeof(ops); i++) {
		lt_cdb10(c, ops[i], 0, 0, 1);
		r = lt_out(t, &t->a, c, 10, w, BS);
		lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	}
	lt_cdb16(c, PRK_OP_WRITE16, 0, 0, 1);
	r = lt_out(t, &t->a, c, 16, w, BS);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	uint8_t caw[16] = {PRK_OP_COMPARE_AND_WRITE};
	caw[13] = 1;
	uint8_t two[2 * BS] = {0};
	r = lt_out(t, &t->a, caw, 16, two, sizeof(two));
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	/* reads still work, MODE SENSE reports WP */
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	r = lt_in(t, &t->a, c, 10, BS);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t ms[6] = {PRK_OP_MODE_SENSE6, 0x08, 0x3f, 0, 255, 0};
	r = lt_in(t, &t->a, ms, 6, 255);
	lt_assert_good(&r);
	assert_int_equal(r.data[2], 0x90); /* WP, DPOFUA */
	lt_res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_capacity10, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_read_capacity16, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_read_capacity_4k, lt_setup_4k, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_all_sizes, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rw6_zero_means_256, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_range_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_protect_and_max_xfer, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_read_short_edtl, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_short_data, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_unaligned_data_out, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_and_verify, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_verify, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_verify12_and_write_verify12, lt_setup,
	                                    lt_teardown),
	    cmocka_unit_test_setup_teardown(test_prefetch_sync, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, lt_setup_ro, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
