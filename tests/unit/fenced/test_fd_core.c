/* The decisions of prkit fenced (fd_core.c): scenarios on a small
 * synchronous cluster (fd_sc.h), then a property test on a simulated
 * cluster with partitions, kills and restarts (fd_sim.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fd_core.h"
#include "fd_sc.h"
#include "fd_sim.h"

static struct sc S;

static void kill_node(struct sc *s, int id)
{
	s->alive[id] = false;
	uint16_t ids[SC_MAX];
	size_t n = 0;
	for (size_t i = 0; i < s->n_view; i++)
		if (s->view[i] != id)
			ids[n++] = s->view[i];
	sc_view(s, ids, n);
}

static void test_all_joined_running(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	for (int id = 1; id <= 3; id++) {
		assert_int_equal(S.c[id].state, PRK_FD_RUNNING);
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_JOIN), 1);
		assert_int_equal(prk_fdc_executor(&S.c[id]), 1);
		assert_true(prk_fdc_may_act(&S.c[id]));
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_STALL), 0);
	}
}

/* A killed node: both survivors stall and say so; the executor fences only
 * once both STALLED arrived; FENCED releases everyone. */
static void test_killed_node_fenced_after_acks(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	S.hold_stall[2] = true;
	kill_node(&S, 3);
	for (int id = 1; id <= 2; id++) {
		assert_int_equal(S.c[id].state, PRK_FD_FENCING);
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_STALL), 1);
		assert_int_equal(S.c[id].n_pending, 1);
	}
	/* Node 2's stall is not yet in place: no STALLED from it, no FENCE. */
	assert_false(S.fence_asked[1]);
	S.now += 100;
	sc_tick(&S, S.now);
	assert_false(S.fence_asked[1]);
	prk_fdc_stall_done(&S.c[2], S.now);
	sc_pump(&S);
	assert_true(S.fence_asked[1]);
	assert_false(S.fence_asked[2]);
	assert_int_equal(S.fence[1].n_victims, 1);
	assert_int_equal(S.fence[1].victims[0], 3);
	assert_int_equal(sc_count(&S, 1, PRK_FD_ACT_RESUME), 0);

	S.now += 40;
	prk_fdc_fence_done(&S.c[1], true, false, 0, S.now);
	sc_pump(&S);
	for (int id = 1; id <= 2; id++) {
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_RESUME), 1);
		assert_int_equal(S.c[id].state, PRK_FD_RUNNING);
		assert_int_equal(S.c[id].n_pending, 0);
		assert_true(S.c[id].last.valid);
		assert_int_equal(S.c[id].last.executor, 1);
		assert_int_equal(S.c[id].last.victims[0], 3);
		assert_int_equal(S.c[id].last.resumed_ms, S.now);
	}
	assert_int_equal(S.c[1].last.changed_ms, 1000);
	assert_int_equal(S.c[2].last.stalled_ms, 1100);
}

/* A member whose STALLED never comes: the executor fences when the ack
 * time is up, not before. */
static void test_executor_fences_after_ack_timeout(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	S.hold_stall[2] = true;
	kill_node(&S, 3);
	sc_tick(&S, 1000 + 499);
	assert_false(S.fence_asked[1]);
	sc_tick(&S, 1000 + 500);
	assert_true(S.fence_asked[1]);
}

/* The executor dies with its FENCE unanswered: the next lowest fences the
 * union of what is pending, after its own round of acks. */
static void test_executor_dies_midway(void **state)
{
	(void)state;
	sc_up(&S, 5, false);
	kill_node(&S, 5);
	assert_true(S.fence_asked[1]);
	sc_clear_logs(&S);
	kill_node(&S, 1);
	for (int id = 2; id <= 4; id++) {
		assert_int_equal(prk_fdc_executor(&S.c[id]), 2);
		assert_int_equal(S.c[id].n_pending, 2);
	}
	assert_true(S.fence_asked[2]);
	assert_int_equal(S.fence[2].n_victims, 2);
	uint16_t v0 = S.fence[2].victims[0], v1 = S.fence[2].victims[1];
	assert_true((v0 == 5 && v1 == 1) || (v0 == 1 && v1 == 5));
	prk_fdc_fence_done(&S.c[2], true, false, 0, S.now);
	sc_pump(&S);
	for (int id = 2; id <= 4; id++) {
		assert_int_equal(S.c[id].state, PRK_FD_RUNNING);
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_RESUME), 1);
	}
}

/* An orderly shutdown: LEAVE first, then the departure: no fencing. */
static void test_leave_is_not_fenced(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	prk_fdc_shutdown(&S.c[3], S.now);
	sc_pump(&S);
	assert_int_equal(S.c[3].state, PRK_FD_STOPPING);
	kill_node(&S, 3);
	for (int id = 1; id <= 2; id++) {
		assert_int_equal(S.c[id].n_pending, 0);
		assert_int_equal(sc_count(&S, id, PRK_FD_ACT_STALL), 0);
		assert_int_equal(S.c[id].state, PRK_FD_RUNNING);
	}
	assert_false(S.fence_asked[1]);
}

/* Quorum lost: STALL at once, FAIL when self_fence_ms is up, not before. */
static void test_quorum_lost_self_fences(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	prk_fdc_quorum(&S.c[3], false, S.now);
	sc_pump(&S);
	assert_int_equal(S.c[3].state, PRK_FD_INQUORATE);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_STALL), 1);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_FAIL), 0);
	sc_tick(&S, 1000 + 1999);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_FAIL), 0);
	sc_tick(&S, 1000 + 2000);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_FAIL), 1);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_WATCHDOG_OFF), 1);
	assert_int_equal(S.c[3].state, PRK_FD_SELF_FENCED);
	assert_non_null(strstr(S.c[3].self_fence_reason, "no quorum for 2000 ms"));
	long f = sc_pos(&S, 3, PRK_FD_ACT_FAIL, 0);
	assert_non_null(strstr(S.log[3][f].act.why, "no quorum"));
}

/* Quorum back in time: CHECK first; a good check resumes, a bad one
 * self-fences. */
static void test_quorum_back_in_time(void **state)
{
	(void)state;
	for (int bad = 0; bad <= 1; bad++) {
		sc_up(&S, 3, false);
		sc_clear_logs(&S);
		prk_fdc_quorum(&S.c[3], false, S.now);
		sc_pump(&S);
		sc_tick(&S, 1000 + 1500);
		size_t checks = sc_count(&S, 3, PRK_FD_ACT_CHECK);
		S.check_bad[3] = bad;
		prk_fdc_quorum(&S.c[3], true, S.now);
		sc_pump(&S);
		assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_CHECK), checks + 1);
		if (bad) {
			assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_RESUME), 0);
			assert_int_equal(S.c[3].state, PRK_FD_SELF_FENCED);
			assert_non_null(strstr(S.c[3].self_fence_reason, "key on 0 of 3 LUs"));
		} else {
			assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_RESUME), 1);
			assert_true(sc_pos(&S, 3, PRK_FD_ACT_CHECK, checks) <
			            sc_pos(&S, 3, PRK_FD_ACT_RESUME, 0));
			assert_int_equal(S.c[3].state, PRK_FD_RUNNING);
			sc_tick(&S, 1000 + 5000);
			assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_FAIL), 0);
		}
	}
}

/* A view with a minority of the configured nodes never fences, even while
 * votequorum's news is late and it still says quorate; the view alone
 * makes it inquorate, and the deadline self-fences it. */
static void test_minority_never_fences(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	/* Node 3 alone; nodes 1 and 2 do not hear from it (not in its view). */
	uint16_t only3[] = {3};
	S.view[0] = 3;
	S.n_view = 1;
	prk_fdc_confchg(&S.c[3], only3, 1, S.now);
	sc_pump(&S);
	assert_true(S.c[3].quorate);
	assert_int_equal(S.c[3].n_pending, 2);
	assert_int_equal(prk_fdc_executor(&S.c[3]), 3);
	assert_false(prk_fdc_may_act(&S.c[3]));
	assert_int_equal(S.c[3].state, PRK_FD_INQUORATE);
	for (uint64_t t = 1000; t <= 1000 + 3000; t += 100)
		sc_tick(&S, t);
	assert_false(S.fence_asked[3]);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_FENCE), 0);
	assert_int_equal(S.c[3].state, PRK_FD_SELF_FENCED);
}

static void test_check_failure_self_fences(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	sc_clear_logs(&S);
	S.check_bad[2] = true;
	sc_tick(&S, 1000 + 999);
	assert_int_equal(sc_count(&S, 2, PRK_FD_ACT_CHECK), 0);
	sc_tick(&S, 1000 + 1000);
	assert_int_equal(sc_count(&S, 2, PRK_FD_ACT_CHECK), 1);
	assert_int_equal(sc_count(&S, 2, PRK_FD_ACT_FAIL), 1);
	assert_int_equal(S.c[2].state, PRK_FD_SELF_FENCED);
	/* It told the others: it can no longer be the executor. */
	assert_false(S.c[1].members[1].joined);
	assert_int_equal(sc_count(&S, 1, PRK_FD_ACT_FAIL), 0);
	assert_int_equal(sc_count(&S, 1, PRK_FD_ACT_CHECK), 1);
}

/* Cluster-key mode: FENCED carries the new key; every other member
 * adopts it before its I/O resumes. */
static void test_cluster_key_adopt_before_resume(void **state)
{
	(void)state;
	sc_up(&S, 3, true);
	sc_clear_logs(&S);
	kill_node(&S, 3);
	assert_true(S.fence_asked[1]);
	prk_fdc_fence_done(&S.c[1], true, false, 0xc0ffee0000000002ull, S.now);
	sc_pump(&S);
	assert_int_equal(sc_count(&S, 1, PRK_FD_ACT_ADOPT), 0);
	assert_int_equal(S.c[1].key, 0xc0ffee0000000002ull);
	long adopt = sc_pos(&S, 2, PRK_FD_ACT_ADOPT, 0);
	assert_true(adopt >= 0);
	assert_int_equal(S.log[2][adopt].act.key, 0xc0ffee0000000002ull);
	assert_true(adopt < sc_pos(&S, 2, PRK_FD_ACT_RESUME, 0));
	assert_int_equal(S.c[2].key, 0xc0ffee0000000002ull);
	assert_int_equal(S.c[2].state, PRK_FD_RUNNING);
}

/* A node still joining when a victim appears neither stalls nor is waited
 * for. */
static void test_joining_node_not_waited_for(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	/* Node 3 restarts and stays in JOIN. */
	kill_node(&S, 3);
	prk_fdc_fence_done(&S.c[1], true, false, 0, S.now);
	sc_pump(&S);
	struct prk_fd_core_cfg cfg = sc_cfg(3, 3);
	prk_fdc_init(&S.c[3], &cfg);
	S.alive[3] = true;
	S.hold_join[3] = true;
	uint16_t all[] = {1, 2, 3};
	sc_view(&S, all, 3);
	prk_fdc_quorum(&S.c[3], true, S.now);
	sc_pump(&S);
	assert_int_equal(S.c[3].state, PRK_FD_JOINING);
	sc_clear_logs(&S);
	S.now += 10;
	kill_node(&S, 2);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_STALL), 0);
	assert_int_equal(sc_count(&S, 1, PRK_FD_ACT_STALL), 1);
	/* No ack time was spent waiting for node 3. */
	assert_true(S.fence_asked[1]);
	prk_fdc_fence_done(&S.c[1], true, false, 0, S.now);
	sc_pump(&S);
	assert_int_equal(sc_count(&S, 3, PRK_FD_ACT_RESUME), 0);
	assert_int_equal(S.c[3].n_pending, 0);
}

/* SELF_FENCED is final: nothing brings back I/O, joins or fences. */
static void test_self_fenced_is_final(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	S.check_bad[1] = true;
	sc_tick(&S, 2000);
	assert_int_equal(S.c[1].state, PRK_FD_SELF_FENCED);
	sc_clear_logs(&S);
	S.check_bad[1] = false;
	prk_fdc_quorum(&S.c[1], false, S.now);
	prk_fdc_quorum(&S.c[1], true, S.now);
	kill_node(&S, 3);
	prk_fdc_check_done(&S.c[1], true, "", S.now);
	prk_fdc_join_done(&S.c[1], true, 5, S.now);
	prk_fdc_stall_done(&S.c[1], S.now);
	sc_tick(&S, 9000);
	assert_int_equal(S.c[1].state, PRK_FD_SELF_FENCED);
	const enum prk_fd_act_kind never[] = {PRK_FD_ACT_STALL, PRK_FD_ACT_RESUME, PRK_FD_ACT_JOIN,
	                                      PRK_FD_ACT_FENCE, PRK_FD_ACT_CHECK,  PRK_FD_ACT_FAIL};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		assert_int_equal(sc_count(&S, 1, never[i]), 0);
	/* Node 2 became the executor and fenced node 3 without node 1. */
	assert_int_equal(prk_fdc_executor(&S.c[2]), 2);
	assert_true(S.fence_asked[2]);
}

/* Lost the race: FENCED LOST goes out, then the node self-fences. */
static void test_lost_race_self_fences(void **state)
{
	(void)state;
	sc_up(&S, 3, false);
	kill_node(&S, 3);
	assert_true(S.fence_asked[1]);
	sc_clear_logs(&S);
	prk_fdc_fence_done(&S.c[1], false, true, 0, S.now);
	sc_pump(&S);
	assert_int_equal(S.c[1].state, PRK_FD_SELF_FENCED);
	assert_true(sc_sent(&S, 1, PRK_FD_MSG_FENCED, 0) < sc_pos(&S, 1, PRK_FD_ACT_FAIL, 0));
	/* Node 2 still waits for node 3 and takes over as executor. */
	assert_int_equal(S.c[2].n_pending, 1);
	assert_int_equal(sc_count(&S, 2, PRK_FD_ACT_RESUME), 0);
	assert_int_equal(prk_fdc_executor(&S.c[2]), 2);
}

/* Drives one core (node 2 of 5) by hand: all joined and quorate. */
static void one_core_up(struct prk_fd_core *c)
{
	struct prk_fd_core_cfg cfg = sc_cfg(2, 5);
	prk_fdc_init(c, &cfg);
	uint16_t all[] = {1, 2, 3, 4, 5};
	prk_fdc_confchg(c, all, 5, 1000);
	prk_fdc_quorum(c, true, 1000);
	prk_fdc_join_done(c, true, 0x2001, 1000);
	for (uint16_t id = 1; id <= 5; id++) {
		struct prk_fd_msg h = {.type = PRK_FD_MSG_HELLO,
		                       .nodeid = id,
		                       .joined = true,
		                       .key = 0x1000u * id + 1};
		prk_fdc_deliver(c, id, &h, 1000);
	}
}

static size_t drain_count(struct prk_fd_core *c, enum prk_fd_act_kind k)
{
	size_t n = 0;
	struct prk_fd_act a;
	while (prk_fdc_next_act(c, &a))
		n += a.kind == k;
	return n;
}

/* A FENCED names node ids. One that was under way while its victim came
 * back, joined and left again arrives after the second departure: it must
 * not release the new life, which that FENCE may have missed. Only a
 * FENCED whose sender's STALLED covered the set since it last grew
 * counts. */
static void test_stale_fenced_does_not_release(void **state)
{
	(void)state;
	static struct prk_fd_core c;
	one_core_up(&c);
	uint16_t four[] = {1, 2, 3, 4}, all[] = {1, 2, 3, 4, 5};
	prk_fdc_confchg(&c, four, 4, 2000);
	prk_fdc_stall_done(&c, 2000);
	struct prk_fd_msg st = {.type = PRK_FD_MSG_STALLED, .nodeid = 1, .n_victims = 1};
	st.victims[0] = 5;
	prk_fdc_deliver(&c, 1, &st, 2000);
	/* Node 5 comes back (a new life), joins, and dies again. */
	prk_fdc_confchg(&c, all, 5, 2100);
	struct prk_fd_msg h = {
	    .type = PRK_FD_MSG_HELLO, .nodeid = 5, .joined = true, .key = 0x5002};
	prk_fdc_deliver(&c, 5, &h, 2100);
	prk_fdc_confchg(&c, four, 4, 2200);
	drain_count(&c, PRK_FD_ACT_LOG);
	assert_int_equal(c.n_pending, 1);
	/* The first FENCE's news comes only now. */
	struct prk_fd_msg f = {.type = PRK_FD_MSG_FENCED, .nodeid = 1, .n_victims = 1};
	f.victims[0] = 5;
	prk_fdc_deliver(&c, 1, &f, 2300);
	assert_int_equal(c.n_pending, 1);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_RESUME), 0);
	/* Node 1 acknowledges the new set and fences again: released. */
	prk_fdc_deliver(&c, 1, &st, 2400);
	prk_fdc_deliver(&c, 1, &f, 2500);
	assert_int_equal(c.n_pending, 0);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_RESUME), 1);
	assert_int_equal(c.state, PRK_FD_RUNNING);
}

/* A node entering the view joins only after every member said HELLO: a
 * member still busy with a FENCE naming it says so only afterwards. */
static void test_join_waits_for_every_hello(void **state)
{
	(void)state;
	static struct prk_fd_core c;
	struct prk_fd_core_cfg cfg = sc_cfg(3, 3);
	prk_fdc_init(&c, &cfg);
	uint16_t all[] = {1, 2, 3};
	prk_fdc_confchg(&c, all, 3, 1000);
	prk_fdc_quorum(&c, true, 1000);
	struct prk_fd_msg h = {.type = PRK_FD_MSG_HELLO, .nodeid = 3};
	prk_fdc_deliver(&c, 3, &h, 1000);
	h.nodeid = 2;
	h.joined = true;
	prk_fdc_deliver(&c, 2, &h, 1000);
	prk_fdc_tick(&c, 1100);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_JOIN), 0);
	assert_int_equal(c.state, PRK_FD_STARTING);
	h.nodeid = 1;
	prk_fdc_deliver(&c, 1, &h, 1200);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_JOIN), 1);
	assert_int_equal(c.state, PRK_FD_JOINING);
}

/* A node does not join while it knows of an unfenced victim: that victim
 * may be fencing it by node id right now (in a two-node split, a key
 * registered behind the other side's FENCE would split the LUs). */
static void test_no_join_while_pending(void **state)
{
	(void)state;
	static struct prk_fd_core c;
	struct prk_fd_core_cfg cfg = sc_cfg(3, 3);
	prk_fdc_init(&c, &cfg);
	uint16_t all[] = {1, 2, 3}, two[] = {2, 3};
	prk_fdc_confchg(&c, all, 3, 1000);
	prk_fdc_quorum(&c, true, 1000);
	prk_fdc_confchg(&c, two, 2, 1000);
	struct prk_fd_msg h = {.type = PRK_FD_MSG_HELLO, .nodeid = 3};
	prk_fdc_deliver(&c, 3, &h, 1000);
	h.nodeid = 2;
	h.joined = true;
	prk_fdc_deliver(&c, 2, &h, 1000);
	prk_fdc_tick(&c, 1100);
	assert_int_equal(c.n_pending, 1);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_JOIN), 0);
	struct prk_fd_msg st = {.type = PRK_FD_MSG_STALLED, .nodeid = 2, .n_victims = 1};
	st.victims[0] = 1;
	prk_fdc_deliver(&c, 2, &st, 1200);
	struct prk_fd_msg f = {.type = PRK_FD_MSG_FENCED, .nodeid = 2, .n_victims = 1};
	f.victims[0] = 1;
	prk_fdc_deliver(&c, 2, &f, 1300);
	assert_int_equal(c.n_pending, 0);
	assert_int_equal(drain_count(&c, PRK_FD_ACT_JOIN), 1);
	/* Never joined, so nothing was stalled or resumed. */
	assert_false(c.stalled_local);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(prk_fd_state_name(PRK_FD_SELF_FENCED), "self_fenced");
	assert_string_equal(prk_fd_act_name(PRK_FD_ACT_WATCHDOG_OFF), "WATCHDOG_OFF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_names),
	                                   cmocka_unit_test(test_all_joined_running),
	                                   cmocka_unit_test(test_killed_node_fenced_after_acks),
	                                   cmocka_unit_test(test_executor_fences_after_ack_timeout),
	                                   cmocka_unit_test(test_executor_dies_midway),
	                                   cmocka_unit_test(test_leave_is_not_fenced),
	                                   cmocka_unit_test(test_quorum_lost_self_fences),
	                                   cmocka_unit_test(test_quorum_back_in_time),
	                                   cmocka_unit_test(test_minority_never_fences),
	                                   cmocka_unit_test(test_check_failure_self_fences),
	                                   cmocka_unit_test(test_cluster_key_adopt_before_resume),
	                                   cmocka_unit_test(test_joining_node_not_waited_for),
	                                   cmocka_unit_test(test_self_fenced_is_final),
	                                   cmocka_unit_test(test_lost_race_self_fences),
	                                   cmocka_unit_test(test_stale_fenced_does_not_release),
	                                   cmocka_unit_test(test_join_waits_for_every_hello),
	                                   cmocka_unit_test(test_no_join_while_pending),
	                                   FD_SIM_TESTS};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
