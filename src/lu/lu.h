/* A logical unit: the SCSI device server (SPC-4/SBC-3 emulation) over a
 * backstore, with the PR engine's access check on every command and unit
 * attentions kept per I_T nexus.
 *
 * The transport (src/iscsi) hands over one complete command at a time: the
 * CDB, and for writes every byte of data-out already gathered (EDTL
 * bytes). The LU completes it, possibly asynchronously, by calling
 * cmd->done() from the event-loop thread. Everything runs on one event
 * loop thread per LU; the LU takes no locks. */
#ifndef PRKIT_LU_H
#define PRKIT_LU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/pr.h"
#include "prkit/scsi_sense.h"

struct prk_bs;

struct prk_lu_config {
	uint32_t block_size; /* 512 or 4096 */
	uint64_t num_blocks; /* capacity in blocks */
	bool thin;           /* thin provisioned: UNMAP, GET LBA STATUS, VPD B2h */
	char serial[33];     /* unit serial number (VPD 80h), printable ASCII */
	char vendor[9];      /* T10 vendor id, default "PRKIT" */
	char product[17];    /* default "prkit LU" */
	char revision[5];    /* default "0001" */
	uint64_t naa;        /* NAA identifier (VPD 83h); 0 = derive from serial */
	bool write_cache;    /* WCE in the caching mode page; default on */
	bool readonly;
	uint32_t max_xfer_blocks; /* VPD B0h MAXIMUM TRANSFER LENGTH; 0 = 65536 */
	/* An SPC-2 device: no persistent reservations. PERSISTENT RESERVE
	 * IN/OUT are unsupported opcodes (20/00) and not listed by REPORT
	 * SUPPORTED OPERATION CODES; RESERVE/RELEASE(6/10) still work. */
	bool no_pr;
	struct prk_pr_config pr;
};

/* The target port a command came through (VPD 83h designators, REPORT
 * TARGET PORT GROUPS). */
struct prk_lu_port {
	uint16_t rtpi;           /* relative target port identifier, 1.. */
	uint16_t tpg;            /* target port group */
	const char *target_name; /* the iSCSI target name */
	uint16_t tpgt;           /* iSCSI target portal group tag */
};

/* ---- Asymmetric logical unit access (ALUA, SPC-4 5.16) ----
 *
 * Implicit ALUA only (INQUIRY TPGS = 01b): the states are set by the
 * target's administrator, not by SET TARGET PORT GROUPS. Every target port
 * is its own target port group. The layer above the LU (the daemon) owns
 * one table of the port groups of the target device and their states,
 * changes it as portals open and close and states change, and hands the
 * same table to every LU (prk_lu_set_port_groups); LUs only read it, on
 * the event-loop thread, so that REPORT TARGET PORT GROUPS and the access
 * check always see the current states. A LU without a table behaves as if
 * every port were active/optimized. */
enum prk_lu_alua_state {
	PRK_LU_ALUA_ACTIVE_OPTIMIZED = 0x0,
	PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
	PRK_LU_ALUA_STANDBY = 0x2,
	PRK_LU_ALUA_UNAVAILABLE = 0x3,
};

#define PRK_LU_MAX_PORT_GROUPS 64

struct prk_lu_port_group {
	uint16_t tpg;  /* target port group (the iSCSI portal group tag) */
	uint16_t rtpi; /* its one target port */
	uint8_t state; /* enum prk_lu_alua_state */
};

struct prk_lu_port_groups {
	struct prk_lu_port_group g[PRK_LU_MAX_PORT_GROUPS]; /* in the order added */
	size_t n;
	/* Groups in standby or unavailable state: while 0 the per-command
	 * access check costs one load. */
	size_t n_restricted;
};

/* Adds a group (its port must not be in the table). 0, or -1 when the
 * table is full, the rtpi or tpg is already used or the state is invalid. */
int prk_lu_port_groups_add(struct prk_lu_port_groups *t, uint16_t tpg, uint16_t rtpi,
                           enum prk_lu_alua_state state);
/* Removes the group of port rtpi (nothing when absent). */
void prk_lu_port_groups_remove(struct prk_lu_port_groups *t, uint16_t rtpi);
/* Sets the state of the group of port rtpi: 1 when it changed, 0 when it
 * already was that state, -1 when there is no such port or the state is
 * invalid. The caller then queues 2A/06 ASYMMETRIC ACCESS STATE CHANGED
 * for every LU (prk_lu_alua_changed). */
int prk_lu_port_groups_set(struct prk_lu_port_groups *t, uint16_t rtpi,
                           enum prk_lu_alua_state state);
/* The group of port rtpi, or NULL. */
const struct prk_lu_port_group *prk_lu_port_groups_find(const struct prk_lu_port_groups *t,
                                                        uint16_t rtpi);
/* "active_optimized", "active_non_optimized", "standby", "unavailable";
 * "?" for other values. */
const char *prk_lu_alua_state_name(unsigned state);
/* The reverse; 0, or -1 for an unknown name. */
int prk_lu_alua_state_parse(const char *name, enum prk_lu_alua_state *out);

struct prk_lu_cmd {
	/* in */
	const struct prk_nexus *nx;
	const struct prk_lu_port *port;
	uint8_t cdb[16];
	uint8_t cdb_len;
	uint32_t edtl;            /* expected data transfer length (iSCSI) */
	bool dir_read, dir_write; /* R and W bits of the iSCSI command */
	const uint8_t *data_out;  /* write data (edtl bytes when dir_write) */
	uint32_t data_out_len;
	/* out */
	uint8_t status; /* enum prk_status */
	/* Fixed format (18 bytes), or descriptor format (up to 28 bytes) when
	 * the control mode page's D_SENSE bit is set. */
	uint8_t sense[PRK_SENSE_DESC_MAX_LEN];
	uint8_t sense_len;    /* 0 when no sense data */
	uint8_t *data_in;     /* malloc'ed by the LU; the transport frees it */
	uint32_t data_in_len; /* bytes of data-in (<= edtl) */
	/* The SCSI-protocol data transfer length (SAM-5 "SPDTL"): the bytes
	 * the command called for in its own direction (data-in produced
	 * before truncation to EDTL, or the CDB's write/parameter length).
	 * spdtl > edtl: residual overflow of spdtl - edtl; spdtl < edtl:
	 * residual underflow of edtl - spdtl (RFC 7143 11.4.5). 0 on errors. */
	uint32_t spdtl;
	/* completion: called exactly once, possibly before prk_lu_submit returns */
	void (*done)(struct prk_lu_cmd *cmd);
	void *priv;
	/* LU-private bookkeeping (do not touch) */
	void *lu_priv[8];
};

struct prk_lu;

/* Creates a LU over bs (which it does not own). Returns NULL with a message
 * naming the bad field in err. */
struct prk_lu *prk_lu_new(const struct prk_lu_config *cfg, struct prk_bs *bs, char *err,
                          size_t errlen);
void prk_lu_free(struct prk_lu *lu);

/* Executes a command. */
void prk_lu_submit(struct prk_lu *lu, struct prk_lu_cmd *cmd);

/* An I_T nexus logs in / goes away. The first login of each nexus
 * identity after start gets the power-on UA (29/00). Nexus loss releases
 * the nexus's SPC-2 reservation (PR registrations stay). */
void prk_lu_nexus_up(struct prk_lu *lu, const struct prk_nexus *nx);
void prk_lu_nexus_down(struct prk_lu *lu, const struct prk_nexus *nx);

/* LOGICAL UNIT RESET (and target resets): the caller has aborted the
 * tasks; this releases the SPC-2 reservation and queues 29/03 for every
 * nexus. */
void prk_lu_reset(struct prk_lu *lu);

/* Queues a unit attention for every nexus in the set (except `except`,
 * when not NULL). Used for PR effects and for capacity / mode / LUN
 * inventory changes. */
void prk_lu_queue_ua(struct prk_lu *lu, const struct prk_nexus_set *to,
                     const struct prk_nexus *except, uint16_t asc);
/* Queues a UA for every known nexus (e.g. 2A/09 CAPACITY DATA HAS CHANGED,
 * 3F/0E REPORTED LUNS DATA HAS CHANGED). */
void prk_lu_queue_ua_all(struct prk_lu *lu, uint16_t asc);

/* A PERSISTENT RESERVE OUT the LU has decoded and not yet completed: what
 * the prout hook receives. The LU owns it; it stays valid until it is
 * completed (prk_lu_prout_complete or prk_lu_prout_local). */
struct prk_lu_prout {
	const struct prk_nexus *from; /* the I_T nexus that sent it */
	/* The decoded CDB and parameter list; req.p's TransportID list points
	 * into the command's data-out, which stays valid until completion. */
	struct prk_pr_request req;
	/* The command itself: the exception of PREEMPT AND ABORT's barrier. */
	const struct prk_lu_cmd *cmd;
};

/* What the LU cannot do alone for PERSISTENT RESERVE OUT, supplied by the
 * layers above it. persist and abort are called by prk_lu_prout_local,
 * before the PR OUT command completes. */
struct prk_lu_pr_hooks {
	void *ctx;
	/* Where a decoded PR OUT goes (a malformed one, or one that meets an
	 * SPC-2 reservation, is completed by the LU and never gets here). The
	 * hook completes op exactly once, on the event-loop thread, now or
	 * later: so a cluster can order PR OUTs across nodes before applying
	 * them. Until then the command counts in prk_lu_inflight, and the LU
	 * must not be freed. NULL: prk_lu_prout_local, the local engine. */
	void (*prout)(void *ctx, struct prk_lu *lu, struct prk_lu_prout *op);
	/* Writes the APTPL record (rec, len) durably. Returns 0, or -1: the
	 * command then fails and the engine's state is rolled back, so that
	 * the in-memory state is never ahead of what was acknowledged. */
	int (*persist)(void *ctx, struct prk_lu *lu, const uint8_t *rec, size_t len);
	/* PREEMPT AND ABORT: abort every task of every I_T nexus in sets[0..n)
	 * on this LU, on every session and portal, except the PR OUT command
	 * itself, and call done(arg) once none of them can reach the medium
	 * any more (tasks already inside the LU have completed). */
	void (*abort)(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
	              const struct prk_lu_cmd *except, void (*done)(void *arg), void *arg);
	/* The engine's verdict on every PR OUT that does not decode or that
	 * prk_lu_prout_local applies, for the log: service action, status
	 * and reason (NULL when GOOD). */
	void (*prout_done)(void *ctx, struct prk_lu *lu, const struct prk_nexus *from, uint8_t sa,
	                   uint8_t status, const char *why);
};
void prk_lu_set_pr_hooks(struct prk_lu *lu, const struct prk_lu_pr_hooks *h);

/* Completes a PR OUT with an engine result: queues its unit attentions
 * (those marked skip_sender skip op->from), then ends the command with
 * its status and sense. Takes res's contents (res is left empty); op is
 * gone afterwards. Effects such as PREEMPT AND ABORT's barrier and the
 * APTPL record are the caller's to carry out before. */
void prk_lu_prout_complete(struct prk_lu_prout *op, struct prk_pr_result *res);
/* The default prout hook: applies op to the LU's own PR state, reports
 * the outcome (prout_done), writes the APTPL record when the engine asks
 * (persist; on failure the state is rolled back and the command fails),
 * runs PREEMPT AND ABORT's barrier (abort) and completes op. */
void prk_lu_prout_local(struct prk_lu *lu, struct prk_lu_prout *op);

/* The target port groups (see above); t must outlive the LU or be
 * replaced. NULL: every port active/optimized, RTPG lists only the
 * command's own port. */
void prk_lu_set_port_groups(struct prk_lu *lu, const struct prk_lu_port_groups *t);
/* A port group's state changed: queues 2A/06 ASYMMETRIC ACCESS STATE
 * CHANGED for every I_T nexus of the LU. */
void prk_lu_alua_changed(struct prk_lu *lu);

/* Commands submitted and not yet completed. */
unsigned prk_lu_inflight(const struct prk_lu *lu);

const struct prk_lu_config *prk_lu_config(const struct prk_lu *lu);
/* The LU's NAA designator (16 bytes, VPD 83h): its identity in a cluster. */
const uint8_t *prk_lu_naa(const struct prk_lu *lu);
struct prk_pr_state *prk_lu_pr(struct prk_lu *lu);

/* The control mode page's TAS bit (for the transport's abort handling). */
bool prk_lu_tas(const struct prk_lu *lu);

#endif
