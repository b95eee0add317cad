/* The Corosync adapter's own logic against a scripted corosync
 * (fake_corosync.c): the send queue keeps order and its bound, closing from
 * a callback is safe, a lost connection is reported and reconnected, only
 * quorum and link changes are reported, members arrive sorted. The real
 * corosync is exercised by tests/cluster/test_cs.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cs.h"
#include "fake_corosync.h"
#include "loop.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct seen {
	struct prk_cs *cs;
	int delivers, downs, quorums, confchgs;
	bool last_quorate;
	struct prk_cs_member members[8];
	size_t n_members;
	int links;
	uint32_t link_node;
	unsigned link_no;
	bool link_up;
	bool close_in_deliver;
	int lefts, lefts_node_down;
	int confchgs_at_left; /* confchgs seen when the last left came */
	int rings;
	size_t ring_n;
	uint32_t ring_first;
};

static void cb_deliver(void *arg, uint32_t nodeid, uint32_t pid, const uint8_t *msg, size_t len)
{
	struct seen *s = arg;
	(void)nodeid;
	(void)pid;
	(void)msg;
	(void)len;
	s->delivers++;
	if (s->close_in_deliver)
		prk_cs_close(s->cs);
}

static void cb_confchg(void *arg, const struct prk_cs_member *m, size_t n)
{
	struct seen *s = arg;
	s->confchgs++;
	s->n_members = n < 8 ? n : 8;
	memcpy(s->members, m, s->n_members * sizeof(*m));
}

static void cb_quorum(void *arg, bool q)
{
	struct seen *s = arg;
	s->quorums++;
	s->last_quorate = q;
}

static void cb_link(void *arg, uint32_t nodeid, unsigned link_no, bool up)
{
	struct seen *s = arg;
	s->links++;
	s->link_node = nodeid;
	s->link_no = link_no;
	s->link_up = up;
}

static void cb_down(void *arg)
{
	struct seen *s = arg;
	s->downs++;
}

static void cb_left(void *arg, uint32_t nodeid, uint32_t pid, bool node_down)
{
	struct seen *s = arg;
	(void)nodeid;
	(void)pid;
	s->lefts++;
	s->lefts_node_down += node_down;
	s->confchgs_at_left = s->confchgs;
}

static void cb_ring(void *arg, const uint32_t *nodes, size_t n)
{
	struct seen *s = arg;
	s->rings++;
	s->ring_n = n;
	s->ring_first = n ? nodes[0] : 0;
}

static const struct prk_cs_ops ops = {cb_deliver, cb_confchg, cb_quorum, cb_link,
                                      cb_down,    cb_left,    cb_ring};

/* Runs the loop until cond(arg) holds (checked every 2 ms) or max_ms has
 * passed. A loop runs once, so each test makes its own. */
struct run {
	struct prk_loop *l;
	bool (*cond)(void *arg);
	void *arg;
	struct timespec t0;
	unsigned max_ms;
	bool met;
};

static void run_step(void *arg)
{
	struct run *r = arg;
	struct timespec t;
	if (r->cond && r->cond(r->arg)) {
		r->met = true;
		prk_loop_stop(r->l);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	if ((t.tv_sec - r->t0.tv_sec) * 1000 + (t.tv_nsec - r->t0.tv_nsec) / 1000000 >=
	    (long)r->max_ms)
		prk_loop_stop(r->l);
}

static bool run_until(struct prk_loop *l, bool (*cond)(void *), void *arg, unsigned max_ms)
{
	struct run r = {.l = l, .cond = cond, .arg = arg, .max_ms = max_ms};
	struct prk_loop_fd *t;
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	t = prk_loop_timer(l, 2, run_step, &r);
	assert_non_null(t);
	assert_int_equal(prk_loop_run(l), 0);
	prk_loop_del(l, t);
	return r.met;
}

static int setup(void **state)
{
	(void)state;
	fake_reset();
	return 0;
}

static struct prk_cs *open_ok(struct prk_loop *l, struct seen *s)
{
	char err[256] = "";
	struct prk_cs *c = prk_cs_open(l, "prkit-test", &ops, s, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(fake.group, "prkit-test");
	s->cs = c;
	return c;
}

static void test_open_refused_names_the_cause(void **state)
{
	struct prk_loop *l = prk_loop_new();
	char err[256] = "";
	(void)state;
	fake.refuse_connect = true;
	assert_null(prk_cs_open(l, "prkit-test", &ops, NULL, err, sizeof(err)));
	assert_string_equal(err, "cannot connect to corosync (is it running?): CS_ERR_LIBRARY");
	assert_null(prk_cs_open(l, "", &ops, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "group name"));
	prk_loop_free(l);
}

/* Corosync answers "try again" to a join while it synchronises: a short
 * one is waited out; a long one fails the attempt with the cause named and
 * leaves nothing connected. */
static void test_join_try_again(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	char err[256] = "";
	(void)state;
	fake.join_try_again = 3;
	struct prk_cs *c = open_ok(l, &s);
	assert_int_equal(fake.join_calls, 4);
	prk_cs_close(c);
	fake_reset();
	fake.join_try_again = 1000;
	assert_null(prk_cs_open(l, "prkit-test", &ops, &s, err, sizeof(err)));
	assert_string_equal(err, "cannot join CPG group prkit-test: CS_ERR_TRY_AGAIN");
	assert_false(fake.connected);
	prk_loop_free(l);
}

static void test_info_sorted_nodelist(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	struct prk_cs_info info;
	(void)state;
	fake.local_nodeid = 2;
	fake.qdevice = true;
	struct prk_cs *c = open_ok(l, &s);
	assert_int_equal(prk_cs_info(c, &info), 0);
	assert_int_equal(info.local_nodeid, 2);
	assert_int_equal(info.n_nodes, 3);
	assert_int_equal(info.nodes[0], 1);
	assert_int_equal(info.nodes[1], 2);
	assert_int_equal(info.nodes[2], 3);
	assert_true(info.qdevice);
	assert_int_equal(info.expected_votes, 3);
	prk_cs_close(c);
	prk_loop_free(l);
}

static bool sent3(void *arg)
{
	(void)arg;
	return fake.n_sent == 3;
}

/* Corosync pushes back on the first message: it and everything sent after
 * it wait in the queue, and go out in the order they were sent. */
static void test_try_again_queues_in_order(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	fake.try_again = 2; /* the first send and the first retry */
	assert_int_equal(prk_cs_send(c, "m0", 2), 0);
	assert_int_equal(prk_cs_send(c, "m1", 2), 0);
	assert_int_equal(prk_cs_send(c, "m2", 2), 0);
	assert_int_equal(fake.n_sent, 0);
	assert_int_equal(prk_cs_queued(c), 6);
	assert_true(run_until(l, sent3, NULL, 1000));
	assert_string_equal(fake.sent[0], "m0");
	assert_string_equal(fake.sent[1], "m1");
	assert_string_equal(fake.sent[2], "m2");
	assert_int_equal(prk_cs_queued(c), 0);
	/* Drained: the next send goes straight out again. */
	assert_int_equal(prk_cs_send(c, "m3", 2), 0);
	assert_int_equal(fake.n_sent, 4);
	prk_cs_close(c);
	prk_loop_free(l);
}

static void test_queue_bounded(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	size_t mib = (size_t)1 << 20;
	char *buf = calloc(1, mib);
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	fake.try_again = INT_MAX;
	for (int i = 0; i < 64; i++)
		assert_int_equal(prk_cs_send(c, buf, mib), 0);
	assert_int_equal(prk_cs_queued(c), PRK_CS_QUEUE_MAX);
	assert_int_equal(prk_cs_send(c, buf, 1), -1);
	assert_int_equal(prk_cs_queued(c), PRK_CS_QUEUE_MAX);
	free(buf);
	prk_cs_close(c); /* frees the queue (ASan would see a leak) */
	prk_loop_free(l);
}

static void deliver_twice(cpg_handle_t h)
{
	struct cpg_name g = {.length = 1, .value = "g"};
	fake.model.cpg_deliver_fn(h, &g, 1, 10, "x", 1);
	fake.model.cpg_deliver_fn(h, &g, 1, 10, "y", 1);
}

static bool dispatched(void *arg)
{
	(void)arg;
	return fake.dispatch_calls > 0;
}

/* The layer above may close the adapter from inside a delivery: nothing
 * more is delivered and the memory is freed after the dispatch returns. */
static void test_close_inside_deliver(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {.close_in_deliver = true};
	(void)state;
	open_ok(l, &s);
	fake.on_dispatch = deliver_twice;
	fake_kick_cpg();
	assert_true(run_until(l, dispatched, NULL, 1000));
	assert_int_equal(s.delivers, 1);
	assert_int_equal(fake.finalize_calls, 1);
	prk_loop_free(l);
}

static void confchg_unsorted(cpg_handle_t h)
{
	struct cpg_name g = {.length = 1, .value = "g"};
	struct cpg_address m[4] = {{3, 10, 0}, {1, 20, 0}, {2, 5, 0}, {1, 7, 0}};
	fake.model.cpg_confchg_fn(h, &g, m, 4, NULL, 0, NULL, 0);
}

static bool got_confchg(void *arg)
{
	return ((struct seen *)arg)->confchgs > 0;
}

static void test_confchg_members_sorted(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	fake.on_dispatch = confchg_unsorted;
	fake_kick_cpg();
	assert_true(run_until(l, got_confchg, &s, 1000));
	assert_int_equal(s.n_members, 4);
	const uint32_t want[4][2] = {{1, 7}, {1, 20}, {2, 5}, {3, 10}};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s.members[i].nodeid, want[i][0]);
		assert_int_equal(s.members[i].pid, want[i][1]);
	}
	prk_cs_close(c);
	prk_loop_free(l);
}

/* Node 3 was lost, node 2's process ended: two lefts, one a node
 * failure, both reported before the configuration change. */
static void confchg_with_left(cpg_handle_t h)
{
	struct cpg_name g = {.length = 1, .value = "g"};
	struct cpg_address m[1] = {{1, 7, 0}};
	struct cpg_address left[2] = {{3, 10, CPG_REASON_NODEDOWN}, {2, 5, CPG_REASON_PROCDOWN}};
	fake.model.cpg_confchg_fn(h, &g, m, 1, left, 2, NULL, 0);
}

static void test_left_reasons(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	fake.on_dispatch = confchg_with_left;
	fake_kick_cpg();
	assert_true(run_until(l, got_confchg, &s, 1000));
	assert_int_equal(s.lefts, 2);
	assert_int_equal(s.lefts_node_down, 1);
	assert_int_equal(s.confchgs_at_left, 0);
	prk_cs_close(c);
	prk_loop_free(l);
}

static void totem_change(cpg_handle_t h)
{
	struct cpg_ring_id id = {.nodeid = 1, .seq = 8};
	uint32_t nodes[2] = {1, 2};
	fake.model.cpg_totem_confchg_fn(h, id, 2, nodes);
}

static bool got_ring(void *arg)
{
	return ((struct seen *)arg)->rings > 0;
}

/* The totem ring (every Corosync node of the partition, daemon or not) is
 * asked for from the start and handed on: prkit fenced counts it before it
 * may fence. */
static void test_ring_reported(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	assert_true(fake.model.flags & CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF);
	assert_non_null(fake.model.cpg_totem_confchg_fn);
	fake.on_dispatch = totem_change;
	fake_kick_cpg();
	assert_true(run_until(l, got_ring, &s, 1000));
	assert_int_equal(s.ring_n, 2);
	assert_int_equal(s.ring_first, 1);
	prk_cs_close(c);
	prk_loop_free(l);
}

static void kick_vq(void)
{
	uint64_t one = 1;
	assert_int_equal(write(fake.vq_efd, &one, sizeof(one)), sizeof(one));
}

struct flip_state {
	struct seen *s;
	int phase, steps;
	int quorums_after_repeat;
};

/* Phase 0: the state at connect arrives; 1: the same state notified again
 * (20 steps to be handled); 2: a real change. */
static bool quorums_then_flip(void *arg)
{
	struct flip_state *f = arg;
	if (f->phase == 0 && f->s->quorums == 1) {
		f->phase = 1;
		kick_vq();
	} else if (f->phase == 1 && ++f->steps == 20) {
		f->quorums_after_repeat = f->s->quorums;
		f->phase = 2;
		fake.quorate = 0;
		kick_vq();
	}
	return f->phase == 2 && f->s->quorums >= 2;
}

/* The state at connect is reported; a notification that changes nothing is
 * not; a change is. */
static void test_quorum_repeat_not_reported(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	struct flip_state f = {.s = &s};
	assert_true(run_until(l, quorums_then_flip, &f, 2000));
	assert_int_equal(f.quorums_after_repeat, 1);
	assert_int_equal(s.quorums, 2);
	assert_false(s.last_quorate);
	prk_cs_close(c);
	prk_loop_free(l);
}

struct lost_state {
	struct seen *s;
	struct prk_cs *c;
	int phase;
	int send_while_down;
	size_t queued_after_down;
};

static bool lost_then_back(void *arg)
{
	struct lost_state *ls = arg;
	if (ls->phase == 0 && ls->s->quorums == 1) {
		/* Something waits in the queue when corosync dies. */
		fake.try_again = INT_MAX;
		assert_int_equal(prk_cs_send(ls->c, "q", 1), 0);
		fake.dispatch_error = CS_ERR_LIBRARY;
		fake_kick_cpg();
		ls->phase = 1;
	} else if (ls->phase == 1 && ls->s->downs == 1) {
		struct prk_cs_info info;
		ls->send_while_down = prk_cs_send(ls->c, "z", 1);
		ls->queued_after_down = prk_cs_queued(ls->c);
		assert_int_equal(prk_cs_info(ls->c, &info), -1);
		fake.dispatch_error = CS_OK;
		fake.try_again = 0;
		ls->phase = 2;
	}
	return ls->phase == 2 && ls->s->quorums == 2;
}

/* Corosync dies: down is reported once, what was queued is dropped, sends
 * fail; within about a second the adapter is connected again, rejoined and
 * reports quorum afresh. */
static void test_lost_connection_reconnects(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	struct prk_cs *c = open_ok(l, &s);
	struct lost_state ls = {.s = &s, .c = c};
	assert_true(run_until(l, lost_then_back, &ls, 3000));
	assert_int_equal(s.downs, 1);
	assert_int_equal(ls.send_while_down, -1);
	assert_int_equal(ls.queued_after_down, 0);
	assert_int_equal(fake.init_calls, 2);
	assert_string_equal(fake.group, "prkit-test");
	assert_int_equal(prk_cs_send(c, "after", 5), 0);
	assert_int_equal(fake.n_sent, 1);
	assert_string_equal(fake.sent[0], "after");
	prk_cs_close(c);
	prk_loop_free(l);
}

struct link_state {
	struct seen *s;
	int polls_at_change;
};

/* Two peers per poll (nodes 2 and 3 of 1..3, local node 1). */
static bool link_changed(void *arg)
{
	struct link_state *ls = arg;
	if (!ls->polls_at_change && fake.status_calls >= 2) {
		fake.links[2] = 0x1; /* node 3: link 1 lost, link 0 still up */
		ls->polls_at_change = fake.status_calls;
	}
	/* Two more polls after the change, to see it reported once. */
	return ls->polls_at_change && fake.status_calls >= ls->polls_at_change + 6;
}

static void test_link_change_reported_once(void **state)
{
	struct prk_loop *l = prk_loop_new();
	struct seen s = {0};
	(void)state;
	fake.links[1] = 0x3;
	fake.links[2] = 0x3;
	struct prk_cs *c = open_ok(l, &s);
	struct link_state ls = {.s = &s};
	assert_true(run_until(l, link_changed, &ls, 3000));
	/* the first poll: both links of nodes 2 and 3, up; then the change */
	assert_int_equal(s.links, 5);
	assert_int_equal(s.link_node, 3);
	assert_int_equal(s.link_no, 1);
	assert_false(s.link_up);
	prk_cs_close(c);
	prk_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_open_refused_names_the_cause, setup),
	    cmocka_unit_test_setup(test_join_try_again, setup),
	    cmocka_unit_test_setup(test_info_sorted_nodelist, setup),
	    cmocka_unit_test_setup(test_try_again_queues_in_order, setup),
	    cmocka_unit_test_setup(test_queue_bounded, setup),
	    cmocka_unit_test_setup(test_close_inside_deliver, setup),
	    cmocka_unit_test_setup(test_confchg_members_sorted, setup),
	    cmocka_unit_test_setup(test_left_reasons, setup),
	    cmocka_unit_test_setup(test_ring_reported, setup),
	    cmocka_unit_test_setup(test_quorum_repeat_not_reported, setup),
	    cmocka_unit_test_setup(test_lost_connection_reconnects, setup),
	    cmocka_unit_test_setup(test_link_change_reported_once, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
