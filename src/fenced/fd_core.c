/* prkit fenced: the decisions (see fd_core.h for the rules and
 * docs/fenced.md "Protocol"). Every input updates the picture (view,
 * quorum, members, pending victims) and then calls progress(), the one
 * place that decides what may happen next: join, fence, resume. Deadlines
 * are compared with the `now` the caller gives; nothing here reads a clock.
 */
#include "fd_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *prk_fd_state_name(enum prk_fd_state s)
{
	switch (s) {
	case PRK_FD_STARTING:
		return "starting";
	case PRK_FD_JOINING:
		return "joining";
	case PRK_FD_RUNNING:
		return "running";
	case PRK_FD_FENCING:
		return "fencing";
	case PRK_FD_INQUORATE:
		return "inquorate";
	case PRK_FD_SELF_FENCED:
		return "self_fenced";
	case PRK_FD_STOPPING:
		return "stopping";
	}
	return "?";
}

const char *prk_fd_act_name(enum prk_fd_act_kind k)
{
	switch (k) {
	case PRK_FD_ACT_STALL:
		return "STALL";
	case PRK_FD_ACT_RESUME:
		return "RESUME";
	case PRK_FD_ACT_FAIL:
		return "FAIL";
	case PRK_FD_ACT_JOIN:
		return "JOIN";
	case PRK_FD_ACT_FENCE:
		return "FENCE";
	case PRK_FD_ACT_ADOPT:
		return "ADOPT";
	case PRK_FD_ACT_CHECK:
		return "CHECK";
	case PRK_FD_ACT_SEND:
		return "SEND";
	case PRK_FD_ACT_WATCHDOG_OFF:
		return "WATCHDOG_OFF";
	case PRK_FD_ACT_LOG:
		return "LOG";
	}
	return "?";
}

/* ---- the action queue ---- */

/* The daemon drains the queue after every input, and one input queues at
 * most a handful of actions; the last slots are kept for the actions that
 * matter, so a flood of log lines can never push out a FAIL. */
#define LOG_RESERVE 8

static struct prk_fd_act *push(struct prk_fd_core *c, enum prk_fd_act_kind kind)
{
	size_t room = PRK_FD_MAX_ACTS - c->q_len;
	if (room == 0 || (kind == PRK_FD_ACT_LOG && room <= LOG_RESERVE))
		return NULL;
	struct prk_fd_act *a = &c->q[(c->q_head + c->q_len) % PRK_FD_MAX_ACTS];
	c->q_len++;
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

__attribute__((format(printf, 3, 4))) static void
act_why(struct prk_fd_core *c, enum prk_fd_act_kind kind, const char *fmt, ...)
{
	struct prk_fd_act *a = push(c, kind);
	if (!a)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

/* "3" or "3, 5" for log lines. */
static void fmt_ids(const uint16_t *ids, size_t n, char *buf, size_t cap)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && off < cap; i++) {
		int w = snprintf(buf + off, cap - off, "%s%u", i ? ", " : "", (unsigned)ids[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static void send(struct prk_fd_core *c, const struct prk_fd_msg *m)
{
	struct prk_fd_act *a = push(c, PRK_FD_ACT_SEND);
	if (a)
		a->msg = *m;
}

static void send_hello(struct prk_fd_core *c)
{
	if (!c->in_group || c->leave_sent)
		return;
	struct prk_fd_msg m = {
	    .type = PRK_FD_MSG_HELLO, .nodeid = c->cfg.nodeid, .joined = c->joined, .key = c->key};
	send(c, &m);
}

static void send_stalled(struct prk_fd_core *c)
{
	struct prk_fd_msg m = {.type = PRK_FD_MSG_STALLED, .nodeid = c->cfg.nodeid};
	for (size_t i = 0; i < c->n_pending && i < PRK_FD_MAX_VICTIMS; i++)
		m.victims[m.n_victims++] = c->pending[i];
	send(c, &m);
}

/* ---- sets of node ids ---- */

static bool id_in(const uint16_t *ids, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool id_add(uint16_t *ids, size_t *n, uint16_t id)
{
	if (id_in(ids, *n, id) || *n >= PRK_FD_MAX_NODES)
		return false;
	ids[(*n)++] = id;
	return true;
}

static bool id_del(uint16_t *ids, size_t *n, uint16_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (ids[i] == id) {
			ids[i] = ids[--*n];
			return true;
		}
	return false;
}

static struct prk_fd_member *member(struct prk_fd_core *c, uint16_t id)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].nodeid == id)
			return &c->members[i];
	return NULL;
}

/* ---- what the view allows ---- */

/* A view with at most half of the configured nodes must not fence even
 * when votequorum still says quorate: its news may be late, and the other
 * side may be the majority. Only a quorum device or two_node (whose race
 * the coordinator LUs decide) lets votes alone count. */
static bool view_has_quorum(const struct prk_fd_core *c)
{
	if (!c->in_group || !c->quorate)
		return false;
	return c->cfg.majority_by_votes || 2 * c->n_members > c->cfg.n_configured;
}

bool prk_fdc_may_act(const struct prk_fd_core *c)
{
	return view_has_quorum(c);
}

/* The lowest node id among the members whose HELLO said joined: only a
 * node whose key is registered can PREEMPT, and a node that self-fenced
 * says joined=false, so the role passes on. Every member computes this
 * from the same delivered messages, so they agree. */
uint16_t prk_fdc_executor(const struct prk_fd_core *c)
{
	if (!c->in_group)
		return 0;
	uint16_t best = 0;
	for (size_t i = 0; i < c->n_members; i++) {
		const struct prk_fd_member *m = &c->members[i];
		if (m->joined && (best == 0 || m->nodeid < best))
			best = m->nodeid;
	}
	return best;
}

/* A node that entered the view recently has not yet heard the HELLOs of
 * the older members: until it has heard every member below it, it cannot
 * know that it is the lowest joined one, and must not act as executor. */
static bool heard_lower(const struct prk_fd_core *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].nodeid < c->cfg.nodeid && !c->members[i].heard)
			return false;
	return true;
}

/* A fence still running at a member names node ids, so it would take the
 * key a restarted node registers now: join only once every member has
 * said HELLO in this view (a member busy fencing says it afterwards), and
 * while nothing is pending here (a departed node may be fencing us: in a
 * two-node split, registering after its FENCE passed the first LU would
 * give each side some of the LUs). */
static bool heard_all(const struct prk_fd_core *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (!c->members[i].heard)
			return false;
	return true;
}

static bool acks_complete(const struct prk_fd_core *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].joined && !c->members[i].stalled)
			return false;
	return true;
}

/* ---- local I/O ---- */

static void stall(struct prk_fd_core *c, const char *why)
{
	if (c->stalled_local)
		return;
	c->stalled_local = true;
	c->stall_in_place = false;
	act_why(c, PRK_FD_ACT_STALL, "%s", why);
}

static void resume(struct prk_fd_core *c, uint64_t now)
{
	c->stalled_local = false;
	c->stall_in_place = false;
	push(c, PRK_FD_ACT_RESUME);
	act_why(c, PRK_FD_ACT_LOG, "resumed local I/O");
	if (c->last.valid && c->last.resumed_ms == 0 && c->last.stalled_ms)
		c->last.resumed_ms = now;
}

/* For good: local I/O fails, the watchdog is let go, and the other
 * members learn (HELLO joined=false) that this node can no longer fence. */
static void self_fence(struct prk_fd_core *c, const char *why)
{
	if (c->state == PRK_FD_SELF_FENCED)
		return;
	c->state = PRK_FD_SELF_FENCED;
	c->joined = false;
	snprintf(c->self_fence_reason, sizeof(c->self_fence_reason), "%s", why);
	act_why(c, PRK_FD_ACT_FAIL, "%s", why);
	push(c, PRK_FD_ACT_WATCHDOG_OFF);
	act_why(c, PRK_FD_ACT_LOG, "self-fenced: %s", why);
	send_hello(c);
}

/* Joined and not on the way out: the states in which local I/O flows or
 * is held for the cluster. */
static bool active(const struct prk_fd_core *c)
{
	return c->joined && c->state != PRK_FD_SELF_FENCED && c->state != PRK_FD_STOPPING;
}

/* Quorum (as the view allows it) lost: hold the I/O at once; the deadline
 * bounds how long a node cut off from the others may wait to be sure. */
static void enter_inquorate(struct prk_fd_core *c, uint64_t now)
{
	if (c->state == PRK_FD_INQUORATE)
		return;
	c->state = PRK_FD_INQUORATE;
	c->inquorate_deadline_ms = now + c->cfg.self_fence_ms;
	stall(c, "quorum lost");
	act_why(c, PRK_FD_ACT_LOG, "quorum lost: local I/O stalled, self-fence in %u ms",
	        c->cfg.self_fence_ms);
}

/* Quorum back before the deadline: resume only after a self-check shows
 * that nobody fenced us meanwhile (check_done decides). */
static void leave_inquorate_check(struct prk_fd_core *c, uint64_t now)
{
	(void)now;
	if (c->check_running)
		return;
	c->check_running = true;
	push(c, PRK_FD_ACT_CHECK);
}

static void quorum_changed(struct prk_fd_core *c, uint64_t now)
{
	if (!active(c))
		return;
	bool q = view_has_quorum(c);
	if (!q && c->state != PRK_FD_INQUORATE)
		enter_inquorate(c, now);
	else if (q && c->state == PRK_FD_INQUORATE)
		leave_inquorate_check(c, now);
}

/* ---- progress: what may happen now ---- */

static void try_join(struct prk_fd_core *c, uint64_t now)
{
	if (c->joined || c->join_running || !view_has_quorum(c) || now < c->retry_at_ms ||
	    !heard_all(c) || c->n_pending)
		return;
	c->join_running = true;
	c->state = PRK_FD_JOINING;
	push(c, PRK_FD_ACT_JOIN);
}

static void try_fence(struct prk_fd_core *c, uint64_t now)
{
	/* Our own stall first: our STALLED then precedes our FENCED. */
	if (!active(c) || c->n_pending == 0 || c->fence_running || !c->stall_in_place ||
	    now < c->retry_at_ms)
		return;
	if (prk_fdc_executor(c) != c->cfg.nodeid || !prk_fdc_may_act(c) || !heard_lower(c))
		return;
	if (!acks_complete(c) && now < c->acks_deadline_ms)
		return;
	struct prk_fd_act *a = push(c, PRK_FD_ACT_FENCE);
	if (!a)
		return;
	for (size_t i = 0; i < c->n_pending && i < PRK_FD_MAX_VICTIMS; i++)
		a->victims[a->n_victims++] = c->pending[i];
	c->fence_running = true;
	c->cur.n_victims = a->n_victims;
	memcpy(c->cur.victims, a->victims, sizeof(c->cur.victims));
	char ids[PRK_FD_MAX_VICTIMS * 7];
	fmt_ids(a->victims, a->n_victims, ids, sizeof(ids));
	act_why(c, PRK_FD_ACT_LOG, "fencing node(s) %s (executor %u)", ids,
	        (unsigned)c->cfg.nodeid);
}

static void try_resume(struct prk_fd_core *c, uint64_t now)
{
	if (!active(c) || c->n_pending || c->adopt_running)
		return;
	if (c->state == PRK_FD_INQUORATE || !view_has_quorum(c))
		return;
	if (!c->stalled_local) {
		if (c->state == PRK_FD_FENCING)
			c->state = PRK_FD_RUNNING;
		return;
	}
	c->state = PRK_FD_RUNNING;
	resume(c, now);
}

static void progress(struct prk_fd_core *c, uint64_t now)
{
	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING)
		return;
	try_join(c, now);
	try_fence(c, now);
	try_resume(c, now);
}

/* ---- inputs ---- */

void prk_fdc_init(struct prk_fd_core *c, const struct prk_fd_core_cfg *cfg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->state = PRK_FD_STARTING;
}

/* Victims were added: every joined member holds its I/O and tells the
 * executor once the hold is in place; the acks counted so far were for a
 * smaller set, so they start over. */
static void victims_added(struct prk_fd_core *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_members; i++)
		c->members[i].stalled = false;
	c->acks_deadline_ms = now + c->cfg.stall_ack_ms;
	if (!active(c))
		return;
	if (c->state == PRK_FD_RUNNING)
		c->state = PRK_FD_FENCING;
	char ids[64];
	fmt_ids(c->pending, c->n_pending, ids, sizeof(ids));
	char why[128];
	snprintf(why, sizeof(why), "node(s) %s left without LEAVE", ids);
	if (!c->stalled_local)
		stall(c, why);
	else if (c->stall_in_place)
		send_stalled(c);
}

void prk_fdc_confchg(struct prk_fd_core *c, const uint16_t *ids, size_t n, uint64_t now)
{
	uint16_t now_ids[PRK_FD_MAX_NODES];
	size_t n_now = 0;
	for (size_t i = 0; i < n; i++)
		if (ids[i] != 0)
			id_add(now_ids, &n_now, ids[i]);

	/* Departures: a LEAVE before it means an orderly shutdown (the node
	 * keeps its registration and needs no fencing); anything else makes a
	 * victim. */
	size_t before = c->n_pending;
	for (size_t i = 0; i < c->n_members; i++) {
		uint16_t id = c->members[i].nodeid;
		if (id_in(now_ids, n_now, id) || id == c->cfg.nodeid)
			continue;
		if (!id_del(c->left_announced, &c->n_left_announced, id))
			id_add(c->pending, &c->n_pending, id);
	}
	/* A victim back in the view before it was fenced is a member again (a
	 * healed partition, or a restart whose JOIN removes its stale key). */
	for (size_t i = 0; i < n_now; i++)
		id_del(c->pending, &c->n_pending, now_ids[i]);

	struct prk_fd_member old[PRK_FD_MAX_NODES];
	size_t n_old = c->n_members;
	memcpy(old, c->members, sizeof(old));
	c->n_members = 0;
	for (size_t i = 0; i < n_now; i++) {
		struct prk_fd_member m = {.nodeid = now_ids[i]};
		for (size_t j = 0; j < n_old; j++)
			if (old[j].nodeid == now_ids[i])
				m = old[j];
		c->members[c->n_members++] = m;
	}
	c->in_group = id_in(now_ids, n_now, c->cfg.nodeid);

	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING) {
		send_hello(c);
		return;
	}
	if (c->n_pending == 0 && before > 0)
		memset(&c->cur, 0, sizeof(c->cur));
	if (c->n_pending > before) {
		if (before == 0) {
			memset(&c->cur, 0, sizeof(c->cur));
			c->cur.changed_ms = now;
			c->pending_since_ms = now;
		}
		victims_added(c, now);
	} else if (c->n_pending && active(c) && c->stall_in_place) {
		/* Members new to the view have not seen our STALLED. */
		send_stalled(c);
	}
	send_hello(c);
	quorum_changed(c, now);
	progress(c, now);
}

void prk_fdc_quorum(struct prk_fd_core *c, bool quorate, uint64_t now)
{
	c->quorate = quorate;
	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING)
		return;
	quorum_changed(c, now);
	progress(c, now);
}

/* Does a STALLED's list cover everything pending here? */
static bool covers(const struct prk_fd_msg *m, const struct prk_fd_core *c)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (!id_in(m->victims, m->n_victims, c->pending[i]))
			return false;
	return true;
}

/* Cluster-key mode: the executor preempted every other key, ours
 * included; a joined member takes the new key before its I/O may go on
 * (the executor already switched inside its FENCE). */
static void adopt_if_rekeyed(struct prk_fd_core *c, uint16_t from, const struct prk_fd_msg *m)
{
	if (!c->cfg.cluster_key || !m->key || from == c->cfg.nodeid || !active(c) ||
	    m->key == c->key)
		return;
	c->adopt_running = true;
	c->adopt_key = m->key;
	struct prk_fd_act *a = push(c, PRK_FD_ACT_ADOPT);
	if (a)
		a->key = m->key;
}

static void on_fenced(struct prk_fd_core *c, uint16_t from, const struct prk_fd_msg *m,
                      uint64_t now)
{
	struct prk_fd_member *e = member(c, from);
	if (!e)
		return;
	if (m->result != PRK_FD_RESULT_OK) {
		/* The executor lost its race and self-fenced: nothing was
		 * fenced for us; the next executor takes over. */
		e->joined = false;
		return;
	}
	adopt_if_rekeyed(c, from, m);
	/* A FENCED names node ids, not lives. It counts only if its sender's
	 * STALLED covered everything pending here since the set last grew: a
	 * FENCE that ran while a victim came back, joined and left again is
	 * delivered after that second departure and must not release it
	 * (the sender then fences again). */
	if (!e->stalled)
		return;
	for (size_t i = 0; i < m->n_victims; i++)
		id_del(c->pending, &c->n_pending, m->victims[i]);
	/* Our own FENCED is back: the pause against repeating it is over. */
	if (from == c->cfg.nodeid)
		c->retry_at_ms = 0;
	c->cur.valid = true;
	c->cur.executor = from;
	c->cur.result = m->result;
	c->cur.n_victims = m->n_victims;
	memcpy(c->cur.victims, m->victims, sizeof(c->cur.victims));
	c->cur.fenced_ms = now;
	c->last = c->cur;
	if (c->n_pending == 0)
		memset(&c->cur, 0, sizeof(c->cur));
}

void prk_fdc_deliver(struct prk_fd_core *c, uint16_t from, const struct prk_fd_msg *m, uint64_t now)
{
	struct prk_fd_member *mb = member(c, from);
	switch (m->type) {
	case PRK_FD_MSG_HELLO:
		if (mb) {
			mb->heard = true;
			mb->joined = m->joined;
			mb->key = m->key;
		}
		break;
	case PRK_FD_MSG_LEAVE:
		if (mb && from != c->cfg.nodeid)
			id_add(c->left_announced, &c->n_left_announced, from);
		break;
	case PRK_FD_MSG_STALLED:
		if (mb && covers(m, c))
			mb->stalled = true;
		break;
	case PRK_FD_MSG_FENCED:
		if (c->state != PRK_FD_SELF_FENCED && c->state != PRK_FD_STOPPING)
			on_fenced(c, from, m, now);
		break;
	}
	progress(c, now);
}

void prk_fdc_tick(struct prk_fd_core *c, uint64_t now)
{
	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING)
		return;
	if (c->state == PRK_FD_INQUORATE && now >= c->inquorate_deadline_ms) {
		char why[96];
		snprintf(why, sizeof(why), "no quorum for %u ms", c->cfg.self_fence_ms);
		self_fence(c, why);
		return;
	}
	bool checking = c->state == PRK_FD_RUNNING || c->state == PRK_FD_FENCING;
	if (checking && active(c) && !c->check_running && now >= c->next_check_ms) {
		c->check_running = true;
		push(c, PRK_FD_ACT_CHECK);
	}
	progress(c, now);
}

/* ---- outcomes ---- */

void prk_fdc_stall_done(struct prk_fd_core *c, uint64_t now)
{
	if (!c->stalled_local || c->state == PRK_FD_SELF_FENCED)
		return;
	c->stall_in_place = true;
	if (c->n_pending) {
		if (c->cur.stalled_ms == 0)
			c->cur.stalled_ms = now;
		send_stalled(c);
	}
	progress(c, now);
}

void prk_fdc_join_done(struct prk_fd_core *c, bool ok, uint64_t key, uint64_t now)
{
	c->join_running = false;
	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING)
		return;
	if (!ok) {
		c->state = PRK_FD_STARTING;
		c->retry_at_ms = now + c->cfg.retry_ms;
		act_why(c, PRK_FD_ACT_LOG, "join failed; retrying in %u ms", c->cfg.retry_ms);
		return;
	}
	c->joined = true;
	c->key = key;
	c->state = PRK_FD_RUNNING;
	c->next_check_ms = now + c->cfg.check_ms;
	act_why(c, PRK_FD_ACT_LOG, "node %u joined with key 0x%016llx", (unsigned)c->cfg.nodeid,
	        (unsigned long long)key);
	send_hello(c);
	/* Victims known before we joined are still unfenced: our freshly
	 * released I/O must wait for them like everybody else's. */
	if (c->n_pending) {
		c->state = PRK_FD_FENCING;
		stall(c, "joined while a fencing is pending");
	}
	quorum_changed(c, now);
	progress(c, now);
}

void prk_fdc_fence_done(struct prk_fd_core *c, bool ok, bool lost, uint64_t new_key, uint64_t now)
{
	c->fence_running = false;
	if (c->state == PRK_FD_SELF_FENCED)
		return;
	struct prk_fd_msg m = {.type = PRK_FD_MSG_FENCED, .nodeid = c->cfg.nodeid};
	m.n_victims = c->cur.n_victims;
	memcpy(m.victims, c->cur.victims, sizeof(m.victims));
	if (lost) {
		m.result = PRK_FD_RESULT_LOST;
		send(c, &m);
		self_fence(c, "lost the fencing race: our key was gone");
		return;
	}
	/* Until our FENCED comes back (or after an error) fencing again would
	 * only repeat the same PREEMPTs: wait retry_ms. */
	c->retry_at_ms = now + c->cfg.retry_ms;
	if (!ok) {
		act_why(c, PRK_FD_ACT_LOG, "fencing failed; retrying in %u ms", c->cfg.retry_ms);
		return;
	}
	if (c->cfg.cluster_key && new_key)
		c->key = new_key;
	m.result = PRK_FD_RESULT_OK;
	m.key = c->cfg.cluster_key ? new_key : 0;
	send(c, &m);
	char ids[PRK_FD_MAX_VICTIMS * 7];
	fmt_ids(m.victims, m.n_victims, ids, sizeof(ids));
	act_why(c, PRK_FD_ACT_LOG, "fenced node(s) %s in %llu ms", ids,
	        (unsigned long long)(now - c->pending_since_ms));
}

void prk_fdc_adopt_done(struct prk_fd_core *c, bool ok, uint64_t now)
{
	c->adopt_running = false;
	if (c->state == PRK_FD_SELF_FENCED)
		return;
	if (!ok) {
		self_fence(c, "could not adopt the new cluster key");
		return;
	}
	c->key = c->adopt_key;
	send_hello(c);
	progress(c, now);
}

void prk_fdc_check_done(struct prk_fd_core *c, bool ok, const char *why, uint64_t now)
{
	c->check_running = false;
	c->next_check_ms = now + c->cfg.check_ms;
	if (c->state == PRK_FD_SELF_FENCED || c->state == PRK_FD_STOPPING)
		return;
	if (!ok) {
		self_fence(c, why && why[0] ? why : "self-check failed");
		return;
	}
	if (c->state == PRK_FD_INQUORATE && view_has_quorum(c))
		c->state = c->n_pending ? PRK_FD_FENCING : PRK_FD_RUNNING;
	progress(c, now);
}

void prk_fdc_shutdown(struct prk_fd_core *c, uint64_t now)
{
	(void)now;
	if (c->state == PRK_FD_STOPPING)
		return;
	if (c->in_group) {
		struct prk_fd_msg m = {.type = PRK_FD_MSG_LEAVE, .nodeid = c->cfg.nodeid};
		send(c, &m);
	}
	c->leave_sent = true;
	c->state = PRK_FD_STOPPING;
}

/* ---- outputs ---- */

bool prk_fdc_next_act(struct prk_fd_core *c, struct prk_fd_act *out)
{
	if (c->q_len == 0)
		return false;
	*out = c->q[c->q_head];
	c->q_head = (c->q_head + 1) % PRK_FD_MAX_ACTS;
	c->q_len--;
	return true;
}
