/* The LU's cluster-mode seams: PR OUT's raw bytes, RESERVE/RELEASE and
 * nexus loss / LU reset through hooks, the apply of a replicated event
 * with this node's share of its effects, PR IN held until stable, and the
 * serving gate. Each hook left NULL keeps today's behaviour (the other
 * LU tests run with none set). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "lu_test_util.h"
#include "cl_util.h"

#define KEY_A 0xaaaa0000000000a1ULL
#define KEY_B 0xbbbb0000000000b2ULL

/* Everything the hooks saw. */
struct rec {
	struct prk_lu_prout *prout;
	struct prk_lu_spc2_op *spc2;
	unsigned events;
	enum prk_lu_event_kind kind;
	const struct prk_nexus *ev_nx;
	unsigned persists;
	int persist_ret;
	struct prk_pr_state *persisted; /* the last record, decoded */
	unsigned aborts;
	const struct prk_lu_cmd *except;
	size_t n_sets;
	void (*abort_done)(void *);
	void *abort_arg;
	unsigned logs;
	uint8_t log_sa, log_status;
	unsigned prin_waits;
	bool prin_hold;
	struct prk_lu_cmd *held_prin;
	/* done of prk_lu_event_apply */
	unsigned dones;
	uint8_t status;
	bool persist_failed;
	size_t done_n_ua;
};

static void h_prout(void *ctx, struct prk_lu *lu, struct prk_lu_prout *op)
{
	(void)lu;
	((struct rec *)ctx)->prout = op;
}

static void h_spc2(void *ctx, struct prk_lu *lu, struct prk_lu_spc2_op *op)
{
	(void)lu;
	((struct rec *)ctx)->spc2 = op;
}

static void h_event(void *ctx, struct prk_lu *lu, enum prk_lu_event_kind kind,
                    const struct prk_nexus *nx)
{
	struct rec *r = ctx;
	(void)lu;
	r->events++;
	r->kind = kind;
	r->ev_nx = nx;
}

static int h_persist(void *ctx, struct prk_lu *lu, const uint8_t *rec, size_t len)
{
	struct rec *r = ctx;
	struct prk_field_err err;
	(void)lu;
	r->persists++;
	prk_pr_state_free(r->persisted);
	r->persisted = prk_pr_state_new(NULL);
	assert_int_equal(prk_pr_record_decode(r->persisted, rec, len, &err), 0);
	return r->persist_ret;
}

static void h_abort(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets, size_t n,
                    const struct prk_lu_cmd *except, void (*done)(void *arg), void *arg)
{
	struct rec *r = ctx;
	(void)lu;
	(void)sets;
	r->aborts++;
	r->n_sets = n;
	r->except = except;
	r->abort_done = done; /* held: the barrier drains later */
	r->abort_arg = arg;
}

static void h_log(void *ctx, struct prk_lu *lu, const struct prk_nexus *from, uint8_t sa,
                  uint8_t status, const char *why)
{
	struct rec *r = ctx;
	(void)lu;
	(void)from;
	(void)why;
	r->logs++;
	r->log_sa = sa;
	r->log_status = status;
}

static bool h_prin_wait(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct rec *r = ctx;
	(void)lu;
	r->prin_waits++;
	if (r->prin_hold)
		r->held_prin = cmd;
	return r->prin_hold;
}

static void on_applied(void *arg, struct prk_pr_result *res, bool persist_failed)
{
	struct rec *r = arg;
	r->dones++;
	r->status = res->status;
	r->persist_failed = persist_failed;
	r->done_n_ua = res->n_ua;
	prk_pr_result_free(res);
}

static struct prk_lu_pr_hooks cluster_hooks(struct rec *r)
{
	return (struct prk_lu_pr_hooks){.ctx = r,
	                                .prout = h_prout,
	                                .spc2 = h_spc2,
	                                .event = h_event,
	                                .persist = h_persist,
	                                .abort = h_abort,
	                                .prout_done = h_log,
	                                .prin_wait = h_prin_wait};
}

static int setup(void **state)
{
	return lt_setup(state);
}

static int teardown(void **state)
{
	return lt_teardown(state);
}

/* Applies a PR OUT as a replica would: the raw CDB and parameter list. */
static void apply_prout(struct lt_ctx *t, struct rec *r, const struct prk_nexus *from, uint8_t sa,
                        uint8_t type, uint64_t key, uint64_t sa_key, bool aptpl,
                        const struct prk_lu_cmd *own)
{
	uint8_t cdb[10], params[24];
	cl_prout(cdb, params, sa, type, key, sa_key, aptpl);
	struct prk_lu_event ev = {.kind = PRK_LU_EV_PROUT,
	                          .from = *from,
	                          .cdb = cdb,
	                          .cdb_len = 10,
	                          .params = params,
	                          .params_len = 24};
	prk_lu_event_apply(t->lu, &ev, own, on_applied, r);
}

/* ---- B1: PR OUT carries its raw bytes; prk_lu_prout_fail ---- */

static void test_prout_op_has_raw_params_and_fails(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t cdb[10], params[24];
	cl_prout(cdb, params, PRK_PROUT_REGISTER, 0, 0, KEY_A, false);
	struct cl_cmd c;
	cl_submit(t, &c, &t->a, cdb, 10, params, 24, 0);
	assert_non_null(r.prout);
	assert_int_equal(r.prout->params_len, 24);
	assert_memory_equal(r.prout->params, params, 24);
	assert_memory_equal(r.prout->cmd->cdb, cdb, 10);
	assert_int_equal(c.done, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);

	prk_lu_prout_fail(r.prout, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_CHECK_CONDITION);
	struct prk_sense s;
	assert_int_equal(prk_sense_decode(c.cmd.sense, c.cmd.sense_len, &s), 0);
	assert_int_equal(s.key, PRK_SK_NOT_READY);
	assert_int_equal(s.asc << 8 | s.ascq, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 0);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* In cluster mode even a PR OUT that would conflict with this replica's
 * SPC-2 reservation, or is malformed, goes to the hook: the cluster's
 * order decides, every replica decodes it when it applies it. */
static void test_prout_goes_to_the_hook_undecoded(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t cdb[10], params[24];
	cl_prout(cdb, params, PRK_PROUT_REGISTER, 0, 0, KEY_A, false);
	cdb[8] = 23; /* PARAMETER LIST LENGTH 23: malformed */
	struct cl_cmd c;
	cl_submit(t, &c, &t->a, cdb, 10, params, 23, 0);
	assert_non_null(r.prout);
	assert_int_equal(c.done, 0);
	assert_int_equal(r.prout->params_len, 23);
	prk_lu_prout_fail(r.prout, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(c.done, 1);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* ---- B2: RESERVE/RELEASE through the spc2 hook ---- */

static void test_spc2_hook_holds_and_completes(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t reserve6[6] = {PRK_OP_RESERVE6};
	struct cl_cmd c;
	cl_submit(t, &c, &t->a, reserve6, 6, NULL, 0, 0);
	assert_non_null(r.spc2);
	assert_ptr_equal(r.spc2->from, &t->a);
	assert_ptr_equal(r.spc2->cmd, &c.cmd);
	assert_int_equal(c.done, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);
	assert_false(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL)); /* not applied by the LU */

	/* The ordered apply, then completion with its result. */
	struct prk_lu_event ev = {
	    .kind = PRK_LU_EV_SPC2, .from = t->a, .cdb = reserve6, .cdb_len = 6};
	prk_lu_event_apply(t->lu, &ev, &c.cmd, on_applied, &r);
	assert_int_equal(r.dones, 1);
	assert_int_equal(r.status, PRK_STATUS_GOOD);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	res.status = r.status;
	prk_lu_spc2_complete(r.spc2, &res);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	assert_true(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL));

	/* And failing a held one. */
	r.spc2 = NULL;
	cl_submit(t, &c, &t->b, reserve6, 6, NULL, 0, 0);
	assert_non_null(r.spc2);
	prk_lu_spc2_fail(r.spc2, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_CHECK_CONDITION);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* ---- B3: nexus loss and LU reset through the event hook ---- */

static void test_event_hook_takes_nexus_loss_and_reset(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	uint8_t reserve6[6] = {PRK_OP_RESERVE6};
	struct lt_res x = lt_run(t, &t->a, reserve6, 6, NULL, 0, 0);
	lt_assert_good(&x);
	lt_res_free(&x);

	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	prk_lu_nexus_down(t->lu, &t->a);
	assert_int_equal(r.events, 1);
	assert_int_equal(r.kind, PRK_LU_EV_NEXUS_LOSS);
	assert_true(prk_nexus_eq(r.ev_nx, &t->a));
	assert_true(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL)); /* left to the apply */

	prk_lu_reset(t->lu);
	assert_int_equal(r.events, 2);
	assert_int_equal(r.kind, PRK_LU_EV_RESET);
	assert_null(r.ev_nx);
	assert_true(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL));
	uint16_t ua[8];
	assert_int_equal(cl_drain(t, &t->a, ua, 8), 0); /* no 29/03 before the apply */
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* ---- B4: the apply of replicated events ---- */

/* The same PR OUTs on two LUs, one through the local path and one through
 * prk_lu_event_apply: the same PR state and the same unit attentions, in
 * the same order, for every nexus; the sender skipped. */
static void test_apply_queues_uas_like_local_path(void **state)
{
	(void)state;
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = LT_BLOCKS};
	struct lt_ctx *loc = lt_new(&cfg), *rep = lt_new(&cfg);
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	h.abort = NULL; /* no barrier here: done at once */
	prk_lu_set_pr_hooks(rep->lu, &h);
	struct {
		int from;
		uint8_t sa, type;
		uint64_t key, sa_key;
	} steps[] = {
	    {0, PRK_PROUT_REGISTER, 0, 0, KEY_A},
	    {1, PRK_PROUT_REGISTER, 0, 0, KEY_B},
	    {0, PRK_PROUT_RESERVE, PRK_PR_WE_RO, KEY_A, 0},
	    {1, PRK_PROUT_PREEMPT, PRK_PR_EA, KEY_B, KEY_A},
	    {1, PRK_PROUT_RELEASE, PRK_PR_EA, KEY_B, 0},
	    {0, PRK_PROUT_REGISTER, 0, 0, KEY_A},
	    {0, PRK_PROUT_RESERVE, PRK_PR_WE_AR, KEY_A, 0},
	    {1, PRK_PROUT_CLEAR, 0, KEY_B, 0},
	};
	size_t total = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct prk_nexus *fl = steps[i].from ? &loc->b : &loc->a;
		const struct prk_nexus *fr = steps[i].from ? &rep->b : &rep->a;
		uint8_t cdb[10], params[24];
		cl_prout(cdb, params, steps[i].sa, steps[i].type, steps[i].key, steps[i].sa_key,
		         false);
		struct lt_res x = lt_out(loc, fl, cdb, 10, params, 24);
		unsigned before = r.dones;
		apply_prout(rep, &r, fr, steps[i].sa, steps[i].type, steps[i].key, steps[i].sa_key,
		            false, NULL);
		assert_int_equal(r.dones, before + 1);
		assert_int_equal(r.status, x.status);
		assert_int_equal(r.done_n_ua, 0); /* queued here, not left to the caller */
		assert_int_equal(r.logs, i + 1);
		assert_int_equal(r.log_sa, steps[i].sa);
		lt_res_free(&x);
		assert_true(prk_pr_state_equal(prk_lu_pr(loc->lu), prk_lu_pr(rep->lu)));
		/* The same conditions, in the same order, for every nexus
		 * (taken before the next step, which they would otherwise
		 * pre-empt on the local LU). */
		const struct prk_nexus *nl[] = {&loc->a, &loc->b}, *nr[] = {&rep->a, &rep->b};
		for (int k = 0; k < 2; k++) {
			uint16_t ul[16], ur[16];
			size_t n = cl_drain(loc, nl[k], ul, 16);
			assert_int_equal(cl_drain(rep, nr[k], ur, 16), n);
			assert_memory_equal(ul, ur, n * sizeof(ul[0]));
			total += n;
		}
	}
	assert_true(total >= 2); /* preempted, cleared: UAs were involved */
	prk_lu_set_pr_hooks(rep->lu, NULL);
	lt_free(loc);
	lt_free(rep);
}

/* PREEMPT AND ABORT: this node's barrier spares `own`, and done waits for
 * it; on other nodes own is NULL. */
static void test_apply_preempt_and_abort_runs_barrier(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	apply_prout(t, &r, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, false, NULL);
	apply_prout(t, &r, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B, false, NULL);
	apply_prout(t, &r, &t->a, PRK_PROUT_RESERVE, PRK_PR_WE, KEY_A, 0, false, NULL);
	assert_int_equal(r.dones, 3);
	assert_int_equal(r.aborts, 0);

	struct prk_lu_cmd own = {0};
	apply_prout(t, &r, &t->b, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA, KEY_B, KEY_A, false,
	            &own);
	assert_int_equal(r.aborts, 1);
	assert_ptr_equal(r.except, &own);
	assert_true(r.n_sets >= 1);
	assert_int_equal(r.dones, 3); /* not before the barrier drained */
	assert_true(prk_pr_is_holder(prk_lu_pr(t->lu), &t->b));
	r.abort_done(r.abort_arg);
	assert_int_equal(r.dones, 4);
	assert_int_equal(r.status, PRK_STATUS_GOOD);

	/* A remote event: nothing to spare. */
	apply_prout(t, &r, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, false, NULL);
	apply_prout(t, &r, &t->b, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA, KEY_B, KEY_A, false,
	            NULL);
	assert_int_equal(r.aborts, 2);
	assert_null(r.except);
	r.abort_done(r.abort_arg);
	assert_int_equal(r.dones, 6);
	/* A failed PREEMPT AND ABORT (key mismatch) runs no barrier. */
	apply_prout(t, &r, &t->b, PRK_PROUT_PREEMPT_AND_ABORT, PRK_PR_EA, KEY_A, KEY_B, false,
	            NULL);
	assert_int_equal(r.aborts, 2);
	assert_int_equal(r.dones, 7);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* The APTPL record is written on every replica; a failed write is
 * reported and NOT rolled back (the other replicas applied the event). */
static void test_apply_persist_failure_no_rollback(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	apply_prout(t, &r, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, true, NULL);
	assert_int_equal(r.persists, 1);
	assert_false(r.persist_failed);
	assert_true(prk_pr_state_equal(r.persisted, prk_lu_pr(t->lu)));

	r.persist_ret = -1;
	apply_prout(t, &r, &t->b, PRK_PROUT_REGISTER, 0, 0, KEY_B, true, NULL);
	assert_int_equal(r.persists, 2);
	assert_true(r.persist_failed);
	assert_int_equal(r.status, PRK_STATUS_GOOD);
	assert_true(prk_pr_find(prk_lu_pr(t->lu), &t->b) >= 0); /* kept */
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 2);

	/* Turning APTPL off is written too; after that nothing is. */
	r.persist_ret = 0;
	apply_prout(t, &r, &t->c, PRK_PROUT_REGISTER, 0, 0, 0x33, false, NULL);
	assert_int_equal(r.persists, 3);
	assert_false(r.persist_failed);
	apply_prout(t, &r, &t->c, PRK_PROUT_REGISTER, 0, 0x33, 0x34, false, NULL);
	assert_int_equal(r.status, PRK_STATUS_GOOD);
	assert_int_equal(r.persists, 3);
	prk_pr_state_free(r.persisted);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

static void test_apply_nexus_loss_releases_spc2(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t reserve6[6] = {PRK_OP_RESERVE6};
	struct prk_lu_event ev = {
	    .kind = PRK_LU_EV_SPC2, .from = t->a, .cdb = reserve6, .cdb_len = 6};
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	assert_int_equal(r.status, PRK_STATUS_GOOD);
	uint8_t w[16];
	lt_cdb16(w, PRK_OP_WRITE16, 0, 0, 1);
	uint8_t blk[512] = {0};
	struct lt_res x = lt_out(t, &t->b, w, 16, blk, 512);
	assert_int_equal(x.status, PRK_STATUS_RESERVATION_CONFLICT);
	lt_res_free(&x);

	/* Another nexus's loss changes nothing. */
	ev = (struct prk_lu_event){.kind = PRK_LU_EV_NEXUS_LOSS, .from = t->b};
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	assert_true(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL));
	ev.from = t->a;
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	assert_int_equal(r.dones, 3);
	assert_false(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL));
	x = lt_out(t, &t->b, w, 16, blk, 512);
	lt_assert_good(&x);
	lt_res_free(&x);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

static void test_apply_reset_queues_29_03(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t reserve6[6] = {PRK_OP_RESERVE6};
	struct prk_lu_event ev = {
	    .kind = PRK_LU_EV_SPC2, .from = t->b, .cdb = reserve6, .cdb_len = 6};
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	ev = (struct prk_lu_event){.kind = PRK_LU_EV_RESET};
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	assert_int_equal(r.dones, 2);
	assert_int_equal(r.status, PRK_STATUS_GOOD);
	assert_false(prk_pr_spc2_holder(prk_lu_pr(t->lu), NULL));
	uint16_t ua[8];
	assert_int_equal(cl_drain(t, &t->a, ua, 8), 1);
	assert_int_equal(ua[0], PRK_ASC_BUS_DEVICE_RESET);
	assert_int_equal(cl_drain(t, &t->b, ua, 8), 1);
	assert_int_equal(ua[0], PRK_ASC_BUS_DEVICE_RESET);

	/* An unknown kind is refused the same way on every replica. */
	ev.kind = (enum prk_lu_event_kind)99;
	prk_lu_event_apply(t->lu, &ev, NULL, on_applied, &r);
	assert_int_equal(r.status, PRK_STATUS_CHECK_CONDITION);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* ---- B6: PR IN held until stable ---- */

static uint8_t prin_data[64];
static uint32_t prin_len;

static void keep_data(struct prk_lu_cmd *cmd)
{
	prin_len = cmd->data_in_len;
	memcpy(prin_data, cmd->data_in, prin_len < 64 ? prin_len : 64);
	cl_on_done(cmd);
}

static void test_prin_wait_holds_then_answers_current_state(void **state)
{
	struct lt_ctx *t = *state;
	struct rec r = {0};
	struct prk_lu_pr_hooks h = cluster_hooks(&r);
	prk_lu_set_pr_hooks(t->lu, &h);
	uint8_t rk[10] = {PRK_OP_PR_IN, PRK_PRIN_READ_KEYS, 0, 0, 0, 0, 0, 0, 64, 0};
	struct cl_cmd c;
	r.prin_hold = true;
	cl_submit(t, &c, &t->a, rk, 10, NULL, 0, 64);
	assert_int_equal(r.prin_waits, 1);
	assert_ptr_equal(r.held_prin, &c.cmd);
	assert_int_equal(c.done, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);
	/* The state moves on meanwhile; the answer shows where it is then. */
	apply_prout(t, &r, &t->a, PRK_PROUT_REGISTER, 0, 0, KEY_A, false, NULL);
	c.cmd.done = keep_data; /* to look at the answer */
	struct prk_lu_cmd *cmd = &c.cmd;
	prk_lu_prin_resume(t->lu, cmd);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_GOOD);
	assert_int_equal(c.cmd.spdtl, 16); /* header + one key */
	assert_int_equal(prin_len, 16);
	assert_int_equal(lt_get64(prin_data + 8), KEY_A);
	assert_int_equal(prk_lu_inflight(t->lu), 0);

	/* Failing a held one. */
	cl_submit(t, &c, &t->a, rk, 10, NULL, 0, 64);
	prk_lu_cmd_fail(t->lu, r.held_prin, PRK_SK_NOT_READY,
	                PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_CHECK_CONDITION);
	assert_int_equal(prk_lu_inflight(t->lu), 0);

	/* Not held: answered at once. */
	r.prin_hold = false;
	cl_submit(t, &c, &t->a, rk, 10, NULL, 0, 64);
	assert_int_equal(r.prin_waits, 3);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.cmd.status, PRK_STATUS_GOOD);
	prk_lu_set_pr_hooks(t->lu, NULL);
}

/* ---- B7: the serving gate ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_gate(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t rd[16], wr[16], blk[512] = {0};
	lt_cdb16(rd, PRK_OP_READ16, 0, 0, 1);
	lt_cdb16(wr, PRK_OP_WRITE16, 0, 0, 1);
	uint8_t cdb[10], params[24];
	cl_prout(cdb, params, PRK_PROUT_REGISTER, 0, 0, KEY_A, false);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	uint8_t rs[6] = {PRK_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	uint8_t rtpg[12] = {
	    PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_TARGET_PGS, 0, 0, 0, 0, 0, 0, 1, 0};

	uint64_t expired = now_ns() - 1000000000u;
	prk_lu_set_gate(t->lu, &expired);
	struct lt_res x = lt_in(t, &t->a, rd, 16, 512);
	lt_assert_sense(&x, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	lt_res_free(&x);
	x = lt_out(t, &t->a, wr, 16, blk, 512);
	lt_assert_sense(&x, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	lt_res_free(&x);
	x = lt_out(t, &t->a, cdb, 10, params, 24);
	lt_assert_sense(&x, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	lt_res_free(&x);
	assert_int_equal(prk_pr_reg_count(prk_lu_pr(t->lu)), 0);
	x = lt_in(t, &t->a, inq, 6, 96);
	lt_assert_good(&x);
	lt_res_free(&x);
	x = lt_in(t, &t->a, rs, 6, 18);
	lt_assert_good(&x);
	lt_res_free(&x);
	x = lt_in(t, &t->a, rtpg, 12, 256);
	lt_assert_good(&x);
	lt_res_free(&x);

	/* The lease renewed: serving again, same gate pointer. */
	expired = now_ns() + 60ull * 1000000000u;
	x = lt_in(t, &t->a, rd, 16, 512);
	lt_assert_good(&x);
	lt_res_free(&x);
	x = lt_out(t, &t->a, cdb, 10, params, 24);
	lt_assert_good(&x);
	lt_res_free(&x);
	prk_lu_set_gate(t->lu, NULL);
	x = lt_out(t, &t->a, wr, 16, blk, 512);
	lt_assert_good(&x);
	lt_res_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_prout_op_has_raw_params_and_fails, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_prout_goes_to_the_hook_undecoded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spc2_hook_holds_and_completes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_hook_takes_nexus_loss_and_reset, setup,
	                                    teardown),
	    cmocka_unit_test(test_apply_queues_uas_like_local_path),
	    cmocka_unit_test_setup_teardown(test_apply_preempt_and_abort_runs_barrier, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_apply_persist_failure_no_rollback, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_apply_nexus_loss_releases_spc2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_reset_queues_29_03, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prin_wait_holds_then_answers_current_state, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
