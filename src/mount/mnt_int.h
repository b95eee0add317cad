/* Inside prkit mount: the state mnt_daemon.c (the run) and mnt_fuse.c
 * (the FUSE operations) share. One thread: everything runs from the host
 * library's loop (prk_host_run), the FUSE session's descriptor included. */
#ifndef PRKIT_MOUNT_MNT_INT_H
#define PRKIT_MOUNT_MNT_INT_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mnt_core.h"
#include "mnt_status.h"
#include "mount.h"

struct mnt_op;
struct mnt_fh;

struct mnt_dev {
	struct prk_mnt *m;
	size_t idx;
	const struct prk_mnt_dev_config *cfg;
	struct prk_mpdev *d;
	const char *urls[PRK_MPDEV_MAX_PATHS];
	char found[PRK_MPDEV_MAX_PATHS][PRK_HOST_URL_MAX]; /* --discover's paths */
	size_t n_urls;
	struct prk_mnt_devstate st;
	struct prk_mnt_events ev;
	struct prk_mnt_iostat io;
	/* The mount's requests on this device: submitted ones, and those
	 * that wait behind a read-modify-write (which runs alone, so that no
	 * write of the same blocks slips between its read and its write). */
	unsigned inflight;
	bool exclusive;
	struct mnt_op *wait_head, *wait_tail;
};

/* Receive buffers kept for reuse. */
#define MNT_IDLE_BUFS 8

struct prk_mnt {
	const struct prk_mnt_config *c;
	struct prk_host *h;
	struct fuse_session *se;
	int fuse_fd;
	bool watching;
	bool failed; /* exit 1: the session or a close failed */
	struct mnt_dev devs[PRK_MNT_MAX_DEVS];
	size_t n_devs;
	char initiator[224];
	uid_t uid;
	gid_t gid;
	struct timespec started;
	/* Receive buffers: the session's size (1 MiB of data + 4 KiB of
	 * header). A write request's data stays in the buffer it arrived in
	 * until the write completes (no copy); the receiver then takes
	 * another. */
	size_t bufsize;
	void *cur;
	bool cur_taken;
	void *idle[MNT_IDLE_BUFS];
	size_t n_idle;
	unsigned ops;       /* requests under way on all devices */
	struct mnt_fh *fhs; /* open file handles */
};

/* mnt_fuse.c */
const struct fuse_lowlevel_ops *prk_mnt_fuse_ops(void);
/* The session descriptor's callback on the host loop. */
void prk_mnt_fuse_on_fd(int fd, short revents, void *arg);
void *prk_mnt_buf_get(struct prk_mnt *m);
void prk_mnt_buf_put(struct prk_mnt *m, void *b);
void prk_mnt_bufs_free(struct prk_mnt *m);
/* At the end: the handles no release came for. */
void prk_mnt_fh_free_all(struct prk_mnt *m);

/* mnt_daemon.c: the status document as it is now (malloc'd). */
char *prk_mnt_snapshot(struct prk_mnt *m);
/* One line to stderr, "prkit mount: ..." when the log level is at least
 * level. */
void prk_mnt_log(const struct prk_mnt *m, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
