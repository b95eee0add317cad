/* A logical unit: the SCSI device server (SPC-4/SBC-3 emulation) over a
 * backstore, with the PR engine's access check on every command and unit
 * attentions kept per I_T nexus.
 *
 * The transport (src/iscsi) hands over one complete command at a time: the
 * CDB, and for writes every byte of data-out already gathered (EDTL
 * bytes). The LU completes it, possibly asynchronously, by calling
 * cmd->done() from the event-loop thread. Everything runs on one event
 * loop thread per LU ("loop 0"), except READ and WRITE offered through
 * the fast path below from other loops; the LU takes no locks. */
#ifndef PRKIT_LU_H
#define PRKIT_LU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/pr.h"
#include "prkit/scsi_sense.h"
#include "prkit/scsi_xcopy.h"

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

#define PRK_LU_SENSE_MAX 96 /* = PRK_XCOPY_SENSE_MAX */

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
	 * the control mode page's D_SENSE bit is set; COPY ABORTED sense of an
	 * EXTENDED COPY is longer (it carries the failing CSCD's sense). */
	uint8_t sense[PRK_LU_SENSE_MAX];
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

/* ---- The fast path: READ and WRITE on other event loops (lu_fast.c) ----
 * Everything above runs on one thread, "loop 0". With the fast path
 * started, a READ or WRITE(6/10/12/16) may also be offered from loop k
 * (1..n_loops-1) with prk_lu_submit_fast: it runs there, through
 * lanes[k] (prk_bs_lane_open of the LU's backstore, one per loop), and
 * its done() is called on that loop, when it is on the happy path (no
 * error, conflict, unit attention or restriction to report); otherwise
 * prk_lu_submit_fast returns false and the caller submits it on loop 0
 * as before. drained(ctx) may be called from any loop's thread and must
 * make loop 0 call prk_lu_fast_drained (a posted message). Not for LUs
 * with a serving gate (cluster mode). 0, or -1 out of memory. */
int prk_lu_fast_start(struct prk_lu *lu, unsigned n_loops, struct prk_bs *const *lanes,
                      void (*drained)(void *ctx), void *ctx);
/* Loop 0, nothing in flight: back to one loop (also done by prk_lu_free). */
void prk_lu_fast_stop(struct prk_lu *lu);
bool prk_lu_submit_fast(struct prk_lu *lu, struct prk_lu_cmd *cmd, unsigned loop);
void prk_lu_fast_drained(struct prk_lu *lu);
/* READ/WRITE commands run on the fast path, and by prk_lu_submit. */
void prk_lu_rw_counts(const struct prk_lu *lu, uint64_t *fast, uint64_t *slow);

/* An I_T nexus logs in / goes away. The first login of each nexus
 * identity after start gets the power-on UA (29/00). Nexus loss releases
 * the nexus's SPC-2 reservation (PR registrations stay); with an event
 * hook that is left to the replicated apply. */
void prk_lu_nexus_up(struct prk_lu *lu, const struct prk_nexus *nx);
void prk_lu_nexus_down(struct prk_lu *lu, const struct prk_nexus *nx);

/* LOGICAL UNIT RESET (and target resets): the caller has aborted the
 * tasks; this resets the mode parameters, releases the SPC-2 reservation
 * and queues 29/03 for every nexus (the last two through the event hook
 * and prk_lu_event_apply when one is set). */
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
	/* The raw parameter list (the first PARAMETER LIST LENGTH bytes of
	 * data-out, fewer when data-out is shorter; never NULL) and, through
	 * cmd, the raw CDB: what a cluster multicasts, because every replica
	 * must decode at apply time (decoding depends on the SPC-2 state). */
	const uint8_t *params;
	size_t params_len;
};

/* RESERVE(6/10) or RELEASE(6/10) handed to the spc2 hook; completed by
 * prk_lu_spc2_complete or prk_lu_spc2_fail, exactly once. */
struct prk_lu_spc2_op {
	const struct prk_nexus *from;
	const struct prk_lu_cmd *cmd; /* the raw CDB is cmd->cdb / cmd->cdb_len */
};

/* Events that change the PR state, as a cluster replicates them. */
enum prk_lu_event_kind {
	PRK_LU_EV_PROUT = 1,  /* PERSISTENT RESERVE OUT: CDB + parameter list */
	PRK_LU_EV_SPC2,       /* RESERVE/RELEASE(6/10): CDB */
	PRK_LU_EV_NEXUS_LOSS, /* I_T nexus loss: the nexus */
	PRK_LU_EV_RESET,      /* LOGICAL UNIT RESET (or a target reset) */
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

	/* ---- Cluster mode. Every hook below is optional; with all of them
	 * NULL the LU behaves exactly as a stand-alone one. ---- */

	/* Where RESERVE/RELEASE(6/10) go, like prout: the hook completes op
	 * once (prk_lu_spc2_complete / prk_lu_spc2_fail), now or later; the
	 * command counts in prk_lu_inflight meanwhile. NULL: the local engine
	 * decides at once. */
	void (*spc2)(void *ctx, struct prk_lu *lu, struct prk_lu_spc2_op *op);
	/* I_T nexus loss (nx) and LU reset (nx NULL). When set,
	 * prk_lu_nexus_down and prk_lu_reset leave the PR state and its unit
	 * attentions alone and report the event here instead; the cluster
	 * orders it and every replica applies it with prk_lu_event_apply. */
	void (*event)(void *ctx, struct prk_lu *lu, enum prk_lu_event_kind kind,
	              const struct prk_nexus *nx);
	/* A unit attention was just reported to a local nexus (CHECK
	 * CONDITION or REQUEST SENSE): peers drop their copy of it
	 * (prk_lu_ua_consumed), so that it is reported exactly once. */
	void (*ua_consumed)(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx, uint16_t asc);
	/* The first login of an identity on this node since it started (it
	 * has just been given 29/00): peers create its record and queue 29/00
	 * (prk_lu_nexus_known with power_on). */
	void (*nexus_first)(void *ctx, struct prk_lu *lu, const struct prk_nexus *nx);
	/* Called before a PERSISTENT RESERVE IN is answered. true: the hook
	 * keeps cmd (it counts in prk_lu_inflight) and later answers it with
	 * prk_lu_prin_resume from the then-current state, or fails it with
	 * prk_lu_cmd_fail; used to wait until every change this node applied
	 * is applied everywhere. false: answered at once. */
	bool (*prin_wait)(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);
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

/* Completes a PR OUT with CHECK CONDITION (key, asc) without applying
 * it (e.g. the cluster lost quorum before ordering it); op is gone. */
void prk_lu_prout_fail(struct prk_lu_prout *op, uint8_t key, uint16_t asc);

/* Completes a RESERVE/RELEASE the spc2 hook holds, as
 * prk_lu_prout_complete does a PR OUT (status, sense; unit attentions
 * marked skip_sender skip op->from). Takes res's contents; op is gone. */
void prk_lu_spc2_complete(struct prk_lu_spc2_op *op, struct prk_pr_result *res);
void prk_lu_spc2_fail(struct prk_lu_spc2_op *op, uint8_t key, uint16_t asc);

/* A PR IN held by the prin_wait hook: answer it now from the current state. */
void prk_lu_prin_resume(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* Ends any command the LU handed to a hook (a held PR IN, say) with CHECK
 * CONDITION (key, asc). */
void prk_lu_cmd_fail(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t key, uint16_t asc);

/* ---- Cluster mode: applying replicated events (lu_cluster.c) ---- */

/* One event in the order the cluster delivered it. cdb/params point into
 * the message and need to live only for the call. */
struct prk_lu_event {
	enum prk_lu_event_kind kind;
	struct prk_nexus from; /* PROUT/SPC2: the sender; NEXUS_LOSS: the nexus */
	const uint8_t *cdb;    /* PROUT, SPC2 */
	size_t cdb_len;
	const uint8_t *params; /* PROUT */
	size_t params_len;
};
/* Applies ev to this replica's PR state, then carries out this node's
 * share of its effects: the unit attentions go into this LU's table
 * (skip_sender skips ev->from) and res->n_ua is set to 0; the APTPL
 * record is written when the engine asks and the persist hook is set (a
 * failure is NOT rolled back, the other replicas applied the event: it is
 * reported as persist_failed); for a GOOD PREEMPT AND ABORT the abort hook
 * runs this node's barrier, sparing `own` (the local PR OUT command that
 * sent the event; NULL on other nodes). done(arg, res, persist_failed)
 * comes after the barrier drained, else at once (possibly before this
 * returns). res is valid only during done, which must prk_pr_result_free
 * it. The prout_done log hook sees every PROUT. Should the barrier's
 * bookkeeping not fit in memory, the state is still changed (as on every
 * replica) but res reports HARDWARE ERROR / INTERNAL TARGET FAILURE, so
 * the cluster sees the difference. */
void prk_lu_event_apply(struct prk_lu *lu, const struct prk_lu_event *ev,
                        const struct prk_lu_cmd *own,
                        void (*done)(void *arg, struct prk_pr_result *res, bool persist_failed),
                        void *arg);

/* ---- Cluster mode: the unit attention table as replicated state (ua.c) ----
 * Every replica keeps the same table: every nexus identity known in the
 * cluster with its pending unit attentions, plus the set-UAs kept for
 * identities not seen yet. Whether a nexus is logged in here stays local. */

/* The table as bytes (bounded, CRC32C-checked): malloc'ed into *out;
 * returns the length, 0 on allocation failure. */
size_t prk_lu_ua_export(const struct prk_lu *lu, uint8_t **out);
/* Replaces the table with the bytes' (from the network: fully checked).
 * Local login state survives for identities on both sides; local
 * identities the bytes lack keep an empty record. 0, or -1 with the table
 * unchanged when the bytes are malformed (or memory ran out). */
int prk_lu_ua_import(struct prk_lu *lu, const uint8_t *buf, size_t len);
/* A peer reported asc to nx: remove that one pending condition here. */
void prk_lu_ua_consumed(struct prk_lu *lu, const struct prk_nexus *nx, uint16_t asc);
/* A nexus of another node: creates its record (queueing the set-UAs it
 * falls under, as a first login would); power_on also queues 29/00 at the
 * front, as its first login on its own node did there. */
void prk_lu_nexus_known(struct prk_lu *lu, const struct prk_nexus *nx, bool power_on);

/* The serving gate (self-fencing lease). NULL: no gate. Otherwise, from
 * the moment CLOCK_MONOTONIC_COARSE reaches *until_ns, every command the
 * ALUA unavailable state refuses is refused the same way (NOT READY,
 * 04/0C; INQUIRY, REPORT LUNS, REPORT TARGET PORT GROUPS, REQUEST SENSE
 * still run). *until_ns is read per command (the owner moves it forward
 * as its lease is renewed) and must outlive the LU or be unset. */
void prk_lu_set_gate(struct prk_lu *lu, const uint64_t *until_ns);

/* The target port groups (see above); t must outlive the LU or be
 * replaced. NULL: every port active/optimized, RTPG lists only the
 * command's own port. */
void prk_lu_set_port_groups(struct prk_lu *lu, const struct prk_lu_port_groups *t);
/* A port group's state changed: queues 2A/06 ASYMMETRIC ACCESS STATE
 * CHANGED for every I_T nexus of the LU. */
void prk_lu_alua_changed(struct prk_lu *lu);

/* ---- Third-party copy: EXTENDED COPY and RECEIVE COPY RESULTS ----
 * The copy manager lives above the LU (src/copy): it needs the other LUs
 * of the target. The LU runs its own checks on the command (unit
 * attentions, ALUA, the serving gate, the PR access check, the CDB's
 * service action) and hands it to the hook, which completes it exactly
 * once, now or later, with prk_lu_copy_reply / prk_lu_copy_sense /
 * prk_lu_cmd_fail / prk_lu_copy_fail_field. Until then it counts in
 * prk_lu_inflight. Without hooks both opcodes are unsupported (20/00),
 * INQUIRY's 3PC bit is 0, VPD 8Fh is absent and REPORT SUPPORTED
 * OPERATION CODES does not list them. */
struct prk_lu_copy_hooks {
	void *ctx;
	void (*xcopy)(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);
	void (*rcr)(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);
	/* The transport aborts cmd (an EXTENDED COPY the hook holds): stop
	 * early. The hook still completes cmd once (its status is discarded). */
	void (*cancel)(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);
	/* What VPD 8Fh and the 3PC bit report (must outlive the LU). */
	const struct prk_xcopy_opparams *params;
	/* The copy manager's I_T nexus, for VPD 8Fh's descriptor F001h
	 * (NULL: none). */
	const struct prk_tid *cm_tid;
	uint16_t cm_rtpi;
};
/* h NULL: no third-party copy on this LU. */
void prk_lu_set_copy_hooks(struct prk_lu *lu, const struct prk_lu_copy_hooks *h);
/* The transport aborts a command that is inside the LU (ABORT TASK, a
 * TMF, the PREEMPT AND ABORT barrier, nexus loss). A command a copy hook
 * holds is cancelled through it; one still waiting for the fast path's
 * drain (lu_fast.c) completes at once, unrun, with TASK ABORTED; for any
 * other command nothing happens (it completes as it would). */
void prk_lu_cancel(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* Completions for the copy hooks: GOOD with data-in (len bytes of buf,
 * truncated to alloc, the CDB's ALLOCATION LENGTH); CHECK CONDITION with
 * ready-made sense bytes (truncated to PRK_LU_SENSE_MAX); ILLEGAL REQUEST
 * from a decoder's field error. */
void prk_lu_copy_reply(struct prk_lu *lu, struct prk_lu_cmd *cmd, const void *buf, size_t len,
                       size_t alloc);
void prk_lu_copy_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t status,
                       const uint8_t *sense, size_t len);
void prk_lu_copy_fail_field(struct prk_lu *lu, struct prk_lu_cmd *cmd,
                            const struct prk_field_err *e);
/* The LU's control mode page D_SENSE bit: which sense format to build. */
bool prk_lu_d_sense(const struct prk_lu *lu);

/* Commands submitted and not yet completed. */
unsigned prk_lu_inflight(const struct prk_lu *lu);

const struct prk_lu_config *prk_lu_config(const struct prk_lu *lu);
/* The LU's NAA designator (16 bytes, VPD 83h): its identity in a cluster. */
const uint8_t *prk_lu_naa(const struct prk_lu *lu);
struct prk_pr_state *prk_lu_pr(struct prk_lu *lu);

/* The control mode page's TAS bit (for the transport's abort handling). */
bool prk_lu_tas(const struct prk_lu *lu);

#endif
