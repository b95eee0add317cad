/* SPC-2 RESERVE(6/10) and RELEASE(6/10), with compatible reservation
 * handling (CRH=1) against persistent reservations (pr-rules.md B11). */
#include "pr_internal.h"

int prk_pr_spc2(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
                size_t cdb_len, struct prk_pr_result *res)
{
	struct prk_spc2_cdb c;
	struct prk_field_err err;
	res->changed = res->persist = false;
	if (prk_spc2_cdb_decode(cdb, cdb_len, &c, &err)) {
		prk_res_field(res, &err);
		return -1;
	}
	if (st->n_regs) {
		/* CRH: a PR holder, or any registrant under an RO or AR
		 * reservation, gets GOOD and nothing changes; everyone else
		 * conflicts while any registration exists. */
		long me = prk_reg_find(st, from);
		bool exempt =
		    st->resv && me >= 0 &&
		    (prk_reg_is_holder(st, me) || prk_pr_type_registrants_only(st->type) ||
		     prk_pr_type_all_registrants(st->type));
		if (!exempt) {
			prk_res_conflict(res, "persistent reservation registrations exist");
			return -1;
		}
		prk_res_good(res);
		return 0;
	}
	bool mine = st->spc2 && prk_nexus_eq(&st->spc2_holder, from);
	if (c.reserve) {
		if (st->spc2 && !mine) {
			prk_res_conflict(res, "reserved (SPC-2) by another nexus");
			return -1;
		}
		res->changed = !st->spc2;
		st->spc2 = true;
		st->spc2_holder = *from;
	} else if (mine) {
		/* A RELEASE from anyone else is GOOD and changes nothing (SPC-2). */
		st->spc2 = false;
		res->changed = true;
	}
	prk_res_good(res);
	return 0;
}
