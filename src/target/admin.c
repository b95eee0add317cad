/* The admin socket's commands: each connection carries one JSON request
 * line and gets one JSON answer line (admin_srv.c moves the bytes):
 *   {"cmd": "targets"}                  {"ok": true, "targets": [...]}
 *   {"cmd": "sessions"} / "portals"
 *   {"cmd": "pr", "target": T, "lun": N}  the LU's PR state
 *   {"cmd": "add-lu", "target": T, "lun": {...same as a config luns[] entry...}}
 *   {"cmd": "remove-lu", "target": T, "lun": N}
 *   {"cmd": "add-portal", "address": A, "port": P, "tpgt": N, "rtpi": N,
 *    "alua_state": S}
 *   {"cmd": "remove-portal", "address": A, "port": P}
 *   {"cmd": "set-alua", "address": A, "port": P, "state": S}
 *                                       {"ok": true, "changed": bool}
 * Errors: {"ok": false, "error": "message naming the field"}. A request
 * runs on the event loop once its whole line has arrived. */
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_cmds.h"
#include "backstore.h"
#include "daemon.h"
#include "log.h"
#include "lu.h"

static json_object *err_reply(const char *msg)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

json_object *prk_admin_err_reply(const char *msg)
{
	return err_reply(msg);
}

static json_object *ok_reply(void)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

static json_object *list_targets(struct daemon *d)
{
	json_object *r = ok_reply(), *arr = json_object_new_array();
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
			json_object_array_add(luns, lo);
		}
		json_object_object_add(o, "luns", luns);
		json_object_array_add(arr, o);
	}
	json_object_object_add(r, "targets", arr);
	return r;
}

static json_object *list_sessions(struct daemon *d)
{
	struct prk_iscsi_session_info info[256];
	size_t n = prk_iscsi_server_sessions(d->srv, info, 256);
	json_object *r = ok_reply(), *arr = json_object_new_array();
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
		json_object_object_add(o, "discovery", json_object_new_boolean(info[i].discovery));
		json_object_array_add(arr, o);
	}
	json_object_object_add(r, "sessions", arr);
	return r;
}

static json_object *list_portals(struct daemon *d)
{
	struct prk_iscsi_portal_info info[64];
	size_t n = prk_iscsi_server_portals(d->srv, info, 64);
	json_object *r = ok_reply(), *arr = json_object_new_array();
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

static int find_target(struct daemon *d, json_object *req, size_t *out, char *err, size_t len);

/* The request's "lun": an integer 0..16383. One out of range is named as
 * given (json-c would clamp a huge one; its text does not). */
static int req_lun(json_object *req, uint16_t *out, char *err, size_t len)
{
	json_object *v;
	if (!json_object_object_get_ex(req, "lun", &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(err, len, "lun: a LUN number is required");
		return -1;
	}
	int64_t n = json_object_get_int64(v);
	if (n < 0 || n > PRK_ADMIN_MAX_LUN) {
		snprintf(err, len, "lun: %s is out of range 0..%d",
		         json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
		         PRK_ADMIN_MAX_LUN);
		return -1;
	}
	*out = (uint16_t)n;
	return 0;
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
static json_object *show_pr(struct daemon *d, json_object *req)
{
	char err[512];
	size_t t;
	uint16_t lun;
	if (find_target(d, req, &t, err, sizeof(err)) || req_lun(req, &lun, err, sizeof(err)))
		return err_reply(err);
	struct prk_lu *lu = prk_iscsi_target_lu(&d->targets[t], lun);
	if (!lu) {
		snprintf(err, sizeof(err), "lun: target %s has no LUN %u", d->targets[t].name, lun);
		return err_reply(err);
	}
	const struct prk_pr_state *st = prk_lu_pr(lu);
	json_object *r = ok_reply();
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

static int find_target(struct daemon *d, json_object *req, size_t *out, char *err, size_t len)
{
	json_object *v;
	if (!json_object_object_get_ex(req, "target", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, len, "target: a target name is required");
		return -1;
	}
	long i = prk_daemon_find_target(d, json_object_get_string(v));
	if (i >= 0) {
		*out = (size_t)i;
		return 0;
	}
	snprintf(err, len, "target: no target named \"%s\"", json_object_get_string(v));
	return -1;
}

/* "tpgt" / "rtpi" as given (json-c's int, cut to 16 bits: 0 is refused),
 * or -1 for the daemon to choose. */
static int32_t req_id(json_object *req, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(req, key, &v))
		return -1;
	return (uint16_t)json_object_get_int(v);
}

json_object *prk_admin_handle(struct daemon *d, json_object *req)
{
	char err[512];
	json_object *v;
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
		return err_reply("cmd: a command name is required");
	const char *cmd = json_object_get_string(v);
	if (strcmp(cmd, "targets") == 0)
		return list_targets(d);
	if (strcmp(cmd, "sessions") == 0)
		return list_sessions(d);
	if (strcmp(cmd, "portals") == 0)
		return list_portals(d);
	if (strcmp(cmd, "pr") == 0)
		return show_pr(d, req);
	if (strcmp(cmd, "add-lu") == 0) {
		size_t t;
		if (find_target(d, req, &t, err, sizeof(err)))
			return err_reply(err);
		if (!json_object_object_get_ex(req, "lun", &v))
			return err_reply("lun: the LUN description is required");
		struct prk_cfg_lun cl;
		if (prk_cfg_parse_lun_text(json_object_to_json_string(v), "lun",
		                           d->targets[t].n_luns, &cl, err, sizeof(err)) ||
		    prk_daemon_add_lu(d, t, &cl, err, sizeof(err)))
			return err_reply(err);
		prk_info("admin: added LUN %u to %s", cl.lun, d->targets[t].name);
		return ok_reply();
	}
	if (strcmp(cmd, "remove-lu") == 0) {
		size_t t;
		uint16_t lun;
		if (find_target(d, req, &t, err, sizeof(err)) ||
		    req_lun(req, &lun, err, sizeof(err)))
			return err_reply(err);
		if (prk_daemon_remove_lu(d, t, lun, err, sizeof(err)))
			return err_reply(err);
		prk_info("admin: removed LUN %u from %s", lun, d->targets[t].name);
		return ok_reply();
	}
	if (strcmp(cmd, "add-portal") == 0 || strcmp(cmd, "remove-portal") == 0 ||
	    strcmp(cmd, "set-alua") == 0) {
		json_object *a, *p, *st = NULL;
		if (!json_object_object_get_ex(req, "address", &a) ||
		    !json_object_is_type(a, json_type_string))
			return err_reply("address: an IP address is required");
		if (!json_object_object_get_ex(req, "port", &p) ||
		    !json_object_is_type(p, json_type_int) || json_object_get_int(p) < 0 ||
		    json_object_get_int(p) > 65535)
			return err_reply("port: a port number 0..65535 is required");
		const char *addr = json_object_get_string(a);
		uint16_t port = (uint16_t)json_object_get_int(p);
		bool set = strcmp(cmd, "set-alua") == 0;
		const char *key = set ? "state" : "alua_state";
		enum prk_lu_alua_state state = PRK_LU_ALUA_ACTIVE_OPTIMIZED;
		if (json_object_object_get_ex(req, key, &st) || set) {
			if (!st || !json_object_is_type(st, json_type_string) ||
			    prk_lu_alua_state_parse(json_object_get_string(st), &state)) {
				snprintf(
				    err, sizeof(err),
				    "%s: one of active_optimized, active_non_optimized, standby, "
				    "unavailable is required",
				    key);
				return err_reply(err);
			}
		}
		if (set) {
			int r = prk_daemon_set_alua(d, addr, port, state, err, sizeof(err));
			if (r < 0)
				return err_reply(err);
			json_object *ok = ok_reply();
			json_object_object_add(ok, "changed", json_object_new_boolean(r > 0));
			return ok;
		}
		if (strcmp(cmd, "remove-portal") == 0) {
			if (prk_daemon_remove_portal(d, addr, port, err, sizeof(err)))
				return err_reply(err);
			return ok_reply();
		}
		struct prk_daemon_portal dp = {.addr = addr,
		                               .port = port,
		                               .tpgt = req_id(req, "tpgt"),
		                               .rtpi = req_id(req, "rtpi"),
		                               .state = state};
		uint16_t tpgt, rtpi;
		if (prk_daemon_add_portal(d, &dp, &tpgt, &rtpi, err, sizeof(err)))
			return err_reply(err);
		prk_info("admin: listening on %s:%u (tpgt %u, rtpi %u, ALUA %s)", addr, port, tpgt,
		         rtpi, prk_lu_alua_state_name(state));
		return ok_reply();
	}
	snprintf(err, sizeof(err), "cmd: unknown command \"%s\"", cmd);
	return err_reply(err);
}
