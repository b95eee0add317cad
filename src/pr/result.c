/* The result of a PR command: status, sense and effects. */
#include <stdlib.h>
#include <string.h>

#include "pr_internal.h"

void prk_pr_result_init(struct prk_pr_result *r)
{
	memset(r, 0, sizeof(*r));
}

void prk_pr_result_free(struct prk_pr_result *r)
{
	free(r->ua);
	free(r->abort);
	memset(r, 0, sizeof(*r));
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 4;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int prk_res_reserve(struct prk_pr_result *res, size_t n_ua, size_t n_abort)
{
	if (grow((void **)&res->ua, &res->cap_ua, res->n_ua + n_ua, sizeof(*res->ua)))
		return -1;
	return grow((void **)&res->abort, &res->cap_abort, res->n_abort + n_abort,
	            sizeof(*res->abort));
}

int prk_res_ua(struct prk_pr_result *res, const struct prk_nexus_set *to, bool skip_sender,
               uint16_t asc)
{
	if (grow((void **)&res->ua, &res->cap_ua, res->n_ua + 1, sizeof(*res->ua)))
		return -1;
	res->ua[res->n_ua++] = (struct prk_ua){.to = *to, .skip_sender = skip_sender, .asc = asc};
	return 0;
}

int prk_res_abort(struct prk_pr_result *res, const struct prk_nexus_set *who)
{
	if (grow((void **)&res->abort, &res->cap_abort, res->n_abort + 1, sizeof(*res->abort)))
		return -1;
	res->abort[res->n_abort++] = *who;
	return 0;
}

void prk_res_good(struct prk_pr_result *res)
{
	res->status = PRK_STATUS_GOOD;
	memset(&res->sense, 0, sizeof(res->sense));
}

void prk_res_conflict(struct prk_pr_result *res, const char *why)
{
	res->status = PRK_STATUS_RESERVATION_CONFLICT;
	memset(&res->sense, 0, sizeof(res->sense));
	res->why = why;
}

void prk_res_check(struct prk_pr_result *res, uint8_t key, uint16_t asc, const char *why)
{
	res->status = PRK_STATUS_CHECK_CONDITION;
	prk_sense_set(&res->sense, key, asc);
	res->why = why;
}

void prk_res_field(struct prk_pr_result *res, const struct prk_field_err *e)
{
	res->status = PRK_STATUS_CHECK_CONDITION;
	prk_sense_from_field_err(&res->sense, e);
	res->why = e->field;
}

void prk_res_bad_field(struct prk_pr_result *res, bool in_cdb, uint16_t byte, int8_t bit,
                       const char *field)
{
	struct prk_field_err e;
	prk_field_err_set(
	    &e, in_cdb, byte, bit,
	    in_cdb ? PRK_ASC_INVALID_FIELD_IN_CDB : PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, field);
	prk_res_field(res, &e);
}
