/* Unit attentions across a node's restart in a three-node cluster
 * (cluster_harness.h). Initiator X is registered through node 3; node 3
 * crashes (SIGKILL to prkitd and Corosync), and initiator A preempts X's
 * key through node 1 while node 3 is down. Node 3 restarts and takes the
 * state, pending unit attentions included, from its peers:
 *   - X logging in to node 3 again (the same ISID: the same I_T nexus)
 *     gets REGISTRATIONS PREEMPTED (2A/05) exactly once, after any power
 *     on condition (29/xx) or ALUA state change (2A/06), and the next
 *     command none;
 *   - X through node 2 (another I_T nexus, never registered) gets no
 *     2A/05;
 *   - node 3 crashes and restarts once more: X's nexus on node 3 does not
 *     get the 2A/05 it already reported again (the report was replicated
 *     to the peers, which handed the state back).
 * And PREEMPT AND ABORT through node 1 of a key registered through node
 * 2: the victim's nexus reports 2A/05 once, nodes 2 and 3 keep serving,
 * and node 2 stops cleanly afterwards.
 * (The brief named this condition 2A/03; 2A/03 is RESERVATIONS PREEMPTED,
 * for a reservation holder, while X only held a registration: SPC-4's
 * PREEMPT queues REGISTRATIONS PREEMPTED, 2A/05.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"

#define INI1 "iqn.2026-11.io.prkit.test:cl-one"
#define INIX "iqn.2026-11.io.prkit.test:cl-x"
#define K1 0x1111ULL
#define KX 0x7777ULL

#define ASCQ_REGISTRATIONS_PREEMPTED 0x2a05

static int setup(void **state)
{
	(void)state;
	return cl_up(3, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cl_down();
	return 0;
}

/* TEST UNIT READY until GOOD (at most 8 unit attentions): the ASC/ASCQ
 * of each unit attention into uas (printed), their number returned. Any
 * other answer fails the test. */
static int collect_uas(struct iscsi_context *iscsi, const char *who, int *uas)
{
	int n = 0;
	for (;;) {
		int st = h_tur(iscsi, 0);
		if (st == SCSI_STATUS_GOOD)
			break;
		if (st != SCSI_STATUS_CHECK_CONDITION || h_sense.key != SCSI_SENSE_UNIT_ATTENTION)
			fail_msg("%s: TEST UNIT READY status 0x%02x, sense %x/%04x", who, st,
			         h_sense.key, h_sense.ascq);
		if (n == 8)
			fail_msg("%s: more than 8 unit attentions", who);
		uas[n++] = h_sense.ascq;
	}
	print_message("# %s: %d unit attention(s) before GOOD:", who, n);
	for (int k = 0; k < n; k++)
		print_message(" %02x/%02x", uas[k] >> 8, uas[k] & 0xff);
	print_message("\n");
	return n;
}

static int count(const int *uas, int n, int ascq)
{
	int c = 0;
	for (int k = 0; k < n; k++)
		c += uas[k] == ascq;
	return c;
}

static void test_ua_across_restart(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *x = cl_login_clear(3, INIX, 7);
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	assert_int_equal(
	    h_prout(x, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, KX, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);

	cl_kill(3);
	iscsi_destroy_context(x);
	uint64_t t0 = h_now_ms();
	/* Completes once nodes 1 and 2 have dropped node 3 and held for its
	 * lease. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, 0, K1, KX, 0, 0),
	                 SCSI_STATUS_GOOD);
	print_message("# PREEMPT with node 3 down: GOOD after %llu ms\n",
	              (unsigned long long)(h_now_ms() - t0));
	/* A's own attentions (2A/06: node 3's port group became
	 * unavailable), out of the way; none of them is 2A/05. */
	int uas[8], n;
	n = collect_uas(a, "A on node 1 after the PREEMPT", uas);
	assert_int_equal(count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED), 0);

	t0 = h_now_ms();
	assert_int_equal(cl_restart(3), 0);
	print_message("# node 3 serves again %llu ms after its start\n",
	              (unsigned long long)(h_now_ms() - t0));

	x = cl_login(3, INIX, 7);
	assert_non_null(x);
	n = collect_uas(x, "X on node 3 after its restart", uas);
	if (count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED) != 1)
		fail_msg("X on node 3: REGISTRATIONS PREEMPTED reported %d times, not once",
		         count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED));
	/* Before it only a power on / reset condition (29/xx) or ASYMMETRIC
	 * ACCESS STATE CHANGED (2A/06: node 3's group went unavailable and
	 * came back meanwhile). */
	for (int k = 0; uas[k] != ASCQ_REGISTRATIONS_PREEMPTED; k++)
		if (uas[k] >> 8 != 0x29 && uas[k] != 0x2a06)
			fail_msg("X on node 3: %02x/%02x before 2A/05", uas[k] >> 8, uas[k] & 0xff);
	assert_int_equal(h_tur(x, 0), SCSI_STATUS_GOOD);

	struct iscsi_context *y = cl_login(2, INIX, 7);
	assert_non_null(y);
	n = collect_uas(y, "X on node 2", uas);
	assert_int_equal(count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED), 0);
	h_logout(y);

	/* Reported once means reported once cluster-wide: the peers do not
	 * hand it back to a node that restarts after the report. */
	h_logout(x);
	cl_kill(3);
	assert_int_equal(cl_restart(3), 0);
	x = cl_login(3, INIX, 7);
	assert_non_null(x);
	n = collect_uas(x, "X on node 3 after a second restart", uas);
	assert_int_equal(count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED), 0);
	h_logout(x);
	h_logout(a);
	cl_failed = false;
}

/* PREEMPT AND ABORT through node 1 of a key registered through node 2:
 * every node runs the abort barrier for its own nexuses, the sender and
 * the others alike. The victim's nexus on node 2 reports 2A/05 once;
 * nodes 2 and 3 keep serving; node 2 then stops cleanly (exit status 0)
 * with the victim still logged in (its nexus loss comes after the
 * cluster is stopped). */
static void test_preempt_and_abort_elsewhere(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *v = cl_login_clear(2, INIX, 7);
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	assert_int_equal(
	    h_prout(v, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, KX, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE,
	                         SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, K1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT_AND_ABORT,
	                         SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, K1, KX, 0, 0),
	                 SCSI_STATUS_GOOD);
	int uas[8], n;
	n = collect_uas(v, "the victim on node 2 after PREEMPT AND ABORT", uas);
	assert_int_equal(count(uas, n, ASCQ_REGISTRATIONS_PREEMPTED), 1);
	assert_int_equal(h_tur(v, 0), SCSI_STATUS_GOOD);
	for (int i = 2; i <= 3; i++)
		if (!cl_wait_state(i, "serving", 1000))
			fail_msg("node %d does not serve after the PREEMPT AND ABORT", i);
	assert_int_equal(cl_stop(2), 0);
	iscsi_destroy_context(v);
	h_logout(a);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ua_across_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_preempt_and_abort_elsewhere, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
