/* Internal shape of the PR engine's state, shared by the files of src/pr. */
#ifndef PRKIT_PR_INTERNAL_H
#define PRKIT_PR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/pr.h"

/* Wildcards inside a registration's identity. An ALL_TG_PT registration has
 * no target port; an any-ISID registration (from a format-00b TransportID)
 * has no ISID. */
#define PRK_RTPI_ANY 0x10000u
#define PRK_ISID_ANY UINT64_MAX

struct prk_reg {
	struct prk_nexus nx; /* isid/rtpi are meaningless under the wildcards */
	uint64_t key;
	bool all_tg_pt;
	bool any_isid;
};

struct prk_pr_state {
	uint32_t max_regs;
	uint16_t *rtpis;
	size_t n_rtpis;

	/* Registrations in the order they were made (READ KEYS order). */
	struct prk_reg *regs;
	size_t n_regs, cap_regs;

	/* Open-addressing hash index over regs: slot = reg index + 1, 0 = empty.
	 * index_cap is a power of two, at least twice n_regs. */
	uint32_t *index;
	size_t index_cap;
	/* How many wildcard registrations exist, so that lookups skip the
	 * wildcard probes when there are none (the common case). */
	uint32_t n_all_tg_pt, n_any_isid;

	uint32_t generation;
	bool aptpl;

	bool resv;
	uint8_t type, scope;
	long holder; /* index in regs of the holder's registration; -1 for AR */

	bool spc2;
	struct prk_nexus spc2_holder;

	bool lost;
};

/* regtable.c: the registration table and its O(1) index. */
long prk_reg_find(const struct prk_pr_state *st, const struct prk_nexus *nx);
/* Exact identity lookup (same wildcards). */
long prk_reg_find_identity(const struct prk_pr_state *st, const struct prk_reg *id);
/* Appends a registration; returns its index or -1 when out of memory. The
 * caller checked max_regs. */
long prk_reg_add(struct prk_pr_state *st, const struct prk_reg *r);
/* Removes every registration with drop[i] set, keeps order, fixes the
 * holder index (a removed holder ends a non-AR reservation) and rebuilds
 * the index. Returns 0, or -1 when out of memory (state unchanged). */
int prk_reg_remove_marked(struct prk_pr_state *st, const bool *drop);
int prk_reg_rebuild_index(struct prk_pr_state *st);
/* Ensure room for `extra` more registrations without failing later. */
int prk_reg_reserve(struct prk_pr_state *st, size_t extra);
void prk_reg_clear(struct prk_pr_state *st);
/* The set of nexuses a registration covers. */
void prk_reg_to_set(const struct prk_reg *r, struct prk_nexus_set *out);
bool prk_reg_covers(const struct prk_reg *r, const struct prk_nexus *nx);

/* result.c: effects. Both return -1 on allocation failure. */
int prk_res_ua(struct prk_pr_result *res, const struct prk_nexus_set *to, bool skip_sender,
               uint16_t asc);
int prk_res_abort(struct prk_pr_result *res, const struct prk_nexus_set *who);
/* Make room for n more UAs and n more aborts up front, so that a command
 * that has started changing state never fails for lack of memory. */
int prk_res_reserve(struct prk_pr_result *res, size_t n_ua, size_t n_abort);
void prk_res_good(struct prk_pr_result *res);
void prk_res_conflict(struct prk_pr_result *res, const char *why);
void prk_res_check(struct prk_pr_result *res, uint8_t key, uint16_t asc, const char *why);
void prk_res_field(struct prk_pr_result *res, const struct prk_field_err *e);
/* 24/00 or 26/00 at a field, built on the spot. */
void prk_res_bad_field(struct prk_pr_result *res, bool in_cdb, uint16_t byte, int8_t bit,
                       const char *field);

/* Is this registration (by index) a holder of the current reservation? */
bool prk_reg_is_holder(const struct prk_pr_state *st, long idx);

#endif
