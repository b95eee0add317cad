/* prkit fenced: the status socket server (fd_status.h). Runs on the
 * daemon's single loop, so it must never block it: every client socket
 * is non-blocking, a request is one line of at most 4 KiB, at most 16
 * clients at once, and a client that sends nothing for 5 s is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errfmt.h"
#include "fd_status.h"
#include "loop.h"

#define REQ_MAX 4096
#define MAX_CLIENTS 16
#define IDLE_MS 5000

struct client {
	struct prk_fd_status_srv *s;
	struct prk_loop_fd *h; /* NULL: slot free */
	char in[REQ_MAX + 1];
	size_t n_in;
	char *out;
	size_t n_out, off_out;
	uint64_t since_ms;
};

struct prk_fd_status_srv {
	struct prk_loop *loop;
	struct prk_loop_fd *listen;
	char path[108];
	json_object *(*build)(void *arg);
	void *arg;
	struct client clients[MAX_CLIENTS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drop(struct client *c)
{
	if (!c->h)
		return;
	prk_loop_del(c->s->loop, c->h);
	c->h = NULL;
	free(c->out);
	c->out = NULL;
}

static void flush_out(struct client *c)
{
	int fd = prk_loop_fd_number(c->h);
	while (c->off_out < c->n_out) {
		ssize_t n = send(fd, c->out + c->off_out, c->n_out - c->off_out, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			prk_loop_mod(c->s->loop, c->h, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		c->off_out += (size_t)n;
	}
	drop(c);
}

static json_object *error_reply(const char *why)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(why));
	return o;
}

/* The reply to one request line: the status, or {"error": ...}. */
static void answer(struct client *c)
{
	json_object *req = json_tokener_parse(c->in), *cmd, *rsp;
	if (!req || !json_object_is_type(req, json_type_object))
		rsp = error_reply("request is not a JSON object");
	else if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	         !json_object_is_type(cmd, json_type_string) ||
	         strcmp(json_object_get_string(cmd), "status"))
		rsp = error_reply("unknown cmd (only \"status\")");
	else
		rsp = c->s->build(c->s->arg);
	json_object_put(req);
	const char *text = rsp ? json_object_to_json_string_ext(rsp, JSON_C_TO_STRING_PLAIN)
	                       : "{\"error\":\"out of memory\"}";
	size_t len = strlen(text);
	c->out = malloc(len + 1);
	if (c->out) {
		memcpy(c->out, text, len);
		c->out[len] = '\n';
		c->n_out = len + 1;
		c->off_out = 0;
	}
	json_object_put(rsp);
	if (!c->out) {
		drop(c);
		return;
	}
	flush_out(c);
}

static void on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	if (c->out) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			flush_out(c);
		return;
	}
	int fd = prk_loop_fd_number(c->h);
	for (;;) {
		ssize_t n = read(fd, c->in + c->n_in, REQ_MAX - c->n_in);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			/* EOF without a newline: take what came as the request. */
			if (n == 0 && c->n_in) {
				c->in[c->n_in] = 0;
				answer(c);
			} else {
				drop(c);
			}
			return;
		}
		c->n_in += (size_t)n;
		c->in[c->n_in] = 0;
		char *nl = memchr(c->in, '\n', c->n_in);
		if (nl) {
			*nl = 0;
			answer(c);
			return;
		}
		if (c->n_in == REQ_MAX) {
			json_object *e = error_reply("request longer than 4096 bytes");
			const char *t = json_object_to_json_string(e);
			if (send(fd, t, strlen(t), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
			    send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			}
			json_object_put(e);
			drop(c);
			return;
		}
	}
}

static void on_accept(void *arg, uint32_t events)
{
	struct prk_fd_status_srv *s = arg;
	(void)events;
	for (;;) {
		int fd = accept4(prk_loop_fd_number(s->listen), NULL, NULL,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct client *c = NULL;
		for (size_t i = 0; i < MAX_CLIENTS && !c; i++)
			if (!s->clients[i].h)
				c = &s->clients[i];
		if (!c) {
			close(fd); /* busy: the client sees EOF and says so */
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->s = s;
		c->since_ms = mono_ms();
		c->h = prk_loop_add_owned(s->loop, fd, EPOLLIN, on_client, c);
		if (!c->h)
			close(fd);
	}
}

struct prk_fd_status_srv *prk_fd_status_listen(struct prk_loop *loop, const char *path,
                                               json_object *(*build)(void *arg), void *arg,
                                               char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		prk_errf(err, errlen, "status socket %s: path longer than %zu characters", path,
		         sizeof(sa.sun_path) - 1);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		prk_errf(err, errlen, "status socket: %s", strerror(errno));
		return NULL;
	}
	/* A socket file left by a daemon that died is replaced; one that a
	 * live daemon answers on is not (two daemons for one node). */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (probe >= 0)
			close(probe);
		if (live) {
			close(fd);
			prk_errf(err, errlen,
			         "status socket %s: another prkit fenced answers there (one daemon "
			         "per node)",
			         path);
			return NULL;
		}
		unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16)) {
		prk_errf(err, errlen, "status socket %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	chmod(path, 0660);
	struct prk_fd_status_srv *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		unlink(path);
		prk_errf(err, errlen, "status socket: out of memory");
		return NULL;
	}
	s->loop = loop;
	s->build = build;
	s->arg = arg;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->listen = prk_loop_add_owned(loop, fd, EPOLLIN, on_accept, s);
	if (!s->listen) {
		close(fd);
		unlink(path);
		free(s);
		prk_errf(err, errlen, "status socket: cannot watch it");
		return NULL;
	}
	return s;
}

void prk_fd_status_tick(struct prk_fd_status_srv *s)
{
	if (!s)
		return;
	uint64_t now = mono_ms();
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (s->clients[i].h && now - s->clients[i].since_ms > IDLE_MS)
			drop(&s->clients[i]);
}

void prk_fd_status_close(struct prk_fd_status_srv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		drop(&s->clients[i]);
	prk_loop_del(s->loop, s->listen);
	unlink(s->path);
	free(s);
}
