/* PERSISTENT RESERVE OUT: every service action, as docs/pr-engine.md
 * describes them. Each action validates everything and reserves every
 * allocation it may need before it changes the state, so a command either
 * applies completely or leaves the state as it was. */
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

struct ctx {
	struct prk_pr_state *st;
	const struct prk_nexus *from;
	const struct prk_pr_request *req;
	struct prk_pr_result *res;
	long me; /* the sender's registration, or -1 */
};

static struct prk_reg *reg(const struct ctx *c, long i)
{
	return &c->st->regs[i];
}

static void out_of_resources(struct ctx *c)
{
	prk_res_check(c->res, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES,
	              "insufficient registration resources");
}

static void committed(struct ctx *c, bool bump_generation)
{
	if (bump_generation)
		c->st->generation++; /* wraps at 2^32 */
	c->res->changed = true;
	prk_res_good(c->res);
}

/* TYPE and SCOPE of the CDB, checked only by the actions that use them. */
static bool type_scope_ok(struct ctx *c)
{
	if (c->req->cdb.scope != PRK_PR_SCOPE_LU) {
		prk_res_bad_field(c->res, true, 2, 7, "SCOPE");
		return false;
	}
	if (!prk_pr_type_valid(c->req->cdb.type)) {
		prk_res_bad_field(c->res, true, 2, 3, "TYPE");
		return false;
	}
	return true;
}

/* UA `asc` to every registered I_T nexus but the sender. A wildcard
 * registration of the sender still covers other nexuses, so it is named
 * with skip_sender; the sender's exact registration is left out. */
static void ua_to_registrants(struct ctx *c, uint16_t asc)
{
	for (size_t i = 0; i < c->st->n_regs; i++) {
		const struct prk_reg *r = &c->st->regs[i];
		if (!r->all_tg_pt && !r->any_isid && prk_nexus_eq(&r->nx, c->from))
			continue;
		struct prk_nexus_set s;
		prk_reg_to_set(r, &s);
		prk_res_ua(c->res, &s, true, asc); /* capacity reserved by the caller */
	}
}

/* ---- REGISTER, REGISTER AND IGNORE EXISTING KEY ---- */

static int reg_cmp(const void *a, const void *b)
{
	const struct prk_reg *x = a, *y = b;
	int d = strcmp(x->nx.name, y->nx.name);
	if (d)
		return d;
	if (x->any_isid != y->any_isid)
		return x->any_isid ? 1 : -1;
	if (!x->any_isid && x->nx.isid != y->nx.isid)
		return x->nx.isid < y->nx.isid ? -1 : 1;
	return 0;
}

/* Builds the registrations a SPEC_I_PT list asks for into *out (the
 * sender's own first). Fails with 26/00 on a TransportID that names an
 * already registered I_T nexus or one named twice. */
static int spec_i_pt_regs(struct ctx *c, struct prk_reg **out, size_t *n_out)
{
	const struct prk_prout_params *p = &c->req->p;
	struct prk_reg *v = calloc((size_t)p->n_tids + 1, sizeof(*v));
	if (!v) {
		out_of_resources(c);
		return -1;
	}
	size_t n = 0;
	v[n++] = (struct prk_reg){.nx = *c->from, .key = p->sa_key, .all_tg_pt = p->all_tg_pt};
	uint32_t pos = 0;
	struct prk_tid tid;
	while (prk_tid_list_next(p, &pos, &tid) == 1) {
		struct prk_reg r = {.key = p->sa_key, .all_tg_pt = p->all_tg_pt};
		bool port = tid.format == PRK_TID_FMT_PORT;
		if (prk_nexus_init(&r.nx, tid.name, port ? tid.isid : 0, c->from->rtpi)) {
			prk_res_bad_field(c->res, false, (uint16_t)p->tid_list_off, -1,
			                  "ISCSI NAME");
			goto fail;
		}
		r.any_isid = !port;
		if (port && prk_nexus_eq(&r.nx, c->from))
			continue; /* the sender is registered anyway */
		if (prk_reg_find_identity(c->st, &r) >= 0 ||
		    (port && prk_reg_find(c->st, &r.nx) >= 0)) {
			prk_res_bad_field(c->res, false, PRK_PROUT_SPEC_I_PT_HDR_LEN, -1,
			                  "TRANSPORTID (already registered)");
			goto fail;
		}
		v[n++] = r;
	}
	/* Duplicates within the list: sort a copy, compare neighbours. */
	if (n > 2) {
		qsort(v + 1, n - 1, sizeof(*v), reg_cmp);
		for (size_t i = 2; i < n; i++)
			if (reg_cmp(&v[i - 1], &v[i]) == 0) {
				prk_res_bad_field(c->res, false, PRK_PROUT_SPEC_I_PT_HDR_LEN, -1,
				                  "TRANSPORTID (named twice)");
				goto fail;
			}
	}
	*out = v;
	*n_out = n;
	return 0;
fail:
	free(v);
	return -1;
}

static void register_new(struct ctx *c)
{
	const struct prk_prout_params *p = &c->req->p;
	struct prk_reg *v = NULL;
	size_t n = 1;
	struct prk_reg self = {.nx = *c->from, .key = p->sa_key, .all_tg_pt = p->all_tg_pt};
	if (p->spec_i_pt) {
		if (spec_i_pt_regs(c, &v, &n))
			return;
	} else {
		v = &self;
	}
	/* All or nothing: room for every registration before adding any. */
	if (c->st->n_regs + n > c->st->max_regs || prk_reg_reserve(c->st, n)) {
		out_of_resources(c);
	} else {
		for (size_t i = 0; i < n; i++)
			prk_reg_add(c->st, &v[i]);
		c->st->aptpl = p->aptpl;
		committed(c, true);
	}
	if (v != &self)
		free(v);
}

static void unregister(struct ctx *c)
{
	struct prk_pr_state *st = c->st;
	bool release_ua = st->resv && st->holder == c->me && prk_pr_type_registrants_only(st->type);
	bool *drop = calloc(st->n_regs, sizeof(*drop));
	if (!drop || prk_res_reserve(c->res, st->n_regs, 0)) {
		free(drop);
		out_of_resources(c);
		return;
	}
	drop[c->me] = true;
	prk_reg_remove_marked(st, drop); /* releases the holder's reservation */
	free(drop);
	if (release_ua)
		ua_to_registrants(c, PRK_ASC_RESERVATIONS_RELEASED);
}

static void do_register(struct ctx *c)
{
	const struct prk_prout_params *p = &c->req->p;
	bool ignore = c->req->cdb.sa == PRK_PROUT_REGISTER_AND_IGNORE;
	if (c->me < 0) {
		if (!ignore && p->key != 0) {
			prk_res_conflict(c->res, "unregistered nexus sent a non-zero key");
			return;
		}
		if (p->sa_key == 0) {
			prk_res_good(c->res); /* unregistering nothing changes nothing */
			return;
		}
		register_new(c);
		return;
	}
	if (p->spec_i_pt) {
		prk_res_bad_field(c->res, false, 20, 3, "SPEC_I_PT");
		return;
	}
	if (!ignore && p->key != reg(c, c->me)->key) {
		prk_res_conflict(c->res, "key mismatch");
		return;
	}
	if (p->sa_key == 0) {
		unregister(c);
		if (c->res->status == PRK_STATUS_CHECK_CONDITION)
			return;
	} else {
		reg(c, c->me)->key = p->sa_key;
	}
	c->st->aptpl = p->aptpl;
	committed(c, true);
}

/* ---- RESERVE, RELEASE, CLEAR ---- */

static void do_reserve(struct ctx *c)
{
	if (!type_scope_ok(c))
		return;
	struct prk_pr_state *st = c->st;
	if (st->resv) {
		if (!prk_reg_is_holder(st, c->me)) {
			prk_res_conflict(c->res, "reserved by another nexus");
		} else if (st->type != c->req->cdb.type || st->scope != c->req->cdb.scope) {
			prk_res_conflict(c->res, "holder asked for another type or scope");
		} else {
			prk_res_good(c->res); /* same type and scope: no change */
		}
		return;
	}
	st->resv = true;
	st->type = c->req->cdb.type;
	st->scope = c->req->cdb.scope;
	st->holder = prk_pr_type_all_registrants(st->type) ? -1 : c->me;
	committed(c, false);
}

static void do_release(struct ctx *c)
{
	struct prk_pr_state *st = c->st;
	if (!st->resv || !prk_reg_is_holder(st, c->me)) {
		prk_res_good(c->res); /* nothing of ours to release */
		return;
	}
	if (st->type != c->req->cdb.type || st->scope != c->req->cdb.scope) {
		prk_res_check(c->res, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_RELEASE_OF_PR,
		              "release with another type or scope");
		return;
	}
	bool notify = !(st->type == PRK_PR_WE || st->type == PRK_PR_EA);
	if (notify && prk_res_reserve(c->res, st->n_regs, 0)) {
		out_of_resources(c);
		return;
	}
	st->resv = false;
	st->holder = -1;
	if (notify)
		ua_to_registrants(c, PRK_ASC_RESERVATIONS_RELEASED);
	committed(c, false);
}

static void do_clear(struct ctx *c)
{
	if (prk_res_reserve(c->res, c->st->n_regs, 0)) {
		out_of_resources(c);
		return;
	}
	ua_to_registrants(c, PRK_ASC_RESERVATIONS_PREEMPTED);
	prk_reg_clear(c->st);
	committed(c, true);
}

/* ---- PREEMPT, PREEMPT AND ABORT ---- */

/* Removes the marked registrations (2A/05 to each, abort set when asked),
 * and names the sender's own nexuses in the abort set when `abort_me`. */
static void preempt_remove(struct ctx *c, bool *drop, bool abort, bool abort_me)
{
	struct prk_pr_state *st = c->st;
	struct prk_nexus_set s;
	for (size_t i = 0; i < st->n_regs; i++) {
		if (!drop[i] && !((long)i == c->me && abort && abort_me))
			continue;
		prk_reg_to_set(&st->regs[i], &s);
		if (drop[i])
			prk_res_ua(c->res, &s, true, PRK_ASC_REGISTRATIONS_PREEMPTED);
		if (abort)
			prk_res_abort(c->res, &s);
	}
	prk_reg_remove_marked(st, drop);
	c->me = prk_reg_find(st, c->from);
}

static void do_preempt(struct ctx *c)
{
	struct prk_pr_state *st = c->st;
	const uint64_t sa_key = c->req->p.sa_key;
	const bool abort = c->req->cdb.sa == PRK_PROUT_PREEMPT_AND_ABORT;
	const bool ar = st->resv && prk_pr_type_all_registrants(st->type);
	const bool hits_holder =
	    st->resv && !ar && sa_key != 0 && st->regs[st->holder].key == sa_key;
	/* Does the command take (or re-make) the reservation? */
	const bool takes = (ar && sa_key == 0) || hits_holder;

	if (!ar && sa_key == 0) {
		/* (verify) docs/pr-engine.md: INVALID FIELD IN PARAMETER LIST. */
		prk_res_bad_field(c->res, false, 8, -1, "SERVICE ACTION RESERVATION KEY");
		return;
	}
	if (takes && !type_scope_ok(c))
		return;

	bool *drop = calloc(st->n_regs, sizeof(*drop));
	if (!drop || prk_res_reserve(c->res, st->n_regs + 1, st->n_regs + 1)) {
		free(drop);
		out_of_resources(c);
		return;
	}
	size_t hits = 0;
	for (size_t i = 0; i < st->n_regs; i++) {
		if ((long)i == c->me)
			continue; /* the sender's own registration is never removed */
		if (sa_key == 0 || st->regs[i].key == sa_key) {
			drop[i] = true;
			hits++;
		}
	}
	bool mine = reg(c, c->me)->key == sa_key;
	if (!hits && !mine && sa_key != 0) {
		free(drop);
		prk_res_conflict(c->res, "no registration with the service action key");
		return;
	}
	uint8_t old_type = st->type, old_scope = st->scope;
	preempt_remove(c, drop, abort, sa_key == 0 || mine);
	free(drop);

	if (takes) {
		st->resv = true;
		st->type = c->req->cdb.type;
		st->scope = c->req->cdb.scope;
		st->holder = prk_pr_type_all_registrants(st->type) ? -1 : c->me;
		if (st->type != old_type || st->scope != old_scope)
			ua_to_registrants(c, PRK_ASC_RESERVATIONS_RELEASED);
	}
	committed(c, true);
}

/* ---- REGISTER AND MOVE ---- */

static bool rtpi_known(const struct prk_pr_state *st, uint16_t rtpi)
{
	if (!st->n_rtpis)
		return true;
	for (size_t i = 0; i < st->n_rtpis; i++)
		if (st->rtpis[i] == rtpi)
			return true;
	return false;
}

static void do_move(struct ctx *c)
{
	struct prk_pr_state *st = c->st;
	const struct prk_prout_params *p = &c->req->p;
	if (p->sa_key == 0) {
		prk_res_bad_field(c->res, false, 8, -1, "SERVICE ACTION RESERVATION KEY");
		return;
	}
	if (!st->resv) {
		/* (verify) docs/pr-engine.md: as LIO and SCST. */
		prk_res_bad_field(c->res, true, 1, 4, "SERVICE ACTION (no reservation to move)");
		return;
	}
	if (prk_pr_type_all_registrants(st->type)) {
		prk_res_conflict(c->res, "all-registrants reservations cannot be moved");
		return;
	}
	if (!prk_reg_is_holder(st, c->me)) {
		prk_res_conflict(c->res, "sender does not hold the reservation");
		return;
	}
	if (p->move_tid.format != PRK_TID_FMT_PORT) {
		prk_res_bad_field(c->res, false, PRK_PROUT_MOVE_HDR_LEN, 7, "FORMAT CODE");
		return;
	}
	if (!rtpi_known(st, p->rtpi)) {
		prk_res_bad_field(c->res, false, 18, -1, "RELATIVE TARGET PORT IDENTIFIER");
		return;
	}
	struct prk_nexus dest;
	if (prk_nexus_init(&dest, p->move_tid.name, p->move_tid.isid, p->rtpi) ||
	    prk_nexus_eq(&dest, c->from)) {
		prk_res_bad_field(c->res, false, PRK_PROUT_MOVE_HDR_LEN, -1, "TRANSPORTID");
		return;
	}
	long d = prk_reg_find(st, &dest);
	if (p->unreg && d == c->me) {
		prk_res_bad_field(c->res, false, 17, 1, "UNREG");
		return;
	}
	bool *drop = NULL;
	if (p->unreg) {
		drop = calloc(st->n_regs + 1, sizeof(*drop));
		if (!drop) {
			out_of_resources(c);
			return;
		}
	}
	if (d < 0 && (st->n_regs + 1 > st->max_regs || prk_reg_reserve(st, 1))) {
		free(drop);
		out_of_resources(c);
		return;
	}
	if (d >= 0) {
		st->regs[d].key = p->sa_key;
	} else {
		struct prk_reg r = {.nx = dest, .key = p->sa_key};
		d = prk_reg_add(st, &r);
	}
	st->holder = d; /* same type and scope */
	if (p->unreg) {
		drop[c->me] = true;
		prk_reg_remove_marked(st, drop);
		free(drop);
	}
	st->aptpl = p->aptpl;
	committed(c, true);
}

/* ---- REPLACE LOST RESERVATION (SPC-5) ---- */

static void do_replace_lost(struct ctx *c)
{
	struct prk_pr_state *st = c->st;
	const struct prk_prout_params *p = &c->req->p;
	if (!st->lost) {
		/* (verify) docs/pr-engine.md: never a way around the key checks. */
		prk_res_bad_field(c->res, true, 1, 4, "SERVICE ACTION (no reservation was lost)");
		return;
	}
	if (p->key != 0) {
		prk_res_conflict(c->res, "REPLACE LOST RESERVATION needs RESERVATION KEY 0");
		return;
	}
	if (p->sa_key == 0) {
		prk_res_bad_field(c->res, false, 8, -1, "SERVICE ACTION RESERVATION KEY");
		return;
	}
	if (!type_scope_ok(c))
		return;
	if (c->me < 0 && (st->n_regs + 1 > st->max_regs || prk_reg_reserve(st, 1))) {
		out_of_resources(c);
		return;
	}
	if (c->me >= 0) {
		reg(c, c->me)->key = p->sa_key;
	} else {
		struct prk_reg r = {.nx = *c->from, .key = p->sa_key};
		c->me = prk_reg_add(st, &r);
	}
	st->resv = true;
	st->type = c->req->cdb.type;
	st->scope = c->req->cdb.scope;
	st->holder = prk_pr_type_all_registrants(st->type) ? -1 : c->me;
	st->lost = false;
	st->aptpl = p->aptpl;
	committed(c, true);
}

/* ---- entry points ---- */

int prk_pr_apply(struct prk_pr_state *st, const struct prk_nexus *from,
                 const struct prk_pr_request *req, struct prk_pr_result *res)
{
	struct ctx c = {.st = st, .from = from, .req = req, .res = res};
	const bool aptpl_before = st->aptpl;
	const uint8_t sa = req->cdb.sa;
	res->changed = false;
	res->persist = false;
	res->why = NULL;

	if (st->spc2) {
		prk_res_conflict(res, "SPC-2 reservation held");
		return -1;
	}
	if (st->lost && sa != PRK_PROUT_REPLACE_LOST) {
		prk_pr_lost_sense(&res->sense);
		res->status = PRK_STATUS_CHECK_CONDITION;
		res->why = "persistent reservation information lost";
		return -1;
	}
	c.me = prk_reg_find(st, from);
	if (sa == PRK_PROUT_REPLACE_LOST) {
		do_replace_lost(&c);
	} else if (sa == PRK_PROUT_REGISTER || sa == PRK_PROUT_REGISTER_AND_IGNORE) {
		do_register(&c);
	} else if (c.me < 0) {
		prk_res_conflict(res, "nexus not registered");
	} else if (req->p.key != reg(&c, c.me)->key) {
		prk_res_conflict(res, "key mismatch");
	} else {
		switch (sa) {
		case PRK_PROUT_RESERVE:
			do_reserve(&c);
			break;
		case PRK_PROUT_RELEASE:
			do_release(&c);
			break;
		case PRK_PROUT_CLEAR:
			do_clear(&c);
			break;
		case PRK_PROUT_PREEMPT:
		case PRK_PROUT_PREEMPT_AND_ABORT:
			do_preempt(&c);
			break;
		case PRK_PROUT_REGISTER_AND_MOVE:
			do_move(&c);
			break;
		default:
			prk_res_bad_field(res, true, 1, 4, "SERVICE ACTION");
			break;
		}
	}
	if (res->status != PRK_STATUS_GOOD) {
		/* Effects of a failed command must not be carried out. */
		res->n_ua = res->n_abort = 0;
		return -1;
	}
	res->persist = res->changed && (aptpl_before || st->aptpl);
	return 0;
}

int prk_pr_out_decode(const struct prk_pr_state *st, const uint8_t *cdb, size_t cdb_len,
                      const uint8_t *params, size_t params_len, struct prk_pr_request *req,
                      struct prk_pr_result *res)
{
	struct prk_field_err err;
	res->changed = res->persist = false;
	/* Under an SPC-2 reservation every PR OUT conflicts, even a
	 * malformed one. */
	if (st->spc2) {
		prk_res_conflict(res, "SPC-2 reservation held");
		return -1;
	}
	if (prk_prout_cdb_decode(cdb, cdb_len, &req->cdb, &err)) {
		prk_res_field(res, &err);
		return -1;
	}
	if (req->cdb.param_len != params_len) {
		prk_res_check(res, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR,
		              "parameter data shorter than PARAMETER LIST LENGTH");
		return -1;
	}
	if (prk_prout_params_decode(req->cdb.sa, params, params_len, &req->p, &err)) {
		prk_res_field(res, &err);
		return -1;
	}
	return 0;
}

int prk_pr_out(struct prk_pr_state *st, const struct prk_nexus *from, const uint8_t *cdb,
               size_t cdb_len, const uint8_t *params, size_t params_len, struct prk_pr_result *res)
{
	struct prk_pr_request req;
	if (prk_pr_out_decode(st, cdb, cdb_len, params, params_len, &req, res))
		return -1;
	return prk_pr_apply(st, from, &req, res);
}
