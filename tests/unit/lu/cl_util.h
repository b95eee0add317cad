/* Helpers of the LU's cluster-mode tests (test_cluster_*.c): commands
 * that a hook may hold (completed later), and unit attention draining.
 * Include the cmocka headers and lu_test_util.h before this one. */
#ifndef PRKIT_TESTS_LU_CL_UTIL_H
#define PRKIT_TESTS_LU_CL_UTIL_H

#include <stdlib.h>
#include <string.h>

/* A command submitted by hand, so that its completion can come later. */
struct cl_cmd {
	struct prk_lu_cmd cmd;
	uint8_t params[64];
	unsigned done;
};

static inline void cl_on_done(struct prk_lu_cmd *cmd)
{
	struct cl_cmd *p = cmd->priv;
	p->done++;
	free(cmd->data_in);
	cmd->data_in = NULL;
}

static inline void cl_submit(struct lt_ctx *t, struct cl_cmd *p, const struct prk_nexus *nx,
                             const uint8_t *cdb, size_t cdb_len, const void *data, uint32_t len,
                             uint32_t edtl)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->cmd.cdb, cdb, cdb_len);
	if (len)
		memcpy(p->params, data, len);
	p->cmd.nx = nx;
	p->cmd.port = &t->port;
	p->cmd.cdb_len = 16;
	p->cmd.dir_write = len > 0;
	p->cmd.dir_read = !len && edtl;
	p->cmd.edtl = len ? len : edtl;
	p->cmd.data_out = len ? p->params : NULL;
	p->cmd.data_out_len = len;
	p->cmd.done = cl_on_done;
	p->cmd.priv = p;
	prk_lu_submit(t->lu, &p->cmd);
}

/* A PR OUT CDB + basic parameter list (24 bytes). */
static inline void cl_prout(uint8_t cdb[10], uint8_t params[24], uint8_t sa, uint8_t type,
                            uint64_t key, uint64_t sa_key, bool aptpl)
{
	struct prk_prout_cdb pc = {.sa = sa, .type = type, .param_len = 24};
	memset(cdb, 0, 10);
	prk_prout_cdb_encode(&pc, cdb);
	assert_int_equal(
	    prk_prout_params_encode_basic(key, sa_key, false, aptpl, NULL, 0, params, 24), 24);
}

/* The pending unit attentions of nx in delivery order, taken with TEST
 * UNIT READY until it passes. Returns how many (at most max). */
static inline size_t cl_drain(struct lt_ctx *t, const struct prk_nexus *nx, uint16_t *out,
                              size_t max)
{
	static const uint8_t tur[6];
	size_t n = 0;
	for (;;) {
		struct lt_res r = lt_run(t, nx, tur, 6, NULL, 0, 0);
		if (r.status == PRK_STATUS_GOOD) {
			lt_res_free(&r);
			return n;
		}
		assert_int_equal(r.status, PRK_STATUS_CHECK_CONDITION);
		assert_int_equal(r.sense.key, PRK_SK_UNIT_ATTENTION);
		assert_true(n < max);
		out[n++] = (uint16_t)(r.sense.asc << 8 | r.sense.ascq);
		lt_res_free(&r);
	}
}

#endif
