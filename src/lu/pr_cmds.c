/* PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE(6/10): the PR engine
 * decides, the LU carries out the effects. */
#include <stdlib.h>

#include "lu_internal.h"

/* Status and sense of an engine result; effects (unit attentions) first. */
static void complete(struct prk_lu *lu, struct prk_lu_cmd *cmd, struct prk_pr_result *res)
{
	for (size_t i = 0; i < res->n_ua; i++)
		prk_lu_queue_ua(lu, &res->ua[i].to, res->ua[i].skip_sender ? cmd->nx : NULL,
		                res->ua[i].asc);
	/* TODO(next issue): PREEMPT AND ABORT's res->abort names the I_T
	 * nexuses whose tasks must be aborted before this command completes
	 * (with 2F/00 or TASK ABORTED per TAS). The LU does not abort tasks
	 * yet; the sets are ignored here. Likewise res->persist (rewrite the
	 * APTPL record before completing) is the target's job and not done
	 * by the LU. */
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

void prk_lu_pr_in_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	uint16_t alloc = prk_lu_get16(cmd->cdb + 7);
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
 * PARAMETER LIST LENGTH ERROR. */
void prk_lu_pr_out_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	const uint8_t *p;
	uint32_t pll = prk_lu_get32(cmd->cdb + 5);
	size_t len = prk_lu_params(cmd, pll, &p);
	static const uint8_t none[1];

	cmd->spdtl = pll;
	prk_pr_result_init(&res);
	prk_pr_out(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len, p ? p : none, len, &res);
	complete(lu, cmd, &res);
}

void prk_lu_spc2_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_spc2(lu->pr, cmd->nx, cmd->cdb, cmd->cdb_len, &res);
	complete(lu, cmd, &res);
}
