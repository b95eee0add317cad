/* State shared by the files of the copy manager (src/copy); not API. */
#ifndef PRKIT_SRC_COPY_CM_INTERNAL_H
#define PRKIT_SRC_COPY_CM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byteorder.h"
#include "cm.h"

/* A unit attention on a sub-command is retried at most this often in a
 * row: the command's real outcome (GOOD, RESERVATION CONFLICT, ...) must
 * decide, not a 29/00 or 2A/03 meant for the copy manager's nexus. */
#define PRK_CM_UA_RETRIES 8
#define PRK_CM_MAX_DEPTH 64
#define PRK_CM_MAX_CHUNK (16u << 20)

struct prk_cm_copy;

enum prk_cm_sub_kind {
	PRK_CM_SUB_READ,
	PRK_CM_SUB_WRITE,
	PRK_CM_SUB_PROUT, /* 14h REGISTER or 15h REGISTER AND MOVE */
};

/* One command the copy manager has (or had) inside a LU. */
struct prk_cm_sub {
	struct prk_cm_copy *c;
	struct prk_lu_cmd cmd;
	struct prk_lu *lu; /* where cmd was submitted */
	enum prk_cm_sub_kind kind;
	bool busy;
	unsigned retries;
	uint64_t seq;    /* submission order, for prk_cm_abort */
	uint64_t off;    /* 02h: byte offset of the chunk in its segment */
	uint32_t len;    /* 02h: chunk bytes */
	uint8_t *buf;    /* 02h: the READ's data-in, then the WRITE's data-out */
	uint8_t reg[24]; /* 14h: the REGISTER parameter list */
	uint16_t seg;    /* the segment it works for */
};

enum prk_cm_phase {
	PRK_CM_PH_SEGS, /* processing the segments in order */
	PRK_CM_PH_MOVE, /* the pending 15h moves, in order */
};

/* One EXTENDED COPY in progress. */
struct prk_cm_copy {
	struct prk_cm *cm;
	struct prk_cm_copy *prev, *next;
	struct prk_lu *via; /* the LU that received it */
	struct prk_lu_cmd *cmd;
	struct prk_nexus nx; /* the requesting I_T nexus */
	struct prk_lu_port port;
	struct prk_xcopy_list l;
	struct prk_lu *res[PRK_XCOPY_MAX_CSCD]; /* CSCDs resolved so far */
	bool pending[PRK_XCOPY_MAX_SEG];        /* 15h reached: its move is owed */
	enum prk_cm_phase phase;
	uint16_t seg;     /* the segment being processed */
	bool seg_started; /* its sub-commands are being issued */
	uint16_t segs_done;
	uint16_t move_i; /* next index to look at for a pending 15h */
	uint64_t bytes;  /* written so far */
	/* The 02h segment in progress. */
	struct prk_lu *src, *dst;
	uint32_t sbs, dbs;
	uint64_t seg_bytes, next_off;
	uint32_t chunk;
	unsigned in_flight;
	bool failed, cancelled;
	bool no_hold; /* its nexus is gone: keep no results */
	struct prk_xcopy_abort ab;
	const char *why;
	bool in_pump, again;
	unsigned nsub;
	struct prk_cm_sub sub[];
};

/* A finished copy's results, held for RECEIVE COPY RESULTS. */
struct prk_cm_held {
	struct prk_cm_held *next;
	struct prk_lu *via;
	struct prk_nexus nx;
	uint8_t list_id;
	uint8_t status; /* PRK_XCOPY_ST_DONE / _FAILED */
	bool hdd;
	uint16_t segs;
	uint64_t bytes;
	struct prk_xcopy_failed f;
};

/* A PREEMPT AND ABORT waiting for the copy manager's commands in lu. */
struct prk_cm_waiter {
	struct prk_cm_waiter *next;
	struct prk_lu *lu;
	uint64_t seq; /* commands submitted up to this one must be out */
	void (*done)(void *arg);
	void *arg;
};

struct prk_cm {
	struct prk_cm_config cfg;
	struct prk_cm_ops ops;
	struct prk_nexus nx;
	struct prk_tid tid;
	struct prk_xcopy_opparams op;
	struct prk_xcopy_limits lim;
	struct prk_lu_copy_hooks hooks;
	struct prk_cm_copy *copies;
	unsigned active;
	struct prk_cm_held *held, *held_tail;
	unsigned n_held;
	struct prk_cm_waiter *waiters;
	uint64_t seq;
	struct prk_cm_stats st;
};

/* The running copy (list id usage 00b/10b) of (via, nx, id), or NULL. */
struct prk_cm_copy *prk_cm_find_running(struct prk_cm *cm, const struct prk_lu *via,
                                        const struct prk_nexus *nx, uint8_t id);

/* cm_run.c: drives a copy until it needs to wait; frees it at the end. */
void prk_cm_pump(struct prk_cm_copy *c);
/* Records the failure (the first one wins, except a failed 15h move). */
void prk_cm_fail(struct prk_cm_copy *c, uint16_t asc, uint16_t seg, bool sd, uint32_t field,
                 int8_t bit, const char *why);

/* cm_sub.c: sub-commands. */
void prk_cm_sub_read(struct prk_cm_copy *c, struct prk_cm_sub *s);
void prk_cm_sub_register(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu,
                         const struct prk_xcopy_seg *seg, uint16_t idx);
void prk_cm_sub_move(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu,
                     const struct prk_xcopy_seg *seg, uint16_t idx);
/* Calls the waiters of prk_cm_abort whose commands are all out. */
void prk_cm_waiters_check(struct prk_cm *cm);
/* Is a command submitted up to seq still inside lu? */
bool prk_cm_inside(const struct prk_cm *cm, const struct prk_lu *lu, uint64_t seq);

/* cm_results.c: held results and RECEIVE COPY RESULTS. */
void prk_cm_hold(struct prk_cm_copy *c, uint8_t status, const uint8_t *sense, size_t sense_len);
void prk_cm_held_drop(struct prk_cm *cm, const struct prk_lu *via, const struct prk_nexus *nx,
                      int list_id);
void prk_cm_rcr(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);

#endif
