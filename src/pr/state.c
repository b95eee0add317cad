/* Life cycle and introspection of the PR state of one logical unit. */
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

struct prk_pr_state *prk_pr_state_new(const struct prk_pr_config *cfg)
{
	struct prk_pr_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->max_regs =
	    cfg && cfg->max_registrations ? cfg->max_registrations : PRK_PR_DEFAULT_MAX_REGS;
	st->holder = -1;
	if (cfg && prk_pr_set_ports(st, cfg->rtpis, cfg->n_rtpis)) {
		free(st);
		return NULL;
	}
	if (prk_reg_rebuild_index(st)) {
		prk_pr_state_free(st);
		return NULL;
	}
	return st;
}

void prk_pr_state_free(struct prk_pr_state *st)
{
	if (!st)
		return;
	free(st->rtpis);
	free(st->regs);
	free(st->index);
	free(st);
}

int prk_pr_set_ports(struct prk_pr_state *st, const uint16_t *rtpis, size_t n)
{
	uint16_t *copy = NULL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, rtpis, n * sizeof(*copy));
	}
	free(st->rtpis);
	st->rtpis = copy;
	st->n_rtpis = n;
	return 0;
}

struct prk_pr_state *prk_pr_state_clone(const struct prk_pr_state *st)
{
	struct prk_pr_state *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *st;
	c->rtpis = NULL;
	c->regs = NULL;
	c->index = NULL;
	c->cap_regs = c->index_cap = 0;
	if (st->n_rtpis) {
		c->rtpis = malloc(st->n_rtpis * sizeof(*c->rtpis));
		if (!c->rtpis)
			goto fail;
		memcpy(c->rtpis, st->rtpis, st->n_rtpis * sizeof(*c->rtpis));
	}
	if (st->cap_regs) {
		c->regs = malloc(st->cap_regs * sizeof(*c->regs));
		if (!c->regs)
			goto fail;
		memcpy(c->regs, st->regs, st->n_regs * sizeof(*c->regs));
		c->cap_regs = st->cap_regs;
	}
	c->index = malloc(st->index_cap * sizeof(*c->index));
	if (!c->index)
		goto fail;
	memcpy(c->index, st->index, st->index_cap * sizeof(*c->index));
	c->index_cap = st->index_cap;
	return c;
fail:
	prk_pr_state_free(c);
	return NULL;
}

static bool reg_eq(const struct prk_reg *a, const struct prk_reg *b)
{
	return a->key == b->key && a->all_tg_pt == b->all_tg_pt && a->any_isid == b->any_isid &&
	       prk_nexus_eq(&a->nx, &b->nx);
}

bool prk_pr_state_equal(const struct prk_pr_state *a, const struct prk_pr_state *b)
{
	if (a->n_regs != b->n_regs || a->generation != b->generation || a->aptpl != b->aptpl ||
	    a->resv != b->resv || a->spc2 != b->spc2 || a->lost != b->lost)
		return false;
	if (a->resv && (a->type != b->type || a->scope != b->scope || a->holder != b->holder))
		return false;
	if (a->spc2 && !prk_nexus_eq(&a->spc2_holder, &b->spc2_holder))
		return false;
	for (size_t i = 0; i < a->n_regs; i++)
		if (!reg_eq(&a->regs[i], &b->regs[i]))
			return false;
	return true;
}

uint32_t prk_pr_generation(const struct prk_pr_state *st)
{
	return st->generation;
}

bool prk_pr_aptpl(const struct prk_pr_state *st)
{
	return st->aptpl;
}

size_t prk_pr_reg_count(const struct prk_pr_state *st)
{
	return st->n_regs;
}

void prk_pr_reg_info(const struct prk_pr_state *st, size_t i, struct prk_pr_reg_info *out)
{
	const struct prk_reg *r = &st->regs[i];
	out->key = r->key;
	out->nx = r->nx;
	out->all_tg_pt = r->all_tg_pt;
	out->any_isid = r->any_isid;
	out->holder = prk_reg_is_holder(st, (long)i);
}

bool prk_pr_reservation(const struct prk_pr_state *st, uint8_t *type, uint8_t *scope,
                        long *holder_index)
{
	if (!st->resv)
		return false;
	if (type)
		*type = st->type;
	if (scope)
		*scope = st->scope;
	if (holder_index)
		*holder_index = st->holder;
	return true;
}

long prk_pr_find(const struct prk_pr_state *st, const struct prk_nexus *nx)
{
	return prk_reg_find(st, nx);
}

bool prk_pr_is_holder(const struct prk_pr_state *st, const struct prk_nexus *nx)
{
	if (!st->resv)
		return false;
	return prk_reg_is_holder(st, prk_reg_find(st, nx));
}

bool prk_pr_spc2_holder(const struct prk_pr_state *st, struct prk_nexus *out)
{
	if (!st->spc2)
		return false;
	if (out)
		*out = st->spc2_holder;
	return true;
}

bool prk_pr_lost(const struct prk_pr_state *st)
{
	return st->lost;
}
