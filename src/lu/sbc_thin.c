/* WRITE SAME (10/16), UNMAP and GET LBA STATUS (SBC-3 logical block
 * provisioning).
 *
 * Decisions:
 *  - WSNZ=0 (VPD B0h): NUMBER OF LOGICAL BLOCKS 0 means from the LBA to the
 *    end of the medium (SBC-4). The LBA must still be valid (21/00), and
 *    the resulting length is bounded by MAXIMUM WRITE SAME LENGTH like an
 *    explicit one (24/00 at NUMBER OF LOGICAL BLOCKS), so a 0 cannot ask
 *    for more work than any other WRITE SAME; it runs through the
 *    backstore in pattern-sized chunks like every WRITE SAME.
 *  - ANCHOR=1 (WRITE SAME, UNMAP) is 24/00: anchored LBAs are not supported
 *    (ANC_SUP=0). PBDATA/LBDATA are 24/00 too.
 *  - UNMAP=1 on a thin LU deallocates when the block to write is all zeros
 *    (LBPRZ=1, so deallocated blocks read back exactly as the data asked
 *    for); with other data the blocks are written. On a fully provisioned LU
 *    (LBPME=0, LBPWS=LBPWS10=0) UNMAP=1 is 24/00: silently writing instead
 *    would tell the initiator that unmapping works (iscsi-test-cu
 *    WriteSame10/16.UnmapVpd checks exactly this).
 *  - Zero data without UNMAP uses the backstore's WRITE ZEROES (the blocks
 *    stay mapped); NDOB=1 (WRITE SAME(16)) means zero data and no data-out.
 *  - Data-out shorter than one block: nothing is written, GOOD (the transport
 *    reports the residual), as for WRITE.
 *  - UNMAP: UNMAP DATA LENGTH or UNMAP BLOCK DESCRIPTOR DATA LENGTH beyond the
 *    parameter list is 26/00 at the field; a trailing partial descriptor is
 *    ignored; more than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT descriptors is
 *    26/00 at byte 2, a descriptor above MAXIMUM UNMAP LBA COUNT 26/00 at
 *    its NUMBER OF LOGICAL BLOCKS; every descriptor is checked (21/00) before
 *    any block is deallocated. */
#include <stdlib.h>

#include "lu_internal.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- WRITE SAME ---- */

static void ws_done(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void ws_next_chunk(struct prk_lu_task *t);

/* A chunk is written. Inside the loop below (the backstore completed
 * inline) it only asks for the next round; otherwise it restarts the loop. */
static void ws_chunk_done(struct prk_lu_task *t)
{
	if (t->in_loop)
		t->again = true;
	else
		ws_next_chunk(t);
}

/* Issues the chunks one after the other without recursing per chunk, so
 * a WRITE SAME of 16 GiB over RAM does not need 16384 nested frames. */
static void ws_next_chunk(struct prk_lu_task *t)
{
	bool gone = false;
	t->gone = &gone;
	do {
		t->again = false;
		if (t->done_blocks == t->nblocks) {
			t->gone = NULL;
			prk_lu_task_end(t);
			return;
		}
		uint64_t n = t->nblocks - t->done_blocks;
		if (n > t->chunk_blocks)
			n = t->chunk_blocks;
		uint64_t lba = t->lba + t->done_blocks;
		t->done_blocks += n;
		t->step = ws_chunk_done;
		t->in_loop = true;
		prk_lu_task_io(t, PRK_BS_WRITE, lba, n, t->buf);
		if (gone)
			return; /* failed inline: t is freed */
		t->in_loop = false;
	} while (t->again);
	t->gone = NULL;
}

static void ws_locked(struct prk_lu_task *t)
{
	if (t->zero) {
		t->step = ws_done;
		prk_lu_task_io(t, t->unmap ? PRK_BS_UNMAP : PRK_BS_WRITE_ZEROES, t->lba, t->nblocks,
		               NULL);
		return;
	}
	ws_next_chunk(t);
}

void prk_lu_write_same(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	bool ws16 = c[0] == PRK_OP_WRITE_SAME16;
	uint64_t lba = ws16 ? prk_get_be64(c + 2) : prk_get_be32(c + 2);
	uint64_t len = ws16 ? prk_get_be32(c + 10) : prk_get_be16(c + 7);
	size_t len_off = ws16 ? 10 : 7;
	uint32_t bs = lu->cfg.block_size;

	if (c[1] & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* WRPROTECT */
		return;
	}
	if (c[1] & 0x10) {
		prk_lu_fail_cdb(lu, cmd, 1, 4); /* ANCHOR */
		return;
	}
	if ((c[1] & 0x08) && !lu->cfg.thin) {
		prk_lu_fail_cdb(lu, cmd, 1, 3); /* UNMAP without provisioning management */
		return;
	}
	if (c[1] & 0x04) {
		prk_lu_fail_cdb(lu, cmd, 1, 2); /* PBDATA */
		return;
	}
	if (c[1] & 0x02) {
		prk_lu_fail_cdb(lu, cmd, 1, 1); /* LBDATA */
		return;
	}
	bool ndob = ws16 && (c[1] & 0x01);
	if (!len) {
		/* WSNZ=0: to the end of the medium. */
		if (lba >= lu->cfg.num_blocks) {
			prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
			return;
		}
		len = lu->cfg.num_blocks - lba;
	}
	if (!prk_lu_range_ok(lu, lba, len)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (len > PRK_LU_MAX_WRITE_SAME) {
		prk_lu_fail_cdb(lu, cmd, len_off, -1);
		return;
	}
	if (prk_lu_write_protected(lu, cmd))
		return;
	cmd->spdtl = ndob ? 0 : bs;
	if (!ndob && (!cmd->data_out || cmd->data_out_len < bs)) {
		prk_lu_finish(lu, cmd);
		return;
	}
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (!t) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->lba = lba;
	t->nblocks = len;
	t->fua = prk_lu_fua(lu, false);
	t->zero = ndob || all_zero(cmd->data_out, bs);
	t->unmap = t->zero && lu->cfg.thin && (c[1] & 0x08);
	if (!t->zero) {
		/* One pattern buffer of up to PRK_LU_WS_CHUNK bytes, written
		 * as many times as needed. */
		uint64_t cb = PRK_LU_WS_CHUNK / bs;
		t->chunk_blocks = len < cb ? len : cb;
		t->buf = prk_lu_alloc(lu, (size_t)(t->chunk_blocks * bs));
		if (!t->buf) {
			prk_lu_task_fail(t, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
			return;
		}
		for (uint64_t i = 0; i < t->chunk_blocks; i++)
			memcpy(t->buf + i * bs, cmd->data_out, bs);
	}
	t->step = ws_locked;
	prk_lu_task_lock(t, lba, len);
}

/* ---- UNMAP ---- */

#define UNMAP_HDR 8
#define UNMAP_DESC 16

static void unmap_next(struct prk_lu_task *t);

static void unmap_one_done(struct prk_lu_task *t)
{
	prk_lu_rlock_release(&t->lu->rlock, &t->range);
	t->locked = false;
	t->desc_i++;
	unmap_next(t);
}

static void unmap_locked(struct prk_lu_task *t)
{
	t->step = unmap_one_done;
	prk_lu_task_io(t, PRK_BS_UNMAP, t->lba, t->nblocks, NULL);
}

static void unmap_next(struct prk_lu_task *t)
{
	while (t->desc_i < t->n_desc) {
		const uint8_t *d = t->desc + (size_t)t->desc_i * UNMAP_DESC;
		t->lba = prk_get_be64(d);
		t->nblocks = prk_get_be32(d + 8);
		if (t->nblocks) {
			t->step = unmap_locked;
			prk_lu_task_lock(t, t->lba, t->nblocks);
			return;
		}
		t->desc_i++;
	}
	prk_lu_task_end(t);
}

void prk_lu_unmap(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb, *p;
	uint16_t pll = prk_get_be16(c + 7);

	if (c[1] & 0x01) {
		prk_lu_fail_cdb(lu, cmd, 1, 0); /* ANCHOR */
		return;
	}
	if (prk_lu_write_protected(lu, cmd))
		return;
	cmd->spdtl = pll;
	if (!pll) {
		prk_lu_finish(lu, cmd);
		return;
	}
	size_t len = prk_lu_params(cmd, pll, &p);
	if (len < UNMAP_HDR) {
		prk_lu_fail_field(lu, cmd, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	if (prk_get_be16(p) > len - 2) {
		prk_lu_fail_param(lu, cmd, 0, -1); /* UNMAP DATA LENGTH */
		return;
	}
	uint16_t bdl = prk_get_be16(p + 2);
	if (bdl > len - UNMAP_HDR) {
		prk_lu_fail_param(lu, cmd, 2, -1); /* UNMAP BLOCK DESCRIPTOR DATA LENGTH */
		return;
	}
	uint32_t n = bdl / UNMAP_DESC;
	if (n > PRK_LU_MAX_UNMAP_DESCS) {
		prk_lu_fail_param(lu, cmd, 2, -1);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = p + UNMAP_HDR + (size_t)i * UNMAP_DESC;
		uint64_t lba = prk_get_be64(d);
		uint32_t nb = prk_get_be32(d + 8);
		if (nb > PRK_LU_MAX_UNMAP_LBAS) {
			prk_lu_fail_param(lu, cmd, UNMAP_HDR + (size_t)i * UNMAP_DESC + 8, -1);
			return;
		}
		if (nb && !prk_lu_range_ok(lu, lba, nb)) {
			prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
			return;
		}
	}
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (!t) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->desc = p + UNMAP_HDR;
	t->n_desc = n;
	unmap_next(t);
}

/* ---- GET LBA STATUS ---- */

#define GLS_HDR 8
#define GLS_DESC 16
#define GLS_MAX_DESC 64

void prk_lu_get_lba_status(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint64_t lba = prk_get_be64(c + 2);
	uint32_t alloc = prk_get_be32(c + 10);
	uint32_t bs = lu->cfg.block_size;
	uint8_t buf[GLS_HDR + GLS_MAX_DESC * GLS_DESC] = {0};

	if (lba >= lu->cfg.num_blocks) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	/* Describe only as much as the initiator can receive (at least one
	 * descriptor, so that a short allocation length still gets a header
	 * telling the full length of one). */
	size_t max = alloc > GLS_HDR ? (alloc - GLS_HDR) / GLS_DESC : 0;
	if (max < 1)
		max = 1;
	if (max > GLS_MAX_DESC)
		max = GLS_MAX_DESC;
	size_t k = 0;
	while (k < max && lba < lu->cfg.num_blocks) {
		uint64_t left = lu->cfg.num_blocks - lba, run = 0;
		int r = prk_bs_mapped(lu->bs, lba * bs, left * bs, &run);
		if (r < 0) {
			prk_lu_fail_asc(lu, cmd, PRK_SK_MEDIUM_ERROR, 0x1100);
			return;
		}
		uint64_t nb = run / bs;
		if (nb < 1)
			nb = 1;
		if (nb > left)
			nb = left;
		if (nb > 0xffffffffu)
			nb = 0xffffffffu;
		uint8_t *d = buf + GLS_HDR + k * GLS_DESC;
		prk_put_be64(d, lba);
		prk_put_be32(d + 8, (uint32_t)nb);
		d[12] = r ? 0x0 : 0x1; /* mapped, or deallocated */
		lba += nb;
		k++;
	}
	prk_put_be32(buf, (uint32_t)(4 + k * GLS_DESC));
	prk_lu_reply(lu, cmd, buf, GLS_HDR + k * GLS_DESC, alloc);
}
