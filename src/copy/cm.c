/* The copy manager's life cycle, its identity (I_T nexus, TransportID,
 * operating parameters), the LU hooks, the admission of an EXTENDED COPY,
 * cancellation and PREEMPT AND ABORT's share. Segment processing is
 * cm_run.c, sub-commands cm_sub.c, held results cm_results.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

#define DEF_MAX_COPIES 32
#define DEF_CHUNK (2u << 20)
#define DEF_DEPTH 2
#define DEF_MAX_HELD 256
/* MAXIMUM DESCRIPTOR LIST LENGTH: 16 CSCDs (512 bytes) leave 1536 bytes
 * of segments, 54 02h or a few 15h with long TransportIDs. libiscsi's
 * DescrLimits runs its cases only between 1852 and 2379 bytes
 * (scsi_xcopy.h). */
#define MAX_LIST_LEN 2048
/* MAXIMUM SEGMENT LENGTH: a 02h moves at most 65535 blocks; with 512-byte
 * blocks that is the bound every LU meets. */
#define MAX_SEG_LEN (65535u * 512u)

static struct prk_cm *bad(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return NULL;
}

static void xcopy_hook(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);
static void cancel_hook(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd);

static void fill_opparams(struct prk_cm *cm)
{
	struct prk_xcopy_opparams *p = &cm->op;
	memset(p, 0, sizeof(*p));
	p->snlid = true; /* LIST ID USAGE 11b is accepted */
	p->max_cscd = PRK_XCOPY_MAX_CSCD;
	p->max_seg = PRK_XCOPY_MAX_SEG;
	p->max_list_len = MAX_LIST_LEN;
	p->max_seg_len = MAX_SEG_LEN;
	p->max_inline = 0;
	p->held_limit = 0; /* no segment returns data to hold */
	p->max_stream_xfer = 0;
	p->total_concurrent = (uint16_t)cm->cfg.max_copies;
	p->max_concurrent = (uint8_t)cm->cfg.max_copies;
	static const uint8_t impl[] = {PRK_XCOPY_SEG_B2B, PRK_XCOPY_SEG_REGKEY, PRK_XCOPY_SEG_3PR,
	                               PRK_XCOPY_CSCD_E4};
	p->n_impl = sizeof(impl);
	memcpy(p->impl, impl, sizeof(impl));
	cm->lim = (struct prk_xcopy_limits){.max_cscd = p->max_cscd,
	                                    .max_seg = p->max_seg,
	                                    .max_list_len = p->max_list_len,
	                                    .max_inline = 0};
}

struct prk_cm *prk_cm_new(const struct prk_cm_config *cfg, const struct prk_cm_ops *ops, char *err,
                          size_t errlen)
{
	if (!cfg || !ops || !ops->resolve)
		return bad(err, errlen,
		           "copy_manager: config and a resolve operation are required");
	struct prk_cm_config c = *cfg;
	if (!c.initiator[0])
		snprintf(c.initiator, sizeof(c.initiator), "%s", PRK_CM_DEFAULT_INITIATOR);
	if (!prk_iscsi_name_valid(c.initiator))
		return bad(err, errlen, "copy_manager.initiator: not a valid iSCSI name");
	if (!c.isid)
		c.isid = PRK_CM_DEFAULT_ISID;
	if (!c.rtpi)
		c.rtpi = PRK_CM_DEFAULT_RTPI;
	if (c.isid > PRK_ISID_MASK)
		return bad(err, errlen, "copy_manager.isid: more than 48 bits");
	if (!c.max_copies)
		c.max_copies = DEF_MAX_COPIES;
	if (c.max_copies < 16 || c.max_copies > 255)
		return bad(err, errlen, "copy_manager.max_copies: must be 16..255");
	if (!c.chunk)
		c.chunk = DEF_CHUNK;
	if (c.chunk < 4096 || c.chunk > PRK_CM_MAX_CHUNK || c.chunk % 4096)
		return bad(err, errlen, "copy_manager.chunk: a multiple of 4096 up to 16 MiB");
	if (!c.depth)
		c.depth = DEF_DEPTH;
	if (c.depth > PRK_CM_MAX_DEPTH)
		return bad(err, errlen, "copy_manager.depth: at most 64");
	if (!c.max_held)
		c.max_held = DEF_MAX_HELD;

	struct prk_cm *cm = calloc(1, sizeof(*cm));
	if (!cm)
		return bad(err, errlen, "out of memory");
	cm->cfg = c;
	cm->ops = *ops;
	if (prk_nexus_init(&cm->nx, c.initiator, c.isid, c.rtpi)) {
		free(cm);
		return bad(err, errlen, "copy_manager.initiator: not a valid iSCSI name");
	}
	cm->tid.format = PRK_TID_FMT_PORT;
	cm->tid.isid = c.isid;
	snprintf(cm->tid.name, sizeof(cm->tid.name), "%s", c.initiator);
	fill_opparams(cm);
	cm->hooks = (struct prk_lu_copy_hooks){.ctx = cm,
	                                       .xcopy = xcopy_hook,
	                                       .rcr = prk_cm_rcr,
	                                       .cancel = cancel_hook,
	                                       .params = &cm->op,
	                                       .cm_tid = &cm->tid,
	                                       .cm_rtpi = c.rtpi};
	return cm;
}

void prk_cm_free(struct prk_cm *cm)
{
	if (!cm)
		return;
	prk_cm_held_drop(cm, NULL, NULL, -1);
	while (cm->waiters) {
		struct prk_cm_waiter *w = cm->waiters;
		cm->waiters = w->next;
		free(w);
	}
	free(cm);
}

const struct prk_nexus *prk_cm_nexus(const struct prk_cm *cm)
{
	return &cm->nx;
}

const struct prk_tid *prk_cm_tid(const struct prk_cm *cm)
{
	return &cm->tid;
}

const struct prk_xcopy_opparams *prk_cm_opparams(const struct prk_cm *cm)
{
	return &cm->op;
}

void prk_cm_attach(struct prk_cm *cm, struct prk_lu *lu)
{
	prk_lu_set_copy_hooks(lu, &cm->hooks);
	/* The copy manager's nexus is known to the LU from the start, so that
	 * unit attentions meant for it (29/00, 2A/03 after a preemption) are
	 * kept and met, and retried, like a host's. */
	prk_lu_nexus_up(lu, &cm->nx);
}

bool prk_cm_busy(const struct prk_cm *cm, const struct prk_lu *lu)
{
	for (const struct prk_cm_copy *c = cm->copies; c; c = c->next) {
		if (c->via == lu)
			return true;
		for (size_t i = 0; i < c->l.n_cscd; i++)
			if (c->res[i] == lu)
				return true;
	}
	return false;
}

void prk_cm_detach(struct prk_cm *cm, struct prk_lu *lu)
{
	prk_lu_set_copy_hooks(lu, NULL);
	prk_cm_held_drop(cm, lu, NULL, -1);
}

void prk_cm_nexus_gone(struct prk_cm *cm, const struct prk_nexus *nx)
{
	prk_cm_held_drop(cm, NULL, nx, -1);
	/* A copy of that nexus still running (the transport cancels it)
	 * must not leave results nobody can read. */
	for (struct prk_cm_copy *c = cm->copies; c; c = c->next)
		if (prk_nexus_eq(&c->nx, nx))
			c->no_hold = true;
}

void prk_cm_stats(const struct prk_cm *cm, struct prk_cm_stats *out)
{
	*out = cm->st;
	out->active = cm->active;
	out->held = cm->n_held;
}

struct prk_cm_copy *prk_cm_find_running(struct prk_cm *cm, const struct prk_lu *via,
                                        const struct prk_nexus *nx, uint8_t id)
{
	for (struct prk_cm_copy *c = cm->copies; c; c = c->next)
		if (c->via == via && c->l.list_id_usage != PRK_XCOPY_LIU_NONE &&
		    c->l.list_id == id && prk_nexus_eq(&c->nx, nx))
			return c;
	return NULL;
}

/* Errors found before the first segment is processed are errors of the
 * command itself (ILLEGAL REQUEST: the decoder's, list id checks), not
 * COPY ABORTED (SPC-4 6.4.4). */
static void xcopy_hook(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_cm *cm = ctx;
	uint32_t plen = prk_get_be32(cmd->cdb + 10);
	if (plen == 0) {
		/* SPC-4: not an error; nothing is copied. */
		prk_lu_copy_reply(lu, cmd, NULL, 0, 0);
		return;
	}
	size_t have = cmd->data_out ? cmd->data_out_len : 0;
	size_t n = plen < have ? plen : have;

	struct prk_cm_copy *c = calloc(1, sizeof(*c) + cm->cfg.depth * sizeof(struct prk_cm_sub));
	if (!c) {
		prk_lu_cmd_fail(lu, cmd, PRK_SK_ABORTED_COMMAND, PRK_ASC_INSUFFICIENT_RESOURCES);
		return;
	}
	struct prk_field_err e;
	if (prk_xcopy_decode(cmd->data_out, n, &cm->lim, &c->l, &e)) {
		free(c);
		prk_lu_copy_fail_field(lu, cmd, &e);
		return;
	}
	if (c->l.list_id_usage != PRK_XCOPY_LIU_NONE &&
	    prk_cm_find_running(cm, lu, cmd->nx, c->l.list_id)) {
		free(c);
		prk_lu_cmd_fail(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_OPERATION_IN_PROGRESS);
		return;
	}
	if (cm->active >= cm->cfg.max_copies) {
		free(c);
		prk_lu_cmd_fail(lu, cmd, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_RESOURCES);
		return;
	}
	/* A new copy with the list id of held results replaces them. */
	if (c->l.list_id_usage != PRK_XCOPY_LIU_NONE)
		prk_cm_held_drop(cm, lu, cmd->nx, c->l.list_id);

	c->cm = cm;
	c->via = lu;
	c->cmd = cmd;
	c->nx = *cmd->nx;
	c->port = (struct prk_lu_port){.rtpi = cm->cfg.rtpi,
	                               .tpg = 0,
	                               .target_name = cmd->port ? cmd->port->target_name : NULL,
	                               .tpgt = cmd->port ? cmd->port->tpgt : 0};
	c->nsub = cm->cfg.depth;
	for (unsigned i = 0; i < c->nsub; i++)
		c->sub[i].c = c;
	c->next = cm->copies;
	if (cm->copies)
		cm->copies->prev = c;
	cm->copies = c;
	cm->active++;
	cm->st.started++;
	prk_cm_pump(c);
}

static void cancel_hook(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_cm *cm = ctx;
	for (struct prk_cm_copy *c = cm->copies; c; c = c->next) {
		if (c->cmd == cmd && c->via == lu) {
			/* Stops issuing; the copy completes once its commands are
			 * out and the pending 15h moves are done (cm_run.c). */
			c->cancelled = true;
			prk_cm_pump(c);
			return;
		}
	}
}

/* Does c use lu as a copy source or destination (so far)? */
static bool uses(const struct prk_cm_copy *c, const struct prk_lu *lu)
{
	for (size_t i = 0; i < c->l.n_cscd; i++)
		if (c->res[i] == lu)
			return true;
	return false;
}

void prk_cm_abort(struct prk_cm *cm, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
                  void (*done)(void *arg), void *arg)
{
	bool mine = false;
	for (size_t i = 0; i < n && !mine; i++)
		mine = prk_nexus_set_contains(&sets[i], &cm->nx);
	if (!mine) {
		done(arg);
		return;
	}
	/* The copies working on lu are the preempted nexus's tasks there:
	 * they stop issuing (COPY ABORTED; their reached 15h are still
	 * moved), so no block of theirs lands after the barrier, whatever
	 * the new PR state would let the copy manager do. Nothing is issued
	 * from here (this runs inside the PR OUT's apply): a copy outside
	 * its own pump always has commands in flight, and their completions
	 * carry it on to its end. */
	for (struct prk_cm_copy *c = cm->copies; c; c = c->next)
		if (uses(c, lu))
			prk_cm_fail(c, PRK_ASC_THIRD_PARTY_DEVICE_FAILURE, c->seg, false, 0, -1,
			            "preempted and aborted on a copy target");
	/* Only the commands already inside lu are waited for. */
	if (!prk_cm_inside(cm, lu, cm->seq)) {
		done(arg);
		return;
	}
	struct prk_cm_waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		/* Out of memory: the barrier must not hang. The commands
		 * inside lu complete on their own and start nothing new. */
		done(arg);
		return;
	}
	*w = (struct prk_cm_waiter){
	    .next = NULL, .lu = lu, .seq = cm->seq, .done = done, .arg = arg};
	struct prk_cm_waiter **pp = &cm->waiters;
	while (*pp)
		pp = &(*pp)->next;
	*pp = w;
}
