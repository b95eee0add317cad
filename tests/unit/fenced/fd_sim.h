/* The property test of fd_core: 3 to 5 cores on a simulated Corosync and
 * a simulated set of LUs, under random kills, partitions, heals, restarts
 * and orderly shutdowns, over many seeded rounds. The safety rules are
 * checked after every step; a failure prints the seed and the step.
 *
 * The simulated CPG: every component (side of a partition) has one total
 * order; a message or configuration change is appended, at the moment it
 * happens, to the inbox of every member of the sender's component, so
 * all members see the same stream. Messages already queued when the
 * topology changes are delivered before the new configuration (sent in the
 * old view). Quorum news comes before, after or well after the
 * configuration change (votequorum is not ordered with CPG), so a minority
 * may believe for a while that it is quorate. Quorum is a strict majority
 * of the configured nodes per component, or in two-node mode every
 * component (two_node: the LUs decide).
 *
 * The simulated LUs hold one registration per node (its nexus) with a key.
 * Node mode: keys are node << 32 | incarnation; JOIN registers the new
 * incarnation on every LU (replacing older ones). Cluster-key mode (a
 * quarter of the rounds): JOIN takes the newest generation registered,
 * FENCE opens a new one and preempts every other key, members ADOPT it. A
 * FENCE runs one LU per step, concurrently with everything else, like a
 * real one: at each LU, in a fixed order, the executor's own key must
 * still be there (else it lost: nothing further is touched), then the
 * victims' registrations (node mode) or all other keys (cluster-key mode)
 * are removed. A node runs one action at a time: while it fences,
 * its inbox waits (the daemon's storage steps are synchronous). */
#ifndef PRKIT_TESTS_FD_SIM_H
#define PRKIT_TESTS_FD_SIM_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fd_core.h"

#define SIM_N 5
#define SIM_LUS 3
#define SIM_KEYS 16
#define SIM_Q 2048
#define SIM_TICK 100

enum sim_ev_kind { EV_CONF, EV_QUORUM, EV_MSG };

struct sim_ev {
	enum sim_ev_kind kind;
	uint16_t ids[SIM_N];
	size_t n;
	uint64_t keys[SIM_N + 1]; /* EV_CONF: every node's key at the change */
	bool quorate;
	uint16_t from;
	struct prk_fd_msg msg;
};

struct sim_node {
	struct prk_fd_core c;
	bool up;
	int comp;
	unsigned inc;
	uint64_t key; /* registered by its JOIN (0: none) */
	struct sim_ev *inbox;
	size_t head, len;
	/* A FENCE in progress. */
	bool fencing;
	uint16_t fv[PRK_FD_MAX_VICTIMS];
	size_t nfv, lu_at;
	uint64_t fence_new; /* cluster-key mode: the generation it opens */
	/* Its JOIN ran while another node was fencing it (the known limit of
	 * docs/fenced.md: it did not know yet). */
	bool joined_under_fence;
	/* A quorum notice held back (votequorum late). */
	bool q_delayed;
	bool q_delayed_val;
	int q_due;
	bool q_last; /* the last quorum value queued for it */
	/* What the node has been told, as the checker follows it. */
	uint16_t view[SIM_N];
	size_t n_view;
	bool quorate_seen;
	uint64_t inq_since; /* 0: not known inquorate */
	bool failed, stalled;
	bool left_seen[SIM_N + 1];
	uint64_t known[SIM_N + 1]; /* victim's key when it left our view */
	uint64_t gone[SIM_N + 1];  /* keys FENCED told us are gone */
};

struct sim {
	int n;
	bool two_node;
	uint64_t now;
	unsigned seed;
	int step;
	struct sim_node nd[SIM_N + 1];
	/* Registrations: one per node (its nexus), with a key. */
	struct {
		uint16_t node;
		uint64_t key;
	} lu[SIM_LUS][SIM_KEYS];
	bool cluster_key; /* key_mode "cluster": one key for all, re-keyed by FENCE */
	bool split_seen;  /* the known limit happened in this round */
	uint64_t gen;     /* the last cluster-key generation opened */
	unsigned rng;
	const char *err;
	char errbuf[256];
};

/* What the rounds exercised (printed, so that a run that tests nothing
 * shows). */
static struct {
	unsigned long steps, fences, lost, resumes, fails, kills, partitions, heals, restarts,
	    leaves, two_node_rounds, cluster_key_rounds, adopts, loser_lus;
} sim_stats;

static unsigned sim_rand(struct sim *s)
{
	s->rng = s->rng * 1103515245u + 12345u;
	return (s->rng >> 16) & 0x7fff;
}

static int sim_pick(struct sim *s, int n)
{
	return (int)(sim_rand(s) % (unsigned)n);
}

__attribute__((format(printf, 2, 3))) static void sim_fail(struct sim *s, const char *fmt, ...)
{
	if (s->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errbuf, sizeof(s->errbuf), fmt, ap);
	va_end(ap);
	s->err = s->errbuf;
}

/* ---- LUs ---- */

static bool lu_has(const struct sim *s, int l, unsigned node, uint64_t key)
{
	for (int k = 0; k < SIM_KEYS; k++)
		if (key && s->lu[l][k].node == node && s->lu[l][k].key == key)
			return true;
	return false;
}

/* REGISTER AND IGNORE EXISTING KEY from the node's nexus. */
static void lu_set(struct sim *s, int l, unsigned node, uint64_t key)
{
	int free_slot = -1;
	for (int k = 0; k < SIM_KEYS; k++) {
		if (s->lu[l][k].node == node) {
			s->lu[l][k].key = key;
			return;
		}
		if (!s->lu[l][k].node && free_slot < 0)
			free_slot = k;
	}
	if (free_slot < 0) {
		sim_fail(s, "LU %d full", l);
		return;
	}
	s->lu[l][free_slot].node = (uint16_t)node;
	s->lu[l][free_slot].key = key;
}

static void lu_del_node(struct sim *s, int l, unsigned node)
{
	for (int k = 0; k < SIM_KEYS; k++)
		if (s->lu[l][k].node == node)
			s->lu[l][k].node = 0;
}

/* PREEMPT of every key but keep (cluster-key mode's re-keying). */
static void lu_keep_only(struct sim *s, int l, uint64_t keep)
{
	for (int k = 0; k < SIM_KEYS; k++)
		if (s->lu[l][k].key != keep)
			s->lu[l][k].node = 0;
}

static size_t lus_with(const struct sim *s, unsigned node, uint64_t key)
{
	size_t n = 0;
	for (int l = 0; l < SIM_LUS; l++)
		n += lu_has(s, l, node, key);
	return n;
}

/* Cluster-key mode: the key a joining node adopts (the newest generation
 * registered anywhere), or a new generation when there is none. */
static uint64_t current_cluster_key(struct sim *s, int id)
{
	uint64_t best = 0;
	for (int l = 0; l < SIM_LUS; l++)
		for (int k = 0; k < SIM_KEYS; k++)
			if (s->lu[l][k].node &&
			    (s->lu[l][k].key & 0xffffffffu) > (best & 0xffffffffu))
				best = s->lu[l][k].key;
	return best ? best : (uint64_t)id << 32 | ++s->gen;
}

/* ---- the simulated CPG ---- */

static void inbox_put(struct sim *s, int id, const struct sim_ev *ev)
{
	struct sim_node *d = &s->nd[id];
	if (d->len == SIM_Q) {
		sim_fail(s, "inbox of node %d overflows", id);
		return;
	}
	d->inbox[(d->head + d->len++) % SIM_Q] = *ev;
}

static size_t comp_members(const struct sim *s, int comp, uint16_t *ids)
{
	size_t n = 0;
	for (int id = 1; id <= s->n; id++)
		if (s->nd[id].up && s->nd[id].comp == comp)
			ids[n++] = (uint16_t)id;
	return n;
}

static bool comp_quorate(const struct sim *s, int comp)
{
	uint16_t ids[SIM_N];
	size_t n = comp_members(s, comp, ids);
	return s->two_node ? n > 0 : 2 * n > (size_t)s->n;
}

static void multicast(struct sim *s, int from, const struct prk_fd_msg *m)
{
	struct sim_ev ev = {.kind = EV_MSG, .from = (uint16_t)from, .msg = *m};
	uint16_t ids[SIM_N];
	size_t n = comp_members(s, s->nd[from].comp, ids);
	for (size_t i = 0; i < n; i++)
		inbox_put(s, ids[i], &ev);
}

static void queue_quorum(struct sim *s, int id, bool q)
{
	struct sim_ev ev = {.kind = EV_QUORUM, .quorate = q};
	inbox_put(s, id, &ev);
	s->nd[id].q_last = q;
}

/* The topology changed: every component gets its new configuration, and
 * every node its quorum news, early, on time or late. */
static void topology_changed(struct sim *s)
{
	uint64_t keys[SIM_N + 1] = {0};
	for (int id = 1; id <= s->n; id++)
		keys[id] = s->nd[id].key;
	for (int comp = 0; comp < SIM_N; comp++) {
		struct sim_ev ev = {.kind = EV_CONF};
		ev.n = comp_members(s, comp, ev.ids);
		memcpy(ev.keys, keys, sizeof(keys));
		bool q = comp_quorate(s, comp);
		for (size_t i = 0; i < ev.n; i++) {
			struct sim_node *d = &s->nd[ev.ids[i]];
			bool news = d->q_delayed ? d->q_delayed_val != q : d->q_last != q;
			int how = sim_pick(s, 3);
			d->q_delayed = false;
			if (news && how == 0)
				queue_quorum(s, ev.ids[i], q);
			inbox_put(s, ev.ids[i], &ev);
			if (news && how == 1)
				queue_quorum(s, ev.ids[i], q);
			if (news && how == 2) {
				d->q_delayed = true;
				d->q_delayed_val = q;
				d->q_due = s->step + 1 + sim_pick(s, 40);
			}
		}
	}
}

/* ---- the checker's view of what a node was told ---- */

static bool in_ids(const uint16_t *ids, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void follow_conf(struct sim *s, int id, const struct sim_ev *ev)
{
	struct sim_node *d = &s->nd[id];
	for (size_t i = 0; i < d->n_view; i++) {
		uint16_t v = d->view[i];
		if (v == id || in_ids(ev->ids, ev->n, v))
			continue;
		if (d->left_seen[v])
			d->left_seen[v] = false;
		else
			d->known[v] = ev->keys[v] ? ev->keys[v] : ((uint64_t)v << 32);
	}
	for (size_t i = 0; i < ev->n; i++)
		d->known[ev->ids[i]] = 0;
	memcpy(d->view, ev->ids, sizeof(d->view));
	d->n_view = ev->n;
	bool view_q = s->two_node || 2 * d->n_view > (size_t)s->n;
	bool q = d->quorate_seen && view_q;
	if (!q && !d->inq_since)
		d->inq_since = s->now;
	if (q)
		d->inq_since = 0;
}

static void follow_quorum(struct sim *s, int id, bool quorate)
{
	struct sim_node *d = &s->nd[id];
	d->quorate_seen = quorate;
	bool view_q = s->two_node || 2 * d->n_view > (size_t)s->n;
	if (!(quorate && view_q) && !d->inq_since)
		d->inq_since = s->now;
	if (quorate && view_q)
		d->inq_since = 0;
}

static void follow_msg(struct sim *s, int id, const struct sim_ev *ev)
{
	struct sim_node *d = &s->nd[id];
	if (ev->msg.type == PRK_FD_MSG_LEAVE)
		d->left_seen[ev->from] = true;
	if (ev->msg.type != PRK_FD_MSG_FENCED || ev->msg.result != PRK_FD_RESULT_OK)
		return;
	for (size_t i = 0; i < ev->msg.n_victims; i++) {
		uint16_t v = ev->msg.victims[i];
		/* Only what the core really released counts: it may refuse a
		 * FENCED whose sender had not covered its set. */
		if (d->known[v] && !in_ids(d->c.pending, d->c.n_pending, v)) {
			d->gone[v] = d->known[v];
			d->known[v] = 0;
		}
	}
}

/* ---- running a node's actions (the daemon's part) ---- */

static void on_resume(struct sim *s, int id)
{
	struct sim_node *d = &s->nd[id];
	for (int v = 1; v <= s->n; v++) {
		if (d->known[v])
			sim_fail(s, "node %d resumed while node %d (key %" PRIx64 ") is pending",
			         id, v, d->known[v]);
		size_t left = d->gone[v] ? lus_with(s, (unsigned)v, d->gone[v]) : 0;
		if (left)
			sim_fail(s, "node %d resumed but victim %d's key %" PRIx64 " is on %zu LUs",
			         id, v, d->gone[v], left);
		d->gone[v] = 0;
	}
	d->stalled = false;
}

static void on_fence(struct sim *s, int id, const struct prk_fd_act *a)
{
	struct sim_node *d = &s->nd[id];
	bool view_q = s->two_node || 2 * d->n_view > (size_t)s->n;
	if (!d->quorate_seen || !view_q)
		sim_fail(s, "node %d was asked to FENCE without quorum (view of %zu)", id,
		         d->n_view);
	if (d->failed)
		sim_fail(s, "node %d was asked to FENCE after it self-fenced", id);
	for (size_t i = 0; i < a->n_victims; i++)
		if (in_ids(d->view, d->n_view, a->victims[i]))
			sim_fail(s, "node %d fences node %u of its own view", id, a->victims[i]);
	sim_stats.fences++;
	d->fencing = true;
	memcpy(d->fv, a->victims, sizeof(d->fv));
	d->nfv = a->n_victims;
	d->lu_at = 0;
	if (s->cluster_key)
		d->fence_new = (uint64_t)id << 32 | ++s->gen;
}

static void drain(struct sim *s, int id)
{
	struct sim_node *d = &s->nd[id];
	struct prk_fd_act a;
	while (prk_fdc_next_act(&d->c, &a)) {
		switch (a.kind) {
		case PRK_FD_ACT_SEND:
			multicast(s, id, &a.msg);
			break;
		case PRK_FD_ACT_STALL:
			d->stalled = true;
			prk_fdc_stall_done(&d->c, s->now);
			break;
		case PRK_FD_ACT_RESUME:
			sim_stats.resumes++;
			on_resume(s, id);
			break;
		case PRK_FD_ACT_FAIL:
			sim_stats.fails++;
			d->failed = true;
			break;
		case PRK_FD_ACT_JOIN:
			if (sim_pick(s, 10) == 0) {
				prk_fdc_join_done(&d->c, false, 0, s->now);
				break;
			}
			/* Node mode: a new incarnation, replacing the old ones (one
			 * nexus per node here); cluster-key mode: the current key. */
			d->key = s->cluster_key ? current_cluster_key(s, id)
			                        : (uint64_t)id << 32 | d->inc;
			for (int l = 0; l < SIM_LUS; l++)
				lu_set(s, l, (unsigned)id, d->key);
			for (int o = 1; o <= s->n; o++)
				if (o != id && s->nd[o].up && s->nd[o].fencing &&
				    in_ids(s->nd[o].fv, s->nd[o].nfv, (uint16_t)id))
					d->joined_under_fence = true;
			prk_fdc_join_done(&d->c, true, d->key, s->now);
			break;
		case PRK_FD_ACT_FENCE:
			on_fence(s, id, &a);
			break;
		case PRK_FD_ACT_CHECK: {
			size_t with = lus_with(s, (unsigned)id, d->key);
			char why[64];
			snprintf(why, sizeof(why), "key on %zu of %d LUs", with, SIM_LUS);
			prk_fdc_check_done(&d->c, 2 * with > SIM_LUS, why, s->now);
			break;
		}
		case PRK_FD_ACT_ADOPT:
			if (!s->cluster_key)
				sim_fail(s, "node %d asked to ADOPT in node mode", id);
			sim_stats.adopts++;
			d->key = a.key;
			for (int l = 0; l < SIM_LUS; l++)
				lu_set(s, l, (unsigned)id, a.key);
			prk_fdc_adopt_done(&d->c, true, s->now);
			break;
		default:
			break;
		}
	}
}

/* One LU of a running FENCE. */
static void fence_step(struct sim *s, int id)
{
	struct sim_node *d = &s->nd[id];
	int l = (int)d->lu_at;
	if (!lu_has(s, l, (unsigned)id, d->key)) {
		sim_stats.lost++;
		d->fencing = false;
		prk_fdc_fence_done(&d->c, false, true, 0, s->now);
		drain(s, id);
		return;
	}
	if (s->cluster_key) {
		lu_set(s, l, (unsigned)id, d->fence_new);
		lu_keep_only(s, l, d->fence_new);
	} else {
		for (size_t i = 0; i < d->nfv; i++)
			lu_del_node(s, l, d->fv[i]);
	}
	if (++d->lu_at == SIM_LUS) {
		d->fencing = false;
		if (s->cluster_key)
			d->key = d->fence_new;
		prk_fdc_fence_done(&d->c, true, false, s->cluster_key ? d->key : 0, s->now);
		drain(s, id);
	}
}

static void deliver_one(struct sim *s, int id)
{
	struct sim_node *d = &s->nd[id];
	struct sim_ev ev = d->inbox[d->head];
	d->head = (d->head + 1) % SIM_Q;
	d->len--;
	switch (ev.kind) {
	case EV_CONF:
		follow_conf(s, id, &ev);
		prk_fdc_confchg(&d->c, ev.ids, ev.n, s->now);
		break;
	case EV_QUORUM:
		follow_quorum(s, id, ev.quorate);
		prk_fdc_quorum(&d->c, ev.quorate, s->now);
		break;
	case EV_MSG:
		prk_fdc_deliver(&d->c, ev.from, &ev.msg, s->now);
		follow_msg(s, id, &ev);
		break;
	}
	drain(s, id);
}

/* ---- topology events ---- */

static void start_node(struct sim *s, int id, int comp)
{
	struct sim_node *d = &s->nd[id];
	struct prk_fd_core_cfg cfg = {.nodeid = (uint16_t)id,
	                              .n_configured = (size_t)s->n,
	                              .majority_by_votes = s->two_node,
	                              .cluster_key = s->cluster_key,
	                              .self_fence_ms = 2000,
	                              .check_ms = 1000,
	                              .stall_ack_ms = 500,
	                              .retry_ms = 300};
	struct sim_ev *inbox = d->inbox;
	unsigned inc = d->inc;
	memset(d, 0, sizeof(*d));
	d->inbox = inbox;
	d->inc = inc + 1;
	prk_fdc_init(&d->c, &cfg);
	d->up = true;
	d->comp = comp;
}

static void stop_node(struct sim *s, int id)
{
	struct sim_node *d = &s->nd[id];
	d->up = false;
	d->fencing = false;
	d->len = 0;
	d->q_delayed = false;
}

static int random_up(struct sim *s)
{
	int cand[SIM_N], n = 0;
	for (int id = 1; id <= s->n; id++)
		if (s->nd[id].up)
			cand[n++] = id;
	return n ? cand[sim_pick(s, n)] : 0;
}

static void topology_event(struct sim *s)
{
	int what = sim_pick(s, 10);
	int id = random_up(s);
	if (what < 2 && id) { /* kill */
		sim_stats.kills++;
		stop_node(s, id);
	} else if (what < 4) { /* partition the live nodes in two */
		sim_stats.partitions++;
		for (int i = 1; i <= s->n; i++)
			s->nd[i].comp = sim_pick(s, 2);
	} else if (what < 6) { /* heal */
		sim_stats.heals++;
		for (int i = 1; i <= s->n; i++)
			s->nd[i].comp = 0;
	} else if (what < 8) { /* restart a dead node */
		int dead[SIM_N], nd = 0;
		for (int i = 1; i <= s->n; i++)
			if (!s->nd[i].up)
				dead[nd++] = i;
		if (!nd)
			return;
		sim_stats.restarts++;
		start_node(s, dead[sim_pick(s, nd)], sim_pick(s, 2) ? 0 : s->nd[id].comp);
	} else if (what == 8 && id) { /* orderly shutdown: LEAVE, then gone */
		sim_stats.leaves++;
		prk_fdc_shutdown(&s->nd[id].c, s->now);
		drain(s, id);
		stop_node(s, id);
	} else {
		return;
	}
	topology_changed(s);
}

/* ---- the rules checked after every step ---- */

static void check_rules(struct sim *s)
{
	for (int id = 1; id <= s->n; id++) {
		struct sim_node *d = &s->nd[id];
		if (!d->up || d->failed || !d->key)
			continue;
		/* The I/O barrier: a joined node whose I/O may flow knows of
		 * no unfenced victim. */
		for (int v = 1; v <= s->n; v++)
			if (d->known[v] && !d->stalled)
				sim_fail(s, "node %d's I/O flows while node %d is pending", id, v);
		/* A node that knows it has no quorum fails within
		 * self_fence_ms and one tick (once it has joined: before, it
		 * has no I/O to fail). */
		if (d->inq_since && s->now > d->inq_since + 2000 + SIM_TICK)
			sim_fail(s, "node %d inquorate since %" PRIu64 " not failed at %" PRIu64,
			         id, d->inq_since, s->now);
	}
	/* Never different winners in a two-node split: no two live nodes (up,
	 * not halfway through a FENCE; a loser that self-fenced counts too)
	 * such that one LU keeps the
	 * first's key without the second's and another LU the second's without the first's. (The
	 * leftovers of a self-fenced or dead node may be partial.) */
	for (int a = 1; a <= s->n && s->two_node; a++)
		for (int b = a + 1; b <= s->n; b++) {
			uint64_t ka = s->nd[a].key, kb = s->nd[b].key;
			if (!ka || !kb || !s->nd[a].up || !s->nd[b].up || s->nd[a].fencing ||
			    s->nd[b].fencing)
				continue;
			bool ab = false, ba = false;
			for (int l = 0; l < SIM_LUS; l++) {
				bool ha = lu_has(s, l, (unsigned)a, ka),
				     hb = lu_has(s, l, (unsigned)b, kb);
				ab |= ha && !hb;
				ba |= hb && !ha;
			}
			if (ab && ba &&
			    (s->nd[a].joined_under_fence || s->nd[b].joined_under_fence)) {
				sim_stats.loser_lus += !s->split_seen;
				s->split_seen = true;
				continue;
			}
			if (ab && ba)
				sim_fail(s,
				         "different winners: nodes %d and %d each hold LUs the "
				         "other lost (keys %" PRIx64 ", %" PRIx64 ")",
				         a, b, ka, kb);
		}
}

static bool sim_trace;

static void trace_state(const struct sim *s)
{
	fprintf(stderr, "step %d t=%" PRIu64 ":", s->step, s->now);
	for (int id = 1; id <= s->n; id++)
		fprintf(stderr, " n%d[%s %s c%d k%" PRIx64 " p%zu]", id, s->nd[id].up ? "up" : "dn",
		        prk_fd_state_name(s->nd[id].c.state), s->nd[id].comp, s->nd[id].key,
		        s->nd[id].c.n_pending);
	for (int l = 0; l < SIM_LUS; l++) {
		fprintf(stderr, " |");
		for (int k = 0; k < SIM_KEYS; k++)
			if (s->lu[l][k].node)
				fprintf(stderr, " %u:%" PRIx64, s->lu[l][k].node, s->lu[l][k].key);
	}
	fprintf(stderr, "\n");
}

static void sim_step(struct sim *s)
{
	if (sim_trace)
		trace_state(s);
	s->step++;
	sim_stats.steps++;
	for (int id = 1; id <= s->n; id++) {
		struct sim_node *d = &s->nd[id];
		if (d->up && d->q_delayed && s->step >= d->q_due) {
			d->q_delayed = false;
			queue_quorum(s, id, d->q_delayed_val);
		}
	}
	int r = sim_pick(s, 100);
	int id = random_up(s);
	if (r < 60 && id && !s->nd[id].fencing && s->nd[id].len) {
		deliver_one(s, id);
	} else if (r < 75 && id && s->nd[id].fencing) {
		fence_step(s, id);
	} else if (r < 99 || sim_pick(s, 2)) {
		s->now += 1 + (uint64_t)sim_pick(s, SIM_TICK);
		for (int i = 1; i <= s->n; i++)
			if (s->nd[i].up && !s->nd[i].fencing) {
				prk_fdc_tick(&s->nd[i].c, s->now);
				drain(s, i);
			}
	} else {
		topology_event(s);
	}
	check_rules(s);
}

static struct sim_ev sim_inboxes[SIM_N + 1][SIM_Q];

/* One seeded round; returns NULL or the broken rule. */
static const char *sim_round(unsigned seed, int steps, int *at_step)
{
	static struct sim s;
	memset(&s, 0, sizeof(s));
	s.seed = seed;
	s.rng = seed;
	s.n = 3 + (int)(seed % 3);
	s.two_node = seed % 7 == 0;
	s.cluster_key = seed % 4 == 1;
	sim_stats.cluster_key_rounds += s.cluster_key;
	if (s.two_node) {
		s.n = 2;
		sim_stats.two_node_rounds++;
	}
	s.now = 1000;
	for (int id = 1; id <= s.n; id++) {
		s.nd[id].inbox = sim_inboxes[id];
		start_node(&s, id, 0);
	}
	topology_changed(&s);
	for (int i = 0; i < steps && !s.err; i++)
		sim_step(&s);
	*at_step = s.step;
	return s.err;
}

static void test_property_simulated_cluster(void **state)
{
	(void)state;
	unsigned base = 1;
	const char *env = getenv("FD_SIM_SEED");
	int rounds = 600;
	if (env) {
		base = (unsigned)strtoul(env, NULL, 0);
		rounds = 1;
		sim_trace = getenv("FD_SIM_TRACE") != NULL;
	}
	/* FD_SIM_ROUNDS=N: a longer hunt than CI's. */
	if (getenv("FD_SIM_ROUNDS"))
		rounds = atoi(getenv("FD_SIM_ROUNDS"));
	int failures = 0;
	for (int r = 0; r < rounds; r++) {
		unsigned seed = base + (unsigned)r;
		int at = 0;
		const char *err = sim_round(seed, 3000, &at);
		if (err) {
			print_error("seed %u (FD_SIM_SEED=%u), step %d: %s\n", seed, seed, at, err);
			failures++;
		}
	}
	print_message(
	    "# %d rounds, %lu steps: %lu FENCE (%lu lost), %lu RESUME, %lu FAIL; %lu kills, "
	    "%lu partitions, %lu heals, %lu restarts, %lu LEAVE; %lu two-node, %lu cluster-key "
	    "rounds (%lu ADOPT); %lu rounds split after a JOIN under a FENCE\n",
	    rounds, sim_stats.steps, sim_stats.fences, sim_stats.lost, sim_stats.resumes,
	    sim_stats.fails, sim_stats.kills, sim_stats.partitions, sim_stats.heals,
	    sim_stats.restarts, sim_stats.leaves, sim_stats.two_node_rounds,
	    sim_stats.cluster_key_rounds, sim_stats.adopts, sim_stats.loser_lus);
	assert_int_equal(failures, 0);
}

#define FD_SIM_TESTS cmocka_unit_test(test_property_simulated_cluster),

#endif
