/* The one routine that aborts tasks (SAM-5 5.6), for every cause: ABORT
 * TASK, ABORT TASK SET, CLEAR TASK SET, LOGICAL UNIT RESET, the target
 * resets, and PREEMPT AND ABORT. One routine, so that they cannot disagree
 * on who hears what:
 *
 *  - A task of the I_T nexus that caused the abort ends silently: that
 *    initiator learns of it from the TMF response (or the PR OUT status).
 *  - A task of another I_T nexus ends with TASK ABORTED status when the
 *    control mode page's TAS bit of its LU is 1; when TAS is 0 it ends
 *    silently, and that nexus gets a unit attention 2F/00 COMMANDS CLEARED
 *    BY ANOTHER INITIATOR on the LU (queued once: the UA table keeps no
 *    duplicates).
 *  - A task still waiting for write data is dropped at once. A task inside
 *    the LU cannot be pulled back: it is marked, its result is not sent
 *    (only TASK ABORTED, when due), and the barrier waits for it, so that
 *    the TMF response or the PR OUT status goes out only when none of the
 *    aborted commands can still touch the medium. Every barrier that takes
 *    a task waits for it, also one that comes while an earlier abort
 *    already does (a host's own ABORT TASK SET, then another's PREEMPT
 *    AND ABORT): the fence must not return before the victim's writes. */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "srv_internal.h"

/* The barrier b waits until t has left the LU, whatever other aborts
 * wait for it too. The first link is the task's own; a task already held
 * takes one of b's extra links, counted and allocated before the walk
 * (count_held), so this cannot fail. */
static void wait_for(struct prk_task *t, struct prk_tmf *b)
{
	struct prk_abort_wait *w;
	if (!t->waits) {
		w = &t->wait0;
		t->waits = w;
	} else {
		if (b->extra_used == b->n_extra) {
			/* count_held and the walk disagree: a bug, said loudly. */
			prk_err("abort: no link left for a task already held");
			return;
		}
		w = &b->extra[b->extra_used++];
		struct prk_abort_wait *last = t->waits;
		while (last->next)
			last = last->next;
		last->next = w; /* oldest first: answers go out in order */
	}
	w->barrier = b;
	w->next = NULL;
	b->waiting++;
}

void prk_abort_task_left(struct prk_task *t)
{
	struct prk_abort_wait *w = t->waits;
	t->waits = NULL;
	while (w) {
		/* w may live in its barrier's extra links, which the barrier
		 * frees when this was its last task: read it all first. */
		struct prk_abort_wait *next = w->next;
		struct prk_tmf *b = w->barrier;
		w->barrier = NULL;
		w->next = NULL;
		prk_tmf_task_done(b);
		w = next;
	}
}

/* Is t, a task of I_T nexus nx on target tgt, taken by a? */
static bool in_scope(const struct prk_abort *a, const struct prk_nexus *nx,
                     const struct prk_iscsi_target *tgt, const struct prk_task *t)
{
	/* With several loops: the LU completed it, its answer is on its way
	 * to its loop; it is no longer in the LU to be aborted. */
	if (t->lu_done0)
		return false;
	/* Several loops: posted to loop 0 and not taken yet. It has not
	 * reached the LU, so for another I_T nexus it is as if it arrived
	 * after this abort: loop 0 will submit it, and the LU checks it against
	 * the state the abort's cause left (a preempted nexus gets RESERVATION
	 * CONFLICT, never the medium), instead of leaving it unanswered. The
	 * nexus that asked for the abort received it before asking: for it
	 * the task is aborted as any other. */
	if (t->state == TASK_IN_LU && t->home && !t->in_lu0 && !t->fast &&
	    !(a->by && prk_nexus_eq(nx, a->by)))
		return false;
	if (a->task)
		return t == a->task;
	if (a->lu ? t->lu != a->lu : tgt != a->tgt)
		return false;
	if (a->except && &t->cmd == a->except)
		return false;
	if (a->own_only)
		return a->by && prk_nexus_eq(nx, a->by);
	if (a->sets) {
		for (size_t i = 0; i < a->n_sets; i++)
			if (prk_nexus_set_contains(&a->sets[i], nx))
				return true;
		return false;
	}
	return true;
}

/* Aborts t of connection c; true when a 2F/00 is owed to c's nexus. */
static bool abort_one(struct prk_conn *c, struct prk_task *t, bool other, struct prk_tmf *b)
{
	/* TAS is read now: a LOGICAL UNIT RESET puts the mode pages back to
	 * their defaults only after its tasks have left. */
	bool tas = other && t->lu && prk_lu_tas(t->lu);
	bool owe_ua = other && !tas && t->lu;
	t->aborted = true;
	if (t->state == TASK_IN_LU) {
		t->report_aborted = tas && c->state == CONN_FFP;
		t->cancel_owed = !t->cancelled;
		wait_for(t, b);
	} else {
		if (tas && c->state == CONN_FFP)
			prk_task_send_aborted(c, t);
		prk_task_unlink(c, t);
		prk_task_free(t);
	}
	return owe_ua;
}

/* Tasks whose connection has gone are still in the LU and can still
 * write (task.c keeps them on srv->orphans): the barrier waits for them
 * as for any other. Nobody is left to answer, so there is no TASK
 * ABORTED; and no 2F/00 either, as the I_T nexus it would be for is gone
 * (a new login starts with 29/00 POWER ON, RESET OR BUS DEVICE RESET
 * OCCURRED, which covers it). */
static unsigned abort_orphans(struct prk_iscsi_server *s, const struct prk_abort *a,
                              struct prk_tmf *b)
{
	unsigned n = 0;
	for (struct prk_task *t = s->orphans; t; t = t->next) {
		if (!in_scope(a, &t->orphan_nx, t->orphan_tgt, t))
			continue;
		t->aborted = true;
		t->report_aborted = false;
		t->cancel_owed = !t->cancelled;
		wait_for(t, b);
		n++;
	}
	if (n)
		prk_info("%s: %u task(s) of closed connections still in the LU: waiting for them",
		         a->what, n);
	return n;
}

static size_t count_held_one(struct prk_iscsi_server *s, const struct prk_abort *a);

/* How many tasks in scope and inside the LU an earlier abort already
 * holds: each needs one of b's extra links. With several loops, every
 * loop's (the caller stopped them: prk_srv_world_stop). */
static size_t count_held(struct prk_iscsi_server *s0, const struct prk_abort *a)
{
	size_t n = 0;
	for (unsigned i = 0; i < prk_srv_n_shards(s0); i++) {
		struct prk_iscsi_server *s = prk_srv_shard(s0, i);
		n += count_held_one(s, a);
	}
	return n;
}

static size_t count_held_one(struct prk_iscsi_server *s, const struct prk_abort *a)
{
	size_t n = 0;
	for (struct prk_conn *c = s->conns; c; c = c->next) {
		struct prk_session *ss = c->sess;
		if (!ss || !ss->tgt)
			continue;
		for (struct prk_task *t = c->tasks; t; t = t->next)
			if (t->state == TASK_IN_LU && t->waits &&
			    in_scope(a, &ss->nexus, ss->tgt, t))
				n++;
	}
	for (struct prk_task *t = s->orphans; t; t = t->next)
		if (t->waits && in_scope(a, &t->orphan_nx, t->orphan_tgt, t))
			n++;
	return n;
}

static unsigned abort_shard(struct prk_iscsi_server *s, const struct prk_abort *a,
                            struct prk_tmf *b);

int prk_abort_tasks(struct prk_iscsi_server *s0, const struct prk_abort *a, struct prk_tmf *b)
{
	s0 = s0->main;
	size_t held = count_held(s0, a);
	if (held) {
		b->extra = calloc(held, sizeof(*b->extra));
		if (!b->extra)
			return -1;
		b->n_extra = held;
		prk_info("%s: %zu task(s) an earlier abort already waits for: waiting for them too",
		         a->what, held);
	}
	unsigned total = 0;
	for (unsigned i = 0; i < prk_srv_n_shards(s0); i++)
		total += abort_shard(prk_srv_shard(s0, i), a, b);
	/* The barrier holds its own count while its caller runs: a task the
	 * LU completes at once cannot end it early. */
	for (unsigned i = 0; i < prk_srv_n_shards(s0); i++)
		prk_abort_cancel_owed(prk_srv_shard(s0, i));
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

/* One loop's connections and orphans. */
static unsigned abort_shard(struct prk_iscsi_server *s, const struct prk_abort *a,
                            struct prk_tmf *b)
{
	unsigned total = 0;
	for (struct prk_conn *c = s->conns; c; c = c->next) {
		struct prk_session *ss = c->sess;
		if (!ss || !ss->tgt)
			continue;
		bool other = !a->by || !prk_nexus_eq(&ss->nexus, a->by);
		unsigned n = 0;
		for (struct prk_task *t = c->tasks; t;) {
			struct prk_task *next = t->next;
			if (in_scope(a, &ss->nexus, ss->tgt, t)) {
				struct prk_lu *lu = t->lu;
				n++;
				if (abort_one(c, t, other, b)) {
					struct prk_nexus_set one = {.nx = ss->nexus};
					prk_lu_queue_ua(
					    lu, &one, NULL,
					    PRK_ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
				}
			}
			t = next;
		}
		if (n)
			prk_info("%s: %u task(s) of %s isid 0x%012llx on rtpi %u aborted%s",
			         a->what, n, ss->params.initiator_name,
			         (unsigned long long)ss->isid, ss->nexus.rtpi,
			         other ? " (another I_T nexus)" : "");
		total += n;
	}
	total += abort_orphans(s, a, b);
	return total;
}

/* The first task owed a cancel, or NULL. */
static struct prk_task *next_owed(struct prk_iscsi_server *s)
{
	for (struct prk_conn *c = s->conns; c; c = c->next)
		for (struct prk_task *t = c->tasks; t; t = t->next)
			if (t->cancel_owed)
				return t;
	for (struct prk_task *t = s->orphans; t; t = t->next)
		if (t->cancel_owed)
			return t;
	return NULL;
}

void prk_abort_cancel_owed(struct prk_iscsi_server *s)
{
	/* An EXTENDED COPY held by the LU's copy hook, and any command held in
	 * line for a drain of the LU's fast path, end early (lu.h,
	 * prk_lu_cancel); for any other command it costs two loads. A cancel may
	 * complete it (and free the task) at once, so the lists are walked
	 * again from the start after each: as many walks as copies. */
	struct prk_task *t;
	/* With several loops only loop 0 may call into a LU: another loop
	 * asks it to come and look (its connections paused meanwhile). */
	if (s->multi && !prk_srv_on_main(s)) {
		prk_srv_cancel_later(s);
		return;
	}
	while ((t = next_owed(s))) {
		t->cancel_owed = false;
		t->cancelled = true;
		/* Several loops: only what loop 0 has handed to the LU and not
		 * seen completed yet. */
		if (s->multi && !t->in_lu0)
			continue;
		/* Also any command a LU with a fast path still holds in line
		 * for its drain: it must not run its checks (and consume a
		 * unit attention) for an answer nobody sees. */
		if (t->lu)
			prk_lu_cancel(t->lu, &t->cmd);
	}
}

/* A silently aborted task has left the LU. Nothing answers it, so nothing
 * would carry the CmdSN window its slot frees: an initiator whose window
 * the aborted tasks had filled would wait for ever (RFC 7143 4.2.2.1). Once
 * the last such task of the connection is gone, a NOP-In that wants no
 * reply (ITT and TTT 0xffffffff) tells it the new MaxCmdSN. */
void prk_abort_silent_left(struct prk_conn *c)
{
	if (c->state != CONN_FFP)
		return;
	for (const struct prk_task *t = c->tasks; t; t = t->next)
		if (t->aborted && !t->report_aborted && t->state == TASK_IN_LU)
			return; /* one update, after the last of them */
	struct prk_iscsi_nop_in n = {.itt = PRK_ISCSI_RSVD_TAG, .ttt = PRK_ISCSI_RSVD_TAG};
	prk_conn_fill_sn(c, &n.sn, false);
	uint8_t bhs[PRK_ISCSI_BHS_LEN];
	prk_iscsi_nop_in_encode(&n, bhs);
	prk_conn_send(c, bhs, NULL, 0, NULL);
}
