/* The iSCSI target transport at run time: portals (listening sockets), the
 * connections accepted on them, sessions, and the flow of SCSI commands
 * between the wire and the logical units (src/lu).
 *
 * Everything runs on one event loop (src/util/loop.h). The target layer
 * (src/target) describes targets, LUNs, ACLs and portals; this layer never
 * calls up into it. */
#ifndef PRKIT_ISCSI_SERVER_H
#define PRKIT_ISCSI_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

struct prk_loop;
struct prk_lu;
struct prk_lu_cmd;
struct prk_nexus;
struct prk_nexus_set;

struct prk_iscsi_lun {
	uint16_t lun;
	struct prk_lu *lu;
};

/* One initiator allowed to log in, with its own CHAP credentials (zeroed:
 * the target's apply). */
struct prk_iscsi_acl {
	char initiator[PRK_ISCSI_NAME_LEN];
	struct prk_chap_creds chap;
};

/* A target as the transport sees it. The target layer owns the memory and
 * keeps it alive while the target is registered. */
struct prk_iscsi_target {
	char name[PRK_ISCSI_NAME_LEN];
	char alias[256];
	struct prk_iscsi_lun *luns;
	size_t n_luns;
	struct prk_iscsi_acl *acls; /* none: every initiator may log in */
	size_t n_acls;
	struct prk_chap_creds chap; /* target-wide CHAP, unless an ACL entry has its own */
};

struct prk_iscsi_server_opts {
	struct prk_iscsi_limits limits;
	unsigned nop_interval_ms; /* ping a connection idle this long; 0 = 5000 */
	unsigned nop_timeout_ms;  /* drop it if no answer within this; 0 = 15000 */
	unsigned max_sessions;    /* 0 = 256 */
	unsigned max_tasks;       /* outstanding commands per session; 0 = 128 */
	/* Bytes of write data buffers of all tasks together; beyond it the
	 * CmdSN window stops advancing and R2Ts wait. 0 = 256 MiB. */
	size_t max_task_memory;
	/* Connections accepted and not yet in full feature phase; at the cap
	 * the portals stop accepting until one finishes. 0 = 64. */
	unsigned max_login_conns;
	/* A connection must finish its login this long after it was
	 * accepted, however busy it keeps the login. 0 = 15000. */
	unsigned login_timeout_ms;
	struct prk_chap_creds discovery_chap; /* for discovery sessions */
	/* An initiator name no one may log in with ("": none): the target's
	 * copy manager's, whose I_T nexus must be its alone. */
	char reserved_initiator[PRK_ISCSI_NAME_LEN];
	/* Called when an I_T nexus of a normal session is lost (its
	 * connection closes); optional. */
	void (*nexus_gone)(void *ctx, const struct prk_nexus *nx);
	void *nexus_gone_ctx;
	/* Event loops (threads): 0 or 1 = the caller's loop alone. With more,
	 * the server starts threads-1 loops of its own; connections are spread
	 * over all of them, and every call into a LU (and nexus_gone) still
	 * runs on the caller's loop. max_task_memory is split evenly between
	 * the loops. */
	unsigned threads;
};

struct prk_iscsi_server;

struct prk_iscsi_server *prk_iscsi_server_new(struct prk_loop *loop,
                                              const struct prk_iscsi_server_opts *opts);
/* Closes every connection and portal. LUs are not freed. */
void prk_iscsi_server_free(struct prk_iscsi_server *s);

int prk_iscsi_server_add_target(struct prk_iscsi_server *s, struct prk_iscsi_target *t);
/* Removes the target; its sessions are closed. */
void prk_iscsi_server_remove_target(struct prk_iscsi_server *s, struct prk_iscsi_target *t);
/* Call after changing a target's LUN list: the target's sessions become
 * I_T nexuses of LUs added, and get REPORTED LUNS DATA HAS CHANGED. */
void prk_iscsi_server_luns_changed(struct prk_iscsi_server *s, struct prk_iscsi_target *t);
/* Before unmapping lu from t: its sessions stop being nexuses of lu. */
void prk_iscsi_server_lu_detach(struct prk_iscsi_server *s, struct prk_iscsi_target *t,
                                struct prk_lu *lu);
/* Does any connection hold a task (even one still receiving data) for lu? */
bool prk_iscsi_server_lu_busy(const struct prk_iscsi_server *s, const struct prk_lu *lu);
struct prk_lu *prk_iscsi_target_lu(const struct prk_iscsi_target *t, uint16_t lun);

/* Listens on addr:port (IPv4 or IPv6 literal) as its own target portal
 * group (tpgt) with relative target port identifier rtpi. On failure
 * returns -1 with a message naming the address in err. */
int prk_iscsi_server_add_portal(struct prk_iscsi_server *s, const char *addr, uint16_t port,
                                uint16_t tpgt, uint16_t rtpi, char *err, size_t errlen);
/* Stops listening and closes the connections that came through it. */
int prk_iscsi_server_remove_portal(struct prk_iscsi_server *s, const char *addr, uint16_t port);
/* The port actually bound (for port 0 = any). */
uint16_t prk_iscsi_server_portal_port(const struct prk_iscsi_server *s, size_t i);

/* The PREEMPT AND ABORT barrier (struct prk_lu_pr_hooks.abort): ctx is the
 * server. Aborts the tasks on lu of every I_T nexus in sets, on every
 * session and portal, except `except`; with TAS=1 they end with TASK
 * ABORTED, with TAS=0 silently and their nexus gets 2F/00 COMMANDS CLEARED
 * BY ANOTHER INITIATOR. done(arg) runs once none of them is in the LU. */
void prk_iscsi_server_pr_abort(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets,
                               size_t n, const struct prk_lu_cmd *except, void (*done)(void *arg),
                               void *arg);

/* With several loops: the other loops wait until resume, so that the
 * caller (on the server's own loop) may change what they read (targets,
 * LUN maps, portals) or look at their sessions. Nests; no-op with one
 * loop. The admin socket runs its commands that change those this way;
 * the server's own walks (sessions, portals) pause just for the walk. */
void prk_iscsi_server_pause(struct prk_iscsi_server *s);
/* How many event loops serve connections (the configuration's threads). */
unsigned prk_iscsi_server_loops(const struct prk_iscsi_server *s);
/* Loop i's event loop (0: the server's own), for what must run on it
 * (a LU's backstore lane); change it only with the loops paused. */
struct prk_loop *prk_iscsi_server_loop(struct prk_iscsi_server *s, unsigned i);
void prk_iscsi_server_resume(struct prk_iscsi_server *s);
/* How many times the other loops were paused since start (0 with one
 * loop): how much the admin socket and the TMFs cost the data path. */
uint64_t prk_iscsi_server_pauses(const struct prk_iscsi_server *s);

/* Introspection for the admin socket. */
struct prk_iscsi_session_info {
	char initiator[PRK_ISCSI_NAME_LEN];
	char target[PRK_ISCSI_NAME_LEN];
	uint64_t isid;
	uint16_t tsih;
	uint16_t tpgt;
	uint16_t rtpi;
	char peer[64];
	unsigned tasks;
	bool discovery;
	unsigned loop; /* the event loop serving it (0 with one loop) */
};
size_t prk_iscsi_server_sessions(const struct prk_iscsi_server *s,
                                 struct prk_iscsi_session_info *out, size_t max);

struct prk_iscsi_portal_info {
	char addr[64];
	uint16_t port;
	uint16_t tpgt;
	uint16_t rtpi;
	unsigned connections;
};
size_t prk_iscsi_server_portals(const struct prk_iscsi_server *s, struct prk_iscsi_portal_info *out,
                                size_t max);

#endif
