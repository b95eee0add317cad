/* `prkit copy`: what the run's parts share (copy.c opens the LUs and
 * reports; copy_lu.c talks to one LU; copy_offload.c sends the EXTENDED
 * COPY commands; copy_3pr.c wraps them in the Annex B.3 sequence;
 * copy_host.c is the host copy; copy_report.c prints). Internal to
 * src/cli. */
#ifndef PRKIT_CLI_COPY_RUN_H
#define PRKIT_CLI_COPY_RUN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy_args.h"
#include "copy_plan.h"
#include "prkit/host.h"
#include "prkit/scsi_tid.h"
#include "prkit/scsi_xcopy.h"

/* One LU, through one path of the host library (our I_T nexus to it). */
struct copy_lu {
	const char *url;
	struct prk_mpdev *dev;
	bool shared; /* the same device as the other LU (SRC and DST one URL) */
	uint8_t naa[16];
	uint32_t bs;
	uint64_t blocks;
	uint8_t pdt;
	struct prk_tid nexus; /* our initiator port (format 01b) */
	uint16_t rtpi;        /* the target port we reach it through */
};

/* A failure: the exit status (sg3_utils) and one line that says which
 * step, which command and what the target said. */
struct copy_fail {
	int exit;
	char msg[600];
};

#define COPY_MAX_STEPS 24
struct copy_step {
	const char *name; /* "register", "reserve", "discover", "move", "copy", ... */
	int exit;         /* 0: done */
	uint64_t ms;
	char detail[320];
};

struct copy_run {
	const struct prk_copy_args *a;
	struct prk_host *h;
	struct copy_lu src, dst;
	struct prk_copy_plan plan;
	bool have_op;
	struct prk_xcopy_opparams op;
	bool progress; /* progress lines on stderr */
	bool tty;      /* stderr is a terminal: one line, redrawn */

	/* progress and results */
	uint64_t t0_ms, t1_ms;
	uint64_t bytes_done; /* by commands that completed */
	uint64_t bytes_now;  /* the latest figure, for progress */
	uint64_t segs_done;  /* 02h segments of completed commands */
	uint64_t cmds_done;  /* EXTENDED COPY commands that completed GOOD */
	uint64_t polls;      /* RECEIVE COPY RESULTS sent while copying */
	bool offloaded;
	uint64_t progress_ms, progress_bytes; /* the last progress line */

	/* third party */
	struct prk_tid cm_tid;
	uint16_t cm_rtpi;
	const char *cm_from;  /* "vpd 8Fh F001h" or "options" */
	const char *resv_end; /* where the reservation ended, for the report */

	struct copy_step steps[COPY_MAX_STEPS];
	size_t n_steps;
	struct copy_fail fail;
};

/* ---- copy_lu.c ---- */
/* Did c end with a UNIT ATTENTION (so it did not run and may go again)? */
bool copy_is_ua(const struct prk_raw_cmd *c);
/* prk_mpdev_raw_sync through lu's path, sent again while it meets a unit
 * attention (at most 8 times): a unit attention reports an event (a
 * reservation change, a new session) that the command's real outcome,
 * once sent again, accounts for. Returns c->status. */
int copy_raw_sync(struct copy_lu *lu, struct prk_raw_cmd *c);
/* Describes a raw command's outcome: exit status, and "WHAT: CHECK
 * CONDITION, sense key ..., ASC (asc/ascq xx/yy)" in f. Returns the exit
 * status (0 for GOOD). */
int copy_outcome(const struct prk_raw_cmd *c, const char *what, struct copy_fail *f);
/* f from a host library error. Returns the exit status. */
int copy_host_fail(const struct prk_host_err *e, const char *what, struct copy_fail *f);
/* Sets f (exit, message) and returns exit. */
int copy_failf(struct copy_fail *f, int exit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills lu: NAA (VPD 83h), PDT (INQUIRY), capacity, our nexus. 0, or the
 * exit status with f set. */
int copy_lu_identify(struct copy_lu *lu, const char *initiator, struct copy_fail *f);
/* RECEIVE COPY RESULTS, OPERATING PARAMETERS, through lu. 0 or exit. */
int copy_lu_opparams(struct copy_lu *lu, uint8_t list_id, unsigned timeout_ms,
                     struct prk_xcopy_opparams *op, struct copy_fail *f);
/* One PR OUT through lu's path. 0 or exit (f names what). */
int copy_lu_prout(struct copy_lu *lu, uint8_t sa, uint8_t type, const uint8_t *params, size_t len,
                  const char *what, struct copy_fail *f);
/* READ RESERVATION + READ FULL STATUS: who holds the reservation. *held
 * false when none; else its key and type and the holder's TransportID. */
struct copy_holder {
	bool held;
	uint64_t key;
	uint8_t type;
	bool holder_known;
	struct prk_tid tid;
	uint16_t rtpi;
};
int copy_lu_holder(struct copy_lu *lu, struct copy_holder *hd, struct copy_fail *f);

/* ---- steps (copy_report.c) ---- */
struct copy_step *copy_step_begin(struct copy_run *r, const char *name);
void copy_step_end(struct copy_run *r, struct copy_step *s, int exit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void copy_progress(struct copy_run *r, bool final);
/* Prints the report (text on stdout, or --json) and returns the exit. */
int copy_report(struct copy_run *r, int exit);

/* ---- the runs ---- */
/* copy_offload.c: every command of r->plan; third_party adds a 15h to each
 * (copy_3pr.c builds it, and calls this once per command). */
int copy_offload_cmd(struct copy_run *r, uint64_t cmd, const uint8_t *move, size_t move_len);
int copy_offload(struct copy_run *r);
/* copy_3pr.c */
int copy_third_party(struct copy_run *r);
/* copy_host.c */
int copy_host(struct copy_run *r);

#endif
