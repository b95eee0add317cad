/* Two faults of prkitd's cluster glue (src/target/daemon_cluster.c) that
 * the linearizability test (test_cluster_lin.c) found, each as a test of
 * its own on one three-node cluster:
 *   sender_survives  the node through which a PR OUT with effects
 *                    (PREEMPT: unit attentions for the preempted; CLEAR:
 *                    for every registrant) was sent completes it and keeps
 *                    serving. The engine's result used to be freed twice
 *                    there (once by the LU after the apply, once when the
 *                    command completed): the daemon died of a double free;
 *   stop_with_session a node with a logged-in session stops cleanly on
 *                    SIGTERM (exit 0). The session's nexus loss used to
 *                    reach the cluster hook after the cluster was gone (a
 *                    NULL dereference at exit). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"

#define INI1 "iqn.2026-11.io.prkit.test:snd-one"
#define INI2 "iqn.2026-11.io.prkit.test:snd-two"
#define INI3 "iqn.2026-11.io.prkit.test:snd-three"
#define K1 0x5101ULL
#define K2 0x5202ULL
#define K3 0x5303ULL
#define T_WE SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE
#define REG_IGNORE SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY

static int setup3(void **state)
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

/* Node i answers its admin socket and says "serving". */
static void assert_serving(int i)
{
	char st[64];
	cl_state_name(i, st, sizeof(st));
	if (strcmp(st, "serving") != 0)
		fail_msg("node %d says \"%s\", not \"serving\" (see its log)", i, st);
}

/* A PR OUT through a that must return GOOD, sent again past the unit
 * attentions the earlier PREEMPTs and CLEARs queued for its nexus. */
static void prout_good(struct iscsi_context *a, int sa, int type, uint64_t key, uint64_t sa_key)
{
	int st;
	for (int tries = 0;; tries++) {
		st = h_prout(a, sa, type, key, sa_key, 0, 0);
		if (st != SCSI_STATUS_CHECK_CONDITION || h_sense.key != SCSI_SENSE_UNIT_ATTENTION ||
		    tries == 8)
			break;
	}
	assert_int_equal(st, SCSI_STATUS_GOOD);
}

static void test_sender_survives(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	struct iscsi_context *b = cl_login_clear(2, INI2, 2);
	struct iscsi_context *c = cl_login_clear(3, INI3, 3);
	for (int round = 0; round < 5; round++) {
		prout_good(a, REG_IGNORE, 0, 0, K1);
		prout_good(b, REG_IGNORE, 0, 0, K2);
		prout_good(c, REG_IGNORE, 0, 0, K3);
		prout_good(b, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE, K2, 0);
		/* Through node 1: the holder's and node 3's keys are preempted
		 * (unit attentions for both), then everything is cleared. */
		prout_good(a, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE, K1, K2);
		assert_serving(1);
		prout_good(a, SCSI_PERSISTENT_RESERVE_CLEAR, 0, K1, 0);
		assert_serving(1);
		/* And the node still answers a command. */
		assert_int_equal(cl_generation(a), cl_generation(c));
	}
	iscsi_destroy_context(a);
	iscsi_destroy_context(b);
	iscsi_destroy_context(c);
	cl_failed = false;
}

static void test_stop_with_session(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(2, INI1, 4);
	/* cl_stop asserts nothing itself: 0 means prkitd exited with 0. */
	assert_int_equal(cl_stop(2), 0);
	iscsi_destroy_context(a);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sender_survives, setup3, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_with_session, setup3, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
