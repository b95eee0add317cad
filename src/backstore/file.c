/* File or block-device backstore over io_uring.
 *
 * Every submitted io becomes a request (struct file_req) that owns a copy
 * of the caller's iovecs, so that short transfers can be continued by
 * advancing the copy without touching the caller's array. At most depth
 * requests are in the kernel at a time; the rest wait in a FIFO and are
 * issued as completions free slots, so the CQ (twice the SQ) can never
 * overflow and submission never blocks.
 *
 * WRITE_ZEROES and UNMAP are fallocate() calls (ZERO_RANGE, PUNCH_HOLE,
 * both KEEP_SIZE), for block devices too: the kernel turns them into
 * WRITE ZEROES / discard-with-zeroing, which unlike BLKDISCARD guarantees
 * that reads return zeroes afterwards, and this keeps them asynchronous.
 * Where the file system or device answers -EOPNOTSUPP, the request is
 * redone as plain writes from a static zero buffer, and later requests of
 * that kind go straight to the writes.
 *
 * Submission: without batching, each submit and each reap ends with one
 * io_uring_submit(). With batching (prkitd), requests only fill the SQ and
 * the event loop's after-batch hook submits the whole batch in one
 * system call (prk_bs_kick); a full SQ is submitted at once, as nothing
 * more could join the batch. The ring asks for cooperative task running
 * where the kernel has it (see ring_init). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bs_internal.h"

#define FILE_DEFAULT_DEPTH 128
/* The zero buffer is aligned for O_DIRECT on any device with logical
 * blocks up to a page; ZERO_IOVS of it go into one write. */
#define ZERO_BUF_LEN (64 * 1024)
#define ZERO_IOVS 16
/* -EAGAIN/-EINTR completions are retried, but not forever. */
#define MAX_RETRIES 8

static uint8_t zero_buf[ZERO_BUF_LEN] __attribute__((aligned(4096)));

enum req_kind {
	REQ_RW,        /* READ or WRITE: readv/writev */
	REQ_FLUSH,     /* fdatasync */
	REQ_FALLOCATE, /* WRITE_ZEROES or UNMAP */
	REQ_ZERO_FILL, /* WRITE_ZEROES or UNMAP as writes of zero_buf */
};

struct file_req {
	struct file_req *next; /* FIFO link */
	struct prk_bs_io *io;
	enum req_kind kind;
	unsigned retries;
	uint64_t offset;    /* where the next transfer starts */
	uint64_t remaining; /* bytes still to transfer */
	int iov_first;      /* REQ_RW: first iovec not fully transferred */
	int iovcnt;
	struct iovec iov[]; /* REQ_RW: copy of io->iov; else ZERO_IOVS slots */
};

struct file_bs {
	struct prk_bs bs;
	int fd;
	bool lane; /* a lane (file_lane): the fd is its parent's */
	struct io_uring ring;
	bool ring_ready;
	unsigned depth;
	unsigned in_kernel; /* requests holding an SQE or CQE slot */
	struct file_req *fifo_head, *fifo_tail;
	bool reaping;         /* submit once at the end of a reap, not per I/O */
	uint64_t submits;     /* io_uring_submit() calls, for prk_bs_stats */
	unsigned setup_flags; /* what io_uring_queue_init took */
	bool blockdev;
	bool can_zero_range, can_punch_hole; /* cleared on -EOPNOTSUPP */
};

static struct file_bs *file_of(struct prk_bs *bs)
{
	return (struct file_bs *)bs;
}

/* ---- the FIFO of requests waiting for a slot ---- */

static void fifo_push(struct file_bs *fb, struct file_req *req)
{
	req->next = NULL;
	if (fb->fifo_tail)
		fb->fifo_tail->next = req;
	else
		fb->fifo_head = req;
	fb->fifo_tail = req;
}

/* Continuations of started requests go first: they are the oldest. */
static void fifo_push_front(struct file_bs *fb, struct file_req *req)
{
	req->next = fb->fifo_head;
	fb->fifo_head = req;
	if (!fb->fifo_tail)
		fb->fifo_tail = req;
}

static struct file_req *fifo_pop(struct file_bs *fb)
{
	struct file_req *req = fb->fifo_head;

	if (req) {
		fb->fifo_head = req->next;
		if (!fb->fifo_head)
			fb->fifo_tail = NULL;
	}
	return req;
}

/* ---- requests ---- */

/* Empty iovecs are dropped: a readv of only those would look like EOF. */
static void req_copy_iov(struct file_req *req, const struct prk_bs_io *io)
{
	for (int i = 0; i < io->iovcnt; i++)
		if (io->iov[i].iov_len > 0)
			req->iov[req->iovcnt++] = io->iov[i];
}

static struct file_req *req_new(struct file_bs *fb, struct prk_bs_io *io)
{
	int slots = io->op == PRK_BS_READ || io->op == PRK_BS_WRITE ? io->iovcnt : ZERO_IOVS;
	struct file_req *req = calloc(1, sizeof(*req) + (size_t)slots * sizeof(struct iovec));

	if (!req)
		return NULL;
	req->io = io;
	req->offset = io->offset;
	req->remaining = io->len;
	switch (io->op) {
	case PRK_BS_READ:
	case PRK_BS_WRITE:
		req->kind = REQ_RW;
		req_copy_iov(req, io);
		break;
	case PRK_BS_FLUSH:
		req->kind = REQ_FLUSH;
		break;
	case PRK_BS_WRITE_ZEROES:
		req->kind = fb->can_zero_range ? REQ_FALLOCATE : REQ_ZERO_FILL;
		break;
	case PRK_BS_UNMAP:
		req->kind = fb->can_punch_hole ? REQ_FALLOCATE : REQ_ZERO_FILL;
		break;
	}
	return req;
}

/* Moves past n transferred bytes. */
static void req_advance(struct file_req *req, uint64_t n)
{
	req->offset += n;
	req->remaining -= n;
	if (req->kind != REQ_RW)
		return;
	while (n > 0 && req->iov_first < req->iovcnt) {
		struct iovec *v = &req->iov[req->iov_first];
		size_t step = n < v->iov_len ? (size_t)n : v->iov_len;

		v->iov_base = (uint8_t *)v->iov_base + step;
		v->iov_len -= step;
		n -= step;
		if (v->iov_len == 0)
			req->iov_first++;
	}
}

/* Points the iovecs at zero_buf for the next piece of a zero fill. */
static int zero_fill_iovs(struct file_req *req)
{
	uint64_t left = req->remaining;
	int n = 0;

	while (left > 0 && n < ZERO_IOVS) {
		size_t len = left < ZERO_BUF_LEN ? (size_t)left : ZERO_BUF_LEN;

		req->iov[n].iov_base = zero_buf;
		req->iov[n].iov_len = len;
		left -= len;
		n++;
	}
	return n;
}

static void prep_rw(struct file_bs *fb, struct io_uring_sqe *sqe, struct file_req *req)
{
	const struct iovec *iov = req->iov + req->iov_first;
	int cnt = req->iovcnt - req->iov_first;

	/* More than IOV_MAX would be refused: the rest goes as a continuation. */
	if (cnt > IOV_MAX)
		cnt = IOV_MAX;
	if (req->io->op == PRK_BS_READ)
		io_uring_prep_readv(sqe, fb->fd, iov, (unsigned)cnt, req->offset);
	else
		io_uring_prep_writev2(sqe, fb->fd, iov, (unsigned)cnt, req->offset,
		                      req->io->fua ? RWF_DSYNC : 0);
}

static int falloc_mode(const struct file_req *req)
{
	if (req->io->op == PRK_BS_UNMAP)
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

static void prep_req(struct file_bs *fb, struct io_uring_sqe *sqe, struct file_req *req)
{
	switch (req->kind) {
	case REQ_RW:
		prep_rw(fb, sqe, req);
		break;
	case REQ_FLUSH:
		io_uring_prep_fsync(sqe, fb->fd, IORING_FSYNC_DATASYNC);
		break;
	case REQ_FALLOCATE:
		io_uring_prep_fallocate(sqe, fb->fd, falloc_mode(req), (off_t)req->offset,
		                        (off_t)req->remaining);
		break;
	case REQ_ZERO_FILL:
		io_uring_prep_writev(sqe, fb->fd, req->iov, (unsigned)zero_fill_iovs(req),
		                     req->offset);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
}

/* ---- submission ---- */

static void ring_submit(struct file_bs *fb)
{
	int r;

	if (io_uring_sq_ready(&fb->ring) == 0)
		return;
	fb->submits++;
	r = io_uring_submit(&fb->ring);
	/* Whatever the kernel did not take stays in the SQ; a tick of the
	 * eventfd brings the event loop back to prk_bs_complete() to retry, as
	 * nothing else may be in flight to wake it. */
	if (r < 0 || io_uring_sq_ready(&fb->ring) > 0)
		eventfd_write(fb->bs.event_fd, 1);
}

/* Moves requests from the FIFO into free ring slots. */
static void fill_sq(struct file_bs *fb)
{
	while (fb->fifo_head && fb->in_kernel < fb->depth) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&fb->ring);

		if (!sqe)
			break; /* SQ full of unsubmitted entries: wait for a retry */
		prep_req(fb, sqe, fifo_pop(fb));
		fb->in_kernel++;
	}
}

/* No request can join the SQ before some are submitted and complete. */
static bool sq_full(struct file_bs *fb)
{
	return fb->in_kernel >= fb->depth || io_uring_sq_space_left(&fb->ring) == 0;
}

static void pump(struct file_bs *fb)
{
	fill_sq(fb);
	if (fb->reaping)
		return;
	if (!fb->bs.batching || sq_full(fb))
		ring_submit(fb);
}

static void file_kick(struct prk_bs *bs)
{
	struct file_bs *fb = file_of(bs);

	fill_sq(fb);
	ring_submit(fb);
}

static void file_stats(const struct prk_bs *bs, struct prk_bs_stats *st)
{
	struct file_bs *fb = (struct file_bs *)bs;

	st->submits = fb->submits;
	st->queued = io_uring_sq_ready(&fb->ring);
	st->setup_flags = fb->setup_flags;
}

static void file_submit(struct prk_bs *bs, struct prk_bs_io *io)
{
	struct file_bs *fb = file_of(bs);
	struct file_req *req = req_new(fb, io);

	if (!req) {
		prk_bs_finish(bs, io, -ENOMEM);
		return;
	}
	fifo_push(fb, req);
	pump(fb);
}

/* ---- completion ---- */

static bool is_transfer(const struct file_req *req)
{
	return req->kind == REQ_RW || req->kind == REQ_ZERO_FILL;
}

/* Decides what a CQE means for its request: returns 1 when the request is
 * over with *result set, 0 when it was queued again. */
static int req_result(struct file_bs *fb, struct file_req *req, int res, int *result)
{
	if ((res == -EAGAIN || res == -EINTR) && req->retries < MAX_RETRIES) {
		req->retries++;
		fifo_push_front(fb, req);
		return 0;
	}
	if (res == -EOPNOTSUPP && req->kind == REQ_FALLOCATE) {
		if (req->io->op == PRK_BS_UNMAP)
			fb->can_punch_hole = false;
		else
			fb->can_zero_range = false;
		req->kind = REQ_ZERO_FILL;
		fifo_push_front(fb, req);
		return 0;
	}
	if (res > 0 && is_transfer(req) && (uint64_t)res < req->remaining) {
		req->retries = 0;
		req_advance(req, (uint64_t)res);
		fifo_push_front(fb, req);
		return 0;
	}
	/* A transfer of nothing means the file shrank under us. */
	if (res == 0 && is_transfer(req) && req->remaining > 0)
		res = -EIO;
	*result = res < 0 ? res : 0;
	return 1;
}

/* Handles one CQE; returns 1 if it ended an io. */
static int handle_cqe(struct file_bs *fb, struct file_req *req, int res)
{
	struct prk_bs_io *io = req->io;
	int result;

	fb->in_kernel--;
	if (!req_result(fb, req, res, &result))
		return 0;
	free(req);
	prk_bs_finish(&fb->bs, io, result);
	return 1;
}

/* Reaps every CQE present. The CQE is released before done() runs, so that
 * done() may submit again. */
static int reap(struct file_bs *fb)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	fb->reaping = true;
	while (io_uring_peek_cqe(&fb->ring, &cqe) == 0) {
		struct file_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&fb->ring, cqe);
		n += handle_cqe(fb, req, res);
		pump(fb);
	}
	fb->reaping = false;
	return n;
}

static int file_complete(struct prk_bs *bs)
{
	struct file_bs *fb = file_of(bs);
	eventfd_t ticks;
	int n;

	/* Cleared before reaping: a CQE posted meanwhile sets it again. */
	eventfd_read(bs->event_fd, &ticks);
	n = reap(fb);
	/* Batching: what done() queued waits for the kick after the batch;
	 * a ring that the kernel refused earlier is retried there too. */
	pump(fb);
	return n;
}

/* ---- mapping ---- */

/* lseek() only reads the file's extent map; the file position it moves is
 * never used, as every transfer names its offset. */
static int file_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run)
{
	struct file_bs *fb = file_of(bs);
	uint64_t end = offset + len;
	off_t data, hole;

	*run = len;
	if (fb->blockdev)
		return 1; /* a device does not say; treat it as fully provisioned */
	data = lseek(fb->fd, (off_t)offset, SEEK_DATA);
	if (data < 0 && errno == ENXIO)
		return 0; /* no data from here to the end of the file */
	if (data < 0)
		return errno == EINVAL ? 1 : -errno; /* EINVAL: no SEEK_DATA here */
	if ((uint64_t)data > offset) {
		*run = ((uint64_t)data < end ? (uint64_t)data : end) - offset;
		return 0;
	}
	hole = lseek(fb->fd, (off_t)offset, SEEK_HOLE);
	if (hole < 0)
		return -errno;
	*run = ((uint64_t)hole < end ? (uint64_t)hole : end) - offset;
	return 1;
}

/* ---- teardown ---- */

/* Runs everything still queued or in the kernel to completion, calling
 * done() for each, so that no io is left without its callback. */
static void drain(struct file_bs *fb)
{
	while (fb->in_kernel > 0 || fb->fifo_head) {
		int r;

		pump(fb);
		r = io_uring_submit_and_wait(&fb->ring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY)
			break; /* the ring is unusable; queue_exit cancels the rest */
		reap(fb);
	}
	/* Only reached with a broken ring: fail what never got to the kernel. */
	for (struct file_req *req; (req = fifo_pop(fb));) {
		struct prk_bs_io *io = req->io;

		free(req);
		prk_bs_finish(&fb->bs, io, -EIO);
	}
}

static void file_free(struct file_bs *fb)
{
	if (fb->ring_ready)
		io_uring_queue_exit(&fb->ring);
	if (fb->bs.event_fd >= 0)
		close(fb->bs.event_fd);
	if (fb->fd >= 0 && !fb->lane)
		close(fb->fd);
	free(fb);
}

static void file_close(struct prk_bs *bs)
{
	struct file_bs *fb = file_of(bs);

	drain(fb);
	file_free(fb);
}

static struct prk_bs *file_lane(struct prk_bs *bs);

static const struct prk_bs_ops file_ops = {
    .submit = file_submit,
    .complete = file_complete,
    .mapped = file_mapped,
    .close = file_close,
    .kick = file_kick,
    .lane = file_lane,
    .stats = file_stats,
};

/* ---- opening ---- */

struct open_ctx {
	const struct prk_bs_file_opts *o;
	char *err;
	size_t errlen;
	bool created; /* by this open: removed if the open fails */
	bool extend;  /* a regular file shorter than the size asked for */
};

static int fail(struct open_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct open_ctx *c, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	prk_bs_errf(c->err, c->errlen, c->o->path, "%s", reason);
	return -1;
}

static int fail_errno(struct open_ctx *c, const char *what, int errnum)
{
	if (what)
		prk_bs_errf(c->err, c->errlen, c->o->path, "%s: %s", what, strerror(errnum));
	else
		prk_bs_errf(c->err, c->errlen, c->o->path, "%s", strerror(errnum));
	return -1;
}

/* Creates the file only when a size says how big it must be. It is created
 * without O_DIRECT and reopened, so that a file system refusing O_DIRECT
 * does not leave a half-made file behind (it is unlinked on failure). */
static int open_fd(struct open_ctx *c)
{
	const struct prk_bs_file_opts *o = c->o;
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);
	int fd = open(o->path, flags);

	if (fd >= 0 || errno != ENOENT || o->size == 0 || o->readonly)
		return fd;
	fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	c->created = true;
	return open(o->path, flags);
}

static int report_open_error(struct open_ctx *c, int errnum)
{
	if (errnum == EINVAL && c->o->direct)
		return fail_errno(c, "O_DIRECT not supported by the file system", errnum);
	return fail_errno(c, NULL, errnum);
}

static int size_blockdev(struct open_ctx *c, struct file_bs *fb)
{
	uint64_t dev_size;

	if (ioctl(fb->fd, BLKGETSIZE64, &dev_size) < 0)
		return fail_errno(c, "BLKGETSIZE64", errno);
	if (c->o->size > dev_size)
		return fail(c, "size %llu exceeds the device size %llu",
		            (unsigned long long)c->o->size, (unsigned long long)dev_size);
	fb->blockdev = true;
	fb->bs.size = c->o->size ? c->o->size : dev_size;
	return 0;
}

/* A file larger than the size asked for is used up to that size only. */
static int size_regular(struct open_ctx *c, struct file_bs *fb, const struct stat *st)
{
	uint64_t have = (uint64_t)st->st_size;

	if (c->o->size == 0) {
		if (have == 0)
			return fail(c, "file is empty; give a size to extend it");
		fb->bs.size = have;
		return 0;
	}
	if (have < c->o->size && c->o->readonly)
		return fail(c, "file size %llu is smaller than the size %llu (read-only)",
		            (unsigned long long)have, (unsigned long long)c->o->size);
	c->extend = have < c->o->size;
	fb->bs.size = c->o->size;
	return 0;
}

static int setup_size(struct open_ctx *c, struct file_bs *fb, const struct stat *st)
{
	int r;

	if (S_ISBLK(st->st_mode))
		r = size_blockdev(c, fb);
	else if (S_ISREG(st->st_mode))
		r = size_regular(c, fb, st);
	else
		return fail(c, "not a regular file or block device");
	if (r == 0 && fb->bs.size % PRK_BS_SECTOR != 0)
		return fail(c, "size %llu is not a multiple of %u", (unsigned long long)fb->bs.size,
		            PRK_BS_SECTOR);
	return r;
}

/* The file system's own O_DIRECT alignment, where statx() reports it;
 * 0 means O_DIRECT is not supported, 512 is assumed when unknown. */
static int dio_align_regular(struct open_ctx *c, struct file_bs *fb, size_t *align)
{
	*align = PRK_BS_SECTOR;
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fb->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN)) {
		if (stx.stx_dio_offset_align == 0)
			return fail_errno(c, "O_DIRECT not supported by the file system", EINVAL);
		if (stx.stx_dio_offset_align > *align)
			*align = stx.stx_dio_offset_align;
		if (stx.stx_dio_mem_align > *align)
			*align = stx.stx_dio_mem_align;
	}
#else
	(void)c;
	(void)fb;
#endif
	return 0;
}

static int setup_alignment(struct open_ctx *c, struct file_bs *fb)
{
	size_t align = 1;

	if (c->o->direct && fb->blockdev) {
		int lbs;

		if (ioctl(fb->fd, BLKSSZGET, &lbs) < 0)
			return fail_errno(c, "BLKSSZGET", errno);
		align = lbs > (int)PRK_BS_SECTOR ? (size_t)lbs : PRK_BS_SECTOR;
	} else if (c->o->direct && dio_align_regular(c, fb, &align) < 0) {
		return -1;
	}
	if (fb->bs.size % align != 0)
		return fail(c, "size %llu is not a multiple of the O_DIRECT alignment %zu",
		            (unsigned long long)fb->bs.size, align);
	fb->bs.alignment = align;
	return 0;
}

/* Kernels without IORING_OP_FALLOCATE (before 5.6) get zero fills. */
static void probe_fallocate(struct file_bs *fb)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(&fb->ring);
	bool ok = !p || io_uring_opcode_supported(p, IORING_OP_FALLOCATE);

	if (p)
		io_uring_free_probe(p);
	fb->can_zero_range = ok;
	fb->can_punch_hole = ok;
}

bool prk_bs_file_refuse_setup_flags;

/* Cooperative task running (5.19): completions that need the submitting
 * task's context no longer interrupt it with an IPI; the kernel runs them
 * when the task next enters or leaves the kernel, which the event loop
 * does all the time. A task asleep in epoll_wait is still woken, so the
 * eventfd keeps working. TASKRUN_FLAG tells liburing's peek when such work
 * waits, so a reap collects it instead of leaving it for the next batch.
 * Not used: SINGLE_ISSUER (only the creating thread could submit, and the
 * daemon opens LUs on one thread and may run them on another loop's) and
 * DEFER_TASKRUN (completions would only be posted, and the eventfd only
 * ticked, inside io_uring_enter: the loop sleeping in epoll_wait would
 * never see them). Older kernels refuse unknown flags with -EINVAL: the
 * ring is then made without them. */
static int ring_init(struct file_bs *fb)
{
	unsigned flags = 0;
	int r;

#if defined(IORING_SETUP_COOP_TASKRUN) && defined(IORING_SETUP_TASKRUN_FLAG)
	flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
#endif
	r = prk_bs_file_refuse_setup_flags && flags
	        ? -EINVAL
	        : io_uring_queue_init(fb->depth, &fb->ring, flags);
	if (r == -EINVAL && flags) {
		flags = 0;
		r = io_uring_queue_init(fb->depth, &fb->ring, 0);
	}
	fb->setup_flags = r < 0 ? 0 : flags;
	return r;
}

static int setup_ring(struct open_ctx *c, struct file_bs *fb)
{
	int r;

	fb->depth = c->o->queue_depth ? c->o->queue_depth : FILE_DEFAULT_DEPTH;
	r = ring_init(fb);
	if (r < 0)
		return fail_errno(c, "io_uring setup", -r);
	fb->ring_ready = true;
	fb->bs.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fb->bs.event_fd < 0)
		return fail_errno(c, "eventfd", errno);
	r = io_uring_register_eventfd(&fb->ring, fb->bs.event_fd);
	if (r < 0)
		return fail_errno(c, "io_uring eventfd", -r);
	probe_fallocate(fb);
	return 0;
}

static int setup(struct open_ctx *c, struct file_bs *fb)
{
	struct stat st;

	fb->fd = open_fd(c);
	if (fb->fd < 0)
		return report_open_error(c, errno);
	if (fstat(fb->fd, &st) < 0)
		return fail_errno(c, "fstat", errno);
	if (setup_size(c, fb, &st) < 0 || setup_alignment(c, fb) < 0 || setup_ring(c, fb) < 0)
		return -1;
	/* Last, so that a failed open leaves an existing file as it was. */
	if (c->extend && ftruncate(fb->fd, (off_t)fb->bs.size) < 0)
		return fail_errno(c, "ftruncate", errno);
	return 0;
}

/* A lane: the same fd (and size, alignment, what fallocate can do), with
 * a ring and eventfd of its own, so that another event loop submits,
 * batches and reaps without sharing anything with this one. Closed before
 * its parent (the fd is the parent's). */
static struct prk_bs *file_lane(struct prk_bs *bs)
{
	struct file_bs *p = file_of(bs);
	struct file_bs *fb = calloc(1, sizeof(*fb));
	if (!fb)
		return NULL;
	prk_bs_init(&fb->bs, &file_ops, p->bs.size, p->bs.readonly);
	fb->bs.alignment = p->bs.alignment;
	fb->bs.atomic_write_max = p->bs.atomic_write_max;
	fb->fd = p->fd;
	fb->lane = true;
	fb->blockdev = p->blockdev;
	fb->depth = p->depth;
	int r = ring_init(fb);
	if (r < 0) {
		fb->fd = -1;
		file_free(fb);
		return NULL;
	}
	fb->ring_ready = true;
	fb->bs.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fb->bs.event_fd < 0 || io_uring_register_eventfd(&fb->ring, fb->bs.event_fd) < 0) {
		file_free(fb);
		return NULL;
	}
	fb->can_zero_range = p->can_zero_range;
	fb->can_punch_hole = p->can_punch_hole;
	return &fb->bs;
}

static bool opts_ok(struct open_ctx *c)
{
	const struct prk_bs_file_opts *o = c->o;

	if (!o->path || !*o->path) {
		prk_bs_errf(c->err, c->errlen, "(no path)", "a path is required");
		return false;
	}
	if (o->size % PRK_BS_SECTOR != 0) {
		fail(c, "size %llu is not a multiple of %u", (unsigned long long)o->size,
		     PRK_BS_SECTOR);
		return false;
	}
	return true;
}

struct prk_bs *prk_bs_file_open(const struct prk_bs_file_opts *o, char *err, size_t errlen)
{
	struct open_ctx c = {.o = o, .err = err, .errlen = errlen};
	struct file_bs *fb;

	if (!opts_ok(&c))
		return NULL;
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		fail_errno(&c, NULL, ENOMEM);
		return NULL;
	}
	prk_bs_init(&fb->bs, &file_ops, 0, o->readonly);
	fb->fd = -1;
	if (setup(&c, fb) < 0) {
		file_free(fb);
		if (c.created)
			unlink(o->path);
		return NULL;
	}
	return &fb->bs;
}
