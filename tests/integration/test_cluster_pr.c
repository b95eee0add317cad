/* Persistent reservations across the nodes of a three-node cluster
 * (cluster_harness.h): one LU, one replicated reservation table, reached
 * through a different node by each initiator.
 *
 * - A registration made through node 1 and a reservation made through
 *   node 2 hold on node 3: an unregistered initiator there gets
 *   RESERVATION CONFLICT for WRITE, for PR OUT RESERVE and for SPC-2
 *   RESERVE(6).
 * - READ FULL STATUS is byte-identical through every node, and so is the
 *   PR generation.
 * - A PREEMPT sent through node 1 queues REGISTRATIONS PREEMPTED (2A/05)
 *   for the preempted nexus on node 3 before node 1 returns GOOD; that
 *   nexus reports it exactly once, and a registered nexus on node 2 that
 *   was not preempted gets no unit attention. (The brief named this
 *   condition 2A/03; 2A/03 is RESERVATIONS PREEMPTED, for a holder that
 *   loses its reservation, which is not the case here.) */
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
#define INI2 "iqn.2026-11.io.prkit.test:cl-two"
#define INI3 "iqn.2026-11.io.prkit.test:cl-three"
#define INI4 "iqn.2026-11.io.prkit.test:cl-four"

#define K1 0x1111ULL
#define K2 0x2222ULL
#define K3 0x3333ULL

#define ASCQ_REGISTRATIONS_PREEMPTED 0x2a05
#define T_WE SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE

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

/* The READ FULL STATUS of every node equals node 1's; and the
 * generation. Returns the generation. */
static uint32_t assert_same_everywhere(struct iscsi_context *const *ctx)
{
	static uint8_t fs[3][4096];
	size_t len[3];
	for (int i = 0; i < 3; i++)
		len[i] = cl_read_full_status(ctx[i], fs[i], sizeof(fs[i]));
	for (int i = 1; i < 3; i++) {
		if (len[i] != len[0] || memcmp(fs[i], fs[0], len[0]) != 0)
			fail_msg("READ FULL STATUS through node %d differs from node 1's (%zu vs "
			         "%zu bytes)",
			         i + 1, len[i], len[0]);
	}
	uint32_t g = cl_generation(ctx[0]);
	assert_int_equal(cl_generation(ctx[1]), g);
	assert_int_equal(cl_generation(ctx[2]), g);
	return g;
}

/* The number of registrations READ FULL STATUS lists (each descriptor
 * is 24 bytes plus its TransportID). */
static int n_registrations(const uint8_t *fs, size_t len)
{
	int n = 0;
	size_t end = 8 + ((size_t)fs[4] << 24 | (size_t)fs[5] << 16 | (size_t)fs[6] << 8 | fs[7]);
	assert_true(end <= len);
	for (size_t p = 8; p + 24 <= end; n++)
		p += 24 + ((size_t)fs[p + 20] << 24 | (size_t)fs[p + 21] << 16 |
		           (size_t)fs[p + 22] << 8 | fs[p + 23]);
	return n;
}

static void test_across_nodes(void **state)
{
	(void)state;
	cl_failed = true; /* until the end: keep the logs of a failure */
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	struct iscsi_context *b = cl_login_clear(2, INI2, 2);
	struct iscsi_context *c = cl_login_clear(3, INI3, 3);
	struct iscsi_context *d = cl_login_clear(3, INI4, 4);
	struct iscsi_context *all[3] = {a, b, c};

	uint32_t g0 = assert_same_everywhere(all);
	/* Registered through node 1, reserved through node 2 (Write
	 * Exclusive: only the holder writes). */
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(b, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K2, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE, K2, 0, 0, 0),
	                 SCSI_STATUS_GOOD);

	/* Node 3 enforces them at once: GOOD on node 2 means every node has
	 * applied the change. */
	static uint8_t blk[512];
	memset(blk, 0xc3, sizeof(blk));
	assert_int_equal(
	    h_status(iscsi_write10_sync(c, 0, 10, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(h_prout(c, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE, K3, 0, 0, 0),
	                 SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(h_status(iscsi_reserve6_sync(c, 0)), SCSI_STATUS_RESERVATION_CONFLICT);
	/* The holder writes through node 2. */
	assert_int_equal(
	    h_status(iscsi_write10_sync(b, 0, 10, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_GOOD);

	/* Node 3's initiator registers; then every node reports one table. */
	assert_int_equal(
	    h_prout(c, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K3, 0, 0),
	    SCSI_STATUS_GOOD);
	uint32_t g1 = assert_same_everywhere(all);
	/* Three REGISTERs; RESERVE does not count (SPC-4, PRgeneration). */
	assert_int_equal(g1, g0 + 3);
	static uint8_t fs[4096];
	size_t len = cl_read_full_status(c, fs, sizeof(fs));
	assert_int_equal(n_registrations(fs, len), 3);

	/* PREEMPT of K3 through node 1: the reservation stays node 2's; the
	 * preempted nexus is on node 3. */
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_PREEMPT, T_WE, K1, K3, 0, 0),
	                 SCSI_STATUS_GOOD);
	/* Exactly once on node 3: the first command reports it, the next
	 * one does not. */
	h_assert_sense(h_tur(c, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_REGISTRATIONS_PREEMPTED);
	assert_int_equal(h_tur(c, 0), SCSI_STATUS_GOOD);
	/* Node 2's holder and node 3's other initiator were not affected. */
	assert_int_equal(h_tur(b, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(d, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD);
	/* K3 is gone everywhere, the reservation is still node 2's. */
	uint32_t g2 = assert_same_everywhere(all);
	assert_int_equal(g2, g1 + 1);
	len = cl_read_full_status(a, fs, sizeof(fs));
	assert_int_equal(n_registrations(fs, len), 2);
	assert_int_equal(
	    h_status(iscsi_write10_sync(c, 0, 10, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(
	    h_status(iscsi_write10_sync(b, 0, 10, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_GOOD);

	/* Released through node 2: nobody is left with a pending condition
	 * but the registrants of a released Write Exclusive reservation
	 * (none: RESERVATIONS RELEASED goes to registrants only for the
	 * registrants-only and all-registrants types). */
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_RELEASE, T_WE, K2, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(a, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_tur(c, 0), SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_status(iscsi_write10_sync(c, 0, 10, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_GOOD);
	assert_same_everywhere(all);

	h_logout(a);
	h_logout(b);
	h_logout(c);
	h_logout(d);
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_across_nodes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
