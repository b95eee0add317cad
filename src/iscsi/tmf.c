/* Task management functions (RFC 7143 11.5, SAM-5 7): ABORT TASK, ABORT
 * TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, TARGET WARM RESET and
 * TARGET COLD RESET. Tasks still waiting for write data are dropped at
 * once; tasks inside the LU cannot be pulled back, so they are marked
 * aborted (their completion is swallowed) and the TMF response waits until
 * the LU has finished each of them: when the response goes out, none of
 * the aborted commands can still touch the medium. */
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

static void tmf_respond(struct prk_tmf *tmf)
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

/* Aborts task t of connection c on behalf of tmf. */
static void abort_task(struct prk_conn *c, struct prk_task *t, struct prk_tmf *tmf)
{
	t->aborted = true;
	if (t->state == TASK_IN_LU) {
		if (!t->tmf) {
			t->tmf = tmf;
			tmf->waiting++;
		}
		return;
	}
	prk_task_unlink(c, t);
	prk_task_free(t);
}

/* Aborts every task for lu (NULL: every LU of the session's target) on
 * connection c. */
static void abort_matching(struct prk_conn *c, struct prk_lu *lu, struct prk_tmf *tmf)
{
	for (struct prk_task *t = c->tasks; t;) {
		struct prk_task *next = t->next;
		if (!lu || t->lu == lu)
			abort_task(c, t, tmf);
		t = next;
	}
}

/* Every connection whose session sees lu (or, with lu NULL, target tgt). */
static void abort_everywhere(struct prk_iscsi_server *s, struct prk_iscsi_target *tgt,
                             struct prk_lu *lu, struct prk_tmf *tmf)
{
	for (struct prk_conn *c = s->conns; c; c = c->next)
		if (c->sess && c->sess->tgt == tgt)
			abort_matching(c, lu, tmf);
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
	struct prk_tmf *tmf = calloc(1, sizeof(*tmf));
	if (!tmf) {
		prk_conn_reject(c, bhs, PRK_REJECT_OUT_OF_RESOURCES);
		return;
	}
	tmf->conn = c;
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
	switch (req.function) {
	case PRK_TMF_ABORT_TASK: {
		struct prk_task *t;
		for (t = c->tasks; t; t = t->next)
			if (t->itt == req.rtt)
				break;
		if (t) {
			abort_task(c, t, tmf);
		} else {
			/* RFC 7143 11.5.1: a task that is not found but whose
			 * RefCmdSN lies in the window (not received yet) counts as
			 * received and aborted; one outside it (it completed
			 * long ago, or never was) "does not exist". */
			uint32_t max = ss->maxcmdsn;
			bool in_window = !prk_sn_lt(req.refcmdsn, ss->expcmdsn) &&
			                 !prk_sn_lt(max, req.refcmdsn) &&
			                 prk_sn_lt(req.refcmdsn, req.cmdsn);
			if (!in_window)
				tmf->response = TMF_NO_TASK;
		}
		break;
	}
	case PRK_TMF_ABORT_TASK_SET:
		abort_matching(c, lu, tmf);
		break;
	case PRK_TMF_CLEAR_TASK_SET:
		/* Every I_T nexus's tasks on this LU (QERR/TAS: the others are
		 * told through the LU's unit attentions). */
		abort_everywhere(c->srv, ss->tgt, lu, tmf);
		break;
	case PRK_TMF_LU_RESET:
		abort_everywhere(c->srv, ss->tgt, lu, tmf);
		tmf->reset_lu = lu;
		break;
	case PRK_TMF_TARGET_WARM_RESET:
	case PRK_TMF_TARGET_COLD_RESET:
		abort_everywhere(c->srv, ss->tgt, NULL, tmf);
		tmf->reset_target = ss->tgt;
		tmf->drop_after = req.function == PRK_TMF_TARGET_COLD_RESET;
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
		/* Cannot track the tasks: wait for the whole LU to drain instead
		 * would need the same memory; refuse loudly by completing late
		 * is not possible either, so complete now and log it. */
		prk_err("PREEMPT AND ABORT: out of memory; tasks were not aborted");
		done(arg);
		return;
	}
	b->on_done = done;
	b->on_done_arg = arg;
	b->waiting = 1; /* held while walking the connections */
	bool tas = prk_lu_tas(lu);
	for (struct prk_conn *c = s->conns; c; c = c->next) {
		struct prk_session *ss = c->sess;
		if (!ss || c->state != CONN_FFP)
			continue;
		bool hit = false;
		for (size_t i = 0; i < n && !hit; i++)
			hit = prk_nexus_set_contains(&sets[i], &ss->nexus);
		if (!hit)
			continue;
		bool cleared = false;
		for (struct prk_task *t = c->tasks; t;) {
			struct prk_task *next = t->next;
			if (t->lu == lu && &t->cmd != except) {
				cleared = true;
				if (t->state == TASK_IN_LU) {
					t->aborted = true;
					t->report_aborted = tas;
					if (!t->tmf) {
						t->tmf = b;
						b->waiting++;
					}
				} else {
					if (tas)
						prk_task_send_aborted(c, t);
					prk_task_unlink(c, t);
					prk_task_free(t);
				}
			}
			t = next;
		}
		if (cleared && !tas) {
			struct prk_nexus_set one = {.nx = ss->nexus};
			prk_lu_queue_ua(lu, &one, NULL,
			                PRK_ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
		}
		if (cleared)
			prk_info(
			    "PREEMPT AND ABORT: aborting the tasks of %s isid 0x%012llx on rtpi %u",
			    ss->params.initiator_name, (unsigned long long)ss->isid,
			    ss->nexus.rtpi);
	}
	prk_tmf_task_done(b);
}
