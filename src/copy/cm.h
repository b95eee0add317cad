/* The copy manager: EXTENDED COPY (LID1) and RECEIVE COPY RESULTS for the
 * LUs of the daemon (SPC-4 6.4, 6.18; docs/copy.md).
 *
 * It sits above src/lu: a copy reads and writes other LUs, and it does so
 * as its own I_T nexus (the copy manager's initiator port, on its own
 * relative target port), through prk_lu_submit, so that every check a
 * host's command meets (the PR access check first of all, unit
 * attentions, ALUA, the cluster's serving gate) applies to the copy too.
 * That nexus has a real TransportID: a host moves a reservation to it with
 * REGISTER AND MOVE, and a 15h segment descriptor moves it back.
 *
 * Which LUs a CSCD descriptor may name is the daemon's decision (ops
 * resolve): only the LUs the requesting I_T nexus may access.
 *
 * Everything runs on the event-loop thread; no locks. */
#ifndef PRKIT_COPY_CM_H
#define PRKIT_COPY_CM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lu.h"
#include "prkit/pr.h"
#include "prkit/scsi_tid.h"
#include "prkit/scsi_xcopy.h"

#define PRK_CM_DEFAULT_INITIATOR "iqn.2026-12.io.prkit:copy-manager"
#define PRK_CM_DEFAULT_ISID 0x000000000001ULL
#define PRK_CM_DEFAULT_RTPI 65535

struct prk_cm_config {
	char initiator[PRK_ISCSI_NAME_MAX + 1]; /* "" = PRK_CM_DEFAULT_INITIATOR */
	uint64_t isid;                          /* 48 bits; 0 = PRK_CM_DEFAULT_ISID */
	uint16_t rtpi;                          /* no portal's; 0 = PRK_CM_DEFAULT_RTPI */
	unsigned max_copies; /* EXTENDED COPY commands at once; 0 = 32; 16..255 */
	uint32_t chunk;      /* bytes per READ/WRITE; 0 = 2 MiB; a multiple of 4096, <= 16 MiB */
	unsigned depth;      /* chunks in flight per copy; 0 = 2; <= 64 */
	unsigned max_held;   /* results held for RECEIVE COPY RESULTS; 0 = 256 */
};

struct prk_cm_ops {
	void *ctx;
	/* The LU that CSCD d names among the LUs nx may access through the LU
	 * `via` (the one that received the EXTENDED COPY), or NULL: the copy
	 * ends with COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE (0D/02). */
	struct prk_lu *(*resolve)(void *ctx, struct prk_lu *via, const struct prk_nexus *nx,
	                          const struct prk_xcopy_cscd *d);
	/* May a 15h segment name lu (a block LU) as its destination? SPC-4
	 * allows stream devices only; a per-LU option allows block LUs. */
	bool (*allow_3pr_block)(void *ctx, struct prk_lu *lu);
	/* A copy ended (log, counters); optional. status: enum
	 * prk_xcopy_status_code; seg: segments processed; why: NULL on success. */
	void (*copy_done)(void *ctx, struct prk_lu *via, const struct prk_nexus *nx,
	                  uint8_t list_id, uint8_t status, uint16_t seg, uint64_t bytes,
	                  const char *why);
};

struct prk_cm;

/* NULL with a message naming the bad field (initiator name, isid, rtpi). */
struct prk_cm *prk_cm_new(const struct prk_cm_config *cfg, const struct prk_cm_ops *ops, char *err,
                          size_t errlen);
/* No copy may be running (see prk_cm_busy). */
void prk_cm_free(struct prk_cm *cm);

/* The copy manager's I_T nexus and its TransportID (format 01b). */
const struct prk_nexus *prk_cm_nexus(const struct prk_cm *cm);
const struct prk_tid *prk_cm_tid(const struct prk_cm *cm);
const struct prk_xcopy_opparams *prk_cm_opparams(const struct prk_cm *cm);

/* Installs lu's copy hooks (prk_lu_set_copy_hooks) with cm as context,
 * and logs the copy manager's nexus in on lu (prk_lu_nexus_up), so the
 * unit attentions meant for it are kept (its commands retry them). */
void prk_cm_attach(struct prk_cm *cm, struct prk_lu *lu);
/* Is any copy running that uses lu (received through it, or with it as
 * a source or destination)? */
bool prk_cm_busy(const struct prk_cm *cm, const struct prk_lu *lu);
/* lu goes away (not busy): removes its hooks and the results held for it. */
void prk_cm_detach(struct prk_cm *cm, struct prk_lu *lu);

/* The copy manager's share of a PREEMPT AND ABORT barrier on lu: when its
 * own nexus is in sets[0..n), the copies using lu as a source or
 * destination stop issuing (they end COPY ABORTED; 15h they reached are
 * still moved) and done(arg) is called once none of the commands it had
 * inside lu is there any more; else at once. */
void prk_cm_abort(struct prk_cm *cm, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
                  void (*done)(void *arg), void *arg);
/* I_T nexus loss: the results held for nx are dropped, and a copy of nx
 * still running will hold none. */
void prk_cm_nexus_gone(struct prk_cm *cm, const struct prk_nexus *nx);

struct prk_cm_stats {
	unsigned active;
	uint64_t started, done, failed, aborted, bytes;
	unsigned held;
};
void prk_cm_stats(const struct prk_cm *cm, struct prk_cm_stats *out);

#endif
