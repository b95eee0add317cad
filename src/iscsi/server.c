/* Portals, targets and sessions of the iSCSI runtime. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "srv_internal.h"

uint64_t prk_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ping_idle(void *arg);

struct prk_iscsi_server *prk_iscsi_server_new(struct prk_loop *loop,
                                              const struct prk_iscsi_server_opts *opts)
{
	struct prk_iscsi_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = loop;
	if (opts)
		s->opts = *opts;
	else
		prk_iscsi_limits_default(&s->opts.limits);
	if (!s->opts.nop_interval_ms)
		s->opts.nop_interval_ms = 5000;
	if (!s->opts.nop_timeout_ms)
		s->opts.nop_timeout_ms = 15000;
	if (!s->opts.max_sessions)
		s->opts.max_sessions = 256;
	if (!s->opts.max_tasks)
		s->opts.max_tasks = 128;
	if (!s->opts.max_task_memory)
		s->opts.max_task_memory = (size_t)256 << 20;
	if (!s->opts.max_login_conns)
		s->opts.max_login_conns = 64;
	if (!s->opts.login_timeout_ms)
		s->opts.login_timeout_ms = 15000;
	if (!s->opts.limits.cmdsn_window || s->opts.limits.cmdsn_window > s->opts.max_tasks)
		s->opts.limits.cmdsn_window = s->opts.max_tasks;
	s->next_tsih = 1;
	s->main = s;
	if (prk_srv_shard_init(s, loop)) {
		free(s);
		return NULL;
	}
	if (s->opts.threads > 1 && prk_srv_loops_start(s, s->opts.threads)) {
		prk_iscsi_server_free(s);
		return NULL;
	}
	return s;
}

int prk_srv_shard_init(struct prk_iscsi_server *s, struct prk_loop *loop)
{
	s->loop = loop;
	s->timer = prk_loop_timer(loop, 1000, ping_idle, s);
	/* Made now, while file descriptors are plentiful; armed when accept
	 * runs out of them. */
	s->accept_timer = prk_loop_timer(loop, 1000, prk_srv_accept_resume, s);
	if (!s->timer || !s->accept_timer || prk_loop_timer_arm(s->accept_timer, 0, 0) ||
	    prk_loop_after_batch_add(loop, PRK_LOOP_AFTER_SEND, prk_conns_flush, s)) {
		prk_loop_del(loop, s->timer);
		prk_loop_del(loop, s->accept_timer);
		return -1;
	}
	s->listening = true;
	return 0;
}

void prk_iscsi_server_free(struct prk_iscsi_server *s)
{
	if (!s)
		return;
	prk_srv_loops_stop(s); /* the other loops' connections, and their threads */
	prk_loop_after_batch_del(s->loop, prk_conns_flush, s);
	while (s->conns)
		prk_conn_close(s->conns, "target stopping");
	/* The LUs are closed after the server and complete their orphans
	 * then: those must not reach back into a freed server. */
	prk_tasks_orphans_detach(s);
	while (s->portals) {
		struct prk_portal *p = s->portals;
		s->portals = p->next;
		prk_loop_del(s->loop, p->h);
		close(p->fd);
		free(p);
	}
	prk_loop_del(s->loop, s->timer);
	prk_loop_del(s->loop, s->accept_timer);
	prk_srv_loops_free(s);
	free(s->targets);
	free(s);
}

int prk_iscsi_server_add_target(struct prk_iscsi_server *s, struct prk_iscsi_target *t)
{
	struct prk_iscsi_target **v = realloc(s->targets, (s->n_targets + 1) * sizeof(*v));
	if (!v)
		return -1;
	s->targets = v;
	s->targets[s->n_targets++] = t;
	return 0;
}

void prk_iscsi_server_remove_target(struct prk_iscsi_server *s, struct prk_iscsi_target *t)
{
	prk_srv_world_stop(s); /* other loops' sessions too */
	for (struct prk_session *ss = s->sessions; ss;) {
		struct prk_session *next = ss->next;
		if (ss->tgt == t)
			prk_srv_session_close(ss);
		ss = next;
	}
	for (size_t i = 0; i < s->n_targets; i++)
		if (s->targets[i] == t) {
			s->targets[i] = s->targets[--s->n_targets];
			break;
		}
	prk_srv_world_start(s);
}

/* With several loops these run with the other loops paused: they read
 * sessions and connections of every loop (the session table's lock is
 * not enough: a connection's state is its loop's). */
void prk_iscsi_server_luns_changed(struct prk_iscsi_server *s, struct prk_iscsi_target *t)
{
	prk_srv_world_stop(s);
	for (struct prk_session *ss = s->sessions; ss; ss = ss->next)
		if (ss->tgt == t && ss->conn && ss->conn->state == CONN_FFP)
			for (size_t i = 0; i < t->n_luns; i++)
				prk_lu_nexus_up(t->luns[i].lu, &ss->nexus);
	prk_srv_world_start(s);
	for (size_t i = 0; i < t->n_luns; i++)
		prk_lu_queue_ua_all(t->luns[i].lu, PRK_ASC_REPORTED_LUNS_DATA_CHANGED);
}

void prk_iscsi_server_lu_detach(struct prk_iscsi_server *s, struct prk_iscsi_target *t,
                                struct prk_lu *lu)
{
	prk_srv_world_stop(s);
	for (struct prk_session *ss = s->sessions; ss; ss = ss->next)
		if (ss->tgt == t)
			prk_lu_nexus_down(lu, &ss->nexus);
	prk_srv_world_start(s);
}

bool prk_iscsi_server_lu_busy(const struct prk_iscsi_server *s, const struct prk_lu *lu)
{
	struct prk_iscsi_server *m = s->main;
	bool busy = false;
	prk_srv_world_stop(m);
	for (unsigned i = 0; i < prk_srv_n_shards(m) && !busy; i++)
		for (const struct prk_conn *c = prk_srv_shard(m, i)->conns; c && !busy; c = c->next)
			for (const struct prk_task *t = c->tasks; t; t = t->next)
				if (t->lu == lu) {
					busy = true;
					break;
				}
	prk_srv_world_start(m);
	return busy;
}

struct prk_lu *prk_iscsi_target_lu(const struct prk_iscsi_target *t, uint16_t lun)
{
	for (size_t i = 0; i < t->n_luns; i++)
		if (t->luns[i].lun == lun)
			return t->luns[i].lu;
	return NULL;
}

struct prk_iscsi_target *prk_srv_find_target(struct prk_iscsi_server *s, const char *name)
{
	s = s->main;
	for (size_t i = 0; i < s->n_targets; i++)
		if (strcasecmp(s->targets[i]->name, name) == 0)
			return s->targets[i];
	return NULL;
}

struct prk_lu *prk_srv_find_lu(struct prk_iscsi_target *t, uint16_t lun)
{
	return prk_iscsi_target_lu(t, lun);
}

int prk_iscsi_server_add_portal(struct prk_iscsi_server *s, const char *addr, uint16_t port,
                                uint16_t tpgt, uint16_t rtpi, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		len = sizeof(*a6);
	} else {
		snprintf(err, errlen, "portal %s: not an IPv4 or IPv6 address", addr);
		return -1;
	}
	for (struct prk_portal *q = s->portals; q; q = q->next)
		if (q->tpgt == tpgt || q->rtpi == rtpi) {
			snprintf(err, errlen,
			         "portal %s:%u: tpgt %u / rtpi %u already used by %s:%u", addr,
			         port, tpgt, rtpi, q->addr, q->port);
			return -1;
		}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "portal %s:%u: socket: %s", addr, port, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "portal %s:%u: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	struct prk_portal *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		snprintf(err, errlen, "portal %s:%u: out of memory", addr, port);
		return -1;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	getsockname(fd, (struct sockaddr *)&bound, &blen);
	p->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
	                                           : ((struct sockaddr_in6 *)&bound)->sin6_port);
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->srv = s;
	p->fd = fd;
	p->tpgt = tpgt;
	p->rtpi = rtpi;
	p->h = prk_loop_add(s->loop, fd, s->listening ? EPOLLIN : 0, prk_srv_on_accept, p);
	if (!p->h) {
		close(fd);
		free(p);
		snprintf(err, errlen, "portal %s:%u: cannot watch the socket", addr, port);
		return -1;
	}
	/* Append, so that portal indexes stay stable for introspection. */
	struct prk_portal **tail = &s->portals;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	return 0;
}

int prk_iscsi_server_remove_portal(struct prk_iscsi_server *s, const char *addr, uint16_t port)
{
	for (struct prk_portal **pp = &s->portals; *pp; pp = &(*pp)->next) {
		struct prk_portal *p = *pp;
		if (strcmp(p->addr, addr) != 0 || p->port != port)
			continue;
		prk_srv_world_stop(s); /* every loop's connections through it */
		for (unsigned i = 0; i < prk_srv_n_shards(s); i++)
			for (struct prk_conn *c = prk_srv_shard(s, i)->conns; c;) {
				struct prk_conn *next = c->next;
				if (c->portal == p)
					prk_conn_close(c, "portal removed");
				c = next;
			}
		prk_srv_world_start(s);
		*pp = p->next;
		prk_loop_del(s->loop, p->h);
		close(p->fd);
		free(p);
		return 0;
	}
	return -1;
}

uint16_t prk_iscsi_server_portal_port(const struct prk_iscsi_server *s, size_t i)
{
	const struct prk_portal *p = s->portals;
	while (p && i--)
		p = p->next;
	return p ? p->port : 0;
}

void prk_srv_session_close(struct prk_session *sess)
{
	if (sess->conn)
		prk_conn_close(sess->conn, "session closed");
}

/* Pings connections that have been quiet, and drops those that do not
 * answer (RFC 7143 11.19: NOP-In with a TTT asks for a NOP-Out). */
static void ping_idle(void *arg)
{
	struct prk_iscsi_server *s = arg;
	uint64_t now = prk_now_ms();
	for (struct prk_conn *c = s->conns; c;) {
		struct prk_conn *next = c->next;
		if (c->state == CONN_FFP) {
			if (c->ping_ttt && now - c->ping_sent_ms > s->opts.nop_timeout_ms) {
				prk_conn_close(c, "no answer to NOP-In ping");
			} else if (prk_tasks_stalled(c, now, s->opts.nop_timeout_ms)) {
				/* Freeing its buffers is the only way to serve the
				 * others (ERL 0: the connection goes). */
				prk_conn_close(c, "no write data for an R2T while others wait "
				                  "for memory (nop_timeout_ms)");
			} else if (!c->ping_ttt && now - c->last_rx_ms > s->opts.nop_interval_ms) {
				struct prk_iscsi_nop_in n = {.itt = PRK_ISCSI_RSVD_TAG};
				c->ping_ttt = 0x80000000u | (c->next_ttt++ & 0x7fffffffu);
				n.ttt = c->ping_ttt;
				prk_conn_fill_sn(c, &n.sn, false);
				uint8_t bhs[PRK_ISCSI_BHS_LEN];
				prk_iscsi_nop_in_encode(&n, bhs);
				c->ping_sent_ms = now;
				prk_conn_send(c, bhs, NULL, 0, NULL);
			}
		} else if (c->state == CONN_LOGIN &&
		           now - c->accepted_ms > s->opts.login_timeout_ms) {
			/* From accept, not from the last PDU: a login kept busy
			 * with one PDU at a time still ends. */
			prk_conn_close(c, "login timed out");
		}
		c = next;
	}
}

size_t prk_iscsi_server_sessions(const struct prk_iscsi_server *s,
                                 struct prk_iscsi_session_info *out, size_t max)
{
	size_t n = 0;
	struct prk_iscsi_server *m = s->main;
	prk_srv_world_stop(m);
	for (const struct prk_session *ss = s->sessions; ss; ss = ss->next, n++) {
		if (n >= max)
			continue;
		struct prk_iscsi_session_info *i = &out[n];
		memset(i, 0, sizeof(*i));
		snprintf(i->initiator, sizeof(i->initiator), "%s", ss->params.initiator_name);
		snprintf(i->target, sizeof(i->target), "%s", ss->params.target_name);
		i->isid = ss->isid;
		i->tsih = ss->tsih;
		i->discovery = ss->params.discovery;
		if (ss->conn) {
			snprintf(i->peer, sizeof(i->peer), "%s", ss->conn->peer);
			i->tpgt = ss->conn->portal->tpgt;
			i->rtpi = ss->conn->portal->rtpi;
			i->tasks = ss->conn->n_tasks;
		}
		i->loop = ss->srv->idx;
	}
	prk_srv_world_start(m);
	return n;
}

size_t prk_iscsi_server_portals(const struct prk_iscsi_server *s, struct prk_iscsi_portal_info *out,
                                size_t max)
{
	size_t n = 0;
	for (const struct prk_portal *p = s->portals; p; p = p->next, n++) {
		if (n >= max)
			continue;
		struct prk_iscsi_portal_info *i = &out[n];
		snprintf(i->addr, sizeof(i->addr), "%s", p->addr);
		i->port = p->port;
		i->tpgt = p->tpgt;
		i->rtpi = p->rtpi;
		i->connections = 0;
		prk_srv_world_stop(s->main);
		for (unsigned k = 0; k < prk_srv_n_shards(s); k++)
			for (const struct prk_conn *c = prk_srv_shard(s, k)->conns; c; c = c->next)
				i->connections += c->portal == p;
		prk_srv_world_start(s->main);
	}
	return n;
}
