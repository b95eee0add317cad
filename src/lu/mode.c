/* MODE SENSE (6/10) and MODE SELECT (6/10): the caching (08h), control
 * (0Ah) and informational exceptions control (1Ch) pages, page 3Fh, and
 * the block descriptor.
 *
 * Decisions:
 *  - Saved values are not supported: PC=11b is 39/00 SAVING PARAMETERS NOT
 *    SUPPORTED (field pointer at PC); SP=1 is 24/00. PS is 0 in every page.
 *    After a LU reset the defaults come back (mode_reset).
 *  - Changeable: WCE (caching), D_SENSE, SWP and TAS (control). SWP=1 makes
 *    every write fail with DATA PROTECT 27/02 and sets WP in the mode
 *    parameter header, until it is cleared or the LU is reset. Everything else
 *    is fixed. QERR is 00b and not changeable (aborting or blocking tasks
 *    on a CHECK CONDITION is not implemented); QUEUE ALGORITHM MODIFIER is
 *    1h (unrestricted reordering: io_uring may complete in any order; the
 *    range lock still orders overlapping writes). The informational
 *    exceptions page reports DEXCPT=1 (no exception reporting), fixed.
 *  - MODE SELECT compares every byte of a page with the current value under
 *    the changeable mask: a difference in a fixed bit is 26/00 pointing at
 *    that byte and its highest differing bit; a wrong PAGE LENGTH is 26/00
 *    at it; SPF=1 (no subpages here) and unknown pages are 26/00 at the
 *    page code. The list is validated completely before anything changes.
 *  - Block descriptor in MODE SELECT: BLOCK LENGTH must be the LU's block
 *    size and NUMBER OF LOGICAL BLOCKS 0, the current capacity, or all ones
 *    (no capacity change); anything else is 26/00 at the field.
 *  - A successful change queues 2A/01 MODE PARAMETERS CHANGED for every
 *    other I_T nexus. Turning WCE off flushes the backstore before GOOD. */
#include <stdlib.h>

#include "lu_internal.h"

#define CACHING 0x08
#define CONTROL 0x0a
#define IEC 0x1c
#define ALL_PAGES 0x3f
#define PAGE_MAX 20

enum pc { PC_CURRENT, PC_CHANGEABLE, PC_DEFAULT, PC_SAVED };

static void defaults(const struct prk_lu *lu, struct prk_lu_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->wce = lu->cfg.write_cache;
}

void prk_lu_mode_reset(struct prk_lu *lu)
{
	defaults(lu, &lu->mode);
}

/* Builds page `code` as the PC asks; returns its length (0: unknown). */
static size_t page(const struct prk_lu *lu, uint8_t code, enum pc pc, uint8_t *d)
{
	struct prk_lu_mode m = lu->mode;
	if (pc == PC_DEFAULT)
		defaults(lu, &m);
	bool mask = pc == PC_CHANGEABLE;
	switch (code) {
	case CACHING:
		memset(d, 0, 20);
		d[0] = CACHING;
		d[1] = 0x12;
		d[2] = mask ? 0x04 : (m.wce ? 0x04 : 0);
		return 20;
	case CONTROL:
		memset(d, 0, 12);
		d[0] = CONTROL;
		d[1] = 0x0a;
		d[2] = mask ? 0x04 : (m.d_sense ? 0x04 : 0);
		d[3] = mask ? 0 : 0x10; /* QUEUE ALGORITHM MODIFIER 1h, QERR 00b */
		d[4] = mask ? 0x08 : (m.swp ? 0x08 : 0);
		d[5] = mask ? 0x40 : (m.tas ? 0x40 : 0);
		return 12;
	case IEC:
		memset(d, 0, 12);
		d[0] = IEC;
		d[1] = 0x0a;
		d[2] = mask ? 0 : 0x08; /* DEXCPT */
		return 12;
	default:
		return 0;
	}
}

static const uint8_t all_codes[] = {CACHING, CONTROL, IEC};

/* ---- MODE SENSE ---- */

void prk_lu_mode_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb;
	bool ms10 = c[0] == PRK_OP_MODE_SENSE10;
	bool dbd = c[1] & 0x08, llbaa = ms10 && (c[1] & 0x10);
	enum pc pc = (enum pc)(c[2] >> 6);
	uint8_t code = c[2] & 0x3f, sub = c[3];
	uint16_t alloc = ms10 ? prk_get_be16(c + 7) : c[4];
	uint8_t d[8 + 16 + 3 * PAGE_MAX];
	size_t hdr = ms10 ? 8 : 4, off;

	if (pc == PC_SAVED) {
		prk_lu_fail_field(lu, cmd, true, 2, 7,
		                  0x3900 /* SAVING PARAMETERS NOT SUPPORTED */);
		return;
	}
	if (code != ALL_PAGES && !page(lu, code, pc, d)) {
		prk_lu_fail_cdb(lu, cmd, 2, 5);
		return;
	}
	/* No subpages: only 00h, or FFh ("all subpages": the page itself). */
	if (sub != 0 && sub != 0xff) {
		prk_lu_fail_cdb(lu, cmd, 3, -1);
		return;
	}
	memset(d, 0, sizeof(d));
	off = hdr;
	if (!dbd) {
		uint64_t nb = pc == PC_CHANGEABLE ? 0 : lu->cfg.num_blocks;
		uint32_t bl = pc == PC_CHANGEABLE ? 0 : lu->cfg.block_size;
		if (llbaa) {
			prk_put_be64(d + off, nb);
			prk_put_be32(d + off + 12, bl);
			off += 16;
		} else {
			prk_put_be32(d + off, nb > 0xffffffffULL ? 0xffffffffu : (uint32_t)nb);
			prk_put_be24(d + off + 5, bl);
			off += 8;
		}
	}
	size_t bdl = off - hdr;
	if (code == ALL_PAGES) {
		for (size_t i = 0; i < sizeof(all_codes); i++)
			off += page(lu, all_codes[i], pc, d + off);
	} else {
		off += page(lu, code, pc, d + off);
	}
	/* WP reflects the LU; DPOFUA: DPO and FUA are supported. */
	uint8_t dev = (uint8_t)((lu->cfg.readonly || lu->mode.swp ? 0x80 : 0) | 0x10);
	if (ms10) {
		prk_put_be16(d, (uint16_t)(off - 2));
		d[3] = dev;
		d[4] = llbaa && !dbd ? 0x01 : 0; /* LONGLBA */
		prk_put_be16(d + 6, (uint16_t)bdl);
	} else {
		d[0] = (uint8_t)(off - 1);
		d[2] = dev;
		d[3] = (uint8_t)bdl;
	}
	prk_lu_reply(lu, cmd, d, off, alloc);
}

/* ---- MODE SELECT ---- */

static int top_bit(uint8_t v)
{
	int b = 7;
	while (b > 0 && !(v & (1u << b)))
		b--;
	return b;
}

static void select_flushed(struct prk_lu_task *t)
{
	prk_lu_task_end(t);
}

/* Returns 0, or fails the command and returns -1. */
static int check_block_desc(struct prk_lu *lu, struct prk_lu_cmd *cmd, const uint8_t *p, size_t off,
                            bool longlba)
{
	uint64_t nb = longlba ? prk_get_be64(p + off) : prk_get_be32(p + off);
	uint64_t cur = lu->cfg.num_blocks;
	uint64_t ones = longlba ? UINT64_MAX : 0xffffffffULL;
	if (!longlba && cur > 0xffffffffULL)
		cur = 0xffffffffULL;
	if (nb != 0 && nb != cur && nb != ones) {
		prk_lu_fail_param(lu, cmd, off, -1);
		return -1;
	}
	if (!longlba && p[off + 4]) {
		prk_lu_fail_param(lu, cmd, off + 4, -1); /* DENSITY CODE */
		return -1;
	}
	size_t bl_off = longlba ? off + 12 : off + 5;
	uint32_t bl = longlba ? prk_get_be32(p + bl_off) : prk_get_be24(p + bl_off);
	if (bl != lu->cfg.block_size) {
		prk_lu_fail_param(lu, cmd, bl_off, -1);
		return -1;
	}
	return 0;
}

void prk_lu_mode_select(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	const uint8_t *c = cmd->cdb, *p;
	bool ms10 = c[0] == PRK_OP_MODE_SELECT10;
	uint16_t pll = ms10 ? prk_get_be16(c + 7) : c[4];
	size_t hdr = ms10 ? 8 : 4;

	if (!(c[1] & 0x10)) {
		prk_lu_fail_cdb(lu, cmd, 1, 4); /* PF=0: vendor-specific pages */
		return;
	}
	if (c[1] & 0x01) {
		prk_lu_fail_cdb(lu, cmd, 1, 0); /* SP: saving not supported */
		return;
	}
	cmd->spdtl = pll;
	if (!pll) {
		prk_lu_finish(lu, cmd);
		return;
	}
	size_t len = prk_lu_params(cmd, pll, &p);
	if (len < hdr || len < pll) {
		prk_lu_fail_field(lu, cmd, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	if (p[1]) {
		prk_lu_fail_param(lu, cmd, 1, -1); /* MEDIUM TYPE */
		return;
	}
	bool longlba = ms10 && (p[4] & 0x01);
	size_t bdl = ms10 ? prk_get_be16(p + 6) : p[3];
	if (bdl && bdl != (longlba ? 16u : 8u)) {
		prk_lu_fail_param(lu, cmd, ms10 ? 6 : 3, -1);
		return;
	}
	if (hdr + bdl > len) {
		prk_lu_fail_field(lu, cmd, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	if (bdl && check_block_desc(lu, cmd, p, hdr, longlba))
		return;

	struct prk_lu_mode m = lu->mode;
	for (size_t off = hdr + bdl; off < len;) {
		uint8_t cur[PAGE_MAX], mask[PAGE_MAX];
		if (len - off < 2) {
			prk_lu_fail_field(lu, cmd, false, 0, -1,
			                  PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return;
		}
		if (p[off] & 0x40) {
			prk_lu_fail_param(lu, cmd, off, 6); /* SPF */
			return;
		}
		uint8_t code = p[off] & 0x3f;
		size_t plen = page(lu, code, PC_CURRENT, cur);
		if (!plen) {
			prk_lu_fail_param(lu, cmd, off, 5);
			return;
		}
		if (p[off + 1] != plen - 2) {
			prk_lu_fail_param(lu, cmd, off + 1, -1);
			return;
		}
		if (off + plen > len) {
			prk_lu_fail_field(lu, cmd, false, 0, -1,
			                  PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return;
		}
		page(lu, code, PC_CHANGEABLE, mask);
		const uint8_t *q = p + off;
		for (size_t i = 2; i < plen; i++) {
			uint8_t diff = (uint8_t)((q[i] ^ cur[i]) & ~mask[i]);
			if (diff) {
				prk_lu_fail_param(lu, cmd, off + i, top_bit(diff));
				return;
			}
		}
		if (code == CACHING)
			m.wce = q[2] & 0x04;
		else if (code == CONTROL) {
			m.d_sense = q[2] & 0x04;
			m.swp = q[4] & 0x08;
			m.tas = q[5] & 0x40;
		}
		off += plen;
	}

	bool flush = lu->mode.wce && !m.wce;
	bool changed = memcmp(&m, &lu->mode, sizeof(m)) != 0;
	lu->mode = m;
	if (changed) {
		struct prk_nexus_set all = {.everyone = true};
		prk_lu_queue_ua(lu, &all, cmd->nx, PRK_ASC_MODE_PARAMETERS_CHANGED);
	}
	if (!flush) {
		prk_lu_finish(lu, cmd);
		return;
	}
	/* Write-through from now on: what the cache held must reach the
	 * medium before the initiator is told the cache is off. */
	struct prk_lu_task *t = prk_lu_task_new(lu, cmd);
	if (!t) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	t->step = select_flushed;
	prk_lu_task_io(t, PRK_BS_FLUSH, 0, 0, NULL);
}
