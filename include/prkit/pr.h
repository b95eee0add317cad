/* The persistent-reservation engine: the complete PR state of one logical
 * unit and a deterministic apply(nexus, request) -> (status, sense, effects).
 *
 * No I/O, no clocks, no threads. The caller (the target, or a cluster
 * replica) carries out the effects: unit attentions to queue, I_T nexuses
 * whose tasks must be aborted, and whether the persistent record must be
 * rewritten. Given the same sequence of calls, every replica reaches the same
 * state and returns the same results.
 *
 * Not thread-safe: one writer at a time (the target serializes PR OUT per
 * LU). The access check only reads. */
#ifndef PRKIT_PR_H
#define PRKIT_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_sense.h"
#include "prkit/scsi_tid.h"

/* ---- I_T nexus identity ----
 * (initiator port = iSCSI name + ISID, relative target port identifier).
 * The name is stored lower-cased, so that identity comparison is a memcmp
 * and iSCSI's case-insensitive names compare equal. */
struct prk_nexus {
	char name[PRK_ISCSI_NAME_MAX + 1];
	uint64_t isid;
	uint16_t rtpi;
	uint64_t name_hash; /* of the lower-cased name; set by prk_nexus_init */
};

/* Returns 0, or -1 if the name is not a valid iSCSI name or the ISID has
 * bits above 48. */
int prk_nexus_init(struct prk_nexus *nx, const char *iscsi_name, uint64_t isid, uint16_t rtpi);
bool prk_nexus_eq(const struct prk_nexus *a, const struct prk_nexus *b);

/* A set of I_T nexuses, as named by an effect: one nexus, every target port
 * of one initiator port (an ALL_TG_PT registration), every ISID of one
 * initiator name (a registration made from a format-00b TransportID), or
 * every I_T nexus of the LU. */
struct prk_nexus_set {
	struct prk_nexus nx;
	bool any_isid;
	bool any_port;
	bool everyone;
};
bool prk_nexus_set_contains(const struct prk_nexus_set *s, const struct prk_nexus *nx);

/* ---- Effects ---- */

/* A unit attention to establish for every I_T nexus in `to`, except the
 * nexus that sent the command when `skip_sender` is set (every PR rule of
 * SPC-4 excludes the sender). Nexuses in `to` that are not logged in get
 * it when they log in. */
struct prk_ua {
	struct prk_nexus_set to;
	bool skip_sender;
	uint16_t asc; /* enum prk_asc */
};

struct prk_pr_result {
	uint8_t status;         /* enum prk_status */
	struct prk_sense sense; /* valid when status is CHECK CONDITION */
	const char *why;        /* short reason, for logs ("key mismatch", ...) */

	struct prk_ua *ua;
	size_t n_ua, cap_ua;
	/* PREEMPT AND ABORT: abort every task of these I_T nexuses (never the
	 * PR OUT command itself) before completing the command; with TAS=0 the
	 * nexuses that lost tasks get UA 2F/00 COMMANDS CLEARED BY ANOTHER
	 * INITIATOR, with TAS=1 the tasks end with TASK ABORTED. */
	struct prk_nexus_set *abort;
	size_t n_abort, cap_abort;

	bool changed; /* the PR state changed */
	bool persist; /* the persistent record must be rewritten before the
	               * command completes (APTPL is, or just was, on) */
};
void prk_pr_result_init(struct prk_pr_result *r);
void prk_pr_result_free(struct prk_pr_result *r);

/* ---- State ---- */

struct prk_pr_config {
	uint32_t max_registrations; /* 0 = PRK_PR_DEFAULT_MAX_REGS */
	/* Relative target port identifiers of the LU's target ports, for
	 * REGISTER AND MOVE validation. n_rtpis = 0 accepts any. */
	const uint16_t *rtpis;
	size_t n_rtpis;
};
#define PRK_PR_DEFAULT_MAX_REGS 65536

struct prk_pr_state;

struct prk_pr_state *prk_pr_state_new(const struct prk_pr_config *cfg);
void prk_pr_state_free(struct prk_pr_state *st);
/* Deep copy (for apply-then-commit: the target keeps the old state until
 * the persistent record is written). Returns NULL on allocation failure. */
struct prk_pr_state *prk_pr_state_clone(const struct prk_pr_state *st);
/* Structural equality (registrations in order, reservation, generation,
 * APTPL, SPC-2 reservation, lost flag). */
bool prk_pr_state_equal(const struct prk_pr_state *a, const struct prk_pr_state *b);
/* Replace the set of target ports (a portal added or removed at run time). */
int prk_pr_set_ports(struct prk_pr_state *st, const uint16_t *rtpis, size_t n);

/* ---- Introspection (admin display, tests, invariants) ---- */

struct prk_pr_reg_info {
	uint64_t key;
	struct prk_nexus nx; /* rtpi undefined when all_tg_pt, isid when any_isid */
	bool all_tg_pt;
	bool any_isid;
	bool holder; /* holds the reservation (every registrant for AR types) */
};
uint32_t prk_pr_generation(const struct prk_pr_state *st);
bool prk_pr_aptpl(const struct prk_pr_state *st);
size_t prk_pr_reg_count(const struct prk_pr_state *st);
void prk_pr_reg_info(const struct prk_pr_state *st, size_t i, struct prk_pr_reg_info *out);
/* Is the reservation present? Then *type, *scope and the index of the
 * holder's registration (-1 for all-registrants types). */
bool prk_pr_reservation(const struct prk_pr_state *st, uint8_t *type, uint8_t *scope,
                        long *holder_index);
/* Index of the registration that covers nx, or -1. O(1). */
long prk_pr_find(const struct prk_pr_state *st, const struct prk_nexus *nx);
bool prk_pr_is_holder(const struct prk_pr_state *st, const struct prk_nexus *nx);
/* SPC-2 reservation holder, if any. */
bool prk_pr_spc2_holder(const struct prk_pr_state *st, struct prk_nexus *out);
bool prk_pr_lost(const struct prk_pr_state *st);

/* ---- Commands ---- */

/* PERSISTENT RESERVE OUT: decodes the CDB and parameter list (params holds
 * PARAMETER LIST LENGTH bytes) and applies it. Always fills *res (status,
 * sense, effects); returns 0 when the command completed with GOOD. */
int prk_pr_out(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
               size_t cdb_len, const uint8_t *params, size_t params_len, struct prk_pr_result *res);

/* The decoded form, for callers that already have it (cluster replay). */
struct prk_pr_request {
	struct prk_prout_cdb cdb;
	struct prk_prout_params p;
};
int prk_pr_apply(struct prk_pr_state *st, const struct prk_nexus *from,
                 const struct prk_pr_request *req, struct prk_pr_result *res);
/* The first half of prk_pr_out: checks for an SPC-2 reservation and decodes
 * the CDB and parameter list into *req without changing st. Returns 0, or
 * -1 with *res filled as prk_pr_out would fill it. req->p.tid_list points
 * into params, which must outlive req. */
int prk_pr_out_decode(const struct prk_pr_state *st, const uint8_t *cdb, size_t cdb_len,
                      const uint8_t *params, size_t params_len, struct prk_pr_request *req,
                      struct prk_pr_result *res);

/* PERSISTENT RESERVE IN: writes at most min(cap, ALLOCATION LENGTH) bytes
 * into buf (cap is the buffer's size). Returns the number of bytes to
 * transfer; res->status tells success. */
size_t prk_pr_in(const struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
                 size_t cdb_len, uint8_t *buf, size_t cap, struct prk_pr_result *res);

/* SPC-2 RESERVE(6/10) / RELEASE(6/10) with CRH=1 (pr-rules B11). */
int prk_pr_spc2(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
                size_t cdb_len, struct prk_pr_result *res);

/* ---- Events (B12) ---- */

/* I_T nexus loss: releases an SPC-2 reservation held by nx. PR
 * registrations and the persistent reservation are untouched. */
void prk_pr_nexus_loss(struct prk_pr_state *st, const struct prk_nexus *nx,
                       struct prk_pr_result *res);
/* LOGICAL UNIT RESET (and target resets): releases the SPC-2 reservation;
 * UA 29/03 to every I_T nexus. PR state is untouched. */
void prk_pr_lu_reset(struct prk_pr_state *st, struct prk_pr_result *res);
/* Power on / restart, after the persistent record (if any) was loaded:
 * without APTPL every registration and the reservation are gone; with it
 * they stay. PRgeneration restarts at 0 either way (B8/B12). */
void prk_pr_power_on(struct prk_pr_state *st);
/* The target could not recover persistent state it had promised to keep
 * (e.g. the APTPL record is corrupt): registrations and the reservation are
 * dropped and the LU reports PERSISTENT RESERVATION INFORMATION LOST until a
 * REPLACE LOST RESERVATION succeeds (SPC-5). */
void prk_pr_mark_lost(struct prk_pr_state *st);

/* ---- Access check (B3, B11) ---- */

enum prk_access {
	PRK_ACCESS_ALLOWED = 0,
	PRK_ACCESS_CONFLICT, /* complete with RESERVATION CONFLICT */
	PRK_ACCESS_LOST,     /* CHECK CONDITION: see prk_pr_lost_sense() */
};

/* May the command in cdb, from nexus `from`, run now? Decided by an
 * explicit table of operation codes and service actions; unknown ones are
 * treated as medium writes. PR IN, PR OUT, RESERVE and RELEASE return
 * ALLOWED here: their own execution (prk_pr_in/out/spc2) decides. O(1): it
 * never scans the registrations. */
enum prk_access prk_pr_access(const struct prk_pr_state *st, const struct prk_nexus *from,
                              const uint8_t *cdb, size_t cdb_len);
void prk_pr_lost_sense(struct prk_sense *s);

/* The command classes of the access table, exposed for tests and REPORT
 * SUPPORTED OPERATION CODES. */
enum prk_cmd_class {
	PRK_CLASS_ALWAYS,      /* allowed under every reservation */
	PRK_CLASS_READ,        /* medium read */
	PRK_CLASS_WRITE,       /* medium write (also: unknown commands) */
	PRK_CLASS_ADMIN_READ,  /* read-like admin: allowed where reads are */
	PRK_CLASS_ADMIN_WRITE, /* write-like admin: allowed where writes are */
	PRK_CLASS_PR,          /* PR IN / PR OUT: decided by the engine */
	PRK_CLASS_SPC2,        /* RESERVE / RELEASE (6/10): decided by the engine */
};
enum prk_cmd_class prk_pr_classify(const uint8_t *cdb, size_t cdb_len);
/* Is the command's class in the table, rather than the medium-write default
 * given to what the table does not know? For the device server's tests:
 * every command an LU implements must have a class of its own. */
bool prk_pr_class_known(const uint8_t *cdb, size_t cdb_len);

/* ---- Persistent record (APTPL) ----
 * A versioned, checksummed byte string holding everything that persists:
 * APTPL, generation, registrations, the reservation. The target stores it
 * (atomically); the engine only encodes and decodes it. */
#define PRK_PR_RECORD_VERSION 1

/* Encodes st into a malloc'ed buffer; returns its length, 0 on allocation
 * failure. */
size_t prk_pr_record_encode(const struct prk_pr_state *st, uint8_t **out);
/* Replaces the persistent part of st with the record's contents. On error
 * st is unchanged and *err names the bad field (offset in the record).
 * Returns 0 or -1. */
int prk_pr_record_decode(struct prk_pr_state *st, const uint8_t *buf, size_t len,
                         struct prk_field_err *err);

/* ---- Snapshot (cluster state transfer) ----
 * The whole replicated state of a LU: what the record holds plus the
 * SPC-2 reservation and the "information lost" flag, i.e. everything
 * prk_pr_state_equal compares. Versioned and CRC32C-checked; decode is
 * bounded (counts by max_registrations, every length checked) because the
 * bytes arrive from the network. Not a file format: both ends run the
 * same prkit version (the cluster's HELLO round checks that). */
#define PRK_PR_SNAPSHOT_VERSION 1

/* Encodes st into a malloc'ed buffer; returns its length, 0 on allocation
 * failure. */
size_t prk_pr_snapshot_encode(const struct prk_pr_state *st, uint8_t **out);
/* Replaces all of st's state (not its configuration: registration limit
 * and ports stay) with the snapshot's. Returns 0, or -1 with st unchanged
 * and *err naming the bad field (byte offset in the snapshot). */
int prk_pr_snapshot_decode(struct prk_pr_state *st, const uint8_t *buf, size_t len,
                           struct prk_field_err *err);

#endif
