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
	int runs; /* daemons stopped by h_kill_keep so far */
};

/* Starts prkitd with the JSON configuration text, in which the string
 * "@DIR@" is replaced by the temporary directory. Portals should use port
 * 0. Returns 0, or -1 (with the daemon's log printed). */
int h_start(struct h_daemon *d, const char *json);
/* Sends SIGTERM and waits; returns the exit status (0 = clean stop). A
 * daemon stopped already (a second call) returns 0. */
int h_stop(struct h_daemon *d);
/* A configuration with n_portals portals (port 0) and one target H_TARGET
 * whose LUN 0 is a RAM LU of size_mb MiB. */
void h_config_basic(char *buf, size_t cap, int n_portals, unsigned size_mb);

/* Logs in with libiscsi (no auto-reconnect, explicit ISID) to portal i.
 * Returns NULL on failure. */
struct iscsi_context *h_login(struct h_daemon *d, int portal, const char *initiator,
                              uint32_t isid_qualifier);
void h_logout(struct iscsi_context *iscsi);

/* ---- additions for the auth, limits, runtime and soak tests ---- */

/* What h_login_ex logs in to and how. Zeroed: like h_login. */
struct h_login_opts {
	const char *target;                      /* NULL: H_TARGET */
	const char *user, *secret;               /* CHAP; NULL: no CHAP */
	const char *mutual_user, *mutual_secret; /* mutual CHAP; NULL: one-way */
	char *error;                             /* when not NULL: libiscsi's error on failure */
	size_t error_cap;
	/* Set: log in without the TEST UNIT READY that libiscsi's full
	 * connect sends (it consumes the power-on unit attention, and fails
	 * the login on other unit attentions). */
	int no_tur;
};
struct iscsi_context *h_login_ex(struct h_daemon *d, int portal, const char *initiator,
                                 uint32_t isid_qualifier, const struct h_login_opts *o);

/* The target names a discovery session (SendTargets=All) of initiator
 * through portal i lists, newline-separated, in *out (cap bytes). Returns
 * the number of targets, or -1 when the discovery login failed. */
int h_discover(struct h_daemon *d, int portal, const char *initiator, char *out, size_t cap);

/* Sends TEST UNIT READY until it no longer reports a UNIT ATTENTION (at
 * most 8 times). Returns the final status, or -1 when the command failed
 * at the transport. */
int h_clear_ua(struct iscsi_context *iscsi, int lun);

/* "<dir>/admin.sock", where every configuration of these tests puts it. */
void h_admin_path(const struct h_daemon *d, char *buf, size_t cap);
/* Runs `prkit target -s <admin socket> ARGS...` (args NULL-terminated),
 * collecting stdout and stderr (NUL-terminated, truncated to their cap).
 * Returns the exit status, or -1 when it could not run or was killed. */
int h_cli(const struct h_daemon *d, char *out, size_t out_cap, char *err, size_t err_cap,
          const char *const *args);

/* Runs `prkit ARGS...` (any command) with PRKIT_STATE_DIR=<dir>/host, as
 * h_cli collects output. Returns the exit status, or -1. */
int h_prkit(const struct h_daemon *d, char *out, size_t out_cap, char *err, size_t err_cap,
            const char *const *args);

/* The same, started in the background: the caller keeps its own event
 * loop running and polls. */
struct h_proc {
	pid_t pid;
	int out_fd, err_fd;
	uint64_t started_ms;
};
int h_prkit_spawn(const struct h_daemon *d, struct h_proc *p, const char *const *args);
/* 0 while it runs; 1 when it has exited (or was killed after 60 s), with
 * its exit status (-1 if killed) and output collected. */
int h_proc_poll(struct h_proc *p, int *rc, char *out, size_t out_cap, char *err, size_t err_cap);

/* Does the daemon's log contain s? */
int h_log_contains(const struct h_daemon *d, const char *s);
/* Waits (polling, at most timeout_ms) until the log contains s: for lines
 * the daemon writes after the initiator has seen the event. 1, or 0. */
int h_log_wait(const struct h_daemon *d, const char *s, int timeout_ms);
/* The daemon's resident set size (VmRSS) in KiB, or -1. */
long h_rss_kib(const struct h_daemon *d);

/* A plain TCP connection to portal i (blocking), or -1. */
int h_tcp_connect(const struct h_daemon *d, int portal);
/* Reads and discards until the peer closes the connection (1), or
 * timeout_ms pass (0), or an error other than a reset occurs (-1). */
int h_wait_closed(int fd, int timeout_ms);
/* Monotonic milliseconds. */
uint64_t h_now_ms(void);

/* ---- additions for the PR, barrier and APTPL tests ---- */

/* Stops the daemon with signal sig (SIGTERM: a clean stop; SIGKILL: a
 * crash) and waits for it, keeping its directory: configuration, state
 * directory, backing files. The log moves to <log>.<n>. Returns the exit
 * status of a daemon that exited, 128 + the signal of one that was killed,
 * or -1. */
int h_kill_keep(struct h_daemon *d, int sig);
/* Starts prkitd again in d's directory with the same configuration and
 * state directory; the ports (port 0) are learned anew. 0, or -1. */
int h_relaunch(struct h_daemon *d);
/* A clean restart: h_kill_keep(d, SIGTERM) must return 0, then
 * h_relaunch. 0, or -1. */
int h_restart(struct h_daemon *d);
/* PERSISTENT RESERVE OUT with service action sa, TYPE type (SCOPE 0) and
 * the parameter list params[0..len) (built by the caller). Returns the
 * SCSI status, with the sense copied to *sense when not NULL, or -1 when
 * the command failed at the transport. */
struct scsi_sense;
int h_pr_out(struct iscsi_context *iscsi, int lun, uint8_t sa, uint8_t type, const uint8_t *params,
             uint32_t len, struct scsi_sense *sense);
/* PERSISTENT RESERVE IN with service action sa and ALLOCATION LENGTH cap:
 * the data goes to buf and its length to *got. Returns the status, or -1. */
int h_pr_in(struct iscsi_context *iscsi, int lun, uint8_t sa, uint8_t *buf, uint16_t cap,
            size_t *got);

/* "<dir>/state": PRKIT_STATE_DIR of the daemon, where APTPL records go. */
void h_state_dir(const struct h_daemon *d, char *buf, size_t cap);

#endif
