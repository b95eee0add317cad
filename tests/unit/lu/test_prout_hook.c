/* The PR OUT seam of the LU (struct prk_lu_pr_hooks.prout): a hook sees
 * each decoded PERSISTENT RESERVE OUT and may complete it later, as a
 * cluster layer will once the command has been ordered across nodes. The
 * default hook (the local engine) is covered by test_pr.c and the
 * integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

#define KEY_A 0xaaaa0000000000a1ULL
#define KEY_B 0xbbbb0000000000b2ULL

/* What the hook saw; it keeps the op instead of completing it. */
struct held {
	unsigned calls;
	struct prk_lu *lu;
	struct prk_lu_prout *op;
};

static void hold_hook(void *ctx, struct prk_lu *lu, struct prk_lu_prout *op)
{
	struct held *h = ctx;
	h->calls++;
	h->lu = lu;
	h->op = op;
}

/* A command submitted by hand, so that its completion can come later. */
struct pending {
	struct prk_lu_cmd cmd;
	uint8_t params[24];
	unsigned done;
};

static void on_done(struct prk_lu_cmd *cmd)
{
	struct pending *p = cmd->priv;
	p->done++;
}

static void submit_prout(struct lt_ctx *t, struct pending *p, const struct prk_nexus *nx,
                         uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key,
                         uint32_t param_len)
{
	struct prk_prout_cdb pc = {.sa = sa, .scope = 0, .type = type, .param_len = param_len};
	memset(p, 0, sizeof(*p));
	prk_prout_cdb_encode(&pc, p->cmd.cdb);
	assert_int_equal(
	    prk_prout_params_encode_basic(key, sa_key, false, false, NULL, 0, p->params, 24), 24);
	p->cmd.nx = nx;
	p->cmd.port = &t->port;
	p->cmd.cdb_len = 16;
	p->cmd.dir_write = true;
	p->cmd.edtl = 24;
	p->cmd.data_out = p->params;
	p->cmd.data_out_len = 24;
	p->cmd.done = on_done;
	p->cmd.priv = p;
	prk_lu_submit(t->lu, &p->cmd);
}

static void install(struct lt_ctx *t, struct held *h)
{
	struct prk_lu_pr_hooks hooks = {.ctx = h, .prout = hold_hook};
	memset(h, 0, sizeof(*h));
	prk_lu_set_pr_hooks(t->lu, &hooks);
}

/* Installs the holding hook and sends nexus a's REGISTER of KEY_A, which
 * the hook holds. */
static void held_register(struct lt_ctx *t, struct held *h, struct pending *p)
{
	install(t, h);
	submit_prout(t, p, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, 24);
	assert_int_equal(h->calls, 1);
	assert_int_equal(p->done, 0);
}

/* The hook gets the decoded command; nothing happens to the PR state and
 * the command stays open until the hook completes it, here through the
 * local engine. */
static void test_hook_sees_decoded_prout_and_completes_later(void **state)
{
	struct lt_ctx *t = *state;
	struct held h;
	struct pending p;
	held_register(t, &h, &p);
	assert_ptr_equal(h.lu, t->lu);
	assert_ptr_equal(h.op->from, &t->a);
	assert_ptr_equal(h.op->cmd, &p.cmd);
	assert_int_equal(h.op->req.cdb.sa, PRK_PROUT_REGISTER);
	assert_int_equal(h.op->req.cdb.param_len, 24);
	assert_int_equal(h.op->req.p.key, 0);
	assert_int_equal(h.op->req.p.sa_key, KEY_A);
	assert_false(h.op->req.p.spec_i_pt);
	/* Not applied, not completed. */
	assert_int_equal(prk_lu_inflight(t->lu), 1);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 0);

	/* Later: the ordered apply comes back. */
	prk_lu_prout_local(t->lu, h.op);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 1);
}

/* The hook may complete with a result of its own (a cluster refusing the
 * command, say): its status and unit attentions reach the command and
 * the nexuses, and the local state is untouched. */
static void test_hook_completes_with_its_own_result(void **state)
{
	struct lt_ctx *t = *state;
	struct held h;
	struct pending p;
	held_register(t, &h, &p);

	struct prk_pr_result res;
	prk_pr_result_init(&res);
	res.status = PRK_STATUS_RESERVATION_CONFLICT;
	/* The result owns its UA array (prk_pr_result_free frees it). */
	res.ua = calloc(1, sizeof(*res.ua));
	assert_non_null(res.ua);
	res.ua[0] = (struct prk_ua){
	    .to = {.everyone = true}, .skip_sender = true, .asc = PRK_ASC_RESERVATIONS_PREEMPTED};
	res.n_ua = res.cap_ua = 1;
	prk_lu_prout_complete(h.op, &res);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.cmd.status, PRK_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(p.cmd.sense_len, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 0);
	assert_int_equal(res.n_ua, 0); /* taken by the LU */

	/* The UA went to every nexus but the sender. */
	uint8_t tur[6] = {0};
	struct lt_res r = lt_run(t, &t->b, tur, 6, NULL, 0, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_RESERVATIONS_PREEMPTED);
	lt_res_free(&r);
	r = lt_run(t, &t->a, tur, 6, NULL, 0, 0);
	lt_assert_good(&r);
	lt_res_free(&r);
}

/* A PR OUT that does not decode never reaches the hook: the LU answers it
 * as before (PARAMETER LIST LENGTH ERROR for a list that is not 24 bytes). */
static void test_malformed_prout_skips_hook(void **state)
{
	struct lt_ctx *t = *state;
	struct held h;
	struct pending p;
	install(t, &h);
	submit_prout(t, &p, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, 20);
	assert_int_equal(h.calls, 0);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.cmd.status, PRK_STATUS_CHECK_CONDITION);
	struct prk_sense s;
	assert_int_equal(prk_sense_decode(p.cmd.sense, p.cmd.sense_len, &s), 0);
	assert_int_equal(s.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(s.asc << 8 | s.ascq, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
}

/* Two PR OUTs held at once complete in the order the hook chooses. */
static void test_two_held_complete_out_of_order(void **state)
{
	struct lt_ctx *t = *state;
	struct held h;
	struct pending pa, pb;
	install(t, &h);
	submit_prout(t, &pa, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, 24);
	struct prk_lu_prout *op_a = h.op;
	submit_prout(t, &pb, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B, 24);
	struct prk_lu_prout *op_b = h.op;
	assert_int_equal(h.calls, 2);
	assert_int_equal(prk_lu_inflight(t->lu), 2);
	prk_lu_prout_local(t->lu, op_b);
	assert_int_equal(pb.done, 1);
	assert_int_equal(pa.done, 0);
	prk_lu_prout_local(t->lu, op_a);
	assert_int_equal(pa.done, 1);
	assert_int_equal(pa.cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(pb.cmd.status, PRK_STATUS_GOOD);
	struct prk_pr_reg_info ri;
	prk_pr_reg_info(prk_lu_pr(t->lu), 0, &ri);
	assert_int_equal(ri.key, KEY_B);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hook_sees_decoded_prout_and_completes_later,
	                                    lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_hook_completes_with_its_own_result, lt_setup,
	                                    lt_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_prout_skips_hook, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_two_held_complete_out_of_order, lt_setup,
	                                    lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
