/* prkit fenced: the daemon (fd_daemon.c: Corosync through src/cluster/cs.h,
 * the core, the storage and local-I/O steps, the watchdog, the status
 * socket) and the status socket's client, for `prkit fenced`
 * (src/cli/fenced.c). docs/fenced.md. */
#ifndef PRKIT_FENCED_FD_DAEMON_H
#define PRKIT_FENCED_FD_DAEMON_H

#include <stddef.h>
#include <stdio.h>

#include "fd_config.h"

/* Exit statuses of the daemon. */
#define PRK_FD_EXIT_OK 0          /* SIGTERM/SIGINT: LEAVE sent, registration kept */
#define PRK_FD_EXIT_ERROR 1       /* configuration or start-up failure (message on log) */
#define PRK_FD_EXIT_SELF_FENCED 3 /* SIGTERM after a self-fence */

/* Runs the daemon with a validated configuration until SIGTERM or SIGINT.
 * Logs one line per event to log (stderr by default). */
int prk_fd_daemon_run(const struct prk_fd_config *cfg, FILE *log);
/* Log detail for the next prk_fd_daemon_run (`prkit fenced -v`): 0 events
 * only (default), 1 also every message sent and delivered and every
 * self-check that passes. */
void prk_fd_daemon_verbose(int level);

/* The status socket's path for cfg (cfg->socket, else
 * <state_dir>/fenced.sock with the host library's default state dir). */
void prk_fd_socket_path(const struct prk_fd_config *cfg, char *buf, size_t cap);

/* Client: sends {"cmd":"status"} to the socket and returns the reply (one
 * JSON object, malloc'd, without the newline), or NULL with err. Waits at
 * most timeout_ms. */
char *prk_fd_status_query(const char *socket_path, int timeout_ms, char *err, size_t errlen);

#endif
