/* The replication protocol (see cl_core.h and docs/cluster.md). */
#include "cl_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An event applied here and not yet stable. */
struct pend {
	struct prk_cl_event_id id;
	uint32_t waiting[PRK_CL_MAX_NODES]; /* appliers whose ACK is missing */
	uint32_t n_waiting;
	void *own;         /* this node's command, when this node sent it */
	bool have_outcome; /* this node's own outcome, to compare ACKs with */
	struct prk_cl_ack outcome;
	uint64_t idx; /* apply order */
};

/* An ACK that arrived for an event not (yet) pending here. */
struct early_ack {
	struct prk_cl_event_id id;
	uint32_t node;
};

struct read {
	void *cookie;
	uint64_t idx; /* wait until every event applied up to here is stable */
};

struct sent {
	struct prk_cl_event_id id;
	void *own;
};

struct qmsg {
	uint8_t *msg;
	size_t len;
	uint32_t node, pid;
};

struct snap {
	uint8_t naa[16];
	uint8_t *blob;
	size_t len;
	uint64_t seq;
	bool got;
};

struct prk_cl_core {
	struct prk_cl_core_cfg cfg;
	struct prk_cl_core_ops ops;
	enum prk_cl_state state;
	char why[256];

	struct prk_cl_view view;
	bool have_view;
	bool quorate; /* votequorum */
	bool primary; /* the current view may apply events */
	bool synced;  /* this node's state continues the primary's */
	uint64_t epoch;
	uint64_t next_id;
	uint64_t lease_until, hold_until, next_hb;

	/* Nodes that apply the events delivered now (their ACKs are awaited). */
	uint32_t appliers[PRK_CL_MAX_NODES];
	uint32_t n_appliers;
	/* When each applier's last heartbeat was delivered here (or when it
	 * became an applier): one silent for longer than lease + margin no
	 * longer serves, so nobody waits for its ACK. */
	uint64_t hb_seen[PRK_CL_MAX_NODES];

	/* The round of the current view. */
	bool in_round, past_p, installing;
	bool hello_due; /* this round's HELLO waits for votequorum's quorum */
	struct prk_cl_hello hello[PRK_CL_MAX_NODES]; /* by view index */
	bool have_hello[PRK_CL_MAX_NODES];
	uint32_t n_hello;
	struct snap *snaps;
	size_t n_snaps;
	bool have_done;
	struct prk_cl_sync_done done;
	struct qmsg *q; /* events delivered after P, for after the install */
	size_t nq, capq;
	struct early_ack *acks; /* ACKs seen after P, before the install */
	size_t nacks, capacks;

	struct pend *pend;
	size_t npend, cappend;
	uint64_t apply_idx;
	struct sent *sent;
	size_t nsent, capsent;
	struct read *reads;
	size_t nreads, capreads;

	struct prk_cl_port ports[PRK_CL_MAX_PORTS * 4];
	size_t n_ports;

	uint64_t events_applied, divergences;
};

const char *prk_cl_state_name(enum prk_cl_state s)
{
	switch (s) {
	case PRK_CL_ST_STARTING:
		return "starting";
	case PRK_CL_ST_NEGOTIATING:
		return "negotiating";
	case PRK_CL_ST_SYNCHRONISING:
		return "synchronising";
	case PRK_CL_ST_SERVING:
		return "serving";
	case PRK_CL_ST_INQUORATE:
		return "inquorate";
	case PRK_CL_ST_FAILED:
		return "failed";
	}
	return "?";
}

static void logf_(struct prk_cl_core *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct prk_cl_core *c, int level, const char *fmt, ...)
{
	if (!c->ops.log)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->ops.log(c->ops.ctx, level, buf);
}

/* Grows an array of elements of size sz to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * sz);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

static void send_msg(struct prk_cl_core *c, uint8_t *msg, size_t len)
{
	if (!len) {
		logf_(c, 0, "cluster: cannot encode a message (out of memory)");
		return;
	}
	if (c->ops.send(c->ops.ctx, msg, len))
		logf_(c, 1, "cluster: multicast of %s failed", prk_cl_msg_type_name(msg[5]));
	free(msg);
}

static void set_state(struct prk_cl_core *c, enum prk_cl_state st, const char *why)
{
	bool changed = c->state != st || strcmp(c->why, why ? why : "");
	c->state = st;
	snprintf(c->why, sizeof(c->why), "%s", why ? why : "");
	if (changed && c->ops.state)
		c->ops.state(c->ops.ctx, st, c->why);
}

/* ---- the round's memory ---- */

static void clear_round(struct prk_cl_core *c)
{
	for (uint32_t i = 0; i < PRK_CL_MAX_NODES; i++) {
		if (c->have_hello[i])
			free(c->hello[i].lus);
		c->have_hello[i] = false;
	}
	c->n_hello = 0;
	for (size_t i = 0; i < c->n_snaps; i++)
		free(c->snaps[i].blob);
	free(c->snaps);
	c->snaps = NULL;
	c->n_snaps = 0;
	if (c->have_done)
		free(c->done.pending);
	c->have_done = false;
	for (size_t i = 0; i < c->nq; i++)
		free(c->q[i].msg);
	c->nq = 0;
	c->nacks = 0;
	c->in_round = c->past_p = c->installing = false;
}

/* ---- pending events, stability, completions ---- */

static bool is_applier(const struct prk_cl_core *c, uint32_t node)
{
	for (uint32_t i = 0; i < c->n_appliers; i++)
		if (c->appliers[i] == node)
			return true;
	return false;
}

static void drop_waiting(struct pend *p, uint32_t node)
{
	for (uint32_t k = 0; k < p->n_waiting; k++)
		if (p->waiting[k] == node) {
			p->waiting[k] = p->waiting[--p->n_waiting];
			return;
		}
}

/* A silent applier: a node whose heartbeats stopped (its prkitd is
 * stopped or starved while its Corosync keeps it in the view). Its lease
 * was renewed at most by the last heartbeat it sent, which the others saw
 * delivered no earlier; so lease + margin after that delivery it serves
 * nothing, and when it wakes it applies the backlog in order before any
 * heartbeat of its can renew its lease. Its ACKs are not needed for
 * completion then (SCST#365 waited 60 s on such a peer). */
static void appliers_seen_now(struct prk_cl_core *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->n_appliers; i++)
		c->hb_seen[i] = now;
}

static void remove_applier(struct prk_cl_core *c, uint32_t node)
{
	for (uint32_t i = 0; i < c->n_appliers; i++)
		if (c->appliers[i] == node) {
			c->n_appliers--;
			c->appliers[i] = c->appliers[c->n_appliers];
			c->hb_seen[i] = c->hb_seen[c->n_appliers];
			break;
		}
	for (size_t k = 0; k < c->npend; k++)
		drop_waiting(&c->pend[k], node);
}

static bool stable(const struct prk_cl_core *c, const struct pend *p, uint64_t now)
{
	return p->n_waiting == 0 && now >= c->hold_until;
}

/* Completes what can complete: own events that are stable, and reads
 * whose events are all stable. Stable events leave the list from its
 * head (reads wait on apply order). */
static void settle(struct prk_cl_core *c, uint64_t now)
{
	for (size_t i = 0; i < c->npend; i++) {
		struct pend *p = &c->pend[i];
		if (p->own && stable(c, p, now)) {
			void *own = p->own;
			p->own = NULL;
			c->ops.complete(c->ops.ctx, own, true);
		}
	}
	size_t k = 0;
	while (k < c->npend && stable(c, &c->pend[k], now) && !c->pend[k].own)
		k++;
	if (k) {
		memmove(c->pend, c->pend + k, (c->npend - k) * sizeof(*c->pend));
		c->npend -= k;
	}
	uint64_t first_unstable = c->npend ? c->pend[0].idx : UINT64_MAX;
	/* Everything applied before now is stable when the hold has passed
	 * and no unstable event is older than the read. */
	size_t w = 0;
	for (size_t i = 0; i < c->nreads; i++) {
		struct read *r = &c->reads[i];
		if (r->idx <= first_unstable && now >= c->hold_until)
			c->ops.read_ready(c->ops.ctx, r->cookie, true);
		else
			c->reads[w++] = *r;
	}
	c->nreads = w;
}

/* This node leaves the primary: whatever waits cannot be answered. */
static void fail_waiters(struct prk_cl_core *c)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].own) {
			void *own = c->pend[i].own;
			c->pend[i].own = NULL;
			c->ops.complete(c->ops.ctx, own, false);
		}
	c->npend = 0;
	for (size_t i = 0; i < c->nsent; i++)
		if (c->sent[i].own)
			c->ops.complete(c->ops.ctx, c->sent[i].own, false);
	c->nsent = 0;
	for (size_t i = 0; i < c->nreads; i++)
		c->ops.read_ready(c->ops.ctx, c->reads[i].cookie, false);
	c->nreads = 0;
}

static void become_inquorate(struct prk_cl_core *c, const char *why)
{
	c->synced = false;
	c->primary = false;
	c->n_appliers = 0;
	c->lease_until = 0;
	clear_round(c);
	fail_waiters(c);
	set_state(c, PRK_CL_ST_INQUORATE, why);
}

static void become_failed(struct prk_cl_core *c, const char *why)
{
	logf_(c, 0, "cluster: node %u failed: %s", c->cfg.node, why);
	c->synced = false;
	c->primary = false;
	c->n_appliers = 0;
	c->lease_until = 0;
	clear_round(c);
	fail_waiters(c);
	set_state(c, PRK_CL_ST_FAILED, why);
	if (c->ops.leave)
		c->ops.leave(c->ops.ctx);
}

/* ---- views and quorum ---- */

static uint32_t distinct_nodes(const struct prk_cl_view *v)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < v->n; i++)
		if (!i || v->m[i].node != v->m[i - 1].node)
			n++;
	return n;
}

/* Does the view hold a majority of the configured votes? With a quorum
 * device its vote counts for the side votequorum calls quorate. */
static bool majority(const struct prk_cl_core *c, const struct prk_cl_view *v)
{
	uint32_t votes = distinct_nodes(v), total = c->cfg.n_configured;
	if (c->cfg.qdevice) {
		total++;
		if (c->quorate)
			votes++;
	}
	return votes * 2 > total;
}

static void send_hello(struct prk_cl_core *c)
{
	struct prk_cl_hello h = {.view = c->view,
	                         .pid = c->cfg.pid,
	                         .synced = c->synced,
	                         .quorate = c->quorate,
	                         .epoch = c->epoch};
	struct prk_cl_lu_def *lus = NULL;
	size_t n = c->ops.lus(c->ops.ctx, &lus);
	h.lus = lus;
	h.n_lus = (uint32_t)(n > PRK_CL_MAX_LUS ? PRK_CL_MAX_LUS : n);
	h.n_ports = (uint32_t)c->ops.ports(c->ops.ctx, h.ports, PRK_CL_MAX_PORTS);
	for (uint32_t i = 0; i < h.n_ports; i++)
		h.ports[i].node = c->cfg.node;
	uint8_t *msg;
	size_t len = prk_cl_enc_hello(c->cfg.node, &h, &msg);
	free(lus);
	send_msg(c, msg, len);
}

/* A member sends its HELLO only once votequorum calls it quorate: the
 * round then waits for a slow member instead of ending inquorate for all
 * (the synced members keep serving meanwhile). */
static void start_round(struct prk_cl_core *c)
{
	clear_round(c);
	c->in_round = true;
	set_state(c, PRK_CL_ST_NEGOTIATING,
	          c->quorate ? "exchanging definitions with the members"
	                     : "waiting for votequorum's quorum before joining the round");
	c->hello_due = !c->quorate;
	if (c->quorate)
		send_hello(c);
}

/* How long survivors hold completions after an applier left. A failed
 * node's lease ran from a heartbeat sent before the failure, and the
 * survivors' view comes at least detection_ns after it; a process that
 * ended or left (it zeroes its gate first) needs only the margin. */
static uint64_t departure_hold(const struct prk_cl_core *c, bool node_failure)
{
	uint64_t h = c->cfg.margin_ns;
	if (node_failure) {
		uint64_t full = c->cfg.lease_ns + c->cfg.margin_ns;
		h = full > c->cfg.detection_ns ? full - c->cfg.detection_ns : 0;
		if (h < c->cfg.margin_ns)
			h = c->cfg.margin_ns;
	}
	if (c->cfg.qdevice)
		h += c->cfg.qdevice_hold_ns;
	return h;
}

void prk_cl_core_confchg(struct prk_cl_core *c, const struct prk_cl_member *m, size_t n,
                         bool node_failure, uint64_t now)
{
	if (c->state == PRK_CL_ST_FAILED)
		return;
	struct prk_cl_view nv = {0};
	for (size_t i = 0; i < n && i < PRK_CL_MAX_NODES; i++)
		nv.m[nv.n++] = m[i];
	/* members come sorted; keep it so whatever the caller did */
	for (uint32_t i = 1; i < nv.n; i++)
		for (uint32_t k = i;
		     k > 0 && (nv.m[k].node < nv.m[k - 1].node ||
		               (nv.m[k].node == nv.m[k - 1].node && nv.m[k].pid < nv.m[k - 1].pid));
		     k--) {
			struct prk_cl_member t = nv.m[k];
			nv.m[k] = nv.m[k - 1];
			nv.m[k - 1] = t;
		}
	/* A second prkitd of this node in the group: the younger one leaves. */
	for (uint32_t i = 0; i < nv.n; i++)
		if (nv.m[i].node == c->cfg.node && nv.m[i].pid != c->cfg.pid && !c->have_view) {
			become_failed(c, "another prkitd of this node is in the cluster group");
			return;
		}
	/* A round aborted after P: its newcomers never installed, so they
	 * will not ACK what they were counted for. */
	if (c->in_round && c->past_p && c->synced)
		for (uint32_t i = 0; i < c->view.n; i++)
			if (c->have_hello[i] && !c->hello[i].synced)
				remove_applier(c, c->view.m[i].node);
	/* Appliers that departed: the survivors must not complete anything
	 * until the departed node's lease has surely run out. */
	for (uint32_t i = 0; i < c->n_appliers;) {
		uint32_t node = c->appliers[i];
		if (prk_cl_view_find(&nv, node) < 0) {
			uint64_t hold = now + departure_hold(c, node_failure);
			if (c->synced && hold > c->hold_until)
				c->hold_until = hold;
			for (size_t k = 0; k < c->npend; k++)
				drop_waiting(&c->pend[k], node);
			c->n_appliers--;
			c->appliers[i] = c->appliers[c->n_appliers];
			c->hb_seen[i] = c->hb_seen[c->n_appliers];
		} else {
			i++;
		}
	}
	bool joined = false;
	for (uint32_t i = 0; i < nv.n; i++) {
		bool was = false;
		for (uint32_t k = 0; c->have_view && k < c->view.n; k++)
			if (c->view.m[k].node == nv.m[i].node && c->view.m[k].pid == nv.m[i].pid)
				was = true;
		if (!was)
			joined = true;
	}
	/* Members that are not appliers will get the state by a snapshot, not
	 * by ACKs: nobody waits for them. */
	for (size_t k = 0; k < c->npend; k++)
		for (uint32_t w = 0; w < c->pend[k].n_waiting;)
			if (!is_applier(c, c->pend[k].waiting[w]))
				drop_waiting(&c->pend[k], c->pend[k].waiting[w]);
			else
				w++;
	c->view = nv;
	c->have_view = true;
	c->primary = majority(c, &nv);
	if (!c->primary) {
		become_inquorate(c,
		                 "this node's partition holds no majority of the configured nodes");
		return;
	}
	if (!joined && c->state == PRK_CL_ST_SERVING) {
		settle(c, now);
		return;
	}
	start_round(c);
	settle(c, now);
}

void prk_cl_core_quorum(struct prk_cl_core *c, bool quorate, uint64_t now)
{
	(void)now;
	if (c->state == PRK_CL_ST_FAILED) {
		c->quorate = quorate;
		return;
	}
	bool was = c->quorate;
	c->quorate = quorate;
	if (quorate && c->in_round && c->hello_due) {
		c->hello_due = false;
		set_state(c, PRK_CL_ST_NEGOTIATING, "exchanging definitions with the members");
		send_hello(c);
		return;
	}
	if (!quorate && was) {
		if (c->state != PRK_CL_ST_INQUORATE && c->state != PRK_CL_ST_STARTING)
			become_inquorate(c, "votequorum: this node lost quorum");
		return;
	}
	/* Quorate again (or for the first time) in a view that may be
	 * primary: ask every member for a round, in the stream. */
	if (quorate && !was && c->have_view && c->state == PRK_CL_ST_INQUORATE &&
	    majority(c, &c->view)) {
		uint8_t *msg;
		size_t len = prk_cl_enc_sync_req(c->cfg.node, &c->view, &msg);
		send_msg(c, msg, len);
	}
}

void prk_cl_core_down(struct prk_cl_core *c, uint64_t now)
{
	(void)now;
	if (c->state == PRK_CL_ST_FAILED)
		return;
	c->have_view = false;
	c->quorate = false;
	become_inquorate(c, "lost the connection to corosync");
}

/* ---- the round ---- */

static bool lu_def_differs(const struct prk_cl_lu_def *a, const struct prk_cl_lu_def *b, char *why,
                           size_t len, uint32_t node_a, uint32_t node_b)
{
	const char *f = NULL;
	unsigned long long va = 0, vb = 0;
	if (a->block_size != b->block_size)
		f = "block_size", va = a->block_size, vb = b->block_size;
	else if (a->blocks != b->blocks)
		f = "blocks", va = a->blocks, vb = b->blocks;
	else if ((a->flags ^ b->flags) & PRK_CL_LU_NO_PR)
		f = "persistent_reservations", va = !(a->flags & PRK_CL_LU_NO_PR),
		vb = !(b->flags & PRK_CL_LU_NO_PR);
	else if ((a->flags ^ b->flags) & PRK_CL_LU_THIN)
		f = "thin", va = !!(a->flags & PRK_CL_LU_THIN), vb = !!(b->flags & PRK_CL_LU_THIN);
	else if ((a->flags ^ b->flags) & PRK_CL_LU_READONLY)
		f = "readonly", va = !!(a->flags & PRK_CL_LU_READONLY),
		vb = !!(b->flags & PRK_CL_LU_READONLY);
	else if (strcmp(a->target, b->target) || a->lun != b->lun) {
		snprintf(
		    why, len,
		    "LU (NAA %02x%02x%02x%02x...) is target %s LUN %u on node %u but target %s "
		    "LUN %u on node %u",
		    a->naa[0], a->naa[1], a->naa[2], a->naa[3], a->target, a->lun, node_a,
		    b->target, b->lun, node_b);
		return true;
	}
	if (!f)
		return false;
	snprintf(why, len, "target %s LUN %u: %s is %llu on node %u but %llu on node %u", a->target,
	         a->lun, f, va, node_a, vb, node_b);
	return true;
}

static const struct prk_cl_lu_def *find_lu(const struct prk_cl_hello *h, const uint8_t naa[16])
{
	for (uint32_t i = 0; i < h->n_lus; i++)
		if (!memcmp(h->lus[i].naa, naa, 16))
			return &h->lus[i];
	return NULL;
}

/* Checks node k's definitions against the reference node r's and every
 * node's ports against the others'. Returns false with why. */
static bool check_node(const struct prk_cl_core *c, uint32_t r, uint32_t k, char *why, size_t len)
{
	const struct prk_cl_hello *hr = &c->hello[r], *hk = &c->hello[k];
	uint32_t nr = c->view.m[r].node, nk = c->view.m[k].node;
	for (uint32_t i = 0; i < hr->n_lus; i++) {
		const struct prk_cl_lu_def *o = find_lu(hk, hr->lus[i].naa);
		if (!o) {
			snprintf(why, len, "target %s LUN %u of node %u is missing on node %u",
			         hr->lus[i].target, hr->lus[i].lun, nr, nk);
			return false;
		}
		if (lu_def_differs(&hr->lus[i], o, why, len, nr, nk))
			return false;
	}
	for (uint32_t i = 0; i < hk->n_lus; i++)
		if (!find_lu(hr, hk->lus[i].naa)) {
			snprintf(why, len, "target %s LUN %u of node %u is missing on node %u",
			         hk->lus[i].target, hk->lus[i].lun, nk, nr);
			return false;
		}
	/* Ports: unique rtpi and tpg over the members and the departed nodes
	 * the cluster still lists. */
	for (uint32_t i = 0; i < hk->n_ports; i++) {
		const struct prk_cl_port *p = &hk->ports[i];
		for (uint32_t j = 0; j < c->view.n; j++) {
			if (j == k || !c->have_hello[j])
				continue;
			for (uint32_t q = 0; q < c->hello[j].n_ports; q++) {
				const struct prk_cl_port *o = &c->hello[j].ports[q];
				if (o->rtpi == p->rtpi || o->tpg == p->tpg) {
					snprintf(
					    why, len,
					    "node %u's portal (tpgt %u, rtpi %u) collides with "
					    "node "
					    "%u's (tpgt %u, rtpi %u): relative target port ids and "
					    "target port groups must be unique in the cluster",
					    nk, p->tpg, p->rtpi, c->view.m[j].node, o->tpg,
					    o->rtpi);
					return false;
				}
			}
		}
		for (size_t q = 0; q < c->n_ports; q++) {
			const struct prk_cl_port *o = &c->ports[q];
			if (o->node != nk && prk_cl_view_find(&c->view, o->node) < 0 &&
			    (o->rtpi == p->rtpi || o->tpg == p->tpg)) {
				snprintf(why, len,
				         "node %u's portal (tpgt %u, rtpi %u) collides with "
				         "departed node "
				         "%u's (tpgt %u, rtpi %u)",
				         nk, p->tpg, p->rtpi, o->node, o->tpg, o->rtpi);
				return false;
			}
		}
	}
	return true;
}

/* The member whose definitions are the reference and who sends SYNC_DONE:
 * the lowest synced node, or the lowest node when none is synced. */
static uint32_t leader(const struct prk_cl_core *c)
{
	for (uint32_t i = 0; i < c->view.n; i++)
		if (c->hello[i].synced)
			return i;
	return 0;
}

/* The donor of one LU: the leader when a synced node exists, else the
 * member holding the newest version (epoch, seq), ties to the lowest node. */
static uint32_t donor(const struct prk_cl_core *c, const uint8_t naa[16])
{
	uint32_t l = leader(c);
	if (c->hello[l].synced)
		return l;
	uint32_t best = 0;
	const struct prk_cl_lu_def *bd = NULL;
	for (uint32_t i = 0; i < c->view.n; i++) {
		const struct prk_cl_lu_def *d = find_lu(&c->hello[i], naa);
		if (!d)
			continue;
		if (!bd || d->epoch > bd->epoch || (d->epoch == bd->epoch && d->seq > bd->seq)) {
			bd = d;
			best = i;
		}
	}
	return best;
}

/* The last HELLO arrived (P): decide, and send what this node must. */
static void round_complete(struct prk_cl_core *c, uint64_t now)
{
	bool all_quorate = true;
	for (uint32_t i = 0; i < c->view.n; i++)
		all_quorate = all_quorate && c->hello[i].quorate;
	if (!all_quorate || !majority(c, &c->view)) {
		int me = -1;
		for (uint32_t i = 0; i < c->view.n; i++)
			if (c->view.m[i].node == c->cfg.node && c->view.m[i].pid == c->cfg.pid)
				me = (int)i;
		bool ask = me >= 0 && !c->hello[me].quorate && c->quorate && majority(c, &c->view);
		become_inquorate(c, "a member is not quorate yet");
		/* Only a member that was not quorate in its HELLO and is now asks
		 * again: the others would only repeat the same round. */
		if (ask) {
			uint8_t *msg;
			size_t len = prk_cl_enc_sync_req(c->cfg.node, &c->view, &msg);
			send_msg(c, msg, len);
		}
		return;
	}
	uint32_t r = leader(c);
	char why[512];
	bool reject_any = false;
	for (uint32_t k = 0; k < c->view.n; k++) {
		if (k == r || check_node(c, r, k, why, sizeof(why)))
			continue;
		reject_any = true;
		if (c->view.m[k].node == c->cfg.node) {
			become_failed(c, why);
			return;
		}
		logf_(c, 1, "cluster: keeping node %u out: %s", c->view.m[k].node, why);
	}
	if (reject_any) {
		/* The rejected node leaves the group; the next view runs a new
		 * round without it. */
		set_state(c, PRK_CL_ST_NEGOTIATING, "waiting for a rejected node to leave");
		return;
	}
	c->past_p = true;
	/* From here on every member applies the events delivered. */
	c->n_appliers = 0;
	for (uint32_t i = 0; i < c->view.n; i++)
		if (!c->n_appliers || c->appliers[c->n_appliers - 1] != c->view.m[i].node)
			c->appliers[c->n_appliers++] = c->view.m[i].node;
	appliers_seen_now(c, now);
	/* The snapshots this round carries: one per LU of the reference. */
	const struct prk_cl_hello *hr = &c->hello[r];
	c->snaps = calloc(hr->n_lus ? hr->n_lus : 1, sizeof(*c->snaps));
	if (!c->snaps) {
		become_failed(c, "out of memory for the state transfer");
		return;
	}
	c->n_snaps = hr->n_lus;
	for (uint32_t i = 0; i < hr->n_lus; i++)
		memcpy(c->snaps[i].naa, hr->lus[i].naa, 16);
	uint64_t epoch = 0;
	for (uint32_t i = 0; i < c->view.n; i++)
		if (c->hello[i].epoch > epoch)
			epoch = c->hello[i].epoch;
	c->installing = !c->synced;
	set_state(c, PRK_CL_ST_SYNCHRONISING,
	          c->synced ? "sending the state to the new members" : "receiving the state");
	/* Donors send the state as of now (P): the events delivered after it
	 * are applied by every member, newcomers after their install. */
	for (size_t i = 0; i < c->n_snaps; i++) {
		uint32_t d = donor(c, c->snaps[i].naa);
		if (c->view.m[d].node != c->cfg.node)
			continue;
		struct prk_cl_snapshot s = {.view = c->view, .epoch = epoch};
		memcpy(s.naa, c->snaps[i].naa, 16);
		uint8_t *blob = NULL;
		size_t len = c->ops.snapshot(c->ops.ctx, s.naa, &blob, &s.seq);
		if (!len) {
			free(blob);
			become_failed(c, "cannot take a snapshot of a LU's state");
			return;
		}
		s.blob = blob;
		s.blob_len = (uint32_t)len;
		uint8_t *msg;
		size_t mlen = prk_cl_enc_snapshot(c->cfg.node, &s, &msg);
		free(blob);
		send_msg(c, msg, mlen);
	}
	if (c->view.m[r].node == c->cfg.node) {
		struct prk_cl_sync_done d = {.view = c->view, .epoch = epoch + 1};
		/* The port table: every member's ports, and what is known of
		 * departed nodes (unavailable). */
		for (size_t q = 0; q < c->n_ports && d.n_ports < PRK_CL_MAX_PORTS * 4; q++)
			if (prk_cl_view_find(&c->view, c->ports[q].node) < 0) {
				d.ports[d.n_ports] = c->ports[q];
				d.ports[d.n_ports++].state = 3; /* unavailable */
			}
		for (uint32_t i = 0; i < c->view.n; i++)
			for (uint32_t q = 0;
			     q < c->hello[i].n_ports && d.n_ports < PRK_CL_MAX_PORTS * 4; q++) {
				d.ports[d.n_ports] = c->hello[i].ports[q];
				d.ports[d.n_ports++].node = c->view.m[i].node;
			}
		/* What is still unstable here (as of P), for the newcomers. */
		d.pending = calloc(c->npend ? c->npend : 1, sizeof(*d.pending));
		if (d.pending) {
			for (size_t k = 0; k < c->npend && k < PRK_CL_MAX_PENDING; k++) {
				d.pending[k].id = c->pend[k].id;
				d.pending[k].n_waiting = c->pend[k].n_waiting;
				memcpy(d.pending[k].waiting, c->pend[k].waiting,
				       sizeof(d.pending[k].waiting));
			}
			d.n_pending =
			    (uint32_t)(c->npend < PRK_CL_MAX_PENDING ? c->npend
			                                             : PRK_CL_MAX_PENDING);
		}
		uint8_t *msg;
		size_t len = prk_cl_enc_sync_done(c->cfg.node, &d, &msg);
		free(d.pending);
		send_msg(c, msg, len);
	}
}

static void apply_event(struct prk_cl_core *c, const struct prk_cl_event *ev, uint64_t now);

/* SYNC_DONE and every snapshot are in: install (newcomers), then serve. */
static void try_finish_round(struct prk_cl_core *c, uint64_t now)
{
	if (!c->have_done)
		return;
	for (size_t i = 0; i < c->n_snaps; i++)
		if (!c->snaps[i].got)
			return;
	if (c->installing) {
		for (size_t i = 0; i < c->n_snaps; i++)
			if (c->ops.install(c->ops.ctx, c->snaps[i].naa, c->snaps[i].blob,
			                   c->snaps[i].len, c->snaps[i].seq)) {
				become_failed(c,
				              "cannot install the state received from the cluster");
				return;
			}
		/* The events still unstable at P, less the ACKs seen since. */
		c->npend = 0;
		for (uint32_t k = 0; k < c->done.n_pending; k++) {
			if (grow((void **)&c->pend, &c->cappend, c->npend, sizeof(*c->pend)))
				break;
			struct pend *p = &c->pend[c->npend++];
			memset(p, 0, sizeof(*p));
			p->id = c->done.pending[k].id;
			p->n_waiting = c->done.pending[k].n_waiting;
			memcpy(p->waiting, c->done.pending[k].waiting, sizeof(p->waiting));
			p->idx = c->apply_idx++;
			for (size_t a = 0; a < c->nacks; a++)
				if (c->acks[a].id.node == p->id.node && c->acks[a].id.n == p->id.n)
					drop_waiting(p, c->acks[a].node);
		}
	}
	c->epoch = c->done.epoch;
	c->n_ports = c->done.n_ports;
	memcpy(c->ports, c->done.ports, c->n_ports * sizeof(c->ports[0]));
	c->synced = true;
	struct qmsg *q = c->q;
	size_t nq = c->nq;
	c->q = NULL;
	c->nq = c->capq = 0;
	bool installed = c->installing;
	clear_round(c);
	c->lease_until = now + c->cfg.lease_ns;
	c->next_hb = now;
	set_state(c, PRK_CL_ST_SERVING, installed ? "state received" : "in the primary view");
	if (c->ops.ports_changed)
		c->ops.ports_changed(c->ops.ctx, c->ports, c->n_ports);
	for (size_t i = 0; i < nq; i++) {
		struct prk_cl_msg m;
		char err[160];
		if (!prk_cl_msg_decode(q[i].msg, q[i].len, &m, err, sizeof(err))) {
			if (m.type == PRK_CL_EVENT)
				apply_event(c, &m.u.ev, now);
			prk_cl_msg_free(&m);
		}
		free(q[i].msg);
	}
	free(q);
	settle(c, now);
}

/* ---- events ---- */

static void apply_event(struct prk_cl_core *c, const struct prk_cl_event *ev, uint64_t now)
{
	void *own = NULL;
	if (ev->id.node == c->cfg.node)
		for (size_t i = 0; i < c->nsent; i++)
			if (c->sent[i].id.n == ev->id.n) {
				own = c->sent[i].own;
				c->sent[i] = c->sent[--c->nsent];
				break;
			}
	if (grow((void **)&c->pend, &c->cappend, c->npend, sizeof(*c->pend))) {
		become_failed(c, "out of memory for a pending event");
		return;
	}
	struct pend *p = &c->pend[c->npend++];
	memset(p, 0, sizeof(*p));
	p->id = ev->id;
	p->own = own;
	p->idx = c->apply_idx++;
	memcpy(p->waiting, c->appliers, c->n_appliers * sizeof(uint32_t));
	p->n_waiting = c->n_appliers;
	c->events_applied++;
	c->ops.apply(c->ops.ctx, ev, own);
	settle(c, now);
}

static struct pend *find_pend(struct prk_cl_core *c, const struct prk_cl_event_id *id)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].id.node == id->node && c->pend[i].id.n == id->n)
			return &c->pend[i];
	return NULL;
}

static void on_ack(struct prk_cl_core *c, uint32_t node, const struct prk_cl_ack *a, uint64_t now)
{
	struct pend *p = find_pend(c, &a->id);
	if (!p) {
		/* A newcomer before its install keeps the ACKs it sees, to
		 * subtract them from the pending list SYNC_DONE brings. */
		if (c->installing && c->past_p &&
		    !grow((void **)&c->acks, &c->capacks, c->nacks, sizeof(*c->acks)))
			c->acks[c->nacks++] = (struct early_ack){.id = a->id, .node = node};
		return;
	}
	if (p->have_outcome && node != c->cfg.node &&
	    (a->status != p->outcome.status || a->sense_key != p->outcome.sense_key ||
	     a->asc != p->outcome.asc)) {
		c->divergences++;
		logf_(
		    c, 0,
		    "cluster: replica divergence: event %u/%llu ended with status %02x/%x/%04x on "
		    "node %u but %02x/%x/%04x here",
		    a->id.node, (unsigned long long)a->id.n, a->status, a->sense_key, a->asc, node,
		    p->outcome.status, p->outcome.sense_key, p->outcome.asc);
	}
	if (a->persist_failed)
		logf_(c, 1, "cluster: node %u could not write the APTPL record of event %u/%llu",
		      node, a->id.node, (unsigned long long)a->id.n);
	drop_waiting(p, node);
	settle(c, now);
}

void prk_cl_core_applied(struct prk_cl_core *c, const struct prk_cl_event_id *id,
                         const struct prk_cl_ack *outcome)
{
	struct pend *p = find_pend(c, id);
	if (p) {
		p->have_outcome = true;
		p->outcome = *outcome;
	}
	if (!c->synced)
		return;
	struct prk_cl_ack a = *outcome;
	a.id = *id;
	uint8_t *msg;
	size_t len = prk_cl_enc_ack(c->cfg.node, &a, &msg);
	send_msg(c, msg, len);
	if (outcome->persist_failed)
		become_failed(c, "the APTPL record could not be written");
}

int prk_cl_core_submit(struct prk_cl_core *c, struct prk_cl_event *ev, void *own, uint64_t now)
{
	(void)now;
	if (!c->synced || !c->primary || !c->quorate)
		return -1;
	if (own && grow((void **)&c->sent, &c->capsent, c->nsent, sizeof(*c->sent)))
		return -1;
	ev->id.node = c->cfg.node;
	ev->id.n = ++c->next_id;
	uint8_t *msg;
	size_t len = prk_cl_enc_event(c->cfg.node, ev, &msg);
	if (!len)
		return -1;
	int r = c->ops.send(c->ops.ctx, msg, len);
	free(msg);
	if (r)
		return -1;
	if (own)
		c->sent[c->nsent++] = (struct sent){.id = ev->id, .own = own};
	return 0;
}

bool prk_cl_core_read(struct prk_cl_core *c, void *cookie, bool *refuse, uint64_t now)
{
	*refuse = false;
	if (!c->synced || !c->primary || !c->quorate) {
		*refuse = true;
		return false;
	}
	bool all_stable = now >= c->hold_until;
	for (size_t i = 0; i < c->npend && all_stable; i++)
		if (c->pend[i].n_waiting)
			all_stable = false;
	if (all_stable)
		return true;
	if (grow((void **)&c->reads, &c->capreads, c->nreads, sizeof(*c->reads))) {
		*refuse = true;
		return false;
	}
	c->reads[c->nreads++] = (struct read){.cookie = cookie, .idx = c->apply_idx};
	return false;
}

void prk_cl_core_forget(struct prk_cl_core *c, void *cookie)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].own == cookie)
			c->pend[i].own = NULL;
	for (size_t i = 0; i < c->nsent; i++)
		if (c->sent[i].own == cookie)
			c->sent[i].own = NULL;
	size_t w = 0;
	for (size_t i = 0; i < c->nreads; i++)
		if (c->reads[i].cookie != cookie)
			c->reads[w++] = c->reads[i];
	c->nreads = w;
}

void prk_cl_core_ua(struct prk_cl_core *c, uint8_t type, const struct prk_cl_ua *u)
{
	if (!c->synced)
		return;
	uint8_t *msg;
	size_t len = prk_cl_enc_ua(c->cfg.node, type, u, &msg);
	send_msg(c, msg, len);
}

/* ---- delivery ---- */

static void on_hello(struct prk_cl_core *c, uint32_t node, struct prk_cl_msg *m, uint64_t now)
{
	struct prk_cl_hello *h = &m->u.hello;
	if (!c->in_round || c->past_p || !prk_cl_view_eq(&h->view, &c->view))
		return; /* an older or newer round's */
	int k = -1;
	for (uint32_t i = 0; i < c->view.n; i++)
		if (c->view.m[i].node == node && c->view.m[i].pid == h->pid)
			k = (int)i;
	if (k < 0 || c->have_hello[k])
		return;
	c->hello[k] = *h;
	h->lus = NULL; /* taken */
	h->n_lus = 0;
	c->have_hello[k] = true;
	if (++c->n_hello == c->view.n)
		round_complete(c, now);
}

static void on_snapshot(struct prk_cl_core *c, uint32_t node, const struct prk_cl_snapshot *s,
                        uint64_t now)
{
	if (!c->past_p || !prk_cl_view_eq(&s->view, &c->view))
		return;
	for (size_t i = 0; i < c->n_snaps; i++) {
		struct snap *x = &c->snaps[i];
		if (memcmp(x->naa, s->naa, 16) || x->got)
			continue;
		if (c->view.m[donor(c, x->naa)].node != node)
			return; /* not this LU's donor */
		if (c->installing) {
			x->blob = malloc(s->blob_len ? s->blob_len : 1);
			if (!x->blob) {
				become_failed(c, "out of memory for a snapshot");
				return;
			}
			memcpy(x->blob, s->blob, s->blob_len);
			x->len = s->blob_len;
		}
		x->seq = s->seq;
		x->got = true;
		try_finish_round(c, now);
		return;
	}
}

static void on_sync_done(struct prk_cl_core *c, uint32_t node, struct prk_cl_msg *m, uint64_t now)
{
	struct prk_cl_sync_done *d = &m->u.done;
	if (!c->past_p || c->have_done || !prk_cl_view_eq(&d->view, &c->view) ||
	    c->view.m[leader(c)].node != node)
		return;
	c->done = *d;
	d->pending = NULL; /* taken */
	d->n_pending = 0;
	c->have_done = true;
	try_finish_round(c, now);
}

static void on_event(struct prk_cl_core *c, const uint8_t *raw, size_t len, uint32_t node,
                     uint32_t pid, const struct prk_cl_event *ev, uint64_t now)
{
	if (c->synced && c->primary) {
		apply_event(c, ev, now);
		return;
	}
	/* A newcomer keeps the events delivered after P for after its
	 * install; before P they are in the snapshot. */
	if (c->installing && c->past_p) {
		if (grow((void **)&c->q, &c->capq, c->nq, sizeof(*c->q)))
			return become_failed(c, "out of memory for queued events");
		uint8_t *copy = malloc(len);
		if (!copy)
			return become_failed(c, "out of memory for queued events");
		memcpy(copy, raw, len);
		c->q[c->nq++] = (struct qmsg){.msg = copy, .len = len, .node = node, .pid = pid};
	}
}

void prk_cl_core_deliver(struct prk_cl_core *c, uint32_t node, uint32_t pid, const uint8_t *raw,
                         size_t len, uint64_t now)
{
	if (c->state == PRK_CL_ST_FAILED || !c->have_view)
		return;
	struct prk_cl_msg m;
	char err[200];
	if (prk_cl_msg_decode(raw, len, &m, err, sizeof(err))) {
		logf_(c, 1, "cluster: dropped a message from node %u: %s", node, err);
		return;
	}
	if (m.sender != node) {
		logf_(c, 1,
		      "cluster: dropped a message from node %u that claims to be from node %u",
		      node, m.sender);
		prk_cl_msg_free(&m);
		return;
	}
	switch (m.type) {
	case PRK_CL_HELLO:
		on_hello(c, node, &m, now);
		break;
	case PRK_CL_SNAPSHOT:
		on_snapshot(c, node, &m.u.snap, now);
		break;
	case PRK_CL_SYNC_DONE:
		on_sync_done(c, node, &m, now);
		break;
	case PRK_CL_EVENT:
		on_event(c, raw, len, node, pid, &m.u.ev, now);
		break;
	case PRK_CL_ACK:
		on_ack(c, node, &m.u.ack, now);
		break;
	case PRK_CL_HEARTBEAT:
		/* Our own heartbeat came round in a primary view: the ring was
		 * whole when it was sent, so serving may go on for one lease
		 * from then (from the send time: one processed late, after this
		 * process was stopped, renews nothing). */
		if (node == c->cfg.node && pid == c->cfg.pid && c->synced && c->primary &&
		    c->quorate && c->state != PRK_CL_ST_INQUORATE && m.u.sent_ns <= now &&
		    m.u.sent_ns + c->cfg.lease_ns > c->lease_until)
			c->lease_until = m.u.sent_ns + c->cfg.lease_ns;
		for (uint32_t i = 0; i < c->n_appliers; i++)
			if (c->appliers[i] == node)
				c->hb_seen[i] = now;
		break;
	case PRK_CL_UA_POP:
		if (c->synced && node != c->cfg.node && c->ops.ua_pop)
			c->ops.ua_pop(c->ops.ctx, &m.u.ua);
		break;
	case PRK_CL_NEXUS_UP:
		if (c->synced && node != c->cfg.node && c->ops.nexus_up)
			c->ops.nexus_up(c->ops.ctx, &m.u.ua);
		break;
	case PRK_CL_SYNC_REQ:
		/* The sender is not synced (it was inquorate): it is no applier
		 * any more, and a round brings it the state. */
		if (prk_cl_view_eq(&m.u.req, &c->view) && majority(c, &c->view) &&
		    (c->state == PRK_CL_ST_INQUORATE || c->state == PRK_CL_ST_SERVING)) {
			c->primary = true;
			remove_applier(c, node);
			start_round(c);
			settle(c, now);
		}
		break;
	}
	prk_cl_msg_free(&m);
}

/* ---- timers ---- */

void prk_cl_core_tick(struct prk_cl_core *c, uint64_t now)
{
	if (c->synced && c->primary && c->quorate && now >= c->next_hb) {
		uint8_t *msg;
		size_t len = prk_cl_enc_heartbeat(c->cfg.node, now, &msg);
		send_msg(c, msg, len);
		c->next_hb = now + c->cfg.heartbeat_ns;
	}
	if (c->hold_until && now >= c->hold_until) {
		c->hold_until = 0;
		logf_(c, 2, "cluster: departure hold over");
	}
	/* Stop waiting for the ACKs of appliers that went silent. */
	for (uint32_t i = 0; i < c->n_appliers && c->synced; i++) {
		uint32_t node = c->appliers[i];
		if (node == c->cfg.node || now < c->hb_seen[i] + c->cfg.lease_ns + c->cfg.margin_ns)
			continue;
		bool dropped = false;
		for (size_t k = 0; k < c->npend; k++) {
			uint32_t before = c->pend[k].n_waiting;
			drop_waiting(&c->pend[k], node);
			dropped = dropped || c->pend[k].n_waiting != before;
		}
		if (dropped)
			logf_(c, 1,
			      "cluster: node %u sent no heartbeat for %llu ms: it serves nothing "
			      "now; not "
			      "waiting for its acknowledgements",
			      node, (unsigned long long)((now - c->hb_seen[i]) / 1000000));
	}
	settle(c, now);
}

uint64_t prk_cl_core_next_tick(const struct prk_cl_core *c)
{
	uint64_t t = UINT64_MAX;
	if (c->synced && c->primary && c->quorate)
		t = c->next_hb;
	if (c->hold_until && c->hold_until < t)
		t = c->hold_until;
	return t;
}

/* ---- life and status ---- */

struct prk_cl_core *prk_cl_core_new(const struct prk_cl_core_cfg *cfg,
                                    const struct prk_cl_core_ops *ops)
{
	struct prk_cl_core *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->ops = *ops;
	/* Event ids must not repeat when a node's prkitd restarts while the
	 * others still remember its earlier events: the pid makes them
	 * distinct per process. */
	c->next_id = (uint64_t)cfg->pid << 32;
	c->state = PRK_CL_ST_STARTING;
	snprintf(c->why, sizeof(c->why), "joining the cluster group");
	return c;
}

void prk_cl_core_free(struct prk_cl_core *c)
{
	if (!c)
		return;
	clear_round(c);
	free(c->q);
	free(c->acks);
	free(c->pend);
	free(c->sent);
	free(c->reads);
	free(c);
}

uint64_t prk_cl_core_lease(const struct prk_cl_core *c)
{
	if (!c->synced || !c->primary || !c->quorate)
		return 0;
	return c->lease_until;
}

enum prk_cl_state prk_cl_core_state(const struct prk_cl_core *c)
{
	return c->state;
}

uint64_t prk_cl_core_epoch(const struct prk_cl_core *c)
{
	return c->epoch;
}

void prk_cl_core_status(const struct prk_cl_core *c, struct prk_cl_status *o)
{
	memset(o, 0, sizeof(*o));
	o->state = c->state;
	snprintf(o->why, sizeof(o->why), "%s", c->why);
	o->view = c->view;
	o->quorate = c->quorate;
	o->primary = c->primary;
	o->synced = c->synced;
	o->epoch = c->epoch;
	o->events_applied = c->events_applied;
	o->divergences = c->divergences;
	o->pending = c->npend;
	o->held_reads = c->nreads;
	o->sent = c->nsent;
	o->lease_until = c->lease_until;
	o->hold_until = c->hold_until;
	o->n_ports = c->n_ports;
	memcpy(o->ports, c->ports, c->n_ports * sizeof(c->ports[0]));
}
