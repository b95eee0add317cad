/* Thin provisioning: READ CAPACITY(16) bits, UNMAP (parameter validation,
 * field pointers, ranges), GET LBA STATUS, WRITE SAME (pattern, zero,
 * UNMAP bit, NDOB, field errors); UNMAP / GET LBA STATUS on thick LUs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

#define BS 512
#define CHUNK_BLOCKS 2048 /* the RAM backstore maps 1 MiB at a time */

struct gls {
	uint64_t lba;
	uint32_t n;
	uint8_t status;
};

static int get_lba_status(struct lt_ctx *t, uint64_t lba, uint32_t alloc, struct gls *out, int max)
{
	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_GET_LBA_STATUS};
	lt_put64(c + 2, lba);
	lt_put32(c + 10, alloc);
	struct lt_res r = lt_in(t, &t->a, c, 16, alloc);
	lt_assert_good(&r);
	uint32_t pdl = lt_get32(r.data);
	assert_int_equal((pdl - 4) % 16, 0);
	int n = 0;
	for (size_t off = 8; off + 16 <= r.len && n < max; off += 16, n++) {
		out[n].lba = lt_get64(r.data + off);
		out[n].n = lt_get32(r.data + off + 8);
		out[n].status = r.data[off + 12] & 0x0f;
	}
	lt_res_free(&r);
	return n;
}

static struct lt_res unmap(struct lt_ctx *t, const uint8_t *p, uint16_t len)
{
	uint8_t c[10] = {PRK_OP_UNMAP};
	lt_put16(c + 7, len);
	return lt_out(t, &t->a, c, 10, p, len);
}

static uint16_t unmap_list(uint8_t *p, const uint64_t *lba, const uint32_t *n, int k)
{
	memset(p, 0, 8 + 16 * (size_t)k);
	lt_put16(p, (uint16_t)(6 + 16 * k));
	lt_put16(p + 2, (uint16_t)(16 * k));
	for (int i = 0; i < k; i++) {
		lt_put64(p + 8 + 16 * i, lba[i]);
		lt_put32(p + 16 + 16 * i, n[i]);
	}
	return (uint16_t)(8 + 16 * k);
}

static void test_rc16_thin(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_READ_CAPACITY16};
	lt_put32(c + 10, 32);
	struct lt_res r = lt_in(t, &t->a, c, 16, 32);
	lt_assert_good(&r);
	assert_int_equal(r.data[14], 0xc0);
	lt_res_free(&r);
}

static void test_unmap_and_status(void **state)
{
	struct lt_ctx *t = *state;
	struct gls g[8];
	uint8_t *w = malloc(CHUNK_BLOCKS * BS), *back = malloc(CHUNK_BLOCKS * BS);

	int n = get_lba_status(t, 0, 1024, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].lba, 0);
	assert_int_equal(g[0].n, LT_BLOCKS);
	assert_int_equal(g[0].status, 1);

	lt_pattern(w, CHUNK_BLOCKS * BS, 5);
	lt_write_blocks(t, CHUNK_BLOCKS, CHUNK_BLOCKS, w);
	n = get_lba_status(t, 0, 1024, g, 8);
	assert_int_equal(n, 3);
	assert_int_equal(g[0].n, CHUNK_BLOCKS);
	assert_int_equal(g[0].status, 1);
	assert_int_equal(g[1].lba, CHUNK_BLOCKS);
	assert_int_equal(g[1].n, CHUNK_BLOCKS);
	assert_int_equal(g[1].status, 0);
	assert_int_equal(g[2].lba, 2 * CHUNK_BLOCKS);
	assert_int_equal(g[2].status, 1);
	/* starting inside: */
	n = get_lba_status(t, CHUNK_BLOCKS + 10, 24, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].lba, CHUNK_BLOCKS + 10);
	assert_int_equal(g[0].n, CHUNK_BLOCKS - 10);
	assert_int_equal(g[0].status, 0);

	uint8_t p[64];
	uint64_t lba[2] = {CHUNK_BLOCKS, 0};
	uint32_t cnt[2] = {CHUNK_BLOCKS, 0};
	struct lt_res r = unmap(t, p, unmap_list(p, lba, cnt, 2));
	lt_assert_good(&r);
	n = get_lba_status(t, 0, 1024, g, 8);
	assert_int_equal(n, 1);
	assert_int_equal(g[0].status, 1);
	lt_read_blocks(t, CHUNK_BLOCKS, CHUNK_BLOCKS, back);
	memset(w, 0, CHUNK_BLOCKS * BS);
	assert_memory_equal(back, w, CHUNK_BLOCKS * BS);
	free(w);
	free(back);

	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_GET_LBA_STATUS};
	lt_put64(c + 2, LT_BLOCKS);
	lt_put32(c + 10, 24);
	r = lt_in(t, &t->a, c, 16, 24);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
}

static void test_unmap_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[8 + 16 * 300];
	uint64_t lba[2] = {0, LT_BLOCKS - 1};
	uint32_t cnt[2] = {1, 2};
	struct lt_res r;

	uint16_t n = unmap_list(p, lba, cnt, 2);
	r = unmap(t, p, n);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	r = unmap(t, p, 4);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	r = unmap(t, p, 0);
	lt_assert_good(&r);
	cnt[1] = 1;
	n = unmap_list(p, lba, cnt, 2);
	lt_put16(p + 2, 48); /* descriptors beyond the list */
	r = unmap(t, p, n);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 2, -1);
	n = unmap_list(p, lba, cnt, 2);
	lt_put16(p, 200);
	r = unmap(t, p, n);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 0, -1);
	cnt[1] = 0x100001; /* above MAXIMUM UNMAP LBA COUNT */
	n = unmap_list(p, lba, cnt, 2);
	r = unmap(t, p, n);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 8 + 16 + 8, -1);
	/* too many descriptors */
	static uint64_t many_lba[257];
	static uint32_t many_n[257];
	n = unmap_list(p, many_lba, many_n, 257);
	r = unmap(t, p, n);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 2, -1);
	/* a trailing partial descriptor is ignored */
	cnt[1] = 1;
	n = unmap_list(p, lba, cnt, 1);
	lt_put16(p + 2, 16 + 8);
	r = unmap(t, p, (uint16_t)(n + 8));
	lt_assert_good(&r);
	/* ANCHOR */
	uint8_t c[10] = {PRK_OP_UNMAP, 0x01};
	lt_put16(c + 7, n);
	r = lt_out(t, &t->a, c, 10, p, n);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 0);
}

static void test_thick_has_no_unmap(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[24];
	uint64_t lba = 0;
	uint32_t cnt = 1;
	struct lt_res r = unmap(t, p, unmap_list(p, &lba, &cnt, 1));
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	uint8_t c[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_GET_LBA_STATUS};
	lt_put32(c + 10, 24);
	r = lt_in(t, &t->a, c, 16, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	/* WRITE SAME with UNMAP=1 must not pretend to unmap (SBC-3: LBPWS=0). */
	uint8_t zero[BS] = {0}, ws[10];
	lt_cdb10(ws, PRK_OP_WRITE_SAME10, 0, 10, 1);
	ws[1] = 0x08;
	r = lt_out(t, &t->a, ws, 10, zero, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 3);
}

static void test_write_same_pattern(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t blk[BS], c[10];
	const uint32_t n = 3000; /* more than one pattern chunk */
	lt_pattern(blk, BS, 8);
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0, 100, (uint16_t)n);
	struct lt_res r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, BS);
	uint8_t *back = malloc((size_t)n * BS);
	lt_read_blocks(t, 100, n, back);
	for (uint32_t i = 0; i < n; i++)
		assert_memory_equal(back + (size_t)i * BS, blk, BS);
	free(back);
	/* neighbours untouched */
	uint8_t z[BS] = {0}, b2[BS];
	lt_read_blocks(t, 99, 1, b2);
	assert_memory_equal(b2, z, BS);
	lt_read_blocks(t, 100 + n, 1, b2);
	assert_memory_equal(b2, z, BS);
}

static void test_write_same_unmap(void **state)
{
	struct lt_ctx *t = *state;
	struct gls g[4];
	uint8_t *w = malloc(CHUNK_BLOCKS * BS), c[16], zero[BS] = {0};
	lt_pattern(w, CHUNK_BLOCKS * BS, 3);
	lt_write_blocks(t, 0, CHUNK_BLOCKS, w);
	assert_int_equal(get_lba_status(t, 0, 24, g, 1), 1);
	assert_int_equal(g[0].status, 0);
	/* zero data, UNMAP=1: deallocated */
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0x08, 0, CHUNK_BLOCKS);
	struct lt_res r = lt_out(t, &t->a, c, 16, zero, BS);
	lt_assert_good(&r);
	assert_int_equal(get_lba_status(t, 0, 24, g, 1), 1);
	assert_int_equal(g[0].status, 1);
	/* UNMAP=1 with non-zero data writes it */
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0x08, 0, 4);
	r = lt_out(t, &t->a, c, 16, w, BS);
	lt_assert_good(&r);
	uint8_t back[4 * BS];
	lt_read_blocks(t, 0, 4, back);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(back + i * BS, w, BS);
	/* NDOB: zeros, no data-out */
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0x01, 0, 4);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, 0);
	lt_read_blocks(t, 0, 4, back);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(back + i * BS, zero, BS);
	free(w);
}

/* WSNZ=0: NUMBER OF LOGICAL BLOCKS 0 writes from the LBA to the end of
 * the medium (SBC-4 5.49/5.50), within MAXIMUM WRITE SAME LENGTH. */
static void test_write_same_zero_blocks_to_end(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t blk[BS], c[16], b[BS], z[BS] = {0};
	lt_pattern(blk, BS, 21);
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0, LT_BLOCKS - 100, 0);
	struct lt_res r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_good(&r);
	for (uint32_t lba = LT_BLOCKS - 100; lba < LT_BLOCKS; lba += 33) {
		lt_read_blocks(t, lba, 1, b);
		assert_memory_equal(b, blk, BS);
	}
	lt_read_blocks(t, LT_BLOCKS - 1, 1, b);
	assert_memory_equal(b, blk, BS);
	lt_read_blocks(t, LT_BLOCKS - 101, 1, b);
	assert_memory_equal(b, z, BS);
	/* WRITE SAME(16), last block only */
	lt_pattern(blk, BS, 22);
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0, LT_BLOCKS - 1, 0);
	r = lt_out(t, &t->a, c, 16, blk, BS);
	lt_assert_good(&r);
	lt_read_blocks(t, LT_BLOCKS - 1, 1, b);
	assert_memory_equal(b, blk, BS);
	/* UNMAP=1 with zeros to the end deallocates (thin) */
	struct gls g[2];
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0x08, LT_BLOCKS - CHUNK_BLOCKS, 0);
	r = lt_out(t, &t->a, c, 16, z, BS);
	lt_assert_good(&r);
	assert_int_equal(get_lba_status(t, LT_BLOCKS - CHUNK_BLOCKS, 24, g, 1), 1);
	assert_int_equal(g[0].status, 1);
	/* VPD B0h says so */
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0x01, 0xb0, 0, 64, 0};
	r = lt_in(t, &t->a, inq, 6, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[4] & 0x01, 0); /* WSNZ */
	lt_res_free(&r);
}

/* A LU larger than MAXIMUM WRITE SAME LENGTH: 0 blocks from LBA 0 would
 * exceed it, which is 24/00 at NUMBER OF LOGICAL BLOCKS. */
static void test_write_same_zero_blocks_too_long(void **state)
{
	(void)state;
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = 0x400001, .thin = true};
	snprintf(cfg.serial, sizeof(cfg.serial), "WSBIG");
	struct lt_ctx *t = lt_new(&cfg);
	uint8_t blk[BS] = {7}, c[16];
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0, 0, 0);
	struct lt_res r = lt_out(t, &t->a, c, 16, blk, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 10, -1);
	/* one block less fits */
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0x08, 1, 0);
	uint8_t z[BS] = {0};
	r = lt_out(t, &t->a, c, 16, z, BS);
	lt_assert_good(&r);
	lt_free(t);
}

static void test_write_same_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t blk[BS] = {1}, c[16];
	struct lt_res r;
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0x10, 0, 1); /* ANCHOR */
	r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0x04, 0, 1); /* PBDATA */
	r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 2);
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0x02, 0, 1); /* LBDATA */
	r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 1);
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0x20, 0, 1); /* WRPROTECT */
	r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
	/* 0 blocks from an LBA past the end: 21/00, as for any range */
	lt_cdb10(c, PRK_OP_WRITE_SAME10, 0, LT_BLOCKS, 0);
	r = lt_out(t, &t->a, c, 10, blk, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0, UINT64_MAX, 0);
	r = lt_out(t, &t->a, c, 16, blk, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	lt_cdb16(c, PRK_OP_WRITE_SAME16, 0, LT_BLOCKS - 1, 2);
	r = lt_out(t, &t->a, c, 16, blk, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rc16_thin, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_and_status, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_errors, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_thick_has_no_unmap, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_same_pattern, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_same_unmap, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_same_errors, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_same_zero_blocks_to_end, lt_setup_thin,
	                                    lt_teardown),
	    cmocka_unit_test(test_write_same_zero_blocks_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
