/* The running daemon: configuration and everything built from it, shared by
 * prkitd.c (life cycle) and admin.c (run-time changes). */
#ifndef PRKIT_DAEMON_H
#define PRKIT_DAEMON_H

#include <stddef.h>

#include "config.h"
#include "lu.h"
#include "server.h"

struct prk_loop;
struct prk_loop_fd;
struct prk_bs;
struct prk_lu;
struct prk_admin;

/* One LU with its backstore and where it is mapped. */
struct prk_dlu {
	struct prk_bs *bs;
	struct prk_lu *lu;
	struct prk_loop_fd *bs_watch;
	struct prk_cfg_lun cfg;
	size_t target;    /* index in targets */
	char *aptpl_path; /* this LU's APTPL record */
};

struct daemon {
	struct prk_cfg cfg;
	struct prk_loop *loop;
	struct prk_iscsi_server *srv;
	struct prk_iscsi_target *targets;
	size_t n_targets;
	struct prk_dlu *lus;
	size_t n_lus, cap_lus;
	struct prk_loop_fd *sig;
	struct prk_admin *admin; /* the admin socket (admin_srv.c), or NULL */
	char state_dir[4096];    /* APTPL records */
	/* The target port groups (one per open portal) and their ALUA states,
	 * shared by every LU (prk_lu_set_port_groups). */
	struct prk_lu_port_groups tpgs;
};

/* Builds everything from d->cfg (d->loop must exist): LUs, targets, the
 * iSCSI server, and last the portals. Returns 0 or -1 with a message. */
int prk_daemon_build(struct daemon *d, char *err, size_t errlen);
/* Stops and frees everything, the loop and the configuration included. */
void prk_daemon_teardown(struct daemon *d);

/* Opens the backstore and LU of cl and maps it into target t. Returns 0 or -1
 * with a message naming the target and LUN. */
int prk_daemon_add_lun(struct daemon *d, size_t t, const struct prk_cfg_lun *cl, char *err,
                       size_t errlen);
/* Unmaps and closes a LUN; -1 with a message if it does not exist or has
 * commands in flight. */
int prk_daemon_remove_lun(struct daemon *d, size_t t, uint16_t lun, char *err, size_t errlen);

/* Sets the ALUA state of the portal addr:port. Returns 1 when it changed
 * (every LU then reports 2A/06 ASYMMETRIC ACCESS STATE CHANGED to each of
 * its I_T nexuses), 0 when it already was that state, -1 with a message. */
int prk_daemon_set_alua(struct daemon *d, const char *addr, uint16_t port,
                        enum prk_lu_alua_state state, char *err, size_t errlen);

#endif
