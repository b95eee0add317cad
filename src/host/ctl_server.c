/* The control socket, server side (host_ctl.h; docs/host.md, "Control
 * socket"): another process of this host (the fence agent, prkit
 * fenced) lists our devices, stalls and resumes their I/O, changes their
 * key, and fails their I/O for good when this node fenced itself.
 *
 * Served from the application's own prk_host_run only (the loop source
 * of ctl_listen.c is top_only), never
 * from a nested loop: set_key runs PR commands synchronously, and must
 * not start in the middle of another synchronous operation. The
 * connections are not polled while a request runs, so a client that
 * disconnects meanwhile is seen afterwards.
 *
 * Safety: a stall belongs to the connection that asked for it and ends
 * when that connection asks, closes, or when its max_ms pass, so a
 * crashed or hung agent cannot stop our I/O for good. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "ctl_server.h"
#include "mpdev.h"

/* ---- stalls ---- */

static void stall_release(struct ctl_stall *s)
{
	struct prk_mpdev *d = s->d;
	/* The idle timeout of its connection starts now, not at the request. */
	s->c->active_ms = prk_host_now_ms();
	s->c = NULL;
	s->d = NULL;
	d->h->ctl->n_stalls--;
	prk_mpdev_resume(d);
}

static struct ctl_stall *stall_find(struct ctl_server *s, struct ctl_conn *c, struct prk_mpdev *d)
{
	for (int i = 0; i < CTL_MAX_STALLS; i++)
		if (s->stalls[i].c == c && s->stalls[i].d == d)
			return &s->stalls[i];
	return NULL;
}

static struct ctl_stall *stall_free_rec(struct ctl_server *s)
{
	return stall_find(s, NULL, NULL);
}

static unsigned stall_free_count(const struct ctl_server *s)
{
	unsigned n = 0;
	for (int i = 0; i < CTL_MAX_STALLS; i++)
		n += s->stalls[i].c == NULL;
	return n;
}

/* Releases c's stalls of devices with this NAA (every one when naa is
 * NULL). Returns how many. */
static unsigned release_of(struct prk_host *h, struct ctl_conn *c, const char *naa)
{
	unsigned n = 0;
	for (int i = 0; i < CTL_MAX_STALLS; i++) {
		struct ctl_stall *s = &h->ctl->stalls[i];
		if (s->c != c || (naa && !prk_ctl_naa_eq(s->d->naa, naa)))
			continue;
		if (!naa)
			prk_hlog(h, 0,
			         "control: pid %d went away holding a stall of naa.%s: resumed",
			         (int)c->pid, s->d->naa);
		stall_release(s);
		n++;
	}
	return n;
}

/* The devices of this process with that NAA (a process may reach one LU
 * through several devices, e.g. two initiator names). */
static size_t match(struct prk_host *h, const char *naa, struct prk_mpdev **out, size_t cap)
{
	size_t n = 0;
	for (struct prk_mpdev *d = h->devs; d && n < cap; d = d->next)
		if (!d->freeing && d->naa[0] && prk_ctl_naa_eq(d->naa, naa))
			out[n++] = d;
	return n;
}

static bool dev_alive(struct prk_host *h, const struct prk_mpdev *d)
{
	for (struct prk_mpdev *x = h->devs; x; x = x->next)
		if (x == d)
			return !d->freeing;
	return false;
}

/* ---- connections ---- */

static void conn_flush(struct ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->out_off += (size_t)w;
			c->active_ms = prk_host_now_ms(); /* the client reads */
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		c->eof = true; /* the peer is gone: nothing more to say */
		c->out_off = c->out_len;
	}
	c->out_off = c->out_len = 0;
}

static void conn_close(struct prk_host *h, struct ctl_conn *c, const char *why)
{
	if (c->fd < 0)
		return;
	release_of(h, c, NULL);
	conn_flush(c);
	prk_hlog(h, 1, "control: connection of pid %d closed (%s)", (int)c->pid, why);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	h->ctl->n_conns--;
}

static void send_reply(struct prk_host *h, struct ctl_conn *c, const struct ctl_reply *r)
{
	char *line = prk_ctl_reply_format(r);
	size_t n = line ? strlen(line) : 0;
	if (!line) {
		conn_close(h, c, "out of memory");
		return;
	}
	if (c->out_len + n > CTL_OUT_MAX) {
		free(line);
		conn_close(h, c, "it does not read its replies");
		return;
	}
	char *o = realloc(c->out, c->out_len + n);
	if (!o) {
		free(line);
		conn_close(h, c, "out of memory");
		return;
	}
	c->out = o;
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	free(line);
	c->active_ms = prk_host_now_ms();
	conn_flush(c);
}

static void reply_error(struct prk_host *h, struct ctl_conn *c, bool fenced, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_error(struct prk_host *h, struct ctl_conn *c, bool fenced, const char *fmt, ...)
{
	struct ctl_reply r = {.ok = false, .fenced = fenced};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.error, sizeof(r.error), fmt, ap);
	va_end(ap);
	send_reply(h, c, &r);
}

/* ok; present false carries why nothing was done. */
static void reply_done(struct prk_host *h, struct ctl_conn *c, bool present, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_done(struct prk_host *h, struct ctl_conn *c, bool present, const char *fmt, ...)
{
	struct ctl_reply r = {.ok = true, .present = present};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.error, sizeof(r.error), fmt, ap);
	va_end(ap);
	send_reply(h, c, &r);
}

/* ---- requests ---- */

static void do_list(struct prk_host *h, struct ctl_conn *c)
{
	size_t n = 0;
	for (struct prk_mpdev *d = h->devs; d; d = d->next)
		n++;
	struct prk_ctl_dev *devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs) {
		reply_error(h, c, false, "out of memory");
		return;
	}
	size_t k = 0;
	for (struct prk_mpdev *d = h->devs; d; d = d->next, k++) {
		struct prk_ctl_dev *o = &devs[k];
		snprintf(o->naa, sizeof(o->naa), "%s", d->naa);
		o->key = d->key;
		o->open = d->open;
		o->fenced = d->fenced;
		o->stalled = d->stalls > 0;
		o->inflight = d->inflight;
		o->n_paths = (unsigned)d->n_paths;
		for (size_t i = 0; i < d->n_paths; i++)
			o->n_up += prk_path_usable(&d->paths[i]);
	}
	struct ctl_reply r = {.ok = true, .is_list = true, .devs = devs, .n_devs = n};
	send_reply(h, c, &r);
	free(devs);
}

/* A waiting stall request: answered once every device it stalled has no
 * I/O in flight; failed (and its stall released) after the drain limit. */
static void check_waiting(struct prk_host *h, struct ctl_conn *c, uint64_t now)
{
	bool any = false;
	unsigned inflight = 0;
	for (int i = 0; i < CTL_MAX_STALLS; i++) {
		struct ctl_stall *s = &h->ctl->stalls[i];
		if (s->c != c || !prk_ctl_naa_eq(s->d->naa, c->wait_naa))
			continue;
		any = true;
		inflight += s->d->inflight;
	}
	if (!any) {
		c->waiting = false;
		reply_error(h, c, false,
		            "naa.%s: the stall ended before its I/O drained (max_ms passed, or the "
		            "device went away)",
		            c->wait_naa);
	} else if (!inflight) {
		c->waiting = false;
		reply_done(h, c, true, "%s", "");
	} else if (now >= c->wait_until_ms) {
		c->waiting = false;
		release_of(h, c, c->wait_naa);
		prk_hlog(h, 0,
		         "control: naa.%s: %u I/O still in flight %u ms after the stall: resumed",
		         c->wait_naa, inflight, c->drain_limit_ms);
		reply_error(h, c, false,
		            "naa.%s: %u I/O still in flight after %u ms; the stall was released",
		            c->wait_naa, inflight, c->drain_limit_ms);
	}
}

static void do_stall(struct prk_host *h, struct ctl_conn *c, const struct ctl_req *q)
{
	struct prk_mpdev *m[CTL_MAX_STALLS];
	size_t n = match(h, q->naa, m, CTL_MAX_STALLS);
	if (!n) {
		reply_done(h, c, false, "no device naa.%s in this process", q->naa);
		return;
	}
	unsigned need = 0;
	for (size_t i = 0; i < n; i++)
		need += stall_find(h->ctl, c, m[i]) == NULL;
	if (need > stall_free_count(h->ctl)) {
		reply_error(h, c, false, "naa.%s: too many stalls are held (at most %d)", q->naa,
		            CTL_MAX_STALLS);
		return;
	}
	uint64_t now = prk_host_now_ms();
	unsigned limit = 0;
	for (size_t i = 0; i < n; i++) {
		struct prk_mpdev *d = m[i];
		struct ctl_stall *s = stall_find(h->ctl, c, d);
		if (!s) {
			s = stall_free_rec(h->ctl);
			s->c = c;
			s->d = d;
			h->ctl->n_stalls++;
			prk_mpdev_stall(d);
		}
		/* A repeated stall renews the lease, it is not counted twice. */
		s->expires_ms = now + q->max_ms;
		s->max_ms = q->max_ms;
		/* In-flight I/O ends within its timeout and the ABORT TASK's. */
		unsigned l = dflt(d->o.io_timeout_ms, 10000) + dflt(d->o.tmf_timeout_ms, 3000);
		if (l > limit)
			limit = l;
	}
	prk_hlog(h, 1, "control: pid %d stalls naa.%s for at most %u ms", (int)c->pid, q->naa,
	         q->max_ms);
	c->waiting = true;
	snprintf(c->wait_naa, sizeof(c->wait_naa), "%s", q->naa);
	c->wait_until_ms = now + limit;
	c->drain_limit_ms = limit;
	check_waiting(h, c, now);
}

static void do_resume(struct prk_host *h, struct ctl_conn *c, const struct ctl_req *q)
{
	unsigned n = release_of(h, c, q->naa);
	if (n)
		prk_hlog(h, 1, "control: pid %d resumes naa.%s", (int)c->pid, q->naa);
	reply_done(h, c, n > 0, "naa.%s is not stalled by this connection", q->naa);
}

static void do_set_key(struct prk_host *h, struct ctl_conn *c, const struct ctl_req *q)
{
	struct prk_mpdev *m[CTL_MAX_STALLS];
	size_t n = match(h, q->naa, m, CTL_MAX_STALLS), k = 0;
	if (!n) {
		reply_done(h, c, false, "no device naa.%s in this process", q->naa);
		return;
	}
	uint64_t seen = m[0]->key;
	for (size_t i = 0; i < n; i++)
		if (!q->old_key || m[i]->key == q->old_key)
			m[k++] = m[i];
	if (!k) {
		reply_done(h, c, false, "naa.%s is not using key 0x%llx (its key is 0x%llx)",
		           q->naa, (unsigned long long)q->old_key, (unsigned long long)seen);
		return;
	}
	prk_hlog(h, 1, "control: pid %d sets the key of naa.%s: 0x%llx -> 0x%llx", (int)c->pid,
	         q->naa, (unsigned long long)q->old_key, (unsigned long long)q->new_key);
	struct prk_host_err first = {.code = PRK_HE_OK};
	bool failed = false, fenced = false;
	for (size_t i = 0; i < k; i++) {
		/* The commands run the loop: a device may have gone meanwhile. */
		if (!dev_alive(h, m[i]))
			continue;
		/* Closed and unregistered: nothing on the target to change;
		 * registering there would leave a key behind for a device
		 * nobody opened. The next open registers the new key. */
		if (prk_dev_key_is_local(m[i])) {
			prk_dev_set_key_local(m[i], q->new_key);
			continue;
		}
		struct prk_host_err e = {.code = PRK_HE_OK};
		int rc = q->old_key ? prk_mpdev_change_key(m[i], q->old_key, q->new_key, &e)
		                    : prk_mpdev_register(m[i], q->new_key, &e);
		if (rc == 0 && !q->old_key) {
			struct prk_event ev = {.kind = PRK_EV_KEY_CHANGED,
			                       .path = -1,
			                       .old_path = -1,
			                       .why = "key registered (control socket)"};
			prk_dev_event(m[i], &ev);
		}
		if (rc && !failed) {
			failed = true;
			first = e;
		}
		fenced |= rc && e.code == PRK_HE_FENCED;
	}
	if (failed)
		reply_error(h, c, fenced, "naa.%s: %s", q->naa, first.msg);
	else
		reply_done(h, c, true, "%s", "");
}

/* Self-fence (prkit fenced lost quorum or its key): local, no command to
 * the target; stays until a key is registered again (set_key). */
static void do_fail(struct prk_host *h, struct ctl_conn *c, const struct ctl_req *q)
{
	struct prk_mpdev *m[CTL_MAX_STALLS];
	size_t n = match(h, q->naa, m, CTL_MAX_STALLS);
	if (!n) {
		reply_done(h, c, false, "no device naa.%s in this process", q->naa);
		return;
	}
	prk_hlog(h, 0, "control: pid %d fails the I/O of naa.%s: %s", (int)c->pid, q->naa,
	         q->reason);
	for (size_t i = 0; i < n; i++)
		prk_mpdev_self_fence(m[i], q->reason);
	reply_done(h, c, true, "%s", "");
}

static void handle_line(struct prk_host *h, struct ctl_conn *c, const char *line, size_t len)
{
	struct ctl_req q;
	char err[256];
	if (prk_ctl_req_parse(line, len, &q, err, sizeof(err))) {
		prk_hlog(h, 1, "control: pid %d: bad request: %s", (int)c->pid, err);
		reply_error(h, c, false, "%s", err);
		return;
	}
	switch (q.op) {
	case CTL_OP_LIST:
		do_list(h, c);
		break;
	case CTL_OP_STALL:
		do_stall(h, c, &q);
		break;
	case CTL_OP_RESUME:
		do_resume(h, c, &q);
		break;
	case CTL_OP_SET_KEY:
		do_set_key(h, c, &q);
		break;
	case CTL_OP_FAIL:
		do_fail(h, c, &q);
		break;
	}
}

/* Runs the complete request lines c has sent, one at a time (a stall
 * waiting to drain holds the next), then closes it after its EOF. */
static void conn_work(struct prk_host *h, struct ctl_conn *c)
{
	while (c->fd >= 0 && !c->waiting) {
		char *nl = memchr(c->in, '\n', c->in_len);
		if (!nl) {
			if (c->in_len == sizeof(c->in))
				conn_close(h, c, "request line too long");
			break;
		}
		size_t len = (size_t)(nl - c->in);
		handle_line(h, c, c->in, len);
		if (c->fd < 0)
			return;
		c->in_len -= len + 1;
		memmove(c->in, nl + 1, c->in_len);
	}
	if (c->fd >= 0 && c->eof)
		conn_close(h, c, "end of connection");
}

static bool has_line(const struct ctl_conn *c)
{
	return memchr(c->in, '\n', c->in_len) != NULL;
}

static void conn_read(struct ctl_conn *c, short revents)
{
	if (c->waiting && has_line(c)) {
		/* Not reading now; a hang-up still ends the connection. */
		if (revents & (POLLHUP | POLLERR | POLLRDHUP))
			c->eof = true;
		return;
	}
	while (c->in_len < sizeof(c->in)) {
		ssize_t r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (r > 0) {
			c->in_len += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			c->eof = true;
		break;
	}
}

/* ---- idle connections: the timeout and the cap ---- */

static bool holds_stall(const struct ctl_server *s, const struct ctl_conn *c)
{
	for (int i = 0; s->n_stalls && i < CTL_MAX_STALLS; i++)
		if (s->stalls[i].c == c)
			return true;
	return false;
}

/* When c is closed for idleness (UINT64_MAX: never, while a stall it holds
 * or a drain it awaits is under way: those have their own limits). */
static uint64_t idle_deadline(const struct ctl_server *s, const struct ctl_conn *c)
{
	if (c->waiting || holds_stall(s, c))
		return UINT64_MAX;
	return c->active_ms + s->idle_ms;
}

/* Busy: something under way that closing would break. An unfinished
 * request line counts (it may be the fence agent's, just arriving); it is
 * still bounded by the idle timeout. */
static bool busy(const struct ctl_server *s, const struct ctl_conn *c)
{
	return c->waiting || c->in_len > 0 || c->out_len > c->out_off || holds_stall(s, c);
}

/* Closes c with a last line that says why (a client that sends a request
 * later reads it instead of a bare reset). */
static void close_idle(struct prk_host *h, struct ctl_conn *c, const char *why)
{
	struct ctl_reply r = {.ok = false};
	snprintf(r.error, sizeof(r.error), "%s: connection closed", why);
	send_reply(h, c, &r);
	conn_close(h, c, why);
}

int prk_ctl_conn_add(struct prk_host *h, int fd, pid_t pid, uid_t uid)
{
	struct ctl_server *s = h->ctl;
	struct ctl_conn *c = NULL, *oldest = NULL;
	for (int i = 0; i < CTL_MAX_CONNS && !c; i++) {
		struct ctl_conn *x = &s->conns[i];
		if (x->fd < 0)
			c = x;
		else if (!busy(s, x) && (!oldest || x->active_ms < oldest->active_ms))
			oldest = x;
	}
	if (!c && oldest) {
		/* A reserved slot would need to know which client is the fence
		 * agent, which nothing tells; counting only busy clients needs
		 * no such guess: an idle one makes room for a new one. */
		prk_hlog(h, 0, "control: pid %d idle for %llu ms: closed to make room for pid %d",
		         (int)oldest->pid,
		         (unsigned long long)(prk_host_now_ms() - oldest->active_ms), (int)pid);
		close_idle(h, oldest, "idle, and its slot was needed");
		c = oldest;
	}
	if (!c)
		return -1;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	s->n_conns++;
	c->pid = pid;
	c->uid = uid;
	c->active_ms = prk_host_now_ms();
	prk_hlog(h, 1, "control: connection of pid %d", (int)pid);
	/* A request already sent makes it busy at once, so that a burst of
	 * connections right behind it cannot push it out before it is read. */
	conn_read(c, 0);
	conn_work(h, c);
	return 0;
}

/* ---- the loop's hooks ---- */

/* now: the loop's reading at the start of this pass (one clock read per
 * pass serves every source). */
int prk_ctl_poll_fill(struct prk_host *h, struct pollfd *pfd, int cap, uint64_t now,
                      uint64_t *next_ms)
{
	struct ctl_server *s = h->ctl;
	if (!s || cap < 1)
		return 0;
	int n = 0;
	if (now >= s->accept_pause_until) {
		pfd[n] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
		s->map[n++] = -1;
	} else if (s->accept_pause_until < *next_ms) {
		*next_ms = s->accept_pause_until;
	}
	for (int i = 0; s->n_conns && i < CTL_MAX_CONNS && n < cap; i++) {
		struct ctl_conn *c = &s->conns[i];
		if (c->fd < 0)
			continue;
		short ev = 0;
		if (c->out_len > c->out_off)
			ev |= POLLOUT;
		if (!(c->waiting && has_line(c)))
			ev |= POLLIN | POLLRDHUP;
		pfd[n] = (struct pollfd){.fd = c->fd, .events = ev};
		s->map[n++] = i;
		if (c->waiting && c->wait_until_ms < *next_ms)
			*next_ms = c->wait_until_ms;
		uint64_t idle = idle_deadline(s, c);
		if (idle < *next_ms)
			*next_ms = idle;
	}
	for (int i = 0; s->n_stalls && i < CTL_MAX_STALLS; i++)
		if (s->stalls[i].c && s->stalls[i].expires_ms < *next_ms)
			*next_ms = s->stalls[i].expires_ms;
	return n;
}

static void ctl_deadlines(struct prk_host *h)
{
	struct ctl_server *s = h->ctl;
	if (!s->n_stalls && !s->n_conns)
		return; /* no deadline to check: no clock read either */
	uint64_t now = prk_host_now_ms();
	for (int i = 0; s->n_stalls && i < CTL_MAX_STALLS; i++) {
		struct ctl_stall *st = &s->stalls[i];
		if (!st->c || now < st->expires_ms)
			continue;
		prk_hlog(
		    h, 0,
		    "control: the stall of naa.%s by pid %d ended after max_ms %u ms without a "
		    "resume: resumed",
		    st->d->naa, (int)st->c->pid, st->max_ms);
		stall_release(st);
	}
	for (int i = 0; s->n_conns && i < CTL_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0 && s->conns[i].waiting)
			check_waiting(h, &s->conns[i], now);
	for (int i = 0; s->n_conns && i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &s->conns[i];
		if (c->fd < 0 || now < idle_deadline(s, c))
			continue;
		char why[96];
		snprintf(why, sizeof(why), "%s for %u ms",
		         c->in_len ? "an unfinished request" : "idle", s->idle_ms);
		prk_hlog(h, 1, "control: pid %d: %s", (int)c->pid, why);
		close_idle(h, c, why);
	}
}

bool prk_ctl_service(struct prk_host *h, struct pollfd *pfd, int n)
{
	struct ctl_server *s = h->ctl;
	if (!s)
		return false;
	bool listen_ready = false;
	for (int k = 0; k < n; k++) {
		if (!pfd[k].revents)
			continue;
		if (s->map[k] < 0) {
			listen_ready = true;
			continue;
		}
		struct ctl_conn *c = &s->conns[s->map[k]];
		if (c->fd != pfd[k].fd)
			continue;
		if (pfd[k].revents & POLLOUT)
			conn_flush(c);
		if (pfd[k].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))
			conn_read(c, pfd[k].revents);
		conn_work(h, c);
	}
	ctl_deadlines(h);
	/* A stall answered just now lets that connection's next line run. */
	for (int i = 0; s->n_conns && i < CTL_MAX_CONNS; i++)
		if (s->conns[i].fd >= 0)
			conn_work(h, &s->conns[i]);
	return listen_ready;
}

void prk_ctl_dev_freed(struct prk_host *h, struct prk_mpdev *d)
{
	if (!h->ctl)
		return;
	for (int i = 0; i < CTL_MAX_STALLS; i++) {
		struct ctl_stall *s = &h->ctl->stalls[i];
		if (s->d == d) {
			s->c = NULL;
			s->d = NULL;
			h->ctl->n_stalls--;
		}
	}
}

void prk_ctl_conns_close(struct prk_host *h)
{
	struct ctl_server *s = h->ctl;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(h, &s->conns[i], "the host is freed");
}
