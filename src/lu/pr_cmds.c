/* PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE(6/10): the PR engine
 * decides, the LU carries out the effects. */
#include <stdlib.h>
#include <string.h>

#include "lu_internal.h"

void prk_lu_set_pr_hooks(struct prk_lu *lu, const struct prk_lu_pr_hooks *h)
{
	if (h)
		lu->pr_hooks = *h;
	else
		memset(&lu->pr_hooks, 0, sizeof(lu->pr_hooks));
}

/* Status and sense of an engine result; unit attentions first. */
static void complete(struct prk_lu *lu, struct prk_lu_cmd *cmd, struct prk_pr_result *res)
{
	for (size_t i = 0; i < res->n_ua; i++)
		prk_lu_queue_ua(lu, &res->ua[i].to, res->ua[i].skip_sender ? cmd->nx : NULL,
		                res->ua[i].asc);
	uint8_t status = res->status;
	struct prk_sense s = res->sense;
	prk_pr_result_free(res);
	if (status == PRK_STATUS_CHECK_CONDITION) {
		prk_lu_fail(lu, cmd, &s);
		return;
	}
	cmd->status = status;
	prk_lu_finish(lu, cmd);
}

/* A PR OUT from decoding to completion. op comes first: the hooks see
 * only it, and the LU finds the rest from it. */
struct prout_op {
	struct prk_lu_prout op;
	struct prk_lu *lu;
	struct prk_lu_cmd *cmd;
	struct prk_pr_result res; /* the local outcome, kept across the barrier */
};

void prk_lu_prout_complete(struct prk_lu_prout *op, struct prk_pr_result *res)
{
	struct prout_op *o = (struct prout_op *)op;
	complete(o->lu, o->cmd, res);
	free(o);
}

static void barrier_done(void *arg)
{
	struct prout_op *o = arg;
	prk_lu_prout_complete(&o->op, &o->res);
}

/* The engine's verdict on a PR OUT, for the daemon's log. */
static void prout_log(struct prk_lu *lu, const struct prk_lu_cmd *cmd,
                      const struct prk_pr_result *res)
{
	if (lu->pr_hooks.prout_done)
		lu->pr_hooks.prout_done(lu->pr_hooks.ctx, lu, cmd->nx, cmd->cdb[1] & 0x1f,
		                        res->status, res->why);
}

/* Writes the APTPL record when the engine asks for it; on failure puts
 * the old state back and fails the command. Returns 0 to go on. */
static int persist(struct prk_lu *lu, struct prk_lu_cmd *cmd, struct prk_pr_state *before,
                   struct prk_pr_result *res)
{
	if (res->status != PRK_STATUS_GOOD || !res->persist || !lu->pr_hooks.persist)
		return 0;
	uint8_t *rec = NULL;
	size_t len = prk_pr_record_encode(lu->pr, &rec);
	int r = len ? lu->pr_hooks.persist(lu->pr_hooks.ctx, lu, rec, len) : -1;
	free(rec);
	if (r == 0)
		return 0;
	/* Not durable: the command fails and nothing of it remains. */
	struct prk_pr_state *failed = lu->pr;
	lu->pr = before;
	prk_pr_state_free(failed);
	prk_pr_result_free(res);
	prk_lu_fail_asc(lu, cmd, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE);
	return -1;
}

void prk_lu_cmd_fail(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t key, uint16_t asc)
{
	prk_lu_fail_asc(lu, cmd, key, asc);
}

void prk_lu_prout_fail(struct prk_lu_prout *op, uint8_t key, uint16_t asc)
{
	struct prout_op *o = (struct prout_op *)op;
	prk_lu_fail_asc(o->lu, o->cmd, key, asc);
	free(o);
}

/* In cluster mode the hook may hold the command until every change this
 * node applied is applied everywhere (no PR IN shows a state another node
 * might still answer without). */
void prk_lu_pr_in_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	if (lu->pr_hooks.prin_wait && lu->pr_hooks.prin_wait(lu->pr_hooks.ctx, lu, cmd))
		return;
	prk_lu_prin_resume(lu, cmd);
}

void prk_lu_prin_resume(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	uint16_t alloc = prk_get_be16(cmd->cdb + 7);
	size_t cap = alloc < cmd->edtl ? alloc : cmd->edtl;
	uint8_t *buf = prk_lu_data_in(lu, cmd, cap);
	if (!buf) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	prk_pr_result_init(&res);
	size_t n = prk_pr_in(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len, buf, cap, &res);
	/* The engine writes at most cap bytes and returns how many to send;
	 * spdtl cannot tell the untruncated length, which is fine: the data
	 * is limited by the allocation length anyway. */
	cmd->spdtl = (uint32_t)n;
	complete(lu, cmd, &res);
}

/* The parameter list is the first PARAMETER LIST LENGTH bytes of data-out;
 * when data-out is shorter the engine sees the short list and reports
 * PARAMETER LIST LENGTH ERROR. A command that decodes goes to the prout
 * hook; one that does not is answered here. */
void prk_lu_pr_out_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	struct prk_pr_request req;
	const uint8_t *p;
	uint32_t pll = prk_get_be32(cmd->cdb + 5);
	size_t len = prk_lu_params(cmd, pll, &p);
	static const uint8_t none[1];

	cmd->spdtl = pll;
	prk_pr_result_init(&res);
	memset(&req, 0, sizeof(req));
	/* In cluster mode (RESERVE/RELEASE go through a hook too) every PR OUT
	 * goes to the hook undecoded: whether it conflicts with an SPC-2
	 * reservation depends on what the cluster's order puts before it, so
	 * each replica decodes it when it applies it (req stays empty). */
	bool raw = lu->pr_hooks.prout && lu->pr_hooks.spc2;
	if (!raw &&
	    prk_pr_out_decode(lu->pr, cmd->cdb, cmd->cdb_len, p ? p : none, len, &req, &res)) {
		prout_log(lu, cmd, &res);
		complete(lu, cmd, &res);
		return;
	}
	struct prout_op *o = malloc(sizeof(*o));
	if (!o) {
		prk_lu_fail_nomem(lu, cmd);
		return;
	}
	*o = (struct prout_op){.op = {.from = cmd->nx,
	                              .req = req,
	                              .cmd = cmd,
	                              .params = p ? p : none,
	                              .params_len = len},
	                       .lu = lu,
	                       .cmd = cmd};
	if (lu->pr_hooks.prout)
		lu->pr_hooks.prout(lu->pr_hooks.ctx, lu, &o->op);
	else
		prk_lu_prout_local(lu, &o->op);
}

void prk_lu_prout_local(struct prk_lu *lu, struct prk_lu_prout *op)
{
	struct prout_op *o = (struct prout_op *)op;
	/* With APTPL the old state is kept until the new one is on disk. */
	struct prk_pr_state *before = NULL;
	if (lu->pr_hooks.persist) {
		before = prk_pr_state_clone(lu->pr);
		if (!before) {
			prk_lu_fail_nomem(lu, o->cmd);
			free(o);
			return;
		}
	}
	prk_pr_result_init(&o->res);
	prk_pr_apply(lu->pr, op->from, &op->req, &o->res);
	prout_log(lu, o->cmd, &o->res);
	if (persist(lu, o->cmd, before, &o->res)) {
		free(o);
		return;
	}
	prk_pr_state_free(before);
	if (o->res.status == PRK_STATUS_GOOD && o->res.n_abort && lu->pr_hooks.abort) {
		lu->pr_hooks.abort(lu->pr_hooks.ctx, lu, o->res.abort, o->res.n_abort, o->cmd,
		                   barrier_done, o);
		return;
	}
	prk_lu_prout_complete(op, &o->res);
}

/* A RESERVE/RELEASE on its way through the spc2 hook; op comes first. */
struct spc2_op {
	struct prk_lu_spc2_op op;
	struct prk_lu *lu;
	struct prk_lu_cmd *cmd;
};

void prk_lu_spc2_complete(struct prk_lu_spc2_op *op, struct prk_pr_result *res)
{
	struct spc2_op *o = (struct spc2_op *)op;
	complete(o->lu, o->cmd, res);
	free(o);
}

void prk_lu_spc2_fail(struct prk_lu_spc2_op *op, uint8_t key, uint16_t asc)
{
	struct spc2_op *o = (struct spc2_op *)op;
	prk_lu_fail_asc(o->lu, o->cmd, key, asc);
	free(o);
}

void prk_lu_spc2_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	if (lu->pr_hooks.spc2) {
		struct spc2_op *o = malloc(sizeof(*o));
		if (!o) {
			prk_lu_fail_nomem(lu, cmd);
			return;
		}
		*o = (struct spc2_op){.op = {.from = cmd->nx, .cmd = cmd}, .lu = lu, .cmd = cmd};
		lu->pr_hooks.spc2(lu->pr_hooks.ctx, lu, &o->op);
		return;
	}
	prk_pr_result_init(&res);
	prk_pr_spc2(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len, &res);
	complete(lu, cmd, &res);
}
