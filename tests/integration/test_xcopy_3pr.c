/* Third-party persistent reservations with EXTENDED COPY (SPC-4 Annex B.3,
 * segment descriptors 14h and 15h) through a real prkitd:
 *  - the whole sequence (register, reserve Exclusive Access, REGISTER AND
 *    MOVE to the copy manager, EXTENDED COPY with 15h and 02h), with READ
 *    FULL STATUS and READ RESERVATION between every step, and while the
 *    copy runs, showing exactly one holder;
 *  - 14h registers a key for the copy manager's nexus;
 *  - the fault matrix: lists of 4 segments with the 15h at every position
 *    p and a failing 02h (past the end of the source) at every other
 *    position f, or none: the reservation ends with the host iff 15h was
 *    reached (p < f, or no failure), else stays with the copy manager; in
 *    every cell of every round;
 *  - SPC-4's rule (15h names a stream device) on a block LU without the
 *    per-LU option: COPY ABORTED 26/0C, the reservation still with the
 *    copy manager;
 *  - ABORT TASK of a long copy whose 15h was reached: the reservation is
 *    back when the TMF is answered;
 *  - PREEMPT AND ABORT of the copy manager's key while it copies: after
 *    GOOD no block of the copy lands any more.
 * PRKIT_XCOPY_ROUNDS repeats the matrix (3 by default). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_cmd.h"
#include "xcopy_util.h"

#define INI_H "iqn.2026-11.io.prkit.test:backup-app"
#define INI_A "iqn.2026-11.io.prkit.test:admin"
#define KH 0x1111000000000001ULL /* the host's key */
#define KC 0x2222000000000002ULL /* the key the copy manager holds under */
#define KA 0x3333000000000003ULL /* the admin's */
#define EA 0x03                  /* Exclusive Access */
#define LU_BLOCKS 131072

static struct h_daemon daemon_;
static struct iscsi_context *H, *A;
static uint8_t naa[5][16];
static struct prk_tid cm_tid;

static int setup(void **state)
{
	(void)state;
	/* LUN 0 the source, LUN 1 a destination that allows 15h
	 * ("third_party_reservations"), LUN 2 one that does not: RAM. LUNs 3
	 * and 4, a source and a destination that allows 15h, are files with
	 * O_DIRECT: copies slow enough to be caught running. */
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"serial\": \"tp0\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"64M\"}, \"thin\": true}, "
	    "{\"lun\": 1, \"serial\": \"tp1\", \"third_party_reservations\": true, "
	    "\"backstore\": {\"type\": \"ram\", \"size\": \"64M\"}, \"thin\": true}, "
	    "{\"lun\": 2, \"serial\": \"tp2\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"4M\"}}, "
	    "{\"lun\": 3, \"serial\": \"tp3\", \"backstore\": {\"type\": \"file\", \"path\": "
	    "\"@DIR@/lu3.img\", \"size\": \"64M\", \"create\": true, \"direct\": true}}, "
	    "{\"lun\": 4, \"serial\": \"tp4\", \"third_party_reservations\": true, "
	    "\"backstore\": {\"type\": \"file\", \"path\": \"@DIR@/lu4.img\", \"size\": "
	    "\"64M\", \"create\": true, \"direct\": true}}]}]}";
	if (h_start(&daemon_, cfg))
		return -1;
	H = h_login_raw_clear(&daemon_, 0, INI_H, 1, 5);
	A = h_login_raw_clear(&daemon_, 0, INI_A, 2, 5);
	for (int i = 0; i < 5; i++)
		x_naa(H, i, naa[i]);
	x_cm_tid(&cm_tid);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_logout(H);
	h_logout(A);
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* No registration and no reservation on lun. */
static void assert_clean(int lun)
{
	struct x_reg r[8];
	assert_int_equal(x_full_status(A, lun, r, 8), 0);
}

/* A clears lun (registering first): no registration left. */
static void clear_all(int lun)
{
	assert_int_equal(h_prout_past_ua(A, lun,
	                                 SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY,
	                                 0, 0, KA),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_prout_past_ua(A, lun, SCSI_PERSISTENT_RESERVE_CLEAR, 0, KA, 0),
	                 SCSI_STATUS_GOOD);
	h_clear_ua(H, lun);
	h_clear_ua(A, lun);
	assert_clean(lun);
}

/* Annex B.3 steps 1, 2 and 4 on lun, PR IN after each: the host's
 * registration and reservation, then the copy manager's. Returns the
 * host's registration (its TransportID and port, which 15h names). */
static struct x_reg hand_over(int lun)
{
	assert_int_equal(h_prout_past_ua(H, lun, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, KH),
	                 SCSI_STATUS_GOOD);
	struct x_reg me = x_reg_of(A, lun, INI_H);
	assert_false(me.holder);
	assert_int_equal(h_prout_past_ua(H, lun, SCSI_PERSISTENT_RESERVE_RESERVE, EA, KH, 0),
	                 SCSI_STATUS_GOOD);
	x_assert_holder(A, lun, INI_H, me.tid.isid, KH);
	assert_int_equal(x_register_and_move(H, lun, KH, KC, &cm_tid, X_CM_RTPI, true),
	                 SCSI_STATUS_GOOD);
	x_assert_holder(A, lun, X_CM_NAME, X_CM_ISID, KC);
	struct x_reg cm = x_reg_of(A, lun, X_CM_NAME);
	assert_int_equal(cm.rtpi, X_CM_RTPI);
	return me;
}

static void test_annex_b3(void **state)
{
	(void)state;
	enum { N = 128 * 512 };
	static uint8_t src[N];
	x_pattern(src, N, 31);
	h_assert_write_read(A, 0, 0, src, N);
	assert_clean(1);
	struct x_reg me = hand_over(1);
	/* the host no longer holds it: its own write conflicts */
	static uint8_t blk[512];
	assert_int_equal(h_status(iscsi_write16_sync(H, 1, 0, blk, 512, 512, 0, 0, 0, 0, 0)),
	                 SCSI_STATUS_RESERVATION_CONFLICT);
	uint8_t mv[280];
	struct prk_xcopy_list l;
	x_list(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = x_cscd(&l, naa[0]), d = x_cscd(&l, naa[1]);
	x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv); /* first, as SPC-4 advises */
	x_b2b(&l, s, d, 64, 0, 1000);
	x_b2b(&l, s, d, 64, 64, 1064);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_GOOD);
	x_assert_holder(A, 1, INI_H, me.tid.isid, KH);
	/* the copy manager let go of its registration (UNREG) */
	struct x_reg r[8];
	assert_int_equal(x_full_status(A, 1, r, 8), 1);
	h_assert_read(H, 1, 1000, src, N);
	uint8_t buf[64];
	size_t got;
	struct prk_xcopy_status st;
	assert_int_equal(x_rcr(H, 0, PRK_RCR_SA_COPY_STATUS, 1, buf, sizeof(buf), &got),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(prk_rcr_status_decode(buf, got, &st), 0);
	assert_int_equal(st.status, PRK_XCOPY_ST_DONE);
	assert_int_equal(st.segs_done, 3);

	clear_all(1);

	/* the same between the file LUs while A watches: at every moment
	 * exactly one holder */
	me = hand_over(4);
	x_list(&l, 2, PRK_XCOPY_LIU_NO_HOLD);
	s = x_cscd(&l, naa[3]);
	d = x_cscd(&l, naa[4]);
	x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv);
	for (int i = 0; i < 32; i++)
		x_b2b(&l, s, d, 65535, 0, 0);
	int status;
	bool done;
	h_clear_ua(H, 3);
	x_xcopy_async(H, 3, &l, &status, &done);
	unsigned polls = 0, by_cm = 0;
	while (!done) {
		struct x_reg rr[8];
		size_t n = x_full_status(A, 4, rr, 8);
		int holders = 0;
		for (size_t i = 0; i < n && i < 8; i++)
			holders += rr[i].holder;
		assert_int_equal(holders, 1);
		for (size_t i = 0; i < n && i < 8; i++)
			if (rr[i].holder && prk_iscsi_name_eq(rr[i].tid.name, X_CM_NAME))
				by_cm++;
		polls++;
		x_wait(H, &done, 5);
	}
	assert_int_equal(status, SCSI_STATUS_GOOD);
	x_assert_holder(A, 4, INI_H, me.tid.isid, KH);
	printf("# %u PR IN READ FULL STATUS during the copy, %u of them with the copy manager "
	       "holding, each with exactly one holder\n",
	       polls, by_cm);
	assert_true(by_cm > 0);
	clear_all(4);
}

/* 14h: the copy manager registers the key the descriptor names on the
 * destination, as its own I_T nexus. */
static void test_register_key(void **state)
{
	(void)state;
	assert_clean(2);
	struct prk_xcopy_list l;
	x_list(&l, 3, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t d = x_cscd(&l, naa[2]);
	x_regkey(&l, d, 0, KC);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_GOOD);
	struct x_reg cm = x_reg_of(A, 2, X_CM_NAME);
	assert_true(cm.key == KC);
	assert_int_equal(cm.rtpi, X_CM_RTPI);
	assert_false(cm.holder);
	clear_all(2);
}

/* One cell of the matrix: 4 segments, 15h at p, a failing 02h at f
 * (-1: none). */
static void matrix_cell(int p, int f, int round)
{
	struct x_reg me = hand_over(1);
	uint8_t mv[280];
	struct prk_xcopy_list l;
	x_list(&l, (uint8_t)(100 + p * 8 + f + 1), PRK_XCOPY_LIU_NO_HOLD);
	uint16_t s = x_cscd(&l, naa[0]), d = x_cscd(&l, naa[1]);
	for (int i = 0; i < 4; i++) {
		if (i == p)
			x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv);
		else if (i == f)
			x_b2b(&l, s, d, 8, LU_BLOCKS - 4, 0); /* past the end */
		else
			x_b2b(&l, s, d, 8, (uint64_t)i * 8, (uint64_t)i * 8);
	}
	int st = x_xcopy(H, 0, &l);
	if (f < 0) {
		assert_int_equal(st, SCSI_STATUS_GOOD);
	} else {
		if (st != SCSI_STATUS_CHECK_CONDITION || x_sense.key != SCSI_SENSE_COPY_ABORTED)
			fail_msg("round %d p %d f %d: status 0x%x sense %x/%04x", round, p, f, st,
			         x_sense.key, x_sense.ascq);
		assert_int_equal(x_abort_segment(), f);
	}
	if (f < 0 || p < f)
		x_assert_holder(A, 1, INI_H, me.tid.isid, KH);
	else
		x_assert_holder(A, 1, X_CM_NAME, X_CM_ISID, KC);
	clear_all(1);
}

static void test_fault_matrix(void **state)
{
	(void)state;
	const char *e = getenv("PRKIT_XCOPY_ROUNDS");
	int rounds = e ? atoi(e) : 3;
	unsigned cells = 0;
	for (int r = 0; r < rounds; r++)
		for (int p = 0; p < 4; p++)
			for (int f = -1; f < 4; f++) {
				if (f == p)
					continue;
				matrix_cell(p, f, r);
				cells++;
			}
	printf("# fault matrix: %u cells (%d rounds), reservation where Annex B.3 says in "
	       "every one\n",
	       cells, rounds);
}

/* SPC-4 allows 15h for stream devices only: LUN 2 lacks the option. */
static void test_strict_pdt(void **state)
{
	(void)state;
	struct x_reg me = hand_over(2);
	uint8_t mv[280];
	struct prk_xcopy_list l;
	x_list(&l, 4, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t s = x_cscd(&l, naa[0]), d = x_cscd(&l, naa[2]);
	x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv);
	x_b2b(&l, s, d, 8, 0, 0);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_COPY_ABORTED);
	assert_int_equal(x_sense.ascq, 0x260c);
	assert_int_equal(x_abort_segment(), 0);
	x_assert_holder(A, 2, X_CM_NAME, X_CM_ISID, KC);
	clear_all(2);
}

/* ABORT TASK of a long copy whose 15h was reached: when the TMF is
 * answered, the reservation is back with the host. */
static void test_abort_moves_back(void **state)
{
	(void)state;
	struct x_reg me = hand_over(4);
	uint8_t mv[280];
	struct prk_xcopy_list l;
	x_list(&l, 5, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t s = x_cscd(&l, naa[3]), d = x_cscd(&l, naa[4]);
	x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv);
	for (int i = 0; i < 63; i++)
		x_b2b(&l, s, d, 65535, 0, 0);
	int status;
	bool done;
	h_clear_ua(H, 3);
	struct scsi_task *t = x_xcopy_async(H, 3, &l, &status, &done);
	x_wait(H, &done, 50);
	assert_false(done);
	uint64_t t0 = h_now_ms();
	assert_int_equal(iscsi_task_mgmt_abort_task_sync(H, t), 0);
	printf("# ABORT TASK answered in %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	/* libiscsi 1.19's synchronous ABORT TASK leaves the task to us */
	if (!done)
		iscsi_scsi_cancel_task(H, t);
	assert_true(done);
	x_assert_holder(A, 4, INI_H, me.tid.isid, KH);
	clear_all(4);
}

/* PREEMPT AND ABORT of the copy manager's key while it copies into LUN 4:
 * once it is GOOD, the preemptor overwrites the range, and nothing of the
 * copy may land on it afterwards. */
static void test_preempt_and_abort(void **state)
{
	(void)state;
	enum { RANGE = 65535, CH = 2048 };
	static uint8_t src[CH * 512], mark[CH * 512];
	x_pattern(src, sizeof(src), 55);
	x_pattern(mark, sizeof(mark), 56);
	for (uint64_t lba = 0; lba < RANGE; lba += CH)
		h_assert_write_read(A, 3, lba, src, CH * 512);
	hand_over(4);
	assert_int_equal(h_prout_past_ua(A, 4, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, KA),
	                 SCSI_STATUS_GOOD);
	struct prk_xcopy_list l;
	x_list(&l, 6, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t s = x_cscd(&l, naa[3]), d = x_cscd(&l, naa[4]);
	for (int i = 0; i < 64; i++)
		x_b2b(&l, s, d, RANGE, 0, 0);
	int status;
	bool done;
	h_clear_ua(H, 3);
	x_xcopy_async(H, 3, &l, &status, &done);
	x_wait(H, &done, 50);
	assert_false(done);
	assert_int_equal(
	    h_prout_past_ua(A, 4, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT, EA, KA, KC),
	    SCSI_STATUS_GOOD);
	for (uint64_t lba = 0; lba + CH <= RANGE; lba += CH)
		assert_int_equal(
		    h_status(iscsi_write16_sync(A, 4, lba, mark, CH * 512, 512, 0, 0, 0, 0, 0)),
		    SCSI_STATUS_GOOD);
	assert_int_equal(x_wait(H, &done, 30000), 0);
	printf("# the copy ended with status 0x%x sense %x/%04x after the preemption\n", status,
	       x_sense.key, x_sense.ascq);
	assert_int_not_equal(status, SCSI_STATUS_GOOD);
	for (uint64_t lba = 0; lba + CH <= RANGE; lba += CH)
		h_assert_read(A, 4, lba, mark, CH * 512);
	x_assert_holder(A, 4, INI_A, x_reg_of(A, 4, INI_A).tid.isid, KA);
	clear_all(4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_annex_b3),         cmocka_unit_test(test_register_key),
	    cmocka_unit_test(test_fault_matrix),     cmocka_unit_test(test_strict_pdt),
	    cmocka_unit_test(test_abort_moves_back), cmocka_unit_test(test_preempt_and_abort),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
