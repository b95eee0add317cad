/* Faults of a three-node cluster (cluster_harness.h), one fresh cluster
 * per test:
 *   node_loss      node 3 crashes (SIGKILL to prkitd and Corosync): the
 *                  registrations, reservation and generation are intact on
 *                  nodes 1 and 2, a PR OUT through node 1 is served again
 *                  (the time from the kill is printed: a benchmark figure),
 *                  and node 3, restarted, rejoins with the same state;
 *   partition      node 3 is cut off while it writes and node 1 preempts
 *                  its key: from the moment node 3 says it is not serving,
 *                  and at the latest lease_ms after the cut, it completes
 *                  no WRITE; no write of node 3 completes with GOOD after
 *                  the majority's PREEMPT returned; the backing file holds
 *                  none of the refused ones; healed, node 3 serves the
 *                  majority's state;
 *   config_mismatch node 3 has another block size for the LU: it reports
 *                  "failed" naming block_size, opens no portal, and the
 *                  other two keep serving;
 *   aptpl_restart  a registration made with APTPL survives a restart of
 *                  the whole cluster, on every node;
 *   default_serial LUs without "serial" (the default derived from the
 *                  target's name and LUN): the nodes agree on their NAAs
 *                  and share their PR state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "harness.h"
#include "harness_cmd.h"

#define INI1 "iqn.2026-11.io.prkit.test:cl-one"
#define INI2 "iqn.2026-11.io.prkit.test:cl-two"
#define INI3 "iqn.2026-11.io.prkit.test:cl-three"

#define K1 0x1111ULL
#define K2 0x2222ULL
#define K3 0x3333ULL
#define T_WE_RO SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE_REGISTRANTS_ONLY
#define ASCQ_PORT_UNAVAILABLE 0x040c

#define FS_CAP 4096

static int teardown(void **state)
{
	(void)state;
	cl_down();
	return 0;
}

static int setup3(void **state)
{
	(void)state;
	return cl_up(3, NULL);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void assert_same_fs(const uint8_t *a, size_t la, const uint8_t *b, size_t lb,
                           const char *what)
{
	if (la != lb || memcmp(a, b, la) != 0)
		fail_msg("READ FULL STATUS differs: %s (%zu vs %zu bytes)", what, la, lb);
}

/* REGISTER of key over key (a PR OUT that changes only the generation)
 * through iscsi, sent again while it fails, at most 30 s. Returns the
 * milliseconds from `since` until it returned GOOD. */
static uint64_t prout_until_good(struct iscsi_context *iscsi, uint64_t key, uint64_t since)
{
	uint64_t end = h_now_ms() + 30000;
	for (int tries = 1;; tries++) {
		int st = h_prout(iscsi, SCSI_PERSISTENT_RESERVE_REGISTER, 0, key, key, 0, 0);
		if (st == SCSI_STATUS_GOOD)
			return h_now_ms() - since;
		print_message("# PR OUT try %d: status 0x%02x sense %x/%04x\n", tries, st,
		              h_sense.key, h_sense.ascq);
		assert_true(h_now_ms() < end);
		sleep_ms(50);
	}
}

/* ---- node loss ---- */

static void test_node_loss(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	struct iscsi_context *b = cl_login_clear(2, INI2, 2);
	struct iscsi_context *c = cl_login_clear(3, INI3, 3);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(b, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K2, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(c, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K3, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(b, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, K2, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	static uint8_t before[FS_CAP], x[FS_CAP];
	size_t lb = cl_read_full_status(a, before, sizeof(before)), lx;
	lx = cl_read_full_status(c, x, sizeof(x));
	assert_same_fs(before, lb, x, lx, "node 3 vs node 1 before the kill");
	uint32_t g = cl_generation(a);

	uint64_t t_kill = h_now_ms();
	cl_kill(3);
	iscsi_destroy_context(c); /* its node is gone */

	/* The survivors keep every registration (K3's too: a node's loss is
	 * not a PR OUT), the reservation and the generation. */
	lx = cl_read_full_status(a, x, sizeof(x));
	assert_same_fs(before, lb, x, lx, "node 1 after the kill of node 3");
	lx = cl_read_full_status(b, x, sizeof(x));
	assert_same_fs(before, lb, x, lx, "node 2 after the kill of node 3");

	/* Served again once the survivors have let node 3 go (detection, then
	 * the departure hold: lease + margin). */
	uint64_t took = prout_until_good(a, K1, t_kill);
	print_message("# node 3 killed: PR OUT through node 1 returned GOOD %llu ms after the "
	              "kill (token %d ms, lease %d ms, margin %d ms)\n",
	              (unsigned long long)took, CL_TOKEN_MS, CL_LEASE_MS, CL_MARGIN_MS);
	assert_int_equal(cl_generation(a), g + 1);
	assert_int_equal(cl_generation(b), g + 1);
	lb = cl_read_full_status(a, before, sizeof(before));
	lx = cl_read_full_status(b, x, sizeof(x));
	assert_same_fs(before, lb, x, lx, "node 2 vs node 1 after the PR OUT");
	/* The view of the survivors: two members. */
	json_object *st = cl_state(1);
	assert_non_null(st);
	assert_int_equal(json_object_array_length(h_member(st, "members")), 2);
	assert_true(json_object_get_boolean(h_member(st, "quorate")));
	json_object_put(st);

	/* Node 3 restarted takes the state from its peers. */
	uint64_t t_start = h_now_ms();
	assert_int_equal(cl_restart(3), 0);
	print_message("# node 3 restarted: serving after %llu ms\n",
	              (unsigned long long)(h_now_ms() - t_start));
	c = cl_login_clear(3, INI3, 3);
	lx = cl_read_full_status(c, x, sizeof(x));
	assert_same_fs(before, lb, x, lx, "node 3 after its restart vs node 1");
	assert_int_equal(cl_generation(c), g + 1);
	/* And enforces it: K3's nexus (same initiator port, same target port)
	 * is still registered, so it may write under the registrants-only
	 * reservation. */
	static uint8_t blk[512];
	assert_int_equal(
	    h_status(iscsi_write16_sync(c, 0, 1, blk, sizeof(blk), 512, 0, 0, 0, 0, 0)),
	    SCSI_STATUS_GOOD);
	h_logout(a);
	h_logout(b);
	h_logout(c);
	cl_failed = false;
}

/* ---- partition ---- */

#define P_MAGIC 0x50524b50u /* "PRKP" */
#define P_MAX 8192          /* writes, one LBA each (the LU has 32768) */

struct pblk {
	uint32_t magic, node;
	uint64_t seq;
};

enum { W_GOOD = 1, W_NOT_READY, W_CONFLICT, W_FAILED };

static struct {
	uint64_t t_issue[P_MAX];
	uint8_t result[P_MAX];
} P;

/* The majority's PREEMPT, on its own thread (its context is used by no
 * one else meanwhile) so that the writes through node 3 go on. */
struct preempt {
	struct iscsi_context *iscsi;
	int status;
	uint64_t t_done;
};

static void *preempt_thread(void *arg)
{
	struct preempt *p = arg;
	struct scsi_persistent_reserve_out_basic pp = {.reservation_key = K1,
	                                               .service_action_reservation_key = K3};
	struct scsi_task *t = iscsi_persistent_reserve_out_sync(
	    p->iscsi, 0, SCSI_PERSISTENT_RESERVE_PREEMPT, 0, T_WE_RO, &pp);
	p->t_done = h_now_ms();
	p->status = t ? t->status : -1;
	if (t)
		scsi_free_scsi_task(t);
	return NULL;
}

static void fill_pblk(uint8_t *blk, uint64_t seq)
{
	struct pblk h = {P_MAGIC, 3, seq};
	memset(blk, (int)(seq * 7 + 1), 512);
	memcpy(blk, &h, sizeof(h));
}

/* One WRITE through node 3 of block seq (at LBA seq); its class. */
static int write_seq(struct iscsi_context **w, uint64_t seq)
{
	static uint8_t blk[512];
	fill_pblk(blk, seq);
	struct scsi_task *t = iscsi_write16_sync(*w, 0, seq, blk, sizeof(blk), 512, 0, 0, 0, 0, 0);
	if (!t) {
		iscsi_destroy_context(*w);
		*w = NULL;
		return W_FAILED;
	}
	int r = W_FAILED;
	if (t->status == SCSI_STATUS_GOOD)
		r = W_GOOD;
	else if (t->status == SCSI_STATUS_CHECK_CONDITION && t->sense.key == SCSI_SENSE_NOT_READY &&
	         t->sense.ascq == ASCQ_PORT_UNAVAILABLE)
		r = W_NOT_READY;
	else if (t->status == SCSI_STATUS_RESERVATION_CONFLICT)
		r = W_CONFLICT;
	scsi_free_scsi_task(t);
	return r;
}

static void test_partition(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	struct iscsi_context *w = cl_login_clear(3, INI3, 3);
	/* Node 1's initiator holds a registrants-only reservation; node 3's
	 * writer is a registrant, so it may write until it is preempted. */
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(h_prout(a, SCSI_PERSISTENT_RESERVE_RESERVE, T_WE_RO, K1, 0, 0, 0),
	                 SCSI_STATUS_GOOD);
	assert_int_equal(
	    h_prout(w, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K3, 0, 0),
	    SCSI_STATUS_GOOD);

	memset(&P, 0, sizeof(P));
	uint64_t seq = 0;
	/* Writes before the cut: the check of the file below must find them
	 * (so that it could find the ones that must not be there). */
	for (; seq < 20; seq++) {
		P.t_issue[seq] = h_now_ms();
		P.result[seq] = (uint8_t)write_seq(&w, seq);
		assert_int_equal(P.result[seq], W_GOOD);
	}

	/* The cut happens somewhere between these two moments. */
	uint64_t t_before_cut = h_now_ms();
	assert_int_equal(cl_partition(3), 0);
	/* Taken after the links are down: "lease_ms after the cut" is
	 * measured from a moment the cut has certainly happened. */
	uint64_t t_cut = h_now_ms();
	struct preempt pre = {.iscsi = a, .status = -2};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, preempt_thread, &pre), 0);

	/* Writes through node 3 for 5 s (detection takes ~2.2 s with token
	 * 1000), re-logging in every 100 ms when node 3 drops the connection,
	 * and node 3's state polled every 20 ms. */
	uint64_t t_inq = 0, t_poll = 0, t_relogin = 0;
	char inq_state[64] = "";
	long n[W_FAILED + 1] = {0};
	while (h_now_ms() < t_cut + 5000 && seq < P_MAX) {
		uint64_t now = h_now_ms();
		if (!t_inq && now >= t_poll) {
			if (strcmp(cl_state_name(3, inq_state, sizeof(inq_state)), "serving") != 0)
				t_inq = h_now_ms();
			t_poll = now + 20;
		}
		if (!w && now >= t_relogin) {
			w = cl_login(3, INI3, 3);
			t_relogin = now + 100;
		}
		P.t_issue[seq] = h_now_ms();
		P.result[seq] = (uint8_t)(w ? write_seq(&w, seq) : W_FAILED);
		n[P.result[seq]]++;
		seq++;
		sleep_ms(2);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(pre.status, SCSI_STATUS_GOOD);
	if (!t_inq)
		fail_msg("node 3 still says \"serving\" 5 s after it was cut off");
	/* No GOOD from node 3 once it said it does not serve, nor later than
	 * its lease after the cut, nor issued after the majority's PREEMPT
	 * returned. */
	/* The gate reads CLOCK_MONOTONIC_COARSE, which lags real time by up
	 * to its resolution (a jiffy): that much past the lease is the
	 * node's clock, not a late fence. */
	struct timespec res;
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	uint64_t coarse_ms =
	    ((uint64_t)res.tv_sec * 1000000000 + (uint64_t)res.tv_nsec + 999999) / 1000000;
	uint64_t lease_end = t_cut + CL_LEASE_MS + coarse_ms;
	uint64_t fence = t_inq < lease_end ? t_inq : lease_end;
	uint64_t last_good = 0;
	for (uint64_t s = 20; s < seq; s++) {
		if (P.result[s] != W_GOOD)
			continue;
		last_good = P.t_issue[s];
		if (P.t_issue[s] >= fence)
			fail_msg("write %llu through node 3, issued %llu ms after the cut (node 3 "
			         "not serving since %llu ms), completed with GOOD",
			         (unsigned long long)s, (unsigned long long)(P.t_issue[s] - t_cut),
			         (unsigned long long)(t_inq - t_cut));
		if (P.t_issue[s] >= pre.t_done)
			fail_msg("write %llu through node 3 issued after the majority's PREEMPT "
			         "returned completed with GOOD",
			         (unsigned long long)s);
	}
	print_message("# partition: node 3 said \"%s\" %llu ms after the cut; its last GOOD "
	              "write was issued %lld ms after the cut; the majority's PREEMPT returned "
	              "after %llu ms\n",
	              inq_state, (unsigned long long)(t_inq - t_cut),
	              last_good ? (long long)(last_good - t_cut) : -1LL,
	              (unsigned long long)(pre.t_done - t_cut));
	print_message("# writes through node 3 after the cut: %ld GOOD, %ld NOT READY 04/0C, "
	              "%ld RESERVATION CONFLICT, %ld failed or refused at the transport\n",
	              n[W_GOOD], n[W_NOT_READY], n[W_CONFLICT], n[W_FAILED]);
	assert_true(n[W_NOT_READY] + n[W_FAILED] > 0);
	/* The departure hold: the majority may complete the PREEMPT only
	 * when node 3's lease, renewed at the latest at the cut, has run out.
	 * Measured from the earliest moment the cut can have happened, so
	 * that a failure here is a hold shorter than the lease. */
	print_message("# the majority's PREEMPT returned %lld ms after node 3's lease ran out at "
	              "the latest\n",
	              (long long)pre.t_done - (long long)(t_before_cut + CL_LEASE_MS));
	if (pre.t_done < t_before_cut + CL_LEASE_MS)
		fail_msg("the majority's PREEMPT returned %llu ms after the cut, before node 3's "
		         "lease (%d ms) can have run out",
		         (unsigned long long)(pre.t_done - t_before_cut), CL_LEASE_MS);

	/* The medium: every GOOD write is there; no refused write issued
	 * after the fence is. */
	int fd = open(cl_backing(), O_RDONLY | O_DIRECT | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t *buf = NULL;
	size_t len = (size_t)seq * 512;
	assert_int_equal(posix_memalign((void **)&buf, 4096, len + 4096), 0);
	assert_int_equal(pread(fd, buf, (len + 4095) & ~(size_t)4095, 0),
	                 (len + 4095) & ~(size_t)4095);
	close(fd);
	long on_medium_late = 0;
	for (uint64_t s = 0; s < seq; s++) {
		static uint8_t want[512];
		fill_pblk(want, s);
		bool there = memcmp(buf + s * 512, want, 512) == 0;
		if (P.result[s] == W_GOOD && !there)
			fail_msg("write %llu completed with GOOD but is not in the backing file",
			         (unsigned long long)s);
		if (P.result[s] != W_GOOD && there && P.t_issue[s] >= fence)
			on_medium_late++;
	}
	free(buf);
	assert_int_equal(on_medium_late, 0);

	/* The minority says so; the majority serves. */
	assert_true(cl_wait_state(3, "inquorate", 5000));
	assert_true(cl_wait_state(1, "serving", 1000));
	assert_true(cl_wait_state(2, "serving", 1000));

	/* Healed, node 3 serves the majority's state: K3 is gone there too. */
	uint64_t t_heal = h_now_ms();
	assert_int_equal(cl_heal(3), 0);
	assert_true(cl_wait_serving(3, 30000));
	print_message("# healed: node 3 serving again after %llu ms\n",
	              (unsigned long long)(h_now_ms() - t_heal));
	if (w)
		iscsi_destroy_context(w);
	w = cl_login(3, INI3, 3);
	assert_non_null(w);
	assert_int_equal(h_clear_ua(w, 0), SCSI_STATUS_GOOD);
	static uint8_t f1[FS_CAP], f3[FS_CAP];
	size_t l1 = cl_read_full_status(a, f1, sizeof(f1));
	size_t l3 = cl_read_full_status(w, f3, sizeof(f3));
	assert_same_fs(f1, l1, f3, l3, "node 3 after the heal vs node 1");
	assert_int_equal(write_seq(&w, 0), W_CONFLICT);
	h_logout(a);
	h_logout(w);
	cl_failed = false;
}

/* ---- configuration mismatch ---- */

static int setup_mismatch(void **state)
{
	(void)state;
	struct cl_opts o = {.no_wait = true};
	o.block_size[3] = 4096;
	return cl_up(3, &o);
}

static void test_config_mismatch(void **state)
{
	(void)state;
	cl_failed = true;
	assert_true(cl_wait_serving(1, 30000));
	assert_true(cl_wait_serving(2, 30000));
	assert_true(cl_wait_state(3, "failed", 30000));
	json_object *st = cl_state(3);
	assert_non_null(st);
	const char *why = json_object_get_string(h_member(st, "why"));
	print_message("# node 3: failed: %s\n", why);
	if (!strstr(why, "block_size"))
		fail_msg("node 3's reason does not name the field: %s", why);
	json_object_put(st);
	/* It serves nothing: its portal does not accept a login. */
	struct iscsi_context *c = cl_login(3, INI3, 3);
	if (c) {
		h_logout(c);
		fail_msg("node 3 accepted a login although it failed");
	}
	/* The other two keep serving, PR OUT included. */
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_true(cl_wait_state(1, "serving", 100));
	assert_true(cl_wait_state(2, "serving", 100));
	assert_true(cl_wait_state(3, "failed", 100));
	h_logout(a);
	cl_failed = false;
}

/* ---- LUs without "serial" ---- */

/* Every node derives a LU's default serial from the target's name and the
 * LUN, so with no "serial" in the configurations the nodes still agree
 * on each LU's NAA (they match their LUs by it when they join): every
 * node serves (cl_up waits for it), reports one NAA per LU, one for
 * LUN 0 and another for LUN 1, and a registration made through node 1
 * is seen through node 3. */
static int setup_default_serial(void **state)
{
	(void)state;
	struct cl_opts o = {.default_serial = true, .xcopy = true};
	return cl_up(3, &o);
}

static void test_default_serial(void **state)
{
	(void)state;
	cl_failed = true;
	uint8_t naa[4][2][16];
	for (int i = 1; i <= 3; i++) {
		struct iscsi_context *c = cl_login(i, INI1, (uint32_t)i);
		assert_non_null(c);
		h_lu_naa(c, 0, naa[i][0]);
		h_lu_naa(c, 1, naa[i][1]);
		/* VPD 80h: the default ("prkit", 8 + 4 hex digits), not the
		 * harness's explicit "prkcl0001" */
		struct scsi_task *t = iscsi_inquiry_sync(c, 0, 1, 0x80, 255);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_GOOD);
		assert_true(t->datain.size >= 4 + 17);
		assert_int_equal(t->datain.data[3], 17);
		assert_memory_equal(t->datain.data + 4, "prkit", 5);
		scsi_free_scsi_task(t);
		h_logout(c);
	}
	for (int i = 2; i <= 3; i++) {
		assert_memory_equal(naa[i][0], naa[1][0], 16);
		assert_memory_equal(naa[i][1], naa[1][1], 16);
	}
	assert_memory_not_equal(naa[1][0], naa[1][1], 16);
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 0),
	    SCSI_STATUS_GOOD);
	h_logout(a);
	struct iscsi_context *c = cl_login_clear(3, INI3, 3);
	uint8_t keys[64];
	size_t got = 0;
	assert_int_equal(h_pr_in(c, 0, SCSI_PERSISTENT_RESERVE_READ_KEYS, keys, sizeof(keys), &got),
	                 SCSI_STATUS_GOOD);
	assert_true(got >= 16);
	assert_int_equal(keys[7], 8); /* ADDITIONAL LENGTH: one key */
	uint64_t k = 0;
	for (int b = 8; b < 16; b++)
		k = k << 8 | keys[b];
	assert_int_equal(k, K1);
	h_logout(c);
	cl_failed = false;
}

/* ---- whole-cluster restart with APTPL ---- */

static void test_aptpl_restart(void **state)
{
	(void)state;
	cl_failed = true;
	struct iscsi_context *a = cl_login_clear(1, INI1, 1);
	assert_int_equal(
	    h_prout(a, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0, 0, K1, 0, 1),
	    SCSI_STATUS_GOOD);
	static uint8_t before[FS_CAP], x[FS_CAP];
	size_t lb = cl_read_full_status(a, before, sizeof(before));
	h_logout(a);

	for (int i = 1; i <= 3; i++)
		assert_int_equal(cl_stop(i), 0);
	uint64_t t0 = h_now_ms();
	for (int i = 1; i <= 3; i++)
		assert_int_equal(cl_start(i), 0);
	for (int i = 1; i <= 3; i++)
		assert_true(cl_wait_serving(i, 30000));
	print_message("# whole cluster restarted: every node serving after %llu ms\n",
	              (unsigned long long)(h_now_ms() - t0));
	/* The registration is back on every node, the same everywhere (the
	 * generation, bytes 0..3, may start anew after a restart). */
	static uint8_t first[FS_CAP];
	size_t lf = 0;
	for (int i = 1; i <= 3; i++) {
		struct iscsi_context *c = cl_login_clear(i, INI1, 1);
		size_t lx = cl_read_full_status(c, x, sizeof(x));
		if (lx != lb || memcmp(x + 4, before + 4, lb - 4) != 0)
			fail_msg("node %d after the restart: READ FULL STATUS (%zu bytes) is not "
			         "the one before (%zu bytes)",
			         i, lx, lb);
		if (i == 1) {
			memcpy(first, x, lx);
			lf = lx;
		} else {
			assert_same_fs(first, lf, x, lx, "node vs node 1 after the restart");
		}
		h_logout(c);
	}
	cl_failed = false;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_node_loss, setup3, teardown),
	    cmocka_unit_test_setup_teardown(test_partition, setup3, teardown),
	    cmocka_unit_test_setup_teardown(test_config_mismatch, setup_mismatch, teardown),
	    cmocka_unit_test_setup_teardown(test_aptpl_restart, setup3, teardown),
	    cmocka_unit_test_setup_teardown(test_default_serial, setup_default_serial, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
