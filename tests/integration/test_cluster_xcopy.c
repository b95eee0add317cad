/* Third-party copy in a three-node cluster (cluster_harness.h with the
 * xcopy option: LUN 0 the shared LU, allowing 15h; LUN 1 a RAM LU on each
 * node). Every node's copy manager has the same I_T nexus, and its
 * registrations are in the replicated table like anyone's:
 *  - the host registers and reserves (Exclusive Access) LUN 0 through
 *    node 1 and moves the reservation to the copy manager there;
 *  - it sends EXTENDED COPY (15h, then 02h from LUN 1) through node 2: the
 *    copy runs on node 2 (its log says so, the others' do not), the data
 *    lands in the shared LU, and 15h moves the reservation back;
 *  - READ FULL STATUS through node 3 shows exactly one holder after every
 *    step: the host, the copy manager, the host again. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"
#include "xcopy_util.h"

#define INI_H "iqn.2026-11.io.prkit.test:cl-backup"
#define INI_W "iqn.2026-11.io.prkit.test:cl-watch"
#define KH 0x4848000000000001ULL
#define KC 0x4343000000000002ULL
#define EA 0x03

static int setup(void **state)
{
	(void)state;
	struct cl_opts o = {.xcopy = true};
	return cl_up(3, &o);
}

static int teardown(void **state)
{
	(void)state;
	cl_down();
	return 0;
}

/* Does node i's log contain s? */
static bool log_has(int i, const char *s)
{
	char path[512];
	cl_log_path(i, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static void test_copy_on_the_receiving_node(void **state)
{
	(void)state;
	struct iscsi_context *a = cl_login_clear(1, INI_H, 1);
	struct iscsi_context *b = cl_login_clear(2, INI_H, 1);
	struct iscsi_context *c = cl_login_clear(3, INI_W, 3);
	h_clear_ua(a, 1);
	h_clear_ua(b, 1);
	h_clear_ua(c, 1);
	uint8_t naa0[16], naa1[16], other[16];
	x_naa(b, 0, naa0);
	x_naa(b, 1, naa1);
	x_naa(a, 0, other);
	assert_memory_equal(other, naa0, 16); /* one LU, one identity */
	struct prk_tid cm_tid;
	x_cm_tid(&cm_tid);

	enum { N = 64 * 512 };
	static uint8_t src[N];
	x_pattern(src, N, 4242);
	h_assert_write_read(b, 1, 0, src, N); /* node 2's own RAM LU */

	assert_int_equal(h_prout_past_ua(a, 0, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, KH),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_prout_past_ua(a, 0, SCSI_PERSISTENT_RESERVE_RESERVE, EA, KH, 0),
	                 SCSI_STATUS_GOOD);
	struct x_reg me = x_reg_of(c, 0, INI_H);
	assert_int_equal(me.rtpi, 1); /* the nexus through node 1 */
	x_assert_holder(c, 0, INI_H, me.tid.isid, KH);

	assert_int_equal(x_register_and_move(a, 0, KH, KC, &cm_tid, X_CM_RTPI, true),
	                 SCSI_STATUS_GOOD);
	x_assert_holder(c, 0, X_CM_NAME, X_CM_ISID, KC);

	uint8_t mv[280];
	struct prk_xcopy_list l;
	x_list(&l, 9, PRK_XCOPY_LIU_HOLD);
	uint16_t s = x_cscd(&l, naa1), d = x_cscd(&l, naa0);
	x_3pr(&l, d, KC, KH, &me.tid, me.rtpi, true, mv);
	x_b2b(&l, s, d, 64, 0, 2048);
	assert_int_equal(x_xcopy(b, 1, &l), SCSI_STATUS_GOOD);

	x_assert_holder(c, 0, INI_H, me.tid.isid, KH);
	struct x_reg r[8];
	assert_int_equal(x_full_status(c, 0, r, 8), 1); /* the copy manager unregistered */
	h_assert_read(a, 0, 2048, src, N);
	assert_true(log_has(2, "EXTENDED COPY list id 9 from " INI_H));
	assert_false(log_has(1, "EXTENDED COPY list id 9"));
	assert_false(log_has(3, "EXTENDED COPY list id 9"));
	/* its results are held on the node that ran it */
	uint8_t buf[64];
	size_t got;
	struct prk_xcopy_status st;
	assert_int_equal(x_rcr(b, 1, PRK_RCR_SA_COPY_STATUS, 9, buf, sizeof(buf), &got),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(prk_rcr_status_decode(buf, got, &st), 0);
	assert_int_equal(st.status, PRK_XCOPY_ST_DONE);

	assert_int_equal(h_prout_past_ua(a, 0, SCSI_PERSISTENT_RESERVE_CLEAR, 0, KH, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(x_full_status(c, 0, r, 8), 0);
	h_logout(a);
	h_logout(b);
	h_logout(c);
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_on_the_receiving_node),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
