/* The segment runner: processes an EXTENDED COPY's segments in order
 * (SPC-4 6.4.6), then the moves of the 15h segments it reached (Annex
 * B.3), then completes the command. It is a loop that runs until it has
 * to wait for a sub-command; completions (inline or later) call
 * prk_cm_pump again. A copy that fails or is cancelled stops issuing,
 * waits for its sub-commands to come out of the LUs, still moves the
 * reservations of the 15h segments it reached, and only then completes. */
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

void prk_cm_fail(struct prk_cm_copy *c, uint16_t asc, uint16_t seg, bool sd, uint32_t field,
                 int8_t bit, const char *why)
{
	/* The first failure is what the host reads, except that a failed
	 * 15h move overrides: the reservation is not where a host that saw
	 * the earlier failure would expect it. */
	if (c->failed && c->phase != PRK_CM_PH_MOVE)
		return;
	c->failed = true;
	memset(&c->ab, 0, sizeof(c->ab));
	c->ab.asc = asc;
	c->ab.seg = seg;
	c->ab.has_ptr = field != 0 || sd;
	c->ab.sd = sd;
	c->ab.bit = bit;
	c->ab.field = (uint16_t)field;
	c->why = why;
}

/* The CSCD a segment names, checked as SPC-4 6.4.6 wants when the
 * segment is processed; NULL after recording the failure. idx_field is
 * the offset of the index field in the segment descriptor. */
static struct prk_lu *cscd(struct prk_cm_copy *c, uint16_t idx, uint32_t idx_field)
{
	uint16_t seg = c->seg;
	/* An index past the list, a NUL CSCD and an LU the nexus cannot
	 * reach all leave the copy without a target: COPY TARGET DEVICE
	 * NOT REACHABLE, what libiscsi's ValidSegDescr/ValidTgtDescr
	 * expect. */
	if (idx >= c->l.n_cscd) {
		prk_cm_fail(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, seg, true, idx_field, -1,
		            "CSCD descriptor index out of range");
		return NULL;
	}
	const struct prk_xcopy_cscd *d = &c->l.cscd[idx];
	/* LU ID TYPE is not looked at: an E4h descriptor names its LU by the
	 * designator alone (SPC-4 has it ignored there; libiscsi 1.19's
	 * ValidTgtDescr sends a reserved one and expects GOOD). */
	if (d->nul) {
		prk_cm_fail(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, seg, false, d->off + 1, 5,
		            "the CSCD descriptor has the NUL bit set");
		return NULL;
	}
	if (!c->res[idx])
		c->res[idx] = c->cm->ops.resolve(c->cm->ops.ctx, c->via, &c->nx, d);
	if (!c->res[idx]) {
		prk_cm_fail(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, seg, false, d->off + 4, -1,
		            "no LU the initiator may access has that designator");
		return NULL;
	}
	return c->res[idx];
}

/* PDT 00h and a DISK BLOCK LENGTH that is 0 or the LU's. */
static bool block_cscd_ok(struct prk_cm_copy *c, uint16_t idx, const struct prk_lu *lu)
{
	const struct prk_xcopy_cscd *d = &c->l.cscd[idx];
	if (d->pdt != 0x00) {
		prk_cm_fail(c, PRK_ASC_INCORRECT_COPY_TARGET_TYPE, c->seg, false, d->off + 1, 4,
		            "the CSCD's device type is not the LU's (00h)");
		return false;
	}
	if (d->block_len && d->block_len != prk_lu_config(lu)->block_size) {
		prk_cm_fail(c, PRK_ASC_INVALID_OPERATION_FOR_COPY, c->seg, false, d->off + 29, -1,
		            "DISK BLOCK LENGTH differs from the LU's block size");
		return false;
	}
	return true;
}

static void start_b2b(struct prk_cm_copy *c, const struct prk_xcopy_seg *g)
{
	struct prk_lu *src = cscd(c, g->src, 4);
	if (!src)
		return;
	struct prk_lu *dst = cscd(c, g->dst, 6);
	if (!dst || !block_cscd_ok(c, g->src, src) || !block_cscd_ok(c, g->dst, dst))
		return;
	const struct prk_lu_config *sc = prk_lu_config(src), *dc = prk_lu_config(dst);
	c->src = src;
	c->dst = dst;
	c->sbs = sc->block_size;
	c->dbs = dc->block_size;
	c->seg_bytes = (uint64_t)g->n_blocks * (g->dc ? c->dbs : c->sbs);
	if (c->seg_bytes % c->sbs || c->seg_bytes % c->dbs) {
		/* Whole blocks on both sides or nothing (no PAD/CAT
		 * handling of partial blocks). */
		prk_cm_fail(c, PRK_ASC_UNEXPECTED_INEXACT_SEGMENT, c->seg, true, 10, -1,
		            "the segment is not whole blocks on both LUs");
		return;
	}
	/* Chunks are whole blocks of both LUs (block sizes are 512 or 4096,
	 * so the larger is a multiple of the smaller) and within both LUs'
	 * MAXIMUM TRANSFER LENGTH. */
	uint32_t unit = c->sbs > c->dbs ? c->sbs : c->dbs;
	uint64_t chunk = c->cm->cfg.chunk;
	if ((uint64_t)sc->max_xfer_blocks * c->sbs < chunk)
		chunk = (uint64_t)sc->max_xfer_blocks * c->sbs;
	if ((uint64_t)dc->max_xfer_blocks * c->dbs < chunk)
		chunk = (uint64_t)dc->max_xfer_blocks * c->dbs;
	chunk -= chunk % unit;
	if (chunk < unit)
		chunk = unit;
	c->chunk = (uint32_t)chunk;
	c->next_off = 0;
	c->seg_started = true;
}

static void start_regkey(struct prk_cm_copy *c, const struct prk_xcopy_seg *g)
{
	struct prk_lu *dst = cscd(c, g->dst, 6);
	if (!dst || !block_cscd_ok(c, g->dst, dst))
		return;
	c->seg_started = true;
	prk_cm_sub_register(c, &c->sub[0], dst, g, c->seg);
}

/* 15h: validated when reached, moved back at the end (Annex B.3). SPC-4
 * allows only a stream device (PDT 01h) as its destination; a block LU
 * only where the daemon's per-LU option says so. */
static void reach_3pr(struct prk_cm_copy *c, const struct prk_xcopy_seg *g)
{
	struct prk_lu *dst = cscd(c, g->dst, 6);
	if (!dst)
		return;
	const struct prk_xcopy_cscd *d = &c->l.cscd[g->dst];
	bool allowed = d->pdt == 0x00 && c->cm->ops.allow_3pr_block &&
	               c->cm->ops.allow_3pr_block(c->cm->ops.ctx, dst);
	if (!allowed) {
		if (d->pdt == 0x01)
			prk_cm_fail(c, PRK_ASC_INCORRECT_COPY_TARGET_TYPE, c->seg, false,
			            d->off + 1, 4,
			            "the 15h destination is a block LU, not a stream device");
		else
			prk_cm_fail(c, PRK_ASC_INVALID_OPERATION_FOR_COPY, c->seg, false,
			            d->off + 1, 4,
			            "15h names a block LU that does not allow third-party "
			            "reservations");
		return;
	}
	c->pending[c->seg] = true;
	c->seg++;
}

static void start_segment(struct prk_cm_copy *c)
{
	const struct prk_xcopy_seg *g = &c->l.seg[c->seg];
	switch (g->type) {
	case PRK_XCOPY_SEG_B2B:
		start_b2b(c, g);
		break;
	case PRK_XCOPY_SEG_REGKEY:
		start_regkey(c, g);
		break;
	case PRK_XCOPY_SEG_3PR:
		reach_3pr(c, g);
		break;
	default: /* the decoder lets no other type through */
		prk_cm_fail(c, PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE, c->seg, true, 0, -1,
		            "unsupported segment descriptor type");
		break;
	}
}

static struct prk_cm_sub *idle_sub(struct prk_cm_copy *c)
{
	for (unsigned i = 0; i < c->nsub; i++)
		if (!c->sub[i].busy)
			return &c->sub[i];
	return NULL;
}

static void finish(struct prk_cm_copy *c)
{
	struct prk_cm *cm = c->cm;
	uint8_t sense[PRK_XCOPY_SENSE_MAX];
	size_t sense_len = 0;
	uint8_t st = PRK_XCOPY_ST_DONE;

	if (c->failed) {
		sense_len =
		    prk_xcopy_abort_encode(&c->ab, prk_lu_d_sense(c->via), sense, sizeof(sense));
		if (sense_len > sizeof(sense))
			sense_len = sizeof(sense);
		st = PRK_XCOPY_ST_FAILED;
	} else if (c->cancelled) {
		/* The transport discards the status; what is held says the
		 * copy did not complete. */
		struct prk_sense s;
		prk_sense_set(&s, PRK_SK_ABORTED_COMMAND, PRK_ASC_NONE);
		sense_len = prk_lu_d_sense(c->via)
		                ? prk_sense_encode_desc(&s, sense, sizeof(sense))
		                : prk_sense_encode_fixed(&s, sense, sizeof(sense));
		st = PRK_XCOPY_ST_FAILED;
		c->why = "aborted";
	}
	if (c->cancelled)
		cm->st.aborted++;
	else if (c->failed)
		cm->st.failed++;
	else
		cm->st.done++;
	if (c->l.list_id_usage == PRK_XCOPY_LIU_HOLD && !c->no_hold)
		prk_cm_hold(c, st, sense, sense_len);
	if (cm->ops.copy_done)
		cm->ops.copy_done(cm->ops.ctx, c->via, &c->nx, c->l.list_id, st, c->segs_done,
		                  c->bytes, c->why);

	if (c->prev)
		c->prev->next = c->next;
	else
		cm->copies = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cm->active--;

	struct prk_lu *via = c->via;
	struct prk_lu_cmd *cmd = c->cmd;
	free(c);
	if (st == PRK_XCOPY_ST_DONE)
		prk_lu_copy_reply(via, cmd, NULL, 0, 0);
	else
		prk_lu_copy_sense(via, cmd, PRK_STATUS_CHECK_CONDITION, sense, sense_len);
}

/* Runs c until it waits for a sub-command; true when c is gone. */
static bool advance(struct prk_cm_copy *c)
{
	for (;;) {
		if (c->phase == PRK_CM_PH_SEGS) {
			if (c->failed || c->cancelled) {
				if (c->in_flight)
					return false;
				c->phase = PRK_CM_PH_MOVE;
				continue;
			}
			if (c->seg_started) {
				if (c->l.seg[c->seg].type == PRK_XCOPY_SEG_B2B) {
					struct prk_cm_sub *s;
					/* Each READ may complete (and write) inline:
					 * re-check the failure flags every time. */
					while (!c->failed && !c->cancelled &&
					       c->next_off < c->seg_bytes && (s = idle_sub(c)))
						prk_cm_sub_read(c, s);
					if (c->failed || c->cancelled)
						continue;
					if (c->in_flight || c->next_off < c->seg_bytes)
						return false;
				} else if (c->in_flight) {
					return false;
				}
				if (c->failed)
					continue;
				c->seg_started = false;
				c->segs_done++;
				c->seg++;
				continue;
			}
			if (c->seg >= c->l.n_seg) {
				c->phase = PRK_CM_PH_MOVE;
				continue;
			}
			start_segment(c);
			continue;
		}
		/* PRK_CM_PH_MOVE: the reached 15h segments, in order, whatever
		 * happened after them (a failure, a cancel). */
		if (c->in_flight)
			return false;
		while (c->move_i < c->l.n_seg && !c->pending[c->move_i])
			c->move_i++;
		if (c->move_i < c->l.n_seg) {
			uint16_t i = c->move_i++;
			const struct prk_xcopy_seg *g = &c->l.seg[i];
			prk_cm_sub_move(c, &c->sub[0], c->res[g->dst], g, i);
			continue;
		}
		finish(c);
		return true;
	}
}

void prk_cm_pump(struct prk_cm_copy *c)
{
	/* Inline completions re-enter here: they only ask for another
	 * round, so the stack does not grow per chunk. */
	if (c->in_pump) {
		c->again = true;
		return;
	}
	c->in_pump = true;
	do {
		c->again = false;
		if (advance(c))
			return;
	} while (c->again);
	c->in_pump = false;
}
