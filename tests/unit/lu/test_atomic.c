/* WRITE ATOMIC(16) (SBC-4 5.48): on a LU whose backstore makes writes
 * all-or-nothing (RAM) it writes, honours the range lock and its limits
 * (VPD B0h MAXIMUM ATOMIC TRANSFER LENGTH; no atomic boundaries), and
 * appears in REPORT SUPPORTED OPERATION CODES; on a backstore that cannot
 * (a file) it is an unsupported opcode and the VPD fields are zero. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lu_internal.h"
#include "lu_test_util.h"

#define BS 512

static void wa_cdb(uint8_t *c, uint8_t flags, uint64_t lba, uint16_t boundary, uint16_t n)
{
	memset(c, 0, 16);
	c[0] = PRK_OP_WRITE_ATOMIC16;
	c[1] = flags;
	lt_put64(c + 2, lba);
	lt_put16(c + 10, boundary);
	lt_put16(c + 12, n);
}

static struct lt_res block_limits(struct lt_ctx *t)
{
	uint8_t inq[6] = {PRK_OP_INQUIRY, 1, 0xb0, 0, 64, 0};
	return lt_in(t, &t->a, inq, 6, 64);
}

static void test_write_atomic(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t data[4 * BS], back[4 * BS], c[16];
	lt_pattern(data, sizeof(data), 5);
	wa_cdb(c, 0x18, 10, 0, 4); /* DPO, FUA accepted */
	struct lt_res r = lt_out(t, &t->a, c, 16, data, sizeof(data));
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, sizeof(data));
	lt_read_blocks(t, 10, 4, back);
	assert_memory_equal(back, data, sizeof(data));
	wa_cdb(c, 0, LT_BLOCKS - 1, 0, 1); /* the last block */
	r = lt_out(t, &t->a, c, 16, data, BS);
	lt_assert_good(&r);
	wa_cdb(c, 0, 0, 0, 0); /* 0 blocks: nothing */
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_good(&r);
	/* VPD B0h: MAXIMUM ATOMIC TRANSFER LENGTH, no alignment/granularity
	 * requirement, no atomic boundaries */
	r = block_limits(t);
	lt_assert_good(&r);
	uint32_t max = lt_get32(r.data + 44);
	assert_int_equal(max, LT_BLOCKS); /* the whole RAM backstore */
	assert_true(max <= lt_get32(r.data + 8));
	assert_int_equal(lt_get32(r.data + 48), 0);
	assert_int_equal(lt_get32(r.data + 52), 0);
	assert_int_equal(lt_get32(r.data + 56), 0);
	assert_int_equal(lt_get32(r.data + 60), 0);
	lt_res_free(&r);
	uint8_t rs[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x01,
	                  PRK_OP_WRITE_ATOMIC16};
	lt_put32(rs + 6, 64);
	r = lt_in(t, &t->a, rs, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 0x07, 0x03);
	assert_int_equal(r.data[5] & 0x18, 0x18);
	lt_res_free(&r);
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

static void test_write_atomic_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t data[2 * BS] = {1}, c[16];
	struct lt_res r;
	for (uint8_t p = 1; p < 8; p++) {
		wa_cdb(c, (uint8_t)(p << 5), 0, 0, 1);
		r = lt_out(t, &t->a, c, 16, data, BS);
		lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
	}
	wa_cdb(c, 0, 0, 1, 1); /* ATOMIC BOUNDARY: none supported */
	r = lt_out(t, &t->a, c, 16, data, BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 10, -1);
	wa_cdb(c, 0, LT_BLOCKS - 1, 0, 2);
	r = lt_out(t, &t->a, c, 16, data, 2 * BS);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	wa_cdb(c, 0, 0x8000000000000000ULL, 0, 0);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	/* above MAXIMUM ATOMIC TRANSFER LENGTH (here the LU's MAXIMUM
	 * TRANSFER LENGTH of 1) */
	struct prk_lu_config cfg = {.block_size = BS, .num_blocks = 64, .max_xfer_blocks = 1};
	struct lt_ctx *small = lt_new(&cfg);
	r = block_limits(small);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data + 44), 1);
	lt_res_free(&r);
	wa_cdb(c, 0, 0, 0, 2);
	r = lt_out(small, &small->a, c, 16, data, 2 * BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 12, -1);
	lt_free(small);
}

static void test_write_atomic_write_protected(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t data[BS] = {1}, c[16];
	wa_cdb(c, 0, 0, 0, 1);
	struct lt_res r = lt_out(t, &t->a, c, 16, data, BS);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
}

struct pending {
	int calls;
};
static void pend_done(struct prk_lu_cmd *cmd)
{
	((struct pending *)cmd->priv)->calls++;
}
static void granted_nop(struct prk_lu_range *r)
{
	(void)r;
}

/* A writer holding an overlapping range makes it wait: it is never
 * interleaved with another write. */
static void test_write_atomic_waits(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_lu_range held = {.lba = 3, .n = 1, .granted = granted_nop};
	assert_true(prk_lu_rlock_acquire(&t->lu->rlock, &held));
	uint8_t data[4 * BS], back[4 * BS], z[4 * BS] = {0};
	lt_pattern(data, sizeof(data), 6);
	struct prk_lu_cmd cmd;
	struct pending p = {0};
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &t->a;
	cmd.port = &t->port;
	wa_cdb(cmd.cdb, 0, 0, 0, 4);
	cmd.cdb_len = 16;
	cmd.data_out = data;
	cmd.data_out_len = cmd.edtl = sizeof(data);
	cmd.dir_write = true;
	cmd.done = pend_done;
	cmd.priv = &p;
	prk_lu_submit(t->lu, &cmd);
	assert_int_equal(p.calls, 0);
	lt_read_blocks(t, 0, 4, back);
	assert_memory_equal(back, z, sizeof(z)); /* none of it yet */
	prk_lu_rlock_release(&t->lu->rlock, &held);
	assert_int_equal(p.calls, 1);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	lt_read_blocks(t, 0, 4, back);
	assert_memory_equal(back, data, sizeof(data));
}

/* A file backstore cannot make a write all-or-nothing across a crash
 * here: no WRITE ATOMIC, zeros in VPD B0h, not in RSOC. */
static void test_file_lu_has_no_atomic_write(void **state)
{
	(void)state;
	char path[64], err[128];
	snprintf(path, sizeof(path), "/var/tmp/prk-atomic-test-%d", (int)getpid());
	struct prk_bs_file_opts o = {.path = path, .size = 64 * BS};
	struct prk_bs *bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs) {
		unlink(path);
		skip();
	}
	struct prk_lu_config cfg = {.block_size = BS, .num_blocks = 64};
	snprintf(cfg.serial, sizeof(cfg.serial), "NOATOMIC");
	struct prk_lu *lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	assert_non_null(lu);
	assert_false(prk_lu_cmd_supported(lu, PRK_OP_WRITE_ATOMIC16, -1));
	assert_true(prk_lu_rsoc_consistent(lu));
	struct prk_nexus nx;
	assert_int_equal(prk_nexus_init(&nx, LT_NAME_A, 1, 1), 0);
	prk_lu_nexus_up(lu, &nx);
	struct prk_lu_port port = {.rtpi = 1, .tpg = 1, .target_name = LT_TARGET, .tpgt = 1};
	struct prk_lu_cmd cmd;
	struct pending p = {0};
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &nx;
	cmd.port = &port;
	uint8_t inq[6] = {PRK_OP_INQUIRY, 1, 0xb0, 0, 64, 0};
	memcpy(cmd.cdb, inq, 6);
	cmd.cdb_len = 16;
	cmd.edtl = 64;
	cmd.dir_read = true;
	cmd.done = pend_done;
	cmd.priv = &p;
	prk_lu_submit(lu, &cmd); /* INQUIRY does no I/O: completes inline */
	assert_int_equal(p.calls, 1);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(cmd.data_in_len, 64);
	for (size_t i = 44; i < 64; i++)
		assert_int_equal(cmd.data_in[i], 0);
	free(cmd.data_in);
	memset(cmd.cdb, 0, 16); /* TEST UNIT READY takes the power-on UA */
	cmd.edtl = 0;
	prk_lu_submit(lu, &cmd);
	assert_int_equal(p.calls, 2);
	wa_cdb(cmd.cdb, 0, 0, 0, 1);
	uint8_t data[BS] = {1};
	cmd.data_out = data;
	cmd.data_out_len = cmd.edtl = BS;
	cmd.dir_read = false;
	cmd.dir_write = true;
	prk_lu_submit(lu, &cmd);
	assert_int_equal(p.calls, 3);
	struct prk_sense s;
	assert_int_equal(prk_sense_decode(cmd.sense, cmd.sense_len, &s), 0);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc << 8 | s.ascq, PRK_ASC_INVALID_COMMAND_OPCODE);
	prk_lu_free(lu);
	prk_bs_close(bs);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_atomic, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_write_protected, lt_setup_ro,
	                                    lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_waits, lt_setup, lt_teardown),
	    cmocka_unit_test(test_file_lu_has_no_atomic_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
