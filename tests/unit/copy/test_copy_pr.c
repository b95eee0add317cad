/* The copy manager and persistent reservations: 14h registers its key,
 * its sub-commands meet the PR access check like a host's, and 15h
 * moves a reservation back as SPC-4 Annex B.3 says - after the other
 * segments, in every outcome where the 15h was reached (a later failure,
 * a cancel) and never when an earlier segment failed. Also the strict
 * device-type rule for 15h, unit attentions retried, cancellation and
 * PREEMPT AND ABORT's drain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_test_util.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#define KA 0xa1a1a1a1ULL
#define KCM 0xc3c3c3c3ULL
#define SRC 0
#define DST 1

static const uint32_t bsz[] = {512, 512};
static const uint64_t nb[] = {2048, 2048};

static struct ct_env *env(bool allow3pr)
{
	struct ct_env *e = ct_new(2, bsz, nb, NULL);
	e->l[DST].allow3pr = allow3pr;
	return e;
}

static bool held_by(struct ct_env *e, size_t lu, const struct prk_nexus *nx)
{
	struct prk_nexus h;
	return ct_holder(e, lu, &h, NULL) && prk_nexus_eq(&h, nx);
}

/* Annex B.3 steps 1-4: the application registers, reserves Exclusive
 * Access and moves the reservation to the copy manager. */
static void hand_to_cm(struct ct_env *e)
{
	ct_register(e, DST, &e->a, KA);
	ct_reserve(e, DST, &e->a, KA, PRK_PR_EA);
	assert_true(held_by(e, DST, &e->a));
	ct_move_to_cm(e, DST, &e->a, KA, KCM);
	assert_true(held_by(e, DST, prk_cm_nexus(e->cm)));
}

static void test_regkey(void **state)
{
	(void)state;
	struct ct_env *e = env(false);
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_regkey(&l, d, 0, 0x1234);
	struct ct_cmd *c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	/* PR IN READ KEYS through the LU shows the key ... */
	uint8_t cdb[16] = {PRK_OP_PR_IN, PRK_PRIN_READ_KEYS, 0, 0, 0, 0, 0, 0x01, 0x00};
	c = ct_run(e, DST, &e->b, cdb, NULL, 0, 256);
	ct_assert_good(c);
	assert_int_equal(c->cmd.data_in_len, 16);
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | c->cmd.data_in[8 + i];
	assert_int_equal(k, 0x1234);
	ct_cmd_free(c);
	/* ... registered for the copy manager's nexus. */
	assert_true(prk_pr_find(prk_lu_pr(e->l[DST].lu), prk_cm_nexus(e->cm)) >= 0);
	/* A second 14h with a wrong key: the CSCD's conflict ends the copy. */
	ct_list_init(&l, 2, PRK_XCOPY_LIU_HOLD);
	d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_regkey(&l, d, 0x999, 0x5678);
	c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, 0);
	ct_cmd_free(c);
	ct_free(e);
}

/* The destination reserved Exclusive Access by another nexus: the copy
 * manager's WRITE meets RESERVATION CONFLICT, the copy ends COPY ABORTED
 * naming the segment, and not a block lands. */
static void test_access_check(void **state)
{
	(void)state;
	struct ct_env *e = env(false);
	ct_fill(e, SRC, 0, 64, 1);
	ct_fill(e, DST, 0, 64, 2);
	uint8_t before[64 * 512], after[64 * 512];
	ct_read(e, DST, 0, 64, before);
	ct_register(e, DST, &e->b, 0xbb);
	ct_reserve(e, DST, &e->b, 0xbb, PRK_PR_EA);
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, SRC, 0, 0), d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_b2b(&l, s, s, 8, 0, 1000, false); /* the source is free */
	ct_seg_b2b(&l, s, d, 64, 0, 0, false);
	struct ct_cmd *c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, 1);
	ct_cmd_free(c);
	ct_read(e, DST, 0, 64, after); /* b may read: it holds the reservation */
	assert_memory_equal(before, after, sizeof(before));
	assert_true(ct_same(e, SRC, 0, SRC, 1000, 8 * 512));
	/* With the copy manager registered and a Write Exclusive -
	 * Registrants Only reservation, it may write. */
	uint8_t p[24];
	prk_prout_params_encode_basic(0xbb, 0, false, false, NULL, 0, p, 24);
	uint8_t rel[16] = {PRK_OP_PR_OUT, PRK_PROUT_RELEASE, PRK_PR_EA, 0, 0, 0, 0, 0, 24};
	c = ct_run(e, DST, &e->b, rel, p, 24, 24);
	ct_assert_good(c);
	ct_cmd_free(c);
	ct_reserve(e, DST, &e->b, 0xbb, PRK_PR_WE_RO);
	ct_list_init(&l, 2, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, SRC, 0, 0);
	d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_b2b(&l, s, d, 64, 0, 0, false);
	c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, 0);
	ct_cmd_free(c);
	ct_list_init(&l, 3, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, SRC, 0, 0);
	d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_regkey(&l, d, 0, KCM);
	ct_seg_b2b(&l, s, d, 64, 0, 0, false);
	c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	assert_true(ct_same(e, SRC, 0, DST, 0, 64 * 512));
	ct_free(e);
}

/* The fault matrix: 4 segments, the 15h at position p, a failing 02h (a
 * source LBA past the end) at position f, or none. The reservation ends
 * with the application's nexus iff the 15h was reached (p < f, or no
 * failure), else with the copy manager; every cell, with inline and with
 * asynchronous completions. */
static void run_cell(int p, int f, bool async)
{
	struct ct_env *e = env(true);
	ct_fill(e, SRC, 0, 256, 3);
	hand_to_cm(e);
	struct prk_xcopy_list l;
	uint8_t move[300];
	ct_list_init(&l, 7, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, SRC, 0, 0), d = ct_cscd(e, &l, DST, 0, 0);
	for (int i = 0; i < 4; i++) {
		if (i == p)
			ct_seg_3pr(&l, d, KCM, KA, &e->a, move);
		else if (i == f)
			ct_seg_b2b(&l, s, d, 16, 2040, 0, false);
		else
			ct_seg_b2b(&l, s, d, 200, 0, (uint64_t)i * 300, false);
	}
	ct_set_async(async);
	struct ct_cmd *c = ct_xcopy(e, SRC, &e->a, &l);
	ct_set_async(false);
	if (f < 0)
		ct_assert_good(c);
	else
		ct_assert_aborted(c, PRK_ASC_NONE, (uint32_t)f); /* the CSCD's 21/00 */
	ct_cmd_free(c);
	bool reached = f < 0 || p < f;
	const struct prk_nexus *want = reached ? &e->a : prk_cm_nexus(e->cm);
	if (!held_by(e, DST, want))
		fail_msg("p=%d f=%d async=%d: the reservation is not where Annex B.3 puts it", p, f,
		         async);
	/* Exactly one registration holds it, and the other side is gone
	 * (UNREG was set on both moves). */
	const struct prk_nexus *other = reached ? prk_cm_nexus(e->cm) : &e->a;
	assert_true(prk_pr_find(prk_lu_pr(e->l[DST].lu), other) < 0);
	/* The segments before f copied their data. */
	for (int i = 0; i < 4 && (f < 0 || i < f); i++)
		if (i != p)
			assert_true(ct_same(e, SRC, 0, DST, (uint64_t)i * 300, 200 * 512));
	/* RECEIVE COPY RESULTS counts the processed segments: the 15h
	 * counts when its move is done. */
	c = ct_rcr(e, SRC, &e->a, PRK_RCR_SA_COPY_STATUS, 7);
	ct_assert_good(c);
	struct prk_xcopy_status st;
	assert_int_equal(prk_rcr_status_decode(c->cmd.data_in, c->cmd.data_in_len, &st), 0);
	/* Before f: the 02h segments ran, and the 15h among them (p < f)
	 * was moved at the end: f segments in all. */
	uint16_t want_segs = (uint16_t)(f < 0 ? 4 : f);
	assert_int_equal(st.segs_done, want_segs);
	assert_int_equal(st.status, f < 0 ? PRK_XCOPY_ST_DONE : PRK_XCOPY_ST_FAILED);
	ct_cmd_free(c);
	ct_free(e);
}

static void test_3pr_fault_matrix(void **state)
{
	(void)state;
	unsigned cells = 0;
	for (int async = 0; async < 2; async++)
		for (int p = 0; p < 4; p++)
			for (int f = -1; f < 4; f++) {
				if (f == p)
					continue;
				run_cell(p, f, async);
				cells++;
			}
	assert_int_equal(cells, 2 * 4 * 4);
}

/* SPC-4: 15h names a stream device. A block LU only with the option. */
static void test_3pr_strict(void **state)
{
	(void)state;
	for (int pdt = 0; pdt < 2; pdt++) {
		struct ct_env *e = env(false);
		hand_to_cm(e);
		struct prk_xcopy_list l;
		uint8_t move[300];
		ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
		uint16_t d = ct_cscd(e, &l, DST, (uint8_t)pdt, 0);
		ct_seg_3pr(&l, d, KCM, KA, &e->a, move);
		struct ct_cmd *c = ct_xcopy(e, SRC, &e->a, &l);
		ct_assert_aborted(c,
		                  pdt ? PRK_ASC_INCORRECT_COPY_TARGET_TYPE
		                      : PRK_ASC_INVALID_OPERATION_FOR_COPY,
		                  0);
		ct_cmd_free(c);
		assert_true(held_by(e, DST, prk_cm_nexus(e->cm)));
		/* With the option (PDT 00h): moved back. */
		e->l[DST].allow3pr = true;
		if (pdt == 0) {
			c = ct_xcopy(e, SRC, &e->a, &l);
			ct_assert_good(c);
			ct_cmd_free(c);
			assert_true(held_by(e, DST, &e->a));
		}
		ct_free(e);
	}
}

/* Unit attentions for the copy manager's nexus are retried: the
 * commands' own outcome decides. Besides its power-on UA on each LU
 * (from prk_cm_attach), it has two more on DST. */
static void test_ua_retry(void **state)
{
	(void)state;
	struct ct_env *e = env(false);
	ct_fill(e, SRC, 0, 8, 4);
	prk_lu_queue_ua_all(e->l[DST].lu, PRK_ASC_CAPACITY_DATA_CHANGED);
	prk_lu_queue_ua_all(e->l[DST].lu, PRK_ASC_MODE_PARAMETERS_CHANGED);
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, SRC, 0, 0), d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_regkey(&l, d, 0, 0x77);
	ct_seg_b2b(&l, s, d, 8, 0, 0, false);
	struct ct_cmd *c = ct_xcopy(e, SRC, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	assert_true(ct_same(e, SRC, 0, DST, 0, 8 * 512));
	assert_true(prk_pr_find(prk_lu_pr(e->l[DST].lu), prk_cm_nexus(e->cm)) >= 0);
	ct_free(e);
}

/* Cancel during a multi-chunk copy: completes only after its commands
 * are out of the LUs and the reached 15h moved the reservation back. */
static void test_cancel(void **state)
{
	(void)state;
	for (int with3pr = 0; with3pr < 2; with3pr++) {
		struct ct_env *e = env(true);
		ct_fill(e, SRC, 0, 2000, 5);
		hand_to_cm(e);
		struct prk_xcopy_list l;
		uint8_t move[300];
		ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
		uint16_t s = ct_cscd(e, &l, SRC, 0, 0), d = ct_cscd(e, &l, DST, 0, 0);
		if (with3pr)
			ct_seg_3pr(&l, d, KCM, KA, &e->a, move);
		ct_seg_b2b(&l, s, d, 2000, 0, 0, false); /* 16 chunks of 64 KiB */
		ct_set_async(true);
		struct ct_cmd *c = ct_xcopy_start(e, SRC, &e->a, &l);
		ct_drain(3);
		assert_int_equal(c->done, 0);
		assert_true(ct_queued() > 0);
		prk_lu_cancel(e->l[SRC].lu, &c->cmd);
		/* Still in the LUs: not complete yet. */
		assert_int_equal(c->done, 0);
		assert_true(prk_cm_busy(e->cm, e->l[DST].lu));
		ct_wait(c);
		ct_set_async(false);
		assert_int_equal(ct_queued(), 0);
		assert_int_equal(prk_lu_inflight(e->l[SRC].lu), 0);
		assert_int_equal(prk_lu_inflight(e->l[DST].lu), 0);
		assert_false(prk_cm_busy(e->cm, e->l[DST].lu));
		assert_int_not_equal(c->cmd.status, PRK_STATUS_GOOD);
		ct_cmd_free(c);
		/* Far fewer than 16 chunks were written. */
		struct prk_cm_stats st;
		prk_cm_stats(e->cm, &st);
		assert_int_equal(st.aborted, 1);
		assert_true(st.bytes < 2000 * 512 / 2);
		assert_true(held_by(e, DST, with3pr ? &e->a : prk_cm_nexus(e->cm)));
		ct_free(e);
	}
}

static int barrier_calls;
static void barrier_done(void *arg)
{
	(void)arg;
	barrier_calls++;
}

/* prk_cm_abort waits for the copy manager's commands inside the LU when
 * its nexus is in the sets, and stops the copies working on it: after
 * the barrier not one more command is issued; otherwise it answers at
 * once and the copy goes on. */
static void test_abort_drains(void **state)
{
	(void)state;
	struct ct_env *e = env(false);
	ct_fill(e, SRC, 0, 2000, 6);
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, SRC, 0, 0), d = ct_cscd(e, &l, DST, 0, 0);
	ct_seg_b2b(&l, s, d, 2000, 0, 0, false);
	ct_set_async(true);
	struct ct_cmd *c = ct_xcopy_start(e, SRC, &e->a, &l);
	ct_drain(2); /* some WRITEs are now inside DST */
	struct prk_nexus_set other = {.nx = e->b};
	barrier_calls = 0;
	prk_cm_abort(e->cm, e->l[DST].lu, &other, 1, barrier_done, NULL);
	assert_int_equal(barrier_calls, 1);
	ct_drain(2); /* not the copy manager's barrier: the copy goes on */
	assert_int_equal(c->done, 0);
	struct prk_nexus_set sets[2] = {{.nx = e->b}, {.nx = *prk_cm_nexus(e->cm)}};
	prk_cm_abort(e->cm, e->l[DST].lu, sets, 2, barrier_done, NULL);
	assert_int_equal(barrier_calls, 1);
	unsigned queued = ct_queued();
	assert_true(queued > 0);
	/* Drain one I/O at a time until the barrier is released: by then
	 * none of the commands submitted before it is inside DST. */
	unsigned drained = 0;
	while (barrier_calls == 1) {
		assert_true(ct_drain(1) == 1);
		drained++;
	}
	assert_int_equal(barrier_calls, 2);
	/* Nothing new was issued after the barrier began. */
	drained += ct_drain(0);
	assert_int_equal(drained, queued);
	assert_int_equal(c->done, 1);
	ct_set_async(false);
	ct_assert_aborted(c, PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, 0);
	ct_cmd_free(c);
	/* Idle: at once. */
	prk_cm_abort(e->cm, e->l[DST].lu, sets, 2, barrier_done, NULL);
	assert_int_equal(barrier_calls, 3);
	ct_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regkey),           cmocka_unit_test(test_access_check),
	    cmocka_unit_test(test_3pr_fault_matrix), cmocka_unit_test(test_3pr_strict),
	    cmocka_unit_test(test_ua_retry),         cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_abort_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
