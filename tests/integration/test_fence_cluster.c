/* `prkit fence` with key_mode=cluster (one cluster-wide key whose
 * generation grows at every membership change) against a real prkitd with
 * two portals and two LUs (fence_util.h).
 *
 * Checked: the first node opens generation 1 and the others join it;
 * fencing a writing node opens the next generation: none of the victim's
 * writes lands afterwards, the fencing node's own I/O moves to the new key
 * with no error (stalled, then re-keyed through its control socket before
 * the old key is preempted), a third member loses its registration until
 * it runs `on`, which re-keys its I/O process too, whose writes were held
 * meanwhile (fenced_hold_ms) and then go through without an error; check/status follow the
 * node's key; list and another node's status are refused; two survivors
 * racing to open the next generation end with exactly one winner on both
 * LUs; `first` opens a new generation and removes every other key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fence_util.h"
#include "prkit/host_ctl.h"

/* The cluster key opened by node `opener` for generation gen. */
#define CKEY FU_KEY

static void test_join_fence_rejoin(void **state)
{
	(void)state;
	static struct fu_writer victim, own, third;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000001"));
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000001"));
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(fu_keys_of(l, k, 16), 6); /* 3 nodes x 2 paths, one key */
		assert_true(fu_lu_only(l, CKEY(1, 1)));
	}
	fu_writer_start(&victim, "n2", CKEY(1, 1), 0, true, 0);
	fu_writer_start(&own, "n1", CKEY(1, 1), 32, true, 0);
	/* n3 holds I/O that meets RESERVATION CONFLICT for up to 20 s,
	 * waiting to be re-keyed (prk_mpdev_opts.fenced_hold_ms) */
	fu_writer_start(&third, "n3", CKEY(1, 1), 64, true, 20000);
	struct fu_writer *ws[] = {&victim, &own, &third};
	fu_pump(ws, 3, 300);
	assert_true(victim.ok > 0 && own.ok > 0 && third.ok > 0);

	assert_int_equal(fu_fence_while(ws, 3, "n1", "off", "n2", NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000002"));
	fu_assert_fenced_and_survivor_ok(&victim, &own, ws, 3);
	/* n1's own I/O moved to the new key */
	assert_true(own.key_changes >= 1);
	assert_true(prk_mpdev_key(own.d) == CKEY(1, 2));
	/* n3 lost its registration with the old generation: its writes are
	 * held, not failed, and none lands ... */
	assert_true(prk_mpdev_is_fenced(third.d));
	long held_ok = third.ok;
	fu_pump(ws, 3, 300);
	assert_int_equal(third.ok, held_ok);
	assert_int_equal(third.fenced, 0);
	assert_int_equal(fu_fence("n3", "check", NULL), 2);
	/* ... and joins the new one with its I/O process */
	assert_int_equal(fu_fence_while(ws, 3, "n3", "on", NULL, NULL), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000002"));
	assert_true(prk_mpdev_key(third.d) == CKEY(1, 2));
	assert_false(prk_mpdev_is_fenced(third.d));
	assert_true(third.stalls >= 1); /* held while it was re-registered */
	assert_int_equal(third.stalls, third.resumes);
	long third_ok = third.ok;
	fu_pump(ws, 3, 300);
	assert_true(third.ok > third_ok);
	assert_int_equal(third.fenced, 0); /* the held writes went through */
	assert_int_equal(third.other, 0);
	fu_writer_stop(&victim);
	fu_writer_stop(&own);
	fu_writer_stop(&third);

	for (int l = 0; l < 2; l++)
		assert_true(fu_lu_only(l, CKEY(1, 2)));
	assert_int_equal(fu_fence("n1", "check", NULL), 0);
	assert_int_equal(fu_fence("n3", "check", NULL), 0);
	assert_int_equal(fu_fence("n2", "check", NULL), 2);
	assert_int_equal(fu_fence("n1", "status", "n1"), 0);
	assert_non_null(strstr(fu_out, "Status: ON"));
	assert_int_equal(fu_fence("n2", "status", "n2"), 2);
	assert_non_null(strstr(fu_out, "Status: OFF"));
	/* the keys do not name nodes: refused, not guessed */
	assert_int_equal(fu_fence("n1", "status", "n2"), 1);
	assert_non_null(strstr(fu_err, "only this node's status"));
	assert_int_equal(fu_fence("n1", "list", NULL), 1);
	assert_non_null(strstr(fu_err, "do not tell which nodes"));
	assert_int_equal(fu_fence("n1", "off", "n1"), 1); /* never oneself */

	/* the victim comes back (Pacemaker unfences it): current generation */
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "check", NULL), 0);
	for (int l = 0; l < 2; l++)
		assert_true(fu_lu_only(l, CKEY(1, 2)));
}

/* Two survivors fence each other at once: each opens generation 2 with
 * its own id in the key, so the keys differ and one removes the other's;
 * the loser stops at its first RESERVATION CONFLICT. One key is left, on
 * both LUs. */
static void test_two_survivors_race(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	int rc[2];
	fu_fence_both(NULL, 0, "n1", "n2", "n2", "n1", rc);
	assert_true((rc[0] == 0) != (rc[1] == 0));
	int winner = rc[0] == 0 ? 1 : 2;
	const char *names[] = {NULL, "n1", "n2"};
	for (int l = 0; l < 2; l++)
		assert_true(fu_lu_only(l, CKEY(winner, 2)));
	assert_int_equal(fu_fence(names[winner], "check", NULL), 0);
	assert_int_equal(fu_fence(names[3 - winner], "check", NULL), 2);
}

/* The first member of a new cluster life opens a new generation and
 * removes every other key: the previous generation's and a stranger's. */
static void test_first_opens_a_generation(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	const char *reg[] = {"persist", "--initiator", "iqn.2026-11.io.prkit.test:stranger",
	                     "-n",      "-o",          "-G",
	                     "-S",      "0x77",        fu_url[1][1],
	                     NULL};
	assert_int_equal(h_prkit(&fu_daemon, fu_out, sizeof(fu_out), fu_err, sizeof(fu_err), reg),
	                 0);
	const char *first[] = {"--first", NULL};
	assert_int_equal(fu_fence_more("n1", "on", NULL, first), 0);
	assert_non_null(strstr(fu_out, "0x84d4000100000002"));
	for (int l = 0; l < 2; l++) {
		uint64_t k[16];
		assert_int_equal(fu_keys_of(l, k, 16), 2); /* n1's two paths */
		assert_true(fu_lu_only(l, CKEY(1, 2)));
	}
	assert_int_equal(fu_fence("n2", "check", NULL), 2);
}

/* An off that stopped half-way (here: run with one LU only) leaves the
 * LUs on different keys: the new key on one, the old one on the other.
 * The next off takes the old key of each LU from our own nexuses there,
 * so it goes through on both (it used to take it from the state file and
 * call itself fenced on the LU it had not reached). */
static void test_off_after_a_partial_run(void **state)
{
	(void)state;
	assert_int_equal(fu_fence("n1", "on", NULL), 0);
	assert_int_equal(fu_fence("n2", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	fu_n_devs = 1;
	int rc = fu_fence("n1", "off", "n2");
	fu_n_devs = 2;
	assert_int_equal(rc, 0);
	assert_true(fu_lu_only(0, CKEY(1, 2)));
	assert_true(fu_lu_only(1, CKEY(1, 1)));
	assert_int_equal(fu_fence("n3", "on", NULL), 1); /* the LUs disagree: refused */
	assert_non_null(strstr(fu_err, "cluster key"));
	assert_int_equal(fu_fence("n1", "off", "n2"), 0);
	for (int l = 0; l < 2; l++)
		assert_true(fu_lu_only(l, CKEY(1, 3)));
	assert_int_equal(fu_fence("n3", "on", NULL), 0);
	assert_int_equal(fu_fence("n3", "check", NULL), 0);
	assert_int_equal(fu_fence("n2", "check", NULL), 2);
}

int main(void)
{
	fu_extra[0] = "--key-mode";
	fu_extra[1] = "cluster";
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_join_fence_rejoin, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_two_survivors_race, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_first_opens_a_generation, fu_setup, fu_teardown),
	    cmocka_unit_test_setup_teardown(test_off_after_a_partial_run, fu_setup, fu_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
