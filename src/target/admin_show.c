/* The admin commands that only look: the targets and their LUs, the
 * sessions, the portals, and one LU's PR state (admin.c dispatches). */
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>

#include "admin_cmds.h"
#include "backstore.h"
#include "daemon.h"
#include "lu.h"

json_object *prk_admin_targets(struct daemon *d, const struct prk_admin_req *req)
{
	(void)req;
	json_object *r = prk_admin_ok_reply(), *arr = json_object_new_array();
	for (size_t i = 0; i < d->n_targets; i++) {
		struct prk_iscsi_target *t = &d->targets[i];
		json_object *o = json_object_new_object(), *luns = json_object_new_array();
		json_object_object_add(o, "name", json_object_new_string(t->name));
		json_object_object_add(o, "alias", json_object_new_string(t->alias));
		json_object_object_add(o, "chap", json_object_new_boolean(t->chap.required));
		json_object *acls = json_object_new_array();
		for (size_t a = 0; a < t->n_acls; a++)
			json_object_array_add(acls, json_object_new_string(t->acls[a].initiator));
		json_object_object_add(o, "acls", acls);
		for (size_t l = 0; l < t->n_luns; l++) {
			const struct prk_dlu *x = prk_daemon_dlu(d, t->luns[l].lu);
			json_object *lo = json_object_new_object();
			json_object_object_add(lo, "lun", json_object_new_int(t->luns[l].lun));
			if (x) {
				json_object_object_add(
				    lo, "backstore",
				    json_object_new_string(x->cfg.type == PRK_CFG_BS_RAM ? "ram"
				                                                         : "file"));
				if (x->cfg.type == PRK_CFG_BS_FILE)
					json_object_object_add(lo, "path",
					                       json_object_new_string(x->cfg.path));
				json_object_object_add(
				    lo, "size", json_object_new_int64((int64_t)prk_bs_size(x->bs)));
				json_object_object_add(lo, "block_size",
				                       json_object_new_int((int)x->cfg.block_size));
				json_object_object_add(lo, "thin",
				                       json_object_new_boolean(x->cfg.thin));
				json_object_object_add(lo, "persistent_reservations",
				                       json_object_new_boolean(!x->cfg.no_pr));
				json_object_object_add(lo, "serial",
				                       json_object_new_string(x->cfg.serial));
			}
			json_object_object_add(
			    lo, "inflight",
			    json_object_new_int((int)prk_lu_inflight(t->luns[l].lu)));
			/* Which path READ/WRITE took (src/lu/lu_fast.c): on the
			 * connection's loop, or through loop 0. */
			uint64_t fast, slow;
			prk_lu_rw_counts(t->luns[l].lu, &fast, &slow);
			json_object_object_add(lo, "rw_fast", json_object_new_int64((int64_t)fast));
			json_object_object_add(lo, "rw_slow", json_object_new_int64((int64_t)slow));
			json_object_array_add(luns, lo);
		}
		json_object_object_add(o, "luns", luns);
		json_object_array_add(arr, o);
	}
	json_object_object_add(r, "targets", arr);
	json_object_object_add(r, "copy_manager", prk_daemon_cm_json(d));
	return r;
}

json_object *prk_admin_sessions(struct daemon *d, const struct prk_admin_req *req)
{
	(void)req;
	struct prk_iscsi_session_info info[256];
	size_t n = prk_iscsi_server_sessions(d->srv, info, 256);
	json_object *r = prk_admin_ok_reply(), *arr = json_object_new_array();
	for (size_t i = 0; i < n && i < 256; i++) {
		json_object *o = json_object_new_object();
		char isid[16];
		snprintf(isid, sizeof(isid), "0x%012llx", (unsigned long long)info[i].isid);
		json_object_object_add(o, "initiator", json_object_new_string(info[i].initiator));
		json_object_object_add(o, "isid", json_object_new_string(isid));
		json_object_object_add(o, "target", json_object_new_string(info[i].target));
		json_object_object_add(o, "tsih", json_object_new_int(info[i].tsih));
		json_object_object_add(o, "tpgt", json_object_new_int(info[i].tpgt));
		json_object_object_add(o, "peer", json_object_new_string(info[i].peer));
		json_object_object_add(o, "tasks", json_object_new_int((int)info[i].tasks));
		json_object_object_add(o, "loop", json_object_new_int((int)info[i].loop));
		json_object_object_add(o, "discovery", json_object_new_boolean(info[i].discovery));
		json_object_array_add(arr, o);
	}
	json_object_object_add(r, "sessions", arr);
	return r;
}

json_object *prk_admin_portals(struct daemon *d, const struct prk_admin_req *req)
{
	(void)req;
	struct prk_iscsi_portal_info info[64];
	size_t n = prk_iscsi_server_portals(d->srv, info, 64);
	json_object *r = prk_admin_ok_reply(), *arr = json_object_new_array();
	for (size_t i = 0; i < n && i < 64; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(info[i].addr));
		json_object_object_add(o, "port", json_object_new_int(info[i].port));
		json_object_object_add(o, "tpgt", json_object_new_int(info[i].tpgt));
		json_object_object_add(o, "rtpi", json_object_new_int(info[i].rtpi));
		const struct prk_lu_port_group *g = prk_lu_port_groups_find(&d->tpgs, info[i].rtpi);
		json_object_object_add(o, "alua_state",
		                       json_object_new_string(g ? prk_lu_alua_state_name(g->state)
		                                                : "active_optimized"));
		json_object_object_add(o, "connections",
		                       json_object_new_int((int)info[i].connections));
		json_object_array_add(arr, o);
	}
	json_object_object_add(r, "portals", arr);
	return r;
}

/* Is some logged-in session an I_T nexus that this registration covers? */
static bool reg_logged_in(struct daemon *d, const struct prk_pr_reg_info *ri)
{
	struct prk_iscsi_session_info info[256];
	size_t n = prk_iscsi_server_sessions(d->srv, info, 256);
	struct prk_nexus_set set = {
	    .nx = ri->nx, .any_isid = ri->any_isid, .any_port = ri->all_tg_pt};
	for (size_t i = 0; i < n && i < 256; i++) {
		struct prk_nexus nx;
		if (info[i].discovery ||
		    prk_nexus_init(&nx, info[i].initiator, info[i].isid, info[i].rtpi))
			continue;
		if (prk_nexus_set_contains(&set, &nx))
			return true;
	}
	return false;
}

/* The PR state of one LU (`prkit target pr TARGET LUN`). */
json_object *prk_admin_pr(struct daemon *d, const struct prk_admin_req *req)
{
	struct prk_lu *lu = prk_iscsi_target_lu(&d->targets[req->target], req->lun);
	if (!lu) {
		char err[512];
		snprintf(err, sizeof(err), "lun: target %s has no LUN %u",
		         d->targets[req->target].name, req->lun);
		return prk_admin_err_reply(err);
	}
	const struct prk_pr_state *st = prk_lu_pr(lu);
	json_object *r = prk_admin_ok_reply();
	json_object_object_add(r, "generation", json_object_new_int64(prk_pr_generation(st)));
	json_object_object_add(r, "aptpl", json_object_new_boolean(prk_pr_aptpl(st)));
	json_object_object_add(r, "lost", json_object_new_boolean(prk_pr_lost(st)));
	uint8_t type = 0, scope = 0;
	long holder = -1;
	if (prk_pr_reservation(st, &type, &scope, &holder)) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string(prk_pr_type_name(type)));
		json_object_object_add(o, "type_code", json_object_new_int(type));
		json_object_object_add(o, "scope", json_object_new_int(scope));
		json_object_object_add(o, "holder", json_object_new_int((int)holder));
		json_object_object_add(r, "reservation", o);
	}
	struct prk_nexus spc2;
	if (prk_pr_spc2_holder(st, &spc2)) {
		char isid[16];
		snprintf(isid, sizeof(isid), "0x%012llx", (unsigned long long)spc2.isid);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "initiator", json_object_new_string(spc2.name));
		json_object_object_add(o, "isid", json_object_new_string(isid));
		json_object_object_add(o, "rtpi", json_object_new_int(spc2.rtpi));
		json_object_object_add(r, "spc2_reservation", o);
	}
	json_object *regs = json_object_new_array();
	for (size_t i = 0; i < prk_pr_reg_count(st); i++) {
		struct prk_pr_reg_info ri;
		prk_pr_reg_info(st, i, &ri);
		char key[24], isid[16];
		snprintf(key, sizeof(key), "0x%016llx", (unsigned long long)ri.key);
		snprintf(isid, sizeof(isid), "0x%012llx", (unsigned long long)ri.nx.isid);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "key", json_object_new_string(key));
		json_object_object_add(o, "initiator", json_object_new_string(ri.nx.name));
		json_object_object_add(o, "isid",
		                       ri.any_isid ? json_object_new_string("any")
		                                   : json_object_new_string(isid));
		if (ri.all_tg_pt)
			json_object_object_add(o, "rtpi", json_object_new_string("all"));
		else
			json_object_object_add(o, "rtpi", json_object_new_int(ri.nx.rtpi));
		json_object_object_add(o, "all_tg_pt", json_object_new_boolean(ri.all_tg_pt));
		json_object_object_add(o, "holder", json_object_new_boolean(ri.holder));
		json_object_object_add(o, "logged_in",
		                       json_object_new_boolean(reg_logged_in(d, &ri)));
		json_object_array_add(regs, o);
	}
	json_object_object_add(r, "registrations", regs);
	return r;
}
