/* SANITIZE (SBC-4): OVERWRITE (patterns, passes, INVERT, parameter
 * errors), BLOCK ERASE on thin LUs only, CRYPTOGRAPHIC ERASE refused,
 * EXIT FAILURE MODE, reserved CDB fields, write protection, the
 * in-progress behaviour (NOT READY 04/1B, progress in REQUEST SENSE,
 * IMMED), and the failure mode after a failed sanitize. */
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
#define SA_OVERWRITE 0x01
#define SA_BLOCK_ERASE 0x02
#define SA_CRYPTO 0x03
#define SA_EXIT 0x1f

static void san_cdb(uint8_t *c, uint8_t b1, uint16_t pll)
{
	memset(c, 0, 16);
	c[0] = PRK_OP_SANITIZE;
	c[1] = b1;
	lt_put16(c + 7, pll);
}

/* OVERWRITE parameter list: count (with INVERT/TEST bits), pattern. */
static uint16_t ow_params(uint8_t *p, uint8_t b0, const uint8_t *pat, uint16_t ipl)
{
	p[0] = b0;
	p[1] = 0;
	lt_put16(p + 2, ipl);
	memcpy(p + 4, pat, ipl);
	return (uint16_t)(4 + ipl);
}

static struct lt_res overwrite(struct lt_ctx *t, uint8_t b1, uint8_t b0, const uint8_t *pat,
                               uint16_t ipl)
{
	uint8_t p[4 + 4096], c[16];
	uint16_t pll = ow_params(p, b0, pat, ipl);
	san_cdb(c, (uint8_t)(b1 | SA_OVERWRITE), pll);
	return lt_out(t, &t->a, c, 10, p, pll);
}

static void expect_blocks(struct lt_ctx *t, uint64_t lba, const uint8_t *want)
{
	uint8_t b[BS];
	lt_read_blocks(t, lba, 1, b);
	assert_memory_equal(b, want, BS);
}

static void test_overwrite_patterns(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t data[BS], pat[BS], want[BS];
	lt_pattern(data, BS, 3);
	lt_write_blocks(t, 0, 1, data);
	lt_write_blocks(t, LT_BLOCKS - 1, 1, data);
	/* a full-block pattern, one pass */
	memset(pat, 0xaa, BS);
	struct lt_res r = overwrite(t, 0, 1, pat, BS);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, BS + 4);
	for (uint64_t lba = 0; lba < LT_BLOCKS; lba += 1999)
		expect_blocks(t, lba, pat);
	expect_blocks(t, LT_BLOCKS - 1, pat);
	/* a 3-byte pattern repeats from the start of every block */
	const uint8_t three[3] = {1, 2, 3};
	r = overwrite(t, 0, 2, three, 3);
	lt_assert_good(&r);
	for (size_t i = 0; i < BS; i++)
		want[i] = three[i % 3];
	expect_blocks(t, 0, want);
	expect_blocks(t, LT_BLOCKS - 1, want);
	/* INVERT with 2 passes: the last pass writes the pattern as given */
	memset(pat, 0x0f, 4);
	r = overwrite(t, 0, 0x80 | 2, pat, 4);
	lt_assert_good(&r);
	memset(want, 0x0f, BS);
	expect_blocks(t, 7, want);
	/* and with 3 passes too */
	r = overwrite(t, 0, 0x80 | 3, pat, 4);
	lt_assert_good(&r);
	expect_blocks(t, 7, want);
	assert_true(prk_lu_rlock_idle(&t->lu->rlock));
}

static void test_overwrite_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[BS + 8] = {0}, c[16], pat[BS];
	struct lt_res r;
	memset(pat, 0x55, BS);
	ow_params(p, 1, pat, BS);
	for (uint16_t pll = 0; pll < 5; pll++) { /* too short for a pattern */
		san_cdb(c, SA_OVERWRITE, pll);
		r = lt_out(t, &t->a, c, 10, pll ? p : NULL, pll);
		lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 7, -1);
	}
	san_cdb(c, SA_OVERWRITE, BS + 5); /* longer than a block + header */
	r = lt_out(t, &t->a, c, 10, p, BS + 5);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 7, -1);
	r = overwrite(t, 0, 0, pat, BS); /* OVERWRITE COUNT 0 */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 0, 4);
	r = overwrite(t, 0, 0x21, pat, BS); /* TEST != 0 */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 0, 6);
	/* INITIALIZATION PATTERN LENGTH 0, above the block length, or beyond
	 * the parameter list */
	ow_params(p, 1, pat, 8);
	lt_put16(p + 2, 0);
	san_cdb(c, SA_OVERWRITE, 12);
	r = lt_out(t, &t->a, c, 10, p, 12);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 2, -1);
	lt_put16(p + 2, BS + 4);
	san_cdb(c, SA_OVERWRITE, BS + 4);
	r = lt_out(t, &t->a, c, 10, p, BS + 4);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 2, -1);
	lt_put16(p + 2, 9);
	san_cdb(c, SA_OVERWRITE, 12);
	r = lt_out(t, &t->a, c, 10, p, 12);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 2, -1);
	/* fewer bytes of data-out than PARAMETER LIST LENGTH */
	san_cdb(c, SA_OVERWRITE, 12);
	r = lt_out(t, &t->a, c, 10, p, 6);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* nothing was written */
	uint8_t z[BS] = {0};
	expect_blocks(t, 0, z);
}

static void test_cdb_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16];
	struct lt_res r;
	san_cdb(c, 0x40 | SA_EXIT, 0); /* reserved bit */
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 6);
	for (size_t i = 2; i <= 6; i++) { /* reserved bytes */
		san_cdb(c, SA_EXIT, 0);
		c[i] = (uint8_t)i;
		r = lt_out(t, &t->a, c, 10, NULL, 0);
		lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, i, -1);
	}
	for (uint8_t sa = 0; sa < 0x1f; sa++) { /* unsupported service actions */
		if (sa == SA_OVERWRITE)
			continue;
		san_cdb(c, sa, 0);
		r = lt_out(t, &t->a, c, 10, NULL, 0);
		lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	}
	uint8_t p[8] = {0};
	san_cdb(c, SA_EXIT, 8); /* EXIT FAILURE MODE takes no parameters */
	r = lt_out(t, &t->a, c, 10, p, 8);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 7, -1);
	san_cdb(c, SA_EXIT, 0); /* not in failure mode: GOOD */
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_good(&r);
	/* RSOC: OVERWRITE and EXIT FAILURE MODE, no BLOCK ERASE (thick), no
	 * CRYPTOGRAPHIC ERASE */
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_SANITIZE, SA_OVERWRITE));
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_SANITIZE, SA_EXIT));
	assert_false(prk_lu_cmd_supported(t->lu, PRK_OP_SANITIZE, SA_BLOCK_ERASE));
	assert_false(prk_lu_cmd_supported(t->lu, PRK_OP_SANITIZE, SA_CRYPTO));
	uint8_t rs[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x02,
	                  PRK_OP_SANITIZE};
	lt_put16(rs + 4, SA_OVERWRITE);
	lt_put32(rs + 6, 64);
	r = lt_in(t, &t->a, rs, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 0x07, 0x03);
	assert_int_equal(lt_get16(r.data + 2), 10);
	lt_res_free(&r);
	lt_put16(rs + 4, SA_CRYPTO);
	r = lt_in(t, &t->a, rs, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 0x07, 0x01); /* not supported */
	lt_res_free(&r);
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

static void test_block_erase_thin(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t data[BS], z[BS] = {0}, c[16];
	lt_pattern(data, BS, 9);
	lt_write_blocks(t, 0, 1, data);
	lt_write_blocks(t, LT_BLOCKS - 1, 1, data);
	san_cdb(c, SA_BLOCK_ERASE, 8);
	uint8_t p[8] = {0};
	struct lt_res r = lt_out(t, &t->a, c, 10, p, 8);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 7, -1);
	san_cdb(c, SA_BLOCK_ERASE, 0);
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_good(&r);
	expect_blocks(t, 0, z);
	expect_blocks(t, LT_BLOCKS - 1, z);
	/* every LBA deallocated: one GET LBA STATUS descriptor for the LU */
	uint8_t g[16] = {PRK_OP_SERVICE_ACTION_IN16, PRK_SAI_GET_LBA_STATUS};
	lt_put32(g + 10, 256);
	r = lt_in(t, &t->a, g, 16, 256);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data), 4 + 16);
	assert_int_equal(lt_get64(r.data + 8), 0);
	assert_int_equal(lt_get32(r.data + 16), LT_BLOCKS);
	assert_int_equal(r.data[20] & 0x0f, 1);
	lt_res_free(&r);
	/* VPD B1h: WABEREQ 01b */
	uint8_t inq[6] = {PRK_OP_INQUIRY, 1, 0xb1, 0, 64, 0};
	r = lt_in(t, &t->a, inq, 6, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[7] & 0xf0, 0x40);
	lt_res_free(&r);
	assert_true(prk_lu_cmd_supported(t->lu, PRK_OP_SANITIZE, SA_BLOCK_ERASE));
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

static void test_write_protected(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t pat[BS], c[16];
	memset(pat, 1, BS);
	struct lt_res r = overwrite(t, 0, 1, pat, BS);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	san_cdb(c, SA_EXIT, 0);
	r = lt_out(t, &t->a, c, 10, NULL, 0);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	/* a thin read-only LU refuses BLOCK ERASE the same way */
	struct prk_lu_config cfg = {
	    .block_size = BS, .num_blocks = 64, .thin = true, .readonly = true};
	struct lt_ctx *ro = lt_new(&cfg);
	san_cdb(c, SA_BLOCK_ERASE, 0);
	r = lt_out(ro, &ro->a, c, 10, NULL, 0);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2700);
	lt_free(ro);
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

static void submit_pending(struct lt_ctx *t, struct prk_lu_cmd *cmd, struct pending *p,
                           const uint8_t *cdb, const uint8_t *out, uint32_t len)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->nx = &t->a;
	cmd->port = &t->port;
	memcpy(cmd->cdb, cdb, 16);
	cmd->cdb_len = 16;
	cmd->data_out = out;
	cmd->data_out_len = cmd->edtl = len;
	cmd->dir_write = len > 0;
	cmd->done = pend_done;
	cmd->priv = p;
	prk_lu_submit(t->lu, cmd);
}

/* While a sanitize waits for an earlier writer (and then runs), other
 * commands see NOT READY 04/1B; INQUIRY runs; REQUEST SENSE reports it
 * with a progress indication; the SANITIZE (IMMED=0) completes with the
 * operation, IMMED=1 at once. */
static void in_progress(struct lt_ctx *t, bool immed)
{
	struct prk_lu_range held = {.lba = 5, .n = 1, .granted = granted_nop};
	assert_true(prk_lu_rlock_acquire(&t->lu->rlock, &held));
	uint8_t p[4 + BS], c[16], pat[BS];
	memset(pat, 0x3c, BS);
	uint16_t pll = ow_params(p, 1, pat, BS);
	san_cdb(c, (uint8_t)((immed ? 0x80 : 0) | SA_OVERWRITE), pll);
	struct prk_lu_cmd cmd;
	struct pending pd = {0};
	submit_pending(t, &cmd, &pd, c, p, pll);
	assert_int_equal(pd.calls, immed ? 1 : 0);
	if (immed)
		assert_int_equal(cmd.status, PRK_STATUS_GOOD);

	uint8_t tur[6] = {0};
	struct lt_res r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_NOT_READY, 0x041b);
	uint8_t rd[16];
	lt_cdb16(rd, PRK_OP_READ16, 0, 100, 1);
	r = lt_in(t, &t->a, rd, 16, BS);
	lt_assert_sense(&r, PRK_SK_NOT_READY, 0x041b);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 36, 0};
	r = lt_in(t, &t->b, inq, 6, 36);
	lt_assert_good(&r);
	lt_res_free(&r);
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	r = lt_in(t, &t->b, rs, 6, 18);
	lt_assert_good(&r);
	assert_int_equal(r.data[2] & 0x0f, PRK_SK_NOT_READY);
	assert_int_equal(r.data[12], 0x04);
	assert_int_equal(r.data[13], 0x1b);
	assert_int_equal(r.data[15] & 0x80, 0x80); /* SKSV: progress */
	assert_int_equal(lt_get16(r.data + 16), 0);
	lt_res_free(&r);
	uint8_t rsd[6] = {PRK_OP_REQUEST_SENSE, 1, 0, 0, 252, 0}; /* descriptor format */
	r = lt_in(t, &t->b, rsd, 6, 252);
	lt_assert_good(&r);
	assert_int_equal(r.data[0] & 0x7f, 0x72);
	assert_int_equal(r.data[7], 8);
	assert_int_equal(r.data[8], 0x02); /* sense key specific descriptor */
	assert_int_equal(r.data[12] & 0x80, 0x80);
	lt_res_free(&r);

	prk_lu_rlock_release(&t->lu->rlock, &held);
	assert_int_equal(pd.calls, 1);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_good(&r);
	expect_blocks(t, 100, pat);
	r = lt_in(t, &t->b, rs, 6, 18);
	lt_assert_good(&r);
	assert_int_equal(r.data[2] & 0x0f, PRK_SK_NO_SENSE);
	lt_res_free(&r);
}

static void test_in_progress(void **state)
{
	in_progress(*state, false);
}

static void test_in_progress_immed(void **state)
{
	in_progress(*state, true);
}

/* A sanitize that fails (the backstore refuses writes) leaves the LU in
 * the failure mode until EXIT FAILURE MODE (AUSE=1) or a good sanitize. */
static void test_failure_mode(void **state)
{
	(void)state;
	char path[64], err[128];
	snprintf(path, sizeof(path), "/var/tmp/prk-san-test-%d", (int)getpid());
	struct prk_bs_file_opts o = {.path = path, .size = 64 * BS};
	struct prk_bs *bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs) {
		unlink(path);
		skip();
	}
	prk_bs_close(bs);
	o.readonly = true;
	bs = prk_bs_file_open(&o, err, sizeof(err));
	assert_non_null(bs);
	struct prk_lu_config cfg = {.block_size = BS, .num_blocks = 64};
	snprintf(cfg.serial, sizeof(cfg.serial), "SANFAIL");
	struct prk_lu *lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	assert_non_null(lu);
	struct prk_nexus nx;
	assert_int_equal(prk_nexus_init(&nx, LT_NAME_A, 1, 1), 0);
	prk_lu_nexus_up(lu, &nx);
	struct prk_lu_port port = {.rtpi = 1, .tpg = 1, .target_name = LT_TARGET, .tpgt = 1};

	struct {
		uint8_t cdb[16];
		uint32_t len;
		uint8_t status, key;
		uint16_t asc;
	} steps[] = {
	    {{0}, 0, PRK_STATUS_CHECK_CONDITION, PRK_SK_UNIT_ATTENTION, 0x2900}, /* power on */
	    {{PRK_OP_SANITIZE, SA_OVERWRITE, 0, 0, 0, 0, 0, 0, 8},
	     8,
	     PRK_STATUS_CHECK_CONDITION,
	     PRK_SK_MEDIUM_ERROR,
	     0x3103},
	    {{PRK_OP_READ16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	     0,
	     PRK_STATUS_CHECK_CONDITION,
	     PRK_SK_MEDIUM_ERROR,
	     0x3103},
	    {{0}, 0, PRK_STATUS_GOOD, 0, 0}, /* TEST UNIT READY runs */
	    {{PRK_OP_SANITIZE, SA_EXIT},
	     0,
	     PRK_STATUS_CHECK_CONDITION,
	     PRK_SK_ILLEGAL_REQUEST,
	     0x2400}, /* the failed one had AUSE=0 */
	    {{PRK_OP_SANITIZE, 0x20 | SA_OVERWRITE, 0, 0, 0, 0, 0, 0, 8},
	     8,
	     PRK_STATUS_CHECK_CONDITION,
	     PRK_SK_MEDIUM_ERROR,
	     0x3103},
	    {{PRK_OP_SANITIZE, SA_EXIT}, 0, PRK_STATUS_GOOD, 0, 0},
	    {{PRK_OP_READ16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0, PRK_STATUS_GOOD, 0, 0},
	};
	uint8_t params[8] = {1, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct prk_lu_cmd cmd;
		struct pending pd = {0};
		memset(&cmd, 0, sizeof(cmd));
		cmd.nx = &nx;
		cmd.port = &port;
		memcpy(cmd.cdb, steps[i].cdb, 16);
		cmd.cdb_len = 16;
		if (steps[i].len) {
			cmd.data_out = params;
			cmd.data_out_len = cmd.edtl = steps[i].len;
			cmd.dir_write = true;
		} else if (steps[i].cdb[0] == PRK_OP_READ16) {
			cmd.edtl = BS;
			cmd.dir_read = true;
		}
		cmd.done = pend_done;
		cmd.priv = &pd;
		prk_lu_submit(lu, &cmd);
		for (int spins = 0; pd.calls == 0 && spins < 100000; spins++) {
			prk_bs_complete(bs);
			if (pd.calls == 0)
				usleep(100);
		}
		assert_int_equal(pd.calls, 1);
		if (cmd.status != steps[i].status)
			fail_msg("step %zu: status %02x", i, cmd.status);
		if (steps[i].status == PRK_STATUS_CHECK_CONDITION) {
			struct prk_sense s;
			assert_int_equal(prk_sense_decode(cmd.sense, cmd.sense_len, &s), 0);
			if (s.key != steps[i].key ||
			    (uint16_t)(s.asc << 8 | s.ascq) != steps[i].asc)
				fail_msg("step %zu: sense %x %02x/%02x", i, s.key, s.asc, s.ascq);
		}
		free(cmd.data_in);
	}
	assert_int_equal(prk_lu_inflight(lu), 0);
	prk_lu_free(lu);
	prk_bs_close(bs);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_overwrite_patterns, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_overwrite_patterns, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_overwrite_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_cdb_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_block_erase_thin, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_write_protected, lt_setup_ro, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_in_progress, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_in_progress_immed, lt_setup, lt_teardown),
	    cmocka_unit_test(test_failure_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
