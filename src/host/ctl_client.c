/* The control socket, client side (host_ctl.h): what the fence agent uses
 * to reach the I/O processes of its host. Blocking sockets, every wait
 * bounded by poll() with the connection's timeout; a request that times
 * out closes the connection, so that a late answer is never taken for the
 * next request's, and the server releases the stalls it held for us. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "errfmt.h"
#include "prkit/host_ctl.h"

struct prk_ctl_client {
	int fd; /* -1 once closed after an error */
	int timeout_ms;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *in; /* what was read and not yet used */
	size_t in_len, in_cap;
};

/* Connects; NULL with *errnum set (0: not a socket problem, err says). */
static struct prk_ctl_client *ctl_open(const char *path, int timeout_ms, int *errnum, char *err,
                                       size_t errlen)
{
	*errnum = 0;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (!path || !*path || strlen(path) >= sizeof(a.sun_path)) {
		prk_errf(err, errlen, "control socket '%s': empty, or longer than %zu bytes",
		         path ? path : "", sizeof(a.sun_path) - 1);
		return NULL;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*errnum = errno;
		prk_errf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return NULL;
	}
	/* connect() on a UNIX socket waits for room in the listener's
	 * backlog, bounded by the send timeout. */
	if (timeout_ms > 0) {
		struct timeval tv = {.tv_sec = timeout_ms / 1000,
		                     .tv_usec = (timeout_ms % 1000) * 1000};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		*errnum = errno;
		prk_errf(err, errlen, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct prk_ctl_client *c = calloc(1, sizeof(*c));
	if (!c) {
		prk_errf(err, errlen, "control socket %s: out of memory", path);
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return c;
}

struct prk_ctl_client *prk_ctl_connect(const char *sock_path, int timeout_ms, char *err,
                                       size_t errlen)
{
	int e;
	return ctl_open(sock_path, timeout_ms, &e, err, errlen);
}

const char *prk_ctl_client_path(const struct prk_ctl_client *c)
{
	return c->path;
}

void prk_ctl_close(struct prk_ctl_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c);
}

static int sock_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".sock") == 0;
}

int prk_ctl_connect_all(const char *state_dir, int timeout_ms, struct prk_ctl_client **out,
                        size_t cap, char *err, size_t errlen)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/ctl", state_dir);
	struct dirent **names;
	int n = scandir(dir, &names, sock_filter, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return prk_errf(err, errlen, "control socket directory %s: %s", dir,
		                strerror(errno));
	}
	size_t got = 0;
	for (int i = 0; i < n; i++) {
		char path[1300], e2[256];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		int errnum = 0;
		struct prk_ctl_client *c =
		    got < cap ? ctl_open(path, timeout_ms, &errnum, e2, sizeof(e2)) : NULL;
		struct stat st;
		if (c)
			out[got++] = c;
		else if (errnum == ECONNREFUSED && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path); /* its process is gone */
		free(names[i]);
	}
	free(names);
	return (int)got;
}

/* ---- one request, one reply ---- */

static int remaining(uint64_t end)
{
	if (end == UINT64_MAX)
		return -1;
	uint64_t now = prk_host_now_ms();
	return now >= end ? 0 : (int)(end - now);
}

static void broken(struct prk_ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int send_all(struct prk_ctl_client *c, const char *s, size_t n, uint64_t end, char *err,
                    size_t errlen)
{
	while (n) {
		struct pollfd p = {.fd = c->fd, .events = POLLOUT};
		int r = poll(&p, 1, remaining(end));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			broken(c);
			return prk_errf(err, errlen, "control socket %s: %s", c->path,
			                r == 0 ? "the process does not take the request (timeout)"
			                       : strerror(errno));
		}
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0) {
			int e = errno;
			broken(c);
			return prk_errf(err, errlen, "control socket %s: %s", c->path, strerror(e));
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until a whole line is buffered; its length (without '\n'), or -1. */
static long read_line(struct prk_ctl_client *c, uint64_t end, char *err, size_t errlen)
{
	for (;;) {
		char *nl = c->in ? memchr(c->in, '\n', c->in_len) : NULL;
		if (nl)
			return nl - c->in;
		if (c->in_len > CTL_REPLY_MAX) {
			broken(c);
			return prk_errf(err, errlen,
			                "control socket %s: a reply longer than %u bytes", c->path,
			                CTL_REPLY_MAX);
		}
		if (c->in_cap - c->in_len < 4096) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			char *b = realloc(c->in, cap);
			if (!b) {
				broken(c);
				return prk_errf(err, errlen, "control socket %s: out of memory",
				                c->path);
			}
			c->in = b;
			c->in_cap = cap;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, remaining(end));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			broken(c);
			return prk_errf(err, errlen, "control socket %s: no answer in time",
			                c->path);
		}
		ssize_t got = r < 0 ? -1 : read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			int e = errno;
			broken(c);
			return prk_errf(err, errlen, "control socket %s: %s", c->path,
			                got == 0 ? "the process closed the connection"
			                         : strerror(e));
		}
		c->in_len += (size_t)got;
	}
}

/* The process closes a connection that has been idle too long (telling
 * why in a last line). Between requests nothing else ever arrives, so
 * anything readable now means that happened: connect again, which is safe
 * because nothing of the next request has been sent yet. (A fence agent
 * that fences another device meanwhile may leave a process's connection
 * idle for longer than its timeout.) */
static int reopen_if_closed(struct prk_ctl_client *c, char *err, size_t errlen)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (c->in_len || poll(&p, 1, 0) <= 0)
		return 0;
	int e;
	struct prk_ctl_client *n = ctl_open(c->path, c->timeout_ms, &e, err, errlen);
	if (!n) {
		broken(c);
		return -1;
	}
	close(c->fd);
	c->fd = n->fd;
	n->fd = -1;
	prk_ctl_close(n);
	return 0;
}

static int request(struct prk_ctl_client *c, const struct ctl_req *q, struct ctl_reply *r,
                   struct prk_ctl_dev *devs, size_t cap, char *err, size_t errlen)
{
	if (c->fd < 0)
		return prk_errf(err, errlen,
		                "control socket %s: the connection was closed after an error",
		                c->path);
	if (reopen_if_closed(c, err, errlen))
		return -1;
	uint64_t end =
	    c->timeout_ms <= 0 ? UINT64_MAX : prk_host_now_ms() + (uint64_t)c->timeout_ms;
	char *line = prk_ctl_req_format(q);
	if (!line)
		return prk_errf(err, errlen, "control socket %s: out of memory", c->path);
	int rc = send_all(c, line, strlen(line), end, err, errlen);
	free(line);
	if (rc)
		return -1;
	long n = read_line(c, end, err, errlen);
	if (n < 0)
		return -1;
	char perr[256];
	rc = prk_ctl_reply_parse(c->in, (size_t)n, r, devs, cap, perr, sizeof(perr));
	c->in_len -= (size_t)n + 1;
	memmove(c->in, c->in + n + 1, c->in_len);
	if (rc) {
		broken(c);
		return prk_errf(err, errlen, "control socket %s: %s", c->path, perr);
	}
	if (!r->ok)
		return prk_errf(err, errlen, "%s", r->error);
	return 0;
}

/* 1 done, 0 nothing done (err says why), -1 error. */
static int naa_request(struct prk_ctl_client *c, struct ctl_req *q, bool *fenced, char *err,
                       size_t errlen)
{
	if (!q->naa[0] || !prk_ctl_naa_valid(q->naa))
		return prk_errf(err, errlen, "naa '%s': not 1 to 32 hex digits", q->naa);
	struct ctl_reply r = {.ok = false};
	int rc = request(c, q, &r, NULL, 0, err, errlen);
	if (fenced)
		*fenced = rc && r.fenced;
	if (rc)
		return -1;
	if (!r.present) {
		prk_errf(err, errlen, "%s", r.error[0] ? r.error : "nothing to do");
		return 0;
	}
	return 1;
}

static int set_naa(struct ctl_req *q, const char *naa)
{
	if (!naa || strlen(naa) >= sizeof(q->naa))
		return -1;
	snprintf(q->naa, sizeof(q->naa), "%s", naa);
	return 0;
}

int prk_ctl_list(struct prk_ctl_client *c, struct prk_ctl_dev *out, size_t cap, char *err,
                 size_t errlen)
{
	struct ctl_req q = {.op = CTL_OP_LIST};
	struct ctl_reply r;
	if (request(c, &q, &r, out, cap, err, errlen))
		return -1;
	if (!r.is_list)
		return prk_errf(err, errlen, "control socket %s: the reply has no device list",
		                c->path);
	return (int)r.n_devs;
}

int prk_ctl_stall(struct prk_ctl_client *c, const char *naa, unsigned max_ms, char *err,
                  size_t errlen)
{
	struct ctl_req q = {.op = CTL_OP_STALL, .max_ms = max_ms};
	if (set_naa(&q, naa))
		return prk_errf(err, errlen, "naa: not 1 to 32 hex digits");
	if (max_ms < 1 || max_ms > CTL_MAX_MS_LIMIT)
		return prk_errf(err, errlen, "max_ms %u: not from 1 to %u", max_ms,
		                CTL_MAX_MS_LIMIT);
	return naa_request(c, &q, NULL, err, errlen);
}

int prk_ctl_resume(struct prk_ctl_client *c, const char *naa, char *err, size_t errlen)
{
	struct ctl_req q = {.op = CTL_OP_RESUME};
	if (set_naa(&q, naa))
		return prk_errf(err, errlen, "naa: not 1 to 32 hex digits");
	return naa_request(c, &q, NULL, err, errlen);
}

int prk_ctl_set_key(struct prk_ctl_client *c, const char *naa, uint64_t old_key, uint64_t new_key,
                    bool *fenced, char *err, size_t errlen)
{
	if (fenced)
		*fenced = false;
	struct ctl_req q = {.op = CTL_OP_SET_KEY, .old_key = old_key, .new_key = new_key};
	if (set_naa(&q, naa))
		return prk_errf(err, errlen, "naa: not 1 to 32 hex digits");
	if (!new_key)
		return prk_errf(err, errlen, "new key: must not be 0");
	return naa_request(c, &q, fenced, err, errlen);
}

int prk_ctl_fail(struct prk_ctl_client *c, const char *naa, const char *reason, char *err,
                 size_t errlen)
{
	struct ctl_req q = {.op = CTL_OP_FAIL};
	if (set_naa(&q, naa))
		return prk_errf(err, errlen, "naa: not 1 to 32 hex digits");
	if (!reason || !*reason || strlen(reason) > CTL_REASON_MAX)
		return prk_errf(err, errlen, "reason: must be 1 to %d characters", CTL_REASON_MAX);
	/* The server takes printable ASCII only: anything else becomes '?'. */
	size_t n = strlen(reason);
	for (size_t i = 0; i < n; i++)
		q.reason[i] = (reason[i] >= 0x20 && reason[i] < 0x7f) ? reason[i] : '?';
	q.reason[n] = 0;
	return naa_request(c, &q, NULL, err, errlen);
}
