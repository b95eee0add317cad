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
 *   {"cmd": "cluster"}                  {"ok": true, "cluster": {...}} (docs/cluster.md)
 *   {"cmd": "loops"}                    {"ok": true, "threads": N, "pauses": M}
 * Errors: {"ok": false, "error": "message naming the field"}. A request
 * runs on the event loop once its whole line has arrived.
 *
 * This file only parses: each command is a row of a table naming the
 * fields it needs (parsed, and their errors answered, before its handler
 * runs), and every change to the daemon is made by a prk_daemon_*
 * function (daemon_lu.c, daemon_portal.c), as when the daemon is built. */
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_cmds.h"
#include "daemon.h"
#include "daemon_cluster.h"
#include "log.h"
#include "lu.h"

json_object *prk_admin_err_reply(const char *msg)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

json_object *prk_admin_ok_reply(void)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

/* ---- the fields a command may need, each parsed with its own error ---- */

enum {
	F_TARGET = 1 << 0,     /* "target": the name of a configured target */
	F_LUN = 1 << 1,        /* "lun": a LUN number */
	F_PORTAL = 1 << 2,     /* "address" and "port" */
	F_ALUA_STATE = 1 << 3, /* "alua_state", optional (active_optimized) */
	F_STATE = 1 << 4,      /* "state", required */
};

static int req_target(struct daemon *d, json_object *req, size_t *out, char *err, size_t len)
{
	json_object *v;
	if (!json_object_object_get_ex(req, "target", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, len, "target: a target name is required");
		return -1;
	}
	long i = prk_daemon_find_target(d, json_object_get_string(v));
	if (i < 0) {
		snprintf(err, len, "target: no target named \"%s\"", json_object_get_string(v));
		return -1;
	}
	*out = (size_t)i;
	return 0;
}

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

static int req_portal(json_object *req, struct prk_admin_req *r, char *err, size_t len)
{
	json_object *a, *p;
	if (!json_object_object_get_ex(req, "address", &a) ||
	    !json_object_is_type(a, json_type_string)) {
		snprintf(err, len, "address: an IP address is required");
		return -1;
	}
	if (!json_object_object_get_ex(req, "port", &p) || !json_object_is_type(p, json_type_int) ||
	    json_object_get_int(p) < 0 || json_object_get_int(p) > 65535) {
		snprintf(err, len, "port: a port number 0..65535 is required");
		return -1;
	}
	r->addr = json_object_get_string(a);
	r->port = (uint16_t)json_object_get_int(p);
	return 0;
}

/* An ALUA state by name from field key; absent is active/optimized
 * unless required. */
static int req_state(json_object *req, const char *key, bool required, enum prk_lu_alua_state *out,
                     char *err, size_t len)
{
	json_object *st = NULL;
	*out = PRK_LU_ALUA_ACTIVE_OPTIMIZED;
	if (!json_object_object_get_ex(req, key, &st) && !required)
		return 0;
	if (!st || !json_object_is_type(st, json_type_string) ||
	    prk_lu_alua_state_parse(json_object_get_string(st), out)) {
		snprintf(err, len,
		         "%s: one of active_optimized, active_non_optimized, standby, "
		         "unavailable is required",
		         key);
		return -1;
	}
	return 0;
}

/* Parses the fields named in `fields`, in the order the answers have
 * always checked them. Returns 0 or -1 with the error. */
static int parse_fields(struct daemon *d, unsigned fields, struct prk_admin_req *r, char *err,
                        size_t len)
{
	if ((fields & F_TARGET) && req_target(d, r->json, &r->target, err, len))
		return -1;
	if ((fields & F_LUN) && req_lun(r->json, &r->lun, err, len))
		return -1;
	if ((fields & F_PORTAL) && req_portal(r->json, r, err, len))
		return -1;
	if ((fields & F_ALUA_STATE) && req_state(r->json, "alua_state", false, &r->state, err, len))
		return -1;
	if ((fields & F_STATE) && req_state(r->json, "state", true, &r->state, err, len))
		return -1;
	return 0;
}

/* ---- the commands that change the daemon ---- */

static json_object *add_lu(struct daemon *d, const struct prk_admin_req *r)
{
	char err[512];
	json_object *v;
	if (!json_object_object_get_ex(r->json, "lun", &v))
		return prk_admin_err_reply("lun: the LUN description is required");
	struct prk_cfg_lun cl;
	/* The target's name seeds the default serial; a LUN number left out
	 * is the count of the target's LUs, as in the configuration. */
	if (prk_cfg_parse_lun_text(json_object_to_json_string(v), "lun", d->targets[r->target].name,
	                           d->targets[r->target].n_luns, &cl, err, sizeof(err)))
		return prk_admin_err_reply(err);
	/* The serial seeds the NAA identifier: hosts would take two LUs with
	 * one serial for two paths to one device and mix their data. A LUN
	 * that exists already (whose default serial this is) is left to
	 * prk_daemon_add_lu, which names it as such. */
	const struct prk_dlu *o = prk_daemon_serial_owner(d, cl.serial);
	if (o && !prk_iscsi_target_lu(&d->targets[r->target], cl.lun)) {
		snprintf(err, sizeof(err),
		         "lun.serial: '%s' is already used by target %s LUN %u: two LUs with one "
		         "serial have one NAA identifier",
		         cl.serial, d->targets[o->target].name, o->cfg.lun);
		return prk_admin_err_reply(err);
	}
	if (prk_daemon_add_lu(d, r->target, &cl, err, sizeof(err)))
		return prk_admin_err_reply(err);
	prk_info("admin: added LUN %u to %s", cl.lun, d->targets[r->target].name);
	return prk_admin_ok_reply();
}

static json_object *remove_lu(struct daemon *d, const struct prk_admin_req *r)
{
	char err[512];
	if (prk_daemon_remove_lu(d, r->target, r->lun, err, sizeof(err)))
		return prk_admin_err_reply(err);
	prk_info("admin: removed LUN %u from %s", r->lun, d->targets[r->target].name);
	return prk_admin_ok_reply();
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

static json_object *add_portal(struct daemon *d, const struct prk_admin_req *r)
{
	char err[512];
	struct prk_daemon_portal p = {.addr = r->addr,
	                              .port = r->port,
	                              .tpgt = req_id(r->json, "tpgt"),
	                              .rtpi = req_id(r->json, "rtpi"),
	                              .state = r->state};
	uint16_t tpgt, rtpi;
	if (prk_daemon_add_portal(d, &p, &tpgt, &rtpi, err, sizeof(err)))
		return prk_admin_err_reply(err);
	prk_info("admin: listening on %s:%u (tpgt %u, rtpi %u, ALUA %s)", r->addr, r->port, tpgt,
	         rtpi, prk_lu_alua_state_name(r->state));
	return prk_admin_ok_reply();
}

static json_object *remove_portal(struct daemon *d, const struct prk_admin_req *r)
{
	char err[512];
	if (prk_daemon_remove_portal(d, r->addr, r->port, err, sizeof(err)))
		return prk_admin_err_reply(err);
	return prk_admin_ok_reply();
}

static json_object *set_alua(struct daemon *d, const struct prk_admin_req *r)
{
	char err[512];
	int changed = prk_daemon_set_alua(d, r->addr, r->port, r->state, err, sizeof(err));
	if (changed < 0)
		return prk_admin_err_reply(err);
	json_object *ok = prk_admin_ok_reply();
	json_object_object_add(ok, "changed", json_object_new_boolean(changed > 0));
	return ok;
}

/* Portals and LUs are part of what cluster nodes agree on when they join
 * (docs/cluster.md): changing them on one running node would make it
 * differ from the others without anyone checking. */
static json_object *not_in_cluster(struct daemon *d, const char *what)
{
	(void)d;
	char err[160];
	snprintf(err, sizeof(err),
	         "cmd: %s is not available in cluster mode (change the configuration of every "
	         "node and restart them one by one)",
	         what);
	return prk_admin_err_reply(err);
}

static json_object *cluster(struct daemon *d, const struct prk_admin_req *r)
{
	(void)r;
	json_object *ok = prk_admin_ok_reply();
	json_object_object_add(ok, "cluster", prk_dcluster_status(d));
	return ok;
}

/* The event loops and how often the admin socket and the TMFs paused
 * them (docs/prkitd.md): a reader of this socket can check that looking
 * costs the data path nothing. */
static json_object *loops(struct daemon *d, const struct prk_admin_req *r)
{
	(void)r;
	json_object *ok = prk_admin_ok_reply();
	json_object_object_add(ok, "threads", json_object_new_int((int)prk_cfg_threads(&d->cfg)));
	json_object_object_add(ok, "pauses",
	                       json_object_new_int64((int64_t)prk_iscsi_server_pauses(d->srv)));
	return ok;
}

/* ---- dispatch ---- */

/* pause: the command changes what the other event loops read (a target's
 * LUN map, the portals, the ALUA states), so they wait while it runs
 * (prk_iscsi_server_pause). The others only read what loop 0 owns (the
 * targets, LUs, PR state, cluster) or pause for their own walk over the
 * other loops' sessions (prk_iscsi_server_sessions, _portals): with
 * several loops, asking costs the data path nothing. */
static const struct {
	const char *name;
	unsigned fields;
	bool pause;
	json_object *(*run)(struct daemon *d, const struct prk_admin_req *r);
} commands[] = {
    {"targets", 0, false, prk_admin_targets},
    {"sessions", 0, false, prk_admin_sessions},
    {"portals", 0, false, prk_admin_portals},
    {"pr", F_TARGET | F_LUN, false, prk_admin_pr},
    {"add-lu", F_TARGET, true, add_lu},
    {"remove-lu", F_TARGET | F_LUN, true, remove_lu},
    /* remove-portal checks an "alua_state" it is given, as it always has. */
    {"add-portal", F_PORTAL | F_ALUA_STATE, true, add_portal},
    {"remove-portal", F_PORTAL | F_ALUA_STATE, true, remove_portal},
    {"set-alua", F_PORTAL | F_STATE, true, set_alua},
    {"cluster", 0, false, cluster},
    {"loops", 0, false, loops},
};

json_object *prk_admin_handle(struct daemon *d, json_object *req)
{
	char err[512];
	json_object *v;
	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
		return prk_admin_err_reply("cmd: a command name is required");
	const char *cmd = json_object_get_string(v);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		struct prk_admin_req r = {.json = req};
		if (d->cl && (!strcmp(cmd, "add-lu") || !strcmp(cmd, "remove-lu") ||
		              !strcmp(cmd, "add-portal") || !strcmp(cmd, "remove-portal")))
			return not_in_cluster(d, cmd);
		if (parse_fields(d, commands[i].fields, &r, err, sizeof(err)))
			return prk_admin_err_reply(err);
		if (!commands[i].pause)
			return commands[i].run(d, &r);
		prk_iscsi_server_pause(d->srv);
		json_object *rsp = commands[i].run(d, &r);
		prk_iscsi_server_resume(d->srv);
		return rsp;
	}
	snprintf(err, sizeof(err), "cmd: unknown command \"%s\"", cmd);
	return prk_admin_err_reply(err);
}
