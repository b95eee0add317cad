/* Building the running daemon from its configuration, changing it at run
 * time, and tearing it down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "admin.h"
#include "aptpl.h"
#include "backstore.h"
#include "check.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "lu.h"

static void on_backstore(void *arg, uint32_t events)
{
	(void)events;
	prk_bs_complete(arg);
}

/* The LU's PR hooks: APTPL records go to the state directory, and PREEMPT
 * AND ABORT's barrier is the iSCSI server's. */
static const struct prk_dlu *dlu_of(const struct daemon *d, const struct prk_lu *lu)
{
	for (size_t i = 0; i < d->n_lus; i++)
		if (d->lus[i].lu == lu)
			return &d->lus[i];
	return NULL;
}

static int persist_hook(void *ctx, struct prk_lu *lu, const uint8_t *rec, size_t len)
{
	struct daemon *d = ctx;
	const struct prk_dlu *x = dlu_of(d, lu);
	char err[512];
	if (!x || !x->aptpl_path)
		return -1;
	if (prk_aptpl_write(x->aptpl_path, rec, len, err, sizeof(err))) {
		prk_err("%s (the PR OUT command fails)", err);
		return -1;
	}
	return 0;
}

static void abort_hook(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
                       const struct prk_lu_cmd *except, void (*done)(void *arg), void *arg)
{
	struct daemon *d = ctx;
	prk_iscsi_server_pr_abort(d->srv, lu, sets, n, except, done, arg);
}

static void prout_log(void *ctx, struct prk_lu *lu, const struct prk_nexus *from, uint8_t sa,
                      uint8_t status, const char *why)
{
	const struct prk_dlu *x = dlu_of(ctx, lu);
	const struct daemon *d = ctx;
	const char *outcome = status == PRK_STATUS_GOOD                   ? "GOOD"
	                      : status == PRK_STATUS_RESERVATION_CONFLICT ? "RESERVATION CONFLICT"
	                                                                  : "CHECK CONDITION";
	prk_info("PR OUT %s from %s isid 0x%012llx rtpi %u on %s LUN %u: %s%s%s%s",
	         prk_prout_sa_name(sa), from->name, (unsigned long long)from->isid, from->rtpi,
	         x ? d->targets[x->target].name : "?", x ? x->cfg.lun : 0, outcome, why ? " (" : "",
	         why ? why : "", why ? ")" : "");
}

/* Restores the LU's persistent reservations before any portal listens.
 * A record that cannot be read or decoded is not silently ignored: the LU
 * reports PERSISTENT RESERVATION INFORMATION LOST until a host replaces
 * the reservation (REPLACE LOST RESERVATION). */
static void restore_pr(struct prk_lu *lu, const char *path)
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
		if (prk_pr_record_decode(st, rec, len, &fe)) {
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

int prk_daemon_add_lun(struct daemon *d, size_t ti, const struct prk_cfg_lun *cl, char *err,
                       size_t errlen)
{
	struct prk_iscsi_target *t = &d->targets[ti];
	char e[512];
	if (prk_iscsi_target_lu(t, cl->lun)) {
		snprintf(err, errlen, "target %s: LUN %u already exists", t->name, cl->lun);
		return -1;
	}
	if (d->n_lus == d->cap_lus) {
		size_t cap = d->cap_lus ? d->cap_lus * 2 : 8;
		struct prk_dlu *v = realloc(d->lus, cap * sizeof(*v));
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
	struct prk_bs *bs;
	char where[PRK_ISCSI_NAME_LEN + 32];
	snprintf(where, sizeof(where), "target %s LUN %u", t->name, cl->lun);
	if (prk_check_lun_file(cl, where, err, errlen))
		return -1;
	if (cl->type == PRK_CFG_BS_RAM) {
		bs = prk_bs_ram_open(cl->size, e, sizeof(e));
	} else {
		struct prk_bs_file_opts o = {
		    .path = cl->path,
		    .size = cl->size,
		    .direct = cl->direct,
		    .queue_depth = cl->queue_depth,
		    .readonly = cl->readonly,
		};
		bs = prk_bs_file_open(&o, e, sizeof(e));
	}
	if (!bs) {
		snprintf(err, errlen, "target %s LUN %u: %s", t->name, cl->lun, e);
		return -1;
	}
	struct prk_loop_fd *watch = NULL;
	if (prk_bs_event_fd(bs) >= 0) {
		watch = prk_loop_add(d->loop, prk_bs_event_fd(bs), EPOLLIN, on_backstore, bs);
		if (!watch) {
			prk_bs_close(bs);
			snprintf(err, errlen, "target %s LUN %u: cannot watch the backstore",
			         t->name, cl->lun);
			return -1;
		}
	}
	struct prk_lu_config lc = {
	    .block_size = cl->block_size,
	    .num_blocks = prk_bs_size(bs) / cl->block_size,
	    .thin = cl->thin,
	    .readonly = cl->readonly,
	    .write_cache = true,
	    .no_pr = cl->no_pr,
	};
	snprintf(lc.serial, sizeof(lc.serial), "%s", cl->serial);
	/* The portals open now (some may have been added or removed at run
	 * time), or, while building, the configured ones. */
	uint16_t rtpis[64];
	size_t n = 0;
	struct prk_iscsi_portal_info pi[64];
	size_t np = d->srv ? prk_iscsi_server_portals(d->srv, pi, 64) : 0;
	if (np) {
		for (size_t i = 0; i < np && n < 64; i++)
			rtpis[n++] = pi[i].rtpi;
	} else {
		for (size_t i = 0; i < d->cfg.n_portals && n < 64; i++)
			rtpis[n++] = d->cfg.portals[i].rtpi;
	}
	lc.pr.rtpis = rtpis;
	lc.pr.n_rtpis = n;
	struct prk_lu *lu = prk_lu_new(&lc, bs, e, sizeof(e));
	if (!lu) {
		prk_loop_del(d->loop, watch);
		prk_bs_close(bs);
		snprintf(err, errlen, "target %s LUN %u: %s", t->name, cl->lun, e);
		return -1;
	}
	char path[4200];
	char *aptpl = NULL;
	/* An SPC-2 LU has no persistent reservations to restore or persist
	 * (a record left by an earlier configuration of the LU stays unread). */
	if (!cl->no_pr && prk_aptpl_path(d->state_dir, t->name, cl->lun, path, sizeof(path)) == 0)
		aptpl = strdup(path);
	if (aptpl)
		restore_pr(lu, aptpl);
	prk_lu_set_port_groups(lu, &d->tpgs);
	struct prk_lu_pr_hooks hooks = {.ctx = d,
	                                .persist = aptpl ? persist_hook : NULL,
	                                .abort = abort_hook,
	                                .prout_done = prout_log};
	prk_lu_set_pr_hooks(lu, &hooks);
	d->lus[d->n_lus++] = (struct prk_dlu){
	    .bs = bs, .lu = lu, .bs_watch = watch, .cfg = *cl, .target = ti, .aptpl_path = aptpl};
	t->luns[t->n_luns++] = (struct prk_iscsi_lun){.lun = cl->lun, .lu = lu};
	return 0;
}

static void close_dlu(struct daemon *d, struct prk_dlu *x)
{
	free(x->aptpl_path);
	prk_loop_del(d->loop, x->bs_watch);
	/* Closing the backstore drains it: completions of writes still in
	 * flight at shutdown end their tasks in the LU, so the LU goes last
	 * (ASan saw a use after free in the range lock the other way round). */
	prk_bs_close(x->bs);
	prk_lu_free(x->lu);
}

int prk_daemon_remove_lun(struct daemon *d, size_t ti, uint16_t lun, char *err, size_t errlen)
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
	prk_iscsi_server_lu_detach(d->srv, t, lu);
	t->luns[k] = t->luns[--t->n_luns];
	for (size_t i = 0; i < d->n_lus; i++)
		if (d->lus[i].lu == lu) {
			close_dlu(d, &d->lus[i]);
			d->lus[i] = d->lus[--d->n_lus];
			break;
		}
	prk_iscsi_server_luns_changed(d->srv, t);
	return 0;
}

int prk_daemon_build(struct daemon *d, char *err, size_t errlen)
{
	struct prk_cfg *cfg = &d->cfg;
	d->targets = calloc(cfg->n_targets + 1, sizeof(*d->targets));
	if (!d->targets) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct prk_iscsi_server_opts o = {0};
	prk_iscsi_limits_default(&o.limits);
	if (cfg->max_recv_dsl)
		o.limits.max_recv_dsl = cfg->max_recv_dsl;
	if (cfg->max_burst)
		o.limits.max_burst = cfg->max_burst;
	if (cfg->first_burst)
		o.limits.first_burst = cfg->first_burst;
	o.max_sessions = cfg->max_sessions;
	o.max_tasks = cfg->max_tasks;
	o.nop_interval_ms = cfg->nop_interval_ms;
	o.nop_timeout_ms = cfg->nop_timeout_ms;
	o.max_task_memory = (size_t)cfg->max_task_memory;
	o.max_login_conns = cfg->max_login_conns;
	o.login_timeout_ms = cfg->login_timeout_ms;
	o.discovery_chap = cfg->discovery_chap;
	if (cfg->state_dir[0])
		snprintf(d->state_dir, sizeof(d->state_dir), "%s", cfg->state_dir);
	else
		prk_aptpl_default_dir(d->state_dir, sizeof(d->state_dir));
	if (prk_aptpl_mkdir(d->state_dir, err, errlen))
		return -1;
	d->srv = prk_iscsi_server_new(d->loop, &o);
	if (!d->srv) {
		snprintf(err, errlen, "cannot create the iSCSI server");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_targets; i++) {
		const struct prk_cfg_target *ct = &cfg->targets[i];
		struct prk_iscsi_target *t = &d->targets[d->n_targets++];
		snprintf(t->name, sizeof(t->name), "%s", ct->name);
		snprintf(t->alias, sizeof(t->alias), "%s", ct->alias);
		t->chap = ct->chap;
		t->acls = calloc(ct->n_acls + 1, sizeof(*t->acls));
		if (!t->acls) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t a = 0; a < ct->n_acls; a++) {
			snprintf(t->acls[a].initiator, sizeof(t->acls[a].initiator), "%s",
			         ct->acls[a].initiator);
			t->acls[a].chap = ct->acls[a].chap;
		}
		t->n_acls = ct->n_acls;
		for (size_t l = 0; l < ct->n_luns; l++)
			if (prk_daemon_add_lun(d, i, &ct->luns[l], err, errlen))
				return -1;
		prk_iscsi_server_add_target(d->srv, t);
	}
	/* Portals last: nothing may log in before every LU is ready. */
	for (size_t i = 0; i < cfg->n_portals; i++) {
		const struct prk_cfg_portal *p = &cfg->portals[i];
		if (prk_iscsi_server_add_portal(d->srv, p->address, p->port, p->tpgt, p->rtpi, err,
		                                errlen))
			return -1;
		/* The configuration checked that tpgt and rtpi are unique. */
		if (prk_lu_port_groups_add(&d->tpgs, p->tpgt, p->rtpi, p->alua_state)) {
			snprintf(err, errlen, "portals[%zu]: more than %d portals", i,
			         PRK_LU_MAX_PORT_GROUPS);
			return -1;
		}
		prk_info("listening on %s:%u (tpgt %u, rtpi %u, ALUA %s)", p->address,
		         prk_iscsi_server_portal_port(d->srv, i), p->tpgt, p->rtpi,
		         prk_lu_alua_state_name(p->alua_state));
	}
	return 0;
}

int prk_daemon_set_alua(struct daemon *d, const char *addr, uint16_t port,
                        enum prk_lu_alua_state state, char *err, size_t errlen)
{
	struct prk_iscsi_portal_info info[PRK_LU_MAX_PORT_GROUPS];
	size_t n = prk_iscsi_server_portals(d->srv, info, PRK_LU_MAX_PORT_GROUPS);
	for (size_t i = 0; i < n && i < PRK_LU_MAX_PORT_GROUPS; i++) {
		if (strcmp(info[i].addr, addr) != 0 || info[i].port != port)
			continue;
		int r = prk_lu_port_groups_set(&d->tpgs, info[i].rtpi, state);
		if (r < 0) {
			snprintf(err, errlen, "portal %s:%u: no target port group", addr, port);
			return -1;
		}
		if (r > 0) {
			for (size_t l = 0; l < d->n_lus; l++)
				prk_lu_alua_changed(d->lus[l].lu);
			prk_info("portal %s:%u (tpgt %u, rtpi %u): ALUA state %s", addr, port,
			         info[i].tpgt, info[i].rtpi, prk_lu_alua_state_name(state));
		}
		return r;
	}
	snprintf(err, errlen, "no portal %s:%u", addr, port);
	return -1;
}

void prk_daemon_teardown(struct daemon *d)
{
	prk_admin_stop(d);
	prk_iscsi_server_free(d->srv);
	for (size_t i = 0; i < d->n_lus; i++)
		close_dlu(d, &d->lus[i]);
	for (size_t i = 0; i < d->n_targets; i++) {
		free(d->targets[i].luns);
		free(d->targets[i].acls);
	}
	free(d->targets);
	free(d->lus);
	if (d->sig)
		prk_loop_del(d->loop, d->sig);
	prk_loop_free(d->loop);
	prk_cfg_free(&d->cfg);
}
