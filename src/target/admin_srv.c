/* Serving the admin socket on the event loop without ever waiting for a
 * client. Every client socket is non-blocking with its own input and output
 * buffer, so a client that dribbles, stays silent or never reads costs its
 * own buffers and nothing else: the iSCSI sessions on the same loop go on.
 * The limits are in admin.h (size of a request, time to send it, clients
 * at once, size of the answers waiting to be read).
 *
 * A client's life: READ until its line (or EOF) is complete, WRITE the
 * answer, then DRAIN: our side is shut down, so the client reads EOF after
 * the answer, and what it still sends is read and discarded until it
 * closes (at most DRAIN_MS), because closing a unix socket with unread
 * input makes the peer's next read fail with ECONNRESET instead of EOF. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "admin_cmds.h"
#include "daemon.h"
#include "json_where.h"
#include "log.h"
#include "loop.h"

#define SWEEP_MS 250         /* how often deadlines are checked */
#define DRAIN_MS 1000        /* input still discarded after the answer */
#define ACCEPT_BATCH 64      /* accepts per event, so the loop moves on */
#define ACCEPT_PAUSE_MS 1000 /* out of file descriptors: retry after */
#define FIRST_IN_CAP 1024

enum cstate { C_READ, C_WRITE, C_DRAIN };

struct client {
	struct prk_admin *a;
	struct prk_loop_fd *h;
	int fd;
	enum cstate state;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	uint64_t deadline; /* monotonic ms */
	struct client *prev, *next;
};

struct prk_admin {
	struct daemon *d;
	struct prk_loop_fd *listen;
	int listen_fd;
	struct prk_loop_fd *sweep;
	struct client *clients;
	size_t n_clients;
	size_t pending;         /* bytes of answers not yet written, all clients */
	uint64_t accept_resume; /* 0: accepting; else when to try again */
	bool accept_warned;
	char path[108];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void client_close(struct client *c)
{
	struct prk_admin *a = c->a;
	a->pending -= c->out_len - c->out_off;
	prk_loop_del(a->d->loop, c->h); /* closes the fd after this batch */
	if (c->prev)
		c->prev->next = c->next;
	else
		a->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_clients--;
	free(c->in);
	free(c->out);
	free(c);
}

/* Discards input until the client closes. At most 64 KiB per loop turn,
 * so that a client still sending much shares the loop fairly, and for at
 * most DRAIN_MS in all (the sweep closes it then). */
static void client_drain(struct client *c)
{
	char scratch[4096];
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(c); /* EOF or error: the client is done */
		return;
	}
}

static void client_write(struct client *c)
{
	struct prk_admin *a = c->a;
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			a->pending -= (size_t)n;
			c->deadline = now_ms() + PRK_ADMIN_IDLE_MS;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			prk_loop_mod(a->d->loop, c->h, EPOLLOUT);
			return;
		}
		client_close(c); /* the client went away */
		return;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAIN;
	c->deadline = now_ms() + DRAIN_MS;
	prk_loop_mod(a->d->loop, c->h, EPOLLIN);
	client_drain(c);
}

/* Queues rsp (freed here) as one line and starts writing it. */
static void client_answer(struct client *c, json_object *rsp)
{
	struct prk_admin *a = c->a;
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	const char *text = rsp ? json_object_to_json_string_ext(rsp, JSON_C_TO_STRING_PLAIN) : NULL;
	size_t len = text ? strlen(text) : 0;
	json_object *alt = NULL;
	char msg[160];
	if (!text) {
		snprintf(msg, sizeof(msg), "out of memory");
	} else if (len + 1 > PRK_ADMIN_MAX_REPLY) {
		snprintf(msg, sizeof(msg), "answer: %zu bytes is more than the limit of %u", len,
		         PRK_ADMIN_MAX_REPLY);
	} else if (a->pending + len + 1 > PRK_ADMIN_MAX_PENDING) {
		snprintf(msg, sizeof(msg),
		         "busy: answers of %zu bytes wait for their clients to read them; try "
		         "again",
		         a->pending);
	} else {
		msg[0] = 0;
	}
	if (msg[0]) {
		alt = prk_admin_err_reply(msg);
		text = alt ? json_object_to_json_string_ext(alt, JSON_C_TO_STRING_PLAIN) : NULL;
		if (!text)
			text = "{\"ok\":false,\"error\":\"out of memory\"}";
		len = strlen(text);
	}
	c->out = malloc(len + 1);
	if (c->out) {
		memcpy(c->out, text, len);
		c->out[len] = '\n';
		c->out_len = len + 1;
		a->pending += c->out_len;
	}
	if (rsp)
		json_object_put(rsp);
	if (alt)
		json_object_put(alt);
	if (!c->out) {
		client_close(c);
		return;
	}
	c->state = C_WRITE;
	c->deadline = now_ms() + PRK_ADMIN_IDLE_MS;
	prk_loop_mod(a->d->loop, c->h, 0);
	client_write(c);
}

static void client_error(struct client *c, const char *msg)
{
	client_answer(c, prk_admin_err_reply(msg));
}

/* The request is c->in[0..len): exactly one JSON value. */
static void client_serve(struct client *c, size_t len)
{
	char err[256], msg[300];
	json_object *req = prk_json_parse_one(c->in, len, err, sizeof(err));
	if (!req) {
		snprintf(msg, sizeof(msg), "request: %s", err);
		client_error(c, msg);
		return;
	}
	/* prk_admin_handle pauses the other event loops only for the
	 * commands that change what they read. */
	json_object *rsp = prk_admin_handle(c->a->d, req);
	json_object_put(req);
	client_answer(c, rsp);
}

static void client_read(struct client *c)
{
	for (;;) {
		if (c->in_len == c->in_cap) {
			if (c->in_cap >= PRK_ADMIN_MAX_REQUEST) {
				char msg[160];
				snprintf(
				    msg, sizeof(msg),
				    "request: longer than %d bytes without a newline (one JSON "
				    "object per line is expected)",
				    PRK_ADMIN_MAX_REQUEST);
				client_error(c, msg);
				return;
			}
			size_t cap = c->in_cap ? c->in_cap * 2 : FIRST_IN_CAP;
			if (cap > PRK_ADMIN_MAX_REQUEST)
				cap = PRK_ADMIN_MAX_REQUEST;
			char *in = realloc(c->in, cap);
			if (!in) {
				client_error(c, "out of memory");
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n > 0) {
			char *nl = memchr(c->in + c->in_len, '\n', (size_t)n);
			c->in_len += (size_t)n;
			if (nl) {
				client_serve(c, (size_t)(nl - c->in) + 1);
				return;
			}
			continue;
		}
		if (n == 0) {
			/* EOF ends a request without a newline; nothing sent at
			 * all is a client that changed its mind. */
			if (c->in_len)
				client_serve(c, c->in_len);
			else
				client_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			client_close(c);
		return;
	}
}

static void on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	(void)events;
	switch (c->state) {
	case C_READ:
		client_read(c);
		break;
	case C_WRITE:
		client_write(c);
		break;
	case C_DRAIN:
		client_drain(c);
		break;
	}
}

/* One client too many: a short answer that fits the socket buffer, then
 * close (after reading what it already sent, so that it is no reset). */
static void refuse(int fd)
{
	char line[160], scratch[4096];
	int n = snprintf(line, sizeof(line),
	                 "{\"ok\":false,\"error\":\"busy: %d admin clients are connected; try "
	                 "again\"}\n",
	                 PRK_ADMIN_MAX_CLIENTS);
	if (send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		prk_debug("admin socket: could not answer a client beyond the limit");
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

static void on_listen(void *arg, uint32_t events)
{
	struct prk_admin *a = arg;
	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The socket stays readable: stop watching it for a
				 * while instead of spinning on it, and say so once. */
				if (!a->accept_warned)
					prk_warn(
					    "admin socket: cannot accept a client: %s; retrying "
					    "every %d ms",
					    strerror(errno), ACCEPT_PAUSE_MS);
				a->accept_warned = true;
				prk_loop_mod(a->d->loop, a->listen, 0);
				a->accept_resume = now_ms() + ACCEPT_PAUSE_MS;
			}
			return;
		}
		a->accept_warned = false;
		if (a->n_clients >= PRK_ADMIN_MAX_CLIENTS) {
			refuse(fd);
			continue;
		}
		struct client *c = calloc(1, sizeof(*c));
		if (c)
			c->h = prk_loop_add_owned(a->d->loop, fd, EPOLLIN, on_client, c);
		if (!c || !c->h) {
			free(c);
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		c->state = C_READ;
		c->deadline = now_ms() + PRK_ADMIN_IDLE_MS;
		c->next = a->clients;
		if (a->clients)
			a->clients->prev = c;
		a->clients = c;
		a->n_clients++;
	}
}

static void on_sweep(void *arg)
{
	struct prk_admin *a = arg;
	uint64_t now = now_ms();
	if (a->accept_resume && now >= a->accept_resume) {
		a->accept_resume = 0;
		prk_loop_mod(a->d->loop, a->listen, EPOLLIN);
	}
	for (struct client *c = a->clients, *next; c; c = next) {
		next = c->next;
		if (now < c->deadline)
			continue;
		if (c->state == C_READ) {
			char msg[128];
			snprintf(msg, sizeof(msg), "request: not complete within %d ms",
			         PRK_ADMIN_IDLE_MS);
			client_error(c, msg);
		} else {
			if (c->state == C_WRITE)
				prk_info(
				    "admin socket: dropped a client that read none of the last "
				    "%zu bytes of its answer for %d ms",
				    c->out_len - c->out_off, PRK_ADMIN_IDLE_MS);
			client_close(c);
		}
	}
}

int prk_admin_start(struct daemon *d, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "admin_socket %s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "admin_socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	struct prk_admin *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "admin_socket %s: out of memory", path);
		return -1;
	}
	a->d = d;
	snprintf(a->path, sizeof(a->path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "admin_socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(a);
		return -1;
	}
	chmod(path, 0600); /* the admin socket changes the target: owner only */
	a->listen_fd = fd;
	a->listen = prk_loop_add_owned(d->loop, fd, EPOLLIN, on_listen, a);
	if (a->listen)
		a->sweep = prk_loop_timer(d->loop, SWEEP_MS, on_sweep, a);
	if (!a->listen || !a->sweep) {
		if (a->listen)
			prk_loop_del(d->loop, a->listen);
		else
			close(fd);
		unlink(path);
		free(a);
		snprintf(err, errlen, "admin_socket %s: cannot watch it", path);
		return -1;
	}
	d->admin = a;
	return 0;
}

void prk_admin_stop(struct daemon *d)
{
	struct prk_admin *a = d->admin;
	if (!a)
		return;
	while (a->clients)
		client_close(a->clients);
	unlink(a->path);
	prk_loop_del(d->loop, a->sweep);
	prk_loop_del(d->loop, a->listen);
	free(a);
	d->admin = NULL;
}
