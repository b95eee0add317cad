/* prkit fenced: the optional hardware or softdog watchdog (Linux
 * /dev/watchdog). Fed on every tick while the node may run; once the node
 * has self-fenced the feeding stops, so the machine reboots timeout_s
 * later even if the daemon or the I/O processes hang. An orderly exit
 * disarms it with the magic close ('V'). Internal to src/fenced. */
#ifndef PRKIT_FENCED_FD_WATCHDOG_H
#define PRKIT_FENCED_FD_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>

struct prk_fdw;

/* Opens path for writing and asks for timeout_s (WDIOC_SETTIMEOUT; a
 * device that refuses keeps its own timeout, which *warn then names; a
 * file that is no watchdog device, as in the tests, sets no timeout).
 * NULL with a message naming the path. */
struct prk_fdw *prk_fdw_open(const char *path, unsigned timeout_s, char *warn, size_t warnlen,
                             char *err, size_t errlen);
/* One keep-alive write (not 'V', which would arm the magic close). Does
 * nothing once stopped. 0, or -1 with errno. */
int prk_fdw_feed(struct prk_fdw *w);
/* No more feeding, for good: the watchdog will fire. */
void prk_fdw_stop(struct prk_fdw *w);
bool prk_fdw_stopped(const struct prk_fdw *w);
/* Closes; disarm (magic close) only when not stopped: after a self-fence
 * the reboot must still come. NULL is fine. */
void prk_fdw_close(struct prk_fdw *w, bool disarm);

#endif
