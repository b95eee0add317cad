/* Helpers for the checker's unit tests (lin_test_util.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "lin_test_util.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

struct prk_nexus lt_a, lt_b, lt_c;

void lt_init(void)
{
	assert_int_equal(prk_nexus_init(&lt_a, "iqn.2026-12.test:a", 0x400000000001ULL, 1), 0);
	assert_int_equal(prk_nexus_init(&lt_b, "iqn.2026-12.test:b", 0x400000000002ULL, 2), 0);
	assert_int_equal(prk_nexus_init(&lt_c, "iqn.2026-12.test:c", 0x400000000003ULL, 3), 0);
}

static void base(struct prk_lin_op *op, struct prk_lin_history *h, const struct prk_nexus *nx,
                 int64_t inv, int64_t ret)
{
	memset(op, 0, sizeof(*op));
	op->id = h->n + 1; /* ids count from 1, like lines */
	op->line = h->n + 1;
	strcpy(op->lu, "lu0");
	op->nx = *nx;
	op->invoke_ns = inv;
	op->answered = ret != LT_NONE;
	op->return_ns = ret;
}

size_t lt_out(struct prk_lin_history *h, const struct prk_nexus *nx, uint8_t sa, uint8_t type,
              uint64_t key, uint64_t sa_key, int64_t inv, int64_t ret, struct lt_ans a)
{
	struct prk_lin_op op;
	struct prk_prout_cdb c = {.sa = sa, .type = type, .param_len = 24};
	uint8_t params[24];

	base(&op, h, nx, inv, ret);
	op.kind = PRK_LIN_PROUT;
	op.cdb_len = prk_prout_cdb_encode(&c, op.cdb);
	op.params_len =
	    prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, params, 24);
	op.params = params;
	if (op.answered) {
		op.status = a.status;
		op.has_sense = a.status == PRK_STATUS_CHECK_CONDITION;
		op.sense_key = a.key;
		op.asc = a.asc;
		op.ascq = a.ascq;
	}
	assert_int_equal(prk_lin_history_add(h, &op), 0);
	return h->n - 1;
}

size_t lt_in(struct prk_lin_history *h, const struct prk_nexus *nx, uint8_t sa, int64_t inv,
             int64_t ret, const uint8_t *data, size_t len)
{
	struct prk_lin_op op;

	base(&op, h, nx, inv, ret);
	op.kind = PRK_LIN_PRIN;
	op.cdb[0] = PRK_OP_PR_IN;
	op.cdb[1] = sa;
	prk_put_be16(op.cdb + 7, 1024);
	op.cdb_len = 10;
	if (op.answered) {
		op.has_data = true;
		op.data = (uint8_t *)data;
		op.data_len = len;
	}
	assert_int_equal(prk_lin_history_add(h, &op), 0);
	return h->n - 1;
}

size_t lt_keys(struct prk_lin_history *h, const struct prk_nexus *nx, int64_t inv, int64_t ret,
               uint32_t gen, const uint64_t *keys, size_t n)
{
	uint8_t buf[256];
	size_t len = prk_prin_keys_encode(gen, keys, n, buf, sizeof(buf));

	assert_true(len <= sizeof(buf));
	return lt_in(h, nx, PRK_PRIN_READ_KEYS, inv, ret, buf, len);
}

struct prk_lin_op *lt_last(struct prk_lin_history *h)
{
	return &h->ops[h->n - 1];
}

struct prk_lin_verdict lt_check_at(const struct prk_lin_history *h, enum prk_lin_result want,
                                   const char *file, int line)
{
	struct prk_lin_verdict v;

	enum prk_lin_result r = prk_lin_check(h, NULL, &v);
	if (r != want)
		print_error("verdict %d, wanted %d: %s\n", r, want, v.explain);
	_assert_int_equal(r, want, file, line);
	_assert_int_equal(v.result, r, file, line);
	return v;
}
