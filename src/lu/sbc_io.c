/* Plumbing for medium commands: a per-command task that carries the
 * backstore request, owned buffers, the range lock and a continuation.
 * The RAM backstore completes inside prk_bs_submit(); the file backstore
 * completes later from prk_bs_complete() on the event loop. Both reach
 * io_done(), so handlers are written once as a chain of steps. */
#include <errno.h>
#include <stdlib.h>

#include "lu_internal.h"

struct prk_lu_task *prk_lu_task_new(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_lu_task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lu = lu;
	t->cmd = cmd;
	cmd->lu_priv[1] = t;
	return t;
}

static void task_free(struct prk_lu_task *t)
{
	if (t->locked)
		prk_lu_rlock_release(&t->lu->rlock, &t->range);
	t->cmd->lu_priv[1] = NULL;
	if (t->gone)
		*t->gone = true;
	free(t->buf);
	free(t->rdbuf);
	free(t);
}

/* The lock is released before done() so that a waiter (granted inside the
 * release) runs after this command's effects are on the medium. */
void prk_lu_task_end(struct prk_lu_task *t)
{
	struct prk_lu *lu = t->lu;
	struct prk_lu_cmd *cmd = t->cmd;
	task_free(t);
	prk_lu_finish(lu, cmd);
}

void prk_lu_task_fail(struct prk_lu_task *t, uint8_t key, uint16_t asc)
{
	struct prk_lu *lu = t->lu;
	struct prk_lu_cmd *cmd = t->cmd;
	task_free(t);
	prk_lu_fail_asc(lu, cmd, key, asc);
}

void prk_lu_task_fail_sense(struct prk_lu_task *t, const struct prk_sense *s)
{
	struct prk_lu *lu = t->lu;
	struct prk_lu_cmd *cmd = t->cmd;
	task_free(t);
	prk_lu_fail(lu, cmd, s);
}

/* SBC-3 (VERIFY, COMPARE AND WRITE): INFORMATION holds the offset, in the
 * data-out buffer, of the first byte that did not match. */
void prk_lu_task_miscompare(struct prk_lu_task *t, uint64_t off)
{
	struct prk_sense s;
	prk_sense_set(&s, PRK_SK_MISCOMPARE, 0x1d00);
	s.has_info = true;
	s.info = off;
	prk_lu_task_fail_sense(t, &s);
}

static void io_done(struct prk_bs_io *io)
{
	struct prk_lu_task *t = io->priv;
	if (io->result == 0) {
		t->step(t);
		return;
	}
	/* SBC-3: 11/00 UNRECOVERED READ ERROR, 0C/00 WRITE ERROR; -EINVAL is
	 * the backstore refusing a range we thought valid (capacity shrank). */
	if (io->result == -EINVAL)
		prk_lu_task_fail(t, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
	else if (io->result == -ENOMEM)
		prk_lu_task_fail(t, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
	else if (io->op == PRK_BS_READ)
		prk_lu_task_fail(t, PRK_SK_MEDIUM_ERROR, 0x1100);
	else
		prk_lu_task_fail(t, PRK_SK_MEDIUM_ERROR, 0x0c00);
}

void prk_lu_task_io(struct prk_lu_task *t, enum prk_bs_op op, uint64_t lba, uint64_t nblocks,
                    void *buf)
{
	uint32_t bs = t->lu->cfg.block_size;
	memset(&t->io, 0, sizeof(t->io));
	t->io.op = op;
	t->io.offset = lba * bs;
	t->io.len = nblocks * bs;
	if (op == PRK_BS_READ || op == PRK_BS_WRITE) {
		t->iov.iov_base = buf;
		t->iov.iov_len = (size_t)t->io.len;
		t->io.iov = &t->iov;
		t->io.iovcnt = 1;
	}
	if (op == PRK_BS_FLUSH)
		t->io.offset = t->io.len = 0;
	t->io.fua = op == PRK_BS_WRITE && t->fua;
	t->io.done = io_done;
	t->io.priv = t;
	prk_bs_submit(prk_lu_bs_of(t->lu, t->cmd), &t->io);
}

static void lock_granted(struct prk_lu_range *r)
{
	struct prk_lu_task *t = r->priv;
	t->locked = true;
	t->step(t);
}

void prk_lu_task_lock(struct prk_lu_task *t, uint64_t lba, uint64_t n)
{
	t->range.lba = lba;
	t->range.n = n ? n : 1;
	t->range.granted = lock_granted;
	t->range.priv = t;
	/* A fast WRITE (lu_fast.c) takes no range lock: what needs atomicity
	 * against writes (COMPARE AND WRITE and the like) drains the fast
	 * path first, and plain overlapping writes are not ordered (SIMPLE). */
	if (t->cmd->lu_priv[PRK_LU_PRIV_FAST]) {
		t->step(t);
		return;
	}
	if (prk_lu_rlock_acquire(&t->lu->rlock, &t->range)) {
		t->locked = true;
		t->step(t);
	}
}

const uint8_t *prk_lu_task_aligned_out(struct prk_lu_task *t, const uint8_t *p, size_t len)
{
	size_t a = t->lu->align;
	if (a <= 1 || (uintptr_t)p % a == 0)
		return p;
	free(t->buf);
	t->buf = prk_lu_alloc(t->lu, len);
	if (!t->buf)
		return NULL;
	memcpy(t->buf, p, len);
	return t->buf;
}
