/* Building the running daemon from its configuration and tearing it down;
 * its LUs are in daemon_lu.c, its portals in daemon_portal.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "aptpl.h"
#include "daemon.h"
#include "daemon_cluster.h"
#include "log.h"
#include "loop.h"
#include "lu.h"

/* The iSCSI server's options: the configuration's, or the defaults. */
static void server_opts(struct daemon *d, const struct prk_cfg *cfg,
                        struct prk_iscsi_server_opts *o)
{
	*o = (struct prk_iscsi_server_opts){0};
	prk_iscsi_limits_default(&o->limits);
	if (cfg->max_recv_dsl)
		o->limits.max_recv_dsl = cfg->max_recv_dsl;
	if (cfg->max_burst)
		o->limits.max_burst = cfg->max_burst;
	if (cfg->first_burst)
		o->limits.first_burst = cfg->first_burst;
	o->max_sessions = cfg->max_sessions;
	o->max_tasks = cfg->max_tasks;
	o->nop_interval_ms = cfg->nop_interval_ms;
	o->nop_timeout_ms = cfg->nop_timeout_ms;
	o->max_task_memory = (size_t)cfg->max_task_memory;
	o->max_login_conns = cfg->max_login_conns;
	o->login_timeout_ms = cfg->login_timeout_ms;
	o->discovery_chap = cfg->discovery_chap;
	/* The copy manager's I_T nexus is its own: no session may take its
	 * name. The copy results held for a host's I_T nexus go with it. */
	if (!cfg->copy_manager.disabled)
		snprintf(o->reserved_initiator, sizeof(o->reserved_initiator), "%s",
		         cfg->copy_manager.initiator);
	o->nexus_gone = prk_daemon_cm_nexus_gone;
	o->nexus_gone_ctx = d;
	o->threads = prk_cfg_threads(cfg);
}

/* Target i of the configuration, its ACLs and LUs, handed to the server. */
static int add_target(struct daemon *d, size_t i, char *err, size_t errlen)
{
	const struct prk_cfg_target *ct = &d->cfg.targets[i];
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
		if (prk_daemon_add_lu(d, i, &ct->luns[l], err, errlen))
			return -1;
	prk_iscsi_server_add_target(d->srv, t);
	return 0;
}

/* The configured portals. The configuration checked that tpgt and rtpi
 * are unique. */
int prk_daemon_open_portals(struct daemon *d, char *err, size_t errlen)
{
	const struct prk_cfg *cfg = &d->cfg;
	for (size_t i = 0; i < cfg->n_portals; i++) {
		const struct prk_cfg_portal *p = &cfg->portals[i];
		if (i >= PRK_LU_MAX_PORT_GROUPS) {
			snprintf(err, errlen, "portals[%zu]: more than %d portals", i,
			         PRK_LU_MAX_PORT_GROUPS);
			return -1;
		}
		struct prk_daemon_portal dp = {.addr = p->address,
		                               .port = p->port,
		                               .tpgt = p->tpgt,
		                               .rtpi = p->rtpi,
		                               .state = p->alua_state};
		if (prk_daemon_add_portal(d, &dp, NULL, NULL, err, errlen))
			return -1;
		prk_info("listening on %s:%u (tpgt %u, rtpi %u, ALUA %s)", p->address,
		         prk_iscsi_server_portal_port(d->srv, i), p->tpgt, p->rtpi,
		         prk_lu_alua_state_name(p->alua_state));
	}
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
	if (cfg->state_dir[0])
		snprintf(d->state_dir, sizeof(d->state_dir), "%s", cfg->state_dir);
	else
		prk_aptpl_default_dir(d->state_dir, sizeof(d->state_dir));
	if (prk_aptpl_mkdir(d->state_dir, err, errlen))
		return -1;
	struct prk_iscsi_server_opts o;
	server_opts(d, cfg, &o);
	d->srv = prk_iscsi_server_new(d->loop, &o);
	if (!d->srv) {
		snprintf(err, errlen, "cannot create the iSCSI server");
		return -1;
	}
	if (prk_daemon_cm_start(d, err, errlen))
		return -1;
	for (size_t i = 0; i < cfg->n_targets; i++)
		if (add_target(d, i, err, errlen))
			return -1;
	/* Portals last: nothing may log in before every LU is ready. In a
	 * cluster not before the node has the cluster's state either: they
	 * open when it first serves. */
	if (cfg->cluster.enabled)
		return prk_dcluster_start(d, err, errlen);
	return prk_daemon_open_portals(d, err, errlen);
}

long prk_daemon_find_target(const struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_targets; i++)
		if (strcasecmp(d->targets[i].name, name) == 0)
			return (long)i;
	return -1;
}

void prk_daemon_teardown(struct daemon *d)
{
	prk_admin_stop(d);
	prk_dcluster_stop(d);
	/* The LUs' lanes live on the server's loops: unwired while they run. */
	if (d->srv)
		prk_daemon_lus_fast_stop(d);
	prk_iscsi_server_free(d->srv);
	prk_daemon_cm_drain(d);
	prk_daemon_close_lus(d);
	prk_daemon_cm_stop(d);
	for (size_t i = 0; i < d->n_targets; i++) {
		free(d->targets[i].luns);
		free(d->targets[i].acls);
	}
	free(d->targets);
	if (d->sig)
		prk_loop_del(d->loop, d->sig);
	prk_loop_free(d->loop);
	prk_cfg_free(&d->cfg);
}
