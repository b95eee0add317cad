/* The admin socket's commands (admin.c), apart from how their bytes travel
 * (admin_srv.c). */
#ifndef PRKIT_ADMIN_CMDS_H
#define PRKIT_ADMIN_CMDS_H

#include <json-c/json.h>

struct daemon;

/* Runs one parsed request; returns its answer ({"ok": ...}), never NULL
 * unless out of memory. */
json_object *prk_admin_handle(struct daemon *d, json_object *req);
/* {"ok": false, "error": msg} */
json_object *prk_admin_err_reply(const char *msg);

#endif
