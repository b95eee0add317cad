/* Random histories that are linearizable by construction (lincheck.h,
 * "Generated histories"): the engine runs the commands one at a time, so
 * the run itself is a linearization; jitter only widens each interval
 * around its instant, and the instant stays inside it. */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "lincheck.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#define PRIN_ALLOC 8192

static uint64_t rnd(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static unsigned below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

static uint64_t key_of(const struct prk_pr_state *st, const struct prk_nexus *nx)
{
	long i = prk_pr_find(st, nx);
	struct prk_pr_reg_info ri;

	if (i < 0)
		return 0;
	prk_pr_reg_info(st, (size_t)i, &ri);
	return ri.key;
}

static uint64_t pool_key(unsigned init, unsigned j)
{
	return 0x1000ULL * (init + 1) + j + 1;
}

static const uint8_t types[] = {PRK_PR_WE,    PRK_PR_EA,    PRK_PR_WE_RO,
                                PRK_PR_EA_RO, PRK_PR_WE_AR, PRK_PR_EA_AR};

static void set_prout(struct prk_lin_op *op, uint8_t sa, uint8_t type, uint64_t key,
                      uint64_t sa_key, uint8_t *params)
{
	struct prk_prout_cdb c = {
	    .sa = sa, .scope = PRK_PR_SCOPE_LU, .type = type, .param_len = 24};

	op->kind = PRK_LIN_PROUT;
	op->cdb_len = prk_prout_cdb_encode(&c, op->cdb);
	op->params_len =
	    prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, params, 24);
	op->params = params;
}

/* Picks a command for initiator i that has a fair chance to succeed. */
static void pick(uint64_t *rs, const struct prk_pr_state *st, const struct prk_nexus *nxs,
                 unsigned n_init, unsigned i, struct prk_lin_op *op, uint8_t *params)
{
	uint64_t cur = key_of(st, &nxs[i]);
	uint64_t other = key_of(st, &nxs[below(rs, n_init)]);
	uint64_t any = pool_key(below(rs, n_init), below(rs, 2));
	uint8_t type = types[below(rs, 6)];
	uint8_t rtype, rscope;
	long holder;
	unsigned r = below(rs, 100);

	if (prk_pr_reservation(st, &rtype, &rscope, &holder) && below(rs, 2))
		type = rtype;
	if (r < 30) {
		static const uint8_t sas[] = {
		    PRK_PRIN_READ_KEYS, PRK_PRIN_READ_RESERVATION, PRK_PRIN_READ_FULL_STATUS,
		    PRK_PRIN_READ_KEYS, PRK_PRIN_READ_RESERVATION, PRK_PRIN_REPORT_CAPABILITIES};
		op->kind = PRK_LIN_PRIN;
		memset(op->cdb, 0, 10);
		op->cdb[0] = PRK_OP_PR_IN;
		op->cdb[1] = sas[below(rs, 6)];
		prk_put_be16(op->cdb + 7, PRIN_ALLOC);
		op->cdb_len = 10;
	} else if (r < 45) {
		uint64_t k = below(rs, 100) < 85 ? cur : any;
		uint64_t sk = below(rs, 5) == 0 ? 0 : pool_key(i, below(rs, 2));
		set_prout(op, PRK_PROUT_REGISTER, 0, k, sk, params);
	} else if (r < 50) {
		uint64_t sk = below(rs, 5) == 0 ? 0 : pool_key(i, below(rs, 2));
		set_prout(op, PRK_PROUT_REGISTER_AND_IGNORE, 0, 0, sk, params);
	} else if (r < 65) {
		set_prout(op, PRK_PROUT_RESERVE, type, below(rs, 10) ? cur : any, 0, params);
	} else if (r < 75) {
		set_prout(op, PRK_PROUT_RELEASE, type, cur, 0, params);
	} else if (r < 82) {
		set_prout(op, PRK_PROUT_PREEMPT, type, cur, other ? other : any, params);
	} else if (r < 86) {
		set_prout(op, PRK_PROUT_PREEMPT_AND_ABORT, type, cur, other ? other : any, params);
	} else if (r < 90) {
		set_prout(op, PRK_PROUT_CLEAR, 0, cur, 0, params);
	} else if (r < 96) {
		set_prout(op, PRK_PROUT_REGISTER, 0, cur, pool_key(i, below(rs, 2)), params);
	} else {
		op->kind = PRK_LIN_SPC2;
		memset(op->cdb, 0, 6);
		op->cdb[0] = r < 98 ? PRK_OP_RESERVE6 : PRK_OP_RELEASE6;
		op->cdb_len = 6;
	}
}

/* Runs op through the engine and records the answer in op. */
static void run(struct prk_pr_state *st, struct prk_lin_op *op, uint8_t *buf)
{
	struct prk_pr_result res;
	size_t n = 0;

	prk_pr_result_init(&res);
	if (op->kind == PRK_LIN_PROUT)
		prk_pr_out(st, &op->nx, op->cdb, op->cdb_len, op->params, op->params_len, &res);
	else if (op->kind == PRK_LIN_SPC2)
		prk_pr_spc2(st, &op->nx, op->cdb, op->cdb_len, &res);
	else
		n = prk_pr_in(st, &op->nx, op->cdb, op->cdb_len, buf, PRIN_ALLOC, &res);
	op->status = res.status;
	op->has_sense = res.status == PRK_STATUS_CHECK_CONDITION;
	op->sense_key = res.sense.key;
	op->asc = res.sense.asc;
	op->ascq = res.sense.ascq;
	if (op->kind == PRK_LIN_PRIN && res.status == PRK_STATUS_GOOD) {
		op->has_data = true;
		op->data = buf;
		op->data_len = n;
	}
	prk_pr_result_free(&res);
}

int prk_lin_gen_history(struct prk_lin_history *h, const struct prk_lin_gen *g)
{
	unsigned n_init = g->initiators ? g->initiators : 6;
	struct prk_nexus nxs[26];
	struct prk_pr_state *st = prk_pr_state_new(NULL);
	uint8_t *buf = malloc(PRIN_ALLOC);
	uint64_t rs = g->seed * 0x9e3779b97f4a7c15ULL + 1;
	int r = -1;

	if (n_init > 26 || !st || !buf)
		goto out;
	for (unsigned i = 0; i < n_init; i++) {
		char name[64];
		snprintf(name, sizeof(name), "iqn.2026-12.test.lincheck:init-%c", 'a' + i);
		prk_nexus_init(&nxs[i], name, 0x400000000000ULL + i, (uint16_t)(1 + i % 3));
	}
	for (size_t k = 0; k < g->n_ops; k++) {
		struct prk_lin_op op;
		uint8_t params[24];
		unsigned i = below(&rs, n_init);
		struct prk_nexus holder;
		int64_t t = g->jitter_ns + (int64_t)k * g->spacing_ns;

		memset(&op, 0, sizeof(op));
		op.id = h->n;
		snprintf(op.lu, sizeof(op.lu), "%s", g->lu ? g->lu : "lu0");
		op.nx = nxs[i];
		if (prk_pr_spc2_holder(st, &holder) && below(&rs, 4) == 0) {
			/* An SPC-2 reservation makes every other command conflict:
			 * keep it short, or the history says little. */
			op.nx = holder;
			op.kind = PRK_LIN_SPC2;
			op.cdb[0] = PRK_OP_RELEASE6;
			op.cdb_len = 6;
		} else {
			pick(&rs, st, nxs, n_init, i, &op, params);
		}
		op.invoke_ns =
		    t - (g->jitter_ns ? (int64_t)(rnd(&rs) % (uint64_t)g->jitter_ns) : 0);
		bool lost = below(&rs, 100) < g->unanswered_pct;
		if (lost) {
			/* No answer: it took effect in the run, or it did not. */
			if (below(&rs, 2))
				run(st, &op, buf);
			op.status = 0;
			op.has_sense = op.has_data = false;
			op.data = NULL;
			op.data_len = 0;
		} else {
			run(st, &op, buf);
			op.answered = true;
			op.return_ns =
			    t + (g->jitter_ns ? (int64_t)(rnd(&rs) % (uint64_t)g->jitter_ns) : 0);
		}
		if (prk_lin_history_add(h, &op) < 0)
			goto out;
	}
	r = 0;
out:
	prk_pr_state_free(st);
	free(buf);
	return r;
}

long prk_lin_gen_corrupt(struct prk_lin_history *h)
{
	for (size_t i = h->n * 2 / 3; i < h->n; i++) {
		struct prk_lin_op *op = &h->ops[i];
		if (op->kind == PRK_LIN_PRIN && op->answered && op->status == PRK_STATUS_GOOD &&
		    (op->cdb[1] & 0x1f) == PRK_PRIN_READ_KEYS && op->data_len >= 4) {
			prk_put_be32(op->data, 0xfffffff0u);
			return (long)i;
		}
	}
	return -1;
}
