/* prkit mount's device I/O (mnt_fuse.c hands it the requests of a
 * device's files): read, write, fsync and punching a hole become
 * asynchronous commands on the multipath device, queued per device so that
 * a read-modify-write runs alone (mnt_core.c's rule), and each request is
 * answered from its command's completion. A large write's data stays in the
 * receive buffer it arrived in until the write completes; small requests
 * copy theirs. */
#include <errno.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>

#include "mnt_int.h"

/* Up to this size a request's data is copied and its blocks are malloc'd:
 * cheaper than tying up (and, past the idle pool, mapping afresh) a
 * 1 MiB receive buffer per small request in flight, which measured
 * slower at 4 KiB QD32 than the copy. */
#define MNT_SMALL (64u << 10)

static struct prk_mnt *mnt_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

enum op_kind { OP_READ, OP_WRITE, OP_RMW, OP_FLUSH, OP_UNMAP };

/* fsyncdir: one flush per open device, one reply after the last. */
struct mnt_group {
	fuse_req_t req;
	unsigned pending;
	int err;
};

struct mnt_op {
	struct mnt_op *next;
	enum op_kind kind;
	struct mnt_dev *dev;
	fuse_req_t req;
	struct prk_mnt_span sp;
	void *buf;        /* READ / RMW: the blocks */
	bool buf_pooled;  /* buf is a receive-sized buffer of the pool */
	void *rx;         /* WRITE / RMW of more than MNT_SMALL: the receive buffer */
	void *copy;       /* WRITE / RMW of at most MNT_SMALL: the data's copy */
	const char *data; /* the write's data, in rx or copy */
	uint64_t ulba, unblocks;
	unsigned pending; /* RMW: edge reads outstanding */
	int err;
	struct mnt_group *grp; /* OP_FLUSH of fsyncdir: reply through the group */
};

/* ---- receive buffers ---- */

void *prk_mnt_buf_get(struct prk_mnt *m)
{
	if (m->n_idle)
		return m->idle[--m->n_idle];
	void *b = NULL;
	if (posix_memalign(&b, 4096, m->bufsize))
		return NULL;
	return b;
}

void prk_mnt_buf_put(struct prk_mnt *m, void *b)
{
	if (!b)
		return;
	if (m->n_idle < MNT_IDLE_BUFS)
		m->idle[m->n_idle++] = b;
	else
		free(b);
}

void prk_mnt_bufs_free(struct prk_mnt *m)
{
	while (m->n_idle)
		free(m->idle[--m->n_idle]);
	free(m->cur);
	m->cur = NULL;
}

void prk_mnt_count_err(struct mnt_dev *v, int err)
{
	v->io.errors++;
	v->io.last_errno = err;
}

/* ---- I/O: the per-device queue ---- */

/* The blocks of a read or a read-modify-write. 0, or -1. */
static int op_blocks(struct prk_mnt *m, struct mnt_op *op, size_t len)
{
	if (len <= MNT_SMALL) {
		op->buf = malloc(len);
	} else {
		op->buf = prk_mnt_buf_get(m);
		op->buf_pooled = true;
	}
	return op->buf ? 0 : -1;
}

static void op_run(struct mnt_op *op);

static void op_free(struct mnt_op *op)
{
	struct prk_mnt *m = op->dev->m;
	if (op->buf_pooled)
		prk_mnt_buf_put(m, op->buf);
	else
		free(op->buf);
	prk_mnt_buf_put(m, op->rx);
	free(op->copy);
	free(op);
}

/* Runs what waits on the device, in order, as far as the rule allows: a
 * read-modify-write starts only when nothing else is in flight, and
 * nothing starts while it runs. */
static void dev_pump(struct mnt_dev *v)
{
	while (v->wait_head) {
		struct mnt_op *op = v->wait_head;
		struct prk_mnt_order o = {v->inflight, v->exclusive, true};
		if (!prk_mnt_may_start(&o, op->kind == OP_RMW, true))
			return;
		v->wait_head = op->next;
		if (!v->wait_head)
			v->wait_tail = NULL;
		op->next = NULL;
		op_run(op);
	}
}

static void op_finish(struct mnt_op *op, int err)
{
	struct mnt_dev *v = op->dev;
	struct prk_mnt *m = v->m;
	if (op->grp) {
		if (err)
			prk_mnt_count_err(v, err);
		else
			v->io.flushes++;
		if (err && !op->grp->err)
			op->grp->err = err;
		if (--op->grp->pending == 0) {
			fuse_reply_err(op->grp->req, op->grp->err);
			free(op->grp);
		}
	} else if (err) {
		prk_mnt_count_err(v, err);
		fuse_reply_err(op->req, err);
	} else {
		switch (op->kind) {
		case OP_READ:
			v->io.reads++;
			v->io.bytes_read += op->sp.len;
			fuse_reply_buf(op->req, (char *)op->buf + op->sp.head, op->sp.len);
			break;
		case OP_WRITE:
		case OP_RMW:
			v->io.writes++;
			v->io.bytes_written += op->sp.len;
			fuse_reply_write(op->req, op->sp.len);
			break;
		case OP_FLUSH:
			v->io.flushes++;
			fuse_reply_err(op->req, 0);
			break;
		case OP_UNMAP:
			v->io.unmaps++;
			fuse_reply_err(op->req, 0);
			break;
		}
	}
	v->inflight--;
	m->ops--;
	if (op->kind == OP_RMW)
		v->exclusive = false;
	op_free(op);
	dev_pump(v);
}

static void io_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct mnt_op *op = arg;
	op_finish(op, prk_mnt_io_errno(r));
}

static void rmw_write(struct mnt_op *op)
{
	struct mnt_dev *v = op->dev;
	memcpy((char *)op->buf + op->sp.head, op->data, op->sp.len);
	if (prk_mpdev_write_async(v->d, op->sp.lba, op->sp.nblocks, op->buf, io_done, op))
		op_finish(op, EIO);
}

/* One edge block of a read-modify-write has been read. */
static void rmw_edge_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	(void)d;
	struct mnt_op *op = arg;
	int e = prk_mnt_io_errno(r);
	if (e && !op->err)
		op->err = e;
	if (--op->pending)
		return;
	if (op->err)
		op_finish(op, op->err);
	else
		rmw_write(op);
}

static void rmw_start(struct mnt_op *op)
{
	struct mnt_dev *v = op->dev;
	uint32_t bs = prk_mpdev_block_size(v->d);
	uint64_t last = op->sp.lba + op->sp.nblocks - 1;
	op->pending = (unsigned)op->sp.rmw_first + (unsigned)op->sp.rmw_last;
	/* Both are counted before either is queued: a completion that runs
	 * early must not see pending reach 0 too soon. */
	unsigned queued = 0;
	if (op->sp.rmw_first &&
	    prk_mpdev_read_async(v->d, op->sp.lba, 1, op->buf, rmw_edge_done, op) == 0)
		queued++;
	else if (op->sp.rmw_first)
		op->err = EIO, op->pending--;
	if (op->sp.rmw_last &&
	    prk_mpdev_read_async(v->d, last, 1, (char *)op->buf + (size_t)(last - op->sp.lba) * bs,
	                         rmw_edge_done, op) == 0)
		queued++;
	else if (op->sp.rmw_last)
		op->err = EIO, op->pending--;
	if (!queued)
		op_finish(op, op->err ? op->err : EIO);
}

static void op_run(struct mnt_op *op)
{
	struct mnt_dev *v = op->dev;
	int rc = 0;
	v->inflight++;
	/* Fenced (mnt_core.h): nothing more goes to the target until the key
	 * is set again, not even once the reservation that refused us is gone
	 * (SCSI lets an unregistered initiator write when nobody holds a
	 * reservation). With --fenced-hold the library holds the I/O for the
	 * re-key instead. */
	if (v->st.fenced && !v->cfg->fenced_hold_ms) {
		op_finish(op, EBADE);
		return;
	}
	switch (op->kind) {
	case OP_READ:
		rc = prk_mpdev_read_async(v->d, op->sp.lba, op->sp.nblocks, op->buf, io_done, op);
		break;
	case OP_WRITE:
		rc = prk_mpdev_write_async(v->d, op->sp.lba, op->sp.nblocks, op->data, io_done, op);
		break;
	case OP_RMW:
		v->exclusive = true;
		rmw_start(op);
		return;
	case OP_FLUSH:
		rc = prk_mpdev_flush_async(v->d, io_done, op);
		break;
	case OP_UNMAP:
		rc = prk_mpdev_unmap_async(v->d, op->ulba, op->unblocks, io_done, op);
		break;
	}
	if (rc)
		op_finish(op, EIO); /* not open any more, or outside the LU */
}

static void op_submit(struct mnt_op *op)
{
	struct mnt_dev *v = op->dev;
	v->m->ops++;
	struct prk_mnt_order o = {v->inflight, v->exclusive, v->wait_head != NULL};
	if (!prk_mnt_may_start(&o, op->kind == OP_RMW, false)) {
		if (v->wait_tail)
			v->wait_tail->next = op;
		else
			v->wait_head = op;
		v->wait_tail = op;
		return;
	}
	op_run(op);
}

static struct mnt_op *op_new(fuse_req_t req, struct fuse_file_info *fi, enum op_kind kind)
{
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	struct mnt_op *op = calloc(1, sizeof(*op));
	if (!op) {
		fuse_reply_err(req, ENOMEM);
		return NULL;
	}
	op->kind = kind;
	op->dev = fh->dev;
	op->req = req;
	return op;
}

void prk_mnt_io_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	struct prk_mnt *m = mnt_of(req);
	uint32_t bs = prk_mpdev_block_size(fh->dev->d);
	struct prk_mnt_span sp;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	prk_mnt_span_read((uint64_t)off, size, bs, prk_mpdev_blocks(fh->dev->d), &sp);
	if (!sp.nblocks) {
		fuse_reply_buf(req, NULL, 0); /* at or past the end */
		return;
	}
	if ((size_t)sp.nblocks * bs > m->bufsize) {
		fuse_reply_err(req, EINVAL); /* more than the kernel ever asks (max_read) */
		return;
	}
	struct mnt_op *op = op_new(req, fi, OP_READ);
	if (!op)
		return;
	op->sp = sp;
	if (op_blocks(m, op, (size_t)sp.nblocks * bs)) {
		free(op);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	op_submit(op);
}

void prk_mnt_io_write(fuse_req_t req, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
	struct prk_mnt *m = mnt_of(req);
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	struct mnt_dev *v = fh->dev;
	uint32_t bs = prk_mpdev_block_size(v->d);
	struct prk_mnt_span sp;
	int e = off < 0 ? EINVAL
	                : prk_mnt_span_write((uint64_t)off, size, bs, prk_mpdev_blocks(v->d), &sp);
	if (e) {
		prk_mnt_count_err(v, e);
		fuse_reply_err(req, e);
		return;
	}
	if (!sp.nblocks) {
		fuse_reply_write(req, 0);
		return;
	}
	bool rmw = sp.rmw_first || sp.rmw_last;
	if ((size_t)sp.nblocks * bs > m->bufsize) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	struct mnt_op *op = op_new(req, fi, rmw ? OP_RMW : OP_WRITE);
	if (!op)
		return;
	op->sp = sp;
	if (sp.len <= MNT_SMALL) {
		op->copy = malloc(sp.len);
		if (op->copy)
			memcpy(op->copy, buf, sp.len);
		op->data = op->copy;
	} else {
		/* The data stays where it arrived: this request's receive
		 * buffer is the write's until it completes. */
		op->data = buf;
		op->rx = m->cur;
		m->cur_taken = true;
	}
	if (!op->data || (rmw && op_blocks(m, op, (size_t)sp.nblocks * bs))) {
		op_free(op);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	op_submit(op);
}

void prk_mnt_io_fsync(fuse_req_t req, struct fuse_file_info *fi)
{
	struct mnt_op *op = op_new(req, fi, OP_FLUSH);
	if (op)
		op_submit(op);
}

void prk_mnt_io_fsyncdir(fuse_req_t req)
{
	struct prk_mnt *m = mnt_of(req);
	struct mnt_group *g = calloc(1, sizeof(*g));
	if (!g) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	g->req = req;
	/* Counted before any is submitted: a flush that fails at once must
	 * not reply for the whole group. */
	g->pending = 1;
	for (size_t i = 0; i < m->n_devs; i++) {
		if (!m->devs[i].st.open)
			continue;
		struct mnt_op *op = calloc(1, sizeof(*op));
		if (!op) {
			g->err = ENOMEM;
			break;
		}
		op->kind = OP_FLUSH;
		op->dev = &m->devs[i];
		op->grp = g;
		g->pending++;
		op_submit(op);
	}
	if (--g->pending == 0) {
		fuse_reply_err(req, g->err);
		free(g);
	}
}

void prk_mnt_io_fallocate(fuse_req_t req, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	struct mnt_dev *v = fh->dev;
	uint64_t lba, nb;
	int e = off < 0 || len < 0
	            ? EINVAL
	            : prk_mnt_span_unmap((uint64_t)off, (uint64_t)len, prk_mpdev_block_size(v->d),
	                                 prk_mpdev_blocks(v->d), &lba, &nb);
	if (!e && !prk_mpdev_thin(v->d))
		e = EOPNOTSUPP;
	if (e) {
		prk_mnt_count_err(v, e);
		fuse_reply_err(req, e);
		return;
	}
	if (!nb) {
		fuse_reply_err(req, 0);
		return;
	}
	struct mnt_op *op = op_new(req, fi, OP_UNMAP);
	if (!op)
		return;
	op->ulba = lba;
	op->unblocks = nb;
	op_submit(op);
}
