/* One event loop per core (the configuration's "threads").
 *
 * Loop 0 is the caller's: the admin socket, the cluster, accepting, and
 * every LU with its backstores. Every call into a LU runs there except
 * READ and WRITE on the happy path, which run on the connection's own
 * loop behind the LU's gate (try_fast; src/lu/lu_fast.c), so the state
 * of the LUs, the PR engine and unit attentions is changed by loop 0
 * only and the PR access check takes no lock. The other loops are threads of
 * this file, each with its own struct prk_iscsi_server (a "shard": its
 * connections, orphans, task memory budget and housekeeping timer); a
 * connection, its session, tasks and transmit queue are touched by its
 * own loop only, except while that loop is paused (below).
 *
 *  - Accepting: loop 0 accepts and hands the socket to the loops in turn
 *    (round robin), counting it against max_login_connections at once; a
 *    loop that sees a login end tells loop 0 (login_left).
 *  - Commands (but fast READ/WRITE): a connection's loop does the iSCSI
 *    work and posts the complete task to loop 0 (t->msg), which submits it; the LU completes
 *    it on loop 0 (task_done0), which posts it back to its loop for the
 *    answer. cmd.nx and cmd.port point into the session's record
 *    (struct prk_srv_rec), kept alive by every task that holds it, so
 *    that a session closed on its loop frees nothing loop 0 reads.
 *  - Nexus up/down: posted to loop 0 by the session's loop, in FIFO order
 *    with its commands. Loop 0 keeps the records whose nexus is up; a new
 *    session with the same I_T nexus (a reinstatement from another loop)
 *    takes the old one's nexus down first, and loop 0 then refuses
 *    (completes unrun, silently) any command of the old record still on
 *    its way.
 *  - Aborts (PREEMPT AND ABORT, every TMF) and the admin socket's
 *    commands: loop 0 pauses the other loops (prk_srv_world_stop: each
 *    waits in a message handler, between events) and walks or changes
 *    their connections itself; every barrier lives on loop 0, so a task's
 *    leaving the LU is counted there. Pausing is for these rare events
 *    only: READ and WRITE never take a lock or pause anything.
 *
 * With one loop none of this runs: s->multi is NULL and every function
 * here is a direct call. */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "srv_internal.h"

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct pause_msg {
	struct prk_loop_msg m;
	struct prk_srv_multi *multi;
};

struct prk_srv_multi {
	unsigned n;
	struct prk_iscsi_server **shards; /* [0] is loop 0's */
	pthread_t *threads;
	unsigned n_threads; /* started */
	pthread_mutex_t sess_lock;
	/* Pausing the other loops. */
	pthread_mutex_t wmx;
	pthread_cond_t wcv;
	unsigned paused;         /* loops waiting in on_pause, under wmx */
	uint64_t gen, released;  /* under wmx */
	unsigned depth;          /* loop 0 only */
	uint64_t stops;          /* loop 0 only: pauses begun (the admin socket reports it) */
	struct pause_msg *pause; /* one per loop */
	/* loop 0 only */
	unsigned rr;
	struct prk_srv_rec *registry;
	bool workers_gone;
	/* Logins that ended on other loops, not yet counted off by loop 0. */
	atomic_uint login_left;
	struct prk_loop_msg login_left_msg;
	struct prk_iscsi_server *main;
};

static _Thread_local bool tl_worker; /* this thread runs a loop other than 0 */

bool prk_srv_on_main(const struct prk_iscsi_server *s)
{
	return !s->multi || !tl_worker;
}

unsigned prk_srv_n_shards(const struct prk_iscsi_server *s)
{
	return s->main->multi ? s->main->multi->n : 1;
}

struct prk_iscsi_server *prk_srv_shard(const struct prk_iscsi_server *s, unsigned i)
{
	return s->main->multi ? s->main->multi->shards[i] : s->main;
}

/* ---- the session table ---- */

void prk_srv_sess_lock(struct prk_iscsi_server *s)
{
	if (s->main->multi)
		pthread_mutex_lock(&s->main->multi->sess_lock);
}

void prk_srv_sess_unlock(struct prk_iscsi_server *s)
{
	if (s->main->multi)
		pthread_mutex_unlock(&s->main->multi->sess_lock);
}

/* ---- pausing the other loops ---- */

static void on_pause(struct prk_loop_msg *msg)
{
	struct prk_srv_multi *m = CONTAINER(msg, struct pause_msg, m)->multi;
	pthread_mutex_lock(&m->wmx);
	uint64_t g = m->gen;
	m->paused++;
	pthread_cond_broadcast(&m->wcv);
	while (m->released < g)
		pthread_cond_wait(&m->wcv, &m->wmx);
	pthread_mutex_unlock(&m->wmx);
}

void prk_srv_world_stop(struct prk_iscsi_server *s)
{
	struct prk_srv_multi *m = s ? s->main->multi : NULL;
	if (!m || m->workers_gone || m->depth++)
		return;
	m->stops++;
	pthread_mutex_lock(&m->wmx);
	m->gen++;
	m->paused = 0;
	pthread_mutex_unlock(&m->wmx);
	for (unsigned i = 1; i < m->n_threads + 1; i++)
		prk_loop_post(m->shards[i]->loop, &m->pause[i].m);
	pthread_mutex_lock(&m->wmx);
	while (m->paused < m->n_threads)
		pthread_cond_wait(&m->wcv, &m->wmx);
	pthread_mutex_unlock(&m->wmx);
}

void prk_srv_world_start(struct prk_iscsi_server *s)
{
	struct prk_srv_multi *m = s ? s->main->multi : NULL;
	if (!m || m->workers_gone || --m->depth)
		return;
	pthread_mutex_lock(&m->wmx);
	m->released = m->gen;
	pthread_cond_broadcast(&m->wcv);
	pthread_mutex_unlock(&m->wmx);
}

unsigned prk_iscsi_server_loops(const struct prk_iscsi_server *s)
{
	return prk_srv_n_shards(s);
}

struct prk_loop *prk_iscsi_server_loop(struct prk_iscsi_server *s, unsigned i)
{
	struct prk_iscsi_server *sh = i < prk_srv_n_shards(s) ? prk_srv_shard(s, i) : NULL;
	return sh ? sh->loop : NULL;
}

void prk_iscsi_server_pause(struct prk_iscsi_server *s)
{
	prk_srv_world_stop(s);
}

void prk_iscsi_server_resume(struct prk_iscsi_server *s)
{
	prk_srv_world_start(s);
}

uint64_t prk_iscsi_server_pauses(const struct prk_iscsi_server *s)
{
	const struct prk_srv_multi *m = s->main->multi;
	return m ? m->stops : 0;
}

/* ---- accepting ---- */

struct accept_msg {
	struct prk_loop_msg m;
	struct prk_iscsi_server *s;
	struct prk_portal *p;
	int fd;
	char peer[64];
};

static void on_accept(struct prk_loop_msg *msg)
{
	struct accept_msg *a = CONTAINER(msg, struct accept_msg, m);
	if (a->s->main->multi->workers_gone)
		close(a->fd);
	else if (prk_conn_accept_on(a->s, a->p, a->fd, a->peer))
		prk_srv_login_left(a->s);
	free(a);
}

void prk_srv_accept_spread(struct prk_portal *p, int fd, const char *peer)
{
	struct prk_iscsi_server *s0 = p->srv;
	struct prk_srv_multi *m = s0->multi;
	struct prk_iscsi_server *to = m->shards[m->rr++ % m->n];
	/* Counted now, on loop 0, so that the cap holds whatever loop the
	 * login runs on. */
	s0->n_login++;
	prk_srv_listen_update(s0);
	if (to == s0) {
		if (prk_conn_accept_on(s0, p, fd, peer))
			prk_srv_login_left(s0);
		return;
	}
	struct accept_msg *a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		prk_srv_login_left(s0);
		return;
	}
	a->m.fn = on_accept;
	a->s = to;
	a->p = p;
	a->fd = fd;
	snprintf(a->peer, sizeof(a->peer), "%s", peer);
	prk_loop_post(to->loop, &a->m);
}

static void on_login_left(struct prk_loop_msg *msg)
{
	struct prk_srv_multi *m = CONTAINER(msg, struct prk_srv_multi, login_left_msg);
	unsigned n = atomic_exchange(&m->login_left, 0);
	m->main->n_login -= n;
	prk_srv_listen_update(m->main);
}

void prk_srv_login_left(struct prk_iscsi_server *s)
{
	struct prk_srv_multi *m = s->main->multi;
	if (prk_srv_on_main(s)) {
		s->main->n_login--;
		prk_srv_listen_update(s->main);
		return;
	}
	/* One message however many logins end before loop 0 reads them: the
	 * node is posted only by the increment from 0. */
	if (atomic_fetch_add(&m->login_left, 1) == 0)
		prk_loop_post(m->main->loop, &m->login_left_msg);
}

/* ---- sessions: records, nexus up and down, reinstatement ---- */

int prk_srv_rec_new(struct prk_session *ss)
{
	if (!ss->srv->multi || !ss->tgt)
		return 0;
	struct prk_srv_rec *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->nx = ss->nexus;
	r->port = ss->port;
	r->tgt = ss->tgt;
	r->main = ss->srv->main;
	atomic_init(&r->refs, 1); /* the session's */
	atomic_init(&r->live, false);
	ss->rec = r;
	return 0;
}

void prk_srv_rec_put(struct prk_srv_rec *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

/* Loop 0: r's nexus is lost on every LU of its target. */
static void rec_down(struct prk_srv_rec *r)
{
	struct prk_iscsi_server *s0 = r->main;
	r->downed = true;
	atomic_store(&r->live, false);
	/* Nexus loss may release an SPC-2 reservation, which the other
	 * loops' fast paths read: they are paused for it. */
	prk_srv_world_stop(s0);
	for (size_t i = 0; i < r->tgt->n_luns; i++)
		prk_lu_nexus_down(r->tgt->luns[i].lu, &r->nx);
	prk_srv_world_start(s0);
	if (s0->opts.nexus_gone)
		s0->opts.nexus_gone(s0->opts.nexus_gone_ctx, &r->nx);
}

static void on_up(struct prk_loop_msg *msg)
{
	struct prk_srv_rec *r = CONTAINER(msg, struct prk_srv_rec, up_msg);
	struct prk_srv_multi *m = r->main->multi;
	/* The same I_T nexus still up: a reinstatement from another loop,
	 * whose close may not have reached us yet. SCSI's order is the old
	 * nexus's loss, then the new one; commands of the old record that
	 * are still on their way are refused from now on (downed). */
	for (struct prk_srv_rec *q = m->registry; q; q = q->next)
		if (!q->downed && prk_nexus_eq(&q->nx, &r->nx))
			rec_down(q);
	if (r->downed)
		return; /* closed before it came up */
	/* The other loops paused: a new record goes into the LU's UA table,
	 * which their fast paths look up (lu_fast.c). */
	prk_srv_world_stop(r->main);
	for (size_t i = 0; i < r->tgt->n_luns; i++)
		prk_lu_nexus_up(r->tgt->luns[i].lu, &r->nx);
	prk_srv_world_start(r->main);
	r->up = true;
	r->next = m->registry;
	m->registry = r;
	atomic_store(&r->live, true); /* after its unit attentions are queued */
}

static void on_down(struct prk_loop_msg *msg)
{
	struct prk_srv_rec *r = CONTAINER(msg, struct prk_srv_rec, down_msg);
	struct prk_srv_multi *m = r->main->multi;
	if (r->up) {
		if (!r->downed)
			rec_down(r);
		for (struct prk_srv_rec **pp = &m->registry; *pp; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
	}
	r->downed = true;
	atomic_store(&r->live, false);
	prk_srv_rec_put(r); /* the session's */
}

/* Posted, or run at once on loop 0 itself: loop 0's own commands are
 * direct calls, and must keep their order with these. */
static void to_main(struct prk_iscsi_server *s, struct prk_loop_msg *msg)
{
	if (prk_srv_on_main(s))
		msg->fn(msg);
	else
		prk_loop_post(s->main->loop, msg);
}

void prk_srv_nexus_up(struct prk_session *ss)
{
	if (!ss->rec)
		return;
	ss->rec->up_msg.fn = on_up;
	to_main(ss->srv, &ss->rec->up_msg);
}

void prk_srv_nexus_down(struct prk_session *ss)
{
	struct prk_srv_rec *r = ss->rec;
	if (!r)
		return;
	ss->rec = NULL; /* the session's reference goes with the message */
	r->down_msg.fn = on_down;
	to_main(ss->srv, &r->down_msg);
}

struct close_msg {
	struct prk_loop_msg m;
	struct prk_iscsi_server *s;
	uint64_t serial;
};

static void on_close(struct prk_loop_msg *msg)
{
	struct close_msg *x = CONTAINER(msg, struct close_msg, m);
	for (struct prk_conn *c = x->s->conns; c; c = c->next)
		if (c->sess && c->sess->serial == x->serial) {
			prk_conn_close(c, "session reinstated from another connection");
			break;
		}
	free(x);
}

void prk_srv_close_remote(struct prk_session *ss)
{
	struct prk_iscsi_server *m = ss->srv->main;
	/* Off the table now (the caller holds the lock): the new session takes
	 * its place, and its own loop will not unlink it again. */
	for (struct prk_session **pp = &m->sessions; *pp; pp = &(*pp)->next)
		if (*pp == ss) {
			*pp = ss->next;
			break;
		}
	m->n_sessions--;
	ss->unlinked = true;
	struct close_msg *x = calloc(1, sizeof(*x));
	if (!x) {
		/* The old connection stays until it closes by itself; its
		 * nexus is taken down by the new one's all the same. */
		prk_err("reinstatement: out of memory: the old connection is not closed");
		return;
	}
	x->m.fn = on_close;
	x->s = ss->srv;
	x->serial = ss->serial;
	prk_loop_post(ss->srv->loop, &x->m);
}

/* ---- commands ---- */

static void on_done_home(struct prk_loop_msg *msg)
{
	struct prk_task *t = CONTAINER(msg, struct prk_task, msg);
	if (t->refused0)
		t->aborted = true;
	prk_task_answer(t);
}

/* cmd->done with several loops: on loop 0. Barriers are loop 0's, so the
 * task's leaving the LU is counted here; the answer is its own loop's. */
static void task_done0(struct prk_lu_cmd *cmd)
{
	struct prk_task *t = cmd->priv;
	t->in_lu0 = false;
	t->lu_done0 = true;
	prk_abort_task_left(t);
	if (!t->home) { /* loop 0's own task, or the loops are gone */
		if (t->refused0)
			t->aborted = true;
		prk_task_answer(t);
		return;
	}
	t->msg.fn = on_done_home;
	prk_loop_post(t->home, &t->msg);
}

/* Loop 0 takes a task. Refused unrun: one an abort took while it was on
 * its way (the barrier waits for it), one of a session whose nexus was
 * taken down meanwhile (reinstated), or any at shutdown. */
static void run_submit(struct prk_task *t, bool shutdown)
{
	if (shutdown || t->aborted || (t->rec && t->rec->downed)) {
		/* Its own loop may be reading t->aborted (abort.c's silent
		 * window update): this loop's own flag, and the home loop
		 * turns it into a silent abort. */
		t->refused0 = true;
		task_done0(&t->cmd);
		return;
	}
	t->in_lu0 = true;
	prk_lu_submit(t->lu, &t->cmd);
}

static void on_submit(struct prk_loop_msg *msg)
{
	struct prk_task *t = CONTAINER(msg, struct prk_task, msg);
	run_submit(t, !t->home);
}

/* On the task's own loop: the fast path ended it (its I/O is over). An
 * abort that took it meanwhile waits for it on loop 0, where barriers
 * live: the task goes there to be counted, as a loop-0 task would. */
static void on_fast_left(struct prk_loop_msg *msg)
{
	struct prk_task *t = CONTAINER(msg, struct prk_task, msg);
	task_done0(&t->cmd);
}

static void task_done_fast(struct prk_lu_cmd *cmd)
{
	struct prk_task *t = cmd->priv;
	t->fast = false;
	if (t->waits && t->home) {
		t->msg.fn = on_fast_left;
		prk_loop_post(t->srv ? t->srv->main->loop : t->home, &t->msg);
		return;
	}
	prk_task_answer(t);
}

/* READ/WRITE on this loop when the LU allows (lu_fast.c): a session whose
 * nexus loop 0 has brought up, on a loop other than 0. */
static bool try_fast(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	if (s->idx == 0 || !t->rec || !atomic_load(&t->rec->live))
		return false;
	t->cmd.done = task_done_fast;
	t->home = s->loop;
	t->fast = true;
	if (prk_lu_submit_fast(t->lu, &t->cmd, s->idx))
		return true; /* t may be gone already (a RAM LU completes inline) */
	t->fast = false;
	return false;
}

void prk_srv_submit(struct prk_task *t)
{
	struct prk_iscsi_server *s = t->srv;
	if (!s->multi) {
		prk_lu_submit(t->lu, &t->cmd);
		return;
	}
	struct prk_session *ss = t->conn->sess;
	if (ss->rec && !t->rec) {
		t->rec = ss->rec;
		atomic_fetch_add(&t->rec->refs, 1);
		t->cmd.nx = &t->rec->nx;
		t->cmd.port = &t->rec->port;
	}
	if (try_fast(t))
		return;
	t->cmd.done = task_done0;
	if (s->idx == 0) {
		t->home = NULL;
		run_submit(t, false);
		return;
	}
	t->home = s->loop;
	t->msg.fn = on_submit;
	prk_loop_post(s->main->loop, &t->msg);
}

/* ---- cancels owed by another loop's lost connections ---- */

static void on_cancel(struct prk_loop_msg *msg)
{
	struct prk_iscsi_server *s = CONTAINER(msg, struct prk_iscsi_server, cancel_msg);
	struct prk_iscsi_server *s0 = s->main;
	atomic_store(&s->cancel_posted, false); /* owed later: posted again */
	if (s0->multi->workers_gone)
		return;
	prk_srv_world_stop(s0);
	prk_abort_cancel_owed(s);
	prk_srv_world_start(s0);
}

void prk_srv_cancel_later(struct prk_iscsi_server *s)
{
	if (atomic_exchange(&s->cancel_posted, true))
		return; /* loop 0 has not run the last one yet: it will see these */
	s->cancel_msg.fn = on_cancel;
	prk_loop_post(s->main->loop, &s->cancel_msg);
}

/* ---- task management ---- */

struct tmf_msg {
	struct prk_loop_msg m;
	struct prk_iscsi_server *s;
	uint64_t serial;
	uint8_t bhs[PRK_ISCSI_BHS_LEN];
};

static void on_tmf(struct prk_loop_msg *msg)
{
	struct tmf_msg *x = CONTAINER(msg, struct tmf_msg, m);
	struct prk_iscsi_server *s0 = x->s->main;
	prk_srv_world_stop(s0);
	for (struct prk_conn *c = x->s->conns; c; c = c->next)
		if (c->serial == x->serial) {
			if (c->state == CONN_FFP)
				prk_tmf_request(c, x->bhs);
			break;
		}
	prk_srv_world_start(s0);
	free(x);
}

void prk_srv_tmf(struct prk_conn *c, const uint8_t *bhs)
{
	struct prk_iscsi_server *s = c->srv;
	if (!s->multi) {
		prk_tmf_request(c, bhs);
		return;
	}
	if (s->idx == 0) {
		prk_srv_world_stop(s);
		prk_tmf_request(c, bhs);
		prk_srv_world_start(s);
		return;
	}
	struct tmf_msg *x = calloc(1, sizeof(*x));
	if (!x) {
		prk_conn_reject(c, bhs, PRK_REJECT_OUT_OF_RESOURCES);
		return;
	}
	x->m.fn = on_tmf;
	x->s = s;
	x->serial = c->serial;
	memcpy(x->bhs, bhs, PRK_ISCSI_BHS_LEN);
	prk_loop_post(s->main->loop, &x->m);
}

/* ---- the loops' threads ---- */

static void *loop_thread(void *arg)
{
	struct prk_iscsi_server *s = arg;
	tl_worker = true;
	if (prk_loop_run(s->loop))
		prk_err("event loop %u: epoll failed", s->idx);
	return NULL;
}

static void shard_free(struct prk_iscsi_server *s)
{
	prk_loop_after_batch_del(s->loop, prk_conns_flush, s);
	prk_loop_del(s->loop, s->timer);
	prk_loop_del(s->loop, s->accept_timer);
	prk_loop_free(s->loop);
	free(s);
}

int prk_srv_loops_start(struct prk_iscsi_server *s0, unsigned n)
{
	struct prk_srv_multi *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->n = n;
	m->main = s0;
	m->shards = calloc(n, sizeof(*m->shards));
	m->threads = calloc(n, sizeof(*m->threads));
	m->pause = calloc(n, sizeof(*m->pause));
	pthread_mutex_init(&m->sess_lock, NULL);
	pthread_mutex_init(&m->wmx, NULL);
	pthread_cond_init(&m->wcv, NULL);
	atomic_init(&m->login_left, 0);
	m->login_left_msg.fn = on_login_left;
	s0->multi = m;
	if (!m->shards || !m->threads || !m->pause)
		return -1;
	m->shards[0] = s0;
	/* Each loop owns an even share of the task memory budget: no atomics
	 * on the I/O path, and one loop's back-pressure is its own. */
	size_t share = s0->opts.max_task_memory / n;
	s0->opts.max_task_memory = share;
	for (unsigned i = 1; i < n; i++) {
		m->pause[i].m.fn = on_pause;
		m->pause[i].multi = m;
		struct prk_iscsi_server *s = calloc(1, sizeof(*s));
		struct prk_loop *l = s ? prk_loop_new() : NULL;
		if (!l || prk_srv_shard_init(s, l)) {
			prk_loop_free(l);
			free(s);
			return -1;
		}
		s->opts = s0->opts;
		s->main = s0;
		s->multi = m;
		s->idx = i;
		m->shards[i] = s;
		if (pthread_create(&m->threads[i], NULL, loop_thread, s)) {
			shard_free(s);
			m->shards[i] = NULL;
			return -1;
		}
		m->n_threads = i;
	}
	prk_info("%u event loops", n);
	return 0;
}

void prk_srv_loops_stop(struct prk_iscsi_server *s0)
{
	struct prk_srv_multi *m = s0->multi;
	if (!m)
		return;
	/* Every loop's connections closed from here, the others paused; then
	 * they are told to stop, and joined. */
	prk_srv_world_stop(s0);
	for (unsigned i = 0; i <= m->n_threads; i++) {
		struct prk_iscsi_server *s = m->shards[i];
		if (!s)
			continue;
		while (s->conns)
			prk_conn_close(s->conns, "target stopping");
		if (i)
			prk_loop_stop(s->loop);
	}
	prk_srv_world_start(s0);
	for (unsigned i = 1; i <= m->n_threads; i++)
		pthread_join(m->threads[i], NULL);
	m->workers_gone = true;
	/* Messages still queued: tasks posted to loop 0 (refused now: their
	 * connections are gone) and answers posted to the others. The orphans
	 * still in the LU complete later, on this thread, with no loop to go
	 * back to (home NULL). */
	for (unsigned i = 0; i <= m->n_threads; i++)
		if (m->shards[i])
			prk_tasks_orphans_detach(m->shards[i]);
	for (unsigned i = 1; i <= m->n_threads; i++)
		prk_loop_run_posts(m->shards[i]->loop);
	prk_loop_run_posts(s0->loop);
	for (unsigned i = 1; i <= m->n_threads; i++) {
		shard_free(m->shards[i]);
		m->shards[i] = NULL;
	}
}

void prk_srv_loops_free(struct prk_iscsi_server *s0)
{
	struct prk_srv_multi *m = s0->multi;
	if (!m)
		return;
	/* A start that failed part way: its threads were never told to stop. */
	if (!m->workers_gone)
		prk_srv_loops_stop(s0);
	pthread_mutex_destroy(&m->sess_lock);
	pthread_mutex_destroy(&m->wmx);
	pthread_cond_destroy(&m->wcv);
	free(m->shards);
	free(m->threads);
	free(m->pause);
	free(m);
	s0->multi = NULL;
}
