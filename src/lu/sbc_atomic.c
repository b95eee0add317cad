/* WRITE ATOMIC(16) (SBC-4 5.48): a write whose blocks are either all
 * written or none, also across a crash.
 *
 * Offered only where the backstore can promise that
 * (prk_bs_atomic_write_max: RAM yes, file not yet); elsewhere the opcode
 * is unsupported (20/00), absent from REPORT SUPPORTED OPERATION CODES,
 * and the atomic fields of VPD B0h are zero. Where offered:
 *  - MAXIMUM ATOMIC TRANSFER LENGTH is the smallest of the backstore's
 *    limit, MAXIMUM TRANSFER LENGTH and the 16-bit TRANSFER LENGTH field;
 *    ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY are 0 (no
 *    requirement); atomic boundaries are not supported (MAXIMUM ATOMIC
 *    BOUNDARY SIZE 0), so a non-zero ATOMIC BOUNDARY is 24/00.
 *  - The blocks are written with one backstore WRITE under the range lock,
 *    so no other write interleaves with it. As for WRITE, the whole blocks
 *    present in data-out are written (spdtl tells the transport the
 *    residual); 0 blocks is GOOD without I/O. */
#include <stdlib.h>

#include "lu_internal.h"

uint32_t prk_lu_atomic_max_blocks(const struct prk_lu *lu)
{
	uint64_t n = prk_bs_atomic_write_max(lu->bs) / lu->cfg.block_size;
	if (n > lu->cfg.max_xfer_blocks)
		n = lu->cfg.max_xfer_blocks;
	if (n > 0xffff)
		n = 0xffff;
	return (uint32_t)n;
}

static void atomic_done(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void atomic_locked(struct prk_lu_task *t)
{
	t->step = atomic_done;
	prk_lu_task_io(t, PRK_BS_WRITE, t->lba, t->nblocks, (void *)t->src);
}

void prk_lu_write_atomic(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint64_t lba = prk_get_be64(c + 2);
	uint16_t boundary = prk_get_be16(c + 10);
	uint16_t len = prk_get_be16(c + 12);

	if (c[1] & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* WRPROTECT */
		return;
	}
	if (boundary) {
		prk_lu_fail_cdb(lu, cmd, 10, -1); /* ATOMIC BOUNDARY */
		return;
	}
	if (!prk_lu_range_ok(lu, lba, len)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (len > prk_lu_atomic_max_blocks(lu)) {
		prk_lu_fail_cdb(lu, cmd, 12, -1);
		return;
	}
	if (prk_lu_write_protected(lu, cmd))
		return;
	uint64_t n = prk_lu_out_blocks(lu, cmd, len);
	if (n)
		prk_lu_locked_write(lu, cmd, lba, n, prk_lu_fua(lu, c[1] & 0x08), atomic_locked);
}
