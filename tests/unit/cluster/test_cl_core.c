/* The replication protocol under simulation: several cores, a simulated
 * CPG (total order per partition, extended virtual synchrony at splits),
 * the real PR engine as each node's replica, random PR OUTs, ACK delays,
 * partitions, heals and node restarts. Checked as properties over many
 * seeded rounds:
 *  - a command completes (ok) only when every member that serves in the
 *    completer's view has applied its event ("true everywhere");
 *  - no node outside a majority partition serves (state or lease);
 *  - after healing, every node serves and every replica is equal;
 *  - the outcome each replica computes for an event is the same;
 *  - a definition mismatch keeps the odd node out with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "cl_core.h"
#include "prkit/pr.h"

#define MAXN 5
#define MAXEV 4096
#define MS 1000000ULL

struct node;

struct op {
	struct node *n;
	uint32_t pid; /* of the prkitd that took it: a restart loses it */
	struct prk_cl_event_id id;
	bool done, ok;
	uint8_t status;
};

struct deferred {
	struct prk_cl_event_id id;
	struct prk_cl_ack ack;
	int delay;
};

struct node {
	int i;
	uint32_t id, pid;
	bool alive;
	struct prk_cl_core *core;
	struct prk_pr_state *pr;
	uint64_t seq;
	uint32_t block_size;
	struct prk_cl_event_id applied[MAXEV];
	size_t n_applied;
	struct deferred def[64];
	size_t n_def;
	enum prk_cl_state st;
	char why[256];
	int n_complete_fail;
	uint16_t rtpi;
	bool hold_acks; /* every local effect waits (the barrier) */
	bool stopped;   /* its prkitd is stopped: it processes nothing */
};

/* A message in a partition's stream. */
struct item {
	int from;
	uint32_t pid;
	uint8_t *msg;
	size_t len;
};

struct sim {
	struct node n[MAXN];
	int nn;
	int comp[MAXN]; /* partition of each node */
	struct item q[MAXN][8192];
	size_t qh[MAXN], qt[MAXN];
	uint64_t now;
	unsigned rnd;
	struct op ops[MAXEV];
	size_t n_ops;
	struct prk_cl_core_ops cops;
	uint64_t completed_ok, failed_sends;
	uint64_t lease_ns, detection_ns; /* node_start's configuration */
	bool process_left;               /* the next confchg: a process ended, its node lives */
};

static struct sim S;

static unsigned rnd(void)
{
	S.rnd = S.rnd * 1103515245u + 12345u;
	return (S.rnd >> 8) & 0xffffff;
}

static const uint8_t NAA[16] = {0x60, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---- the node's side (what the daemon does) ---- */

static int op_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct node *n = ctx;
	int c = S.comp[n->i];
	size_t t = S.qt[c];
	if (t - S.qh[c] >= 8192) {
		S.failed_sends++;
		return -1;
	}
	struct item *it = &S.q[c][t % 8192];
	it->from = n->i;
	it->pid = n->pid;
	it->msg = malloc(len);
	memcpy(it->msg, msg, len);
	it->len = len;
	S.qt[c]++;
	return 0;
}

static size_t op_lus(void *ctx, struct prk_cl_lu_def **out)
{
	struct node *n = ctx;
	*out = calloc(1, sizeof(**out));
	memcpy((*out)->naa, NAA, 16);
	snprintf((*out)->target, sizeof((*out)->target), "iqn.2026-12.io.prkit:t");
	(*out)->lun = 0;
	(*out)->block_size = n->block_size;
	(*out)->blocks = 1000;
	(*out)->seq = n->seq;
	return 1;
}

static size_t op_ports(void *ctx, struct prk_cl_port *out, size_t cap)
{
	struct node *n = ctx;
	(void)cap;
	out[0] = (struct prk_cl_port){.node = n->id, .tpg = n->rtpi, .rtpi = n->rtpi, .state = 0};
	return 1;
}

static void op_apply(void *ctx, const struct prk_cl_event *ev, void *own)
{
	struct node *n = ctx;
	struct prk_nexus nx;
	assert_int_equal(prk_nexus_init(&nx, ev->from.name, ev->from.isid, ev->from.rtpi), 0);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_out(n->pr, &nx, ev->cdb, ev->cdb_len, ev->params, ev->params_len, &res);
	n->seq++;
	assert_true(n->n_applied < MAXEV);
	n->applied[n->n_applied++] = ev->id;
	struct prk_cl_ack a = {.status = res.status,
	                       .sense_key = res.sense.key,
	                       .asc = res.status == 2 ? res.sense.asc : 0};
	if (own) {
		struct op *o = own;
		o->status = res.status;
	}
	prk_pr_result_free(&res);
	/* Some local effects take a while (the abort barrier). */
	if ((n->hold_acks || rnd() % 3 == 0) && n->n_def < 64) {
		n->def[n->n_def++] =
		    (struct deferred){.id = ev->id, .ack = a, .delay = 1 + rnd() % 5};
		return;
	}
	prk_cl_core_applied(n->core, &ev->id, &a);
}

static bool applied(const struct node *n, const struct prk_cl_event_id *id)
{
	for (size_t i = 0; i < n->n_applied; i++)
		if (n->applied[i].node == id->node && n->applied[i].n == id->n)
			return true;
	return false;
}

/* The snapshot carries the ids of the events in the state, so that the
 * check "applied everywhere" sees what a newcomer got by installing it. */
static size_t op_snapshot(void *ctx, const uint8_t naa[16], uint8_t **out, uint64_t *seq)
{
	struct node *n = ctx;
	assert_memory_equal(naa, NAA, 16);
	*seq = n->seq;
	uint8_t *rec;
	size_t rl = prk_pr_record_encode(n->pr, &rec);
	assert_true(rl > 0);
	size_t len = 8 + n->n_applied * 12 + rl;
	*out = malloc(len);
	prk_put_be64(*out, n->n_applied);
	for (size_t i = 0; i < n->n_applied; i++) {
		prk_put_be32(*out + 8 + i * 12, n->applied[i].node);
		prk_put_be64(*out + 12 + i * 12, n->applied[i].n);
	}
	memcpy(*out + 8 + n->n_applied * 12, rec, rl);
	free(rec);
	return len;
}

static int op_install(void *ctx, const uint8_t naa[16], const uint8_t *blob, size_t len,
                      uint64_t seq)
{
	struct node *n = ctx;
	struct prk_field_err e;
	assert_memory_equal(naa, NAA, 16);
	size_t na = prk_get_be64(blob);
	assert_true(na <= MAXEV && 8 + na * 12 <= len);
	struct prk_pr_state *st = prk_pr_state_new(&(struct prk_pr_config){0});
	if (prk_pr_record_decode(st, blob + 8 + na * 12, len - 8 - na * 12, &e)) {
		prk_pr_state_free(st);
		return -1;
	}
	prk_pr_state_free(n->pr);
	n->pr = st;
	n->seq = seq;
	n->n_applied = na;
	for (size_t i = 0; i < na; i++) {
		n->applied[i].node = prk_get_be32(blob + 8 + i * 12);
		n->applied[i].n = prk_get_be64(blob + 12 + i * 12);
	}
	return 0;
}

/* "True everywhere": every node serving in this node's view applied it. */
static void op_complete(void *ctx, void *own, bool ok)
{
	struct node *n = ctx;
	struct op *o = own;
	assert_false(o->done);
	o->done = true;
	o->ok = ok;
	if (!ok) {
		n->n_complete_fail++;
		return;
	}
	S.completed_ok++;
	for (int k = 0; k < S.nn; k++) {
		struct node *m = &S.n[k];
		if (!m->alive || S.comp[k] != S.comp[n->i])
			continue;
		if (prk_cl_core_state(m->core) == PRK_CL_ST_SERVING &&
		    prk_cl_core_lease(m->core) > S.now)
			assert_true(applied(m, &o->id));
	}
}

static void op_read_ready(void *ctx, void *cookie, bool ok)
{
	(void)ctx;
	(void)ok;
	*(int *)cookie = ok ? 1 : -1;
}

static void op_state(void *ctx, enum prk_cl_state st, const char *why)
{
	struct node *n = ctx;
	n->st = st;
	snprintf(n->why, sizeof(n->why), "%s", why);
}

static void op_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	if (getenv("CL_SIM_LOG"))
		fprintf(stderr, "%s\n", msg);
}

static void op_leave(void *ctx)
{
	(void)ctx;
}

/* ---- the simulated CPG ---- */

static void members_of(int comp, struct prk_cl_member *m, size_t *n)
{
	*n = 0;
	for (int k = 0; k < S.nn; k++)
		if (S.n[k].alive && S.comp[k] == comp)
			m[(*n)++] = (struct prk_cl_member){.node = S.n[k].id, .pid = S.n[k].pid};
}

static void deliver_one(int comp)
{
	if (S.qh[comp] == S.qt[comp])
		return;
	struct item *it = &S.q[comp][S.qh[comp] % 8192];
	S.qh[comp]++;
	for (int k = 0; k < S.nn; k++)
		if (S.n[k].alive && !S.n[k].stopped && S.comp[k] == comp)
			prk_cl_core_deliver(S.n[k].core, S.n[it->from].id, it->pid, it->msg,
			                    it->len, S.now);
	free(it->msg);
}

static void confchg(int comp)
{
	struct prk_cl_member m[MAXN];
	size_t n;
	members_of(comp, m, &n);
	for (int k = 0; k < S.nn; k++)
		if (S.n[k].alive && S.comp[k] == comp)
			prk_cl_core_confchg(S.n[k].core, m, n, !S.process_left, S.now);
}

static void quorum_all(void)
{
	/* votequorum's verdict: the node's partition holds a majority */
	for (int k = 0; k < S.nn; k++) {
		if (!S.n[k].alive)
			continue;
		int cnt = 0;
		for (int j = 0; j < S.nn; j++)
			cnt += S.n[j].alive && S.comp[j] == S.comp[k];
		prk_cl_core_quorum(S.n[k].core, cnt * 2 > S.nn, S.now);
	}
}

/* A membership change: the messages still queued are delivered in the
 * old view to the members that stay with their sender (EVS), then every
 * new partition gets its configuration change. */
static void regroup(const int *newcomp)
{
	for (int c = 0; c < S.nn; c++) {
		while (S.qh[c] != S.qt[c]) {
			struct item *it = &S.q[c][S.qh[c] % 8192];
			S.qh[c]++;
			for (int k = 0; k < S.nn; k++)
				if (S.n[k].alive && S.comp[k] == c &&
				    newcomp[k] == newcomp[it->from])
					prk_cl_core_deliver(S.n[k].core, S.n[it->from].id, it->pid,
					                    it->msg, it->len, S.now);
			free(it->msg);
		}
	}
	memcpy(S.comp, newcomp, sizeof(S.comp));
	quorum_all();
	for (int c = 0; c < S.nn; c++)
		confchg(c);
}

static void node_start(int k, uint32_t block_size)
{
	struct node *n = &S.n[k];
	if (n->core)
		prk_cl_core_free(n->core);
	if (n->pr)
		prk_pr_state_free(n->pr);
	n->i = k;
	n->id = (uint32_t)k + 1;
	n->pid = 1000 + rnd() % 100000;
	n->alive = true;
	n->block_size = block_size;
	n->pr = prk_pr_state_new(&(struct prk_pr_config){0});
	n->seq = 0;
	n->n_applied = 0;
	n->n_def = 0;
	n->rtpi = (uint16_t)(k + 1);
	struct prk_cl_core_cfg cfg = {.node = n->id,
	                              .pid = n->pid,
	                              .n_configured = (uint32_t)S.nn,
	                              .heartbeat_ns = 200 * MS,
	                              .lease_ns = S.lease_ns ? S.lease_ns : 1000 * MS,
	                              .margin_ns = 200 * MS,
	                              .detection_ns = S.detection_ns};
	S.cops.ctx = n;
	n->core = prk_cl_core_new(&cfg, &S.cops);
	assert_non_null(n->core);
}

static void sim_init(int nn, unsigned seed)
{
	for (int k = 0; k < S.nn; k++) {
		prk_cl_core_free(S.n[k].core);
		prk_pr_state_free(S.n[k].pr);
	}
	for (int c = 0; c < MAXN; c++)
		while (S.qh[c] != S.qt[c])
			free(S.q[c][S.qh[c]++ % 8192].msg);
	uint64_t lease = S.lease_ns, detection = S.detection_ns;
	memset(&S, 0, sizeof(S));
	S.lease_ns = lease;
	S.detection_ns = detection;
	S.nn = nn;
	S.rnd = seed;
	S.now = 1000 * MS;
	S.cops = (struct prk_cl_core_ops){.send = op_send,
	                                  .lus = op_lus,
	                                  .ports = op_ports,
	                                  .apply = op_apply,
	                                  .snapshot = op_snapshot,
	                                  .install = op_install,
	                                  .complete = op_complete,
	                                  .read_ready = op_read_ready,
	                                  .state = op_state,
	                                  .log = op_log,
	                                  .leave = op_leave};
	for (int k = 0; k < nn; k++) {
		node_start(k, 512);
		S.comp[k] = 0;
	}
	quorum_all();
	confchg(0);
}

static void sim_free(void)
{
	for (int k = 0; k < S.nn; k++) {
		prk_cl_core_free(S.n[k].core);
		prk_pr_state_free(S.n[k].pr);
		S.n[k].core = NULL;
		S.n[k].pr = NULL;
	}
	for (int c = 0; c < MAXN; c++)
		while (S.qh[c] != S.qt[c])
			free(S.q[c][S.qh[c]++ % 8192].msg);
}

/* A random PR OUT from initiator i (one I_T nexus per node and initiator). */
static void random_prout(int k)
{
	struct node *n = &S.n[k];
	if (S.n_ops >= MAXEV)
		return;
	static const uint8_t sas[] = {0, 0, 6, 1, 1, 2, 3, 4, 5};
	uint8_t sa = sas[rnd() % sizeof(sas)];
	uint8_t type = (uint8_t[]){1, 3, 5, 6, 7, 8}[rnd() % 6];
	int ini = rnd() % 3;
	uint64_t key = 0x100 + (uint64_t)ini, sakey = 0x100 + rnd() % 3;
	struct prk_cl_event ev = {.kind = PRK_CL_EV_PROUT, .cdb_len = 10};
	memcpy(ev.naa, NAA, 16);
	snprintf(ev.from.name, sizeof(ev.from.name), "iqn.2026-12.io.prkit:i%d", ini);
	ev.from.isid = 0x23d000000001ULL;
	ev.from.rtpi = n->rtpi;
	ev.cdb[0] = 0x5f;
	ev.cdb[1] = sa;
	ev.cdb[2] = type;
	ev.cdb[8] = 24;
	static uint8_t params[MAXEV][24];
	uint8_t *p = params[S.n_ops];
	memset(p, 0, 24);
	if (sa == 0) {
		prk_put_be64(p, rnd() % 2 ? key : 0);
		prk_put_be64(p + 8, rnd() % 4 ? key : 0);
	} else if (sa == 6) {
		prk_put_be64(p + 8, key);
	} else {
		prk_put_be64(p, key);
		prk_put_be64(p + 8, sakey);
	}
	ev.params = p;
	ev.params_len = 24;
	struct op *o = &S.ops[S.n_ops];
	*o = (struct op){.n = n, .pid = n->pid};
	if (prk_cl_core_submit(n->core, &ev, o, S.now) == 0) {
		o->id = ev.id;
		S.n_ops++;
	}
}

static void flush_deferred(struct node *n, bool all)
{
	for (size_t i = 0; i < n->n_def;) {
		if (all || --n->def[i].delay <= 0) {
			struct deferred d = n->def[i];
			n->def[i] = n->def[--n->n_def];
			prk_cl_core_applied(n->core, &d.id, &d.ack);
		} else {
			i++;
		}
	}
}

/* Runs until every stream is empty and nothing is deferred. */
static void quiesce(void)
{
	for (int round = 0; round < 10000; round++) {
		bool busy = false;
		for (int c = 0; c < S.nn; c++)
			if (S.qh[c] != S.qt[c]) {
				deliver_one(c);
				busy = true;
			}
		for (int k = 0; k < S.nn; k++)
			if (S.n[k].alive && S.n[k].n_def) {
				flush_deferred(&S.n[k], true);
				busy = true;
			}
		S.now += MS;
		for (int k = 0; k < S.nn; k++)
			if (S.n[k].alive)
				prk_cl_core_tick(S.n[k].core, S.now);
		if (!busy && round > 2000)
			return;
	}
}

/* No node outside a majority serves, and every node of a majority that
 * serves has a lease. */
static void check_minority(void)
{
	for (int k = 0; k < S.nn; k++) {
		if (!S.n[k].alive)
			continue;
		int cnt = 0;
		for (int j = 0; j < S.nn; j++)
			cnt += S.n[j].alive && S.comp[j] == S.comp[k];
		if (cnt * 2 <= S.nn) {
			assert_int_not_equal(prk_cl_core_state(S.n[k].core), PRK_CL_ST_SERVING);
			assert_true(prk_cl_core_lease(S.n[k].core) <= S.now);
		}
	}
}

static void check_equal_replicas(void)
{
	for (int k = 0; k < S.nn; k++) {
		assert_int_equal(prk_cl_core_state(S.n[k].core), PRK_CL_ST_SERVING);
		assert_true(prk_cl_core_lease(S.n[k].core) > S.now);
		if (k)
			assert_true(prk_pr_state_equal(S.n[0].pr, S.n[k].pr));
	}
	struct prk_cl_status st;
	prk_cl_core_status(S.n[0].core, &st);
	assert_int_equal(st.divergences, 0);
}

/* ---- tests ---- */

static void test_three_nodes_serve_and_agree(void **state)
{
	(void)state;
	sim_init(3, 7);
	quiesce();
	for (int k = 0; k < 3; k++)
		assert_int_equal(prk_cl_core_state(S.n[k].core), PRK_CL_ST_SERVING);
	for (int i = 0; i < 300; i++) {
		random_prout(rnd() % 3);
		if (rnd() % 2)
			deliver_one(0);
	}
	quiesce();
	check_equal_replicas();
	/* every command completed, and ok */
	for (size_t i = 0; i < S.n_ops; i++) {
		assert_true(S.ops[i].done);
		assert_true(S.ops[i].ok);
	}
	assert_true(S.n_ops > 250);
	sim_free();
}

static void test_minority_stops_and_rejoins(void **state)
{
	(void)state;
	sim_init(3, 11);
	quiesce();
	for (int i = 0; i < 50; i++)
		random_prout(rnd() % 3);
	/* node 3 alone */
	int split[MAXN] = {0, 0, 1};
	regroup(split);
	check_minority();
	assert_int_equal(prk_cl_core_state(S.n[2].core), PRK_CL_ST_INQUORATE);
	/* a PR OUT on the minority is refused without being sent */
	size_t before = S.n_ops;
	random_prout(2);
	assert_int_equal(S.n_ops, before);
	/* the majority goes on, holding completions for the departure */
	for (int i = 0; i < 50; i++)
		random_prout(rnd() % 2);
	quiesce();
	for (size_t i = 0; i < S.n_ops; i++)
		assert_true(S.ops[i].done);
	int heal[MAXN] = {0, 0, 0};
	regroup(heal);
	quiesce();
	check_equal_replicas();
	sim_free();
}

/* Completion waits for the departed node's lease: a PR OUT sent right
 * after a node left completes no sooner than lease + margin later. */
static void test_departure_hold(void **state)
{
	(void)state;
	sim_init(3, 13);
	quiesce();
	int split[MAXN] = {0, 0, 1};
	regroup(split);
	uint64_t t0 = S.now;
	random_prout(0);
	struct op *o = &S.ops[S.n_ops - 1];
	for (int i = 0; i < 50 && !o->done; i++) {
		deliver_one(0);
		flush_deferred(&S.n[0], true);
		flush_deferred(&S.n[1], true);
		S.now += 10 * MS;
		prk_cl_core_tick(S.n[0].core, S.now);
		prk_cl_core_tick(S.n[1].core, S.now);
		if (!o->done)
			assert_true(S.now - t0 <= 1200 * MS + 10 * MS);
	}
	assert_false(o->done); /* 500 ms in: still held */
	while (!o->done && S.now - t0 < 3000 * MS) {
		S.now += 10 * MS;
		prk_cl_core_tick(S.n[0].core, S.now);
	}
	assert_true(o->done);
	assert_true(S.now - t0 >= 1200 * MS);
	/* the minority's lease ran out before that */
	assert_true(prk_cl_core_lease(S.n[2].core) <= t0 + 1200 * MS);
	sim_free();
}

static void test_random_faults(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 60; seed++) {
		sim_init(seed % 2 ? 3 : 5, seed * 7919);
		quiesce();
		for (int step = 0; step < 400; step++) {
			unsigned r = rnd() % 100;
			if (r < 30)
				random_prout(rnd() % S.nn);
			else if (r < 70)
				deliver_one(rnd() % S.nn);
			else if (r < 85) {
				struct node *n = &S.n[rnd() % S.nn];
				if (n->alive)
					flush_deferred(n, false);
			} else if (r < 88) {
				int nc[MAXN];
				for (int k = 0; k < S.nn; k++)
					nc[k] = rnd() % 2;
				regroup(nc);
				check_minority();
			} else if (r < 91) {
				int nc[MAXN] = {0};
				regroup(nc);
			} else if (r < 92) {
				/* a node's prkitd restarts: leaves, comes back empty */
				int k = rnd() % S.nn;
				int nc[MAXN];
				memcpy(nc, S.comp, sizeof(nc));
				S.n[k].alive = false;
				regroup(nc);
				node_start(k, 512);
				regroup(nc);
			} else {
				S.now += (rnd() % 300) * MS;
				for (int k = 0; k < S.nn; k++)
					if (S.n[k].alive)
						prk_cl_core_tick(S.n[k].core, S.now);
				check_minority();
			}
		}
		int heal[MAXN] = {0};
		regroup(heal);
		quiesce();
		check_equal_replicas();
		for (size_t i = 0; i < S.n_ops; i++)
			if (S.ops[i].pid == S.ops[i].n->pid)
				assert_true(S.ops[i].done);
		sim_free();
	}
}

static void test_definition_mismatch(void **state)
{
	(void)state;
	sim_init(3, 5);
	quiesce();
	/* node 3 restarts with 4096-byte blocks */
	int nc[MAXN] = {0, 0, 0};
	S.n[2].alive = false;
	regroup(nc);
	node_start(2, 4096);
	regroup(nc);
	quiesce();
	assert_int_equal(prk_cl_core_state(S.n[2].core), PRK_CL_ST_FAILED);
	assert_non_null(strstr(S.n[2].why, "block_size is 512 on node 1 but 4096 on node 3"));
	assert_int_equal(prk_cl_core_state(S.n[0].core), PRK_CL_ST_NEGOTIATING);
	/* it leaves the group: the others serve again */
	S.n[2].alive = false;
	regroup(nc);
	quiesce();
	assert_int_equal(prk_cl_core_state(S.n[0].core), PRK_CL_ST_SERVING);
	assert_int_equal(prk_cl_core_state(S.n[1].core), PRK_CL_ST_SERVING);
	sim_free();
}

/* A PR IN waits for the events before it to be stable everywhere. */
static void test_read_waits_for_stability(void **state)
{
	(void)state;
	sim_init(3, 17);
	quiesce();
	S.n[1].hold_acks = true; /* node 2's barrier takes its time */
	random_prout(0);
	deliver_one(0);
	int flag = 0;
	bool refuse;
	/* node 3 applied the event; node 2 has not finished: wait */
	assert_false(prk_cl_core_read(S.n[2].core, &flag, &refuse, S.now));
	assert_false(refuse);
	for (int i = 0; i < 20; i++) {
		flush_deferred(&S.n[0], true);
		flush_deferred(&S.n[2], true);
		deliver_one(0);
	}
	assert_int_equal(flag, 0);
	assert_false(S.ops[0].done);
	S.n[1].hold_acks = false;
	for (int k = 0; k < 3; k++)
		flush_deferred(&S.n[k], true);
	for (int i = 0; i < 20; i++)
		deliver_one(0);
	assert_int_equal(flag, 1);
	assert_true(S.ops[0].done && S.ops[0].ok);
	/* with nothing pending a read goes at once */
	assert_true(prk_cl_core_read(S.n[2].core, &flag, &refuse, S.now));
	/* and a read on a minority node is refused */
	int split[MAXN] = {0, 0, 1};
	regroup(split);
	assert_false(prk_cl_core_read(S.n[2].core, &flag, &refuse, S.now));
	assert_true(refuse);
	sim_free();
}

/* A joiner whose votequorum is not quorate yet holds its HELLO; the
 * serving nodes keep serving meanwhile, and the round ends once it is. */
static void test_late_quorum_of_a_joiner(void **state)
{
	(void)state;
	sim_init(3, 23);
	quiesce();
	int nc[MAXN] = {0, 0, 0};
	S.n[2].alive = false;
	regroup(nc);
	node_start(2, 512); /* votequorum has not spoken to it yet */
	S.n[2].alive = true;
	confchg(0);
	for (int i = 0; i < 200; i++) {
		deliver_one(0);
		S.now += 5 * MS;
		for (int k = 0; k < 3; k++)
			prk_cl_core_tick(S.n[k].core, S.now);
		for (int k = 0; k < 2; k++) {
			flush_deferred(&S.n[k], true);
			assert_true(prk_cl_core_lease(S.n[k].core) > S.now);
		}
		assert_int_equal(prk_cl_core_state(S.n[2].core), PRK_CL_ST_NEGOTIATING);
	}
	/* PR OUTs on the serving nodes still complete */
	random_prout(0);
	quiesce();
	assert_true(S.ops[S.n_ops - 1].done && S.ops[S.n_ops - 1].ok);
	prk_cl_core_quorum(S.n[2].core, true, S.now);
	quiesce();
	check_equal_replicas();
	sim_free();
}

/* Nodes 1 and 2 run (10 ms steps) until o completes, at most 5 s after t0;
 * it must have completed, with GOOD. */
static void run_nodes_1_2_until_done(struct op *o, uint64_t t0)
{
	while (!o->done && S.now - t0 < 5000 * MS) {
		deliver_one(0);
		for (int k = 0; k < 2; k++) {
			flush_deferred(&S.n[k], true);
			prk_cl_core_tick(S.n[k].core, S.now);
		}
		S.now += 10 * MS;
	}
	assert_true(o->done && o->ok);
}

/* A node whose prkitd stops (its Corosync keeps it in the view) blocks
 * completions no longer than lease + margin after its last heartbeat. */
static void test_silent_node(void **state)
{
	(void)state;
	sim_init(3, 29);
	quiesce();
	uint64_t t0 = S.now;
	S.n[2].stopped = true;
	size_t before = S.n_ops;
	random_prout(0);
	assert_int_equal(S.n_ops, before + 1);
	struct op *o = &S.ops[S.n_ops - 1];
	run_nodes_1_2_until_done(o, t0);
	if (getenv("CL_SIM_LOG"))
		fprintf(stderr, "silent: done after %llu ms\n",
		        (unsigned long long)((S.now - t0) / MS));
	/* not before node 3's lease (from its last heartbeat) plus the margin */
	assert_true(S.now - t0 >= 1000 * MS);
	assert_true(S.now - t0 <= 1500 * MS);
	/* the stopped node's own lease has run out meanwhile */
	assert_true(prk_cl_core_lease(S.n[2].core) <= t0 + 1000 * MS);
	sim_free();
}

/* With failure detection taken into account: a node failure holds
 * completions lease + margin - detection after the survivors' view; a
 * process that ended on a live node only the margin. */
static void hold_after(bool process_left, uint64_t want_min, uint64_t want_max)
{
	sim_init(3, 31);
	for (int k = 0; k < 3; k++) /* the configuration of this case */
		node_start(k, 512);
	quorum_all();
	confchg(0);
	quiesce();
	int split[MAXN] = {0, 0, 1};
	S.process_left = process_left;
	regroup(split);
	S.process_left = false;
	uint64_t t0 = S.now;
	random_prout(0);
	struct op *o = &S.ops[S.n_ops - 1];
	run_nodes_1_2_until_done(o, t0);
	assert_true(S.now - t0 >= want_min);
	assert_true(S.now - t0 <= want_max);
	sim_free();
}

static void test_hold_after_node_failure_counts_detection(void **state)
{
	(void)state;
	S.lease_ns = 3000 * MS;
	S.detection_ns = 2200 * MS;
	hold_after(false, 1000 * MS, 1100 * MS); /* 3000 + 200 - 2200 */
	S.lease_ns = 3000 * MS;
	S.detection_ns = 2200 * MS;
	hold_after(true, 200 * MS, 300 * MS); /* the margin */
	S.lease_ns = S.detection_ns = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_nodes_serve_and_agree),
	    cmocka_unit_test(test_minority_stops_and_rejoins),
	    cmocka_unit_test(test_departure_hold),
	    cmocka_unit_test(test_random_faults),
	    cmocka_unit_test(test_definition_mismatch),
	    cmocka_unit_test(test_read_waits_for_stability),
	    cmocka_unit_test(test_late_quorum_of_a_joiner),
	    cmocka_unit_test(test_silent_node),
	    cmocka_unit_test(test_hold_after_node_failure_counts_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
