/* prkitd in cluster mode (see daemon_cluster.h and docs/cluster.md).
 *
 * Every LU's PR-changing events leave through the LU hooks installed
 * here, go to the protocol core, which multicasts them; what Corosync
 * delivers goes to the core, which applies events through
 * prk_lu_event_apply on this node's LU and completes the commands that
 * wait. The core is pure; this file owns the clock, Corosync and the
 * daemon's LUs, portals and ALUA table. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aptpl.h"
#include "byteorder.h"
#include "cl_core.h"
#include "cs.h"
#include "daemon.h"
#include "daemon_cluster.h"
#include "log.h"
#include "loop.h"
#include "lu.h"

#define MAX_LINKS 8

/* A command waiting for its event to be stable everywhere. */
struct own {
	struct prk_dcluster *cl;
	struct prk_dlu *x;
	struct prk_lu_prout *prout; /* one of these two */
	struct prk_lu_spc2_op *spc2;
	const struct prk_lu_cmd *cmd;
	struct prk_pr_result res;
	bool applying;   /* prk_lu_event_apply runs (its barrier) */
	bool have_res;   /* applied here: res holds the outcome */
	bool fail_after; /* the core gave up while the barrier ran */
	bool ok_after;   /* stable while ... (cannot happen: ACK follows) */
};

/* What prk_lu_event_apply's completion needs. */
struct applying {
	struct prk_dcluster *cl;
	struct prk_cl_event_id id;
	struct own *own;
};

struct held_read {
	struct prk_lu *lu;
	struct prk_lu_cmd *cmd;
};

struct link_state {
	uint32_t node;
	unsigned link;
	bool up;
};

struct prk_dcluster {
	struct daemon *d;
	struct prk_cs *cs;
	struct prk_cl_core *core;
	struct prk_loop_fd *timer;
	struct prk_cs_info info;
	uint64_t gate; /* the LUs' serving gate: CLOCK_MONOTONIC_COARSE ns */
	bool portals_open;
	bool left;
	struct held_read *reads;
	size_t nreads, capreads;
	bool node_failure; /* a member of the coming confchg left with its node */
	struct link_state links[PRK_CL_MAX_NODES * MAX_LINKS];
	size_t nlinks;
	uint64_t serving_since;
	unsigned lease_ms; /* configured, or derived from Corosync's timeouts */
	bool gate_was_open;
	uint64_t lease_lapses; /* leases that ran out while serving */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* After every call into the core: the gate follows its lease. */
static void refresh(struct prk_dcluster *cl)
{
	cl->gate = cl->core ? prk_cl_core_lease(cl->core) : 0;
}

static struct prk_dlu *find_dlu(struct prk_dcluster *cl, const uint8_t naa[16])
{
	struct daemon *d = cl->d;
	for (size_t i = 0; i < d->n_lus; i++)
		if (!memcmp(prk_lu_naa(d->lus[i]->lu), naa, 16))
			return d->lus[i];
	return NULL;
}

static void wire_nexus(struct prk_cl_nexus *w, const struct prk_nexus *nx)
{
	snprintf(w->name, sizeof(w->name), "%s", nx->name);
	w->isid = nx->isid;
	w->rtpi = nx->rtpi;
}

/* ---- what the core asks ---- */

static int op_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct prk_dcluster *cl = ctx;
	return cl->cs ? prk_cs_send(cl->cs, msg, len) : -1;
}

static size_t op_lus(void *ctx, struct prk_cl_lu_def **out)
{
	struct prk_dcluster *cl = ctx;
	struct daemon *d = cl->d;
	*out = calloc(d->n_lus ? d->n_lus : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (size_t i = 0; i < d->n_lus; i++) {
		const struct prk_dlu *x = d->lus[i];
		const struct prk_lu_config *lc = prk_lu_config(x->lu);
		struct prk_cl_lu_def *def = &(*out)[i];
		memcpy(def->naa, prk_lu_naa(x->lu), 16);
		snprintf(def->target, sizeof(def->target), "%s", d->targets[x->target].name);
		def->lun = x->cfg.lun;
		def->block_size = lc->block_size;
		def->blocks = lc->num_blocks;
		def->flags = (lc->no_pr ? PRK_CL_LU_NO_PR : 0) | (lc->thin ? PRK_CL_LU_THIN : 0) |
		             (lc->readonly ? PRK_CL_LU_READONLY : 0);
		def->epoch = x->epoch;
		def->seq = x->seq;
	}
	return d->n_lus;
}

static size_t op_ports(void *ctx, struct prk_cl_port *out, size_t cap)
{
	struct prk_dcluster *cl = ctx;
	const struct prk_cfg *cfg = &cl->d->cfg;
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_portals && n < cap; i++)
		out[n++] = (struct prk_cl_port){.node = cl->info.local_nodeid,
		                                .tpg = cfg->portals[i].tpgt,
		                                .rtpi = cfg->portals[i].rtpi,
		                                .state = cfg->portals[i].alua_state};
	return n;
}

static void complete_own(struct own *o, bool ok)
{
	if (ok) {
		if (o->prout)
			prk_lu_prout_complete(o->prout, &o->res);
		else
			prk_lu_spc2_complete(o->spc2, &o->res);
	} else {
		if (o->have_res)
			prk_pr_result_free(&o->res);
		/* The outcome is unknown: the port is no longer serving. */
		if (o->prout)
			prk_lu_prout_fail(o->prout, PRK_SK_NOT_READY,
			                  PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
		else
			prk_lu_spc2_fail(o->spc2, PRK_SK_NOT_READY,
			                 PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	}
	free(o);
}

static void applied(void *arg, struct prk_pr_result *res, bool persist_failed)
{
	struct applying *a = arg;
	struct prk_dcluster *cl = a->cl;
	struct prk_cl_ack ack = {.status = res->status, .persist_failed = persist_failed};
	if (res->status == PRK_STATUS_CHECK_CONDITION) {
		ack.sense_key = res->sense.key;
		ack.asc = (uint16_t)(res->sense.asc << 8 | res->sense.ascq);
	}
	struct own *o = a->own;
	if (o) {
		o->applying = false;
		/* Taken: the arrays of unit attentions and aborts are o's now,
		 * so res is emptied, or the apply's own free after done would
		 * release them under o (a double free when the command
		 * completes). */
		o->res = *res;
		prk_pr_result_init(res);
		o->have_res = true;
		if (persist_failed) {
			/* This node's copy is not durable: the command fails here. */
			prk_pr_result_free(&o->res);
			prk_pr_result_init(&o->res);
			o->res.status = PRK_STATUS_CHECK_CONDITION;
			o->res.sense.key = PRK_SK_HARDWARE_ERROR;
			o->res.sense.asc = PRK_ASC_INTERNAL_TARGET_FAILURE >> 8;
		}
	} else {
		prk_pr_result_free(res);
	}
	struct prk_cl_event_id id = a->id;
	free(a);
	if (cl->core)
		prk_cl_core_applied(cl->core, &id, &ack);
	if (o && o->fail_after)
		complete_own(o, false);
	refresh(cl);
}

static void op_apply(void *ctx, const struct prk_cl_event *ev, void *ownp)
{
	struct prk_dcluster *cl = ctx;
	struct own *o = ownp;
	struct prk_cl_ack bad = {.status = 0xff};
	struct prk_dlu *x = find_dlu(cl, ev->naa);
	struct prk_nexus nx;
	if (!x || prk_nexus_init(&nx, ev->from.name, ev->from.isid, ev->from.rtpi)) {
		prk_err("cluster: event %u/%llu names %s; not applied", ev->id.node,
		        (unsigned long long)ev->id.n, x ? "a bad nexus" : "a LU this node lacks");
		prk_cl_core_applied(cl->core, &ev->id, &bad);
		if (o)
			complete_own(o, false);
		return;
	}
	struct applying *a = malloc(sizeof(*a));
	if (!a) {
		prk_err("cluster: out of memory applying an event: leaving the cluster");
		prk_cl_core_applied(cl->core, &ev->id,
		                    &(struct prk_cl_ack){.status = 0xff, .persist_failed = true});
		return;
	}
	*a = (struct applying){.cl = cl, .id = ev->id, .own = o};
	x->seq++;
	x->epoch = prk_cl_core_epoch(cl->core);
	struct prk_lu_event lev = {.kind = (enum prk_lu_event_kind)ev->kind,
	                           .from = nx,
	                           .cdb = ev->cdb,
	                           .cdb_len = ev->cdb_len,
	                           .params = ev->params,
	                           .params_len = ev->params_len};
	if (o)
		o->applying = true;
	prk_lu_event_apply(x->lu, &lev, o ? o->cmd : NULL, applied, a);
}

/* One LU's state as one blob: the engine's snapshot, then the UA table. */
static size_t op_snapshot(void *ctx, const uint8_t naa[16], uint8_t **out, uint64_t *seq)
{
	struct prk_dcluster *cl = ctx;
	struct prk_dlu *x = find_dlu(cl, naa);
	*out = NULL;
	if (!x)
		return 0;
	uint8_t *pr = NULL, *ua = NULL;
	size_t npr = prk_pr_snapshot_encode(prk_lu_pr(x->lu), &pr);
	size_t nua = prk_lu_ua_export(x->lu, &ua);
	size_t len = 0;
	if (npr && nua && (*out = malloc(8 + npr + nua))) {
		prk_put_be32(*out, (uint32_t)npr);
		prk_put_be32(*out + 4, (uint32_t)nua);
		memcpy(*out + 8, pr, npr);
		memcpy(*out + 8 + npr, ua, nua);
		len = 8 + npr + nua;
	}
	free(pr);
	free(ua);
	*seq = x->seq;
	return len;
}

static int op_install(void *ctx, const uint8_t naa[16], const uint8_t *blob, size_t len,
                      uint64_t seq)
{
	struct prk_dcluster *cl = ctx;
	struct prk_dlu *x = find_dlu(cl, naa);
	if (!x || len < 8)
		return -1;
	size_t npr = prk_get_be32(blob), nua = prk_get_be32(blob + 4);
	if (npr > len - 8 || nua != len - 8 - npr)
		return -1;
	struct prk_field_err fe;
	if (prk_pr_snapshot_decode(prk_lu_pr(x->lu), blob + 8, npr, &fe)) {
		prk_err("cluster: the snapshot of target %s LUN %u is bad (%s at byte %u)",
		        cl->d->targets[x->target].name, x->cfg.lun, fe.field, fe.byte);
		return -1;
	}
	if (prk_lu_ua_import(x->lu, blob + 8 + npr, nua)) {
		prk_err("cluster: the unit attentions of target %s LUN %u are bad",
		        cl->d->targets[x->target].name, x->cfg.lun);
		return -1;
	}
	x->seq = seq;
	x->epoch = prk_cl_core_epoch(cl->core);
	/* The record on disk follows the state received. */
	if (x->aptpl_path) {
		uint8_t *rec = NULL;
		size_t rl = prk_pr_record_encode(prk_lu_pr(x->lu), &rec);
		uint8_t *w = NULL;
		size_t wl = rl ? prk_dcluster_record_wrap(x->epoch, x->seq, rec, rl, &w) : 0;
		char err[512];
		int r = wl ? prk_aptpl_write(x->aptpl_path, w, wl, err, sizeof(err)) : -1;
		free(rec);
		free(w);
		if (r) {
			prk_err("cluster: %s", err);
			return -1;
		}
	}
	return 0;
}

static void op_complete(void *ctx, void *ownp, bool ok)
{
	(void)ctx;
	struct own *o = ownp;
	if (!ok && o->applying) {
		o->fail_after = true; /* after the barrier: it still uses the command */
		return;
	}
	if (ok && !o->have_res) {
		/* stable before applied here cannot happen (our own ACK follows
		 * the application); fail safe */
		complete_own(o, false);
		return;
	}
	complete_own(o, ok);
}

static void op_read_ready(void *ctx, void *cookie, bool ok)
{
	struct prk_dcluster *cl = ctx;
	for (size_t i = 0; i < cl->nreads; i++) {
		if (cl->reads[i].cmd != cookie)
			continue;
		struct held_read r = cl->reads[i];
		cl->reads[i] = cl->reads[--cl->nreads];
		if (ok)
			prk_lu_prin_resume(r.lu, r.cmd);
		else
			prk_lu_cmd_fail(r.lu, r.cmd, PRK_SK_NOT_READY,
			                PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
		return;
	}
}

/* Local ports: serving ones in their configured state, unavailable while
 * the node does not serve; remote ones as the cluster's table says. */
static void set_local_alua(struct prk_dcluster *cl, bool serving)
{
	struct daemon *d = cl->d;
	bool changed = false;
	for (size_t i = 0; i < d->cfg.n_portals; i++) {
		const struct prk_cfg_portal *p = &d->cfg.portals[i];
		enum prk_lu_alua_state st =
		    serving ? (enum prk_lu_alua_state)p->alua_state : PRK_LU_ALUA_UNAVAILABLE;
		if (prk_lu_port_groups_set(&d->tpgs, p->rtpi, st) == 1)
			changed = true;
	}
	if (changed)
		for (size_t i = 0; i < d->n_lus; i++)
			prk_lu_alua_changed(d->lus[i]->lu);
}

static void open_portals(struct prk_dcluster *cl)
{
	char err[512];
	if (cl->portals_open)
		return;
	if (prk_daemon_open_portals(cl->d, err, sizeof(err))) {
		prk_err("cluster: %s", err);
		return;
	}
	cl->portals_open = true;
}

static void op_state(void *ctx, enum prk_cl_state st, const char *why)
{
	struct prk_dcluster *cl = ctx;
	if (st == PRK_CL_ST_FAILED)
		prk_err("cluster: node %u is %s: %s", cl->info.local_nodeid, prk_cl_state_name(st),
		        why);
	else
		prk_info("cluster: node %u is %s (%s)", cl->info.local_nodeid,
		         prk_cl_state_name(st), why);
	if (st == PRK_CL_ST_SERVING) {
		cl->serving_since = now_ns();
		/* The state is here before any portal accepts a login. */
		open_portals(cl);
		set_local_alua(cl, true);
	} else if (st == PRK_CL_ST_INQUORATE || st == PRK_CL_ST_FAILED) {
		set_local_alua(cl, false);
	}
}

static bool node_in_view(const struct prk_cl_status *s, uint32_t node)
{
	return prk_cl_view_find(&s->view, node) >= 0;
}

/* The cluster's port table into the daemon's ALUA table: every other
 * node's groups, unavailable when the node is not a member now. */
static void sync_remote_ports(struct prk_dcluster *cl)
{
	struct daemon *d = cl->d;
	struct prk_cl_status *s = malloc(sizeof(*s));
	if (!s)
		return;
	prk_cl_core_status(cl->core, s);
	bool changed = false;
	for (size_t i = 0; i < s->n_ports; i++) {
		const struct prk_cl_port *p = &s->ports[i];
		if (p->node == cl->info.local_nodeid)
			continue;
		enum prk_lu_alua_state st = node_in_view(s, p->node)
		                                ? (enum prk_lu_alua_state)p->state
		                                : PRK_LU_ALUA_UNAVAILABLE;
		const struct prk_lu_port_group *g = prk_lu_port_groups_find(&d->tpgs, p->rtpi);
		if (!g) {
			if (prk_lu_port_groups_add(&d->tpgs, p->tpg, p->rtpi, st) == 0)
				changed = true;
		} else if (prk_lu_port_groups_set(&d->tpgs, p->rtpi, st) == 1) {
			changed = true;
		}
	}
	free(s);
	if (!changed)
		return;
	uint16_t rtpis[PRK_DAEMON_MAX_RTPIS];
	size_t n = prk_daemon_rtpis(d, rtpis, PRK_DAEMON_MAX_RTPIS);
	for (size_t i = 0; i < d->n_lus; i++) {
		prk_pr_set_ports(prk_lu_pr(d->lus[i]->lu), rtpis, n);
		prk_lu_alua_changed(d->lus[i]->lu);
	}
}

static void op_ports_changed(void *ctx, const struct prk_cl_port *p, size_t n)
{
	(void)p;
	(void)n;
	sync_remote_ports(ctx);
}

static void to_nexus(const struct prk_cl_nexus *w, struct prk_nexus *nx, bool *ok)
{
	*ok = prk_nexus_init(nx, w->name, w->isid, w->rtpi) == 0;
}

static void op_ua_pop(void *ctx, const struct prk_cl_ua *u)
{
	struct prk_dlu *x = find_dlu(ctx, u->naa);
	struct prk_nexus nx;
	bool ok;
	to_nexus(&u->nx, &nx, &ok);
	if (x && ok)
		prk_lu_ua_consumed(x->lu, &nx, u->asc);
}

static void op_nexus_up(void *ctx, const struct prk_cl_ua *u)
{
	struct prk_dlu *x = find_dlu(ctx, u->naa);
	struct prk_nexus nx;
	bool ok;
	to_nexus(&u->nx, &nx, &ok);
	if (x && ok)
		prk_lu_nexus_known(x->lu, &nx, true);
}

static void op_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level == 0)
		prk_err("%s", msg);
	else if (level == 1)
		prk_warn("%s", msg);
	else if (level == 2)
		prk_info("%s", msg);
	else
		prk_debug("%s", msg);
}

static void op_leave(void *ctx)
{
	struct prk_dcluster *cl = ctx;
	/* A failed node stays out until it is restarted: leaving the group
	 * lets the others go on without it. */
	cl->left = true;
	if (cl->cs) {
		prk_cs_close(cl->cs);
		cl->cs = NULL;
	}
}

/* ---- what Corosync says ---- */

static void cs_deliver(void *arg, uint32_t node, uint32_t pid, const uint8_t *msg, size_t len)
{
	struct prk_dcluster *cl = arg;
	if (!cl->core)
		return;
	prk_cl_core_deliver(cl->core, node, pid, msg, len, now_ns());
	refresh(cl);
}

static void cs_confchg(void *arg, const struct prk_cs_member *m, size_t n)
{
	struct prk_dcluster *cl = arg;
	if (!cl->core)
		return;
	struct prk_cl_member mm[PRK_CL_MAX_NODES];
	size_t k = 0;
	for (size_t i = 0; i < n && k < PRK_CL_MAX_NODES; i++)
		mm[k++] = (struct prk_cl_member){.node = m[i].nodeid, .pid = m[i].pid};
	prk_info("cluster: %zu member%s in the group", n, n == 1 ? "" : "s");
	prk_cl_core_confchg(cl->core, mm, k, cl->node_failure, now_ns());
	cl->node_failure = false;
	refresh(cl);
	sync_remote_ports(cl);
}

static void cs_left(void *arg, uint32_t node, uint32_t pid, bool node_down)
{
	struct prk_dcluster *cl = arg;
	prk_info("cluster: node %u (pid %u) left the group: %s", node, pid,
	         node_down ? "node failure" : "its prkitd ended or left");
	if (node_down)
		cl->node_failure = true;
}

static void cs_quorum(void *arg, bool quorate)
{
	struct prk_dcluster *cl = arg;
	if (!cl->core)
		return;
	prk_info("cluster: votequorum says %s", quorate ? "quorate" : "not quorate");
	prk_cl_core_quorum(cl->core, quorate, now_ns());
	refresh(cl);
}

static void cs_link(void *arg, uint32_t node, unsigned link, bool up)
{
	struct prk_dcluster *cl = arg;
	/* A link is a cable: losing one while another carries the totem
	 * changes nothing else; losing all is a node failure (confchg). */
	if (!up)
		prk_warn("cluster: link %u to node %u is down (a link failure while another link "
		         "works; with none left the node is lost and leaves the view)",
		         link, node);
	for (size_t i = 0; i < cl->nlinks; i++)
		if (cl->links[i].node == node && cl->links[i].link == link) {
			cl->links[i].up = up;
			return;
		}
	if (cl->nlinks < sizeof(cl->links) / sizeof(cl->links[0]))
		cl->links[cl->nlinks++] = (struct link_state){.node = node, .link = link, .up = up};
}

static void cs_down(void *arg)
{
	struct prk_dcluster *cl = arg;
	if (!cl->core)
		return;
	prk_err("cluster: lost the connection to corosync: not serving");
	prk_cl_core_down(cl->core, now_ns());
	refresh(cl);
}

/* A lease that lapses while the node thinks it serves (its own
 * heartbeats were not delivered in time: a starved process, a ring being
 * re-formed) closes the gate without any state change: say so, once per
 * lapse, and count it, or the NOT READY answers would be unexplained. */
static void watch_lease(struct prk_dcluster *cl, uint64_t now)
{
	bool serving = prk_cl_core_state(cl->core) == PRK_CL_ST_SERVING;
	bool open = cl->gate > now;
	if (serving && cl->gate_was_open && !open) {
		cl->lease_lapses++;
		prk_warn(
		    "cluster: node %u's lease lapsed (no heartbeat of its own delivered for %u "
		    "ms): data commands get NOT READY until the next one",
		    cl->info.local_nodeid, cl->lease_ms);
	} else if (serving && !cl->gate_was_open && open && cl->lease_lapses) {
		prk_info("cluster: node %u's lease renewed: serving again", cl->info.local_nodeid);
	}
	cl->gate_was_open = open;
}

static void on_tick(void *arg)
{
	struct prk_dcluster *cl = arg;
	uint64_t now = now_ns();
	prk_cl_core_tick(cl->core, now);
	refresh(cl);
	watch_lease(cl, now);
}

/* ---- the LU hooks ---- */

static struct own *new_own(struct prk_dlu *x, const struct prk_lu_cmd *cmd)
{
	struct own *o = calloc(1, sizeof(*o));
	if (o) {
		o->cl = x->d->cl;
		o->x = x;
		o->cmd = cmd;
	}
	return o;
}

static void hook_prout(void *ctx, struct prk_lu *lu, struct prk_lu_prout *op)
{
	struct prk_dlu *x = ctx;
	struct prk_dcluster *cl = x->d->cl;
	struct own *o = new_own(x, op->cmd);
	if (!o) {
		prk_lu_prout_fail(op, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE);
		return;
	}
	o->prout = op;
	struct prk_cl_event ev = {
	    .kind = PRK_CL_EV_PROUT, .params = op->params, .params_len = (uint32_t)op->params_len};
	memcpy(ev.naa, prk_lu_naa(lu), 16);
	wire_nexus(&ev.from, op->from);
	ev.cdb_len = op->cmd->cdb_len > 16 ? 16 : op->cmd->cdb_len;
	memcpy(ev.cdb, op->cmd->cdb, ev.cdb_len);
	if (op->params_len > PRK_CL_MAX_PARAMS) {
		free(o);
		prk_lu_prout_fail(op, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	if (prk_cl_core_submit(cl->core, &ev, o, now_ns())) {
		free(o);
		prk_lu_prout_fail(op, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	}
	refresh(cl);
}

static void hook_spc2(void *ctx, struct prk_lu *lu, struct prk_lu_spc2_op *op)
{
	struct prk_dlu *x = ctx;
	struct prk_dcluster *cl = x->d->cl;
	struct own *o = new_own(x, op->cmd);
	if (!o) {
		prk_lu_spc2_fail(op, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE);
		return;
	}
	o->spc2 = op;
	struct prk_cl_event ev = {.kind = PRK_CL_EV_SPC2};
	memcpy(ev.naa, prk_lu_naa(lu), 16);
	wire_nexus(&ev.from, op->from);
	ev.cdb_len = op->cmd->cdb_len > 16 ? 16 : op->cmd->cdb_len;
	memcpy(ev.cdb, op->cmd->cdb, ev.cdb_len);
	if (prk_cl_core_submit(cl->core, &ev, o, now_ns())) {
		free(o);
		prk_lu_spc2_fail(op, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	}
	refresh(cl);
}

static void hook_event(void *ctx, struct prk_lu *lu, enum prk_lu_event_kind kind,
                       const struct prk_nexus *nx)
{
	struct prk_dlu *x = ctx;
	struct prk_dcluster *cl = x->d->cl;
	/* The LU keeps its hooks after prk_dcluster_stop: the nexus losses
	 * of the connections closed at shutdown come after it, with nothing
	 * left to replicate them to. */
	if (!cl)
		return;
	struct prk_cl_event ev = {.kind = (uint8_t)kind};
	memcpy(ev.naa, prk_lu_naa(lu), 16);
	if (nx)
		wire_nexus(&ev.from, nx);
	else
		snprintf(ev.from.name, sizeof(ev.from.name), "iqn.2026-12.io.prkit:lu-reset");
	if (prk_cl_core_submit(cl->core, &ev, NULL, now_ns()))
		prk_warn("cluster: not serving: the %s on target %s LUN %u is not replicated",
		         kind == PRK_LU_EV_RESET ? "LU reset" : "I_T nexus loss",
		         x->d->targets[x->target].name, x->cfg.lun);
	refresh(cl);
}

static void hook_ua_consumed(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx, uint16_t asc)
{
	struct prk_dlu *x = ctx;
	if (!x->d->cl)
		return; /* stopping, as in hook_event */
	struct prk_cl_ua u = {.asc = asc};
	memcpy(u.naa, prk_lu_naa(lu), 16);
	wire_nexus(&u.nx, nx);
	prk_cl_core_ua(x->d->cl->core, PRK_CL_UA_POP, &u);
}

static void hook_nexus_first(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx)
{
	struct prk_dlu *x = ctx;
	if (!x->d->cl)
		return; /* stopping, as in hook_event */
	struct prk_cl_ua u = {0};
	memcpy(u.naa, prk_lu_naa(lu), 16);
	wire_nexus(&u.nx, nx);
	prk_cl_core_ua(x->d->cl->core, PRK_CL_NEXUS_UP, &u);
}

static bool hook_prin_wait(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_dlu *x = ctx;
	struct prk_dcluster *cl = x->d->cl;
	bool refuse;
	if (prk_cl_core_read(cl->core, cmd, &refuse, now_ns()))
		return false;
	if (refuse) {
		prk_lu_cmd_fail(lu, cmd, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
		return true;
	}
	if (cl->nreads == cl->capreads) {
		size_t cap = cl->capreads ? cl->capreads * 2 : 16;
		struct held_read *r = realloc(cl->reads, cap * sizeof(*r));
		if (!r) {
			prk_cl_core_forget(cl->core, cmd);
			prk_lu_cmd_fail(lu, cmd, PRK_SK_HARDWARE_ERROR,
			                PRK_ASC_INTERNAL_TARGET_FAILURE);
			return true;
		}
		cl->reads = r;
		cl->capreads = cap;
	}
	cl->reads[cl->nreads++] = (struct held_read){.lu = lu, .cmd = cmd};
	return true;
}

void prk_dcluster_lu_hooks(struct daemon *d, struct prk_dlu *x, struct prk_lu_pr_hooks *h)
{
	if (!d->cl)
		return;
	h->prout = hook_prout;
	h->spc2 = hook_spc2;
	h->event = hook_event;
	h->ua_consumed = hook_ua_consumed;
	h->nexus_first = hook_nexus_first;
	h->prin_wait = hook_prin_wait;
	prk_lu_set_gate(x->lu, &d->cl->gate);
}

/* ---- life ---- */

int prk_dcluster_start(struct daemon *d, char *err, size_t errlen)
{
	struct prk_dcluster *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cl->d = d;
	d->cl = cl;
	char group[80];
	snprintf(group, sizeof(group), "prkit-%s", d->cfg.cluster.name);
	static const struct prk_cs_ops cs_ops = {.deliver = cs_deliver,
	                                         .confchg = cs_confchg,
	                                         .left = cs_left,
	                                         .quorum = cs_quorum,
	                                         .link = cs_link,
	                                         .down = cs_down};
	/* The core first: Corosync's first callbacks may come during open. */
	struct prk_cl_core_ops ops = {.ctx = cl,
	                              .send = op_send,
	                              .lus = op_lus,
	                              .ports = op_ports,
	                              .apply = op_apply,
	                              .snapshot = op_snapshot,
	                              .install = op_install,
	                              .complete = op_complete,
	                              .read_ready = op_read_ready,
	                              .state = op_state,
	                              .ports_changed = op_ports_changed,
	                              .ua_pop = op_ua_pop,
	                              .nexus_up = op_nexus_up,
	                              .log = op_log,
	                              .leave = op_leave};
	char e[256];
	cl->cs = prk_cs_open(d->loop, group, &cs_ops, cl, e, sizeof(e));
	if (!cl->cs) {
		snprintf(err, errlen, "cluster: %s", e);
		goto fail;
	}
	if (prk_cs_info(cl->cs, &cl->info)) {
		snprintf(err, errlen, "cluster: cannot read corosync's node list");
		goto fail;
	}
	if (cl->info.n_nodes == 2 && !cl->info.qdevice) {
		snprintf(
		    err, errlen,
		    "cluster: a two-node cluster needs a quorum device (corosync-qdevice with "
		    "qnetd on a third machine): with two_node alone both halves of a split stay "
		    "quorate; see docs/cluster.md");
		goto fail;
	}
	if (cl->info.n_nodes > PRK_CL_MAX_NODES) {
		snprintf(err, errlen, "cluster: corosync lists %zu nodes; at most %d are supported",
		         cl->info.n_nodes, PRK_CL_MAX_NODES);
		goto fail;
	}
	/* Failure detection: the survivors' view comes token + consensus
	 * after a node fails, and nothing is delivered meanwhile, so no lease
	 * is renewed: a lease shorter than that stops every survivor too. */
	uint64_t detection_ms = (uint64_t)cl->info.token_ms + cl->info.consensus_ms;
	unsigned lease_ms = d->cfg.cluster.lease_ms;
	if (!lease_ms)
		lease_ms = (unsigned)(detection_ms + 800);
	else if (lease_ms <= detection_ms + d->cfg.cluster.heartbeat_ms)
		prk_warn(
		    "cluster: lease_ms %u is not longer than Corosync's failure detection (token "
		    "%u + consensus %u ms) plus a heartbeat: the surviving nodes will stop serving "
		    "while a node failure is detected",
		    lease_ms, cl->info.token_ms, cl->info.consensus_ms);
	if (lease_ms < 2 * d->cfg.cluster.heartbeat_ms) {
		snprintf(err, errlen,
		         "cluster.lease_ms: %u ms: must be at least twice heartbeat_ms", lease_ms);
		goto fail;
	}
	cl->lease_ms = lease_ms;
	struct prk_cl_core_cfg cc = {
	    .node = cl->info.local_nodeid,
	    .pid = (uint32_t)getpid(),
	    .n_configured = (uint32_t)cl->info.n_nodes,
	    .qdevice = cl->info.qdevice,
	    .heartbeat_ns = (uint64_t)d->cfg.cluster.heartbeat_ms * 1000000ull,
	    .lease_ns = (uint64_t)lease_ms * 1000000ull,
	    /* The least time from a failure to the survivors' view is the
	     * token timeout: consensus may finish before its timeout (seen:
	     * 2.0 s where token + consensus is 2.2 s), so only the token
	     * counts as surely elapsed. */
	    .detection_ns = (uint64_t)cl->info.token_ms * 1000000ull,
	    .margin_ns = (uint64_t)d->cfg.cluster.margin_ms * 1000000ull,
	    /* the device's timeout plus detection (token + consensus, 1.2 x
	     * token) and as much again for qdevice's own reaction */
	    .qdevice_hold_ns =
	        ((uint64_t)cl->info.qdevice_timeout_ms + (uint64_t)cl->info.token_ms * 3) *
	        1000000ull,
	};
	cl->core = prk_cl_core_new(&cc, &ops);
	if (!cl->core) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < d->n_lus; i++)
		prk_daemon_lu_set_hooks(d, d->lus[i]);
	cl->timer = prk_loop_timer(d->loop, 20, on_tick, cl);
	if (!cl->timer) {
		snprintf(err, errlen, "cluster: cannot create its timer");
		goto fail;
	}
	prk_info("cluster: node %u of %zu joins group %s%s; lease %u ms, failure detection %llu ms",
	         cl->info.local_nodeid, cl->info.n_nodes, group,
	         cl->info.qdevice ? " (with a quorum device)" : "", lease_ms,
	         (unsigned long long)detection_ms);
	/* Quorum and the first configuration change may already be known. */
	prk_cl_core_quorum(cl->core, cl->info.quorate, now_ns());
	refresh(cl);
	return 0;
fail:
	prk_dcluster_stop(d);
	return -1;
}

void prk_dcluster_stop(struct daemon *d)
{
	struct prk_dcluster *cl = d->cl;
	if (!cl)
		return;
	if (cl->timer)
		prk_loop_del(d->loop, cl->timer);
	if (cl->cs)
		prk_cs_close(cl->cs);
	cl->cs = NULL;
	/* Commands waiting for the cluster end now (NOT READY 04/0C): the
	 * core fails them as a node leaving the primary view does. */
	if (cl->core)
		prk_cl_core_down(cl->core, now_ns());
	for (size_t i = 0; i < cl->nreads; i++)
		prk_lu_cmd_fail(cl->reads[i].lu, cl->reads[i].cmd, PRK_SK_NOT_READY,
		                PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	free(cl->reads);
	struct prk_cl_core *core = cl->core;
	cl->core = NULL;
	prk_cl_core_free(core);
	free(cl);
	d->cl = NULL;
	/* No cluster hook may run after this (a connection closed during
	 * shutdown reports a nexus loss), and nothing is served any more:
	 * the standalone hooks, and a gate that stays shut. */
	static const uint64_t shut = 0;
	for (size_t i = 0; i < d->n_lus; i++) {
		prk_daemon_lu_set_hooks(d, d->lus[i]);
		prk_lu_set_gate(d->lus[i]->lu, &shut);
	}
}

/* ---- the record header ---- */

size_t prk_dcluster_record_wrap(uint64_t epoch, uint64_t seq, const uint8_t *rec, size_t len,
                                uint8_t **out)
{
	*out = malloc(PRK_DCLUSTER_REC_HDR + len);
	if (!*out)
		return 0;
	memcpy(*out, PRK_DCLUSTER_REC_MAGIC, 8);
	prk_put_be64(*out + 8, epoch);
	prk_put_be64(*out + 16, seq);
	memcpy(*out + PRK_DCLUSTER_REC_HDR, rec, len);
	return PRK_DCLUSTER_REC_HDR + len;
}

int prk_dcluster_record_unwrap(const uint8_t *buf, size_t len, uint64_t *epoch, uint64_t *seq,
                               const uint8_t **rec, size_t *rlen)
{
	if (len < PRK_DCLUSTER_REC_HDR || memcmp(buf, PRK_DCLUSTER_REC_MAGIC, 8))
		return 0;
	*epoch = prk_get_be64(buf + 8);
	*seq = prk_get_be64(buf + 16);
	*rec = buf + PRK_DCLUSTER_REC_HDR;
	*rlen = len - PRK_DCLUSTER_REC_HDR;
	return 1;
}

/* ---- status ---- */

json_object *prk_dcluster_status(struct daemon *d)
{
	struct prk_dcluster *cl = d->cl;
	json_object *o = json_object_new_object();
	if (!cl) {
		json_object_object_add(o, "enabled", json_object_new_boolean(false));
		return o;
	}
	struct prk_cl_status *s = malloc(sizeof(*s));
	if (!s)
		return o;
	prk_cl_core_status(cl->core, s);
	uint64_t now = now_ns();
	json_object_object_add(o, "enabled", json_object_new_boolean(true));
	json_object_object_add(o, "node", json_object_new_int64(cl->info.local_nodeid));
	json_object_object_add(o, "group", json_object_new_string(d->cfg.cluster.name));
	json_object_object_add(o, "state", json_object_new_string(prk_cl_state_name(s->state)));
	json_object_object_add(o, "why", json_object_new_string(s->why));
	json_object_object_add(o, "quorate", json_object_new_boolean(s->quorate));
	json_object_object_add(o, "primary", json_object_new_boolean(s->primary));
	json_object_object_add(o, "synced", json_object_new_boolean(s->synced));
	json_object_object_add(o, "configured_nodes",
	                       json_object_new_int64((int64_t)cl->info.n_nodes));
	json_object_object_add(o, "quorum_device", json_object_new_boolean(cl->info.qdevice));
	json_object_object_add(o, "epoch", json_object_new_int64((int64_t)s->epoch));
	json_object_object_add(o, "lease_ms", json_object_new_int64(cl->lease_ms));
	json_object_object_add(o, "lease_lapses", json_object_new_int64((int64_t)cl->lease_lapses));
	json_object_object_add(
	    o, "lease_ms_left",
	    json_object_new_int64(s->lease_until > now && cl->gate
	                              ? (int64_t)((s->lease_until - now) / 1000000)
	                              : 0));
	json_object_object_add(o, "events_applied",
	                       json_object_new_int64((int64_t)s->events_applied));
	json_object_object_add(o, "events_pending", json_object_new_int64((int64_t)s->pending));
	json_object_object_add(o, "divergences", json_object_new_int64((int64_t)s->divergences));
	json_object *mem = json_object_new_array();
	for (uint32_t i = 0; i < s->view.n; i++) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "node", json_object_new_int64(s->view.m[i].node));
		json_object_object_add(m, "pid", json_object_new_int64(s->view.m[i].pid));
		json_object *ls = json_object_new_array();
		for (size_t k = 0; k < cl->nlinks; k++)
			if (cl->links[k].node == s->view.m[i].node) {
				json_object *l = json_object_new_object();
				json_object_object_add(l, "link",
				                       json_object_new_int64(cl->links[k].link));
				json_object_object_add(l, "up",
				                       json_object_new_boolean(cl->links[k].up));
				json_object_array_add(ls, l);
			}
		json_object_object_add(m, "links", ls);
		json_object_array_add(mem, m);
	}
	json_object_object_add(o, "members", mem);
	json_object *ports = json_object_new_array();
	for (size_t i = 0; i < s->n_ports; i++) {
		json_object *p = json_object_new_object();
		bool here = node_in_view(s, s->ports[i].node);
		json_object_object_add(p, "node", json_object_new_int64(s->ports[i].node));
		json_object_object_add(p, "tpgt", json_object_new_int64(s->ports[i].tpg));
		json_object_object_add(p, "rtpi", json_object_new_int64(s->ports[i].rtpi));
		json_object_object_add(
		    p, "alua_state",
		    json_object_new_string(prk_lu_alua_state_name(here ? s->ports[i].state : 3)));
		json_object_array_add(ports, p);
	}
	json_object_object_add(o, "ports", ports);
	json_object *lus = json_object_new_array();
	for (size_t i = 0; i < d->n_lus; i++) {
		const struct prk_dlu *x = d->lus[i];
		json_object *l = json_object_new_object();
		json_object_object_add(l, "target",
		                       json_object_new_string(d->targets[x->target].name));
		json_object_object_add(l, "lun", json_object_new_int64(x->cfg.lun));
		json_object_object_add(l, "seq", json_object_new_int64((int64_t)x->seq));
		json_object_object_add(l, "generation",
		                       json_object_new_int64(prk_pr_generation(prk_lu_pr(x->lu))));
		json_object_array_add(lus, l);
	}
	json_object_object_add(o, "lus", lus);
	free(s);
	return o;
}
