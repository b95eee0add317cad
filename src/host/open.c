/* Open modes (the seed design, after AIX's openx options) mapped to PR
 * command sequences, and close. docs/host.md lists the sequences. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "mpdev_pr.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

static int lock_single(struct prk_mpdev *d, struct prk_host_err *err)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/open-naa.%s.lock", d->h->state_dir, d->naa);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		prk_herr(err, PRK_HE_STATE, -1, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		prk_herr(err, PRK_HE_IN_USE, -1,
		         "device naa.%s is already open in single mode on this host", d->naa);
		return -1;
	}
	d->single_lock_fd = fd;
	return 0;
}

int prk_spc2_reserve_sync(struct prk_mpdev *d, struct hpath *p, struct prk_host_err *err)
{
	uint8_t cdb[6] = {0x16};
	struct hsync s = {.cdb = cdb, .cdb_len = 6, .dir = SCSI_XFER_NONE};
	int st = prk_path_cmd_sync(p, &s);
	if (st == SCSI_STATUS_RESERVATION_CONFLICT) {
		prk_herr(err, PRK_HE_BUSY, p->idx,
		         "the LU is reserved (SPC-2 RESERVE) by another initiator");
		err->status = st;
		return -1;
	}
	if (st != SCSI_STATUS_GOOD) {
		prk_cmd_err(err, p, st, &s, "RESERVE(6)");
		return -1;
	}
	d->spc2 = true;
	d->spc2_path = p->idx;
	d->spc2_lost = false;
	d->resv_held = true;
	return 0;
}

/* SPC-2 fallback for targets without persistent reservations: RESERVE(6)
 * through one path, and I/O through that path only. */
static int open_spc2(struct prk_mpdev *d, struct prk_host_err *err)
{
	struct hpath *p = prk_dev_best_path(d, false);
	if (!p) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "RESERVE(6): no path is up");
		return -1;
	}
	if (prk_spc2_reserve_sync(d, p, err))
		return -1;
	prk_hlog(d->h, 1, "target has no persistent reservations: SPC-2 RESERVE on path %d only",
	         p->idx);
	return 0;
}

void prk_spc2_recover_sync(struct prk_mpdev *d)
{
	if (!d->open || d->fenced || d->freeing)
		return;
	/* The old path first, if it is back: its nexus is as good as any. */
	struct hpath *p = NULL;
	if (prk_path_usable(&d->paths[d->spc2_path]))
		p = &d->paths[d->spc2_path];
	for (size_t i = 0; i < d->n_paths && !p; i++)
		if (prk_path_usable(&d->paths[i]))
			p = &d->paths[i];
	if (!p)
		return; /* I/O waits for a path (no-path timeout) */
	uint64_t now = prk_host_now_ms();
	if (now < d->spc2_next_try_ms)
		return;
	int old = d->spc2_path;
	struct prk_host_err err;
	if (prk_spc2_reserve_sync(d, p, &err) == 0) {
		d->spc2_conflict_since_ms = 0;
		struct prk_event ev = {.kind = PRK_EV_RESV_MOVED,
		                       .path = p->idx,
		                       .old_path = old,
		                       .why = "SPC-2 reservation taken again after its path's "
		                              "session ended"};
		prk_dev_event(d, &ev);
		prk_dev_dispatch(d);
		return;
	}
	if (err.code == PRK_HE_BUSY) {
		/* Through the old path (same ISID, so the same I_T nexus) the
		 * holder may be our own old session, which the target has not
		 * ended yet: try again for as long as I/O may wait for a path.
		 * Through another path we cannot tell our old nexus from
		 * another initiator, and taking the LU back after another host
		 * had it would replay our queued writes over its: fenced. */
		if (!d->spc2_conflict_since_ms)
			d->spc2_conflict_since_ms = now;
		if (p->idx == old &&
		    now - d->spc2_conflict_since_ms < dflt(d->o.no_path_timeout_ms, 15000)) {
			d->spc2_next_try_ms = now + 250;
			return;
		}
		/* Another initiator reserved the LU while we had no nexus: we
		 * lost it; our I/O now meets RESERVATION CONFLICT. */
		d->spc2_conflict_since_ms = 0;
		d->resv_held = false;
		d->spc2_lost = false;
		d->spc2_path = p->idx;
		d->fenced = true;
		struct prk_event ev = {
		    .kind = PRK_EV_FENCED,
		    .path = p->idx,
		    .old_path = old,
		    .why = "another initiator took the SPC-2 reservation while our path was down"};
		prk_dev_event(d, &ev);
		prk_dev_dispatch(d);
		return;
	}
	prk_hlog(d->h, 1, "SPC-2 RESERVE through path %d failed: %s", p->idx, err.msg);
}

/* Registers our key on every path unless the target lacks PR. 1 when the
 * target has no PR (SPC-2 fallback), 0 registered, -1 error. */
static int register_all(struct prk_mpdev *d, struct prk_host_err *err)
{
	struct hpath *p = prk_dev_best_path(d, false);
	if (!p) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "open: no path to the LU came up (%s)",
		         d->paths[0].last_error[0] ? d->paths[0].last_error : "not connected");
		return -1;
	}
	uint8_t buf[PRK_PRIN_CAPS_LEN];
	size_t got;
	struct prk_host_err e2;
	if (prk_devpr_prin_sync(p, PRK_PRIN_REPORT_CAPABILITIES, buf, sizeof(buf), &got, &e2)) {
		if (e2.code == PRK_HE_UNSUPPORTED) {
			d->pr_unsupported = true;
			return 1;
		}
		*err = e2;
		return -1;
	}
	if (!d->key) {
		prk_herr(err, PRK_HE_USAGE, -1, "open: the device has no reservation key");
		return -1;
	}
	return prk_mpdev_register(d, d->key, err);
}

int prk_mpdev_open(struct prk_mpdev *d, const struct prk_open_opts *o, struct prk_host_err *err)
{
	if (d->open) {
		prk_herr(err, PRK_HE_IN_USE, -1, "device is already open");
		return -1;
	}
	struct prk_open_opts dflt = {0};
	if (!o)
		o = &dflt;
	uint8_t type = o->type ? o->type : PRK_PR_EA_RO;
	if (!prk_pr_type_valid(type)) {
		prk_herr(err, PRK_HE_USAGE, -1, "reservation type %u is not one of 1,3,5,6,7,8",
		         type);
		return -1;
	}
	prk_mpdev_wait_paths(d, (int)d->n_paths, o->timeout_ms ? o->timeout_ms : 10000);
	if (!d->naa[0] || !d->blocks) {
		prk_herr(err, PRK_HE_NO_PATH, -1, "open: no path to the LU came up (%s)",
		         d->paths[0].last_error[0] ? d->paths[0].last_error : "not connected");
		return -1;
	}
	if (o->mode == PRK_OPEN_SINGLE && lock_single(d, err))
		return -1;
	d->mode = o->mode;
	int r = register_all(d, err);
	if (r < 0)
		goto fail;
	if (r == 1) {
		if (o->mode != PRK_OPEN_NO_RESERVE && open_spc2(d, err))
			goto fail;
		d->open = true;
		return 0;
	}
	struct prk_resv_view v;
	if (prk_mpdev_read_state(d, &v, err))
		goto fail_unreg;
	bool ours = v.present && (v.key == d->key || prk_pr_type_all_registrants(v.type));
	bool theirs = v.present && !ours;
	/* Registrants-only and all-registrants types give every registrant
	 * access: for a cluster member's open they do not block us. */
	bool blocks_registrants = v.present && (v.type == PRK_PR_WE || v.type == PRK_PR_EA);
	struct hpath *via = prk_dev_best_path(d, true);
	if (via && prk_devpr_read_state_sync(d, via, err))
		goto fail_unreg;
	switch (o->mode) {
	case PRK_OPEN_CLUSTER:
		if (theirs && blocks_registrants) {
			prk_herr(err, PRK_HE_BUSY, -1,
			         "open (cluster): key 0x%llx holds a %s reservation",
			         (unsigned long long)v.key, prk_pr_type_name(v.type));
			err->holder_key = v.key;
			goto fail_unreg;
		}
		break;
	case PRK_OPEN_NO_RESERVE:
		if (theirs) {
			prk_herr(err, PRK_HE_BUSY, -1,
			         "open (no-reserve): key 0x%llx holds a %s reservation",
			         (unsigned long long)v.key, prk_pr_type_name(v.type));
			err->holder_key = v.key;
			goto fail_unreg;
		}
		if (ours && !prk_pr_type_all_registrants(v.type) && prk_mpdev_release(d, err))
			goto fail_unreg;
		break;
	case PRK_OPEN_FORCED:
		if (theirs) {
			if (prk_mpdev_preempt(d, v.key, type, true, err))
				goto fail_unreg;
			if (!d->resv_held) {
				prk_herr(
				    err, PRK_HE_MISMATCH, -1,
				    "open (forced): PREEMPT AND ABORT of 0x%llx did not give us "
				    "the reservation",
				    (unsigned long long)v.key);
				goto fail_unreg;
			}
			break;
		}
		__attribute__((fallthrough)); /* nobody's, or ours */
	default:
		if (theirs) {
			prk_herr(err, PRK_HE_BUSY, -1, "open: key 0x%llx holds a %s reservation",
			         (unsigned long long)v.key, prk_pr_type_name(v.type));
			err->holder_key = v.key;
			err->status = SCSI_STATUS_RESERVATION_CONFLICT;
			goto fail_unreg;
		}
		if (!v.present && prk_mpdev_reserve(d, type, err))
			goto fail_unreg;
		break;
	}
	d->open = true;
	d->fenced = false;
	return 0;
fail_unreg:
	/* Leave no registration behind that this open created. */
	{
		struct prk_host_err e2;
		if (!d->resv_held)
			prk_mpdev_unregister(d, &e2);
	}
fail:
	if (d->single_lock_fd >= 0) {
		close(d->single_lock_fd);
		d->single_lock_fd = -1;
	}
	return -1;
}

int prk_mpdev_close(struct prk_mpdev *d, struct prk_host_err *err)
{
	if (!d->open)
		return 0;
	d->quiesced = true;
	prk_dev_wait_drained(d, (int)(d->o.io_timeout_ms ? d->o.io_timeout_ms : 10000));
	int rc = 0;
	struct prk_host_err e2;
	if (!err)
		err = &e2;
	if (d->mode != PRK_OPEN_RETAIN && d->resv_held && !d->fenced)
		rc = prk_mpdev_release(d, err);
	d->open = false;
	d->quiesced = false;
	d->spc2 = false;
	d->spc2_path = -1;
	d->spc2_lost = false;
	d->spc2_conflict_since_ms = d->spc2_next_try_ms = 0;
	/* I/O still queued (or held) has nowhere to go. */
	prk_dev_take_held(d);
	while (d->pending_head) {
		struct hio *io = d->pending_head;
		d->pending_head = io->next;
		struct prk_io_result r = {.status = PRK_IO_CLOSED, .path = -1};
		io->cb(d, &r, io->arg);
		prk_dev_io_free(d, io);
	}
	d->pending_tail = NULL;
	if (d->single_lock_fd >= 0) {
		close(d->single_lock_fd);
		d->single_lock_fd = -1;
	}
	return rc;
}
