/* The local admin socket of prkitd: one JSON request per connection, one
 * JSON answer (see docs/prkitd.md, "Admin socket"). Used by `prkit target`. */
#ifndef PRKIT_ADMIN_H
#define PRKIT_ADMIN_H

#include <stddef.h>

struct daemon;

/* Listens on the unix socket at path (an old socket file is replaced).
 * Returns 0, or -1 with a message naming the path. */
int prk_admin_start(struct daemon *d, const char *path, char *err, size_t errlen);
void prk_admin_stop(struct daemon *d);
/* The path prkitd and `prkit target` use when none is given:
 * /run/prkitd.sock for root, else $XDG_RUNTIME_DIR/prkitd.sock or
 * /tmp/prkitd-UID.sock. */
void prk_admin_default_path(char *buf, size_t cap);

#endif
