/* The daemon's logical units: opening one (backstore, LU, its persistent
 * reservations restored, its PR hooks) and mapping it into a target, and
 * the reverse. Used while building and by the admin socket alike. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "aptpl.h"
#include "backstore.h"
#include "check.h"
#include "cm.h"
#include "daemon.h"
#include "daemon_cluster.h"
#include "log.h"
#include "loop.h"
#include "loop_post.h"
#include "lu.h"

static void on_backstore(void *arg, uint32_t events)
{
	(void)events;
	prk_bs_complete(arg);
}

static void kick_backstore(void *arg)
{
	prk_bs_kick(arg);
}

/* A backstore that completes through an event fd is watched by the loop,
 * and batches its submissions: the I/O that a batch of events queued goes
 * to the kernel in one system call, before the responses are written and
 * again after (loop.h, PRK_LOOP_AFTER_IO and _LAST). 0, or -1. */
static int watch_backstore(struct daemon *d, struct prk_dlu *x, const char *tname)
{
	struct prk_bs_stats st;

	if (prk_bs_event_fd(x->bs) < 0)
		return 0;
	x->bs_watch = prk_loop_add(d->loop, prk_bs_event_fd(x->bs), EPOLLIN, on_backstore, x->bs);
	if (!x->bs_watch ||
	    prk_loop_after_batch_add(d->loop, PRK_LOOP_AFTER_IO, kick_backstore, x->bs) ||
	    prk_loop_after_batch_add(d->loop, PRK_LOOP_AFTER_LAST, kick_backstore, x->bs))
		return -1;
	prk_bs_set_batching(x->bs, true);
	prk_bs_stats(x->bs, &st);
	prk_debug("target %s LUN %u: io_uring setup flags 0x%x%s", tname, x->cfg.lun,
	          st.setup_flags, st.setup_flags ? "" : " (no cooperative task running)");
	return 0;
}

static void unwatch_backstore(struct daemon *d, struct prk_dlu *x)
{
	prk_loop_del(d->loop, x->bs_watch);
	x->bs_watch = NULL;
	prk_loop_after_batch_del(d->loop, kick_backstore, x->bs);
}

/* ---- the fast path: READ and WRITE on every loop (src/lu/lu_fast.c) ---- */

/* The message a loop posts to loop 0 when the LU's fast path has drained.
 * Allocated apart from the LU: one may still be queued when the LU
 * closes (then `gone` tells the handler to free it instead). */
struct prk_dlu_drain {
	struct prk_loop_msg m;
	struct prk_loop *loop0;
	struct prk_lu *lu;
	atomic_bool queued, gone;
};

static void on_drained(struct prk_loop_msg *msg)
{
	struct prk_dlu_drain *dm = (struct prk_dlu_drain *)msg;
	atomic_store(&dm->queued, false);
	if (atomic_load(&dm->gone)) {
		free(dm);
		return;
	}
	prk_lu_fast_drained(dm->lu);
}

/* From any loop; at most one at a time (the gate says so). */
static void post_drained(void *ctx)
{
	struct prk_dlu_drain *dm = ctx;
	atomic_store(&dm->queued, true);
	prk_loop_post(dm->loop0, &dm->m);
}

/* Lane i on loop i: its completions, and its kicks after each batch of
 * that loop's events, as loop 0 does for the backstore itself. */
static int lane_wire(struct daemon *d, struct prk_dlu *x, unsigned i)
{
	struct prk_bs *l = x->lanes[i];
	struct prk_loop *loop = prk_iscsi_server_loop(d->srv, i);
	if (prk_bs_event_fd(l) < 0)
		return 0;
	if (!loop)
		return -1;
	x->lane_watch[i] = prk_loop_add(loop, prk_bs_event_fd(l), EPOLLIN, on_backstore, l);
	if (!x->lane_watch[i] ||
	    prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_IO, kick_backstore, l) ||
	    prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_LAST, kick_backstore, l))
		return -1;
	prk_bs_set_batching(l, true);
	return 0;
}

static void lane_unwire(struct daemon *d, struct prk_dlu *x, unsigned i)
{
	struct prk_loop *loop = prk_iscsi_server_loop(d->srv, i);
	if (!loop || !x->lanes[i])
		return;
	if (x->lane_watch[i])
		prk_loop_del(loop, x->lane_watch[i]);
	x->lane_watch[i] = NULL;
	prk_loop_after_batch_del(loop, kick_backstore, x->lanes[i]);
}

static void lanes_free(struct prk_dlu *x)
{
	for (unsigned i = 1; x->lanes && i < x->n_lanes; i++)
		if (x->lanes[i])
			prk_bs_close(x->lanes[i]); /* drains: fast commands end */
	free(x->lanes);
	free(x->lane_watch);
	x->lanes = NULL;
	x->lane_watch = NULL;
}

/* Back to loop 0 only, with the server and its loops still running
 * (admin remove-lu, or the daemon stopping: before the loops go). The
 * other loops are paused meanwhile: none is inside a fast command's
 * check or between posting the drained message and returning from its
 * event, so `queued` is exact; what is still in a lane completes as it
 * closes. */
static void fast_stop(struct daemon *d, struct prk_dlu *x)
{
	if (!x->lanes)
		return;
	prk_iscsi_server_pause(d->srv);
	for (unsigned i = 1; i < x->n_lanes; i++)
		lane_unwire(d, x, i);
	lanes_free(x);
	prk_lu_fast_stop(x->lu);
	if (atomic_load(&x->drain_msg->queued))
		atomic_store(&x->drain_msg->gone, true);
	else
		free(x->drain_msg);
	x->drain_msg = NULL;
	prk_iscsi_server_resume(d->srv);
}

void prk_daemon_lus_fast_stop(struct daemon *d)
{
	for (size_t i = 0; i < d->n_lus; i++)
		fast_stop(d, d->lus[i]);
}

/* With several loops, READ and WRITE run on the loop of the connection
 * (src/lu/lu_fast.c), each loop through its own lane of the backstore.
 * Not in cluster mode: a cluster LU's serving gate and replicated state
 * stay on loop 0. Should a lane not open, the LU keeps loop 0's path. */
static void fast_start(struct daemon *d, struct prk_dlu *x)
{
	unsigned n = prk_iscsi_server_loops(d->srv);
	if (n < 2 || d->cl)
		return;
	x->lanes = calloc(n, sizeof(*x->lanes));
	x->lane_watch = calloc(n, sizeof(*x->lane_watch));
	x->drain_msg = calloc(1, sizeof(*x->drain_msg));
	if (!x->lanes || !x->lane_watch || !x->drain_msg)
		goto fail;
	x->n_lanes = n;
	for (unsigned i = 1; i < n; i++)
		if (!(x->lanes[i] = prk_bs_lane_open(x->bs)))
			goto fail;
	x->drain_msg->m.fn = on_drained;
	x->drain_msg->loop0 = d->loop;
	x->drain_msg->lu = x->lu;
	atomic_init(&x->drain_msg->queued, false);
	atomic_init(&x->drain_msg->gone, false);
	prk_iscsi_server_pause(d->srv);
	int r = 0;
	for (unsigned i = 1; i < n && !r; i++)
		r = lane_wire(d, x, i);
	if (r || prk_lu_fast_start(x->lu, n, x->lanes, post_drained, x->drain_msg)) {
		for (unsigned i = 1; i < n; i++)
			lane_unwire(d, x, i);
		prk_iscsi_server_resume(d->srv);
		goto fail;
	}
	prk_iscsi_server_resume(d->srv);
	return;
fail:
	prk_warn("target LUN %u: READ and WRITE stay on loop 0 (no backstore lane)", x->cfg.lun);
	lanes_free(x);
	free(x->drain_msg);
	x->drain_msg = NULL;
}

/* The LU's PR hooks, with its struct prk_dlu as context: APTPL records
 * go to the state directory, PREEMPT AND ABORT's barrier is the iSCSI
 * server's, and every PR OUT is logged with the target and LUN. */
static int persist_hook(void *ctx, struct prk_lu *lu, const uint8_t *rec, size_t len)
{
	const struct prk_dlu *x = ctx;
	char err[512];
	(void)lu;
	if (!x->aptpl_path)
		return -1;
	/* In a cluster the record carries the version of the state, so that
	 * a restart of the whole cluster restores the newest copy. */
	uint8_t *wrapped = NULL;
	if (x->d->cl) {
		len = prk_dcluster_record_wrap(x->epoch, x->seq, rec, len, &wrapped);
		if (!len)
			return -1;
		rec = wrapped;
	}
	int r = prk_aptpl_write(x->aptpl_path, rec, len, err, sizeof(err));
	free(wrapped);
	if (r) {
		prk_err("%s (the PR OUT command fails)", err);
		return -1;
	}
	return 0;
}

static void abort_hook(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
                       const struct prk_lu_cmd *except, void (*done)(void *arg), void *arg)
{
	const struct prk_dlu *x = ctx;
	prk_daemon_pr_abort(x->d, lu, sets, n, except, done, arg);
}

static void prout_log(void *ctx, struct prk_lu *lu, const struct prk_nexus *from, uint8_t sa,
                      uint8_t status, const char *why)
{
	const struct prk_dlu *x = ctx;
	const char *outcome = status == PRK_STATUS_GOOD                   ? "GOOD"
	                      : status == PRK_STATUS_RESERVATION_CONFLICT ? "RESERVATION CONFLICT"
	                                                                  : "CHECK CONDITION";
	(void)lu;
	prk_info("PR OUT %s from %s isid 0x%012llx rtpi %u on %s LUN %u: %s%s%s%s",
	         prk_prout_sa_name(sa), from->name, (unsigned long long)from->isid, from->rtpi,
	         x->d->targets[x->target].name, x->cfg.lun, outcome, why ? " (" : "",
	         why ? why : "", why ? ")" : "");
}

/* Restores the LU's persistent reservations before any portal listens.
 * A record that cannot be read or decoded is not silently ignored: the LU
 * reports PERSISTENT RESERVATION INFORMATION LOST until a host replaces
 * the reservation (REPLACE LOST RESERVATION). */
static void restore_pr(struct prk_dlu *x, struct prk_lu *lu, const char *path)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	char err[512];
	struct prk_pr_state *st = prk_lu_pr(lu);
	int r = prk_aptpl_read(path, &rec, &len, err, sizeof(err));
	if (r < 0) {
		prk_err("%s: persistent reservations are marked lost", err);
		prk_pr_mark_lost(st);
	} else if (r > 0) {
		struct prk_field_err fe;
		const uint8_t *body = rec;
		size_t blen = len;
		/* a cluster node's record: its version first */
		prk_dcluster_record_unwrap(rec, len, &x->epoch, &x->seq, &body, &blen);
		if (prk_pr_record_decode(st, body, blen, &fe)) {
			prk_err("APTPL record %s: bad %s at byte %u: persistent reservations are "
			        "marked lost",
			        path, fe.field, fe.byte);
			prk_pr_mark_lost(st);
		} else {
			prk_info("APTPL record %s: %zu registrations restored", path,
			         prk_pr_reg_count(st));
		}
	}
	free(rec);
	prk_pr_power_on(st);
}

/* Room for one more LU in the daemon and in target t. */
static int make_room(struct daemon *d, struct prk_iscsi_target *t, char *err, size_t errlen)
{
	if (d->n_lus == d->cap_lus) {
		size_t cap = d->cap_lus ? d->cap_lus * 2 : 8;
		struct prk_dlu **v = realloc(d->lus, cap * sizeof(*v));
		if (!v) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		d->lus = v;
		d->cap_lus = cap;
	}
	struct prk_iscsi_lun *luns = realloc(t->luns, (t->n_luns + 1) * sizeof(*luns));
	if (!luns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->luns = luns;
	return 0;
}

/* The backstore of cl, watched by the loop when it completes through an
 * event fd. Returns 0 or -1 with a message. */
static int open_backstore(struct daemon *d, struct prk_dlu *x, const char *tname, char *err,
                          size_t errlen)
{
	const struct prk_cfg_lun *cl = &x->cfg;
	char e[512];
	char where[PRK_ISCSI_NAME_LEN + 32];
	snprintf(where, sizeof(where), "target %s LUN %u", tname, cl->lun);
	if (prk_check_lun_file(cl, where, err, errlen))
		return -1;
	if (cl->type == PRK_CFG_BS_RAM) {
		x->bs = prk_bs_ram_open(cl->size, e, sizeof(e));
	} else {
		struct prk_bs_file_opts o;
		prk_check_file_opts(cl, &o);
		x->bs = prk_bs_file_open(&o, e, sizeof(e));
	}
	if (!x->bs) {
		snprintf(err, errlen, "target %s LUN %u: %s", tname, cl->lun, e);
		return -1;
	}
	if (watch_backstore(d, x, tname)) {
		unwatch_backstore(d, x);
		prk_bs_close(x->bs);
		snprintf(err, errlen, "target %s LUN %u: cannot watch the backstore", tname,
		         cl->lun);
		return -1;
	}
	return 0;
}

/* The LU over x's backstore; its engine knows the ports open now (some
 * may have been added or removed at run time), or, while building, the
 * configured ones. Returns 0 or -1 with a message. */
static int open_lu(struct daemon *d, struct prk_dlu *x, const char *tname, char *err, size_t errlen)
{
	const struct prk_cfg_lun *cl = &x->cfg;
	char e[512];
	struct prk_lu_config lc = {
	    .block_size = cl->block_size,
	    .num_blocks = prk_bs_size(x->bs) / cl->block_size,
	    .thin = cl->thin,
	    .readonly = cl->readonly,
	    .write_cache = true,
	    .no_pr = cl->no_pr,
	};
	snprintf(lc.serial, sizeof(lc.serial), "%s", cl->serial);
	uint16_t rtpis[PRK_DAEMON_MAX_RTPIS];
	size_t n = 0;
	if (!d->tpgs.n) { /* none open (building, or all removed): the configured ones */
		for (; n < d->cfg.n_portals && n < PRK_LU_MAX_PORT_GROUPS; n++)
			rtpis[n] = d->cfg.portals[n].rtpi;
		if (d->cm) /* and the copy manager's (prk_daemon_rtpis) */
			rtpis[n++] = prk_cm_nexus(d->cm)->rtpi;
	} else {
		n = prk_daemon_rtpis(d, rtpis, PRK_DAEMON_MAX_RTPIS);
	}
	lc.pr.rtpis = rtpis;
	lc.pr.n_rtpis = n;
	x->lu = prk_lu_new(&lc, x->bs, e, sizeof(e));
	if (!x->lu) {
		snprintf(err, errlen, "target %s LUN %u: %s", tname, cl->lun, e);
		return -1;
	}
	return 0;
}

const struct prk_dlu *prk_daemon_serial_owner(const struct daemon *d, const char *serial)
{
	for (size_t i = 0; i < d->n_lus; i++)
		if (!strcmp(d->lus[i]->cfg.serial, serial)) /* SPC: compared exactly */
			return d->lus[i];
	return NULL;
}

int prk_daemon_add_lu(struct daemon *d, size_t ti, const struct prk_cfg_lun *cl, char *err,
                      size_t errlen)
{
	struct prk_iscsi_target *t = &d->targets[ti];
	if (prk_iscsi_target_lu(t, cl->lun)) {
		snprintf(err, errlen, "target %s: LUN %u already exists", t->name, cl->lun);
		return -1;
	}
	if (make_room(d, t, err, errlen))
		return -1;
	struct prk_dlu *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*x = (struct prk_dlu){.d = d, .cfg = *cl, .target = ti};
	if (open_backstore(d, x, t->name, err, errlen)) {
		free(x);
		return -1;
	}
	if (open_lu(d, x, t->name, err, errlen)) {
		unwatch_backstore(d, x);
		prk_bs_close(x->bs);
		free(x);
		return -1;
	}
	char path[4200];
	/* An SPC-2 LU has no persistent reservations to restore or persist
	 * (a record left by an earlier configuration of the LU stays unread). */
	if (!cl->no_pr && prk_aptpl_path(d->state_dir, t->name, cl->lun, path, sizeof(path)) == 0)
		x->aptpl_path = strdup(path);
	if (x->aptpl_path)
		restore_pr(x, x->lu, x->aptpl_path);
	prk_lu_set_port_groups(x->lu, &d->tpgs);
	prk_daemon_lu_set_hooks(d, x);
	if (d->cm)
		prk_cm_attach(d->cm, x->lu);
	fast_start(d, x);
	d->lus[d->n_lus++] = x;
	t->luns[t->n_luns++] = (struct prk_iscsi_lun){.lun = cl->lun, .lu = x->lu};
	prk_iscsi_server_luns_changed(d->srv, t);
	return 0;
}

void prk_daemon_lu_set_hooks(struct daemon *d, struct prk_dlu *x)
{
	struct prk_lu_pr_hooks hooks = {.ctx = x,
	                                .persist = x->aptpl_path ? persist_hook : NULL,
	                                .abort = abort_hook,
	                                .prout_done = prout_log};
	prk_dcluster_lu_hooks(d, x, &hooks);
	prk_lu_set_pr_hooks(x->lu, &hooks);
}

static void close_dlu(struct daemon *d, struct prk_dlu *x)
{
	free(x->aptpl_path);
	fast_stop(d, x);
	unwatch_backstore(d, x);
	/* Closing the backstore drains it: completions of writes still in
	 * flight at shutdown end their tasks in the LU, so the LU goes last
	 * (ASan saw a use after free in the range lock the other way round). */
	prk_bs_close(x->bs);
	prk_lu_free(x->lu);
	free(x);
}

void prk_daemon_close_lus(struct daemon *d)
{
	if (d->cm)
		for (size_t i = 0; i < d->n_lus; i++)
			prk_cm_detach(d->cm, d->lus[i]->lu);
	for (size_t i = 0; i < d->n_lus; i++)
		close_dlu(d, d->lus[i]);
	free(d->lus);
	d->lus = NULL;
	d->n_lus = d->cap_lus = 0;
}

const struct prk_dlu *prk_daemon_dlu(const struct daemon *d, const struct prk_lu *lu)
{
	for (size_t i = 0; i < d->n_lus; i++)
		if (d->lus[i]->lu == lu)
			return d->lus[i];
	return NULL;
}

int prk_daemon_remove_lu(struct daemon *d, size_t ti, uint16_t lun, char *err, size_t errlen)
{
	struct prk_iscsi_target *t = &d->targets[ti];
	size_t k;
	for (k = 0; k < t->n_luns && t->luns[k].lun != lun; k++)
		;
	if (k == t->n_luns) {
		snprintf(err, errlen, "target %s has no LUN %u", t->name, lun);
		return -1;
	}
	struct prk_lu *lu = t->luns[k].lu;
	if (prk_lu_inflight(lu) || prk_iscsi_server_lu_busy(d->srv, lu)) {
		snprintf(err, errlen, "target %s LUN %u has commands in flight; try again", t->name,
		         lun);
		return -1;
	}
	/* A copy reads or writes it as another LU's command, or was received
	 * through it: neither shows in its own count. */
	if (d->cm && prk_cm_busy(d->cm, lu)) {
		snprintf(err, errlen,
		         "target %s LUN %u is the source, destination or receiver of an EXTENDED "
		         "COPY in progress; try again",
		         t->name, lun);
		return -1;
	}
	if (d->cm)
		prk_cm_detach(d->cm, lu);
	prk_iscsi_server_lu_detach(d->srv, t, lu);
	t->luns[k] = t->luns[--t->n_luns];
	for (size_t i = 0; i < d->n_lus; i++)
		if (d->lus[i]->lu == lu) {
			close_dlu(d, d->lus[i]);
			d->lus[i] = d->lus[--d->n_lus];
			break;
		}
	prk_iscsi_server_luns_changed(d->srv, t);
	return 0;
}
