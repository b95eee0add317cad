/* COMPARE AND WRITE: success, miscompare offset, field errors; the range
 * lock directly (grant, wait, FIFO order, cancel) and a CAW that has to
 * wait for an overlapping writer. */
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

static void caw_cdb(uint8_t *c, uint64_t lba, uint8_t n)
{
	memset(c, 0, 16);
	c[0] = PRK_OP_COMPARE_AND_WRITE;
	lt_put64(c + 2, lba);
	c[13] = n;
}

static void test_caw_success(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t old[2 * BS], buf[4 * BS], back[2 * BS], c[16];
	lt_pattern(old, sizeof(old), 1);
	lt_write_blocks(t, 10, 2, old);
	memcpy(buf, old, sizeof(old));
	lt_pattern(buf + 2 * BS, 2 * BS, 2);
	caw_cdb(c, 10, 2);
	struct lt_res r = lt_out(t, &t->a, c, 16, buf, sizeof(buf));
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, sizeof(buf));
	lt_read_blocks(t, 10, 2, back);
	assert_memory_equal(back, buf + 2 * BS, 2 * BS);
}

static void test_caw_miscompare(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t old[2 * BS], buf[4 * BS], back[2 * BS], c[16];
	lt_pattern(old, sizeof(old), 1);
	lt_write_blocks(t, 10, 2, old);
	memcpy(buf, old, sizeof(old));
	buf[BS + 37] ^= 0xff;
	lt_pattern(buf + 2 * BS, 2 * BS, 2);
	caw_cdb(c, 10, 2);
	struct lt_res r = lt_out(t, &t->a, c, 16, buf, sizeof(buf));
	lt_assert_sense(&r, PRK_SK_MISCOMPARE, 0x1d00);
	assert_true(r.sense.has_info);
	assert_int_equal(r.sense.info, BS + 37);
	lt_read_blocks(t, 10, 2, back);
	assert_memory_equal(back, old, sizeof(old));
	assert_true(prk_lu_rlock_idle(&t->lu->rlock));
}

static void test_caw_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t buf[4 * BS] = {0}, c[16];
	struct lt_res r;
	caw_cdb(c, 0, 2);
	r = lt_out(t, &t->a, c, 16, buf, 3 * BS); /* EDTL != 2 x blocks */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 13, -1);
	caw_cdb(c, 0, 129);
	r = lt_out(t, &t->a, c, 16, buf, sizeof(buf));
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 13, -1);
	caw_cdb(c, LT_BLOCKS - 1, 2);
	r = lt_out(t, &t->a, c, 16, buf, sizeof(buf));
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	caw_cdb(c, 0, 0);
	r = lt_out(t, &t->a, c, 16, NULL, 0);
	lt_assert_good(&r);
	/* Zero blocks but data sent along (libiscsi's 256-block CAW wraps the
	 * one-byte field to 0): the data contradicts the CDB. */
	caw_cdb(c, 0, 0);
	r = lt_out(t, &t->a, c, 16, buf, 2 * BS);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 13, -1);
	caw_cdb(c, 0, 2);
	c[1] = 0x20;
	r = lt_out(t, &t->a, c, 16, buf, sizeof(buf));
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 7);
}

/* ---- the range lock ---- */

static int granted_count;
static void on_granted(struct prk_lu_range *r)
{
	(void)r;
	granted_count++;
}

static void rng(struct prk_lu_range *r, uint64_t lba, uint64_t n)
{
	memset(r, 0, sizeof(*r));
	r->lba = lba;
	r->n = n;
	r->granted = on_granted;
}

static void test_rlock(void **state)
{
	(void)state;
	struct prk_lu_rlock l = {0};
	struct prk_lu_range r1, r2, r3, r4, r5;
	granted_count = 0;
	rng(&r1, 0, 10);
	rng(&r2, 5, 10);  /* overlaps r1 */
	rng(&r3, 12, 8);  /* overlaps only the waiter r2 */
	rng(&r4, 100, 1); /* overlaps nothing */
	rng(&r5, 10, 2);  /* adjacent to r1, overlaps r2 */
	assert_true(prk_lu_rlock_acquire(&l, &r1));
	assert_false(prk_lu_rlock_acquire(&l, &r2));
	assert_false(prk_lu_rlock_acquire(&l, &r3));
	assert_true(prk_lu_rlock_acquire(&l, &r4));
	assert_false(prk_lu_rlock_acquire(&l, &r5));
	prk_lu_rlock_release(&l, &r4);
	assert_int_equal(granted_count, 0);
	prk_lu_rlock_release(&l, &r1);
	assert_int_equal(granted_count, 1); /* r2 only: r3, r5 overlap it */
	prk_lu_rlock_cancel(&l, &r5);
	prk_lu_rlock_release(&l, &r2);
	assert_int_equal(granted_count, 2); /* r3 */
	prk_lu_rlock_release(&l, &r3);
	assert_true(prk_lu_rlock_idle(&l));
}

struct pending {
	int calls;
};
static void pend_done(struct prk_lu_cmd *cmd)
{
	((struct pending *)cmd->priv)->calls++;
}

/* A writer holds blocks 0..7: a CAW on block 4 waits (neither its compare
 * nor its write may happen), a WRITE elsewhere does not; the CAW runs when
 * the writer is done, and sees the writer's data. */
static void test_caw_waits_for_overlapping_write(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_lu_range held;
	uint8_t old[BS], buf[2 * BS], back[BS];
	lt_pattern(old, BS, 4);
	lt_write_blocks(t, 4, 1, old);
	rng(&held, 0, 8);
	granted_count = 0;
	assert_true(prk_lu_rlock_acquire(&t->lu->rlock, &held));

	struct prk_lu_cmd cmd;
	struct pending p = {0};
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &t->a;
	cmd.port = &t->port;
	caw_cdb(cmd.cdb, 4, 1);
	cmd.cdb_len = 16;
	memcpy(buf, old, BS);
	lt_pattern(buf + BS, BS, 5);
	cmd.data_out = buf;
	cmd.data_out_len = cmd.edtl = 2 * BS;
	cmd.dir_write = true;
	cmd.done = pend_done;
	cmd.priv = &p;
	prk_lu_submit(t->lu, &cmd);
	assert_int_equal(p.calls, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);

	uint8_t other[BS] = {9};
	lt_write_blocks(t, 100, 1, other); /* not blocked */

	prk_lu_rlock_release(&t->lu->rlock, &held);
	assert_int_equal(p.calls, 1);
	assert_int_equal(cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	lt_read_blocks(t, 4, 1, back);
	assert_memory_equal(back, buf + BS, BS);
	assert_true(prk_lu_rlock_idle(&t->lu->rlock));
}

/* Writes to an overlapping range wait as well, and keep their order. */
static void test_writes_wait_and_keep_order(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_lu_range held;
	rng(&held, 0, 1);
	assert_true(prk_lu_rlock_acquire(&t->lu->rlock, &held));
	struct prk_lu_cmd cmd[2];
	struct pending p[2] = {{0}, {0}};
	uint8_t data[2][BS];
	for (int i = 0; i < 2; i++) {
		memset(&cmd[i], 0, sizeof(cmd[i]));
		memset(data[i], i + 1, BS);
		cmd[i].nx = &t->a;
		cmd[i].port = &t->port;
		lt_cdb10(cmd[i].cdb, PRK_OP_WRITE10, 0, 0, 1);
		cmd[i].cdb_len = 16;
		cmd[i].data_out = data[i];
		cmd[i].data_out_len = cmd[i].edtl = BS;
		cmd[i].dir_write = true;
		cmd[i].done = pend_done;
		cmd[i].priv = &p[i];
		prk_lu_submit(t->lu, &cmd[i]);
		assert_int_equal(p[i].calls, 0);
	}
	assert_int_equal(prk_lu_inflight(t->lu), 2);
	prk_lu_rlock_release(&t->lu->rlock, &held);
	assert_int_equal(p[0].calls, 1);
	assert_int_equal(p[1].calls, 1);
	uint8_t back[BS];
	lt_read_blocks(t, 0, 1, back);
	assert_memory_equal(back, data[1], BS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_caw_success, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_caw_miscompare, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_caw_errors, lt_setup, lt_teardown),
	    cmocka_unit_test(test_rlock),
	    cmocka_unit_test_setup_teardown(test_caw_waits_for_overlapping_write, lt_setup,
	                                    lt_teardown),
	    cmocka_unit_test_setup_teardown(test_writes_wait_and_keep_order, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
