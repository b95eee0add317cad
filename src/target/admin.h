/* The local admin socket of prkitd: one JSON request per connection, one
 * JSON answer (see docs/prkitd.md, "Admin socket"). Used by `prkit target`.
 * Clients are served without blocking the event loop, within these limits: */
#ifndef PRKIT_ADMIN_H
#define PRKIT_ADMIN_H

#include <stddef.h>

/* The longest request line (newline included); a longer one is answered
 * with an error. */
#define PRK_ADMIN_MAX_REQUEST (64 * 1024)
/* A request must be complete this long after the client connected (a
 * client that dribbles a byte now and then holds no slot for ever), and an
 * answer that makes no progress for this long is dropped; either way the
 * client is closed, with an error answer in the first case. */
#define PRK_ADMIN_IDLE_MS 10000
/* Clients at once; one more is answered "busy" and closed. */
#define PRK_ADMIN_MAX_CLIENTS 32
/* The largest answer, and all answers not yet read by their clients
 * together: beyond, an error is sent instead. */
#define PRK_ADMIN_MAX_REPLY (16u << 20)
#define PRK_ADMIN_MAX_PENDING (64u << 20)

/* The highest LUN a target may have (a flat-space LUN, SAM-5 4.7.7). */
#define PRK_ADMIN_MAX_LUN 16383

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
