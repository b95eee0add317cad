/* TEST UNIT READY, START STOP UNIT, unsupported opcodes and service
 * actions, the control byte, REPORT SUPPORTED OPERATION CODES, REPORT
 * SUPPORTED TASK MANAGEMENT FUNCTIONS, REPORT TARGET PORT GROUPS, and
 * prk_lu_new's checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"

static void test_tur_and_start_stop(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t tur[6] = {0}, ssu[6] = {PRK_OP_START_STOP_UNIT, 0x01, 0, 0, 0x01, 0};
	struct lt_res r = lt_in(t, &t->a, tur, 6, 0);
	lt_assert_good(&r);
	r = lt_in(t, &t->a, ssu, 6, 0);
	lt_assert_good(&r);
	ssu[4] = 0x30; /* power condition: ignored */
	r = lt_in(t, &t->a, ssu, 6, 0);
	lt_assert_good(&r);
}

static void test_unsupported(void **state)
{
	struct lt_ctx *t = *state;
	static const uint8_t ops[] = {
	    0xc0, PRK_OP_FORMAT_UNIT, PRK_OP_LOG_SENSE, PRK_OP_REPORT_LUNS, PRK_OP_VARIABLE, 0x60};
	for (unsigned i = 0; i < sizeof(ops); i++) {
		uint8_t c[16] = {ops[i]};
		struct lt_res r = lt_in(t, &t->a, c, 16, 0);
		lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
		assert_false(r.sense.sksv);
	}
	uint8_t sai[16] = {PRK_OP_SERVICE_ACTION_IN16, 0x11};
	struct lt_res r = lt_in(t, &t->a, sai, 16, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	uint8_t mi[12] = {PRK_OP_MAINTENANCE_IN, 0x05};
	r = lt_in(t, &t->a, mi, 12, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
}

static void test_control_byte(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[10];
	lt_cdb10(c, PRK_OP_READ10, 0, 0, 1);
	c[9] = 0x04; /* NACA */
	struct lt_res r = lt_in(t, &t->a, c, 10, 512);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 9, 2);
	c[9] = 0x01; /* LINK */
	r = lt_in(t, &t->a, c, 10, 512);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 9, 0);
	uint8_t tur[6] = {0, 0, 0, 0, 0, 0x04};
	r = lt_in(t, &t->a, tur, 6, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 5, 2);
}

static struct lt_res rsoc(struct lt_ctx *t, uint8_t opts, uint8_t op, uint16_t sa, uint32_t alloc)
{
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, opts, op};
	lt_put16(c + 4, sa);
	lt_put32(c + 6, alloc);
	return lt_in(t, &t->a, c, 12, alloc);
}

static void check_all_commands(struct lt_ctx *t, unsigned expect_n)
{
	struct lt_res r = rsoc(t, 0, 0, 0, 4096);
	lt_assert_good(&r);
	uint32_t len = lt_get32(r.data);
	assert_int_equal(len % 8, 0);
	assert_int_equal(r.len, 4 + len);
	assert_int_equal(len / 8, expect_n);
	bool seen_read16 = false, seen_rc16 = false;
	for (uint32_t off = 4; off < 4 + len; off += 8) {
		const uint8_t *d = r.data + off;
		uint8_t op = d[0];
		uint16_t sa = lt_get16(d + 2);
		bool servactv = d[5] & 1;
		assert_int_equal(servactv, op == 0x9e || op == 0xa3 || op == PRK_OP_SANITIZE);
		assert_int_equal(lt_get16(d + 6), prk_cdb_len_of_opcode(op));
		if (op != PRK_OP_REPORT_LUNS)
			assert_true(prk_lu_cmd_supported(t->lu, op, servactv ? sa : -1));
		seen_read16 |= op == PRK_OP_READ16;
		seen_rc16 |= op == 0x9e && sa == 0x10;
	}
	assert_true(seen_read16);
	assert_true(seen_rc16);
	lt_res_free(&r);
	/* with timeouts descriptors: 20 bytes each, CTDP set */
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x80};
	lt_put32(c + 6, 4096);
	r = lt_in(t, &t->a, c, 12, 4096);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data), expect_n * 20);
	assert_int_equal(r.data[4 + 5] & 0x02, 0x02);
	assert_int_equal(lt_get16(r.data + 4 + 8), 0x0a);
	lt_res_free(&r);
	assert_true(prk_lu_rsoc_consistent(t->lu));
}

static void test_rsoc_all_thick(void **state)
{
	check_all_commands(*state, 47);
}

static void test_rsoc_all_thin(void **state)
{
	check_all_commands(*state, 50);
}

/* WRITE SAME's UNMAP/ANCHOR bits are usable only on thin LUs, and RSOC
 * must say so (iscsi-test-cu WriteSame10.UnmapVpd fails a thick LU that
 * advertises them). */
static void test_rsoc_write_same_unmap_bits(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = rsoc(t, 1, PRK_OP_WRITE_SAME10, 0, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[4], PRK_OP_WRITE_SAME10);
	assert_int_equal(r.data[5] & 0x18, t->cfg.thin ? 0x18 : 0);
	lt_res_free(&r);
	r = rsoc(t, 1, PRK_OP_WRITE_SAME16, 0, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[5] & 0x18, t->cfg.thin ? 0x18 : 0);
	lt_res_free(&r);
}

static void test_rsoc_one(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = rsoc(t, 1, PRK_OP_READ10, 0, 64);
	lt_assert_good(&r);
	static const uint8_t want[] = {0,    0x03, 0,    10,   0x28, 0xf8, 0xff,
	                               0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0x05};
	assert_int_equal(r.len, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
	lt_res_free(&r);
	r = rsoc(t, 1, 0xc0, 0, 64);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4);
	assert_int_equal(r.data[1] & 7, 1); /* not supported */
	lt_res_free(&r);
	r = rsoc(t, 1, 0x9e, 0x10, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 3, -1);
	r = rsoc(t, 2, 0x28, 0, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 3, -1);
	r = rsoc(t, 2, 0x9e, 0x10, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 7, 3);
	assert_int_equal(lt_get16(r.data + 2), 16);
	assert_int_equal(r.data[4], 0x9e);
	assert_int_equal(r.data[5], 0x10);
	lt_res_free(&r);
	r = rsoc(t, 2, 0x9e, 0x12, 64); /* GET LBA STATUS: thin only */
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 7, 1);
	lt_res_free(&r);
	r = rsoc(t, 3, 0x2a, 0x55, 64); /* SA ignored for an opcode without */
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 7, 3);
	lt_res_free(&r);
	r = rsoc(t, 5, 0x28, 0, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, 2);
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0x81, 0x28};
	lt_put32(c + 6, 64);
	r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1], 0x83);
	assert_int_equal(r.len, 4 + 10 + 12);
	lt_res_free(&r);
}

static void test_rstmf(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_TMFS};
	lt_put32(c + 6, 16);
	struct lt_res r = lt_in(t, &t->a, c, 12, 16);
	lt_assert_good(&r);
	static const uint8_t want[] = {0xd8, 0, 0, 0};
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.data, want, 4);
	lt_res_free(&r);
	c[2] = 0x80;
	r = lt_in(t, &t->a, c, 12, 16);
	lt_assert_good(&r);
	assert_int_equal(r.len, 16);
	assert_int_equal(r.data[0], 0xd8);
	assert_int_equal(r.data[3], 0x0c);
	lt_res_free(&r);
}

static void test_rtpg(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_TARGET_PGS};
	lt_put32(c + 6, 64);
	struct lt_res r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	/* No port group table: only the command's own port, active/optimized,
	 * PREF 0, T_SUP U_SUP S_SUP AN_SUP AO_SUP (the full list is in
	 * test_alua.c). */
	static const uint8_t want[] = {0, 0, 0, 12, 0x00, 0x8f, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1};
	assert_int_equal(r.len, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
	lt_res_free(&r);
	c[1] |= 0x20; /* extended header */
	r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.len, 20);
	assert_int_equal(lt_get32(r.data), 16);
	assert_int_equal(r.data[4], 0x10);
	assert_int_equal(r.data[8], 0x00);
	assert_int_equal(r.data[9], 0x8f);
	lt_res_free(&r);
	c[1] = PRK_MI_REPORT_TARGET_PGS | 0x40;
	r = lt_in(t, &t->a, c, 12, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
}

static void test_new_errors(void **state)
{
	(void)state;
	char err[128];
	struct prk_bs *bs = prk_bs_ram_open(1 << 20, err, sizeof(err));
	assert_non_null(bs);
	struct prk_lu_config cfg = {.block_size = 1024, .num_blocks = 10};
	snprintf(cfg.serial, sizeof(cfg.serial), "S1");
	assert_null(prk_lu_new(&cfg, bs, err, sizeof(err)));
	assert_non_null(strstr(err, "block_size"));
	cfg.block_size = 512;
	cfg.num_blocks = 4096; /* 2 MiB > 1 MiB */
	assert_null(prk_lu_new(&cfg, bs, err, sizeof(err)));
	assert_non_null(strstr(err, "num_blocks"));
	cfg.num_blocks = 0;
	assert_null(prk_lu_new(&cfg, bs, err, sizeof(err)));
	assert_non_null(strstr(err, "num_blocks"));
	cfg.num_blocks = 2048;
	cfg.serial[0] = 0;
	assert_null(prk_lu_new(&cfg, bs, err, sizeof(err)));
	assert_non_null(strstr(err, "serial"));
	snprintf(cfg.serial, sizeof(cfg.serial), "S1");
	cfg.vendor[0] = '\t';
	assert_null(prk_lu_new(&cfg, bs, err, sizeof(err)));
	assert_non_null(strstr(err, "vendor"));
	cfg.vendor[0] = 0;
	struct prk_lu *lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	assert_non_null(lu);
	assert_string_equal(prk_lu_config(lu)->vendor, "PRKIT");
	assert_int_equal(prk_lu_config(lu)->max_xfer_blocks, 65536);
	assert_non_null(prk_lu_pr(lu));
	assert_int_equal(prk_lu_inflight(lu), 0);
	prk_lu_free(lu);
	prk_bs_close(bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tur_and_start_stop, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_unsupported, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_control_byte, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_all_thick, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_all_thin, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_one, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_write_same_unmap_bits, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_write_same_unmap_bits, lt_setup_thin,
	                                    lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rstmf, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rtpg, lt_setup, lt_teardown),
	    cmocka_unit_test(test_new_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
