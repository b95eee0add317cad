/* The control socket's server state, shared by ctl_server.c (the
 * connections and their requests) and ctl_listen.c (the socket file,
 * accepting, the peer check). Private to src/host. */
#ifndef PRKIT_HOST_CTL_SERVER_H
#define PRKIT_HOST_CTL_SERVER_H

#include <stdbool.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "ctl_proto.h"
#include "host_base.h"

#define CTL_MAX_POLLFDS 17 /* the listening socket and 16 connections */
#define CTL_MAX_CONNS (CTL_MAX_POLLFDS - 1)
/* A connection with nothing under way (no request, no stall held, no
 * drain awaited) is closed after this long: clients that connect and
 * forget, or dribble, do not keep a slot for ever. */
#define CTL_IDLE_MS 30000u
/* How long accepting pauses after it failed for lack of descriptors. */
#define CTL_ACCEPT_PAUSE_MS 1000u
#define CTL_MAX_STALLS 64
/* Replies a client does not read pile up to this, then it is dropped. */
#define CTL_OUT_MAX (4u << 20)

struct ctl_conn {
	int fd; /* -1: a free slot */
	pid_t pid;
	uid_t uid;
	/* The last sign of life: accepted, a reply sent, a reply read, a
	 * stall ended. Bytes of an unfinished line do not count, so a client
	 * that dribbles a request is timed out like an idle one. */
	uint64_t active_ms;
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
	struct prk_host *h;
	int lfd;
	unsigned idle_ms; /* prk_host_ctl_set_idle_ms; CTL_IDLE_MS by default */
	/* accept() failed for lack of descriptors or memory: the listening
	 * socket stays readable, so it is left out of poll until this time
	 * instead of waking the loop at once, again and again. */
	uint64_t accept_pause_until;
	bool accept_failing; /* logged once per episode */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct ctl_conn conns[CTL_MAX_CONNS];
	struct ctl_stall stalls[CTL_MAX_STALLS];
	/* Records of stalls in use: while none is, the loop's every pass
	 * skips the scans of the table (the I/O path pays nothing for it). */
	unsigned n_stalls;
	/* Connections open (fd >= 0): likewise, none means no scan. */
	unsigned n_conns;
	/* Which connection each descriptor of the last prk_ctl_poll_fill is
	 * (-1: the listening socket). */
	int map[CTL_MAX_POLLFDS];
};

/* ctl_server.c */
/* Takes a slot for a connection just accepted (non-blocking fd, peer
 * checked). When every slot is taken, the connection idle the longest is
 * closed to make room: only busy connections count against the cap.
 * Returns 0, or -1 when all are busy (the caller refuses fd). */
int prk_ctl_conn_add(struct prk_host *h, int fd, pid_t pid, uid_t uid);

/* Adds the control socket's descriptors to pfd (at most cap); returns how
 * many, and lowers *next_ms to the next deadline (drain, max_ms). */
int prk_ctl_poll_fill(struct prk_host *h, struct pollfd *pfd, int cap, uint64_t now,
                      uint64_t *next_ms);
/* Serves the descriptors prk_ctl_poll_fill added (n of them, in pfd),
 * then the deadlines. True when the listening socket is readable: the
 * caller (ctl_listen.c) accepts. */
bool prk_ctl_service(struct prk_host *h, struct pollfd *pfd, int n);
/* d is being freed: the stalls held on it are forgotten. */
void prk_ctl_dev_freed(struct prk_host *h, struct prk_mpdev *d);
/* Closes every connection, releasing their stalls. */
void prk_ctl_conns_close(struct prk_host *h);

/* ctl_listen.c */
/* Closes every connection (releasing their stalls) and the socket, and
 * leaves the loop. */
void prk_ctl_stop(struct prk_host *h);

#endif
