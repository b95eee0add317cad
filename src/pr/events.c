/* What happens to the PR state outside PR commands (pr-rules.md B12). */
#include "pr_internal.h"

void prk_pr_nexus_loss(struct prk_pr_state *st, const struct prk_nexus *nx,
                       struct prk_pr_result *res)
{
	res->changed = res->persist = false;
	prk_res_good(res);
	/* Registrations belong to the nexus identity and outlive the nexus;
	 * only an SPC-2 reservation ends with it. */
	if (st->spc2 && prk_nexus_eq(&st->spc2_holder, nx)) {
		st->spc2 = false;
		res->changed = true;
	}
}

void prk_pr_lu_reset(struct prk_pr_state *st, struct prk_pr_result *res)
{
	res->changed = res->persist = false;
	prk_res_good(res);
	if (st->spc2) {
		st->spc2 = false;
		res->changed = true;
	}
	struct prk_nexus_set all = {.everyone = true};
	if (prk_res_ua(res, &all, false, PRK_ASC_BUS_DEVICE_RESET))
		prk_res_check(res, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE,
		              "out of memory for the reset unit attention");
}

void prk_pr_power_on(struct prk_pr_state *st)
{
	if (!st->aptpl)
		prk_reg_clear(st);
	st->spc2 = false;
	st->generation = 0;
}

void prk_pr_mark_lost(struct prk_pr_state *st)
{
	prk_reg_clear(st);
	st->spc2 = false;
	st->aptpl = false;
	st->lost = true;
}
