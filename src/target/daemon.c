/* Building the running daemon from its configuration, changing it at run
 * time, and tearing it down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "admin.h"
#include "backstore.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "lu.h"

static void on_backstore(void *arg, uint32_t events)
{
	(void)events;
	prk_bs_complete(arg);
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
	};
	snprintf(lc.serial, sizeof(lc.serial), "%s", cl->serial);
	uint16_t rtpis[64];
	size_t n = 0;
	for (size_t i = 0; i < d->cfg.n_portals && n < 64; i++)
		rtpis[n++] = d->cfg.portals[i].rtpi;
	lc.pr.rtpis = rtpis;
	lc.pr.n_rtpis = n;
	struct prk_lu *lu = prk_lu_new(&lc, bs, e, sizeof(e));
	if (!lu) {
		prk_loop_del(d->loop, watch);
		prk_bs_close(bs);
		snprintf(err, errlen, "target %s LUN %u: %s", t->name, cl->lun, e);
		return -1;
	}
	d->lus[d->n_lus++] =
	    (struct prk_dlu){.bs = bs, .lu = lu, .bs_watch = watch, .cfg = *cl, .target = ti};
	t->luns[t->n_luns++] = (struct prk_iscsi_lun){.lun = cl->lun, .lu = lu};
	return 0;
}

static void close_dlu(struct daemon *d, struct prk_dlu *x)
{
	prk_lu_free(x->lu);
	prk_loop_del(d->loop, x->bs_watch);
	prk_bs_close(x->bs);
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
	size_t total = 0;
	for (size_t i = 0; i < cfg->n_targets; i++)
		total += cfg->targets[i].n_luns;
	(void)total;
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
	o.discovery_chap = cfg->discovery_chap;
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
		prk_info("listening on %s:%u (tpgt %u, rtpi %u)", p->address,
		         prk_iscsi_server_portal_port(d->srv, i), p->tpgt, p->rtpi);
	}
	return 0;
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
