/* One path: a libiscsi context with our ISID and no automatic reconnect.
 *
 * Connect and login are asynchronous. Once logged in, the device brings
 * the path up (mpdev_up.c) before it may carry I/O: the path tells who it
 * leads to (prk_path_identify_sync) and reports pending unit attentions
 * (prk_path_ua_check_sync); the LU's capacity, the ALUA states of every
 * path, the registration of our key and READY are the device's. The path
 * knows its host, its options and the hooks its device gave it, nothing
 * of the device itself. Every command is
 * tracked with a deadline: when it passes, the path stops taking I/O and
 * the command is aborted at the target with ABORT TASK; only when the
 * abort is answered (libiscsi then completes the command as CANCELLED) is
 * the I/O re-driven elsewhere. If the abort is not answered in time, the
 * session is dropped, which ends every task of the nexus at the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_vpd.h"

void prk_path_set_state(struct hpath *p, enum prk_path_state s, const char *why)
{
	if (p->state == s)
		return;
	struct prk_event ev = {.kind = PRK_EV_PATH_STATE,
	                       .path = p->idx,
	                       .old_path = -1,
	                       .old_state = p->state,
	                       .new_state = s,
	                       .why = why};
	if (s == PRK_PATH_DOWN || s == PRK_PATH_FAILED)
		p->failures++;
	p->state = s;
	prk_hlog(p->h, 1, "path %d (%s): %s -> %s (%s)", p->idx, p->portal,
	         prk_path_state_name(ev.old_state), prk_path_state_name(s), why ? why : "");
	p->hooks->event(p, &ev);
}

static void hcmd_unlink(struct hcmd *c)
{
	struct hpath *p = c->p;
	if (c->prev)
		c->prev->next = c->next;
	else
		p->cmds = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->inflight--;
	p->inflight_bytes -= c->bytes;
}

static void hcmd_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)ctx;
	struct hcmd *c = priv;
	/* done() may free the storage of an embedded command (the I/O it
	 * belongs to): nothing of c is read after it. */
	bool owned = c->owned;
	hcmd_unlink(c);
	if (status != SCSI_STATUS_CANCELLED && status != SCSI_STATUS_ERROR)
		c->p->completed++;
	c->done(c, status, data);
	if (owned)
		free(c);
}

bool prk_path_cmd_async_in(struct hpath *p, struct hcmd *c, struct scsi_task *t,
                           unsigned timeout_ms, uint64_t bytes, hcmd_fn done, void *arg)
{
	if (!p->ctx || (p->conn != HC_READY && p->conn != HC_LOGGED_IN))
		return false;
	bool owned = c->owned;
	*c = (struct hcmd){.p = p,
	                   .task = t,
	                   .bytes = bytes,
	                   .done = done,
	                   .arg = arg,
	                   .owned = owned,
	                   .deadline_ms = prk_host_deadline_now_ms(p->h) + timeout_ms,
	                   .next = p->cmds};
	if (p->cmds)
		p->cmds->prev = c;
	p->cmds = c;
	p->inflight++;
	p->inflight_bytes += bytes;
	if (iscsi_scsi_command_async(p->ctx, p->lun, t, hcmd_cb, NULL, c) < 0) {
		hcmd_unlink(c);
		return false;
	}
	p->unsent = true;
	return true;
}

struct hcmd *prk_path_cmd_async(struct hpath *p, struct scsi_task *t, unsigned timeout_ms,
                                uint64_t bytes, hcmd_fn done, void *arg)
{
	struct hcmd *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->owned = true;
	if (!prk_path_cmd_async_in(p, c, t, timeout_ms, bytes, done, arg)) {
		free(c);
		return NULL;
	}
	return c;
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv);

static void login_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)data;
	struct hpath *p = priv;
	if (p->ctx != ctx)
		return;
	if (status != SCSI_STATUS_GOOD) {
		snprintf(p->last_error, sizeof(p->last_error), "login: %s", iscsi_get_error(ctx));
		p->drop_requested = true;
		return;
	}
	p->conn = HC_LOGGED_IN;
	prk_hlog(p->h, 2, "path %d (%s): logged in, ISID 0x%012llx", p->idx, p->portal,
	         (unsigned long long)p->isid);
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)data;
	struct hpath *p = priv;
	if (p->ctx != ctx)
		return;
	if (status != SCSI_STATUS_GOOD) {
		/* Also called when an established connection fails later. */
		snprintf(p->last_error, sizeof(p->last_error), "connection: %s",
		         iscsi_get_error(ctx));
		p->drop_requested = true;
		return;
	}
	if (p->conn != HC_CONNECTING)
		return;
	if (iscsi_login_async(ctx, login_cb, p) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "login: %s", iscsi_get_error(ctx));
		p->drop_requested = true;
	}
}

void prk_path_connect_async(struct hpath *p)
{
	uint64_t now = prk_host_now_ms();
	p->next_connect_ms = now + dflt(p->o->checker_interval_ms, 1000);
	struct iscsi_context *ctx = iscsi_create_context(p->initiator);
	if (!ctx) {
		snprintf(p->last_error, sizeof(p->last_error), "cannot create a libiscsi context");
		return;
	}
	iscsi_set_targetname(ctx, p->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, p->o->header_digest ? ISCSI_HEADER_DIGEST_CRC32C_NONE
	                                                 : ISCSI_HEADER_DIGEST_NONE);
	if (p->user[0])
		iscsi_set_initiator_username_pwd(ctx, p->user, p->secret);
	if (p->tuser[0])
		iscsi_set_target_username_pwd(ctx, p->tuser, p->tsecret);
	iscsi_set_isid_random(ctx, p->isid_rnd, p->isid_qual);
	/* Our own reconnect keeps the ISID and never replays commands. */
	iscsi_set_noautoreconnect(ctx, 1);
	p->ctx = ctx;
	p->conn = HC_CONNECTING;
	p->drop_requested = false;
	p->connect_deadline_ms = now + 5000;
	if (iscsi_connect_async(ctx, p->portal, connect_cb, p) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s", iscsi_get_error(ctx));
		p->drop_requested = true;
	}
}

/* libiscsi calls back the commands it cancels only while it counts the
 * session as logged in: once a logout has been answered (or the session
 * is otherwise over) it frees them without a word, and neither their
 * owners nor our own hcmd ever hear of them again. Every command still on
 * p->cmds once the context is destroyed is such a one: it completes here
 * as CANCELLED, exactly once (hcmd_cb unlinks it). p->ctx is NULL by
 * now, so nothing its completion re-drives can land on p. */
static void complete_orphans(struct hpath *p)
{
	while (p->cmds)
		hcmd_cb(NULL, SCSI_STATUS_CANCELLED, p->cmds->task, p->cmds);
}

/* Ends p's context: the commands libiscsi still calls back complete as
 * CANCELLED first, then those it let go of. */
static void end_context(struct hpath *p)
{
	struct iscsi_context *ctx = p->ctx;
	p->conn = HC_IDLE;
	p->tmf_pending = 0;
	p->check_inflight = false;
	iscsi_scsi_cancel_all_tasks(ctx);
	p->ctx = NULL;
	iscsi_destroy_context(ctx);
	complete_orphans(p);
}

/* What an ABORT TASK refers to: the command is found again by its task
 * tag (it may have completed, and its storage gone, before the answer). */
struct tmf_ref {
	struct hpath *p;
	uint32_t itt;
};

static void tmf_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	(void)data;
	struct tmf_ref *r = priv;
	struct hpath *p = r->p;
	uint32_t itt = r->itt;
	free(r);
	if (ctx != p->ctx)
		return; /* the session that sent it is gone (end_context) */
	if (p->tmf_pending)
		p->tmf_pending--;
	if (status != SCSI_STATUS_GOOD)
		return;
	/* The target has dealt with the abort. A command it aborted gets no
	 * answer of its own, and one it had aborted already (PREEMPT AND
	 * ABORT from another node clears our tasks without a word) is
	 * answered "task does not exist"; libiscsi completes neither, so a
	 * command still outstanding now would wait forever. The session goes
	 * instead: that ends at the target whatever is left of the nexus's
	 * tasks and completes them here as CANCELLED, to be re-driven (where
	 * a fenced node meets RESERVATION CONFLICT). */
	for (struct hcmd *c = p->cmds; c; c = c->next)
		if (c->aborting && c->task && c->task->itt == itt) {
			snprintf(p->last_error, sizeof(p->last_error),
			         "aborted command not completed by the target");
			p->drop_requested = true;
			break;
		}
}

void prk_path_drop(struct hpath *p, const char *why)
{
	struct iscsi_context *ctx = p->ctx;
	p->drop_requested = false;
	if (!ctx)
		return;
	if (why && why != p->last_error)
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	prk_hlog(p->h, 1, "path %d (%s): session dropped: %s", p->idx, p->portal, p->last_error);
	if (p->conn == HC_CONNECTING)
		p->failed_logins++;
	p->conn = HC_IDLE;
	p->hooks->session_ending(p);
	/* Outstanding commands complete as CANCELLED: data I/O is re-driven
	 * on another path by its completion. */
	end_context(p);
	p->healthy_since_ms = 0;
	p->next_connect_ms = prk_host_now_ms() + dflt(p->o->checker_interval_ms, 1000);
	prk_path_set_state(p, PRK_PATH_DOWN, p->last_error);
	p->hooks->dropped(p);
}

void prk_path_close_sync(struct hpath *p)
{
	if (!p->ctx)
		return;
	/* The logout ends at the target what is still running there; the
	 * answers that come before its own are delivered as usual. */
	if (p->conn == HC_READY || p->conn == HC_LOGGED_IN)
		iscsi_logout_sync(p->ctx);
	end_context(p);
}

void prk_path_timers(struct hpath *p, uint64_t now)
{
	if (p->drop_requested) {
		prk_path_drop(p, p->last_error);
		return;
	}
	if (p->conn == HC_CONNECTING && now > p->connect_deadline_ms) {
		prk_path_drop(p, "login timed out");
		return;
	}
	if (p->tmf_pending && now > p->tmf_deadline_ms) {
		prk_path_drop(p, "ABORT TASK not answered in time");
		return;
	}
	for (struct hcmd *c = p->cmds; c; c = c->next) {
		if (c->aborting || now < c->deadline_ms)
			continue;
		c->aborting = true;
		snprintf(p->last_error, sizeof(p->last_error), "command timed out");
		if (p->state == PRK_PATH_UP || p->state == PRK_PATH_STANDBY)
			prk_path_set_state(p, PRK_PATH_FAILED, "command timed out");
		p->healthy_since_ms = 0;
		struct tmf_ref *r = malloc(sizeof(*r));
		if (r)
			*r = (struct tmf_ref){.p = p, .itt = c->task->itt};
		if (!r || iscsi_task_mgmt_abort_task_async(p->ctx, c->task, tmf_cb, r) < 0) {
			free(r);
			p->drop_requested = true;
			break;
		}
		p->unsent = true;
		if (!p->tmf_pending)
			p->tmf_deadline_ms = now + dflt(p->o->tmf_timeout_ms, 3000);
		p->tmf_pending++;
	}
	if (p->drop_requested)
		prk_path_drop(p, p->last_error);
}

static void check_done(struct hcmd *c, int status, struct scsi_task *t)
{
	struct hpath *p = c->p;
	p->check_inflight = false;
	bool healthy = false;
	if (status == SCSI_STATUS_GOOD) {
		healthy = true;
	} else if (status == SCSI_STATUS_CHECK_CONDITION) {
		uint16_t asc = (uint16_t)t->sense.ascq;
		if (t->sense.key == SCSI_SENSE_UNIT_ATTENTION) {
			struct prk_event ev = {.kind = PRK_EV_UA,
			                       .path = p->idx,
			                       .old_path = -1,
			                       .sense_key = (uint8_t)t->sense.key,
			                       .asc = asc,
			                       .why = "path check"};
			p->hooks->event(p, &ev);
			if ((asc >> 8) == 0x2a)
				p->hooks->alua_changed(p);
			healthy = true;
		} else if (t->sense.key == SCSI_SENSE_NOT_READY &&
		           (asc == 0x040b || asc == 0x040c)) {
			p->alua_standby = true;
			p->hooks->alua_changed(p);
			if (p->state == PRK_PATH_UP)
				prk_path_set_state(p, PRK_PATH_STANDBY, "ALUA state");
		} else {
			healthy = true; /* the path answers; the LU has something to say */
		}
	}
	scsi_free_scsi_task(t);
	if (!healthy || p->conn != HC_READY)
		return;
	if (!p->healthy_since_ms)
		p->healthy_since_ms = prk_host_now_ms();
	if (p->state == PRK_PATH_FAILED)
		p->hooks->healthy(p);
}

void prk_path_checker(struct hpath *p, uint64_t now)
{
	unsigned iv = dflt(p->o->checker_interval_ms, 1000);
	if (p->removed)
		return;
	if (p->conn == HC_IDLE) {
		if (now >= p->next_connect_ms)
			prk_path_connect_async(p);
		return;
	}
	if (p->conn != HC_READY || p->check_inflight || now < p->next_check_ms)
		return;
	p->next_check_ms = now + iv;
	struct scsi_task *t = scsi_cdb_testunitready();
	if (!t)
		return;
	unsigned to = iv * 2 > 2000 ? iv * 2 : 2000;
	if (to > dflt(p->o->io_timeout_ms, 10000))
		to = dflt(p->o->io_timeout_ms, 10000);
	if (prk_path_cmd_async(p, t, to, 0, check_done, NULL))
		p->check_inflight = true;
	else
		scsi_free_scsi_task(t);
}

/* ---- synchronous commands ---- */

struct sync_wait {
	bool done;
	int status;
	uint8_t key;
	uint16_t asc;
	uint8_t *in;
	uint32_t cap;
	size_t got;
};

static void sync_done(struct hcmd *c, int status, struct scsi_task *t)
{
	struct sync_wait *w = c->arg;
	w->done = true;
	w->status = status;
	if (status == SCSI_STATUS_CHECK_CONDITION) {
		w->key = (uint8_t)t->sense.key;
		w->asc = (uint16_t)t->sense.ascq;
	}
	if (status == SCSI_STATUS_GOOD && w->in && t->datain.data) {
		size_t n = (size_t)t->datain.size;
		if (n > w->cap)
			n = w->cap;
		memcpy(w->in, t->datain.data, n);
		w->got = n;
	}
	scsi_free_scsi_task(t);
}

int prk_path_cmd_sync(struct hpath *p, struct hsync *s)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		struct scsi_task *t =
		    scsi_create_task((int)s->cdb_len, (unsigned char *)s->cdb, s->dir,
		                     s->dir == SCSI_XFER_WRITE ? (int)s->out_len : (int)s->in_cap);
		if (!t)
			return -1;
		struct scsi_iovec iov = {.iov_base = (void *)s->out, .iov_len = s->out_len};
		if (s->dir == SCSI_XFER_WRITE && s->out_len)
			scsi_task_set_iov_out(t, &iov, 1);
		struct sync_wait w = {.in = s->in, .cap = s->in_cap};
		unsigned to = s->timeout_ms ? s->timeout_ms : dflt(p->o->io_timeout_ms, 10000);
		if (!prk_path_cmd_async(p, t, to, 0, sync_done, &w)) {
			scsi_free_scsi_task(t);
			return -1;
		}
		while (!w.done)
			prk_hloop_run_nested(&p->h->loop, 100);
		s->in_len = w.got;
		s->sense_key = w.key;
		s->asc = w.asc;
		if (w.status == SCSI_STATUS_CHECK_CONDITION && w.key == SCSI_SENSE_UNIT_ATTENTION) {
			/* Reported, then the command (which did not run) goes again. */
			struct prk_event ev = {.kind = PRK_EV_UA,
			                       .path = p->idx,
			                       .old_path = -1,
			                       .sense_key = w.key,
			                       .asc = w.asc,
			                       .why = "command"};
			p->hooks->event(p, &ev);
			if ((w.asc >> 8) == 0x2a)
				p->hooks->alua_changed(p);
			continue;
		}
		if (w.status == SCSI_STATUS_CANCELLED || w.status == SCSI_STATUS_ERROR ||
		    w.status == SCSI_STATUS_TIMEOUT)
			return -1;
		return w.status;
	}
	return SCSI_STATUS_CHECK_CONDITION;
}

/* ---- bring-up ---- */

int prk_path_identify_sync(struct hpath *p, struct hpath_ident *id)
{
	uint8_t cdb[6], buf[512];
	size_t n = prk_inquiry_cdb_encode(true, 0x83, sizeof(buf), cdb);
	struct hsync s = {
	    .cdb = cdb, .cdb_len = n, .dir = SCSI_XFER_READ, .in = buf, .in_cap = sizeof(buf)};
	int st = prk_path_cmd_sync(p, &s);
	if (st != SCSI_STATUS_GOOD) {
		snprintf(p->last_error, sizeof(p->last_error), "INQUIRY VPD 83h failed (%d)", st);
		return -1;
	}
	struct prk_vpd83 v;
	struct prk_field_err fe;
	if (prk_vpd83_decode(buf, s.in_len, &v, &fe) || !v.has_naa) {
		snprintf(p->last_error, sizeof(p->last_error),
		         "VPD 83h has no NAA designator for the LU");
		return -1;
	}
	snprintf(id->naa, sizeof(id->naa), "%s", v.naa_hex);
	id->rtpi = v.has_rtpi ? v.rtpi : 0;
	id->tpg = v.has_tpg ? v.tpg : 0;
	return 0;
}

int prk_path_ua_check_sync(struct hpath *p)
{
	/* A TEST UNIT READY: unit attentions pending for this nexus (29/xx
	 * after a reconnect, 2A/xx) are reported as events here. */
	uint8_t tur[6] = {0};
	struct hsync s = {.cdb = tur, .cdb_len = 6, .dir = SCSI_XFER_NONE};
	int st = prk_path_cmd_sync(p, &s);
	if (st < 0) {
		prk_path_drop(p, "TEST UNIT READY failed");
		return -1;
	}
	if (p->conn != HC_LOGGED_IN)
		return -1;
	return 0;
}

void prk_path_ready(struct hpath *p)
{
	p->conn = HC_READY;
	p->healthy_since_ms = prk_host_now_ms();
	p->next_check_ms = p->healthy_since_ms + dflt(p->o->checker_interval_ms, 1000);
}

/* ---- the loop ---- */

int prk_path_poll_fill(struct hpath *p, struct pollfd *pfd, uint64_t now, uint64_t *next_ms)
{
	if (!p->ctx)
		return 0;
	int ev = iscsi_which_events(p->ctx);
	int fd = iscsi_get_fd(p->ctx);
	if (fd < 0 || ev == 0) {
		/* libiscsi waits (reconnect back-off); look again soon. */
		if (now + 100 < *next_ms)
			*next_ms = now + 100;
		return 0;
	}
	*pfd = (struct pollfd){.fd = fd, .events = (short)ev};
	return 1;
}

void prk_path_service(struct hpath *p, const struct pollfd *pfd)
{
	if (!pfd->revents || !p->ctx || iscsi_get_fd(p->ctx) != pfd->fd)
		return;
	if (iscsi_service(p->ctx, pfd->revents) < 0)
		/* A callback may have recorded the real cause already. */
		prk_path_drop(p, p->drop_requested ? p->last_error : iscsi_get_error(p->ctx));
	else if (p->drop_requested)
		prk_path_drop(p, p->last_error);
}

/* libiscsi queues a command and writes it only when iscsi_service is
 * given POLLOUT: a command issued from a completion would otherwise wait
 * for one more poll(), which returns at once since the socket is
 * writable. That second poll per round trip is what a plain libiscsi
 * loop pays; here the pass writes at its end instead (a full socket
 * keeps the rest queued, and the next poll() asks for POLLOUT as
 * before). Only on a connected session: on a connecting one libiscsi
 * takes POLLOUT for the end of the TCP connect. */
void prk_path_flush(struct hpath *p)
{
	if (!p->unsent)
		return;
	p->unsent = false;
	if (!p->ctx || (p->conn != HC_LOGGED_IN && p->conn != HC_READY))
		return;
	if (!(iscsi_which_events(p->ctx) & POLLOUT))
		return;
	if (iscsi_service(p->ctx, POLLOUT) < 0)
		prk_path_drop(p, p->drop_requested ? p->last_error : iscsi_get_error(p->ctx));
	else if (p->drop_requested)
		prk_path_drop(p, p->last_error);
}
