/* COMPARE AND WRITE (SBC-3 5.2).
 *
 * Atomic against every other write: the command holds the range lock on
 * its blocks from before the read until the write completed, and every
 * write-type command (WRITE*, WRITE SAME, UNMAP, COMPARE AND WRITE) takes
 * the same lock, so none can land between the compare and the write.
 *
 * Data-out holds NUMBER OF LOGICAL BLOCKS blocks of verify data followed by
 * as many blocks of write data; EDTL must be exactly twice the blocks
 * (else 24/00 at NUMBER OF LOGICAL BLOCKS). NUMBER OF LOGICAL BLOCKS 0 is
 * GOOD without I/O; above MAXIMUM COMPARE AND WRITE LENGTH is 24/00. */
#include <stdlib.h>

#include "lu_internal.h"

static void caw_written(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void caw_compare(struct prk_lu_task *t)
{
	size_t n = (size_t)(t->nblocks * t->lu->cfg.block_size);
	const uint8_t *want = t->cmd->data_out;
	for (size_t i = 0; i < n; i++)
		if (want[i] != t->rdbuf[i]) {
			prk_lu_task_miscompare(t, i);
			return;
		}
	t->step = caw_written;
	prk_lu_task_io(t, PRK_BS_WRITE, t->lba, t->nblocks, (void *)t->src);
}

static void caw_locked(struct prk_lu_task *t)
{
	t->step = caw_compare;
	prk_lu_task_io(t, PRK_BS_READ, t->lba, t->nblocks, t->rdbuf);
}

void prk_lu_compare_and_write(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint64_t lba = prk_get_be64(c + 2);
	uint8_t nb = c[13];
	uint32_t bs = lu->cfg.block_size;

	if (c[1] & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* WRPROTECT */
		return;
	}
	if (nb > PRK_LU_MAX_CAW_BLOCKS) {
		prk_lu_fail_cdb(lu, cmd, 13, -1);
		return;
	}
	if (!prk_lu_range_ok(lu, lba, nb)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (prk_lu_write_protected(lu, cmd))
		return;
	if (!nb) {
		/* Zero blocks compare and write nothing; data sent along with
		 * them contradicts NUMBER OF LOGICAL BLOCKS. */
		if (cmd->edtl)
			prk_lu_fail_cdb(lu, cmd, 13, -1);
		else
			prk_lu_finish(lu, cmd);
		return;
	}
	size_t half = (size_t)nb * bs;
	cmd->spdtl = (uint32_t)(2 * half);
	if (cmd->edtl != 2 * half || !cmd->data_out || cmd->data_out_len != 2 * half) {
		prk_lu_fail_cdb(lu, cmd, 13, -1);
		return;
	}
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (t)
		t->rdbuf = prk_lu_alloc(lu, half);
	if (!t || !t->rdbuf) {
		free(t);
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->src = prk_lu_task_aligned_out(t, cmd->data_out + half, half);
	if (!t->src) {
		prk_lu_task_fail(t, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
		return;
	}
	t->lba = lba;
	t->nblocks = nb;
	t->fua = prk_lu_fua(lu, c[1] & 0x08);
	t->step = caw_locked;
	prk_lu_task_lock(t, lba, nb);
}
