/* The admin socket's commands (admin.c dispatches and changes things,
 * admin_show.c only looks), apart from how their bytes travel
 * (admin_srv.c). */
#ifndef PRKIT_ADMIN_CMDS_H
#define PRKIT_ADMIN_CMDS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "lu.h"

struct daemon;

/* Runs one parsed request; returns its answer ({"ok": ...}), never NULL
 * unless out of memory. */
json_object *prk_admin_handle(struct daemon *d, json_object *req);
/* {"ok": false, "error": msg} */
json_object *prk_admin_err_reply(const char *msg);
/* {"ok": true} */
json_object *prk_admin_ok_reply(void);

/* A request with the fields its command asked for already parsed and
 * checked (the others are left zero). */
struct prk_admin_req {
	json_object *json;            /* the whole request */
	size_t target;                /* "target": an index in d->targets */
	uint16_t lun;                 /* "lun": a LUN number */
	const char *addr;             /* "address" */
	uint16_t port;                /* "port" */
	enum prk_lu_alua_state state; /* "state", or "alua_state" when given */
};

/* The commands that only look (admin_show.c). */
json_object *prk_admin_targets(struct daemon *d, const struct prk_admin_req *req);
json_object *prk_admin_sessions(struct daemon *d, const struct prk_admin_req *req);
json_object *prk_admin_portals(struct daemon *d, const struct prk_admin_req *req);
json_object *prk_admin_pr(struct daemon *d, const struct prk_admin_req *req);

#endif
