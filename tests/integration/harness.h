/* Integration-test harness: starts a real prkitd on 127.0.0.1 with a
 * generated configuration, learns the ports it bound, and stops it (by
 * its PID) at the end. Tests then drive it with libiscsi. */
#ifndef PRKIT_HARNESS_H
#define PRKIT_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

struct iscsi_context;

#define H_TARGET "iqn.2026-11.io.prkit.test:tgt"

struct h_daemon {
	pid_t pid;
	char dir[256]; /* temporary directory: config, log, backing files */
	char log[300];
	uint16_t ports[8]; /* bound port of each portal */
	int n_ports;
};

/* Starts prkitd with the JSON configuration text, in which the string
 * "@DIR@" is replaced by the temporary directory. Portals should use port
 * 0. Returns 0, or -1 (with the daemon's log printed). */
int h_start(struct h_daemon *d, const char *json);
/* Sends SIGTERM and waits; returns the exit status (0 = clean stop). */
int h_stop(struct h_daemon *d);
/* A configuration with n_portals portals (port 0) and one target H_TARGET
 * whose LUN 0 is a RAM LU of size_mb MiB. */
void h_config_basic(char *buf, size_t cap, int n_portals, unsigned size_mb);

/* Logs in with libiscsi (no auto-reconnect, explicit ISID) to portal i.
 * Returns NULL on failure. */
struct iscsi_context *h_login(struct h_daemon *d, int portal, const char *initiator,
                              uint32_t isid_qualifier);
void h_logout(struct iscsi_context *iscsi);

#endif
