/* State and helpers shared by the files of the device server (src/lu).
 * Nothing here is part of the public API (lu.h). */
#ifndef PRKIT_SRC_LU_INTERNAL_H
#define PRKIT_SRC_LU_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backstore.h"
#include "byteorder.h"
#include "gate.h"
#include "lu.h"

/* ---- Limits reported in VPD B0h and enforced by the commands ---- */
#define PRK_LU_DEFAULT_MAX_XFER 65536u
#define PRK_LU_MAX_CAW_BLOCKS 128u      /* MAXIMUM COMPARE AND WRITE LENGTH (<= 255) */
#define PRK_LU_MAX_UNMAP_LBAS 0x100000u /* MAXIMUM UNMAP LBA COUNT (per descriptor) */
#define PRK_LU_MAX_UNMAP_DESCS 256u     /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
#define PRK_LU_MAX_WRITE_SAME 0x400000u /* MAXIMUM WRITE SAME LENGTH */
#define PRK_LU_WS_CHUNK (1u << 20)      /* WRITE SAME pattern buffer */
#define PRK_LU_UA_QUEUE 16              /* unit attentions kept per I_T nexus */
#define PRK_LU_MAX_SET_UAS 256          /* set UAs kept for nexuses not yet seen */
#define PRK_LU_DEFAULT_OUI 0x000000u    /* NAA 6 company id when cfg.naa is 0 */

/* Sense codes only the device server reports (SBC-4). */
#define PRK_LU_ASC_SANITIZE_IN_PROGRESS 0x041b /* NOT READY: SANITIZE IN PROGRESS */
#define PRK_LU_ASC_SANITIZE_FAILED 0x3103      /* MEDIUM ERROR: SANITIZE COMMAND FAILED */

/* Big-endian access: the base's prk_get_be* / prk_put_be* (byteorder.h). */

/* ---- Unit attentions (ua.c) ---- */

/* One I_T nexus identity ever seen by this LU. Records are never freed
 * before the LU: UAs of a nexus that logged out wait for its return. */
struct prk_lu_nexus {
	struct prk_nexus nx;
	struct prk_lu_nexus *next; /* hash chain */
	uint16_t ua[PRK_LU_UA_QUEUE];
	uint8_t n_ua;
	/* n_ua as other loops may read it (atomic builtins only): records
	 * are added with those loops paused (prk_lu_nexus_up's caller), and
	 * never removed, so their fast path may look one up. */
	uint8_t n_ua_pub;
	bool logged_in;
	/* Logged in on this node since it started. Records can also come
	 * from peers (prk_lu_nexus_known, prk_lu_ua_import); the first local
	 * login is what earns the local 29/00. */
	bool seen_here;
};

/* A UA whose set may name nexuses the LU has never seen (an any-ISID or
 * ALL_TG_PT registration made through SPEC_I_PT): kept and matched when a
 * new identity first logs in. */
struct prk_lu_set_ua {
	struct prk_nexus_set to;
	uint16_t asc;
};

struct prk_lu_ua_table {
	struct prk_lu_nexus **bucket;
	size_t n_bucket; /* power of two */
	size_t n;        /* records */
	size_t pending;  /* UAs queued over all records: 0 makes the check free */
	struct prk_lu_set_ua *set_ua;
	size_t n_set_ua;
};

/* ---- Range lock (rangelock.c) ----
 * Every medium write takes an exclusive lock on its block range so that a
 * COMPARE AND WRITE's read-compare-write sequence is atomic against every
 * write to an overlapping range (and writes to overlapping ranges run in
 * arrival order). Reads take no lock. */
struct prk_lu_range {
	uint64_t lba, n;
	struct prk_lu_range *prev, *next;
	void (*granted)(struct prk_lu_range *r); /* when it had to wait */
	void *priv;
};
struct prk_lu_rlock {
	struct prk_lu_range *held, *wait_head, *wait_tail;
};
/* Returns true when granted at once; otherwise r waits (FIFO among
 * overlapping requests) and r->granted(r) is called from a later
 * prk_lu_rlock_release(). */
bool prk_lu_rlock_acquire(struct prk_lu_rlock *l, struct prk_lu_range *r);
void prk_lu_rlock_release(struct prk_lu_rlock *l, struct prk_lu_range *r);
/* Drops a waiting (not granted) request. */
void prk_lu_rlock_cancel(struct prk_lu_rlock *l, struct prk_lu_range *r);
bool prk_lu_rlock_idle(const struct prk_lu_rlock *l);

/* ---- Mode parameters (mode.c) ---- */
struct prk_lu_mode {
	bool wce;     /* caching page: write cache enabled */
	bool d_sense; /* control page: descriptor format sense data */
	bool tas;     /* control page: task aborted status */
	bool swp;     /* control page: software write protect */
};
/* Fails cmd with DATA PROTECT when the LU is read-only or software write
 * protected (sbc_rw.c); returns true then. */
bool prk_lu_write_protected(struct prk_lu *lu, struct prk_lu_cmd *cmd);

/* ---- SANITIZE (sbc_sanitize.c) ---- */
struct prk_lu_task;
struct prk_lu_sanitize {
	struct prk_lu_task *task;  /* the operation in progress, or NULL */
	struct prk_lu_cmd *waiter; /* the SANITIZE (IMMED=0) waiting for it */
	bool failed;               /* sanitize failure mode */
	bool ause;                 /* the failed one had AUSE=1: EXIT FAILURE MODE allowed */
	bool pending_ause;         /* AUSE of the one in progress */
	bool in_loop, again;       /* inline completions of OVERWRITE (no recursion) */
	/* task || failed, as one word for the fast path (lu_fast.c), which
	 * reads it on other loops: it is set only while the gate is drained
	 * (SANITIZE is not harmless) and cleared with release order when the
	 * LU may serve READ/WRITE again. Two plain fields would let a fast
	 * command see task already NULL but failed not yet set when a failing
	 * background sanitize ends (san_done stores them in turn). */
	atomic_bool stops_rw;
};
/* Is this SANITIZE service action implemented by the LU? */
bool prk_lu_sanitize_supported(const struct prk_lu *lu, int sa);
/* While a sanitize runs or after one failed: fails the commands that may
 * not run then and returns false. */
bool prk_lu_sanitize_check(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* The sense REQUEST SENSE reports for the sanitize state; true when it is
 * NOT READY 04/1B with a progress indication (*progress, 0..65535). */
bool prk_lu_sanitize_sense(const struct prk_lu *lu, struct prk_sense *s, uint16_t *progress);

/* ---- The logical unit ---- */
struct prk_lu {
	struct prk_lu_config cfg;
	struct prk_bs *bs;
	struct prk_pr_state *pr;
	size_t align;
	unsigned inflight;
	uint8_t naa[16]; /* NAA 6 designator, computed once */
	struct prk_lu_mode mode;
	struct prk_lu_ua_table ua;
	struct prk_lu_rlock rlock;
	struct prk_lu_pr_hooks pr_hooks;
	const struct prk_lu_port_groups *tpgs; /* NULL: no ALUA restrictions */
	const uint64_t *gate;                  /* serving gate (lu_cluster.c); NULL: none */
	struct prk_lu_sanitize san;
	/* Third-party copy (copy_cmds.c): the hooks, valid when has_copy. */
	struct prk_lu_copy_hooks copy;
	bool has_copy;
	uint8_t op_first[256]; /* prk_lu_op_index(): opcode -> 1 + its first row */
	/* READ/WRITE on other loops (lu_fast.c); NULL: every command here. */
	struct prk_lu_fast *fast;
	uint64_t slow_rw; /* READ/WRITE run by prk_lu_submit (loop 0) */
};

/* ---- The fast path (lu_fast.c) ---- */
struct prk_lu_fast {
	struct prk_gate gate;
	struct prk_bs **lanes; /* [loop]; [0] unused (loop 0 uses lu->bs) */
	unsigned n;
	/* Loop 0 only. */
	unsigned holders; /* exclusive commands running (gate drained) */
	bool drained;     /* the gate is drained: exclusive commands may run */
	bool in_run, again;
	struct prk_lu_cmd *qhead, *qtail; /* waiting for the drain, in order */
};
/* cmd->lu_priv slots of the fast path: the loop + 1 of a fast command (it
 * leaves the gate when it ends), a command that holds the drain, and the
 * link of the queue of commands waiting for it. */
#define PRK_LU_PRIV_FAST 3
#define PRK_LU_PRIV_EXCL 4
#define PRK_LU_PRIV_NEXT 5
#define PRK_LU_PRIV_QUEUED 6 /* non-NULL while in that queue */
/* Loop 0, from prk_lu_submit: true when the LU took cmd to run after the
 * drain (it counts in lu->inflight meanwhile); false: run it now (marked
 * as a drain holder when it is exclusive). */
bool prk_lu_fast_admit(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* prk_lu_cancel of a command still waiting for the drain: it leaves the
 * queue unrun (TASK ABORTED; the transport sends nothing for an aborted
 * task) and true is returned. An aborted command must not run the checks
 * later: it would consume a unit attention whose answer nobody sees. */
bool prk_lu_fast_cancel(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* A drain holder ended (prk_lu_finish). */
void prk_lu_fast_release(struct prk_lu *lu);
/* The backstore handle of cmd: its loop's lane on the fast path. */
static inline struct prk_bs *prk_lu_bs_of(const struct prk_lu *lu, const struct prk_lu_cmd *cmd)
{
	uintptr_t f = (uintptr_t)cmd->lu_priv[PRK_LU_PRIV_FAST];
	return f ? lu->fast->lanes[f - 1] : lu->bs;
}
/* The command itself, from prk_lu_submit's checks on (lu.c). */
void prk_lu_submit_now(struct prk_lu *lu, struct prk_lu_cmd *cmd);

/* ---- Commands (lu.c) ---- */

/* Ends a command: sets data_in_len from spdtl and EDTL, calls done(). */
void prk_lu_finish(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* CHECK CONDITION with sense (format chosen by D_SENSE), then finish. */
void prk_lu_fail(struct prk_lu *lu, struct prk_lu_cmd *cmd, const struct prk_sense *s);
void prk_lu_fail_asc(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t key, uint16_t asc);
/* ILLEGAL REQUEST with a field pointer (bit -1: whole byte). */
void prk_lu_fail_field(struct prk_lu *lu, struct prk_lu_cmd *cmd, bool in_cdb, size_t byte, int bit,
                       uint16_t asc);
static inline void prk_lu_fail_cdb(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t byte, int bit)
{
	prk_lu_fail_field(lu, cmd, true, byte, bit, PRK_ASC_INVALID_FIELD_IN_CDB);
}
static inline void prk_lu_fail_param(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t byte,
                                     int bit)
{
	prk_lu_fail_field(lu, cmd, false, byte, bit, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
}
/* Encodes s into cmd->sense in the current format. */
void prk_lu_encode_sense(const struct prk_lu *lu, struct prk_lu_cmd *cmd,
                         const struct prk_sense *s);
/* Allocates cmd->data_in (zeroed, aligned for the backstore; freed by the
 * transport with free()). On NULL the caller fails the command with
 * prk_lu_fail_nomem(). */
uint8_t *prk_lu_data_in(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t len);
/* The same without zeroing, for READ: the backstore fills every byte, and
 * nothing is sent when it fails (zeroing 1 MiB reads was half the CPU). */
uint8_t *prk_lu_data_in_raw(struct prk_lu *lu, struct prk_lu_cmd *cmd, size_t len);
void prk_lu_fail_nomem(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* Copies len bytes of a locally built reply as data-in, truncated to
 * alloc (the CDB's ALLOCATION LENGTH), and finishes with GOOD. */
void prk_lu_reply(struct prk_lu *lu, struct prk_lu_cmd *cmd, const void *buf, size_t len,
                  size_t alloc);
/* The parameter data of a MODE SELECT / PR OUT / UNMAP: the first
 * min(param_len, data_out_len) bytes of data-out. */
size_t prk_lu_params(const struct prk_lu_cmd *cmd, size_t param_len, const uint8_t **out);

/* Handlers: each completes the command exactly once. */
void prk_lu_inquiry(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_mode_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_mode_select(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_mode_reset(struct prk_lu *lu);
void prk_lu_test_unit_ready(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_request_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_start_stop(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_rsoc(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_rstmf(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_rtpg(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_read_capacity10(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_read_capacity16(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_read(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_write(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_verify(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_prefetch(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_sync_cache(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_write_same(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_unmap(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_get_lba_status(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_compare_and_write(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_orwrite(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_read_defect_data(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_sanitize(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_write_atomic(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* MAXIMUM ATOMIC TRANSFER LENGTH (VPD B0h); 0: no WRITE ATOMIC on this LU. */
uint32_t prk_lu_atomic_max_blocks(const struct prk_lu *lu);
void prk_lu_pr_in_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_pr_out_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_spc2_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* EXTENDED COPY and RECEIVE COPY RESULTS: handed to the copy hooks. */
void prk_lu_xcopy_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd);
void prk_lu_rcr_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* VPD 8Fh (Third-party Copy) into d (cap bytes); 0 without copy hooks. */
size_t prk_lu_vpd_3pc(const struct prk_lu *lu, uint8_t *d, size_t cap);
/* cmd->lu_priv[PRK_LU_PRIV_COPY] marks an EXTENDED COPY the xcopy hook
 * holds: prk_lu_cancel forwards only those (one load for the others). */
#define PRK_LU_PRIV_COPY 2

/* Clears what a command reports back before the LU takes it (lu.c's
 * submit, the fast path's admit, and an unrun cancel all start here), so
 * that nothing of an earlier use of cmd is answered. */
static inline void prk_lu_cmd_start(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t status)
{
	cmd->status = status;
	cmd->sense_len = 0;
	cmd->data_in = NULL;
	cmd->data_in_len = 0;
	cmd->spdtl = 0;
	cmd->lu_priv[0] = lu;
	cmd->lu_priv[PRK_LU_PRIV_COPY] = NULL;
}

/* The ALUA access check (alua.c): when the command's port is in standby
 * or unavailable state and the command is not one of those SPC-4 allows
 * there, fails it with NOT READY 04/0B or 04/0C and returns false. Call
 * only when lu->tpgs && lu->tpgs->n_restricted. */
bool prk_lu_alua_check(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* May the command run through a port in standby (standby) or unavailable
 * state? SPC-4 5.16.2.4's lists. */
bool prk_lu_alua_allowed(const uint8_t *cdb, bool standby);
/* The serving gate (lu_cluster.c): when the lease in *lu->gate has run
 * out and the command is not one the unavailable state allows, fails it
 * with NOT READY 04/0C and returns false. Call only when lu->gate. */
bool prk_lu_gate_check(struct prk_lu *lu, struct prk_lu_cmd *cmd);

/* ---- The command table (optable.c) ---- */
typedef void (*prk_lu_handler)(struct prk_lu *lu, struct prk_lu_cmd *cmd);
enum {
	PRK_LU_OP_THIN = 1 << 0,   /* only on thin LUs (SBC-3: LBPU=0 means no UNMAP) */
	PRK_LU_OP_PR = 1 << 1,     /* only on LUs with persistent reservations (not no_pr) */
	PRK_LU_OP_ATOMIC = 1 << 2, /* only where the backstore makes writes all-or-nothing */
	PRK_LU_OP_COPY = 1 << 3,   /* only with copy hooks (third-party copy, copy_cmds.c) */
};
#define PRK_LU_MAX_OPS 64 /* rows at most: sizes the RSOC reply */
struct prk_lu_op {
	uint8_t op;
	int16_t sa; /* -1: the opcode has no service actions */
	uint8_t cdb_len;
	uint8_t flags;
	uint8_t thin_usage1;    /* bits of usage[1] advertised only on thin LUs */
	prk_lu_handler handler; /* NULL: answered by the target (REPORT LUNS) */
	uint8_t usage[16];      /* RSOC CDB USAGE DATA, cdb_len bytes */
};
extern const struct prk_lu_op prk_lu_ops[];
/* Fills first[op] with 1 + the index of op's first row, 0 where op has
 * none: dispatch's one-load lookup, built once per LU. */
void prk_lu_op_index(uint8_t first[256]);
/* Row i in (op, sa) order, NULL past the end. */
const struct prk_lu_op *prk_lu_op_row(size_t i);
/* The row of (op, sa), whatever the LU's configuration; sa -1 for an
 * opcode without service actions. NULL when there is none. */
const struct prk_lu_op *prk_lu_op_find(uint8_t op, int sa);
/* The first row of op (the only one when it has no service actions), or
 * NULL. */
const struct prk_lu_op *prk_lu_op_first(uint8_t op);
/* The row of service action sa among the rows of first's opcode (first is
 * that opcode's first row), or NULL. */
const struct prk_lu_op *prk_lu_op_next_sa(const struct prk_lu_op *first, int sa);
/* Does the opcode have rows per service action (byte 1 bits 4..0)? */
bool prk_lu_op_has_sa(uint8_t op);
/* Does this LU's configuration offer the row's command? */
bool prk_lu_op_available(const struct prk_lu *lu, const struct prk_lu_op *o);

/* Is the command (opcode + service action) implemented by this LU? Used
 * by REPORT SUPPORTED OPERATION CODES and by the dispatcher's tests. */
bool prk_lu_cmd_supported(const struct prk_lu *lu, uint8_t op, int sa);
/* For the tests: every command REPORT SUPPORTED OPERATION CODES lists is
 * dispatched, with the CDB length of its group. */
bool prk_lu_rsoc_consistent(const struct prk_lu *lu);

/* ---- Unit attentions (ua.c) ---- */
int prk_lu_ua_init(struct prk_lu_ua_table *t);
void prk_lu_ua_free(struct prk_lu_ua_table *t);
/* The oldest-highest-priority pending UA of nx without removing it, or 0. */
uint16_t prk_lu_ua_peek(struct prk_lu *lu, const struct prk_nexus *nx);
/* Another loop's fast path: nx's pending count (1 when nx has no record). */
uint8_t prk_lu_ua_pending_for(const struct prk_lu *lu, const struct prk_nexus *nx);
/* Removes and returns it (0 when none). */
uint16_t prk_lu_ua_pop(struct prk_lu *lu, const struct prk_nexus *nx);
/* prk_lu_ua_pop for a UA about to be reported to the initiator: also
 * tells the ua_consumed hook, so that peers drop their copy. */
uint16_t prk_lu_ua_deliver(struct prk_lu *lu, const struct prk_nexus *nx);

/* ---- I/O plumbing (sbc_io.c) ---- */

/* An asynchronous medium command in progress. */
struct prk_lu_task {
	struct prk_lu *lu;
	struct prk_lu_cmd *cmd;
	struct prk_bs_io io;
	struct iovec iov;
	uint8_t *buf;       /* owned: aligned bounce / compare / pattern buffer */
	uint8_t *rdbuf;     /* owned: read-back buffer (VERIFY, CAW) */
	const uint8_t *src; /* data to write (data-out, or buf) */
	uint64_t lba, nblocks, done_blocks;
	uint64_t chunk_blocks;
	uint32_t n_desc, desc_i; /* UNMAP descriptors */
	const uint8_t *desc;
	bool fua, locked, zero, unmap;
	uint32_t pass, passes; /* SANITIZE OVERWRITE */
	/* Chunked writes (WRITE SAME) issue their chunks from a loop: a
	 * completion inside prk_bs_submit (RAM) only sets `again`, so the
	 * stack does not grow per chunk; `gone` (when set) is cleared to
	 * true when the task is freed under the loop's feet. */
	bool in_loop, again;
	bool *gone;
	struct prk_lu_range range;
	void (*step)(struct prk_lu_task *t); /* continuation after io completes */
};
struct prk_lu_task *prk_lu_task_new(struct prk_lu *lu, struct prk_lu_cmd *cmd);
/* Finishes the task's command (releasing its range lock) and frees it. */
void prk_lu_task_end(struct prk_lu_task *t);
void prk_lu_task_fail(struct prk_lu_task *t, uint8_t key, uint16_t asc);
void prk_lu_task_fail_sense(struct prk_lu_task *t, const struct prk_sense *s);
/* MISCOMPARE 1D/00 with the data-out offset of the first differing byte. */
void prk_lu_task_miscompare(struct prk_lu_task *t, uint64_t off);
/* Submits one backstore op; t->step runs when it completed successfully,
 * an error fails the command with MEDIUM ERROR / WRITE ERROR or READ
 * ERROR (or LBA OUT OF RANGE for -EINVAL). */
void prk_lu_task_io(struct prk_lu_task *t, enum prk_bs_op op, uint64_t lba, uint64_t nblocks,
                    void *buf);
/* Takes the range lock for [lba, lba+n) then runs t->step (now or later). */
void prk_lu_task_lock(struct prk_lu_task *t, uint64_t lba, uint64_t n);
/* Write-type commands write through when the write cache is off. */
static inline bool prk_lu_fua(const struct prk_lu *lu, bool cdb_fua)
{
	return cdb_fua || !lu->mode.wce;
}
/* LBA range check: lba..lba+n within the capacity (n = 0: lba itself must
 * be a valid LBA). */
static inline bool prk_lu_range_ok(const struct prk_lu *lu, uint64_t lba, uint64_t n)
{
	return lba < lu->cfg.num_blocks && n <= lu->cfg.num_blocks - lba;
}
/* Data-out as a buffer aligned for the backstore: data_out itself when it
 * already is, else a copy owned by t (t->buf). NULL on allocation failure. */
const uint8_t *prk_lu_task_aligned_out(struct prk_lu_task *t, const uint8_t *p, size_t len);
void *prk_lu_alloc(const struct prk_lu *lu, size_t len);

/* The rule of every command that writes len blocks from data-out: SPDTL is
 * the CDB's length (the transport reports the residual), and only the whole
 * blocks that arrived are used. Returns how many; 0 when there is nothing
 * to do, and then the command has been finished with GOOD. */
uint64_t prk_lu_out_blocks(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint64_t len);
/* Writes n blocks of data-out at lba under the range lock: step runs with
 * the lock held and t->src, t->lba, t->nblocks, t->fua set. */
void prk_lu_locked_write(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint64_t lba, uint64_t n,
                         bool fua, void (*step)(struct prk_lu_task *t));

#endif
