/* SBC-3 block access: READ CAPACITY, READ/WRITE (6/10/12/16), WRITE AND
 * VERIFY, VERIFY, PRE-FETCH and SYNCHRONIZE CACHE.
 *
 * Decisions:
 *  - A transfer length of 0 is GOOD without I/O (after the range check,
 *    which then requires the LBA itself to be valid); READ(6)/WRITE(6) with
 *    0 mean 256 blocks.
 *  - Range errors (21/00) are checked before MAXIMUM TRANSFER LENGTH (24/00
 *    at the TRANSFER LENGTH field), and both before write protection (27/00).
 *  - Reads transfer at most EDTL bytes (whole blocks are read, the data-in
 *    length is cut to EDTL); spdtl reports the CDB's length so that the
 *    transport reports overflow/underflow.
 *  - Writes execute the whole blocks present in data-out (data_out_len /
 *    block_size, capped by the CDB's length) and complete with GOOD; spdtl
 *    carries the CDB's length, so a short EDTL shows up as residual overflow.
 *  - With the write cache off (WCE=0) every write is FUA. WRITE AND VERIFY
 *    is a FUA write: what it verifies is that the data reached the medium.
 *  - PRE-FETCH checks the range and completes with GOOD (never CONDITION
 *    MET: nothing is cached by the LU). SYNCHRONIZE CACHE ignores IMMED and
 *    completes after the backstore flush.
 *  - No protection information: RDPROTECT/WRPROTECT/VRPROTECT != 0 is 24/00. */
#include <stdlib.h>

#include "lu_internal.h"

struct rw_cdb {
	uint64_t lba;
	uint32_t len;
	uint8_t flags;  /* byte 1 (0 for 6-byte CDBs) */
	size_t len_off; /* byte offset of TRANSFER LENGTH / NUMBER OF BLOCKS */
	size_t cdb_len;
};

static void decode(const uint8_t *c, struct rw_cdb *d)
{
	d->cdb_len = prk_cdb_len_of_opcode(c[0]);
	switch (d->cdb_len) {
	case 6:
		d->lba = prk_get_be24(c + 1) & 0x1fffff;
		d->len = c[4] ? c[4] : 256;
		d->flags = 0;
		d->len_off = 4;
		break;
	case 10:
		d->lba = prk_get_be32(c + 2);
		d->len = prk_get_be16(c + 7);
		d->flags = c[1];
		d->len_off = 7;
		break;
	case 12:
		d->lba = prk_get_be32(c + 2);
		d->len = prk_get_be32(c + 6);
		d->flags = c[1];
		d->len_off = 6;
		break;
	default:
		d->lba = prk_get_be64(c + 2);
		d->len = prk_get_be32(c + 10);
		d->flags = c[1];
		d->len_off = 10;
		break;
	}
}

/* Range, then MAXIMUM TRANSFER LENGTH. Fails the command and returns false. */
static bool check_range(struct prk_lu *lu, struct prk_lu_cmd *cmd, const struct rw_cdb *d)
{
	if (!prk_lu_range_ok(lu, d->lba, d->len)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return false;
	}
	if (d->len > lu->cfg.max_xfer_blocks) {
		prk_lu_fail_cdb(lu, cmd, d->len_off, -1);
		return false;
	}
	return true;
}

static bool check_writable(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	return !prk_lu_write_protected(lu, cmd);
}

bool prk_lu_write_protected(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (lu->cfg.readonly) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_DATA_PROTECT, 0x2700 /* WRITE PROTECTED */);
		return true;
	}
	if (lu->mode.swp) {
		/* LOGICAL UNIT SOFTWARE WRITE PROTECTED (control page SWP=1) */
		prk_lu_fail_asc(lu, cmd, PRK_SK_DATA_PROTECT, 0x2702);
		return true;
	}
	return false;
}

/* ---- READ CAPACITY ---- */

/* PMI=0 with a non-zero LOGICAL BLOCK ADDRESS is an error (SBC-3). */
void prk_lu_read_capacity10(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t d[8];
	uint64_t last = lu->cfg.num_blocks - 1;

	if (!(c[8] & 1) && prk_get_be32(c + 2)) {
		prk_lu_fail_cdb(lu, cmd, 2, -1);
		return;
	}
	prk_put_be32(d, last > 0xffffffffULL ? 0xffffffffu : (uint32_t)last);
	prk_put_be32(d + 4, lu->cfg.block_size);
	prk_lu_reply(lu, cmd, d, sizeof(d), sizeof(d));
}

void prk_lu_read_capacity16(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	uint8_t d[32] = {0};

	if (!(c[14] & 1) && prk_get_be64(c + 2)) {
		prk_lu_fail_cdb(lu, cmd, 2, -1);
		return;
	}
	prk_put_be64(d, lu->cfg.num_blocks - 1);
	prk_put_be32(d + 8, lu->cfg.block_size);
	d[12] = 0x10; /* RC BASIS 01b: the LBA is the last one of the LU */
	/* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: the backstores work in
	 * 4 KiB units (pages, filesystem blocks), so a 512-byte LU reports
	 * 4 KiB physical blocks (2^3), aligned at LBA 0, as VPD B0h's OPTIMAL
	 * TRANSFER LENGTH GRANULARITY already says. */
	if (lu->cfg.block_size == 512)
		d[13] = 3;
	if (lu->cfg.thin)
		d[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
	prk_lu_reply(lu, cmd, d, sizeof(d), prk_get_be32(c + 10));
}

/* ---- READ ---- */

static void read_done(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

void prk_lu_read(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct rw_cdb d;
	uint32_t bs = lu->cfg.block_size;

	decode(cmd->cdb, &d);
	if (d.flags & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* RDPROTECT */
		return;
	}
	if (!check_range(lu, cmd, &d))
		return;
	uint64_t bytes = (uint64_t)d.len * bs;
	cmd->spdtl = (uint32_t)bytes;
	uint64_t want = bytes < cmd->edtl ? bytes : cmd->edtl;
	uint64_t blocks = (want + bs - 1) / bs;
	if (!blocks) {
		prk_lu_finish(lu, cmd);
		return;
	}
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	uint8_t *buf = t ? prk_lu_data_in_raw(lu, cmd, (size_t)(blocks * bs)) : NULL;
	if (!buf) {
		free(t);
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->step = read_done;
	prk_lu_task_io(t, PRK_BS_READ, d.lba, blocks, buf);
}

/* ---- WRITE, WRITE AND VERIFY ---- */

static void write_done(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

static void write_locked(struct prk_lu_task *t)
{
	t->step = write_done;
	prk_lu_task_io(t, PRK_BS_WRITE, t->lba, t->nblocks, (void *)t->src);
}

void prk_lu_write(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct rw_cdb d;
	uint8_t op = cmd->cdb[0];
	bool wav = op == PRK_OP_WRITE_VERIFY10 || op == PRK_OP_WRITE_VERIFY12 ||
	           op == PRK_OP_WRITE_VERIFY16;

	decode(cmd->cdb, &d);
	if (d.flags & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* WRPROTECT */
		return;
	}
	if (wav && (d.flags & 0x04)) {
		prk_lu_fail_cdb(lu, cmd, 1, 2); /* BYTCHK 1xb */
		return;
	}
	if (!check_range(lu, cmd, &d) || !check_writable(lu, cmd))
		return;
	uint64_t n = prk_lu_out_blocks(lu, cmd, d.len);
	if (n)
		prk_lu_locked_write(lu, cmd, d.lba, n,
		                    wav || prk_lu_fua(lu, d.cdb_len != 6 && (d.flags & 0x08)),
		                    write_locked);
}

uint64_t prk_lu_out_blocks(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint64_t len)
{
	uint32_t bs = lu->cfg.block_size;
	cmd->spdtl = (uint32_t)(len * bs);
	uint64_t have = cmd->data_out ? cmd->data_out_len / bs : 0;
	uint64_t n = len < have ? len : have;
	if (!n)
		prk_lu_finish(lu, cmd);
	return n;
}

void prk_lu_locked_write(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint64_t lba, uint64_t n,
                         bool fua, void (*step)(struct prk_lu_task *t))
{
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (!t) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->src = prk_lu_task_aligned_out(t, cmd->data_out, (size_t)(n * lu->cfg.block_size));
	if (!t->src) {
		prk_lu_task_fail(t, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
		return;
	}
	t->lba = lba;
	t->nblocks = n;
	t->fua = fua;
	t->step = step;
	prk_lu_task_lock(t, lba, n);
}

/* ---- VERIFY ---- */

static void verify_compare(struct prk_lu_task *t)
{
	size_t n = (size_t)(t->nblocks * t->lu->cfg.block_size);
	const uint8_t *a = t->cmd->data_out, *b = t->rdbuf;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i]) {
			prk_lu_task_miscompare(t, i);
			return;
		}
	prk_lu_task_end(t);
}

void prk_lu_verify(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct rw_cdb d;
	uint32_t bs = lu->cfg.block_size;

	decode(cmd->cdb, &d);
	if (d.flags & 0xe0) {
		prk_lu_fail_cdb(lu, cmd, 1, 7); /* VRPROTECT */
		return;
	}
	uint8_t bytchk = (d.flags >> 1) & 3;
	if (bytchk > 1) {
		prk_lu_fail_cdb(lu, cmd, 1, 2); /* BYTCHK 10b reserved, 11b not supported */
		return;
	}
	if (!check_range(lu, cmd, &d))
		return;
	if (!bytchk || !d.len) {
		prk_lu_finish(lu, cmd);
		return;
	}
	uint64_t n = prk_lu_out_blocks(lu, cmd, d.len);
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
	t->nblocks = n;
	t->step = verify_compare;
	prk_lu_task_io(t, PRK_BS_READ, d.lba, n, t->rdbuf);
}

/* ---- PRE-FETCH, SYNCHRONIZE CACHE ---- */

/* NUMBER OF LOGICAL BLOCKS 0 means "to the end of the medium". */
static bool check_cache_range(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct rw_cdb d;
	decode(cmd->cdb, &d);
	if (!prk_lu_range_ok(lu, d.lba, d.len)) {
		prk_lu_fail_asc(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_LBA_OUT_OF_RANGE);
		return false;
	}
	return true;
}

void prk_lu_prefetch(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (check_cache_range(lu, cmd))
		prk_lu_finish(lu, cmd);
}

static void sync_done(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

void prk_lu_sync_cache(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (!check_cache_range(lu, cmd))
		return;
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (!t) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->step = sync_done;
	prk_lu_task_io(t, PRK_BS_FLUSH, 0, 0, NULL);
}
