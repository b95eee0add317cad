/* Third-party copy on the LU's side: EXTENDED COPY and RECEIVE COPY
 * RESULTS reach the copy hooks once the LU's own checks passed (lu.c: unit
 * attentions, the gate, ALUA, the PR access check, the service action);
 * the copy manager (src/copy) lives above the LU because a copy needs
 * other LUs. This file also builds VPD 8Fh and carries the completions
 * the hooks use, so the hooks never touch the LU's internals. */
#include "lu_internal.h"

/* Any non-NULL value: only its presence in lu_priv is read. */
static char copy_mark;

void prk_lu_set_copy_hooks(struct prk_lu *lu, const struct prk_lu_copy_hooks *h)
{
	if (h) {
		lu->copy = *h;
		lu->has_copy = true;
	} else {
		memset(&lu->copy, 0, sizeof(lu->copy));
		lu->has_copy = false;
	}
}

bool prk_lu_d_sense(const struct prk_lu *lu)
{
	return lu->mode.d_sense;
}

void prk_lu_xcopy_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	/* Marked before the hook runs: it may cancel or complete at once,
	 * and prk_lu_finish clears the mark. */
	cmd->lu_priv[PRK_LU_PRIV_COPY] = &copy_mark;
	lu->copy.xcopy(lu->copy.ctx, lu, cmd);
}

void prk_lu_rcr_cmd(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	lu->copy.rcr(lu->copy.ctx, lu, cmd);
}

void prk_lu_cancel(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	/* One that waits for the fast path's drain leaves unrun (lu_fast.c). */
	if (lu->fast && prk_lu_fast_cancel(lu, cmd))
		return;
	/* Ordinary commands cost one load: they finish as they would. */
	if (cmd->lu_priv[PRK_LU_PRIV_COPY] != &copy_mark || !lu->has_copy || !lu->copy.cancel)
		return;
	lu->copy.cancel(lu->copy.ctx, lu, cmd);
}

void prk_lu_copy_reply(struct prk_lu *lu, struct prk_lu_cmd *cmd, const void *buf, size_t len,
                       size_t alloc)
{
	if (!len || !alloc) {
		/* GOOD without data (an EXTENDED COPY): nothing to copy from buf,
		 * which may be NULL. */
		cmd->status = PRK_STATUS_GOOD;
		cmd->spdtl = (uint32_t)(len < alloc ? len : alloc);
		prk_lu_finish(lu, cmd);
		return;
	}
	prk_lu_reply(lu, cmd, buf, len, alloc);
}

void prk_lu_copy_sense(struct prk_lu *lu, struct prk_lu_cmd *cmd, uint8_t status,
                       const uint8_t *sense, size_t len)
{
	if (len > sizeof(cmd->sense))
		len = sizeof(cmd->sense);
	cmd->status = status;
	if (len)
		memcpy(cmd->sense, sense, len);
	cmd->sense_len = (uint8_t)len;
	prk_lu_finish(lu, cmd);
}

void prk_lu_copy_fail_field(struct prk_lu *lu, struct prk_lu_cmd *cmd,
                            const struct prk_field_err *e)
{
	struct prk_sense s;
	prk_sense_from_field_err(&s, e);
	prk_lu_fail(lu, cmd, &s);
}

size_t prk_lu_vpd_3pc(const struct prk_lu *lu, uint8_t *d, size_t cap)
{
	if (!lu->has_copy || !lu->copy.params)
		return 0;
	size_t n =
	    prk_vpd_3pc_encode(0x00, lu->copy.params, lu->copy.cm_tid, lu->copy.cm_rtpi, d, cap);
	return n <= cap ? n : 0;
}
