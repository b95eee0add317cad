/* The control socket's listening side (host_ctl.h): choosing the path,
 * replacing a stale socket file but never a live one, accepting only
 * peers of our uid (or root), and removing the file again at the end,
 * only if it is still ours. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_server.h"
#include "prkit/host_ctl.h"

/* Accepts every pending connection of a peer with our uid or uid 0. */
static void accept_all(struct prk_host *h)
{
	struct ctl_server *s = h->ctl;
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 &&
		    (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
			/* The pending connection stays queued (a client that gives
			 * up is gone by the next try); the devices' I/O goes on. */
			if (!s->accept_failing)
				prk_hlog(
				    h, 0,
				    "control: cannot accept connections: %s; trying again every "
				    "%u ms",
				    strerror(errno), CTL_ACCEPT_PAUSE_MS);
			s->accept_failing = true;
			s->accept_pause_until = prk_host_now_ms() + CTL_ACCEPT_PAUSE_MS;
			return;
		}
		if (fd < 0)
			return;
		if (s->accept_failing) {
			prk_hlog(h, 0, "control: accepting connections again");
			s->accept_failing = false;
		}
		struct ucred cr = {.pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
		socklen_t len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) ||
		    (cr.uid != geteuid() && cr.uid != 0)) {
			prk_hlog(
			    h, 0,
			    "control: refused a connection of pid %d, uid %d (only uid %d and 0)",
			    (int)cr.pid, (int)cr.uid, (int)geteuid());
			close(fd);
			continue;
		}
		if (prk_ctl_conn_add(h, fd, cr.pid, cr.uid)) {
			static const char busy[] =
			    "{\"ok\":false,\"error\":\"too many control connections\"}\n";
			prk_hlog(h, 0,
			         "control: refused a connection of pid %d: %d connections are busy",
			         (int)cr.pid, CTL_MAX_CONNS);
			/* Best effort: the client reads why, or sees the close. */
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
	}
}

/* A socket file at path: replaced when nobody listens on it. */
static int clear_stale(const char *path, struct prk_host_err *err)
{
	struct stat st;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		prk_herr(err, PRK_HE_STATE, -1, "control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket %s: exists and is not a socket",
		         path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN) {
		prk_herr(err, PRK_HE_IN_USE, -1, "control socket %s: another process listens on it",
		         path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket %s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) && errno != ENOENT) {
		prk_herr(err, PRK_HE_STATE, -1,
		         "control socket %s: cannot remove the stale file: %s", path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int default_path(struct prk_host *h, char *buf, size_t cap, struct prk_host_err *err)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/ctl", h->state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket directory %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(buf, cap, "%s/%d.sock", dir, (int)getpid()) >= cap) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "control socket %s/%d.sock: longer than a UNIX socket path may be (%zu)",
		         dir, (int)getpid(), cap - 1);
		return -1;
	}
	return 0;
}

static int bind_listen(struct ctl_server *s, struct prk_host_err *err)
{
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket: %s", strerror(errno));
		return -1;
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, s->path, sizeof(a.sun_path));
	struct stat st;
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || chmod(s->path, 0600) ||
	    listen(s->lfd, 16) || lstat(s->path, &st)) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket %s: %s", s->path, strerror(errno));
		close(s->lfd);
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

static void listen_close(struct ctl_server *s);

/* The loop's hooks: the control socket is a top_only source, served
 * after the devices in the application's own passes only. */
static int ctl_fill(void *arg, struct pollfd *pfd, void **tag, int cap, uint64_t now,
                    uint64_t *next_ms)
{
	struct ctl_server *s = arg;
	(void)tag;
	return prk_ctl_poll_fill(s->h, pfd, cap < CTL_MAX_POLLFDS ? cap : CTL_MAX_POLLFDS, now,
	                         next_ms);
}

static void ctl_serve(void *arg, struct pollfd *pfd, void **tag, int n)
{
	struct ctl_server *s = arg;
	(void)tag;
	if (prk_ctl_service(s->h, pfd, n))
		accept_all(s->h);
}

int prk_host_ctl_listen(struct prk_host *h, const char *path, struct prk_host_err *err)
{
	if (h->ctl) {
		prk_herr(err, PRK_HE_USAGE, -1, "control socket: already listening on %s",
		         h->ctl->path);
		return -1;
	}
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s) {
		prk_herr(err, PRK_HE_STATE, -1, "out of memory");
		return -1;
	}
	if (!path) {
		if (default_path(h, s->path, sizeof(s->path), err))
			goto fail;
	} else if (!*path || strlen(path) >= sizeof(s->path)) {
		prk_herr(err, PRK_HE_USAGE, -1,
		         "control socket '%s': empty, or longer than %zu bytes", path,
		         sizeof(s->path) - 1);
		goto fail;
	} else {
		snprintf(s->path, sizeof(s->path), "%s", path);
	}
	if (clear_stale(s->path, err) || bind_listen(s, err))
		goto fail;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	s->idle_ms = CTL_IDLE_MS;
	s->h = h;
	struct prk_hloop_source src = {
	    .fill = ctl_fill, .service = ctl_serve, .arg = s, .top_only = true};
	if (prk_hloop_add(&h->loop, &src)) {
		prk_herr(err, PRK_HE_STATE, -1, "control socket: the loop has no room for it");
		listen_close(s);
		goto fail;
	}
	h->ctl = s;
	h->dev_freed = prk_ctl_dev_freed;
	prk_hlog(h, 1, "control socket %s", s->path);
	return 0;
fail:
	free(s);
	return -1;
}

int prk_host_ctl_set_idle_ms(struct prk_host *h, unsigned ms)
{
	if (!h->ctl || ms == 0)
		return -1;
	h->ctl->idle_ms = ms;
	return 0;
}

const char *prk_host_ctl_path(const struct prk_host *h)
{
	return h->ctl ? h->ctl->path : "";
}

void prk_ctl_stop(struct prk_host *h)
{
	struct ctl_server *s = h->ctl;
	if (!s)
		return;
	/* The connections first: their stalls are released while the
	 * devices still exist. */
	prk_ctl_conns_close(h);
	prk_hloop_remove(&h->loop, s);
	listen_close(s);
	free(s);
	h->ctl = NULL;
	h->dev_freed = NULL;
}

/* Closes the listening socket and removes its file if it is still ours. */
static void listen_close(struct ctl_server *s)
{
	close(s->lfd);
	/* Only our own socket file: another process may have replaced it. */
	struct stat st;
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
}
