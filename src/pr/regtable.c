/* The registration table: registrations in the order they were made, and
 * an open-addressing hash index so that "which registration covers this
 * I_T nexus" is O(1) whatever the number of registrations. The data path
 * asks that question on every command under a registrants-only reservation,
 * so it must never scan the list. */
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

/* splitmix64's finalizer: spreads the combined identity over all bits. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t id_hash(uint64_t name_hash, uint64_t isid, uint32_t rtpi)
{
	return mix(name_hash ^ mix(isid ^ ((uint64_t)rtpi << 48) ^ ((uint64_t)rtpi >> 16)));
}

static uint64_t reg_isid(const struct prk_reg *r)
{
	return r->any_isid ? PRK_ISID_ANY : r->nx.isid;
}

static uint32_t reg_rtpi(const struct prk_reg *r)
{
	return r->all_tg_pt ? PRK_RTPI_ANY : r->nx.rtpi;
}

static uint64_t reg_hash(const struct prk_reg *r)
{
	return id_hash(r->nx.name_hash, reg_isid(r), reg_rtpi(r));
}

/* Probe for the registration with exactly this identity. */
static long probe(const struct prk_pr_state *st, const struct prk_nexus *nx, uint64_t isid,
                  uint32_t rtpi)
{
	if (!st->index_cap)
		return -1;
	size_t mask = st->index_cap - 1;
	size_t i = id_hash(nx->name_hash, isid, rtpi) & mask;
	for (;;) {
		uint32_t slot = st->index[i];
		if (!slot)
			return -1;
		const struct prk_reg *r = &st->regs[slot - 1];
		if (r->nx.name_hash == nx->name_hash && reg_isid(r) == isid &&
		    reg_rtpi(r) == rtpi && strcmp(r->nx.name, nx->name) == 0)
			return (long)slot - 1;
		i = (i + 1) & mask;
	}
}

long prk_reg_find(const struct prk_pr_state *st, const struct prk_nexus *nx)
{
	long i = probe(st, nx, nx->isid, nx->rtpi);
	if (i >= 0)
		return i;
	if (st->n_all_tg_pt) {
		i = probe(st, nx, nx->isid, PRK_RTPI_ANY);
		if (i >= 0)
			return i;
	}
	if (st->n_any_isid) {
		i = probe(st, nx, PRK_ISID_ANY, nx->rtpi);
		if (i >= 0)
			return i;
		i = probe(st, nx, PRK_ISID_ANY, PRK_RTPI_ANY);
	}
	return i;
}

long prk_reg_find_identity(const struct prk_pr_state *st, const struct prk_reg *id)
{
	return probe(st, &id->nx, reg_isid(id), reg_rtpi(id));
}

static void index_insert(struct prk_pr_state *st, size_t reg_idx)
{
	size_t mask = st->index_cap - 1;
	size_t i = reg_hash(&st->regs[reg_idx]) & mask;
	while (st->index[i])
		i = (i + 1) & mask;
	st->index[i] = (uint32_t)reg_idx + 1;
}

static int index_resize(struct prk_pr_state *st, size_t want_regs)
{
	size_t cap = 16;
	while (cap < want_regs * 2)
		cap *= 2;
	if (cap <= st->index_cap)
		return 0; /* never shrink: a rebuild after removals cannot fail */
	uint32_t *idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return -1;
	free(st->index);
	st->index = idx;
	st->index_cap = cap;
	return 0;
}

int prk_reg_rebuild_index(struct prk_pr_state *st)
{
	if (index_resize(st, st->n_regs + 1))
		return -1;
	memset(st->index, 0, st->index_cap * sizeof(*st->index));
	st->n_all_tg_pt = st->n_any_isid = 0;
	for (size_t i = 0; i < st->n_regs; i++) {
		index_insert(st, i);
		st->n_all_tg_pt += st->regs[i].all_tg_pt;
		st->n_any_isid += st->regs[i].any_isid;
	}
	return 0;
}

int prk_reg_reserve(struct prk_pr_state *st, size_t extra)
{
	size_t need = st->n_regs + extra;
	if (need > st->cap_regs) {
		size_t cap = st->cap_regs ? st->cap_regs : 8;
		while (cap < need)
			cap *= 2;
		struct prk_reg *p = realloc(st->regs, cap * sizeof(*p));
		if (!p)
			return -1;
		st->regs = p;
		st->cap_regs = cap;
	}
	if (need * 2 > st->index_cap) {
		/* Grow the index now so that prk_reg_add cannot fail later. */
		size_t old_cap = st->index_cap;
		uint32_t *old = st->index;
		st->index = NULL;
		st->index_cap = 0;
		if (index_resize(st, need)) {
			st->index = old;
			st->index_cap = old_cap;
			return -1;
		}
		free(old);
		for (size_t i = 0; i < st->n_regs; i++)
			index_insert(st, i);
	}
	return 0;
}

long prk_reg_add(struct prk_pr_state *st, const struct prk_reg *r)
{
	if (prk_reg_reserve(st, 1))
		return -1;
	size_t i = st->n_regs++;
	st->regs[i] = *r;
	if (r->all_tg_pt)
		st->regs[i].nx.rtpi = 0;
	if (r->any_isid)
		st->regs[i].nx.isid = 0;
	index_insert(st, i);
	st->n_all_tg_pt += r->all_tg_pt;
	st->n_any_isid += r->any_isid;
	return (long)i;
}

int prk_reg_remove_marked(struct prk_pr_state *st, const bool *drop)
{
	size_t out = 0;
	long holder = -1;
	for (size_t i = 0; i < st->n_regs; i++) {
		if (drop[i])
			continue;
		if ((long)i == st->holder)
			holder = (long)out;
		st->regs[out++] = st->regs[i];
	}
	st->n_regs = out;
	if (st->resv && st->holder >= 0 && holder < 0) {
		/* The holder's registration went away: an implicit release. */
		st->resv = false;
	}
	st->holder = holder;
	if (st->resv && st->holder < 0 && !prk_pr_type_all_registrants(st->type))
		st->resv = false;
	if (st->resv && prk_pr_type_all_registrants(st->type) && st->n_regs == 0)
		st->resv = false; /* the last registrant of an AR reservation left */
	if (!st->resv)
		st->holder = -1;
	return prk_reg_rebuild_index(st);
}

void prk_reg_clear(struct prk_pr_state *st)
{
	st->n_regs = 0;
	st->resv = false;
	st->holder = -1;
	st->n_all_tg_pt = st->n_any_isid = 0;
	if (st->index)
		memset(st->index, 0, st->index_cap * sizeof(*st->index));
}

void prk_reg_to_set(const struct prk_reg *r, struct prk_nexus_set *out)
{
	memset(out, 0, sizeof(*out));
	out->nx = r->nx;
	out->any_isid = r->any_isid;
	out->any_port = r->all_tg_pt;
}

bool prk_reg_covers(const struct prk_reg *r, const struct prk_nexus *nx)
{
	struct prk_nexus_set s;
	prk_reg_to_set(r, &s);
	return prk_nexus_set_contains(&s, nx);
}

bool prk_reg_is_holder(const struct prk_pr_state *st, long idx)
{
	if (!st->resv || idx < 0)
		return false;
	if (prk_pr_type_all_registrants(st->type))
		return true;
	return idx == st->holder;
}
