/* The daemon's portals: each open portal is its own target port group
 * with its own relative target port identifier, listed in d->tpgs with
 * its ALUA state. Opening and closing one keeps the iSCSI server, that
 * table and every LU's list of ports in step. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cm.h"
#include "daemon.h"
#include "log.h"
#include "lu.h"

size_t prk_daemon_rtpis(const struct daemon *d, uint16_t *out, size_t cap)
{
	size_t n = 0;
	for (; n < d->tpgs.n && n < cap; n++)
		out[n] = d->tpgs.g[n].rtpi;
	if (d->cm && n < cap)
		out[n++] = prk_cm_nexus(d->cm)->rtpi;
	return n;
}

/* The LU engines must know every relative target port id (REGISTER AND
 * MOVE validation) after portals change. */
static void update_ports(struct daemon *d)
{
	uint16_t rtpis[PRK_DAEMON_MAX_RTPIS];
	size_t n = prk_daemon_rtpis(d, rtpis, PRK_DAEMON_MAX_RTPIS);
	for (size_t i = 0; i < d->n_lus; i++)
		prk_pr_set_ports(prk_lu_pr(d->lus[i]->lu), rtpis, n);
}

/* One more than the highest tpgt and rtpi open (1 when none is). */
static void next_ids(const struct daemon *d, uint16_t *tpgt, uint16_t *rtpi)
{
	*tpgt = *rtpi = 1;
	for (size_t i = 0; i < d->tpgs.n; i++) {
		if (d->tpgs.g[i].tpg >= *tpgt)
			*tpgt = (uint16_t)(d->tpgs.g[i].tpg + 1);
		if (d->tpgs.g[i].rtpi >= *rtpi)
			*rtpi = (uint16_t)(d->tpgs.g[i].rtpi + 1);
	}
}

int prk_daemon_add_portal(struct daemon *d, const struct prk_daemon_portal *p, uint16_t *tpgt_out,
                          uint16_t *rtpi_out, char *err, size_t errlen)
{
	uint16_t tpgt, rtpi;
	next_ids(d, &tpgt, &rtpi);
	if (p->tpgt >= 0)
		tpgt = (uint16_t)p->tpgt;
	if (p->rtpi >= 0)
		rtpi = (uint16_t)p->rtpi;
	if (!tpgt || !rtpi) {
		snprintf(err, errlen, "tpgt/rtpi: must be 1..65535");
		return -1;
	}
	/* A portal there would make its hosts the copy manager's nexus. */
	if (d->cm && rtpi == prk_cm_nexus(d->cm)->rtpi) {
		snprintf(err, errlen, "rtpi %u is the copy manager's relative target port", rtpi);
		return -1;
	}
	if (d->tpgs.n >= PRK_LU_MAX_PORT_GROUPS) {
		snprintf(err, errlen, "at most %d portals", PRK_LU_MAX_PORT_GROUPS);
		return -1;
	}
	if (prk_iscsi_server_add_portal(d->srv, p->addr, p->port, tpgt, rtpi, err, errlen))
		return -1;
	/* The server refused a tpgt or rtpi in use, and there is room, so the
	 * table takes it. */
	prk_lu_port_groups_add(&d->tpgs, tpgt, rtpi, p->state);
	update_ports(d);
	if (tpgt_out)
		*tpgt_out = tpgt;
	if (rtpi_out)
		*rtpi_out = rtpi;
	return 0;
}

int prk_daemon_remove_portal(struct daemon *d, const char *addr, uint16_t port, char *err,
                             size_t errlen)
{
	struct prk_iscsi_portal_info info[PRK_LU_MAX_PORT_GROUPS];
	size_t n = prk_iscsi_server_portals(d->srv, info, PRK_LU_MAX_PORT_GROUPS);
	if (prk_iscsi_server_remove_portal(d->srv, addr, port)) {
		bool v6 = strchr(addr, ':') != NULL;
		snprintf(err, errlen, "no portal %s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "",
		         port);
		return -1;
	}
	for (size_t i = 0; i < n && i < PRK_LU_MAX_PORT_GROUPS; i++)
		if (strcmp(info[i].addr, addr) == 0 && info[i].port == port)
			prk_lu_port_groups_remove(&d->tpgs, info[i].rtpi);
	update_ports(d);
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
				prk_lu_alua_changed(d->lus[l]->lu);
			prk_info("portal %s:%u (tpgt %u, rtpi %u): ALUA state %s", addr, port,
			         info[i].tpgt, info[i].rtpi, prk_lu_alua_state_name(state));
		}
		return r;
	}
	snprintf(err, errlen, "no portal %s:%u", addr, port);
	return -1;
}
