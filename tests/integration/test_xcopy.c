/* EXTENDED COPY (LID1) through a real prkitd: block-to-block (02h) copies
 * across LUs and within one, data verified; RECEIVE COPY RESULTS of each
 * service action; the Third-party Copy VPD page naming the copy manager;
 * a CSCD naming a LU of another target (not found: 0D/02, nothing copied,
 * the class of CVE-2020-28374); 16 copies at once on one session; ABORT
 * TASK of a long copy (it stops instead of running to its end); the admin
 * socket's view of the copy manager; no login with its name; no portal on
 * its rtpi; LUs added at run time take copies too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_cmd.h"
#include "xcopy_util.h"

#define INI "iqn.2026-11.io.prkit.test:xcopy-host"
#define T2 "iqn.2026-11.io.prkit.test:other"
#define LU_BLOCKS 131072 /* 64 MiB of 512-byte blocks */

static struct h_daemon daemon_;
static struct iscsi_context *H;
static uint8_t naa[3][16];
static bool stopped; /* test_shutdown_during_copy stopped the daemon */

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
	    "{\"lun\": 0, \"serial\": \"xc0\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"64M\"}, \"thin\": true}, "
	    "{\"lun\": 1, \"serial\": \"xc1\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"64M\"}, \"thin\": true}, "
	    "{\"lun\": 2, \"serial\": \"xc2\", \"backstore\": {\"type\": \"ram\", \"size\": "
	    "\"4M\"}}, "
	    "{\"lun\": 3, \"serial\": \"xc3\", \"backstore\": {\"type\": \"file\", \"path\": "
	    "\"@DIR@/lu3.img\", \"size\": \"64M\", \"create\": true, \"direct\": true}}, "
	    "{\"lun\": 4, \"serial\": \"xc4\", \"backstore\": {\"type\": \"file\", \"path\": "
	    "\"@DIR@/lu4.img\", \"size\": \"64M\", \"create\": true, \"direct\": true}}]}, "
	    "{\"name\": \"" T2 "\", \"luns\": [{\"lun\": 0, \"serial\": \"xcother\", "
	    "\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}]}]}";
	if (h_start(&daemon_, cfg))
		return -1;
	H = h_login_raw_clear(&daemon_, 0, INI, 1, 5);
	for (int i = 0; i < 3; i++)
		x_naa(H, i, naa[i]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_logout(H);
	int r = h_stop(&daemon_); /* removes the directory either way */
	return stopped || r == 0 ? 0 : -1;
}

static void write_blocks(int lun, uint64_t lba, const uint8_t *buf, uint32_t len)
{
	h_assert_write_read(H, lun, lba, buf, len);
}

/* 02h from LUN 0 to LUN 1, then within LUN 0, in several segments: the
 * data arrives, and only where the segments say. */
static void test_b2b(void **state)
{
	(void)state;
	enum { N = 64 * 512 };
	static uint8_t src[N], other[N], zero[N];
	x_pattern(src, N, 1);
	x_pattern(other, N, 2);
	write_blocks(0, 1000, src, N);
	write_blocks(1, 5000, other, N);
	write_blocks(1, 5064, other, N);

	struct prk_xcopy_list l;
	x_list(&l, 1, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 16, 1000, 5000);
	x_b2b(&l, a, b, 48, 1016, 5016);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_GOOD);
	h_assert_read(H, 1, 5000, src, N);
	h_assert_read(H, 1, 5064, other, N); /* untouched past the copy */

	/* within one LU, received by another */
	x_list(&l, 2, PRK_XCOPY_LIU_NO_HOLD);
	a = x_cscd(&l, naa[0]);
	x_b2b(&l, a, a, 64, 1000, 20000);
	assert_int_equal(x_xcopy(H, 1, &l), SCSI_STATUS_GOOD);
	h_assert_read(H, 0, 20000, src, N);

	/* an empty parameter list: nothing done, GOOD */
	uint8_t cdb[16];
	prk_xcopy_cdb_encode(0, cdb);
	struct scsi_task *t = scsi_create_task(16, cdb, SCSI_XFER_NONE, 0);
	assert_non_null(t);
	assert_non_null(iscsi_scsi_command_sync(H, 0, t, NULL));
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	(void)zero;
}

/* RECEIVE COPY RESULTS: COPY STATUS of a held copy (then released),
 * FAILED SEGMENT DETAILS of a failed one, OPERATING PARAMETERS. */
static void test_receive_copy_results(void **state)
{
	(void)state;
	uint8_t buf[512];
	size_t got;
	struct prk_xcopy_list l;
	x_list(&l, 5, PRK_XCOPY_LIU_HOLD);
	uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 8, 0, 0);
	x_b2b(&l, a, b, 8, 8, 8);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_GOOD);
	assert_int_equal(x_rcr(H, 0, PRK_RCR_SA_COPY_STATUS, 5, buf, sizeof(buf), &got),
	                 SCSI_STATUS_GOOD);
	struct prk_xcopy_status st;
	assert_int_equal(prk_rcr_status_decode(buf, got, &st), 0);
	assert_int_equal(st.status, PRK_XCOPY_ST_DONE);
	assert_int_equal(st.segs_done, 2);
	/* read once: released */
	assert_int_equal(x_rcr(H, 0, PRK_RCR_SA_COPY_STATUS, 5, buf, sizeof(buf), &got),
	                 SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(x_sense.ascq, 0x2400);
	assert_true(x_sense.ill_param_in_cdb);
	assert_int_equal(x_sense.field_pointer, 2);

	/* a failing copy: segment 1 reads past the end of LUN 0 */
	x_list(&l, 6, PRK_XCOPY_LIU_HOLD);
	a = x_cscd(&l, naa[0]);
	b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 8, 0, 0);
	x_b2b(&l, a, b, 8, LU_BLOCKS - 4, 100);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_COPY_ABORTED);
	assert_int_equal(x_abort_segment(), 1);
	assert_int_equal(x_rcr(H, 0, PRK_RCR_SA_FAILED_SEG, 6, buf, sizeof(buf), &got),
	                 SCSI_STATUS_GOOD);
	struct prk_xcopy_failed f;
	assert_int_equal(prk_rcr_failed_decode(buf, got, &f), 0);
	assert_int_equal(f.status, SCSI_STATUS_CHECK_CONDITION);
	assert_true(f.sense_len >= 8);
	assert_int_equal(f.sense[0] & 0x70, 0x70);
	assert_int_equal((f.sense[0] & 0x7f) >= 0x72 ? f.sense[1] & 0x0f : f.sense[2] & 0x0f,
	                 SCSI_SENSE_COPY_ABORTED);

	assert_int_equal(x_rcr(H, 0, PRK_RCR_SA_OP_PARAMS, 0, buf, sizeof(buf), &got),
	                 SCSI_STATUS_GOOD);
	struct prk_xcopy_opparams p;
	assert_int_equal(prk_rcr_opparams_decode(buf, got, &p), 0);
	assert_true(p.max_cscd >= 2);
	assert_true(p.max_seg >= 4);
	assert_true(p.total_concurrent >= 16);
	bool have[256] = {false};
	for (unsigned i = 0; i < p.n_impl; i++)
		have[p.impl[i]] = true;
	assert_true(have[0x02] && have[0x14] && have[0x15] && have[0xe4]);
}

/* VPD 8Fh exists and names the copy manager's I_T nexus (its F001h descriptor); the
 * INQUIRY 3PC bit is set. */
static void test_vpd(void **state)
{
	(void)state;
	struct scsi_task *t = iscsi_inquiry_sync(H, 0, 1, 0x8f, 4096);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct prk_tid tid;
	uint16_t rtpi;
	assert_int_equal(prk_vpd_3pc_cm_nexus(t->datain.data, (size_t)t->datain.size, &tid, &rtpi),
	                 0);
	assert_string_equal(tid.name, X_CM_NAME);
	assert_int_equal(tid.format, PRK_TID_FMT_PORT);
	assert_true(tid.isid == X_CM_ISID);
	assert_int_equal(rtpi, X_CM_RTPI);
	scsi_free_scsi_task(t);
	t = iscsi_inquiry_sync(H, 0, 0, 0, 96);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_true(t->datain.data[5] & 0x08); /* 3PC */
	scsi_free_scsi_task(t);
}

/* A CSCD naming the LU of another target: that LU is not among those the
 * host's session may access, so it is not found (0D/02), and nothing is
 * copied from it. */
static void test_other_target(void **state)
{
	(void)state;
	struct h_login_opts o = {.target = T2};
	struct iscsi_context *h2 = h_login_ex(&daemon_, 0, INI, 2, &o);
	assert_non_null(h2);
	h_clear_ua(h2, 0);
	uint8_t other_naa[16];
	x_naa(h2, 0, other_naa);
	assert_memory_not_equal(other_naa, naa[1], 16);
	enum { N = 8 * 512 };
	static uint8_t secret[N], mine[N];
	x_pattern(secret, N, 77);
	x_pattern(mine, N, 78);
	h_assert_write_read(h2, 0, 0, secret, N);
	write_blocks(1, 300, mine, N);

	struct prk_xcopy_list l;
	x_list(&l, 7, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(&l, other_naa), b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 8, 0, 300);
	assert_int_equal(x_xcopy(H, 1, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_COPY_ABORTED);
	assert_int_equal(x_sense.ascq, 0x0d02);
	assert_int_equal(x_abort_segment(), 0);
	h_assert_read(H, 1, 300, mine, N);
	/* nor as the destination */
	x_list(&l, 8, PRK_XCOPY_LIU_NO_HOLD);
	a = x_cscd(&l, naa[1]);
	b = x_cscd(&l, other_naa);
	x_b2b(&l, a, b, 8, 300, 0);
	assert_int_equal(x_xcopy(H, 1, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.ascq, 0x0d02);
	h_assert_read(h2, 0, 0, secret, N);
	h_logout(h2);
}

/* 16 EXTENDED COPY commands at once on one session, each its own list id
 * and ranges: all complete, every destination right. */
static void test_sixteen_at_once(void **state)
{
	(void)state;
	enum { K = 16, BLK = 256, N = BLK * 512 };
	static uint8_t data[K][N];
	for (int i = 0; i < K; i++) {
		x_pattern(data[i], N, 100 + (uint32_t)i);
		write_blocks(0, 40000 + (uint64_t)i * BLK, data[i], N);
	}
	int status[K];
	bool done[K];
	for (int i = 0; i < K; i++) {
		struct prk_xcopy_list l;
		x_list(&l, (uint8_t)(20 + i), PRK_XCOPY_LIU_HOLD);
		uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, naa[1]);
		for (int s = 0; s < 4; s++)
			x_b2b(&l, a, b, BLK / 4, 40000 + (uint64_t)i * BLK + (uint64_t)s * BLK / 4,
			      60000 + (uint64_t)i * BLK + (uint64_t)s * BLK / 4);
		x_xcopy_async(H, 0, &l, &status[i], &done[i]);
	}
	for (int i = 0; i < K; i++) {
		assert_int_equal(x_wait(H, &done[i], 30000), 0);
		assert_int_equal(status[i], SCSI_STATUS_GOOD);
	}
	for (int i = 0; i < K; i++)
		h_assert_read(H, 1, 60000 + (uint64_t)i * BLK, data[i], N);
	/* their results were held: each reads DONE once */
	for (int i = 0; i < K; i++) {
		uint8_t buf[64];
		size_t got;
		struct prk_xcopy_status st;
		assert_int_equal(
		    x_rcr(H, 0, PRK_RCR_SA_COPY_STATUS, (uint8_t)(20 + i), buf, sizeof(buf), &got),
		    SCSI_STATUS_GOOD);
		assert_int_equal(prk_rcr_status_decode(buf, got, &st), 0);
		assert_int_equal(st.status, PRK_XCOPY_ST_DONE);
		assert_int_equal(st.segs_done, 4);
	}
}

/* A list of 64 segments of 65535 blocks (2 GiB) between the file LUs 3
 * and 4 (O_DIRECT): the time it takes whole, then ABORT TASK 50 ms into
 * it: the TMF answer comes long before. */
static void big_list(struct prk_xcopy_list *l, uint8_t id)
{
	uint8_t n3[16], n4[16];
	x_naa(H, 3, n3);
	x_naa(H, 4, n4);
	x_list(l, id, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(l, n3), b = x_cscd(l, n4);
	for (int s = 0; s < 64; s++)
		x_b2b(l, a, b, 65535, (uint64_t)(s % 2) * 65536, 0);
}

static void test_abort_task(void **state)
{
	(void)state;
	struct prk_xcopy_list l;
	int status;
	bool done;
	h_clear_ua(H, 3);
	h_clear_ua(H, 4);
	big_list(&l, 40);
	uint64_t t0 = h_now_ms();
	x_xcopy_async(H, 3, &l, &status, &done);
	assert_int_equal(x_wait(H, &done, 120000), 0);
	assert_int_equal(status, SCSI_STATUS_GOOD);
	uint64_t whole = h_now_ms() - t0;
	printf("# 2 GiB EXTENDED COPY between file LUs: %llu ms\n", (unsigned long long)whole);

	big_list(&l, 41);
	struct scsi_task *t = x_xcopy_async(H, 3, &l, &status, &done);
	x_wait(H, &done, 50); /* times out: it runs */
	assert_false(done);
	uint64_t t1 = h_now_ms();
	assert_int_equal(iscsi_task_mgmt_abort_task_sync(H, t), 0);
	uint64_t abort_ms = h_now_ms() - t1;
	/* libiscsi 1.19's synchronous ABORT TASK leaves the task to us */
	if (!done)
		iscsi_scsi_cancel_task(H, t);
	assert_true(done);
	printf("# ABORT TASK 50 ms into the same copy answered in %llu ms\n",
	       (unsigned long long)abort_ms);
	assert_true(abort_ms * 4 < whole);
	assert_true(h_log_contains(&daemon_, "ABORT TASK"));
	/* the LU takes commands again, the copy manager too */
	assert_int_equal(h_tur(H, 3), SCSI_STATUS_GOOD);
	x_list(&l, 42, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 8, 0, 0);
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_GOOD);

	/* a LU a copy uses cannot be removed under it */
	big_list(&l, 43);
	x_xcopy_async(H, 3, &l, &status, &done);
	x_wait(H, &done, 20);
	assert_false(done);
	char out[1024], err[1024];
	const char *const rm[] = {"remove-lu", H_TARGET, "4", NULL};
	int rc = h_cli(&daemon_, out, sizeof(out), err, sizeof(err), rm);
	bool still = !done;
	assert_int_equal(x_wait(H, &done, 120000), 0);
	if (still) {
		assert_int_not_equal(rc, 0);
		assert_non_null(strstr(err, "try again"));
	}
	assert_int_equal(status, SCSI_STATUS_GOOD);
}

/* The admin socket shows the copy manager (text and --json); its name
 * cannot log in; no portal may take its rtpi; a LU added at run time
 * takes part in copies, and is removed again. */
static void test_admin_login_runtime(void **state)
{
	(void)state;
	const char *const show[] = {"show", H_TARGET, "--json", NULL};
	json_object *j = h_cli_json(&daemon_, show);
	json_object *cm = h_member(j, "copy_manager");
	assert_true(json_object_get_boolean(h_member(cm, "enabled")));
	assert_string_equal(json_object_get_string(h_member(cm, "transport_id")),
	                    X_CM_NAME ",i,0x000000000001");
	assert_int_equal(json_object_get_int(h_member(cm, "rtpi")), X_CM_RTPI);
	assert_true(json_object_get_int64(h_member(cm, "done")) >= 1);
	assert_true(json_object_get_int64(h_member(cm, "failed")) >= 1);
	assert_true(json_object_get_int64(h_member(cm, "bytes")) > 0);
	json_object_put(j);
	char out[8192], err[1024];
	const char *const text[] = {"show", H_TARGET, NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), text), 0);
	assert_non_null(strstr(out, "copy manager: " X_CM_NAME ",i,0x000000000001  rtpi 65535"));

	char lerr[512] = "";
	struct h_login_opts o = {.error = lerr, .error_cap = sizeof(lerr)};
	assert_null(h_login_ex(&daemon_, 0, X_CM_NAME, 3, &o));
	assert_int_equal(h_log_wait(&daemon_, "its copy manager's I_T nexus): not allowed", 2000),
	                 1);

	const char *const ap[] = {"add-portal", "127.0.0.1:0", "--rtpi", "65535", NULL};
	assert_int_not_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), ap), 0);
	assert_non_null(strstr(err, "rtpi 65535 is the copy manager's relative target port"));

	const char *const add[] = {"add-lu", H_TARGET, "7", "--ram", "4M", "--serial", "xc7", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), add), 0);
	h_clear_ua(H, 0);
	h_clear_ua(H, 7);
	uint8_t n7[16];
	x_naa(H, 7, n7);
	enum { N = 16 * 512 };
	static uint8_t d[N];
	x_pattern(d, N, 9);
	write_blocks(0, 777, d, N);
	struct prk_xcopy_list l;
	x_list(&l, 50, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, n7);
	x_b2b(&l, a, b, 16, 777, 0);
	assert_int_equal(x_xcopy(H, 7, &l), SCSI_STATUS_GOOD);
	h_assert_read(H, 7, 0, d, N);
	const char *const rm[] = {"remove-lu", H_TARGET, "7", NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), rm), 0);
	h_clear_ua(H, 0);
	/* gone: a copy naming it no longer finds it */
	assert_int_equal(x_xcopy(H, 0, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.ascq, 0x0d02);
}

/* "copy_manager": false: no third-party copy (EXTENDED COPY is an
 * unsupported opcode, 3PC is 0, no VPD 8Fh), its name may log in, and the
 * admin socket says it is off. A daemon of its own. */
static void test_copy_manager_off(void **state)
{
	(void)state;
	struct h_daemon d2;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0, \"rtpi\": 65535}], "
	    "\"admin_socket\": \"@DIR@/admin.sock\", \"copy_manager\": false, "
	    "\"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": [{\"backstore\": "
	    "{\"type\": \"ram\", \"size\": \"4M\"}}]}]}";
	assert_int_equal(h_start(&d2, cfg), 0);
	struct iscsi_context *h = h_login_raw_clear(&d2, 0, X_CM_NAME, 1, 1);
	uint8_t n0[16];
	x_naa(h, 0, n0);
	struct prk_xcopy_list l;
	x_list(&l, 1, PRK_XCOPY_LIU_NO_HOLD);
	uint16_t a = x_cscd(&l, n0);
	x_b2b(&l, a, a, 8, 0, 100);
	assert_int_equal(x_xcopy(h, 0, &l), SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(x_sense.ascq, 0x2000);
	struct scsi_task *t = iscsi_inquiry_sync(h, 0, 0, 0, 96);
	assert_non_null(t);
	assert_false(t->datain.data[5] & 0x08);
	scsi_free_scsi_task(t);
	h_logout(h);
	char out[4096], err[512];
	const char *const list[] = {"list", NULL};
	assert_int_equal(h_cli(&d2, out, sizeof(out), err, sizeof(err), list), 0);
	assert_non_null(strstr(out, "copy manager: off"));
	assert_int_equal(h_stop(&d2), 0);
}

/* I_T nexus loss: a session whose connection drops mid-copy has its copy
 * cancelled (it ends long before it would have), and the results held for
 * that nexus are gone when it logs in again. */
static void test_nexus_loss(void **state)
{
	(void)state;
	struct iscsi_context *h = h_login_raw_clear(&daemon_, 0, INI, 7, 5);
	struct prk_xcopy_list l;
	x_list(&l, 70, PRK_XCOPY_LIU_HOLD);
	uint16_t a = x_cscd(&l, naa[0]), b = x_cscd(&l, naa[1]);
	x_b2b(&l, a, b, 8, 0, 0);
	assert_int_equal(x_xcopy(h, 0, &l), SCSI_STATUS_GOOD); /* held */
	big_list(&l, 71);
	int status;
	bool done;
	x_xcopy_async(h, 3, &l, &status, &done);
	x_wait(h, &done, 50);
	assert_false(done);
	uint64_t t0 = h_now_ms();
	iscsi_destroy_context(h); /* the connection drops, no logout */
	assert_int_equal(h_log_wait(&daemon_, "EXTENDED COPY list id 71 ", 10000), 1);
	uint64_t ms = h_now_ms() - t0;
	printf("# connection dropped 50 ms into a 2 GiB copy: it ended %llu ms later\n",
	       (unsigned long long)ms);
	assert_true(ms < 500);
	h = h_login_raw_clear(&daemon_, 0, INI, 7, 5);
	uint8_t buf[64];
	size_t got;
	assert_int_equal(x_rcr(h, 0, PRK_RCR_SA_COPY_STATUS, 70, buf, sizeof(buf), &got),
	                 SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(x_sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(x_sense.ascq, 0x2400);
	h_logout(h);
}

/* SIGTERM while a copy between file LUs runs: the daemon cancels it,
 * waits for its commands to come back from the backstores, and exits
 * cleanly (0). Last: it stops the daemon. */
static void test_shutdown_during_copy(void **state)
{
	(void)state;
	h_clear_ua(H, 3);
	uint8_t n3[16], n4[16];
	x_naa(H, 3, n3);
	x_naa(H, 4, n4);
	struct prk_xcopy_list l;
	x_list(&l, 60, PRK_XCOPY_LIU_HOLD);
	uint16_t a = x_cscd(&l, n3), b = x_cscd(&l, n4);
	for (int s = 0; s < 64; s++)
		x_b2b(&l, a, b, 65535, 0, 65536);
	int status;
	bool done;
	x_xcopy_async(H, 3, &l, &status, &done);
	x_wait(H, &done, 200);
	if (done)
		fail_msg("the copy ended before SIGTERM: status 0x%x sense %x/%04x", status,
		         x_sense.key, x_sense.ascq);
	uint64_t t0 = h_now_ms();
	assert_int_equal(h_kill_keep(&daemon_, SIGTERM), 0);
	stopped = true;
	printf("# SIGTERM during a copy: the daemon exited in %llu ms\n",
	       (unsigned long long)(h_now_ms() - t0));
	/* the run's log is <log>.1 now */
	char path[400], line[1024];
	snprintf(path, sizeof(path), "%s.%d", daemon_.log, daemon_.runs);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	bool stuck = false, cancelled = false;
	while (fgets(line, sizeof(line), f)) {
		stuck |= strstr(line, "still running") != NULL;
		cancelled |= strstr(line, "EXTENDED COPY list id 60") != NULL;
	}
	fclose(f);
	assert_false(stuck);
	assert_true(cancelled); /* it ended (and was logged) before the exit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b2b),
	    cmocka_unit_test(test_receive_copy_results),
	    cmocka_unit_test(test_vpd),
	    cmocka_unit_test(test_other_target),
	    cmocka_unit_test(test_sixteen_at_once),
	    cmocka_unit_test(test_abort_task),
	    cmocka_unit_test(test_admin_login_runtime),
	    cmocka_unit_test(test_copy_manager_off),
	    cmocka_unit_test(test_nexus_loss),
	    cmocka_unit_test(test_shutdown_during_copy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
