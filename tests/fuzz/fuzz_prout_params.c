/* libFuzzer target: PR OUT parameter lists. data[0] selects the service
 * action (0..8), the rest is the list. A list that decodes is re-encoded
 * and must decode to the same values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define MAX_LIST 60000
#define MAX_TIDS (MAX_LIST / PRK_TID_MIN_LEN + 1)

static struct prk_tid tids[MAX_TIDS];
static uint8_t enc[MAX_LIST + PRK_TID_MAX_LEN];

static bool same_tid(const struct prk_tid *a, const struct prk_tid *b)
{
	return a->format == b->format && a->isid == b->isid && strcmp(a->name, b->name) == 0;
}

static void check_err(const struct prk_field_err *e, size_t len)
{
	CHECK(!e->in_cdb && e->field != NULL);
	if (e->asc == PRK_ASC_PARAMETER_LIST_LENGTH_ERROR) {
		CHECK(!e->has_ptr);
		return;
	}
	CHECK(e->asc == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST && e->has_ptr);
	CHECK(e->bit >= -1 && e->bit <= 7);
	CHECK(e->byte < (len > 28 ? len : 28));
}

static void round_trip_move(const struct prk_prout_params *p, size_t len)
{
	struct prk_prout_params q;
	struct prk_field_err err;
	size_t n = prk_prout_params_encode_move(p->key, p->sa_key, p->unreg, p->aptpl, p->rtpi,
	                                        &p->move_tid, enc, sizeof(enc));

	CHECK(n >= PRK_PROUT_MOVE_HDR_LEN + PRK_TID_MIN_LEN && n <= len);
	CHECK(prk_prout_params_decode(PRK_PROUT_REGISTER_AND_MOVE, enc, n, &q, &err) == 0);
	CHECK(q.key == p->key && q.sa_key == p->sa_key && q.unreg == p->unreg &&
	      q.aptpl == p->aptpl && q.rtpi == p->rtpi && same_tid(&q.move_tid, &p->move_tid));
}

static void round_trip_basic(uint8_t sa, const struct prk_prout_params *p, size_t len)
{
	struct prk_prout_params q;
	struct prk_field_err err;
	uint32_t pos = 0, n_tids = 0;
	size_t n;

	while (prk_tid_list_next(p, &pos, &tids[n_tids]) == 1) {
		n_tids++;
		CHECK(n_tids <= p->n_tids);
	}
	CHECK(n_tids == p->n_tids && pos == p->tid_list_len);
	CHECK(p->spec_i_pt || n_tids == 0);
	n = prk_prout_params_encode_basic(p->key, p->sa_key, p->all_tg_pt, p->aptpl, tids, n_tids,
	                                  enc, sizeof(enc));
	CHECK(n >= PRK_PROUT_BASIC_LEN && n <= len);
	CHECK(prk_prout_params_decode(sa, enc, n, &q, &err) == 0);
	CHECK(q.key == p->key && q.sa_key == p->sa_key && q.all_tg_pt == p->all_tg_pt &&
	      q.aptpl == p->aptpl && q.n_tids == n_tids && q.spec_i_pt == (n_tids > 0));
	pos = 0;
	for (uint32_t i = 0; i < n_tids; i++) {
		struct prk_tid t;

		CHECK(prk_tid_list_next(&q, &pos, &t) == 1);
		CHECK(same_tid(&t, &tids[i]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_prout_params p;
	struct prk_field_err err;
	uint8_t *list;
	size_t len;
	uint8_t sa;

	if (size < 1 || size - 1 > MAX_LIST)
		return 0;
	sa = data[0] % (PRK_PROUT_SA_MAX + 1);
	len = size - 1;
	/* Exact-size copy so that ASan catches a read past the list. */
	list = malloc(len ? len : 1);
	CHECK(list);
	if (len)
		memcpy(list, data + 1, len);
	if (prk_prout_params_decode(sa, list, len, &p, &err) == 0) {
		if (sa == PRK_PROUT_REGISTER_AND_MOVE)
			round_trip_move(&p, len);
		else
			round_trip_basic(sa, &p, len);
	} else {
		check_err(&err, len);
	}
	free(list);
	return 0;
}
