/* `prkit fence` (fence_prkit), node mode, against a real prkitd with two
 * portals and two LUs (fence_util.h: simulated nodes, the agent as a
 * separate process as Pacemaker runs it, a node's own I/O through the host
 * library with its control socket open).
 *
 * Checked: join (keys, the reservation), fencing a node that is writing
 * (after `off` returns none of its writes lands — versioned blocks read
 * back — and its library reports "fenced"; the survivor's own I/O is
 * stalled meanwhile and sees no error), rejoin with a new incarnation, two
 * survivors fencing each other at once (exactly one wins, on both LUs)
 * while a third node writes on untouched, two survivors fencing the same
 * victim at once (both succeed), the first member removing non-members'
 * keys, a path down during join, self-fencing refused, and the
 * fence-agents conventions of status, list, metadata and stdin options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "fence_opts.h"
#include "fence_run.h"
#include "fence_util.h"
#include "prkit/host_ctl.h"

#define KEY FU_KEY

static void test_join_registers_every_path_and_reserves(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000001"));
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(fu_keys_of(l, k, 16), 4); /* 2 nodes x 2 paths */
		assert_true(fu_lu_has(l, KEY(1, 1)));
		assert_true(fu_lu_has(l, KEY(2, 1)));
	}
	const char *a[] = {"persist",    "--initiator", "iqn.2026-11.io.prkit.test:reader",
	                   "-n",         "-i",          "-r",
	                   fu_url[1][1], NULL};
	assert_int_equal(h_prkit(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), a), 0);
	assert_non_null(strstr(fu_out, "type: Write Exclusive, registrants only"));
	/* status / list as fence agents report them */
	assert_int_equal(fu_fence("n1", "status", "n2"), 0);
	assert_non_null(strstr(fu_out, "Status: ON"));
	assert_int_equal(fu_fence("n1", "list", NULL), 0);
	assert_non_null(strstr(fu_out, "n1,\n"));
	assert_non_null(strstr(fu_out, "n2,\n"));
	assert_int_equal(fu_fence("n1", "status", "n3"), 2);
	assert_non_null(strstr(fu_out, "Status: OFF"));
	assert_int_equal(fu_fence("n1", "check", NULL), 0);
	assert_int_equal(fu_fence("n1", "monitor", NULL), 0);
	/* fencing oneself is refused */
	assert_int_equal(fu_fence("n1", "off", "n1"), 1);
}

/* n2 writes at QD32 over two paths (blocks 0..31); n1 fences it while n1's
 * own I/O (blocks 32..63) goes on. After off returns no write of n2 lands:
 * the blocks read the same before and after n2 goes on trying; n2's
 * library says fenced. n1's I/O was stalled for the fence (through its
 * control socket) and saw no error. */
static void test_fence_writing_node(void **state)
{
	(void)state;
	static struct fu_writer victim, own;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	fu_writer_start(&victim, "n2", KEY(2, 1), 0, true, 0);
	fu_writer_start(&own, "n1", KEY(1, 1), 32, true, 0);
	struct fu_writer *ws[] = {&victim, &own};
	fu_pump(ws, 2, 300);
	assert_true(victim.ok > 0 && own.ok > 0);
	assert_int_equal(fu_fence_while(ws, 2, "n1", "off", "n2", NULL), 0);
	fu_assert_fenced_and_survivor_ok(&victim, &own, ws, 2);
	fu_writer_stop(&victim);
	fu_writer_stop(&own);
	for (int l = 0; l < 2; l++) {
		assert_false(fu_lu_has(l, KEY(2, 1)));
		assert_true(fu_lu_has(l, KEY(1, 1)));
	}
	assert_int_equal(fu_fence("n1", "status", "n2"), 2);
	assert_int_equal(fu_fence("n2", "check", NULL), 2); /* the watchdog would reboot n2 */

	/* n2 comes back: a new incarnation, a new key. */
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000200000002"));
	for (int l = 0; l < 2; l++) {
		assert_true(fu_lu_has(l, KEY(2, 2)));
		assert_false(fu_lu_has(l, KEY(2, 1)));
	}
	assert_int_equal(fu_fence("n1", "status", "n2"), 0);
}

/* Two survivors fence each other at the same moment while a third node
 * writes: the LUs are taken in NAA order and a loser stops at its first
 * RESERVATION CONFLICT, so one wins both LUs; the third node is not
 * touched (no error, its key stays). */
static void test_two_survivors_fence_each_other(void **state)
{
	(void)state;
	static struct fu_writer third;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	fu_writer_start(&third, "n3", KEY(3, 1), 64, true, 0);
	struct fu_writer *ws[] = {&third};
	fu_pump(ws, 1, 200);
	int rc[2];
	fu_fence_both(ws, 1, "n1", "n2", "n2", "n1", rc);
	assert_true((rc[0] == 0) != (rc[1] == 0)); /* exactly one wins */
	int winner = rc[0] == 0 ? 1 : 2, loser = 3 - winner;
	long ok = third.ok;
	fu_pump(ws, 1, 300);
	assert_true(third.ok > ok);
	assert_int_equal(third.fenced, 0);
	assert_int_equal(third.other, 0);
	fu_writer_stop(&third);
	for (int l = 0; l < 2; l++) {
		assert_true(fu_lu_has(l, KEY(winner, 1)));
		assert_false(fu_lu_has(l, KEY(loser, 1)));
		assert_true(fu_lu_has(l, KEY(3, 1)));
	}
}

/* Two survivors fence the same victim at once: the second PREEMPT finds
 * the victim's key gone (RESERVATION CONFLICT). That is not "we were
 * fenced": both must succeed. Three rounds, the victim rejoining each
 * time. Whether the two PREEMPTs really collide is up to timing (the
 * next test makes the collision happen). */
static void test_two_survivors_fence_the_same_victim(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	for (uint32_t round = 1; round <= 3; round++) {
		assert_int_equal(fu_fence("n2", "on", NULL), 0);
		int rc[2];
		fu_fence_both(NULL, 0, "n1", "n2", "n3", "n2", rc);
		assert_int_equal(rc[0], 0);
		assert_int_equal(rc[1], 0);
		for (int l = 0; l < 2; l++) {
			assert_false(fu_lu_has(l, KEY(2, round)));
			assert_true(fu_lu_has(l, KEY(1, 1)));
			assert_true(fu_lu_has(l, KEY(3, 1)));
		}
	}
}

/* The step behind both: a PREEMPT AND ABORT that meets RESERVATION
 * CONFLICT is looked into, deterministically. n3's agent reads nothing
 * more after n1 fenced the victim: its PREEMPT of the victim's key
 * conflicts because the key is gone, which is success (0), not "fenced";
 * once n1 has fenced n3 itself, the same conflict means fenced (1). */
static void test_preempt_conflict_is_looked_into(void **state)
{
	(void)state;
	static struct prk_fence_opts o;
	const char *a[40];
	char msg[512];
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	fu_fence_cmd(a, "n3", "off", "n2", NULL);
	int argc = 0;
	while (a[argc])
		argc++;
	prk_fence_opts_init(&o);
	if (prk_fence_opts_parse_argv(argc, (char **)a, &o, msg, sizeof(msg)))
		fail_msg("options: %s", msg);
	FILE *sink = fopen("/dev/null", "w"); /* its messages would break the TAP stream */
	assert_non_null(sink);
	struct fence_run r = {.o = &o, .out = sink, .err = sink, .tag = 0x84d4, .me = 3};
	struct prk_host_opts ho = {.state_dir = o.state_dir};
	r.h = prk_host_new(&ho, NULL);
	assert_non_null(r.h);
	r.my_key = KEY(3, 1);
	assert_int_equal(prk_fence_open_devices(&r, r.my_key, false), 0);
	struct prk_resv_view v;
	assert_int_equal(prk_mpdev_read_state(r.devs[0], &v, NULL), 0);
	assert_true(prk_fence_has_key(&v, KEY(2, 1)));

	assert_int_equal(fu_fence("n1", "off", "n2"), 0); /* quicker survivor */
	assert_int_equal(prk_fence_preempt(&r, 0, KEY(2, 1)), 0);
	assert_int_equal(fu_fence("n1", "off", "n3"), 0); /* now n3 is fenced */
	assert_int_equal(prk_fence_preempt(&r, 0, KEY(1, 1)), 1);
	assert_true(fu_lu_has(0, KEY(1, 1)));
	for (size_t i = 0; i < r.n; i++)
		prk_mpdev_free(r.devs[i]);
	prk_host_free(r.h);
	fclose(sink);
}

/* The first member of a new cluster life removes every key that belongs
 * to no current member: a node left out (n3), its own older incarnation,
 * and a key of no cluster at all; current members' keys stay. */
static void test_first_removes_non_members(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	const char *reg[] = {"persist", "--initiator", "iqn.2026-11.io.prkit.test:stranger",
	                     "-n",      "-o",          "-G",
	                     "-S",      "0x77",        fu_url[0][0],
	                     NULL};
	assert_int_equal(h_prkit(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), reg),
	                 0);
	assert_true(fu_lu_has(0, 0x77));
	const char *first[] = {"--first", "--members", "n1,n2", NULL};
	assert_int_equal(fu_fence_more("n1", "on", NULL, first), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000002"));
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(fu_keys_of(l, k, 16), 4); /* n1 and n2, 2 paths each */
		assert_true(fu_lu_has(l, KEY(1, 2)));
		assert_true(fu_lu_has(l, KEY(2, 1)));
		assert_false(fu_lu_has(l, KEY(1, 1)));
		assert_false(fu_lu_has(l, KEY(3, 1)));
		assert_false(fu_lu_has(l, 0x77));
	}
	assert_int_equal(fu_fence("n2", "check", NULL), 0);
	assert_int_equal(fu_fence("n3", "check", NULL), 2);
	/* first without members, or without this node in them, is refused */
	const char *bad[] = {"--first", NULL};
	assert_int_equal(fu_fence_more("n1", "on", NULL, bad), 1);
	assert_non_null(strstr(fu_err, "needs members="));
	const char *bad2[] = {"--first", "--members", "n2", NULL};
	assert_int_equal(fu_fence_more("n1", "on", NULL, bad2), 1);
	assert_non_null(strstr(fu_err, "not in members"));
}

/* A path is down while a node joins: it registers through the live path
 * and succeeds. */
static void test_join_with_a_path_down(void **state)
{
	(void)state;
	char ap[64];
	snprintf(ap, sizeof(ap), "127.0.0.1:%u", fu_daemon.ports[1]);
	const char *a[] = {"remove-portal", ap, NULL};
	int rc = h_cli(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), a);
	if (rc)
		fail_msg("remove-portal: %d %s %s", rc, fu_out, fu_err);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(fu_keys_of(l, k, 16), 1);
		assert_int_equal(k[0], KEY(3, 1));
	}
}

/* Pacemaker's way: no action on the command line, key=value on stdin;
 * metadata as fence-agents print it. */
static void test_stdin_options_and_metadata(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	const char *m[] = {"fence", "-o", "metadata", NULL};
	assert_int_equal(h_prkit(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), m), 0);
	assert_non_null(strstr(fu_out, "<resource-agent name=\"fence_prkit\""));
	assert_non_null(strstr(fu_out, "<action name=\"on\" on_target=\"1\" automatic=\"1\"/>"));
	assert_non_null(strstr(fu_out, "<action name=\"off\""));
	assert_non_null(strstr(fu_out, "<action name=\"status\""));
	assert_non_null(strstr(fu_out, "<action name=\"list\""));

	char in[4096], path[512];
	snprintf(in, sizeof(in),
	         "action=status\nnodename=n1\ndevices=%s %s\nhost_map=" FU_HOSTMAP
	         "\nlocal_node=n2\ninitiator=iqn.2026-11.io.prkit.test:n2\nstate_dir=%s/n2\n",
	         fu_devs[0], fu_devs[1], fu_daemon.dir);
	snprintf(path, sizeof(path), "%s/stdin.txt", fu_daemon.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(in, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s fence < %s > %s/stdin.out 2>&1", PRKIT_PATH, path,
	         fu_daemon.dir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 0);
	snprintf(path, sizeof(path), "%s/stdin.out", fu_daemon.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(fu_out, 1, sizeof(fu_out) - 1, f);
	fu_out[n] = 0;
	fclose(f);
	assert_non_null(strstr(fu_out, "Status: ON"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_join_registers_every_path_and_reserves, fu_setup,
	                                    fu_teardown),
	    cmocka_unit_test_setup_teardown(test_fence_writing_node, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_two_survivors_fence_each_other, fu_setup,
	                                    fu_teardown),
	    cmocka_unit_test_setup_teardown(test_two_survivors_fence_the_same_victim, fu_setup,
	                                    fu_teardown),
	    cmocka_unit_test_setup_teardown(test_preempt_conflict_is_looked_into, fu_setup,
	                                    fu_teardown),
	    cmocka_unit_test_setup_teardown(test_first_removes_non_members, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_join_with_a_path_down, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_options_and_metadata, fu_setup, fu_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
