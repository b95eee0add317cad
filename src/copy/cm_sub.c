/* Sub-commands: the READ(16), WRITE(16) and PERSISTENT RESERVE OUT the
 * copy manager sends, as its own I_T nexus, through prk_lu_submit, so that
 * the LU's checks (the PR access check first of all) apply to a copy as
 * to a host. A unit attention is retried (PRK_CM_UA_RETRIES) so that the
 * command's real outcome decides. Completions may come inline (RAM
 * backstore) or later; either way cm_run.c's pump takes over. */
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

static bool is_ua(const struct prk_lu_cmd *cmd)
{
	if (cmd->status != PRK_STATUS_CHECK_CONDITION)
		return false;
	struct prk_sense s;
	return prk_sense_decode(cmd->sense, cmd->sense_len, &s) == 0 &&
	       s.key == PRK_SK_UNIT_ATTENTION;
}

static void submit(struct prk_cm_sub *s)
{
	s->seq = ++s->c->cm->seq;
	prk_lu_submit(s->lu, &s->cmd);
}

/* A CSCD command failed: COPY ABORTED naming the segment, with the
 * CSCD's sense (RESERVATION CONFLICT has none: the CSCD's status alone,
 * which the codec carries in the sense data's copy target area). */
static void cscd_failed(struct prk_cm_copy *c, struct prk_cm_sub *s, bool from_dst)
{
	const struct prk_lu_cmd *cmd = &s->cmd;
	const char *why = cmd->status == PRK_STATUS_RESERVATION_CONFLICT
	                      ? "reservation conflict on a copy target"
	                      : "a copy target failed a command";
	bool first = !c->failed;
	/* ILLEGAL REQUEST from the CSCD (an LBA past its end...) is a fault
	 * of the segment, not of the device: NO ADDITIONAL SENSE INFORMATION,
	 * the CSCD's sense forwarded says what (libiscsi's ValidSegDescr
	 * wants 00/00, 08/04 or 0D/02 for a range past the end). Anything
	 * else (a conflict, a medium or hardware error) is THIRD PARTY DEVICE
	 * FAILURE. */
	struct prk_sense ss;
	bool bad_request = cmd->status == PRK_STATUS_CHECK_CONDITION &&
	                   prk_sense_decode(cmd->sense, cmd->sense_len, &ss) == 0 &&
	                   ss.key == PRK_SK_ILLEGAL_REQUEST;
	if (bad_request)
		why = "a copy target refused a command (ILLEGAL REQUEST)";
	prk_cm_fail(c, bad_request ? PRK_ASC_NONE : PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, s->seg,
	            false, 0, -1, why);
	if (!first && s->kind != PRK_CM_SUB_PROUT)
		return;
	size_t n = cmd->sense_len;
	if (n > sizeof(c->ab.cscd_sense))
		n = sizeof(c->ab.cscd_sense);
	memcpy(c->ab.cscd_sense, cmd->sense, n);
	c->ab.cscd_sense_len = (uint8_t)n;
	c->ab.from_dst = from_dst;
}

static void write_done(struct prk_cm_copy *c, struct prk_cm_sub *s)
{
	free(s->buf);
	s->buf = NULL;
	if (s->cmd.status == PRK_STATUS_GOOD) {
		c->bytes += s->len;
		c->cm->st.bytes += s->len;
	} else {
		cscd_failed(c, s, true);
	}
}

/* Returns true when the chunk went on as a WRITE: its completion ends
 * the sub-command (and may already have, inline). */
static bool read_done(struct prk_cm_copy *c, struct prk_cm_sub *s)
{
	if (s->cmd.status != PRK_STATUS_GOOD) {
		cscd_failed(c, s, false);
		return false;
	}
	/* The READ's data-in becomes the WRITE's data-out: no copy. */
	s->buf = s->cmd.data_in;
	uint32_t got = s->cmd.data_in_len;
	s->cmd.data_in = NULL;
	if (c->failed || c->cancelled || got != s->len || !s->buf) {
		if (!c->failed && !c->cancelled)
			prk_cm_fail(c, PRK_ASC_COPY_TARGET_DATA_UNDERRUN, s->seg, false, 0, -1,
			            "short read from the copy source");
		free(s->buf);
		s->buf = NULL;
		return false;
	}
	uint64_t lba = c->l.seg[s->seg].dst_lba + s->off / c->dbs;
	memset(s->cmd.cdb, 0, sizeof(s->cmd.cdb));
	s->cmd.cdb[0] = PRK_OP_WRITE16;
	prk_put_be64(s->cmd.cdb + 2, lba);
	prk_put_be32(s->cmd.cdb + 10, s->len / c->dbs);
	s->cmd.dir_read = false;
	s->cmd.dir_write = true;
	s->cmd.data_out = s->buf;
	s->cmd.data_out_len = s->len;
	s->cmd.edtl = s->len;
	s->kind = PRK_CM_SUB_WRITE;
	s->lu = c->dst;
	s->retries = 0;
	submit(s); /* last: its completion may free c */
	return true;
}

static void sub_done(struct prk_lu_cmd *cmd)
{
	struct prk_cm_sub *s = cmd->priv;
	struct prk_cm_copy *c = s->c;
	if (is_ua(cmd) && s->retries < PRK_CM_UA_RETRIES) {
		s->retries++;
		submit(s);
		return;
	}
	switch (s->kind) {
	case PRK_CM_SUB_READ:
		if (read_done(c, s))
			return;
		break;
	case PRK_CM_SUB_WRITE:
		write_done(c, s);
		break;
	case PRK_CM_SUB_PROUT:
		if (cmd->status != PRK_STATUS_GOOD)
			cscd_failed(c, s, true);
		else if (c->phase == PRK_CM_PH_MOVE)
			c->segs_done++; /* a 15h counts when its move is done */
		break;
	}
	s->busy = false;
	c->in_flight--;
	prk_cm_waiters_check(c->cm);
	prk_cm_pump(c);
}

static void prep(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu,
                 enum prk_cm_sub_kind kind, uint16_t seg)
{
	memset(&s->cmd, 0, sizeof(s->cmd));
	s->cmd.nx = &c->cm->nx;
	s->cmd.port = &c->port;
	s->cmd.cdb_len = 16;
	s->cmd.done = sub_done;
	s->cmd.priv = s;
	s->lu = lu;
	s->kind = kind;
	s->seg = seg;
	s->retries = 0;
	s->busy = true;
	c->in_flight++;
}

void prk_cm_sub_read(struct prk_cm_copy *c, struct prk_cm_sub *s)
{
	const struct prk_xcopy_seg *g = &c->l.seg[c->seg];
	prep(c, s, c->src, PRK_CM_SUB_READ, c->seg);
	s->off = c->next_off;
	uint64_t left = c->seg_bytes - c->next_off;
	s->len = left < c->chunk ? (uint32_t)left : c->chunk;
	c->next_off += s->len;
	s->cmd.cdb[0] = PRK_OP_READ16;
	prk_put_be64(s->cmd.cdb + 2, g->src_lba + s->off / c->sbs);
	prk_put_be32(s->cmd.cdb + 10, s->len / c->sbs);
	s->cmd.dir_read = true;
	s->cmd.edtl = s->len;
	submit(s);
}

/* PERSISTENT RESERVE OUT with a parameter list (CDB: SA, PARAMETER LIST
 * LENGTH in bytes 5..8). */
static void prout(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu, uint8_t sa,
                  const uint8_t *params, uint32_t len, uint16_t idx)
{
	prep(c, s, lu, PRK_CM_SUB_PROUT, idx);
	s->cmd.cdb[0] = PRK_OP_PR_OUT;
	s->cmd.cdb[1] = sa;
	/* REGISTER AND MOVE keeps the reservation's scope and type: the CDB
	 * names the ones the LU has (REGISTER ignores the field). */
	uint8_t type, scope;
	long holder;
	if (sa == 0x07 && prk_pr_reservation(prk_lu_pr(lu), &type, &scope, &holder))
		s->cmd.cdb[2] = (uint8_t)(scope << 4 | type);
	prk_put_be32(s->cmd.cdb + 5, len);
	s->cmd.dir_write = true;
	s->cmd.data_out = params;
	s->cmd.data_out_len = len;
	s->cmd.edtl = len;
	submit(s);
}

void prk_cm_sub_register(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu,
                         const struct prk_xcopy_seg *seg, uint16_t idx)
{
	memset(s->reg, 0, sizeof(s->reg));
	prk_put_be64(s->reg, seg->key);
	prk_put_be64(s->reg + 8, seg->sa_key);
	prout(c, s, lu, 0x00 /* REGISTER */, s->reg, sizeof(s->reg), idx);
}

void prk_cm_sub_move(struct prk_cm_copy *c, struct prk_cm_sub *s, struct prk_lu *lu,
                     const struct prk_xcopy_seg *seg, uint16_t idx)
{
	/* The descriptor's own REGISTER AND MOVE list, from the EXTENDED
	 * COPY's data-out (valid until the command completes). */
	prout(c, s, lu, 0x07 /* REGISTER AND MOVE */, seg->move, seg->move_len, idx);
}

bool prk_cm_inside(const struct prk_cm *cm, const struct prk_lu *lu, uint64_t seq)
{
	for (const struct prk_cm_copy *c = cm->copies; c; c = c->next)
		for (unsigned i = 0; i < c->nsub; i++) {
			const struct prk_cm_sub *s = &c->sub[i];
			if (s->busy && s->lu == lu && s->seq <= seq)
				return true;
		}
	return false;
}

void prk_cm_waiters_check(struct prk_cm *cm)
{
	struct prk_cm_waiter **pp = &cm->waiters;
	while (*pp) {
		struct prk_cm_waiter *w = *pp;
		if (prk_cm_inside(cm, w->lu, w->seq)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		void (*done)(void *) = w->done;
		void *arg = w->arg;
		free(w);
		done(arg);
		pp = &cm->waiters; /* done may have changed the list */
	}
}
