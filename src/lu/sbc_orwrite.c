/* ORWRITE(16) (SBC-4 5.9): each block of data-out is ORed into the block on
 * the medium.
 *
 * Atomic against every other write: like COMPARE AND WRITE it holds the
 * range lock on its blocks from before the read until the write completed,
 * so no write can land between the read and the write back (and a crash
 * leaves each block either old or ORed, as for a plain WRITE of it).
 *
 * ORPROTECT != 0 is 24/00 (no protection information). Range (21/00) and
 * MAXIMUM TRANSFER LENGTH (24/00) are checked before write protection, as
 * for WRITE; 0 blocks is GOOD without I/O; whole blocks present in
 * data-out are processed and spdtl carries the CDB's length (residuals are
 * the transport's). DPO is accepted and ignored; FUA (or WCE=0) makes the
 * write back durable before GOOD. The read-back buffer is sized by the
 * data-out actually received, never by the CDB. */
#include <stdlib.h>

#include "lu_internal.h"

static void or_written(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void or_read(struct prk_lu_task *t)
{
	size_t n = (size_t)(t->nblocks * t->lu->cfg.block_size);
	const uint8_t *mask = t->cmd->data_out;
	for (size_t i = 0; i < n; i++)
		t->rdbuf[i] |= mask[i];
	t->step = or_written;
	prk_lu_task_io(t, PRK_BS_WRITE, t->lba, t->nblocks, t->rdbuf);
}

static void or_locked(struct prk_lu_task *t)
{
	t->step = or_read;
	prk_lu_task_io(t, PRK_BS_READ, t->lba, t->nblocks, t->rdbuf);
}

void prk_lu_orwrite(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint64_t lba = prk_get_be64(c + 2);
	uint32_t len = prk_get_be32(c + 10);
	uint32_t bs = lu->cfg.block_size;

	if (c[1] & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* ORPROTECT */
		return;
	}
	if (!prk_lu_range_ok(lu, lba, len)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (len > lu->cfg.max_xfer_blocks) {
		prk_lu_fail_cdb(lu, cmd, 10, -1);
		return;
	}
	if (prk_lu_write_protected(lu, cmd))
		return;
	uint64_t n = prk_lu_out_blocks(lu, cmd, len);
	if (!n)
		return;
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (t)
		t->rdbuf = prk_lu_alloc(lu, (size_t)(n * bs));
	if (!t || !t->rdbuf) {
		free(t);
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->lba = lba;
	t->nblocks = n;
	t->fua = prk_lu_fua(lu, c[1] & 0x08);
	t->step = or_locked;
	prk_lu_task_lock(t, lba, n);
}
