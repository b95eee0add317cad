/* prkit mount's FUSE operations (low-level API), served from the host
 * library's loop: requests are read from the session's descriptor when it
 * is readable, device I/O is queued on the multipath device, and the
 * reply is sent from the I/O's completion. open and release run the open
 * mode's PR commands synchronously (the library runs its loop meanwhile;
 * the session's descriptor is not served then, so other requests wait in
 * the kernel, while I/O already queued keeps moving). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mnt_int.h"
#include "mnt_names.h"
#include "prkit/host_ctl.h"

/* Requests read per wakeup: other work of the loop (path checks, the
 * control socket) gets its turn between batches. */
#define MNT_BATCH 64
#define MNT_TIMEOUT_S 1.0
#define MNT_MAX_IO (1u << 20)
/* Up to this size a request's data is copied and its blocks are malloc'd:
 * cheaper than tying up (and, past the idle pool, mapping afresh) a
 * 1 MiB receive buffer per small request in flight, which measured
 * slower at 4 KiB QD32 than the copy. */
#define MNT_SMALL (64u << 10)

enum fh_kind { FH_DEV = 1, FH_STATUS };

/* What fi->fh points to. */
struct mnt_fh {
	struct mnt_fh *prev, *next; /* the mount's open handles (freed at the end) */
	enum fh_kind kind;
	struct mnt_dev *dev;     /* FH_DEV */
	enum prk_open_mode mode; /* the name's mode */
	char *text;              /* FH_STATUS: the snapshot */
	size_t len;
};

/* Handles still open when the mount stops get no release: the list lets
 * the stop free them. */
static struct mnt_fh *fh_new(struct prk_mnt *m)
{
	struct mnt_fh *fh = calloc(1, sizeof(*fh));
	if (!fh)
		return NULL;
	fh->next = m->fhs;
	if (m->fhs)
		m->fhs->prev = fh;
	m->fhs = fh;
	return fh;
}

static void fh_free(struct prk_mnt *m, struct mnt_fh *fh)
{
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		m->fhs = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	free(fh->text);
	free(fh);
}

void prk_mnt_fh_free_all(struct prk_mnt *m)
{
	while (m->fhs)
		fh_free(m, m->fhs);
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

/* ---- attributes ---- */

static struct prk_mnt *mnt_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static uint64_t dev_size(const struct mnt_dev *v)
{
	return prk_mpdev_blocks(v->d) * prk_mpdev_block_size(v->d);
}

static void fill_attr(struct prk_mnt *m, const struct prk_mnt_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = prk_mnt_ino(n);
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_blksize = 4096;
	/* Times are the mount's start: the files stand for devices, whose
	 * times mean nothing (setattr ignores them). */
	st->st_atim = st->st_mtim = st->st_ctim = m->started;
	switch (n->kind) {
	case PRK_MNT_NODE_ROOT:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case PRK_MNT_NODE_STATUS:
		/* Size 0 like a /proc file: the content is made at open, and
		 * read (direct I/O) serves it to the end. */
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		break;
	case PRK_MNT_NODE_DEV: {
		const struct mnt_dev *v = &m->devs[n->dev];
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = (off_t)dev_size(v);
		st->st_blocks = st->st_size / 512;
		st->st_blksize = prk_mpdev_block_size(v->d);
		break;
	}
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct prk_mnt *m = mnt_of(req);
	struct prk_mnt_node n;
	if (parent != PRK_MNT_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (prk_mnt_lookup(m->c, name, &n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e = {.ino = prk_mnt_ino(&n),
	                             .generation = 1,
	                             .attr_timeout = MNT_TIMEOUT_S,
	                             .entry_timeout = MNT_TIMEOUT_S};
	fill_attr(m, &n, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct prk_mnt *m = mnt_of(req);
	struct prk_mnt_node n;
	struct stat st;
	if (prk_mnt_node_of(m->c, ino, &n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(m, &n, &st);
	fuse_reply_attr(req, &st, MNT_TIMEOUT_S);
}

/* As for a block device: the size cannot change (ftruncate to the same
 * size is allowed, so that programs that truncate before writing work),
 * times are ignored, mode and owner are fixed. */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
	(void)fi;
	struct prk_mnt *m = mnt_of(req);
	struct prk_mnt_node n;
	struct stat st;
	if (prk_mnt_node_of(m->c, ino, &n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(m, &n, &st);
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) &&
	    (n.kind != PRK_MNT_NODE_DEV || attr->st_size != st.st_size)) {
		fuse_reply_err(req, n.kind == PRK_MNT_NODE_DEV ? EINVAL : EACCES);
		return;
	}
	fuse_reply_attr(req, &st, MNT_TIMEOUT_S);
}

/* ---- the directory ---- */

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != PRK_MNT_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	(void)fi;
	struct prk_mnt *m = mnt_of(req);
	if (ino != PRK_MNT_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > 65536)
		size = 65536;
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	char name[PRK_MNT_NAME_MAX + 16];
	uint64_t eino;
	for (size_t k = off < 0 ? 0 : (size_t)off;
	     prk_mnt_dir_entry(m->c, k, name, sizeof(name), &eino) == 0; k++) {
		struct stat st = {.st_ino = eino};
		st.st_mode = eino == PRK_MNT_INO_ROOT ? S_IFDIR : S_IFREG;
		/* off of an entry: where the next readdir starts. */
		size_t need =
		    fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t)(k + 1));
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct prk_mnt *m = mnt_of(req);
	struct statvfs sv = {.f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255};
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_devs; i++)
		total += dev_size(&m->devs[i]);
	sv.f_blocks = total / 4096;
	sv.f_files = prk_mnt_dir_entries(m->c);
	fuse_reply_statfs(req, &sv);
}

/* ---- open and release ---- */

static void count_err(struct mnt_dev *v, int err)
{
	v->io.errors++;
	v->io.last_errno = err;
}

static void open_status(fuse_req_t req, struct fuse_file_info *fi)
{
	struct prk_mnt *m = mnt_of(req);
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	struct mnt_fh *fh = fh_new(m);
	if (!fh || !(fh->text = prk_mnt_snapshot(m))) {
		if (fh)
			fh_free(m, fh);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->kind = FH_STATUS;
	fh->len = strlen(fh->text);
	fi->fh = (uintptr_t)fh;
	fi->direct_io = 1;
	if (fuse_reply_open(req, fi))
		fh_free(m, fh);
}

/* The last handle of a device went away: its mode's close. */
static void dev_close(struct mnt_dev *v)
{
	struct prk_host_err err = {0};
	if (prk_mpdev_close(v->d, &err) && !prk_mpdev_is_fenced(v->d))
		prk_mnt_log(v->m, 0, "%s: close: %s", v->cfg->name, err.msg);
	else
		prk_mnt_log(v->m, 1, "%s: closed (mode %s)", v->cfg->name,
		            prk_open_mode_name(v->st.mode));
}

static void fh_release(struct prk_mnt *m, struct mnt_fh *fh)
{
	if (fh->kind == FH_DEV && prk_mnt_release(&fh->dev->st))
		dev_close(fh->dev);
	fh_free(m, fh);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct prk_mnt *m = mnt_of(req);
	struct prk_mnt_node n;
	if (prk_mnt_node_of(m->c, ino, &n)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n.kind == PRK_MNT_NODE_ROOT) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (n.kind == PRK_MNT_NODE_STATUS) {
		open_status(req, fi);
		return;
	}
	struct mnt_dev *v = &m->devs[n.dev];
	enum prk_mnt_open_action a = prk_mnt_open_decide(&v->st, n.mode);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (a == PRK_MNT_OPEN_REFUSE) {
		v->io.refused++;
		prk_mnt_log(
		    m, 1, "%s: open as %s by pid %d refused: the device is open (%s, %u handle(s))",
		    v->cfg->name, prk_open_mode_name(n.mode), (int)ctx->pid,
		    prk_open_mode_name(v->st.mode), v->st.handles);
		fuse_reply_err(req, EBUSY);
		return;
	}
	struct mnt_fh *fh = fh_new(m);
	if (!fh) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fh->kind = FH_DEV;
	fh->dev = v;
	fh->mode = n.mode;
	if (a == PRK_MNT_OPEN_RUN) {
		struct prk_host_err err = {0};
		struct prk_open_opts oo = {
		    .mode = n.mode, .type = v->cfg->type, .timeout_ms = (int)m->c->open_timeout_ms};
		if (prk_mpdev_open(v->d, &oo, &err)) {
			int e = prk_mnt_open_errno(&err);
			v->io.refused++;
			prk_mnt_log(m, 0, "%s: open as %s by pid %d: %s (%s)", v->cfg->name,
			            prk_open_mode_name(n.mode), (int)ctx->pid, strerrorname_np(e),
			            err.msg);
			fh_free(m, fh);
			fuse_reply_err(req, e);
			return;
		}
		v->io.opens++;
		prk_mnt_log(m, 1, "%s: opened as %s by pid %d", v->cfg->name,
		            prk_open_mode_name(n.mode), (int)ctx->pid);
	}
	prk_mnt_open_done(&v->st, a, n.mode);
	fi->fh = (uintptr_t)fh;
	/* No page cache: two hosts sharing the LU never read stale data, and
	 * every write reaches the target before write(2) returns. */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi))
		fh_release(m, fh); /* the opener was interrupted: no release follows */
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	if (fh)
		fh_release(mnt_of(req), fh);
	fuse_reply_err(req, 0);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* close(2): nothing is cached, so nothing to write. */
	fuse_reply_err(req, 0);
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
			count_err(v, err);
		else
			v->io.flushes++;
		if (err && !op->grp->err)
			op->grp->err = err;
		if (--op->grp->pending == 0) {
			fuse_reply_err(op->grp->req, op->grp->err);
			free(op->grp);
		}
	} else if (err) {
		count_err(v, err);
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

static bool is_status(struct fuse_file_info *fi)
{
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	return fh && fh->kind == FH_STATUS;
}

static void read_status(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	if (off < 0 || (size_t)off >= fh->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = fh->len - (size_t)off;
	fuse_reply_buf(req, fh->text + off, n < size ? n : size);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	(void)ino;
	if (is_status(fi)) {
		read_status(req, size, off, fi);
		return;
	}
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

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
	(void)ino;
	struct prk_mnt *m = mnt_of(req);
	if (is_status(fi)) {
		fuse_reply_err(req, EBADF);
		return;
	}
	struct mnt_fh *fh = (struct mnt_fh *)(uintptr_t)fi->fh;
	struct mnt_dev *v = fh->dev;
	uint32_t bs = prk_mpdev_block_size(v->d);
	struct prk_mnt_span sp;
	int e = off < 0 ? EINVAL
	                : prk_mnt_span_write((uint64_t)off, size, bs, prk_mpdev_blocks(v->d), &sp);
	if (e) {
		count_err(v, e);
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

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	if (is_status(fi)) {
		fuse_reply_err(req, 0);
		return;
	}
	struct mnt_op *op = op_new(req, fi, OP_FLUSH);
	if (op)
		op_submit(op);
}

/* fsync of the directory: every open device's cache is flushed (a
 * program that syncs the directory after its files gets what it asks). */
static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
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

/* Only punching a hole (the block device's BLKDISCARD): UNMAP, where the
 * LU is thin. */
static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
	(void)ino;
	if (is_status(fi) || mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
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
		count_err(v, e);
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

/* The directory's names come from the configuration: making, removing
 * or renaming one is not permitted (rather than ENOSYS, which reads as
 * a missing feature). */
static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EPERM);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EPERM);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EPERM);
}

/* ---- the session ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = MNT_MAX_IO;
	conn->max_read = MNT_MAX_IO; /* as the max_read mount option says */
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	/* Async direct I/O: a program's aio/io_uring requests reach us
	 * together (fio's iodepth), not one after the other. O_TRUNC comes
	 * with open and is ignored, as for a block device. */
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Requests are read into our own buffers (no splice). */
	conn->want &=
	    ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static const struct fuse_lowlevel_ops mnt_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .fsyncdir = op_fsyncdir,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .statfs = op_statfs,
    .fallocate = op_fallocate,
    .create = op_create,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .rename = op_rename,
};

const struct fuse_lowlevel_ops *prk_mnt_fuse_ops(void)
{
	return &mnt_ops;
}

void prk_mnt_fuse_on_fd(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	struct prk_mnt *m = arg;
	for (int i = 0; i < MNT_BATCH && !fuse_session_exited(m->se); i++) {
		if (!m->cur)
			m->cur = prk_mnt_buf_get(m);
		if (!m->cur) {
			prk_mnt_log(m, 0, "out of memory for a request buffer");
			return; /* the descriptor stays readable: tried again */
		}
		struct fuse_buf fb = {.mem = m->cur};
		int r = fuse_session_receive_buf(m->se, &fb);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r <= 0) {
			/* 0: unmounted (fusermount3 -u); <0: the device failed. */
			if (r < 0) {
				prk_mnt_log(m, 0, "reading /dev/fuse: %s", strerror(-r));
				m->failed = true;
			}
			fuse_session_exit(m->se);
			return;
		}
		m->cur_taken = false;
		fuse_session_process_buf(m->se, &fb);
		if (m->cur_taken)
			m->cur = NULL; /* a write owns it now */
	}
}
