/* The running daemon: configuration and everything built from it, shared by
 * prkitd.c (life cycle) and admin.c (run-time changes). */
#ifndef PRKIT_DAEMON_H
#define PRKIT_DAEMON_H

#include <stddef.h>

#include <json-c/json.h>

#include "config.h"
#include "lu.h"
#include "server.h"

struct prk_loop;
struct prk_loop_fd;
struct prk_bs;
struct prk_lu;
struct prk_admin;
struct prk_dcluster;
struct prk_cm;

/* One LU with its backstore and where it is mapped. Allocated on its own
 * (the daemon keeps pointers), so that it can be the context of its LU's
 * PR hooks for as long as the LU lives. */
struct prk_dlu {
	struct daemon *d; /* the daemon it belongs to */
	struct prk_bs *bs;
	struct prk_lu *lu;
	struct prk_loop_fd *bs_watch;
	/* Several loops: one backstore lane per loop (NULL for loop 0) and
	 * the message that tells loop 0 the LU's fast path drained
	 * (daemon_lu.c); NULL when the LU has no fast path. */
	struct prk_bs **lanes;
	struct prk_loop_fd **lane_watch; /* [loop]: a lane's event fd on its loop */
	unsigned n_lanes;
	struct prk_dlu_drain *drain_msg;
	struct prk_cfg_lun cfg;
	size_t target;    /* index in targets */
	char *aptpl_path; /* this LU's APTPL record */
	/* Cluster mode: the version of the LU's replicated state (the epoch
	 * of its last change, and how many events it has applied). */
	uint64_t epoch, seq;
};

/* Everything the daemon runs. The functions below own its changes: the
 * configuration loader (prk_daemon_build) and the admin socket (admin.c,
 * which only parses requests) both go through them. */
struct daemon {
	struct prk_cfg cfg;
	struct prk_loop *loop;
	struct prk_iscsi_server *srv;
	struct prk_iscsi_target *targets;
	size_t n_targets;
	struct prk_dlu **lus;
	size_t n_lus, cap_lus;
	struct prk_loop_fd *sig;
	struct prk_admin *admin; /* the admin socket (admin_srv.c), or NULL */
	char state_dir[4096];    /* APTPL records */
	/* The target port groups (one per open portal) and their ALUA states,
	 * shared by every LU (prk_lu_set_port_groups). */
	struct prk_lu_port_groups tpgs;
	struct prk_dcluster *cl; /* cluster mode (daemon_cluster.c), or NULL */
	struct prk_cm *cm;       /* the copy manager (daemon_copy.c), or NULL: off */
};

/* ---- life cycle (daemon.c) ---- */

/* Builds everything from d->cfg (d->loop must exist): LUs, targets, the
 * iSCSI server, and last the portals. Returns 0 or -1 with a message. */
int prk_daemon_build(struct daemon *d, char *err, size_t errlen);
/* Opens the configured portals (cluster mode opens them once the node
 * serves). Returns 0 or -1 with a message. */
int prk_daemon_open_portals(struct daemon *d, char *err, size_t errlen);
/* Stops and frees everything, the loop and the configuration included. */
void prk_daemon_teardown(struct daemon *d);
/* The index of the target named name (case-insensitive, as iSCSI names
 * compare), or -1. */
long prk_daemon_find_target(const struct daemon *d, const char *name);

/* ---- logical units (daemon_lu.c) ---- */

/* Sets x's PR hooks: the standalone ones (APTPL, the abort barrier, the
 * log), plus cluster mode's when the daemon is in it. */
void prk_daemon_lu_set_hooks(struct daemon *d, struct prk_dlu *x);

/* Opens the backstore and LU of cl, restores its persistent reservations
 * and maps it into target t; sessions already logged in to t see it at
 * once (3F/0E for the target's LUs). Returns 0 or -1 with a message
 * naming the target and LUN. */
int prk_daemon_add_lu(struct daemon *d, size_t t, const struct prk_cfg_lun *cl, char *err,
                      size_t errlen);
/* The LU whose unit serial number is serial, or NULL. The configuration
 * is checked as a whole when loaded (prk_cfg_check_serials); add-lu asks
 * this before adding a LU, so that none gets another's NAA identifier. */
const struct prk_dlu *prk_daemon_serial_owner(const struct daemon *d, const char *serial);
/* Unmaps and closes a LUN; -1 with a message if it does not exist or has
 * commands in flight. */
int prk_daemon_remove_lu(struct daemon *d, size_t t, uint16_t lun, char *err, size_t errlen);
/* Closes every LU (teardown; the server must be gone). */
void prk_daemon_close_lus(struct daemon *d);
/* Every LU back to loop 0 only (its lanes off the other loops), while the
 * server's loops still run: the first step of stopping. */
void prk_daemon_lus_fast_stop(struct daemon *d);
/* The daemon's record of a mapped LU, or NULL. */
const struct prk_dlu *prk_daemon_dlu(const struct daemon *d, const struct prk_lu *lu);

/* ---- the copy manager (daemon_copy.c) ---- */

/* Creates the copy manager of the configuration (none when it is off);
 * before any LU. Returns 0 or -1 with a message. */
int prk_daemon_cm_start(struct daemon *d, char *err, size_t errlen);
/* Shutdown, once the server is gone (which cancelled every copy): waits
 * (at most 10 s) until no copy runs, reaping the file backstores'
 * completions, so that no LU closes under a copy's commands. */
void prk_daemon_cm_drain(struct daemon *d);
/* Frees it (teardown, after the LUs are detached). */
void prk_daemon_cm_stop(struct daemon *d);
/* What the admin socket shows: {"enabled": false}, or its TransportID,
 * rtpi and counters. */
json_object *prk_daemon_cm_json(const struct daemon *d);
/* The iSCSI server's nexus_gone: results held for nx are dropped. */
void prk_daemon_cm_nexus_gone(void *ctx, const struct prk_nexus *nx);
/* The PREEMPT AND ABORT barrier of every LU: the iSCSI server's and the
 * copy manager's together; done(arg) once both are done. */
void prk_daemon_pr_abort(struct daemon *d, struct prk_lu *lu, const struct prk_nexus_set *sets,
                         size_t n, const struct prk_lu_cmd *except, void (*done)(void *arg),
                         void *arg);

/* ---- portals and ALUA (daemon_portal.c) ---- */

/* A portal to open. tpgt and rtpi: 0..65535 as given (0 is refused), or
 * -1 for one more than the highest of the open portals. */
struct prk_daemon_portal {
	const char *addr;
	uint16_t port; /* 0: any free port */
	int32_t tpgt, rtpi;
	enum prk_lu_alua_state state;
};

/* Opens a portal as its own target port group, in ALUA state p->state, and
 * tells every LU its port. Fills *tpgt and *rtpi (either may be NULL) with
 * what it used. Returns 0 or -1 with a message. */
int prk_daemon_add_portal(struct daemon *d, const struct prk_daemon_portal *p, uint16_t *tpgt,
                          uint16_t *rtpi, char *err, size_t errlen);
/* Closes the portal addr:port (and its connections); -1 with "no portal
 * A:P" (an IPv6 address in brackets) when there is none. */
int prk_daemon_remove_portal(struct daemon *d, const char *addr, uint16_t port, char *err,
                             size_t errlen);
/* The relative target port identifiers every LU's engine knows (REGISTER
 * AND MOVE names one): the open portals' (this node's and, in a cluster,
 * the others'), then the copy manager's. At most cap; returns their
 * number. */
#define PRK_DAEMON_MAX_RTPIS (PRK_LU_MAX_PORT_GROUPS + 1)
size_t prk_daemon_rtpis(const struct daemon *d, uint16_t *out, size_t cap);

/* Sets the ALUA state of the portal addr:port. Returns 1 when it changed
 * (every LU then reports 2A/06 ASYMMETRIC ACCESS STATE CHANGED to each of
 * its I_T nexuses), 0 when it already was that state, -1 with a message. */
int prk_daemon_set_alua(struct daemon *d, const char *addr, uint16_t port,
                        enum prk_lu_alua_state state, char *err, size_t errlen);

#endif
