/* Task management functions (RFC 7143 11.5, SAM-5 7): ABORT TASK, ABORT
 * TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, TARGET WARM RESET and
 * TARGET COLD RESET, and the PREEMPT AND ABORT barrier. Which tasks each
 * takes is decided here; the aborting itself (TAS, 2F/00, waiting for the
 * tasks inside the LU) is abort.c's, the same for all of them. A TMF is
 * answered, and a LU reset applied, only when every aborted task has left
 * the LU: none of them can touch the medium after the response. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "srv_internal.h"

enum {
	TMF_COMPLETE = 0,
	TMF_NO_TASK = 1,
	TMF_NO_LUN = 2,
	TMF_NOT_SUPPORTED = 5,
	TMF_REJECTED = 255,
};

static void tmf_respond_now(struct prk_tmf *tmf);

/* With several loops every barrier lives on loop 0, and its last task may
 * leave while the other loops run: their connections (tmf->conn) are
 * touched with the world stopped. */
static void tmf_respond(struct prk_tmf *tmf)
{
	struct prk_iscsi_server *s0 = tmf->srv0;
	prk_srv_world_stop(s0);
	tmf_respond_now(tmf);
	prk_srv_world_start(s0);
}

static void tmf_respond_now(struct prk_tmf *tmf)
{
	struct prk_conn *c = tmf->conn;
	if (c)
		for (struct prk_tmf **pp = &c->tmfs; *pp; pp = &(*pp)->next)
			if (*pp == tmf) {
				*pp = tmf->next;
				break;
			}
	if (tmf->reset_lu)
		prk_lu_reset(tmf->reset_lu);
	if (tmf->reset_target)
		for (size_t i = 0; i < tmf->reset_target->n_luns; i++)
			prk_lu_reset(tmf->reset_target->luns[i].lu);
	free(tmf->extra); /* every link was let go by its task */
	if (tmf->on_done) {
		tmf->on_done(tmf->on_done_arg);
	} else if (c) {
		struct prk_iscsi_tmf_rsp r = {.itt = tmf->itt, .response = tmf->response};
		prk_conn_fill_sn(c, &r.sn, true);
		uint8_t bhs[PRK_ISCSI_BHS_LEN];
		prk_iscsi_tmf_rsp_encode(&r, bhs);
		prk_conn_send(c, bhs, NULL, 0, NULL);
		if (tmf->drop_after)
			c->state = CONN_CLOSING;
	}
	free(tmf);
}

void prk_tmf_task_done(struct prk_tmf *tmf)
{
	if (--tmf->waiting == 0)
		tmf_respond(tmf);
}

bool prk_tmf_aborted_ahead(struct prk_session *ss, uint32_t cmdsn, uint32_t itt)
{
	for (unsigned i = 0; i < PRK_ABORTED_AHEAD; i++) {
		struct prk_aborted_ahead *e = &ss->ahead[i];
		if (e->used && !e->arrived && e->cmdsn == cmdsn && e->itt == itt) {
			e->arrived = true;
			return true;
		}
	}
	return false;
}

bool prk_tmf_aborted_ahead_data(const struct prk_session *ss, uint32_t itt)
{
	for (unsigned i = 0; i < PRK_ABORTED_AHEAD; i++)
		if (ss->ahead[i].used && ss->ahead[i].arrived && ss->ahead[i].itt == itt)
			return true;
	return false;
}

/* Out of memory for the links to tasks another abort holds: nothing was
 * aborted, and the initiator hears so ("Function rejected"), not a
 * "Function complete" that would not be true. */
static void abort_or_reject(struct prk_iscsi_server *s, const struct prk_abort *a,
                            struct prk_tmf *tmf)
{
	if (prk_abort_tasks(s, a, tmf) < 0) {
		prk_err("%s: out of memory: rejected, nothing aborted", a->what);
		tmf->response = TMF_REJECTED;
	}
}

void prk_tmf_request(struct prk_conn *c, const uint8_t *bhs)
{
	struct prk_iscsi_tmf_req req;
	uint8_t reason;
	if (prk_iscsi_tmf_req_decode(bhs, &req, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	struct prk_session *ss = c->sess;
	if (!req.h.immediate && prk_sn_lt(ss->expcmdsn, req.cmdsn + 1))
		ss->expcmdsn = req.cmdsn + 1;
	unsigned pending = 0;
	for (const struct prk_tmf *o = c->tmfs; o; o = o->next)
		pending++;
	if (pending >= PRK_TMF_PENDING_MAX) {
		/* One line, then one per 1024: a flood of TMFs is no flood of
		 * the log. */
		if (c->tmf_rejects++ % 1024 == 0)
			prk_warn("%s: TMF %u itt 0x%x: %u TMFs already wait for tasks: rejected "
			         "(%u so far)",
			         c->peer, req.function, req.h.itt, pending, c->tmf_rejects);
		struct prk_iscsi_tmf_rsp r = {.itt = req.h.itt, .response = TMF_REJECTED};
		prk_conn_fill_sn(c, &r.sn, true);
		uint8_t rsp[PRK_ISCSI_BHS_LEN];
		prk_iscsi_tmf_rsp_encode(&r, rsp);
		prk_conn_send(c, rsp, NULL, 0, NULL);
		return;
	}
	struct prk_tmf *tmf = calloc(1, sizeof(*tmf));
	if (!tmf) {
		prk_conn_reject(c, bhs, PRK_REJECT_OUT_OF_RESOURCES);
		return;
	}
	tmf->conn = c;
	tmf->srv0 = c->srv->main;
	tmf->next = c->tmfs;
	c->tmfs = tmf;
	tmf->itt = req.h.itt;
	tmf->function = req.function;
	tmf->response = TMF_COMPLETE;
	tmf->waiting = 1; /* held until this function has walked the tasks */
	uint16_t lun = 0xffff;
	struct prk_lu *lu = NULL;
	if (prk_iscsi_lun_decode(req.h.lun, &lun) == 0)
		lu = prk_srv_find_lu(ss->tgt, lun);
	bool lu_scoped = req.function == PRK_TMF_ABORT_TASK ||
	                 req.function == PRK_TMF_ABORT_TASK_SET ||
	                 req.function == PRK_TMF_CLEAR_TASK_SET || req.function == PRK_TMF_LU_RESET;
	prk_info("TMF %u from %s lun %u", req.function, ss->params.initiator_name, lun);
	if (lu_scoped && !lu) {
		tmf->response = TMF_NO_LUN;
		prk_tmf_task_done(tmf);
		return;
	}
	/* Every function goes through the one abort routine (abort.c): the
	 * requester's own tasks end silently, other nexuses' with TAS
	 * semantics. */
	struct prk_abort a = {.by = &ss->nexus, .lu = lu, .tgt = ss->tgt};
	switch (req.function) {
	case PRK_TMF_ABORT_TASK: {
		struct prk_task *t;
		for (t = c->tasks; t; t = t->next)
			if (t->itt == req.rtt)
				break;
		if (t) {
			a.what = "ABORT TASK";
			a.task = t;
			abort_or_reject(c->srv, &a, tmf);
		} else {
			/* RFC 7143 11.5.1: a task that is not found but whose
			 * RefCmdSN lies in the window (not received yet) counts as
			 * received and aborted; one outside it (it completed
			 * long ago, or never was) "does not exist". */
			uint32_t max = ss->maxcmdsn;
			bool in_window = !prk_sn_lt(req.refcmdsn, ss->expcmdsn) &&
			                 !prk_sn_lt(max, req.refcmdsn) &&
			                 prk_sn_lt(req.refcmdsn, req.cmdsn);
			if (!in_window) {
				tmf->response = TMF_NO_TASK;
			} else {
				/* ...so it must not run when it does arrive. */
				struct prk_aborted_ahead *e = &ss->ahead[ss->ahead_next];
				ss->ahead_next = (ss->ahead_next + 1) % PRK_ABORTED_AHEAD;
				*e = (struct prk_aborted_ahead){
				    .cmdsn = req.refcmdsn, .itt = req.rtt, .used = true};
			}
		}
		break;
	}
	case PRK_TMF_ABORT_TASK_SET:
		/* Only the requesting I_T nexus's tasks (SAM-5 7.2). */
		a.what = "ABORT TASK SET";
		a.own_only = true;
		abort_or_reject(c->srv, &a, tmf);
		break;
	case PRK_TMF_CLEAR_TASK_SET:
		/* Every I_T nexus's tasks on this LU (SAM-5 7.4). */
		a.what = "CLEAR TASK SET";
		abort_or_reject(c->srv, &a, tmf);
		break;
	case PRK_TMF_LU_RESET:
		/* As CLEAR TASK SET; then, once they have left the LU, the
		 * reset itself (29/03 to every nexus, SPC-2 release, mode
		 * defaults: prk_lu_reset in tmf_respond). */
		a.what = "LOGICAL UNIT RESET";
		abort_or_reject(c->srv, &a, tmf);
		if (tmf->response == TMF_COMPLETE) /* not when rejected */
			tmf->reset_lu = lu;
		break;
	case PRK_TMF_TARGET_WARM_RESET:
	case PRK_TMF_TARGET_COLD_RESET:
		a.what = "TARGET RESET";
		a.lu = NULL;
		abort_or_reject(c->srv, &a, tmf);
		if (tmf->response == TMF_COMPLETE) {
			tmf->reset_target = ss->tgt;
			tmf->drop_after = req.function == PRK_TMF_TARGET_COLD_RESET;
		}
		break;
	default:
		tmf->response = TMF_NOT_SUPPORTED;
		break;
	}
	prk_tmf_task_done(tmf);
}

void prk_iscsi_server_pr_abort(void *ctx, struct prk_lu *lu, const struct prk_nexus_set *sets,
                               size_t n, const struct prk_lu_cmd *except, void (*done)(void *arg),
                               void *arg)
{
	struct prk_iscsi_server *s = ctx;
	struct prk_tmf *b = calloc(1, sizeof(*b));
	if (!b) {
		/* Without the barrier the tasks cannot be tracked; complete now
		 * and say so loudly. */
		prk_err("PREEMPT AND ABORT: out of memory; tasks were not aborted");
		done(arg);
		return;
	}
	b->on_done = done;
	b->on_done_arg = arg;
	b->srv0 = s->main;
	b->waiting = 1; /* held while walking the connections */
	/* except is NULL on the cluster nodes that did not receive the PR
	 * OUT (lu.h, prk_lu_event_apply): no nexus of theirs sent it, so
	 * every task they abort was aborted by another I_T nexus (abort.c
	 * reads a NULL `by` that way). */
	struct prk_abort a = {.what = "PREEMPT AND ABORT",
	                      .by = except ? except->nx : NULL,
	                      .lu = lu,
	                      .sets = sets,
	                      .n_sets = n,
	                      .except = except};
	/* Several loops: why stopping them and walking their tasks from here
	 * is a sound barrier. This runs on loop 0, the only loop that calls
	 * into a LU, after the LU applied the PR OUT: from now on its access
	 * check refuses the preempted nexuses. Every command of theirs is then
	 * (a) still on its connection's loop (receiving data, or waiting for
	 * memory), (b) posted to loop 0 and not yet submitted, (c) in the LU,
	 * or (d) completed, its answer on its way back. The other loops wait in
	 * prk_srv_world_stop while abort.c walks every loop's connections and
	 * orphans: (a) is dropped there; (b) has not reached the LU and is
	 * left alone: loop 0 submits it after this, and the access check,
	 * which already refuses the preempted nexus, ends it with RESERVATION
	 * CONFLICT (the preemptor's own (b) commands are aborted, refused when
	 * loop 0 takes them); (c) is waited for, as with one loop; (d) cannot
	 * be seen here: loop 0 posted its answer before it posted the pause,
	 * so its loop has answered it before pausing (FIFO), and lu_done0
	 * keeps it out of scope anyway. A command that reaches loop 0 later
	 * meets the new PR state in the access check as well. So when the
	 * barrier's count reaches zero no command of a preempted nexus can
	 * still reach the medium. */
	prk_srv_world_stop(s);
	if (prk_abort_tasks(s, &a, b) < 0) {
		/* As above: the PR OUT goes on, and the log says the fence did
		 * not wait. */
		prk_err("PREEMPT AND ABORT: out of memory; tasks were not aborted");
	}
	prk_tmf_task_done(b);
	prk_srv_world_start(s);
}
