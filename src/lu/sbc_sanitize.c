/* SANITIZE (SBC-4 5.30, 4.11): OVERWRITE on every LU, BLOCK ERASE on thin
 * LUs, EXIT FAILURE MODE; CRYPTOGRAPHIC ERASE is refused.
 *
 * Decisions:
 *  - CRYPTOGRAPHIC ERASE (03h) is 24/00 at SERVICE ACTION and not listed:
 *    the backstores keep user data in plain form (no media encryption key
 *    exists whose change would make it unreadable), so the command cannot
 *    be true.
 *  - BLOCK ERASE (02h) deallocates every LBA (the backstore's UNMAP: freed
 *    chunks for RAM, hole punching for files); only on thin LUs, which
 *    report LBPME=1 and LBPRZ=1, so erased blocks read back as zeros and
 *    WABEREQ=01b (VPD B1h: reads after a block erase succeed). On a fully
 *    provisioned LU it is 24/00 at SERVICE ACTION and not listed. What the
 *    filesystem under a file keeps of the old blocks is below us.
 *  - OVERWRITE (01h) writes the initialization pattern, repeated from the
 *    start of each block, over every LBA OVERWRITE COUNT times; with INVERT
 *    the pattern is inverted on alternate passes and the last pass writes
 *    it as given. The TEST field must be 0 (26/00).
 *  - The operation holds the range lock on the whole LU (it starts once
 *    the writes before it are done), runs through the backstore in chunks
 *    of at most PRK_LU_WS_CHUNK bytes, and ends with a flush. A RAM
 *    backstore completes inline: the chunks are then issued from a loop,
 *    never by recursion, so the stack does not grow with the LU's size.
 *  - While it runs, every command but INQUIRY, REPORT LUNS and REQUEST
 *    SENSE ends with NOT READY 04/1B SANITIZE IN PROGRESS; REQUEST SENSE
 *    returns that sense with the progress indication. IMMED=1 completes
 *    the SANITIZE command at once; IMMED=0 when the operation ends. It
 *    continues across task management and session loss.
 *  - When it fails, the LU enters the sanitize failure mode: commands that
 *    access the medium (read or write class) end with MEDIUM ERROR 31/03
 *    until a SANITIZE succeeds or, if the failed one had AUSE=1, EXIT
 *    FAILURE MODE is sent (with AUSE=0 that is 24/00). EXIT FAILURE MODE
 *    outside failure mode completes with GOOD.
 *  - CDB: the reserved bit of byte 1 and bytes 2..6 must be 0 (24/00);
 *    PARAMETER LIST LENGTH is 0 for all but OVERWRITE, and 5..block
 *    length + 4 for it (24/00 at the field). */
#include <stdlib.h>

#include "lu_internal.h"

#define SA_OVERWRITE 0x01
#define SA_BLOCK_ERASE 0x02
#define SA_CRYPTO_ERASE 0x03
#define SA_EXIT_FAILURE_MODE 0x1f

/* The service actions are rows of the command table (optable.c). */
bool prk_lu_sanitize_supported(const struct prk_lu *lu, int sa)
{
	const struct prk_lu_op *o = prk_lu_op_find(PRK_OP_SANITIZE, sa);
	return o && prk_lu_op_available(lu, o);
}

/* ---- Commands while a sanitize runs or failed ---- */

bool prk_lu_sanitize_check(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	uint8_t op = cmd->cdb[0];
	if (op == PRK_OP_INQUIRY || op == PRK_OP_REPORT_LUNS || op == PRK_OP_REQUEST_SENSE)
		return true;
	if (lu->san.task) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_NOT_READY, PRK_LU_ASC_SANITIZE_IN_PROGRESS);
		return false;
	}
	if (op == PRK_OP_SANITIZE)
		return true;
	enum prk_cmd_class cls = prk_pr_classify(cmd->cdb, cmd->cdb_len);
	if (cls == PRK_CLASS_READ || cls == PRK_CLASS_WRITE) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_MEDIUM_ERROR, PRK_LU_ASC_SANITIZE_FAILED);
		return false;
	}
	return true;
}

bool prk_lu_sanitize_sense(const struct prk_lu *lu, struct prk_sense *s, uint16_t *progress)
{
	const struct prk_lu_task *t = lu->san.task;
	if (t) {
		prk_sense_set(s, PRK_SK_NOT_READY, PRK_LU_ASC_SANITIZE_IN_PROGRESS);
		uint64_t total = (uint64_t)t->passes * t->nblocks;
		uint64_t done = (uint64_t)t->pass * t->nblocks + t->done_blocks;
		*progress = total ? (uint16_t)(done * 65535 / total) : 0;
		return true;
	}
	if (lu->san.failed) {
		prk_sense_set(s, PRK_SK_MEDIUM_ERROR, PRK_LU_ASC_SANITIZE_FAILED);
		*progress = 0;
		return false;
	}
	return false;
}

/* ---- The operation ---- */

/* The shadow command that carries the operation has completed. */
static void san_done(struct prk_lu_cmd *sh)
{
	struct prk_lu *lu = sh->priv;
	bool ok = sh->status == PRK_STATUS_GOOD;
	struct prk_lu_cmd *waiter = lu->san.waiter;
	lu->san.task = NULL;
	lu->san.waiter = NULL;
	lu->san.failed = !ok;
	atomic_store_explicit(&lu->san.stops_rw, !ok, memory_order_release);
	lu->san.ause = lu->san.pending_ause;
	free(sh);
	if (!waiter)
		return;
	if (ok)
		prk_lu_finish(lu, waiter);
	else
		prk_lu_fail_asc(lu, waiter, PRK_SK_MEDIUM_ERROR, PRK_LU_ASC_SANITIZE_FAILED);
}

static void san_flushed(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void san_flush(struct prk_lu_task *t)
{
	t->step = san_flushed;
	prk_lu_task_io(t, PRK_BS_FLUSH, 0, 0, NULL);
}

static void ow_loop(struct prk_lu_task *t);

static void ow_written(struct prk_lu_task *t)
{
	struct prk_lu *lu = t->lu;
	if (lu->san.in_loop)
		lu->san.again = true; /* inline completion: the loop continues */
	else
		ow_loop(t);
}

static void ow_loop(struct prk_lu_task *t)
{
	struct prk_lu *lu = t->lu;
	do {
		lu->san.again = false;
		if (t->done_blocks == t->nblocks) {
			if (++t->pass == t->passes) {
				san_flush(t);
				return;
			}
			t->done_blocks = 0;
		}
		uint64_t n = t->nblocks - t->done_blocks;
		if (n > t->chunk_blocks)
			n = t->chunk_blocks;
		uint64_t lba = t->done_blocks;
		t->done_blocks += n;
		bool inverted = t->rdbuf && ((t->passes - 1 - t->pass) & 1);
		t->step = ow_written;
		lu->san.in_loop = true;
		prk_lu_task_io(t, PRK_BS_WRITE, lba, n, inverted ? t->rdbuf : t->buf);
		lu->san.in_loop = false;
		if (lu->san.task != t)
			return; /* it failed inline: t is gone */
	} while (lu->san.again);
}

static void ow_locked(struct prk_lu_task *t)
{
	ow_loop(t);
}

static void erase_locked(struct prk_lu_task *t)
{
	t->step = san_flush;
	prk_lu_task_io(t, PRK_BS_UNMAP, 0, t->nblocks, NULL);
}

/* The OVERWRITE parameter list: fills the pattern buffers of t. */
static bool overwrite_params(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint16_t pll,
                             struct prk_lu_task *t)
{
	const uint8_t *p;
	uint32_t bs = lu->cfg.block_size;
	if (prk_lu_params(cmd, pll, &p) < pll) {
		prk_lu_fail_field(lu, cmd, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return false;
	}
	if (p[0] & 0x60) {
		prk_lu_fail_param(lu, cmd, 0, 6); /* TEST */
		return false;
	}
	if (!(p[0] & 0x1f)) {
		prk_lu_fail_param(lu, cmd, 0, 4); /* OVERWRITE COUNT */
		return false;
	}
	uint16_t ipl = prk_get_be16(p + 2);
	if (!ipl || ipl > bs || ipl + 4u > pll) {
		prk_lu_fail_param(lu, cmd, 2, -1); /* INITIALIZATION PATTERN LENGTH */
		return false;
	}
	uint64_t cb = PRK_LU_WS_CHUNK / bs;
	t->chunk_blocks = lu->cfg.num_blocks < cb ? lu->cfg.num_blocks : cb;
	size_t len = (size_t)(t->chunk_blocks * bs);
	t->passes = p[0] & 0x1f;
	t->buf = prk_lu_alloc(lu, len);
	bool invert = (p[0] & 0x80) && t->passes > 1;
	if (invert)
		t->rdbuf = prk_lu_alloc(lu, len);
	if (!t->buf || (invert && !t->rdbuf)) {
		prk_lu_fail_nomem(lu, cmd);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		t->buf[i] = p[4 + (i % bs) % ipl];
	if (invert)
		for (size_t i = 0; i < len; i++)
			t->rdbuf[i] = (uint8_t)~t->buf[i];
	return true;
}

static bool check_cdb(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t sa, uint16_t pll)
{
	const uint8_t *c = cmd->cdb;
	if (c[1] & 0x40) {
		prk_lu_fail_cdb(lu, cmd, 1, 6);
		return false;
	}
	for (size_t i = 2; i <= 6; i++)
		if (c[i]) {
			prk_lu_fail_cdb(lu, cmd, i, -1);
			return false;
		}
	if (!prk_lu_sanitize_supported(lu, sa)) {
		prk_lu_fail_cdb(lu, cmd, 1, 4); /* SERVICE ACTION (CRYPTOGRAPHIC ERASE too) */
		return false;
	}
	bool bad_len = sa == SA_OVERWRITE ? pll < 5 || pll > lu->cfg.block_size + 4u : pll != 0;
	if (bad_len) {
		prk_lu_fail_cdb(lu, cmd, 7, -1);
		return false;
	}
	return true;
}

void prk_lu_sanitize(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t sa = c[1] & 0x1f;
	bool immed = c[1] & 0x80, ause = c[1] & 0x20;
	uint16_t pll = prk_get_be16(c + 7);

	if (!check_cdb(lu, cmd, sa, pll) || prk_lu_write_protected(lu, cmd))
		return;
	if (sa == SA_EXIT_FAILURE_MODE) {
		if (lu->san.failed && !lu->san.ause) {
			prk_lu_fail_cdb(lu, cmd, 1, 4);
			return;
		}
		lu->san.failed = false;
		atomic_store_explicit(&lu->san.stops_rw, false, memory_order_release);
		prk_lu_finish(lu, cmd);
		return;
	}
	cmd->spdtl = pll;
	struct prk_lu_cmd *sh = calloc(1, sizeof(*sh));
	struct prk_lu_task *t = sh ? prk_lu_task_new(lu, sh) : NULL;
	if (!t) {
		free(sh);
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->nblocks = lu->cfg.num_blocks;
	t->passes = 1;
	if (sa == SA_OVERWRITE && !overwrite_params(lu, cmd, pll, t)) {
		free(t->buf);
		free(t->rdbuf);
		free(t);
		free(sh);
		return;
	}
	/* The shadow carries the operation, so that IMMED=1 can complete
	 * the command now; it counts as in flight like any command. */
	memcpy(sh->cdb, c, sizeof(sh->cdb));
	sh->cdb_len = cmd->cdb_len;
	sh->nx = cmd->nx;
	sh->port = cmd->port;
	sh->done = san_done;
	sh->priv = lu;
	sh->lu_priv[0] = lu;
	lu->inflight++;
	lu->san.task = t;
	lu->san.failed = false;
	atomic_store_explicit(&lu->san.stops_rw, true, memory_order_relaxed); /* drained */
	lu->san.pending_ause = ause;
	if (immed)
		prk_lu_finish(lu, cmd);
	else
		lu->san.waiter = cmd;
	t->step = sa == SA_OVERWRITE ? ow_locked : erase_locked;
	prk_lu_task_lock(t, 0, t->nblocks);
}
