/* What cluster mode needs of the LU beyond the hooks: applying a
 * replicated PR event on this replica (with this node's share of its
 * effects) and the serving gate of the self-fencing lease. Without a
 * cluster neither is used and the LU behaves as before. */
#include <stdlib.h>
#include <time.h>

#include "lu_internal.h"

/* An applied event waiting for PREEMPT AND ABORT's local barrier. */
struct apply_wait {
	struct prk_pr_result res;
	bool persist_failed;
	void (*done)(void *arg, struct prk_pr_result *res, bool persist_failed);
	void *arg;
};

static void barrier_done(void *arg)
{
	struct apply_wait *w = arg;
	w->done(w->arg, &w->res, w->persist_failed);
	prk_pr_result_free(&w->res); /* harmless when done already freed it */
	free(w);
}

/* The engine call of each kind; fills *res. */
static void engine_apply(struct prk_lu *lu, const struct prk_lu_event *ev,
                         struct prk_pr_result *res)
{
	static const uint8_t none[1];
	switch (ev->kind) {
	case PRK_LU_EV_PROUT:
		prk_pr_out(lu->pr, &ev->from, ev->cdb ? ev->cdb : none, ev->cdb ? ev->cdb_len : 0,
		           ev->params ? ev->params : none, ev->params ? ev->params_len : 0, res);
		if (lu->pr_hooks.prout_done)
			lu->pr_hooks.prout_done(lu->pr_hooks.ctx, lu, &ev->from,
			                        ev->cdb && ev->cdb_len > 1 ? ev->cdb[1] & 0x1f : 0,
			                        res->status, res->why);
		return;
	case PRK_LU_EV_SPC2:
		prk_pr_spc2(lu->pr, &ev->from, ev->cdb ? ev->cdb : none, ev->cdb ? ev->cdb_len : 0,
		            res);
		return;
	case PRK_LU_EV_NEXUS_LOSS:
		prk_pr_nexus_loss(lu->pr, &ev->from, res);
		return;
	case PRK_LU_EV_RESET:
		prk_pr_lu_reset(lu->pr, res);
		return;
	}
	/* Every replica refuses the same unknown kind the same way. */
	res->status = PRK_STATUS_CHECK_CONDITION;
	prk_sense_set(&res->sense, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_FIELD_IN_CDB);
	res->why = "unknown cluster event kind";
}

/* Writes the APTPL record when the engine asks. No rollback on failure:
 * every other replica has applied the event, and a state behind theirs
 * would be a divergence; the cluster decides what a failed write means. */
static bool persist_failed(struct prk_lu *lu, const struct prk_pr_result *res)
{
	if (res->status != PRK_STATUS_GOOD || !res->persist || !lu->pr_hooks.persist)
		return false;
	uint8_t *rec = NULL;
	size_t len = prk_pr_record_encode(lu->pr, &rec);
	int r = len ? lu->pr_hooks.persist(lu->pr_hooks.ctx, lu, rec, len) : -1;
	free(rec);
	return r != 0;
}

void prk_lu_event_apply(struct prk_lu *lu, const struct prk_lu_event *ev,
                        const struct prk_lu_cmd *own,
                        void (*done)(void *arg, struct prk_pr_result *res, bool persist_failed),
                        void *arg)
{
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	engine_apply(lu, ev, &res);
	/* This node's share of the unit attentions: every replica queues the
	 * same ones into the same table, and ua_consumed keeps them in step
	 * as they are reported. */
	for (size_t i = 0; i < res.n_ua; i++)
		prk_lu_queue_ua(lu, &res.ua[i].to, res.ua[i].skip_sender ? &ev->from : NULL,
		                res.ua[i].asc);
	res.n_ua = 0;
	bool pf = persist_failed(lu, &res);
	if (res.status == PRK_STATUS_GOOD && res.n_abort && lu->pr_hooks.abort) {
		struct apply_wait *w = malloc(sizeof(*w));
		if (w) {
			*w = (struct apply_wait){
			    .res = res, .persist_failed = pf, .done = done, .arg = arg};
			lu->pr_hooks.abort(lu->pr_hooks.ctx, lu, w->res.abort, w->res.n_abort, own,
			                   barrier_done, w);
			return;
		}
		/* No barrier without its bookkeeping: say so rather than claim
		 * GOOD; the cluster sees a status unlike the other replicas'. */
		prk_sense_set(&res.sense, PRK_SK_HARDWARE_ERROR, PRK_ASC_INTERNAL_TARGET_FAILURE);
		res.status = PRK_STATUS_CHECK_CONDITION;
		res.why = "out of memory for the PREEMPT AND ABORT barrier";
	}
	done(arg, &res, pf);
	prk_pr_result_free(&res);
}

/* ---- The serving gate ---- */

void prk_lu_set_gate(struct prk_lu *lu, const uint64_t *until_ns)
{
	lu->gate = until_ns;
}

/* The coarse clock costs a few nanoseconds (no system call): cheap enough
 * for every command, and its resolution (a few ms) is far below the lease
 * margins. */
bool prk_lu_gate_check(struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (now < *lu->gate || prk_lu_alua_allowed(cmd->cdb, false))
		return true;
	prk_lu_fail_asc(lu, cmd, PRK_SK_NOT_READY, PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE);
	return false;
}
