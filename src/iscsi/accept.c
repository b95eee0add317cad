/* Accepting connections on the portals, without letting anyone turn the
 * accept loop into a denial of service:
 *
 *  - At most opts.max_login_conns connections may be in login at a time.
 *    At the cap the portals are no longer polled (new connections wait in
 *    the kernel's backlog) until a login finishes, fails or times out.
 *  - When accept() fails for want of resources (EMFILE, ENFILE, ENOBUFS,
 *    ENOMEM), polling the listening socket again would fail again at once
 *    and burn a core: the portals rest for ACCEPT_BACKOFF_MS instead, and
 *    the failure is logged once until accept works again. Logged-in
 *    sessions are served meanwhile.
 *
 * Both conditions are logged when they start, at most once every
 * LOG_EVERY_MS however often an attacker makes them come and go, so that
 * the log cannot be flooded either; the next line counts the others. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "srv_internal.h"

#define ACCEPT_BACKOFF_MS 250
#define LOG_EVERY_MS 10000

/* Is a line about this condition due? Counts the ones that are not. */
static bool log_due(uint64_t *last_ms, unsigned *suppressed)
{
	uint64_t now = prk_now_ms();
	if (*last_ms && now - *last_ms < LOG_EVERY_MS) {
		(*suppressed)++;
		return false;
	}
	*last_ms = now;
	return true;
}

void prk_srv_listen_update(struct prk_iscsi_server *s)
{
	bool at_cap = s->n_login >= s->opts.max_login_conns;
	bool want = !at_cap && !s->accept_backoff;
	if (at_cap && !s->at_login_cap) {
		s->at_login_cap = true;
		if (log_due(&s->cap_log_ms, &s->cap_log_suppressed)) {
			prk_warn("%u connections are in login (max_login_connections): not "
			         "accepting more until one finishes (%u times unlogged before)",
			         s->n_login, s->cap_log_suppressed);
			s->cap_log_suppressed = 0;
		}
	} else if (!at_cap) {
		s->at_login_cap = false;
	}
	if (want == s->listening)
		return;
	s->listening = want;
	for (struct prk_portal *p = s->portals; p; p = p->next)
		prk_loop_mod(s->loop, p->h, want ? EPOLLIN : 0);
}

void prk_srv_accept_resume(void *arg)
{
	struct prk_iscsi_server *s = arg;
	s->accept_backoff = false;
	prk_srv_listen_update(s);
}

/* accept() failed with err (not EAGAIN): rest the portals a while. */
static void accept_failed(struct prk_portal *p, int err)
{
	struct prk_iscsi_server *s = p->srv;
	if (!s->accept_failures) {
		s->accept_logged = log_due(&s->accept_log_ms, &s->accept_log_suppressed);
		if (s->accept_logged) {
			prk_warn("portal %s:%u: accept: %s: pausing %u ms between attempts until "
			         "it works again (%u times unlogged before)",
			         p->addr, p->port, strerror(err), ACCEPT_BACKOFF_MS,
			         s->accept_log_suppressed);
			s->accept_log_suppressed = 0;
		}
	}
	s->accept_failures++;
	s->accept_backoff = true;
	if (prk_loop_timer_arm(s->accept_timer, ACCEPT_BACKOFF_MS, 0))
		s->accept_backoff = false; /* cannot rest: better spin than never accept */
	prk_srv_listen_update(s);
}

static void peer_name(const struct sockaddr_storage *ss, char *peer, size_t cap)
{
	snprintf(peer, cap, "?");
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(peer, cap, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(peer, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

void prk_srv_on_accept(void *arg, uint32_t events)
{
	struct prk_portal *p = arg;
	struct prk_iscsi_server *s = p->srv;
	(void)events;
	while (s->listening) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(p->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				accept_failed(p, errno);
			return;
		}
		if (s->accept_failures && s->accept_logged)
			prk_info("portal %s:%u: accepting connections again after %u failed "
			         "attempts",
			         p->addr, p->port, s->accept_failures);
		s->accept_failures = 0;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		char peer[64];
		peer_name(&ss, peer, sizeof(peer));
		prk_conn_accept(p, fd, peer); /* counts it in n_login, may stop listening */
	}
}
