/* The multipath device: its paths, path selection, data I/O with
 * failover, the periodic checks, and the timers. Its creation, its part
 * of the loop and its slow work are in mpdev_life.c; the paths report to
 * it through prk_dev_path_hooks.
 *
 * An I/O that fails because of its path (transport error, timeout then
 * abort, session dropped, TASK ABORTED, BUSY, an ALUA state) is queued
 * again and re-driven on another usable path; one that meets RESERVATION
 * CONFLICT means this host is fenced and completes at once with
 * PRK_IO_FENCED, on no other path. A unit attention is reported as an
 * event, then the command (which the target did not run) is sent again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"
#include "mpdev.h"
#include "prkit/scsi_cdb.h"

void prk_dev_event(struct prk_mpdev *d, const struct prk_event *ev)
{
	if (ev->kind == PRK_EV_UA)
		prk_hlog(d->h, 1, "path %d: unit attention %02x/%02x", ev->path, ev->asc >> 8,
		         ev->asc & 0xff);
	if (d->o.on_event)
		d->o.on_event(d, ev, d->o.event_arg);
}

/* ---- what the paths report ---- */

static void path_event(struct hpath *p, const struct prk_event *ev)
{
	prk_dev_event(p->dev, ev);
}

/* spc2_path's session ends: the target releases our SPC-2 reservation
 * with the nexus; no I/O until it is reserved again (spc2_recover). Set
 * before the session's commands are cancelled, so that none of them is
 * re-driven before. */
static void path_session_ending(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	if (d->spc2 && d->spc2_path == p->idx)
		d->spc2_lost = true;
}

static void path_alua_changed(struct hpath *p)
{
	p->dev->rtpg_refresh = true;
}

static void path_dropped(struct hpath *p)
{
	prk_dev_dispatch(p->dev);
}

const struct hpath_hooks prk_dev_path_hooks = {.event = path_event,
                                               .session_ending = path_session_ending,
                                               .dropped = path_dropped,
                                               .alua_changed = path_alua_changed,
                                               .healthy = prk_dev_path_ready};

/* ---- path selection ---- */

struct hpath *prk_dev_best_path(struct prk_mpdev *d, bool need_registered)
{
	if (d->spc2) {
		struct hpath *p = d->spc2_path >= 0 ? &d->paths[d->spc2_path] : NULL;
		return p && !d->spc2_lost && prk_path_usable(p) ? p : NULL;
	}
	if (d->n_paths == 1) {
		/* What the scans below come to with one path (priorities are
		 * never negative), without them: every I/O asks. */
		struct hpath *p = &d->paths[0];
		return prk_path_usable(p) && (!need_registered || p->registered) ? p : NULL;
	}
	int best_prio = -1;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (prk_path_usable(p) && (!need_registered || p->registered) &&
		    p->priority > best_prio)
			best_prio = p->priority;
	}
	if (best_prio < 0)
		return NULL;
	struct hpath *best = NULL;
	size_t n = d->n_paths;
	for (size_t k = 0; k < n; k++) {
		struct hpath *p = &d->paths[(d->rr + k) % n];
		if (!prk_path_usable(p) || (need_registered && !p->registered) ||
		    p->priority != best_prio)
			continue;
		if (!best) {
			best = p;
			if (d->o.selector == PRK_SEL_ROUND_ROBIN)
				break;
			continue;
		}
		if (d->o.selector == PRK_SEL_QUEUE_LENGTH && p->inflight < best->inflight)
			best = p;
		else if (d->o.selector == PRK_SEL_SERVICE_TIME &&
		         p->inflight_bytes < best->inflight_bytes)
			best = p;
	}
	if (best)
		d->rr = (unsigned)(best->idx + 1) % (unsigned)n;
	return best;
}

/* ---- data I/O ---- */

/* Under Write Exclusive and Exclusive Access only the holder's nexus may
 * write (or access): I/O then goes through the holder path alone, and
 * waits while a dead holder's reservation is moved. */
static struct hpath *io_path(struct prk_mpdev *d)
{
	if (d->resv_held && (d->resv_type == PRK_PR_WE || d->resv_type == PRK_PR_EA) && !d->spc2) {
		for (size_t i = 0; i < d->n_paths; i++)
			if (d->paths[i].holder)
				return prk_path_usable(&d->paths[i]) ? &d->paths[i] : NULL;
		return NULL;
	}
	return prk_dev_best_path(d, d->key_registered);
}

static void io_done(struct hcmd *c, int status, struct scsi_task *t);

static void io_complete(struct hio *io, enum prk_io_status st, int path, int scsi, uint8_t key,
                        uint16_t asc)
{
	struct prk_mpdev *d = io->d;
	struct prk_io_result r = {.status = st,
	                          .path = path,
	                          .scsi_status = scsi,
	                          .sense_key = key,
	                          .asc = asc,
	                          .redrives = io->redrives};
	io->cb(d, &r, io->arg);
	prk_dev_io_free(d, io);
}

void prk_dev_io_free(struct prk_mpdev *d, struct hio *io)
{
	prk_obj_pool_put(&d->io_pool, io);
}

/* Appends io to the list head..tail. */
static void hio_append(struct hio **head, struct hio **tail, struct hio *io)
{
	io->next = NULL;
	if (*tail)
		(*tail)->next = io;
	else
		*head = io;
	*tail = io;
}

static void io_queue(struct prk_mpdev *d, struct hio *io)
{
	hio_append(&d->pending_head, &d->pending_tail, io);
}

/* SYNCHRONIZE CACHE of the whole LU (LBA 0, NUMBER OF LOGICAL BLOCKS 0:
 * to the end), IMMED 0: GOOD means the data is on the medium. */
static struct scsi_task *flush_task(const struct prk_mpdev *d)
{
	uint8_t cdb[16] = {0};
	if (d->sync10) {
		cdb[0] = PRK_OP_SYNC_CACHE10;
		return scsi_create_task(10, cdb, SCSI_XFER_NONE, 0);
	}
	cdb[0] = PRK_OP_SYNC_CACHE16;
	return scsi_create_task(16, cdb, SCSI_XFER_NONE, 0);
}

/* The command that carries io, with its data attached; NULL when libiscsi
 * has no memory. *len: the bytes it moves (path selection weighs them). */
static struct scsi_task *io_task(struct hio *io, uint32_t *len)
{
	struct prk_mpdev *d = io->d;
	struct scsi_task *t = NULL;
	*len = 0;
	switch (io->op) {
	case HIO_READ:
		*len = io->nblocks * d->block_size;
		t = scsi_cdb_read16(io->lba, *len, (int)d->block_size, 0, 0, 0, 0, 0);
		if (t) {
			/* The caller's buffer as the task's iovec, which lives in
			 * io: unlike scsi_task_add_data_in_buffer, no allocation. */
			io->iov.iov_base = io->buf;
			io->iov.iov_len = *len;
			scsi_task_set_iov_in(t, &io->iov, 1);
		}
		break;
	case HIO_WRITE:
		*len = io->nblocks * d->block_size;
		t = scsi_cdb_write16(io->lba, *len, (int)d->block_size, 0, 0, 0, 0, 0);
		if (t) {
			io->iov.iov_base = io->buf;
			io->iov.iov_len = *len;
			scsi_task_set_iov_out(t, &io->iov, 1);
		}
		break;
	case HIO_FLUSH:
		t = flush_task(d);
		break;
	case HIO_UNMAP: {
		uint8_t cdb[10] = {PRK_OP_UNMAP};
		cdb[8] = HIO_UNMAP_PARAM_LEN; /* PARAMETER LIST LENGTH (bytes 7-8) */
		t = scsi_create_task(10, cdb, SCSI_XFER_WRITE, HIO_UNMAP_PARAM_LEN);
		if (t) {
			io->iov.iov_base = io->unmap_param;
			io->iov.iov_len = HIO_UNMAP_PARAM_LEN;
			scsi_task_set_iov_out(t, &io->iov, 1);
		}
		break;
	}
	}
	return t;
}

/* Sends io through p; false if it could not be sent. */
static bool io_send(struct hpath *p, struct hio *io)
{
	struct prk_mpdev *d = io->d;
	uint32_t len;
	struct scsi_task *t = io_task(io, &len);
	if (!t)
		return false;
	if (io->last_path >= 0 && io->last_path != p->idx) {
		struct prk_event ev = {.kind = PRK_EV_IO_REDRIVEN,
		                       .path = p->idx,
		                       .old_path = io->last_path,
		                       .why = io->redrive_why ? io->redrive_why : "failover"};
		prk_dev_event(d, &ev);
	}
	io->last_path = p->idx;
	io->key_epoch = d->key_epoch;
	if (!prk_path_cmd_async_in(p, &io->cmd, t, dflt(d->o.io_timeout_ms, 10000), len, io_done,
	                           io)) {
		scsi_free_scsi_task(t);
		return false;
	}
	d->inflight++;
	return true;
}

void prk_dev_take_held(struct prk_mpdev *d)
{
	if (!d->held_head)
		return;
	if (d->pending_tail)
		d->pending_tail->next = d->held_head;
	else
		d->pending_head = d->held_head;
	d->pending_tail = d->held_tail;
	d->held_head = d->held_tail = NULL;
}

/* A list of I/O taken off the device's queues, completed only once the
 * queues are consistent again: a completion callback may submit, close
 * (which completes what is queued) or look at the device. */
struct io_list {
	struct hio *head, *tail;
};

static void io_list_add(struct io_list *l, struct hio *io)
{
	hio_append(&l->head, &l->tail, io);
}

static struct hio *io_list_pop(struct hio **head, struct hio **tail)
{
	struct hio *io = *head;
	*head = io->next;
	if (!*head)
		*tail = NULL;
	io->next = NULL;
	return io;
}

/* I/O held after RESERVATION CONFLICT (fenced_hold_ms): sent again once
 * our key is registered again, failed as fenced when its hold runs out
 * (counted from the first conflict, across re-holds). Other I/O is not
 * held: reads stay open to a fenced host under the registrants-only
 * types, and the target refuses what it must. */
static void dispatch_held(struct prk_mpdev *d, uint64_t now, struct io_list *fenced)
{
	struct io_list keep = {0};
	while (d->held_head) {
		struct hio *io = io_list_pop(&d->held_head, &d->held_tail);
		if (!d->fenced) {
			io->queued_ms = now;
			io_queue(d, io);
		} else if (now - io->held_since_ms >= d->o.fenced_hold_ms) {
			io_list_add(fenced, io);
		} else {
			io_list_add(&keep, io);
		}
	}
	d->held_head = keep.head;
	d->held_tail = keep.tail;
}

void prk_dev_unfenced(struct prk_mpdev *d)
{
	d->fenced = false;
	d->self_fenced = false;
	d->key_epoch++;
}

/* Self-fenced: what waits (held, queued, stalled) fails as fenced now,
 * even while stalled; a stall must not keep a fenced node's writes
 * around until someone resumes it. Completed from a private list, so a
 * callback that submits again queues for the next dispatch (the 20 ms
 * tick) rather than recursing. */
static void fail_self_fenced(struct prk_mpdev *d)
{
	prk_dev_take_held(d);
	struct io_list l = {d->pending_head, d->pending_tail};
	d->pending_head = d->pending_tail = NULL;
	while (l.head) {
		struct hio *io = io_list_pop(&l.head, &l.tail);
		io_complete(io, PRK_IO_FENCED, io->last_path, -1, 0, 0);
	}
}

void prk_dev_dispatch(struct prk_mpdev *d)
{
	if (d->self_fenced && !d->freeing) {
		fail_self_fenced(d);
		return;
	}
	if (prk_dev_held(d))
		return;
	/* Every completion dispatches: with nothing waiting, no clock read. */
	if (!d->pending_head && !d->held_head)
		return;
	uint64_t now = prk_host_now_ms();
	struct io_list fenced = {0}, no_path = {0}, keep = {0};
	if (d->held_head)
		dispatch_held(d, now, &fenced);
	while (d->pending_head) {
		struct hio *io = io_list_pop(&d->pending_head, &d->pending_tail);
		struct hpath *p = NULL;
		if (now >= io->not_before_ms)
			p = io_path(d);
		if (p && io_send(p, io))
			continue;
		if (now - io->queued_ms >= dflt(d->o.no_path_timeout_ms, 15000))
			io_list_add(&no_path, io);
		else
			io_list_add(&keep, io);
	}
	d->pending_head = keep.head;
	d->pending_tail = keep.tail;
	/* The queues are whole again: now the callbacks. */
	while (fenced.head) {
		struct hio *io = io_list_pop(&fenced.head, &fenced.tail);
		io_complete(io, PRK_IO_FENCED, io->last_path, SCSI_STATUS_RESERVATION_CONFLICT, 0,
		            0);
	}
	while (no_path.head) {
		struct hio *io = io_list_pop(&no_path.head, &no_path.tail);
		io_complete(io, PRK_IO_NO_PATH, -1, -1, 0, 0);
	}
}

/* Sends io again (after delay_ms); why names the reason in the
 * PRK_EV_IO_REDRIVEN event if it then goes through another path. */
static void io_redrive(struct hio *io, unsigned delay_ms, const char *why)
{
	io->redrive_why = why;
	struct prk_mpdev *d = io->d;
	if (++io->redrives > dflt(d->o.max_retries, 5) + 3) {
		io_complete(io, PRK_IO_NO_PATH, io->last_path, -1, 0, 0);
		return;
	}
	io->queued_ms = prk_host_now_ms();
	io->not_before_ms = io->queued_ms + delay_ms;
	io_queue(d, io);
}

static void io_done(struct hcmd *c, int status, struct scsi_task *t)
{
	struct hio *io = c->arg;
	struct hpath *p = c->p;
	struct prk_mpdev *d = io->d;
	d->inflight--;
	uint8_t key = status == SCSI_STATUS_CHECK_CONDITION ? (uint8_t)t->sense.key : 0;
	uint16_t asc = status == SCSI_STATUS_CHECK_CONDITION ? (uint16_t)t->sense.ascq : 0;
	scsi_free_scsi_task(t);
	if (d->freeing) {
		io_complete(io, PRK_IO_CLOSED, p->idx, status, key, asc);
		return;
	}
	switch (status) {
	case SCSI_STATUS_GOOD:
		io_complete(io, PRK_IO_OK, p->idx, status, 0, 0);
		break;
	case SCSI_STATUS_RESERVATION_CONFLICT: {
		if (io->key_epoch != d->key_epoch) {
			/* Sent before our key was registered again (a re-key
			 * while it was in flight): not a fence, send it anew. */
			if (io->redrives)
				io->redrives--; /* not a retry of this I/O's own */
			io_redrive(io, 0, "sent before the key was registered again");
			break;
		}
		/* This host is fenced (or never had access): never a path
		 * failure, never retried elsewhere. */
		if (!d->fenced) {
			d->fenced = true;
			struct prk_event ev = {.kind = PRK_EV_FENCED,
			                       .path = p->idx,
			                       .old_path = -1,
			                       .why = "RESERVATION CONFLICT on data I/O"};
			prk_dev_event(d, &ev);
		}
		if (d->o.fenced_hold_ms) {
			/* Held: see dispatch_held(). */
			if (!io->held_since_ms)
				io->held_since_ms = prk_host_now_ms();
			hio_append(&d->held_head, &d->held_tail, io);
			break;
		}
		io_complete(io, PRK_IO_FENCED, p->idx, status, 0, 0);
		break;
	}
	case SCSI_STATUS_CHECK_CONDITION:
		if (key == SCSI_SENSE_UNIT_ATTENTION) {
			struct prk_event ev = {.kind = PRK_EV_UA,
			                       .path = p->idx,
			                       .old_path = -1,
			                       .sense_key = key,
			                       .asc = asc,
			                       .why = "data I/O"};
			prk_dev_event(d, &ev);
			if ((asc >> 8) == 0x2a)
				d->rtpg_refresh = true;
			io_redrive(io, 0, "unit attention");
		} else if (key == SCSI_SENSE_NOT_READY && (asc == 0x040b || asc == 0x040c)) {
			p->alua_standby = true;
			d->rtpg_refresh = true;
			prk_path_set_state(p, PRK_PATH_STANDBY, "ALUA state");
			io_redrive(io, 0, "ALUA standby/unavailable");
		} else if (key == SCSI_SENSE_NOT_READY && asc == 0x040a) {
			io_redrive(io, 100, "ALUA transition");
		} else if (key == 0xb) {
			io_redrive(io, 0, "ABORTED COMMAND");
		} else if (io->op == HIO_FLUSH && !d->sync10 && key == SCSI_SENSE_ILLEGAL_REQUEST &&
		           asc == 0x2000) {
			/* INVALID COMMAND OPERATION CODE: a target without
			 * SYNCHRONIZE CACHE(16); (10) from now on, same range. */
			d->sync10 = true;
			if (io->redrives)
				io->redrives--;
			io_redrive(io, 0, "SYNCHRONIZE CACHE(16) unsupported");
		} else {
			io_complete(io, PRK_IO_SCSI_ERROR, p->idx, status, key, asc);
		}
		break;
	case SCSI_STATUS_BUSY:
	case SCSI_STATUS_TASK_SET_FULL:
		io_redrive(io, 10, "BUSY / TASK SET FULL");
		break;
	case SCSI_STATUS_TASK_ABORTED:
		/* Aborted by another initiator (or a reset): if it preempted us
		 * the retry meets RESERVATION CONFLICT. */
		io_redrive(io, 0, "TASK ABORTED");
		break;
	default:
		/* CANCELLED (our abort answered, or the session dropped),
		 * ERROR, TIMEOUT: the path's fault. */
		if (!c->aborting && p->conn == HC_READY && !p->drop_requested) {
			/* libiscsi cancels everything when the connection
			 * breaks (inside iscsi_service): the session goes. */
			snprintf(p->last_error, sizeof(p->last_error), "connection lost");
			p->drop_requested = true;
			prk_path_set_state(p, PRK_PATH_FAILED, "connection lost");
		}
		io_redrive(io, 0, "failover");
		break;
	}
	/* What prk_dev_dispatch would find to do; a plain completion (nothing
	 * queued or held) skips the call. */
	if (d->pending_head || d->held_head || d->self_fenced)
		prk_dev_dispatch(d);
}

static int dev_submit(struct prk_mpdev *d, struct hio *io)
{
	if (!d->open)
		return -1;
	io->d = d;
	io->last_path = -1;
	if (!prk_dev_held(d) && !d->pending_head && !d->self_fenced) {
		struct hpath *p = io_path(d);
		if (p && io_send(p, io))
			return 0;
	}
	/* Only a queued I/O needs the time (its no-path timeout): one clock
	 * read less per I/O sent at once. */
	io->queued_ms = prk_host_now_ms();
	io_queue(d, io);
	return 0;
}

int prk_dev_queue(struct prk_mpdev *d, enum hio_op op, uint64_t lba, uint32_t nblocks, void *buf,
                  prk_io_fn cb, void *arg)
{
	struct hio *io = prk_obj_pool_get(&d->io_pool);
	if (!io)
		return -1;
	io->op = op;
	io->lba = lba;
	io->nblocks = nblocks;
	io->buf = buf;
	io->cb = cb;
	io->arg = arg;
	if (op == HIO_UNMAP) {
		/* One block descriptor: the whole range of this command. */
		uint8_t *p = io->unmap_param;
		prk_put_be16(p, HIO_UNMAP_PARAM_LEN - 2); /* UNMAP DATA LENGTH */
		prk_put_be16(p + 2, 16);                  /* BLOCK DESCRIPTOR DATA LENGTH */
		prk_put_be64(p + 8, lba);
		prk_put_be32(p + 16, nblocks);
	}
	if (dev_submit(d, io)) {
		prk_dev_io_free(d, io);
		return -1;
	}
	return 0;
}

static int io_submit(struct prk_mpdev *d, enum hio_op op, uint64_t lba, uint32_t nblocks, void *buf,
                     prk_io_fn cb, void *arg)
{
	if (!d->open || !nblocks || lba >= d->blocks || nblocks > d->blocks - lba)
		return -1;
	return prk_dev_queue(d, op, lba, nblocks, buf, cb, arg);
}

int prk_mpdev_read_async(struct prk_mpdev *d, uint64_t lba, uint32_t nblocks, void *buf,
                         prk_io_fn cb, void *arg)
{
	return io_submit(d, HIO_READ, lba, nblocks, buf, cb, arg);
}

int prk_mpdev_write_async(struct prk_mpdev *d, uint64_t lba, uint32_t nblocks, const void *buf,
                          prk_io_fn cb, void *arg)
{
	return io_submit(d, HIO_WRITE, lba, nblocks, (void *)buf, cb, arg);
}

int prk_dev_wait_drained(struct prk_mpdev *d, int timeout_ms)
{
	uint64_t end = prk_host_now_ms() + (uint64_t)timeout_ms;
	while (d->inflight && prk_host_now_ms() < end)
		prk_hloop_run_nested(&d->h->loop, 50);
	return d->inflight ? -1 : 0;
}

/* ---- path states ---- */

static bool any_up(struct prk_mpdev *d, const struct hpath *except)
{
	for (size_t i = 0; i < d->n_paths; i++)
		if (&d->paths[i] != except && prk_path_usable(&d->paths[i]))
			return true;
	return false;
}

/* A healthy path: UP, or STANDBY (ALUA, or waiting to fail back). */
void prk_dev_path_ready(struct hpath *p)
{
	struct prk_mpdev *d = p->dev;
	if (p->alua_standby) {
		prk_path_set_state(p, PRK_PATH_STANDBY, "ALUA standby/unavailable");
		return;
	}
	bool returning = p->ever_ready && p->failures > 0;
	if (returning && d->o.failback != PRK_FAILBACK_IMMEDIATE && any_up(d, p)) {
		p->wait_failback = true;
		prk_path_set_state(p, PRK_PATH_STANDBY, "waiting to fail back");
		return;
	}
	p->wait_failback = false;
	prk_path_set_state(p, PRK_PATH_UP, returning ? "failback" : "ready");
	prk_dev_dispatch(d);
}

void prk_dev_path_enter_ready(struct hpath *p)
{
	prk_path_ready(p);
	prk_dev_path_ready(p);
	p->ever_ready = true;
}

void prk_mpdev_failback(struct prk_mpdev *d)
{
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		if (p->wait_failback && p->conn == HC_READY && p->state == PRK_PATH_STANDBY) {
			p->wait_failback = false;
			prk_path_set_state(p, PRK_PATH_UP, "manual failback");
		}
	}
	prk_dev_dispatch(d);
}

void prk_dev_tick(struct prk_mpdev *d, uint64_t now)
{
	d->next_tick_ms = now + 20;
	for (size_t i = 0; i < d->n_paths; i++) {
		struct hpath *p = &d->paths[i];
		prk_path_timers(p, now);
		prk_path_checker(p, now);
		/* Delayed failback, and a waiting path when nothing else is up. */
		if (p->wait_failback && p->conn == HC_READY && p->state == PRK_PATH_STANDBY) {
			bool due = d->o.failback == PRK_FAILBACK_DELAYED && p->healthy_since_ms &&
			           now - p->healthy_since_ms >= d->o.failback_delay_ms;
			if (due || !any_up(d, p)) {
				p->wait_failback = false;
				prk_path_set_state(p, PRK_PATH_UP,
				                   due ? "delayed failback" : "only path left");
			}
		}
	}
	prk_dev_dispatch(d);
}

int prk_mpdev_wait_paths(struct prk_mpdev *d, int min_up, int timeout_ms)
{
	uint64_t end = prk_host_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int up = 0, tried = 0;
		for (size_t i = 0; i < d->n_paths; i++) {
			struct hpath *p = &d->paths[i];
			if (p->conn == HC_READY)
				up++;
			if (p->conn == HC_READY || p->failures > 0 || p->failed_logins > 0 ||
			    p->removed)
				tried++;
		}
		if (up >= min_up || (size_t)tried == d->n_paths || prk_host_now_ms() >= end)
			return up;
		prk_hloop_run_nested(&d->h->loop, 50);
	}
}

/* ---- introspection ---- */

size_t prk_mpdev_n_paths(const struct prk_mpdev *d)
{
	return d->n_paths;
}

size_t prk_mpdev_paths(const struct prk_mpdev *d, struct prk_path_info *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_paths && n < cap; i++, n++) {
		const struct hpath *p = &d->paths[i];
		struct prk_path_info *o = &out[n];
		memset(o, 0, sizeof(*o));
		snprintf(o->url, sizeof(o->url), "%s", p->url);
		snprintf(o->portal, sizeof(o->portal), "%s", p->portal);
		o->isid = p->isid;
		o->state = p->state;
		o->registered = p->registered;
		o->holder = p->holder;
		o->rtpi = p->rtpi;
		o->tpg = p->tpg;
		o->alua_state = p->alua_state;
		o->priority = p->priority;
		o->inflight = p->inflight;
		o->completed = p->completed;
		o->failures = p->failures;
		snprintf(o->last_error, sizeof(o->last_error), "%s", p->last_error);
	}
	return n;
}

const char *prk_mpdev_naa(const struct prk_mpdev *d)
{
	return d->naa;
}
uint32_t prk_mpdev_block_size(const struct prk_mpdev *d)
{
	return d->block_size;
}
uint64_t prk_mpdev_blocks(const struct prk_mpdev *d)
{
	return d->blocks;
}
unsigned prk_mpdev_inflight(const struct prk_mpdev *d)
{
	return d->inflight;
}
bool prk_mpdev_is_fenced(const struct prk_mpdev *d)
{
	return d->fenced;
}
