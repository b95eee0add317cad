/* SYNCHRONIZE CACHE and UNMAP of a multipath device (host.h): queued
 * hio's like READ and WRITE (mpdev.c sends them and handles what comes
 * back), so a stall holds them, a lost path re-drives them and a
 * RESERVATION CONFLICT completes them as PRK_IO_FENCED.
 *
 * UNMAP: a range larger than one command may carry (Block Limits VPD,
 * read at bring-up, mpdev_up.c) goes out as several commands of one
 * block descriptor each, at most UNMAP_WINDOW in flight, and the caller's
 * callback runs once after the last with the first failure. One
 * descriptor per command satisfies both readings of MAXIMUM UNMAP LBA
 * COUNT (per command, per descriptor) and any MAXIMUM UNMAP BLOCK
 * DESCRIPTOR COUNT; the window keeps a huge range from allocating a
 * command per part up front. */
#include <stdlib.h>
#include <string.h>

#include "mpdev.h"

#define UNMAP_WINDOW 4

int prk_mpdev_flush_async(struct prk_mpdev *d, prk_io_fn cb, void *arg)
{
	if (!d->open || !cb)
		return -1;
	return prk_dev_queue(d, HIO_FLUSH, 0, 0, NULL, cb, arg);
}

/* One caller's UNMAP, split into parts. */
struct unmap_job {
	struct prk_mpdev *d;
	uint64_t next, end; /* LBAs not yet sent: [next, end) */
	unsigned outstanding;
	bool failed;
	struct prk_io_result first; /* the first failure, else the last part's result */
	unsigned redrives;
	prk_io_fn cb;
	void *arg;
};

static void unmap_part_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg);

/* Queues the next part of j. 0, or -1 (the device closed, no memory). */
static int unmap_send_part(struct unmap_job *j)
{
	struct prk_mpdev *d = j->d;
	uint64_t n = j->end - j->next;
	if (n > d->unmap_max_blocks)
		n = d->unmap_max_blocks;
	if (prk_dev_queue(d, HIO_UNMAP, j->next, (uint32_t)n, NULL, unmap_part_done, j))
		return -1;
	j->next += n;
	j->outstanding++;
	return 0;
}

/* Keeps up to UNMAP_WINDOW parts in flight while nothing has failed. */
static void unmap_fill(struct unmap_job *j)
{
	while (!j->failed && j->next < j->end && j->outstanding < UNMAP_WINDOW) {
		if (unmap_send_part(j)) {
			j->failed = true;
			j->first = (struct prk_io_result){.status = j->d->open ? PRK_IO_NO_PATH
			                                                       : PRK_IO_CLOSED,
			                                  .path = -1,
			                                  .scsi_status = -1};
		}
	}
}

static void unmap_part_done(struct prk_mpdev *d, const struct prk_io_result *r, void *arg)
{
	struct unmap_job *j = arg;
	j->outstanding--;
	j->redrives += r->redrives;
	if (r->status != PRK_IO_OK && !j->failed) {
		j->failed = true;
		j->first = *r;
	} else if (!j->failed) {
		j->first = *r;
	}
	unmap_fill(j);
	if (j->outstanding)
		return;
	struct prk_io_result res = j->first;
	res.redrives = j->redrives;
	prk_io_fn cb = j->cb;
	void *cb_arg = j->arg;
	free(j);
	cb(d, &res, cb_arg);
}

int prk_mpdev_unmap_async(struct prk_mpdev *d, uint64_t lba, uint64_t nblocks, prk_io_fn cb,
                          void *arg)
{
	if (!d->open || !d->thin || !cb || !nblocks || lba >= d->blocks ||
	    nblocks > d->blocks - lba || !d->unmap_max_blocks)
		return -1;
	struct unmap_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	j->d = d;
	j->next = lba;
	j->end = lba + nblocks;
	j->cb = cb;
	j->arg = arg;
	/* Parts never complete from inside prk_dev_queue, so the job is
	 * not finished (and freed) under our feet here. */
	if (unmap_send_part(j)) {
		free(j);
		return -1;
	}
	unmap_fill(j);
	return 0;
}

bool prk_mpdev_thin(const struct prk_mpdev *d)
{
	return d->thin;
}

bool prk_mpdev_unmap_zeroes(const struct prk_mpdev *d)
{
	return d->unmap_zeroes;
}
