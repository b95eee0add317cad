/* One iSCSI connection: reading PDUs off the socket (BHS, AHS, digests,
 * data), the login phase, and the dispatch of full-feature-phase PDUs;
 * writing the transmit queue with writev. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byteorder.h"
#include "log.h"
#include "loop.h"
#include "prkit/crc32c.h"
#include "srv_internal.h"

static void on_io(void *arg, uint32_t events);

/* ---- login environment: the configuration as the login sees it ---- */

static enum prk_login_lookup login_lookup(void *ctx, const char *target_name,
                                          const char *initiator_name, uint16_t tpgt,
                                          struct prk_chap_creds *creds)
{
	struct prk_conn *c = ctx;
	(void)tpgt; /* every portal serves every target for now */
	memset(creds, 0, sizeof(*creds));
	if (c->srv->opts.reserved_initiator[0] &&
	    strcasecmp(c->srv->opts.reserved_initiator, initiator_name) == 0)
		return PRK_LOOKUP_NAME_RESERVED;
	if (!target_name) {
		*creds = c->srv->opts.discovery_chap;
		return PRK_LOOKUP_OK;
	}
	struct prk_iscsi_target *t = prk_srv_find_target(c->srv, target_name);
	if (!t)
		return PRK_LOOKUP_NOT_FOUND;
	*creds = t->chap;
	if (!t->n_acls)
		return PRK_LOOKUP_OK;
	for (size_t i = 0; i < t->n_acls; i++)
		if (strcasecmp(t->acls[i].initiator, initiator_name) == 0) {
			if (t->acls[i].chap.user[0] || t->acls[i].chap.required)
				*creds = t->acls[i].chap;
			return PRK_LOOKUP_OK;
		}
	return PRK_LOOKUP_NOT_AUTHORIZED;
}

static void login_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	while (len) {
		ssize_t n = getrandom(buf, len, 0);
		if (n <= 0)
			continue;
		buf += n;
		len -= (size_t)n;
	}
}

/* Creates the session, closing an older one with the same session identity
 * first (session reinstatement, RFC 7143 6.3.5). The identity is initiator
 * name + ISID + target + portal group: the same ISID through another portal
 * group is another session (another I_T nexus), as multipath hosts use it. */
static uint16_t login_enter_ffp(void *ctx, const struct prk_iscsi_params *p, uint64_t isid)
{
	struct prk_conn *c = ctx;
	struct prk_iscsi_server *s = c->srv->main; /* the session table's */
	prk_srv_sess_lock(s);
	for (struct prk_session *ss = s->sessions; ss;) {
		struct prk_session *next = ss->next;
		if (ss->isid == isid && ss->port.tpgt == c->portal->tpgt &&
		    strcasecmp(ss->params.initiator_name, p->initiator_name) == 0 &&
		    strcasecmp(ss->params.target_name, p->target_name) == 0 &&
		    ss->params.discovery == p->discovery) {
			prk_info("reinstating session of %s isid 0x%012llx", p->initiator_name,
			         (unsigned long long)isid);
			if (ss->srv != c->srv) {
				/* Another loop's: it closes it; loop 0 takes the
				 * old nexus down before this one comes up. */
				prk_srv_close_remote(ss);
			} else {
				prk_srv_sess_unlock(s);
				prk_srv_session_close(ss);
				prk_srv_sess_lock(s);
				if (s->multi) /* other loops may have changed it meanwhile */
					next = s->sessions;
			}
		}
		ss = next;
	}
	if (s->n_sessions >= s->opts.max_sessions) {
		prk_warn("login from %s refused: %u sessions is the limit", c->peer, s->n_sessions);
		prk_srv_sess_unlock(s);
		return 0;
	}
	struct prk_session *ss = calloc(1, sizeof(*ss));
	if (!ss) {
		prk_srv_sess_unlock(s);
		return 0;
	}
	ss->srv = c->srv;
	ss->params = *p;
	ss->isid = isid;
	ss->tgt = p->discovery ? NULL : prk_srv_find_target(s, p->target_name);
	if (prk_nexus_init(&ss->nexus, p->initiator_name, isid, c->portal->rtpi)) {
		prk_srv_sess_unlock(s);
		free(ss);
		return 0;
	}
	ss->port.rtpi = c->portal->rtpi;
	ss->port.tpg = c->portal->tpgt;
	ss->port.tpgt = c->portal->tpgt;
	ss->port.target_name = ss->tgt ? ss->tgt->name : "";
	if (prk_srv_rec_new(ss)) {
		prk_srv_sess_unlock(s);
		free(ss);
		return 0;
	}
	do {
		ss->tsih = s->next_tsih++;
	} while (!ss->tsih);
	ss->serial = ++s->next_serial;
	ss->conn = c;
	ss->next = s->sessions;
	s->sessions = ss;
	s->n_sessions++;
	c->sess = ss;
	prk_srv_sess_unlock(s);
	return ss->tsih;
}

static void send_targets(void *ctx, const char *initiator, const char *which,
                         struct prk_text_buf *out)
{
	struct prk_conn *c = ctx;
	struct prk_iscsi_server *s = c->srv->main; /* targets and portals */
	for (size_t i = 0; i < s->n_targets; i++) {
		struct prk_iscsi_target *t = s->targets[i];
		if (strcmp(which, "All") != 0) {
			const char *want = which[0] ? which : c->params.target_name;
			if (strcasecmp(want, t->name) != 0)
				continue;
		}
		if (t->n_acls) {
			bool ok = false;
			for (size_t a = 0; a < t->n_acls; a++)
				ok |= strcasecmp(t->acls[a].initiator, initiator) == 0;
			if (!ok)
				continue;
		}
		prk_text_buf_add(out, "TargetName", t->name);
		for (struct prk_portal *p = s->portals; p; p = p->next) {
			char addr[96];
			bool v6 = strchr(p->addr, ':') != NULL;
			snprintf(addr, sizeof(addr), v6 ? "[%s]:%u,%u" : "%s:%u,%u", p->addr,
			         p->port, p->tpgt);
			prk_text_buf_add(out, "TargetAddress", addr);
		}
	}
}

/* ---- connection life cycle ---- */

void prk_conn_accept(struct prk_portal *p, int fd, const char *peer)
{
	if (p->srv->multi) {
		prk_srv_accept_spread(p, fd, peer);
		return;
	}
	prk_conn_accept_on(p->srv, p, fd, peer);
}

int prk_conn_accept_on(struct prk_iscsi_server *s, struct prk_portal *p, int fd, const char *peer)
{
	struct prk_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -1;
	}
	c->srv = s;
	c->portal = p;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->state = CONN_LOGIN;
	c->accepted_ms = c->last_rx_ms = prk_now_ms();
	c->next_ttt = 1;
	struct prk_login_env env = {
	    .ctx = c,
	    .lookup = login_lookup,
	    .enter_ffp = login_enter_ffp,
	    .random = login_random,
	    .limits = s->opts.limits,
	};
	c->login = prk_login_new(&env, p->tpgt);
	c->h = c->login && prk_conn_rx_init(c) == 0 ? prk_loop_add(s->loop, fd, EPOLLIN, on_io, c)
	                                            : NULL;
	if (!c->h) {
		prk_conn_rx_free(c);
		prk_login_free(c->login);
		close(fd);
		free(c);
		return -1;
	}
	c->next = s->conns;
	s->conns = c;
	c->in_login = true;
	c->serial = ++s->next_conn_serial;
	prk_debug("connection from %s on portal %s:%u", peer, p->addr, p->port);
	if (s->multi)
		return 0; /* counted by loop 0 when it accepted (prk_srv_accept_spread) */
	s->n_login++;
	prk_srv_listen_update(s);
	return 0;
}

/* The connection is no longer in login (full feature phase, or gone):
 * its place under max_login_conns is free. */
static void login_slot_free(struct prk_conn *c)
{
	if (!c->in_login)
		return;
	c->in_login = false;
	if (c->srv->multi) {
		prk_srv_login_left(c->srv);
		return;
	}
	c->srv->n_login--;
	prk_srv_listen_update(c->srv);
}

static void tx_free(struct prk_iscsi_server *s, struct prk_tx *t)
{
	if (t->charge)
		prk_srv_mem_uncharge(s, t->charge);
	free(t->owner);
	free(t);
}

void prk_conn_hold(struct prk_conn *c)
{
	c->hold++;
}

bool prk_conn_release(struct prk_conn *c)
{
	if (--c->hold || !c->closed)
		return false;
	prk_conn_rx_free(c);
	free(c);
	return true;
}

void prk_conn_close(struct prk_conn *c, const char *why)
{
	struct prk_iscsi_server *s = c->srv;
	if (c->closed)
		return; /* closed during a held call; the holder frees it */
	if (c->reject_quiet)
		prk_warn(
		    "%s: %u more PDU(s) rejected since the last line (the last: opcode 0x%02x, "
		    "reason 0x%02x)",
		    c->peer, c->reject_quiet, c->reject_last_op, c->reject_last_reason);
	prk_info("closing connection %s: %s", c->peer, why);
	for (struct prk_conn **pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->dirty)
		for (struct prk_conn **pp = &s->dirty; *pp; pp = &(*pp)->next_dirty)
			if (*pp == c) {
				*pp = c->next_dirty;
				break;
			}
	prk_tasks_orphan(c);
	for (struct prk_tmf *t = c->tmfs; t; t = t->next)
		t->conn = NULL; /* it completes, and answers no one */
	c->tmfs = NULL;
	struct prk_session *ss = c->sess;
	if (ss && s->multi) {
		/* Loop 0 takes the nexus down after this loop's last command
		 * for it (FIFO), unless a reinstatement did already. */
		prk_srv_nexus_down(ss);
		struct prk_iscsi_server *m = s->main;
		prk_srv_sess_lock(m);
		if (!ss->unlinked) {
			for (struct prk_session **pp = &m->sessions; *pp; pp = &(*pp)->next)
				if (*pp == ss) {
					*pp = ss->next;
					break;
				}
			m->n_sessions--;
		}
		prk_srv_sess_unlock(m);
		free(ss);
	} else if (ss) {
		if (ss->tgt)
			for (size_t i = 0; i < ss->tgt->n_luns; i++)
				prk_lu_nexus_down(ss->tgt->luns[i].lu, &ss->nexus);
		if (ss->tgt && s->opts.nexus_gone)
			s->opts.nexus_gone(s->opts.nexus_gone_ctx, &ss->nexus);
		for (struct prk_session **pp = &s->sessions; *pp; pp = &(*pp)->next)
			if (*pp == ss) {
				*pp = ss->next;
				break;
			}
		s->n_sessions--;
		free(ss);
	}
	while (c->txq) {
		struct prk_tx *t = c->txq;
		c->txq = t->next;
		tx_free(s, t);
	}
	prk_loop_del(s->loop, c->h);
	close(c->fd);
	login_slot_free(c);
	prk_login_free(c->login);
	prk_text_free(c->text);
	c->text = NULL;
	c->login = NULL;
	c->sess = NULL;
	c->closed = true;
	if (c->hold)
		return; /* prk_conn_release frees it */
	prk_conn_rx_free(c);
	free(c);
}

/* ---- transmit ---- */

void prk_conn_fill_sn(struct prk_conn *c, struct prk_iscsi_sn *sn, bool advance_statsn)
{
	sn->statsn = c->statsn;
	if (advance_statsn)
		c->statsn++;
	struct prk_session *ss = c->sess;
	if (!ss) {
		sn->expcmdsn = 0;
		sn->maxcmdsn = c->srv->opts.limits.cmdsn_window - 1;
		return;
	}
	/* The window is what the task table can still take, so that an
	 * initiator that stays inside it never sees TASK SET FULL. */
	unsigned max = c->srv->opts.max_tasks;
	uint32_t free_slots = c->n_tasks < max ? max - c->n_tasks : 0;
	/* Back-pressure: while write buffers are at their budget, no session
	 * gets room for more commands (the window stays where it was). */
	if (prk_task_mem_tight(c->srv))
		free_slots = 0;
	uint32_t want = ss->expcmdsn + free_slots - 1;
	if (prk_sn_lt(ss->maxcmdsn, want))
		ss->maxcmdsn = want;
	sn->expcmdsn = ss->expcmdsn;
	sn->maxcmdsn = ss->maxcmdsn;
}

static void update_events(struct prk_conn *c)
{
	bool want = c->txq != NULL;
	bool off = c->txq_bytes > PRK_TXQ_PAUSE        ? true
	           : c->txq_bytes <= PRK_TXQ_PAUSE / 2 ? false
	                                               : c->rx_off;
	if (want == c->want_out && off == c->rx_off)
		return;
	c->want_out = want;
	c->rx_off = off;
	prk_loop_mod(c->srv->loop, c->h, (off ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0));
}

/* Writes as much of the queue as the socket takes. Returns -1 when the
 * connection was closed. */
static int flush_tx(struct prk_conn *c)
{
	while (c->txq) {
		struct iovec iov[3 * 16];
		int n = 0;
		for (struct prk_tx *t = c->txq; t && n < 3 * 16 - 3; t = t->next) {
			size_t skip = t == c->txq ? t->sent : 0;
			const uint8_t *parts[3] = {t->hdr, t->data, t->trailer};
			size_t lens[3] = {t->hdr_len, t->dlen, t->trailer_len};
			for (int k = 0; k < 3; k++) {
				if (skip >= lens[k]) {
					skip -= lens[k];
					continue;
				}
				iov[n].iov_base = (void *)(parts[k] + skip);
				iov[n].iov_len = lens[k] - skip;
				skip = 0;
				n++;
			}
		}
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			prk_conn_close(c, strerror(errno));
			return -1;
		}
		size_t left = (size_t)w;
		while (c->txq && left) {
			struct prk_tx *t = c->txq;
			size_t total = t->hdr_len + t->dlen + t->trailer_len;
			size_t take = total - t->sent < left ? total - t->sent : left;
			t->sent += take;
			left -= take;
			if (t->sent == total) {
				c->txq_bytes -= total;
				c->txq = t->next;
				if (!c->txq)
					c->txq_tail = NULL;
				void (*cb)(void *) = t->sent_cb;
				void *arg = t->sent_arg;
				tx_free(c->srv, t);
				if (cb) {
					cb(arg);
					return -1; /* the callback closes the connection */
				}
			}
		}
	}
	if (c->state == CONN_CLOSING && !c->txq) {
		prk_conn_close(c, "closed after logout or failed login");
		return -1;
	}
	update_events(c);
	if (c->rx_paused && !c->rx_off && !c->hold) {
		/* Drained: the PDUs flow control left in the buffer go on now
		 * (no readable event may come for them). */
		prk_debug("%s: answers drained, dispatching %zu buffered bytes", c->peer,
		          c->rx_tail - c->rx_head);
		prk_conn_hold(c);
		prk_conn_rx_parse(c);
		if (prk_conn_release(c))
			return -1;
	}
	return 0;
}

struct prk_tx *prk_conn_send(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data,
                             size_t dlen, void *owner)
{
	struct prk_tx *t = calloc(1, sizeof(*t));
	if (!t) {
		free(owner);
		return NULL;
	}
	memcpy(t->hdr, bhs, PRK_ISCSI_BHS_LEN);
	/* The data segment length is always the data we send. */
	prk_put_be24(t->hdr + 5, (uint32_t)dlen);
	t->hdr_len = PRK_ISCSI_BHS_LEN;
	if (c->params.header_digest) {
		uint32_t d = prk_crc32c(0, t->hdr, PRK_ISCSI_BHS_LEN);
		memcpy(t->hdr + PRK_ISCSI_BHS_LEN, &d, 4); /* digests are little-endian */
		t->hdr_len += 4;
	}
	t->data = data;
	t->dlen = dlen;
	size_t pad = prk_iscsi_pad4(dlen) - dlen;
	t->trailer_len = pad;
	if (dlen && c->params.data_digest) {
		static const uint8_t zeros[3];
		uint32_t d = prk_crc32c(0, data, dlen);
		d = prk_crc32c(d, zeros, pad);
		memcpy(t->trailer + pad, &d, 4);
		t->trailer_len += 4;
	}
	t->owner = owner;
	c->txq_bytes += t->hdr_len + t->dlen + t->trailer_len;
	if (c->txq_tail)
		c->txq_tail->next = t;
	else
		c->txq = t;
	c->txq_tail = t;
	/* Written at the end of this batch of events (prk_conns_flush), so
	 * that a batch of responses costs one writev and no epoll_ctl. */
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = c->srv->dirty;
		c->srv->dirty = c;
	}
	return t;
}

void prk_conns_flush(void *server)
{
	struct prk_iscsi_server *s = server;
	/* Memory freed during the batch goes to the tasks waiting for it
	 * first: their R2Ts and data join this flush. Sending frees memory
	 * too (data-in), so grant again until nothing more goes out: no
	 * later event may come to do it. */
	for (;;) {
		prk_task_mem_grant(s);
		if (!s->dirty)
			break;
		while (s->dirty) {
			struct prk_conn *c = s->dirty;
			s->dirty = c->next_dirty;
			c->dirty = false;
			flush_tx(c); /* may close c; it is off the list already */
		}
	}
}

void prk_conn_reject(struct prk_conn *c, const uint8_t *bhs, uint8_t reason)
{
	uint8_t *copy = malloc(PRK_ISCSI_BHS_LEN);
	if (!copy)
		return;
	memcpy(copy, bhs, PRK_ISCSI_BHS_LEN);
	struct prk_iscsi_reject r = {.reason = reason, .dlen = PRK_ISCSI_BHS_LEN};
	prk_conn_fill_sn(c, &r.sn, true);
	uint8_t out[PRK_ISCSI_BHS_LEN];
	prk_iscsi_reject_encode(&r, out);
	prk_conn_send(c, out, copy, PRK_ISCSI_BHS_LEN, copy);
	/* One line per PRK_REJECT_LOG_MS: a flood of bad PDUs (thousands of
	 * Data-Out for a dropped command) would otherwise flood the log. */
	uint64_t now = prk_now_ms();
	c->reject_last_op = bhs[0] & 0x3f;
	c->reject_last_reason = reason;
	if (c->reject_log_ms && now - c->reject_log_ms < PRK_REJECT_LOG_MS) {
		c->reject_quiet++;
		return;
	}
	c->reject_log_ms = now;
	if (c->reject_quiet)
		prk_warn("rejected a PDU (opcode 0x%02x) from %s: reason 0x%02x; %u more rejected "
		         "since the last line",
		         c->reject_last_op, c->peer, reason, c->reject_quiet);
	else
		prk_warn("rejected a PDU (opcode 0x%02x) from %s: reason 0x%02x", c->reject_last_op,
		         c->peer, reason);
	c->reject_quiet = 0;
}

/* ---- full feature phase PDUs other than SCSI commands and data ---- */

static void close_after_sent(void *arg)
{
	prk_conn_close(arg, "logout");
}

static void handle_logout(struct prk_conn *c, const uint8_t *bhs)
{
	struct prk_iscsi_logout_req req;
	uint8_t reason;
	if (prk_iscsi_logout_req_decode(bhs, &req, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	struct prk_iscsi_logout_rsp rsp = {.itt = req.h.itt};
	if (req.reason == 2)
		rsp.response = 2; /* connection recovery needs ERL 2 */
	if (!req.h.immediate && c->sess)
		c->sess->expcmdsn = req.cmdsn + 1;
	prk_conn_fill_sn(c, &rsp.sn, true);
	uint8_t out[PRK_ISCSI_BHS_LEN];
	prk_iscsi_logout_rsp_encode(&rsp, out);
	struct prk_tx *t = prk_conn_send(c, out, NULL, 0, NULL);
	if (t && rsp.response == 0) {
		t->sent_cb = close_after_sent;
		t->sent_arg = c;
		c->state = CONN_CLOSING;
	}
}

static void handle_nop_out(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	struct prk_iscsi_nop_out n;
	uint8_t reason;
	if (prk_iscsi_nop_out_decode(bhs, &n, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	if (!n.h.immediate && c->sess)
		c->sess->expcmdsn = n.cmdsn + 1;
	if (n.h.itt == PRK_ISCSI_RSVD_TAG) {
		/* The answer to our ping, or a plain CmdSN update. */
		if (n.ttt == c->ping_ttt)
			c->ping_ttt = 0;
		return;
	}
	/* The ping data is echoed: copied, as data is the receive buffer's. */
	uint8_t *echo = dlen ? malloc(dlen) : NULL;
	if (dlen && !echo) {
		prk_conn_reject(c, bhs, PRK_REJECT_OUT_OF_RESOURCES);
		return;
	}
	if (dlen)
		memcpy(echo, data, dlen);
	struct prk_iscsi_nop_in r = {.itt = n.h.itt, .ttt = PRK_ISCSI_RSVD_TAG, .lun = n.h.lun};
	prk_conn_fill_sn(c, &r.sn, true);
	uint8_t out[PRK_ISCSI_BHS_LEN];
	prk_iscsi_nop_in_encode(&r, out);
	prk_conn_send(c, out, echo, dlen, echo);
}

static void handle_text(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	if (!c->text) {
		struct prk_text_env env = {.ctx = c, .send_targets = send_targets};
		c->text = prk_text_new(&env, &c->params);
	}
	struct prk_iscsi_text_req req;
	uint8_t reason = PRK_REJECT_PROTOCOL_ERROR;
	if (!c->text || prk_iscsi_text_req_decode(bhs, &req, &reason)) {
		prk_conn_reject(c, bhs, reason);
		return;
	}
	if (!req.h.immediate && c->sess)
		c->sess->expcmdsn = req.cmdsn + 1;
	struct prk_iscsi_sn sn;
	prk_conn_fill_sn(c, &sn, true);
	uint8_t out[PRK_ISCSI_BHS_LEN];
	uint8_t *rsp = NULL;
	size_t rlen = 0;
	if (prk_text_step(c->text, bhs, data, dlen, &sn, out, &rsp, &rlen, &reason)) {
		c->statsn--; /* a Reject carries its own StatSN */
		prk_conn_reject(c, bhs, reason);
	} else {
		prk_conn_send(c, out, rsp, rlen, rsp);
	}
}

static void enter_ffp(struct prk_conn *c)
{
	c->state = CONN_FFP;
	login_slot_free(c);
	c->params = *prk_login_params(c->login);
	c->cid = prk_login_cid(c->login);
	c->statsn = prk_login_next_statsn(c->login);
	struct prk_session *ss = c->sess;
	ss->expcmdsn = prk_login_expcmdsn(c->login);
	ss->maxcmdsn = ss->expcmdsn + c->srv->opts.limits.cmdsn_window - 1; /* as the login said */
	ss->params = c->params;
	prk_login_free(c->login);
	c->login = NULL;
	if (c->srv->multi)
		prk_srv_nexus_up(ss); /* on loop 0, before this session's commands */
	else if (ss->tgt)
		for (size_t i = 0; i < ss->tgt->n_luns; i++)
			prk_lu_nexus_up(ss->tgt->luns[i].lu, &ss->nexus);
	prk_info("login: %s isid 0x%012llx -> %s via %s:%u (tsih %u, loop %u)%s",
	         c->params.initiator_name, (unsigned long long)ss->isid,
	         c->params.discovery ? "discovery" : c->params.target_name, c->portal->addr,
	         c->portal->port, ss->tsih, c->srv->idx,
	         c->params.header_digest ? " header digest" : "");
}

static void handle_login(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	uint8_t out[PRK_ISCSI_BHS_LEN];
	uint8_t *rsp = NULL;
	size_t rlen = 0;
	enum prk_login_result r = prk_login_step(c->login, bhs, data, dlen, out, &rsp, &rlen);
	prk_conn_send(c, out, rsp, rlen, rsp);
	if (r == PRK_LOGIN_DONE) {
		enter_ffp(c);
	} else if (r == PRK_LOGIN_FAIL) {
		if (*prk_login_error(c->login))
			prk_warn("login from %s refused: %s", c->peer, prk_login_error(c->login));
		c->state = CONN_CLOSING;
		if (c->sess) {
			/* enter_ffp created a session the login then failed. */
			prk_srv_session_close(c->sess);
		}
	}
}

void prk_conn_dispatch(struct prk_conn *c, const uint8_t *bhs, const uint8_t *data, size_t dlen)
{
	uint8_t op = bhs[0] & 0x3f;
	if (c->state == CONN_LOGIN) {
		if (op != PRK_ISCSI_OP_LOGIN_REQ) {
			prk_conn_close(c, "PDU other than Login during login");
			return;
		}
		handle_login(c, bhs, data, dlen);
		return;
	}
	if (c->state != CONN_FFP) {
		return;
	}
	bool discovery = c->params.discovery;
	switch (op) {
	case PRK_ISCSI_OP_SCSI_CMD:
		if (discovery)
			break;
		prk_task_scsi_cmd(c, bhs, data, dlen);
		return;
	case PRK_ISCSI_OP_DATA_OUT:
		if (discovery)
			break;
		prk_task_data_out(c, bhs, data, dlen);
		return;
	case PRK_ISCSI_OP_NOP_OUT:
		handle_nop_out(c, bhs, data, dlen);
		return;
	case PRK_ISCSI_OP_TEXT_REQ:
		handle_text(c, bhs, data, dlen);
		return;
	case PRK_ISCSI_OP_LOGOUT_REQ:
		handle_logout(c, bhs);
		return;
	case PRK_ISCSI_OP_TMF_REQ:
		if (discovery)
			break;
		prk_srv_tmf(c, bhs); /* prk_tmf_request, on loop 0 */
		return;
	case PRK_ISCSI_OP_LOGIN_REQ:
		prk_conn_reject(c, bhs, PRK_REJECT_PROTOCOL_ERROR);
		return;
	default:
		prk_conn_reject(c, bhs, PRK_REJECT_CMD_NOT_SUPPORTED);
		return;
	}
	/* Discovery sessions carry only Text, NOP, and Logout. */
	prk_conn_reject(c, bhs, PRK_REJECT_PROTOCOL_ERROR);
}

/* ---- events ---- */

static void on_io(void *arg, uint32_t events)
{
	struct prk_conn *c = arg;
	if (events & EPOLLOUT) {
		if (flush_tx(c))
			return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (c->rx_off && (events & (EPOLLHUP | EPOLLERR))) {
		/* Not reading, and the peer is gone: reported until we act. */
		prk_conn_close(c, "peer went away with answers unread");
		return;
	}
	prk_conn_hold(c);
	prk_conn_rx(c);
	if (prk_conn_release(c))
		return;
	flush_tx(c);
}
