/* The command table (src/lu/optable.c) against the other tables that must
 * know every command the LU implements: the PR engine's access classes
 * (src/pr/access.c), the data-out lengths the transport sizes write
 * buffers from (src/scsi/xfer.c), and what REPORT SUPPORTED OPERATION
 * CODES and dispatch make of it on thick, thin and SPC-2 LUs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"
#include "prkit/scsi_xfer.h"

/* A CDB of the row's length with its opcode and service action; the
 * remaining fields zero. */
static void row_cdb(const struct prk_lu_op *o, uint8_t *c)
{
	memset(c, 0, 16);
	c[0] = o->op;
	if (o->sa >= 0)
		c[1] = (uint8_t)o->sa;
}

static size_t n_rows(void)
{
	size_t n = 0;
	while (prk_lu_op_row(n))
		n++;
	return n;
}

/* Sorted by (op, sa) as the lookup's bisection needs; each row's usage
 * data starts with its opcode and service action and ends with the
 * control byte's NACA and LINK; its length is that of the opcode's group. */
static void test_rows_well_formed(void **state)
{
	(void)state;
	size_t n = n_rows();
	assert_true(n > 0 && n <= PRK_LU_MAX_OPS);
	for (size_t i = 0; i < n; i++) {
		const struct prk_lu_op *o = prk_lu_op_row(i);
		if (i > 0) {
			const struct prk_lu_op *p = prk_lu_op_row(i - 1);
			assert_true(p->op < o->op || (p->op == o->op && p->sa < o->sa));
		}
		assert_int_equal(o->cdb_len, prk_cdb_len_of_opcode(o->op));
		assert_int_equal(o->usage[0], o->op);
		assert_int_equal(o->usage[o->cdb_len - 1], 0x05);
		if (o->sa >= 0)
			assert_int_equal(o->usage[1] & 0x1f, o->sa);
		assert_int_equal(o->thin_usage1 & ~o->usage[1], 0);
		assert_ptr_equal(prk_lu_op_find(o->op, o->sa), o);
		assert_ptr_equal(prk_lu_op_next_sa(prk_lu_op_first(o->op), o->sa), o);
		assert_int_equal(prk_lu_op_has_sa(o->op), o->sa >= 0);
	}
	assert_null(prk_lu_op_row(n));
	assert_null(prk_lu_op_find(0xc0, -1));
	assert_null(prk_lu_op_find(PRK_OP_SANITIZE, 0x03)); /* CRYPTOGRAPHIC ERASE */
	assert_null(prk_lu_op_next_sa(prk_lu_op_first(PRK_OP_SANITIZE), 0x03));
	assert_null(prk_lu_op_first(0xc0));
}

/* Every command the LU implements has a class of its own in the engine's
 * access table, not the medium-write default of unknown commands: a
 * command added to the LU without a class would conflict under every
 * reservation type that restricts writes. */
static void test_every_row_has_pr_class(void **state)
{
	(void)state;
	uint8_t c[16];
	for (size_t i = 0; prk_lu_op_row(i); i++) {
		const struct prk_lu_op *o = prk_lu_op_row(i);
		row_cdb(o, c);
		if (!prk_pr_class_known(c, o->cdb_len))
			fail_msg("opcode %02xh sa %d has no PR access class", o->op, o->sa);
	}
	/* and the query does tell unknown ones apart */
	c[0] = 0xc0;
	assert_false(prk_pr_class_known(c, 16));
	c[0] = PRK_OP_SERVICE_ACTION_IN16;
	c[1] = 0x1f;
	assert_false(prk_pr_class_known(c, 16));
}

/* The transport sizes a write's buffer from prk_cdb_data_out_len before the
 * LU sees the command: every command of the LU must be known there. */
static void test_every_row_has_xfer_len(void **state)
{
	(void)state;
	uint8_t c[16];
	for (size_t i = 0; prk_lu_op_row(i); i++) {
		const struct prk_lu_op *o = prk_lu_op_row(i);
		uint64_t bytes = 1;
		row_cdb(o, c);
		if (prk_cdb_data_out_len(c, o->cdb_len, 512, &bytes) != PRK_XFER_KNOWN)
			fail_msg("opcode %02xh sa %d unknown to prk_cdb_data_out_len", o->op,
			         o->sa);
	}
}

/* RSOC's "all commands" list is exactly the rows the LU offers, in table
 * order, and dispatch accepts exactly those (REPORT LUNS: the target's). */
static void check_rsoc_is_table(struct lt_ctx *t)
{
	uint8_t c[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 0};
	lt_put32(c + 6, 4096);
	struct lt_res r = lt_in(t, &t->a, c, 12, 4096);
	lt_assert_good(&r);
	uint32_t len = lt_get32(r.data);
	uint32_t off = 4;
	for (size_t i = 0; prk_lu_op_row(i); i++) {
		const struct prk_lu_op *o = prk_lu_op_row(i);
		bool avail = prk_lu_op_available(t->lu, o);
		assert_int_equal(prk_lu_cmd_supported(t->lu, o->op, o->sa),
		                 avail && o->op != PRK_OP_REPORT_LUNS);
		if (!avail)
			continue;
		assert_true(off + 8 <= 4 + len);
		const uint8_t *d = r.data + off;
		assert_int_equal(d[0], o->op);
		assert_int_equal(lt_get16(d + 2), o->sa < 0 ? 0 : o->sa);
		assert_int_equal(d[5] & 1, o->sa >= 0);
		assert_int_equal(lt_get16(d + 6), o->cdb_len);
		off += 8;
	}
	assert_int_equal(off, 4 + len);
	lt_res_free(&r);
}

static void test_rsoc_is_table(void **state)
{
	check_rsoc_is_table(*state);
}

static int setup_nopr(void **state)
{
	struct prk_lu_config cfg = {0};
	cfg.block_size = 512;
	cfg.num_blocks = LT_BLOCKS;
	cfg.no_pr = true;
	*state = lt_new(&cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_well_formed),
	    cmocka_unit_test(test_every_row_has_pr_class),
	    cmocka_unit_test(test_every_row_has_xfer_len),
	    cmocka_unit_test_setup_teardown(test_rsoc_is_table, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_is_table, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_rsoc_is_table, setup_nopr, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
