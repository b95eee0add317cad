/* prkit fenced in a real cluster (issue 15, deliverable 7): network
 * namespaces with Corosync, host nodes each running `prkit fenced` and
 * versioned writers (`prkit io --run-id <node> --seq-clock`) over their
 * own region of every data LU, one prkitd with the shared LUs
 * (fenced_harness.h). What is asserted is what landed: the backing files
 * (no block of a fenced node issued after its fencing completed), the
 * registrations (READ KEYS through a nexus of the test's own), the
 * daemons' status JSON and the writers' exit statuses and reports.
 *
 *  1. a killed node (Corosync and fenced SIGKILLed; its writers left
 *     running, as the applications of a node whose cluster stack died)
 *     is fenced by the executor, node 1; its writers meet RESERVATION
 *     CONFLICT; the survivors resume;
 *  2. the same node restarted rejoins with a new incarnation (its old key
 *     gone from every LU) and writes again;
 *  3. the self-check: a key removed behind a node's back (PREEMPT from
 *     the test's nexus) self-fences that node within about a second;
 *  4. a partitioned node stalls, self-fences within self_fence_ms and
 *     its writes stop; the majority fences it;
 *  5. two nodes (two_node: 1) with a coordinator LU, split: both race,
 *     one winner, and its key alone left on every LU.
 *
 * Root only (network namespaces): skips with "1..0 # SKIP" elsewhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/scsi-lowlevel.h>

#include "cluster_harness.h"
#include "fenced_harness.h"
#include "harness.h"
#include "io_pattern.h"

/* The self-check's period in these tests (the daemon's default is 1 s). */
#define CHECK_MS 500
#define SELF_FENCE_MS 2000

/* World A (scenarios 1-3) stays up across those tests. */
static bool world_a;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static bool has_key(const uint64_t *keys, size_t n, uint64_t k)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] == k)
			return true;
	return false;
}

/* "last_fencing" of a status reply must name exactly these victims. */
static void assert_victims(json_object *s, int victim)
{
	json_object *lf = NULL, *v = NULL;
	assert_true(json_object_object_get_ex(s, "last_fencing", &lf) && lf);
	assert_true(json_object_object_get_ex(lf, "victims", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 0)), victim);
}

/* The moment (CLOCK_REALTIME us) the fencing in a status reply was done:
 * every victim's key was preempted and aborted on every LU. */
static uint64_t fenced_at_us(json_object *s)
{
	int64_t changed = fd_json_int(s, "last_fencing.changed_at_ms");
	int64_t fence = fd_json_int(s, "last_fencing.fence_ms");
	assert_true(changed > 0);
	assert_true(fence >= 0);
	return (uint64_t)(changed + fence) * 1000;
}

/* Every writer of node i ends by itself, fenced: exit 4 and at least one
 * I/O counted as fenced in its report. */
static void assert_writers_fenced(int i, int ms)
{
	for (int k = 0; k < fd_lus(); k++) {
		int st = -1;
		json_object *rep = NULL;
		int r = fd_writer_wait(i, k, ms, &st, &rep);
		if (r != 1)
			fail_msg("node %d writer %d still runs %d ms later", i, k, ms);
		if (st != 4)
			fail_msg("node %d writer %d: exit %d, not 4 (fenced)", i, k, st);
		assert_non_null(rep);
		assert_true(fd_json_int(rep, "errors.fenced") > 0);
		json_object_put(rep);
	}
}

/* Waits (ms) until node i has written blocks issued after t_us on every
 * data LU. */
static void assert_writes_after(int i, uint64_t t_us, int ms)
{
	uint64_t end = h_now_ms() + (uint64_t)ms;
	for (int k = 0; k < fd_lus(); k++) {
		struct fd_blocks b;
		for (fd_check(k, i, t_us, &b); !b.after; fd_check(k, i, t_us, &b)) {
			if (h_now_ms() > end)
				fail_msg("node %d wrote nothing to LU %d after %" PRIu64, i, k,
				         t_us);
			sleep_ms(100);
		}
	}
}

static void world_a_up(void)
{
	struct fd_opts o = {
	    .nodes = 3, .lus = 2, .check_ms = CHECK_MS, .self_fence_ms = SELF_FENCE_MS};
	cl_failed = true; /* until the world is up */
	assert_int_equal(fd_up(&o), 0);
	cl_failed = false;
	world_a = true;
}

/* 1. A killed node is fenced; nothing it issued after the fence lands. */
static void test_killed_node_is_fenced(void **state)
{
	(void)state;
	world_a_up();
	cl_failed = true;
	json_object *before = fd_status(3, NULL);
	assert_non_null(before);
	assert_string_equal(fd_json_str(before, "state"), "running");
	json_object_put(before);

	uint64_t t_kill = fd_wall_us();
	fd_node_kill(3, true);
	json_object *s1 = fd_wait_fencings(1, 1, 30000);
	assert_non_null(s1);
	assert_victims(s1, 3);
	assert_string_equal(fd_json_str(s1, "last_fencing.result"), "ok");
	assert_int_equal(fd_json_int(s1, "last_fencing.executor"), 1);
	uint64_t t_fenced = fenced_at_us(s1);
	int64_t detect = fd_json_int(s1, "last_fencing.changed_at_ms") - (int64_t)(t_kill / 1000);
	fprintf(stderr,
	        "# kill -> membership change %" PRId64 " ms; change -> stalled %" PRId64
	        " ms, fenced %" PRId64 " ms, resumed %" PRId64 " ms\n",
	        detect, fd_json_int(s1, "last_fencing.stall_ms"),
	        fd_json_int(s1, "last_fencing.fence_ms"),
	        fd_json_int(s1, "last_fencing.resume_ms"));
	/* The change cannot precede the kill. */
	assert_true(detect >= 0);
	/* Node 2 took part: it saw the same fencing. */
	json_object *s2 = fd_wait_fencings(2, 1, 10000);
	assert_non_null(s2);
	assert_victims(s2, 3);
	json_object_put(s2);

	/* Node 3's applications kept writing; the target now refuses them. */
	assert_writers_fenced(3, 20000);
	struct fd_blocks b;
	fd_check(-1, 3, t_fenced, &b);
	fprintf(stderr,
	        "# node 3: %" PRIu64 " blocks, %" PRIu64 " issued after the fence, latest %" PRIu64
	        " us before it\n",
	        b.written, b.after, b.latest_us < t_fenced ? t_fenced - b.latest_us : 0);
	assert_true(b.written > 0); /* the checker sees its blocks at all */
	assert_int_equal(b.after, 0);
	assert_int_equal(b.bad, 0);

	/* No registration of node 3 left; the survivors' are there. */
	for (int l = 0; l < fd_lus(); l++) {
		uint64_t keys[64];
		size_t n = fd_read_keys(l, keys, 64);
		assert_false(has_key(keys, n, fd_known_key(3)));
		assert_true(has_key(keys, n, fd_known_key(1)));
		assert_true(has_key(keys, n, fd_known_key(2)));
	}
	/* The survivors resumed: they write again after the resume. */
	uint64_t t_resumed = (uint64_t)(fd_json_int(s1, "last_fencing.changed_at_ms") +
	                                fd_json_int(s1, "last_fencing.resume_ms")) *
	                     1000;
	assert_writes_after(1, t_resumed, 10000);
	assert_writes_after(2, t_resumed, 10000);
	assert_string_equal(fd_json_str(s1, "state"), "running");
	json_object_put(s1);
	cl_failed = false;
}

/* 2. The killed node comes back with a new incarnation and writes. */
static void test_restarted_node_rejoins(void **state)
{
	(void)state;
	if (!world_a)
		skip();
	cl_failed = true;
	uint64_t old = fd_known_key(3);
	assert_true(old != 0);
	uint64_t t_start = fd_wall_us();
	assert_int_equal(fd_node_start(3), 0);
	uint64_t now = fd_known_key(3);
	fprintf(stderr, "# node 3: key 0x%016" PRIx64 " -> 0x%016" PRIx64 "\n", old, now);
	assert_true(now != 0 && now != old);
	json_object *s = fd_status(3, NULL);
	assert_non_null(s);
	assert_string_equal(fd_json_str(s, "state"), "running");
	/* The incarnation is the key's low 32 bits (fence_key.h): it grew. */
	assert_true(fd_json_int(s, "incarnation") > (int64_t)(old & 0xffffffffu));
	assert_int_equal(fd_json_int(s, "incarnation"), (int64_t)(now & 0xffffffffu));
	json_object_put(s);
	for (int l = 0; l < fd_lus(); l++) {
		uint64_t keys[64];
		size_t n = fd_read_keys(l, keys, 64);
		assert_true(has_key(keys, n, now));
		assert_false(has_key(keys, n, old));
	}
	assert_writes_after(3, t_start, 10000);
	/* The others see it as a member again, and nobody fenced anyone. */
	json_object *s1 = fd_status(1, NULL);
	assert_non_null(s1);
	assert_int_equal(fd_json_int(s1, "fencings"), 1);
	json_object *m = NULL;
	assert_true(json_object_object_get_ex(s1, "members", &m));
	assert_int_equal(json_object_array_length(m), 3);
	json_object_put(s1);
	cl_failed = false;
}

/* 3. The self-check: node 2's key removed from every LU by somebody else
 * (here the test's own nexus, with PREEMPT) self-fences node 2. */
static void test_self_check_catches_removed_key(void **state)
{
	(void)state;
	if (!world_a)
		skip();
	cl_failed = true;
	uint64_t victim = fd_key(2);
	assert_true(victim != 0);
	const uint64_t ours = 0x7e57000000000001ull;
	for (int l = 0; l < fd_lus(); l++) {
		struct iscsi_context *iscsi = fd_login(l, "iqn.2026-11.io.prkit.test:intruder");
		assert_non_null(iscsi);
		uint8_t p[24] = {0};
		for (int b = 0; b < 8; b++)
			p[8 + b] = (uint8_t)(ours >> (56 - 8 * b));
		/* REGISTER our key (service action key at bytes 8..15). */
		assert_int_equal(h_pr_out(iscsi, l, 0x00, 0, p, 24, NULL), SCSI_STATUS_GOOD);
		memset(p, 0, sizeof(p));
		for (int b = 0; b < 8; b++) {
			p[b] = (uint8_t)(ours >> (56 - 8 * b));
			p[8 + b] = (uint8_t)(victim >> (56 - 8 * b));
		}
		/* PREEMPT (no abort) every registration with node 2's key. */
		assert_int_equal(h_pr_out(iscsi, l, 0x04, 5, p, 24, NULL), SCSI_STATUS_GOOD);
		iscsi_logout_sync(iscsi);
		iscsi_destroy_context(iscsi);
	}
	uint64_t t_removed = fd_wall_us();
	assert_true(fd_wait_state(2, "self_fenced", 5000));
	json_object *s = fd_status(2, NULL);
	assert_non_null(s);
	int64_t took = fd_json_int(s, "self_fence.at_ms") - (int64_t)(t_removed / 1000);
	fprintf(stderr, "# key removed -> self-fenced in %" PRId64 " ms (\"%s\")\n", took,
	        fd_json_str(s, "self_fence.reason"));
	/* One check period and its READ KEYS: about a second at most. */
	assert_true(took <= CHECK_MS + 1000);
	assert_non_null(strstr(fd_json_str(s, "self_fence.reason"), "key"));
	json_object_put(s);
	/* `prkit fenced status` says so with its exit status too. */
	int rc = -1;
	json_object_put(fd_status(2, &rc));
	assert_int_equal(rc, 2);
	assert_writers_fenced(2, 15000);
	cl_failed = false;
	fd_down();
	world_a = false;
}

/* 4. A partitioned node: stalled at once, self-fenced, its writes stop;
 * the majority fences it. */
static void test_partitioned_node_self_fences(void **state)
{
	(void)state;
	struct fd_opts o = {
	    .nodes = 3, .lus = 2, .check_ms = CHECK_MS, .self_fence_ms = SELF_FENCE_MS};
	cl_failed = true;
	assert_int_equal(fd_up(&o), 0);
	uint64_t t_part = fd_wall_us();
	assert_int_equal(cl_partition(3), 0);
	/* Detection (token + consensus) plus self_fence_ms, with slack. */
	assert_true(fd_wait_state(3, "self_fenced", 15000));
	json_object *s3 = fd_status(3, NULL);
	assert_non_null(s3);
	assert_non_null(strstr(fd_json_str(s3, "self_fence.reason"), "quorum"));
	uint64_t t_self = (uint64_t)fd_json_int(s3, "self_fence.at_ms") * 1000;
	fprintf(stderr, "# partition -> self-fenced in %" PRIu64 " ms (\"%s\")\n",
	        (t_self - t_part) / 1000, fd_json_str(s3, "self_fence.reason"));
	assert_true(t_self > t_part);
	json_object_put(s3);
	assert_writers_fenced(3, 15000);

	json_object *s1 = fd_wait_fencings(1, 1, 20000);
	assert_non_null(s1);
	assert_victims(s1, 3);
	assert_string_equal(fd_json_str(s1, "last_fencing.result"), "ok");
	uint64_t t_fenced = fenced_at_us(s1);
	json_object_put(s1);

	struct fd_blocks b;
	fd_check(-1, 3, t_fenced, &b);
	assert_true(b.written > 0);
	assert_int_equal(b.after, 0);
	assert_int_equal(b.bad, 0);
	/* Its writes stopped once it stalled: nothing issued after the
	 * self-fence reached the LUs either. */
	fd_check(-1, 3, t_self, &b);
	assert_int_equal(b.after, 0);
	for (int l = 0; l < fd_lus(); l++) {
		uint64_t keys[64];
		size_t n = fd_read_keys(l, keys, 64);
		assert_false(has_key(keys, n, fd_known_key(3)));
	}
	assert_writes_after(1, t_fenced, 10000);
	cl_failed = false;
	fd_down();
}

/* 5. Two nodes, two_node: 1, one coordinator LU: a split makes both
 * fence; the first PREEMPT AND ABORT on the coordinator wins. */
static void test_two_node_race_one_winner(void **state)
{
	(void)state;
	struct fd_opts o = {.nodes = 2,
	                    .lus = 1,
	                    .coordinators = 1,
	                    .two_node = true,
	                    .check_ms = CHECK_MS,
	                    .self_fence_ms = SELF_FENCE_MS};
	cl_failed = true;
	assert_int_equal(fd_up(&o), 0);
	assert_int_equal(cl_partition(2), 0);
	int winner = 0, loser = 0;
	json_object *sw = NULL;
	uint64_t end = h_now_ms() + 30000;
	while (!winner && h_now_ms() < end) {
		for (int i = 1; i <= 2 && !winner; i++) {
			json_object *s = fd_status(i, NULL);
			if (s && !strcmp(fd_json_str(s, "state"), "self_fenced")) {
				loser = i;
				winner = 3 - i;
			}
			json_object_put(s);
		}
		if (!winner)
			sleep_ms(100);
	}
	assert_true(winner != 0);
	sw = fd_wait_fencings(winner, 1, 15000);
	assert_non_null(sw);
	assert_string_equal(fd_json_str(sw, "state"), "running");
	assert_victims(sw, loser);
	assert_string_equal(fd_json_str(sw, "last_fencing.result"), "ok");
	uint64_t t_fenced = fenced_at_us(sw);
	json_object_put(sw);
	json_object *sl = fd_status(loser, NULL);
	assert_non_null(sl);
	fprintf(stderr, "# node %d won the race; node %d: \"%s\"\n", winner, loser,
	        fd_json_str(sl, "self_fence.reason"));
	json_object_put(sl);
	/* One winner on every LU, the coordinator and the data LU alike. */
	for (int l = 0; l < fd_lus() + fd_coordinators(); l++) {
		uint64_t keys[64];
		size_t n = fd_read_keys(l, keys, 64);
		assert_true(has_key(keys, n, fd_known_key(winner)));
		assert_false(has_key(keys, n, fd_known_key(loser)));
	}
	assert_writers_fenced(loser, 15000);
	struct fd_blocks b;
	fd_check(-1, loser, t_fenced, &b);
	assert_true(b.written > 0);
	assert_int_equal(b.after, 0);
	assert_writes_after(winner, t_fenced, 10000);
	cl_failed = false;
	fd_down();
}

/* The checker itself: a block is counted for its run id only, after T
 * only when issued after T, and a damaged one is caught. */
static void test_checker(void **state)
{
	(void)state;
	uint8_t buf[4 * FD_BLOCK];
	memset(buf, 0, sizeof(buf));
	prk_iop_fill(buf, FD_BLOCK, 1, 100, 1000, 3);
	prk_iop_fill(buf + FD_BLOCK, FD_BLOCK, 1, 101, 3000, 3);
	prk_iop_fill(buf + 2 * FD_BLOCK, FD_BLOCK, 1, 102, 5000, 2);
	struct fd_blocks b = {0};
	fd_scan(buf, sizeof(buf), 100, 3, 2000, &b);
	assert_int_equal(b.written, 2);
	assert_int_equal(b.after, 1);
	assert_int_equal(b.latest_us, 3000);
	assert_int_equal(b.bad, 0);
	buf[FD_BLOCK + 300] ^= 1;
	memset(&b, 0, sizeof(b));
	fd_scan(buf, sizeof(buf), 100, 3, 2000, &b);
	assert_int_equal(b.bad, 1);
	/* A block at the wrong place is bad too. */
	memset(&b, 0, sizeof(b));
	fd_scan(buf, sizeof(buf), 200, 2, 0, &b);
	assert_int_equal(b.written, 1);
	assert_int_equal(b.bad, 1);
}

static int teardown(void **state)
{
	(void)state;
	if (!world_a)
		fd_down();
	return 0;
}

/* World A's tests build on each other: after a failure the next starts
 * without it (and skips). */
static int teardown_a(void **state)
{
	(void)state;
	if (cl_failed) {
		fd_down();
		world_a = false;
	}
	return 0;
}

int main(void)
{
	if (cl_skip_all())
		return 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_checker),
	    cmocka_unit_test_teardown(test_killed_node_is_fenced, teardown_a),
	    cmocka_unit_test_teardown(test_restarted_node_rejoins, teardown_a),
	    cmocka_unit_test_teardown(test_self_check_catches_removed_key, teardown_a),
	    cmocka_unit_test_teardown(test_partitioned_node_self_fences, teardown),
	    cmocka_unit_test_teardown(test_two_node_race_one_winner, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fd_down();
	return rc;
}
