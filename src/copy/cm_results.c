/* Held results and RECEIVE COPY RESULTS (SPC-4 6.18). A copy sent with
 * LIST ID USAGE 00b leaves its status (and, when it failed, the sense it
 * ended with) here until RECEIVE COPY RESULTS reads it through the same
 * LU and I_T nexus: COPY STATUS releases a successful copy's, FAILED
 * SEGMENT DETAILS a failed one's. At most max_held are kept, oldest
 * dropped first (and the nexus's next COPY STATUS reports HDD); nexus
 * loss and LU removal drop theirs. */
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

static void unlink_held(struct prk_cm *cm, struct prk_cm_held *prev, struct prk_cm_held *h)
{
	if (prev)
		prev->next = h->next;
	else
		cm->held = h->next;
	if (cm->held_tail == h)
		cm->held_tail = prev;
	cm->n_held--;
	free(h);
}

void prk_cm_held_drop(struct prk_cm *cm, const struct prk_lu *via, const struct prk_nexus *nx,
                      int list_id)
{
	struct prk_cm_held *prev = NULL, *h = cm->held;
	while (h) {
		struct prk_cm_held *next = h->next;
		if ((!via || h->via == via) && (!nx || prk_nexus_eq(&h->nx, nx)) &&
		    (list_id < 0 || h->list_id == list_id))
			unlink_held(cm, prev, h);
		else
			prev = h;
		h = next;
	}
}

void prk_cm_hold(struct prk_cm_copy *c, uint8_t status, const uint8_t *sense, size_t sense_len)
{
	struct prk_cm *cm = c->cm;
	struct prk_cm_held *h = calloc(1, sizeof(*h));
	if (!h)
		return; /* not held: RECEIVE COPY RESULTS reports it unknown */
	if (cm->n_held >= cm->cfg.max_held) {
		/* Bounded memory: the oldest goes; its nexus learns through
		 * HDD (held data discarded) on its next COPY STATUS. */
		struct prk_cm_held *old = cm->held;
		for (struct prk_cm_held *o = old->next; o; o = o->next)
			if (o->via == old->via && prk_nexus_eq(&o->nx, &old->nx))
				o->hdd = true;
		h->hdd = c->via == old->via && prk_nexus_eq(&c->nx, &old->nx);
		unlink_held(cm, NULL, old);
	}
	h->via = c->via;
	h->nx = c->nx;
	h->list_id = c->l.list_id;
	h->status = status;
	h->segs = c->segs_done;
	h->bytes = c->bytes;
	h->f.status = status == PRK_XCOPY_ST_DONE ? PRK_STATUS_GOOD : PRK_STATUS_CHECK_CONDITION;
	if (sense_len > sizeof(h->f.sense))
		sense_len = sizeof(h->f.sense);
	memcpy(h->f.sense, sense, sense_len);
	h->f.sense_len = (uint16_t)sense_len;
	if (cm->held_tail)
		cm->held_tail->next = h;
	else
		cm->held = h;
	cm->held_tail = h;
	cm->n_held++;
}

static struct prk_cm_held *find_held(struct prk_cm *cm, const struct prk_lu *via,
                                     const struct prk_nexus *nx, uint8_t id,
                                     struct prk_cm_held **prev)
{
	*prev = NULL;
	for (struct prk_cm_held *h = cm->held; h; *prev = h, h = h->next)
		if (h->via == via && h->list_id == id && prk_nexus_eq(&h->nx, nx))
			return h;
	return NULL;
}

#define RCR_BUF 256

void prk_cm_rcr(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_cm *cm = ctx;
	uint8_t sa = cmd->cdb[1] & 0x1f;
	uint8_t id = cmd->cdb[2];
	uint32_t alloc = prk_get_be32(cmd->cdb + 10);
	uint8_t buf[RCR_BUF];
	size_t n;

	if (sa == PRK_RCR_SA_OP_PARAMS) {
		n = prk_rcr_opparams_encode(&cm->op, buf, sizeof(buf));
		prk_lu_copy_reply(lu, cmd, buf, n < sizeof(buf) ? n : sizeof(buf), alloc);
		return;
	}
	struct prk_cm_copy *c = prk_cm_find_running(cm, lu, cmd->nx, id);
	struct prk_cm_held *prev, *h = c ? NULL : find_held(cm, lu, cmd->nx, id, &prev);
	if (!c && !h) {
		struct prk_field_err e;
		prk_field_err_set(&e, true, 2, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "LIST IDENTIFIER");
		prk_lu_copy_fail_field(lu, cmd, &e);
		return;
	}
	if (sa == PRK_RCR_SA_COPY_STATUS) {
		struct prk_xcopy_status s = {0};
		if (c) {
			s.status = PRK_XCOPY_ST_IN_PROGRESS;
			s.segs_done = c->segs_done;
			prk_xcopy_status_set_bytes(&s, c->bytes);
		} else {
			s.status = h->status;
			s.hdd = h->hdd;
			s.segs_done = h->segs;
			prk_xcopy_status_set_bytes(&s, h->bytes);
		}
		n = prk_rcr_status_encode(&s, buf, sizeof(buf));
		/* Read: a successful copy's results are done with; a failed
		 * one's wait for FAILED SEGMENT DETAILS. */
		if (h && h->status == PRK_XCOPY_ST_DONE)
			unlink_held(cm, prev, h);
		prk_lu_copy_reply(lu, cmd, buf, n < sizeof(buf) ? n : sizeof(buf), alloc);
		return;
	}
	/* FAILED SEGMENT DETAILS: only for a finished copy. */
	if (!h) {
		struct prk_field_err e;
		prk_field_err_set(&e, true, 2, -1, PRK_ASC_INVALID_FIELD_IN_CDB,
		                  "LIST IDENTIFIER (copy still running)");
		prk_lu_copy_fail_field(lu, cmd, &e);
		return;
	}
	n = prk_rcr_failed_encode(&h->f, buf, sizeof(buf));
	if (h->status == PRK_XCOPY_ST_FAILED)
		unlink_held(cm, prev, h);
	prk_lu_copy_reply(lu, cmd, buf, n < sizeof(buf) ? n : sizeof(buf), alloc);
}
