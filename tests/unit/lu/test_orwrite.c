/* ORWRITE(16) (SBC-4): the OR of data-out into the medium, its field and
 * range errors, DPO/FUA, write protection, REPORT SUPPORTED OPERATION
 * CODES, and its atomicity against an overlapping writer (the range lock). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"

#define BS 512

static void orwrite_cdb(uint8_t *c, uint8_t flags, uint64_t lba, uint32_t n)
{
	lt_cdb16(c, PRK_OP_ORWRITE16, flags, lba, n);
}

static void test_orwrite_ors_into_medium(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t old[3 * BS], mask[3 * BS], back[3 * BS], c[16];
	lt_pattern(old, sizeof(old), 1);
	lt_pattern(mask, sizeof(mask), 2);
	lt_write_blocks(t, 20, 3, old);
	orwrite_cdb(c, 0, 20, 3);
	struct lt_res r = lt_out(t, &t->a, c, 16, mask, sizeof(mask));
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, sizeof(mask));
	lt_read_blocks(t, 20, 3, back);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], old[i] | mask[i]);
	/* neighbours untouched */
	uint8_t z[BS] = {0};
	lt_read_blocks(t, 19, 1, back);
	assert_memory_equal(back, z, BS);
	lt_read_blocks(t, 23, 1, back);
	assert_memory_equal(back, z, BS);
	/* the libiscsi sequence: zeros | a5 = a5, a5 | 5a = ff */
	memset(old, 0, BS);
	lt_write_blocks(t, LT_BLOCKS - 1, 1, old);
	memset(mask, 0xa5, BS);
	orwrite_cdb(c, 0x18, LT_BLOCKS - 1, 1); /* DPO, FUA accepted (DPOFUA=1) */
	r = lt_out(t, &t->a, c, 16, mask, BS);
	lt_assert_good(&r);
	memset(mask, 0x5a, BS);
	r = lt_out(t, &t->a, c, 16, mask, BS);
	lt_assert_good(&r);
	lt_read_blocks(t, LT_BLOCKS - 1, 1, back);
	memset(old, 0xff, BS);
	assert_memory_equal(back, old, BS);
}

static void test_orwrite_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16], buf[2 * BS] = {1};
	struct lt_res r;
	for (uint8_t p = 1; p < 8; p++) { /* ORPROTECT: no protection information */
		orwrite_cdb(c, (uint8_t)(p << 5), 0, 1);
		r = lt_out(t, &t->a, c, 16, buf, BS);
		lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
	}
	orwrite_cdb(c, 0, LT_BLOCKS - 1, 2);
	r = lt_out(t, &t->a, c, 16, buf, 2 * BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	orwrite_cdb(c, 0, UINT64_MAX, 1);
	r = lt_out(t, &t->a, c, 16, buf, BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	/* above MAXIMUM TRANSFER LENGTH */
	struct prk_lu_config cfg = {.block_size = BS, .num_blocks = 64, .max_xfer_blocks = 1};
	struct lt_ctx *small = lt_new(&cfg);
	orwrite_cdb(c, 0, 0, 2);
	r = lt_out(small, &small->a, c, 16, buf, 2 * BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 10, -1);
	lt_free(small);
	/* 0 blocks: GOOD, nothing written */
	orwrite_cdb(c, 0, 0, 0);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_good(&r);
	orwrite_cdb(c, 0, LT_BLOCKS, 0);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
}

static void test_orwrite_write_protected(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16], buf[BS] = {1};
	orwrite_cdb(c, 0, 0, 1);
	struct lt_res r = lt_out(t, &t->a, c, 16, buf, BS);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
}

static void test_orwrite_in_rsoc(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x01,
	                 PRK_OP_ORWRITE16};
	lt_put32(c + 6, 64);
	struct lt_res r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 0x07, 0x03); /* supported */
	assert_int_equal(lt_get16(r.data + 2), 16);
	assert_int_equal(r.data[4], PRK_OP_ORWRITE16);
	assert_int_equal(r.data[5] & 0x18, 0x18); /* DPO, FUA */
	lt_res_free(&r);
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_ORWRITE16, -1));
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

struct pending {
	int calls;
};
static void pend_done(struct prk_lu_cmd *cmd)
{
	((struct pending *)cmd->priv)->calls++;
}
static void io_done(struct prk_bs_io *io)
{
	(*(int *)io->priv)++;
}
static void granted_nop(struct prk_lu_range *r)
{
	(void)r;
}

/* A writer holds blocks 0..7: an ORWRITE of block 4 neither reads nor
 * writes until it is done, then ORs into what the writer left. */
static void test_orwrite_waits_for_overlapping_write(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_lu_range held = {.lba = 0, .n = 8, .granted = granted_nop};
	uint8_t before[BS], after[BS], mask[BS], back[BS];
	memset(before, 0x01, BS);
	lt_write_blocks(t, 4, 1, before);
	assert_true(prk_lu_rlock_acquire(&t->lu->rlock, &held));

	struct prk_lu_cmd cmd;
	struct pending p = {0};
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &t->a;
	cmd.port = &t->port;
	orwrite_cdb(cmd.cdb, 0, 4, 1);
	cmd.cdb_len = 16;
	memset(mask, 0x10, BS);
	cmd.data_out = mask;
	cmd.data_out_len = cmd.edtl = BS;
	cmd.dir_write = true;
	cmd.done = pend_done;
	cmd.priv = &p;
	prk_lu_submit(t->lu, &cmd);
	assert_int_equal(p.calls, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);

	/* the holder writes block 4 directly, as its WRITE would (the RAM
	 * backstore completes inside prk_bs_submit) */
	memset(after, 0x02, BS);
	struct iovec iov = {after, BS};
	int io_calls = 0;
	struct prk_bs_io io = {.op = PRK_BS_WRITE,
	                       .offset = 4 * BS,
	                       .len = BS,
	                       .iov = &iov,
	                       .iovcnt = 1,
	                       .done = io_done,
	                       .priv = &io_calls};
	prk_bs_submit(t->bs, &io);
	assert_int_equal(io_calls, 1);
	assert_int_equal(io.result, 0);
	assert_int_equal(p.calls, 0);
	prk_lu_rlock_release(&t->lu->rlock, &held);
	assert_int_equal(p.calls, 1);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	lt_read_blocks(t, 4, 1, back);
	memset(after, 0x12, BS);
	assert_memory_equal(back, after, BS);
	assert_true(prk_lu_rlock_idle(&t->lu->rlock));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_orwrite_ors_into_medium, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_orwrite_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_orwrite_write_protected, lt_setup_ro, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_orwrite_in_rsoc, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_orwrite_waits_for_overlapping_write, lt_setup,
	                                    lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
