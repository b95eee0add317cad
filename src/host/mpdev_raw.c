/* Commands as given (host.h, "commands as given"): a pass-through for
 * tools that need a CDB the library has no call for. The status and the
 * sense bytes go back untouched, because the tool decodes them itself
 * (COPY ABORTED carries a segment number and the sense of the failing
 * device, which the library's sense key + ASC summary would lose). */
#include <stdlib.h>
#include <string.h>

#include "mpdev_pr.h"

struct raw_ctx {
	struct prk_mpdev *d;
	struct prk_raw_cmd *c;
	prk_raw_fn cb;
	void *arg;
};

static void raw_done(struct hcmd *hc, int status, struct scsi_task *t)
{
	struct raw_ctx *x = hc->arg;
	struct prk_raw_cmd *c = x->c;
	c->in_len = 0;
	c->sense_len = 0;
	if (status == SCSI_STATUS_CANCELLED || status == SCSI_STATUS_ERROR)
		/* A command that passed its deadline is aborted by the path and
		 * comes back cancelled. */
		c->status = hc->aborting ? PRK_RAW_TIMEOUT : PRK_RAW_TRANSPORT;
	else
		c->status = status;
	if (t && status == SCSI_STATUS_GOOD && c->dir == PRK_RAW_READ && t->datain.data) {
		size_t n = (size_t)t->datain.size;
		if (n > c->in_cap)
			n = c->in_cap;
		memcpy(c->in, t->datain.data, n);
		c->in_len = (uint32_t)n;
	}
	if (t && status == SCSI_STATUS_CHECK_CONDITION && t->datain.data && t->datain.size > 2) {
		/* libiscsi keeps the iSCSI sense segment: SenseLength (2 bytes)
		 * and the sense data. */
		size_t n = ((size_t)t->datain.data[0] << 8) | t->datain.data[1];
		if (n > (size_t)t->datain.size - 2)
			n = (size_t)t->datain.size - 2;
		if (n > sizeof(c->sense))
			n = sizeof(c->sense);
		memcpy(c->sense, t->datain.data + 2, n);
		c->sense_len = (uint16_t)n;
	}
	if (t)
		scsi_free_scsi_task(t);
	prk_raw_fn cb = x->cb;
	void *arg = x->arg;
	struct prk_mpdev *d = x->d;
	free(x);
	cb(d, c, arg);
}

int prk_mpdev_raw_async(struct prk_mpdev *d, int path, struct prk_raw_cmd *c, prk_raw_fn cb,
                        void *arg)
{
	struct hpath *p = NULL;
	if (path >= 0) {
		if ((size_t)path < d->n_paths && d->paths[path].conn == HC_READY)
			p = &d->paths[path];
	} else {
		p = prk_devpr_any_session(d, false);
	}
	if (!p || !c->cdb_len || c->cdb_len > sizeof(c->cdb))
		return -1;
	int dir = c->dir == PRK_RAW_WRITE  ? SCSI_XFER_WRITE
	          : c->dir == PRK_RAW_READ ? SCSI_XFER_READ
	                                   : SCSI_XFER_NONE;
	int xfer = c->dir == PRK_RAW_WRITE  ? (int)c->out_len
	           : c->dir == PRK_RAW_READ ? (int)c->in_cap
	                                    : 0;
	struct scsi_task *t = scsi_create_task(c->cdb_len, c->cdb, dir, xfer);
	struct raw_ctx *x = calloc(1, sizeof(*x));
	if (!t || !x) {
		if (t)
			scsi_free_scsi_task(t);
		free(x);
		return -1;
	}
	if (c->dir == PRK_RAW_WRITE && c->out_len) {
		/* The iovec must live as long as the task: in its own memory. */
		struct scsi_iovec *iov = scsi_malloc(t, sizeof(*iov));
		if (!iov) {
			scsi_free_scsi_task(t);
			free(x);
			return -1;
		}
		iov->iov_base = (void *)c->out;
		iov->iov_len = c->out_len;
		scsi_task_set_iov_out(t, iov, 1);
	}
	*x = (struct raw_ctx){.d = d, .c = c, .cb = cb, .arg = arg};
	unsigned to = c->timeout_ms        ? c->timeout_ms
	              : d->o.io_timeout_ms ? d->o.io_timeout_ms
	                                   : 10000;
	if (!prk_path_cmd_async(p, t, to, c->dir == PRK_RAW_NONE ? 0 : (uint64_t)xfer, raw_done,
	                        x)) {
		scsi_free_scsi_task(t);
		free(x);
		return -1;
	}
	return 0;
}

static void sync_cb(struct prk_mpdev *d, struct prk_raw_cmd *c, void *arg)
{
	(void)d;
	(void)c;
	*(bool *)arg = true;
}

int prk_mpdev_raw_sync(struct prk_mpdev *d, int path, struct prk_raw_cmd *c)
{
	bool done = false;
	SLOW_BEGIN(d);
	if (prk_mpdev_raw_async(d, path, c, sync_cb, &done)) {
		c->status = PRK_RAW_TRANSPORT;
		c->in_len = 0;
		c->sense_len = 0;
		SLOW_END(d);
		return c->status;
	}
	while (!done)
		prk_hloop_run_nested(&d->h->loop, 100);
	SLOW_END(d);
	return c->status;
}
