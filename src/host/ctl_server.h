/* The control socket's server state, shared by ctl_server.c (the
 * connections and their requests) and ctl_listen.c (the socket file,
 * accepting, the peer check). Private to src/host. */
#ifndef PRKIT_HOST_CTL_SERVER_H
#define PRKIT_HOST_CTL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "ctl_proto.h"
#include "host_internal.h"

#define CTL_MAX_CONNS (CTL_MAX_POLLFDS - 1)
#define CTL_MAX_STALLS 64
/* Replies a client does not read pile up to this, then it is dropped. */
#define CTL_OUT_MAX (4u << 20)

struct ctl_conn {
	int fd; /* -1: a free slot */
	pid_t pid;
	uid_t uid;
	char in[CTL_LINE_MAX + 1]; /* the longest request line and its '\n' */
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool eof;
	/* A stall request answered once its devices have drained. */
	bool waiting;
	char wait_naa[33];
	uint64_t wait_until_ms;
	unsigned drain_limit_ms;
};

/* One device stalled by one connection. */
struct ctl_stall {
	struct ctl_conn *c; /* NULL: a free record */
	struct prk_mpdev *d;
	uint64_t expires_ms;
	unsigned max_ms;
};

struct ctl_server {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct ctl_conn conns[CTL_MAX_CONNS];
	struct ctl_stall stalls[CTL_MAX_STALLS];
	/* Which connection each descriptor of the last ctl_poll_fill is
	 * (-1: the listening socket). */
	int map[CTL_MAX_POLLFDS];
};

/* ctl_listen.c */
/* Accepts every pending connection of a peer with our uid or uid 0. */
void ctl_accept(struct prk_host *h);
/* Closes the listening socket and removes its file if it is still ours. */
void ctl_listen_close(struct ctl_server *s);

#endif
