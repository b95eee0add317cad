/* The multipath device (mpdev.c: paths, the I/O queue, dispatch and
 * re-drive; mpdev_life.c: creating and freeing it, its part of the loop
 * and its slow work). Private to src/host. */
#ifndef PRKIT_HOST_MPDEV_H
#define PRKIT_HOST_MPDEV_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "host_base.h"
#include "obj_pool.h"
#include "path.h"

struct hio;

struct prk_mpdev {
	struct prk_host *h;
	struct prk_mpdev *next;
	struct prk_mpdev_opts o;
	char initiator[224];
	char isid_role[64];
	char *url_store[PRK_MPDEV_MAX_PATHS];
	struct hpath paths[PRK_MPDEV_MAX_PATHS];
	size_t n_paths;
	unsigned rr;

	char naa[33];
	uint32_t block_size;
	uint64_t blocks;
	/* Logical block provisioning (mpdev_up.c, read with the capacity):
	 * READ CAPACITY(16) LBPME and LBPRZ, and the blocks one UNMAP may
	 * carry (Block Limits VPD). thin is false when the LU has LBPME but
	 * its Block Limits page says UNMAP is not supported. */
	bool thin, unmap_zeroes;
	uint32_t unmap_max_blocks;
	/* SYNCHRONIZE CACHE(16) was refused as an unknown opcode: (10). */
	bool sync10;

	/* Reservation state as this host believes it. */
	uint64_t key;
	bool key_registered; /* we registered key on the device */
	bool resv_held;      /* we hold a reservation of resv_type */
	uint8_t resv_type;
	bool fenced;
	/* prk_mpdev_self_fence (mpdev_stall.c): every queued and new I/O
	 * fails as fenced without asking the target, until our key is
	 * registered again (prk_dev_unfenced). The reason is kept for the
	 * event, which may outlive the request that carried it. */
	bool self_fenced;
	char self_fence_why[208];
	/* Grows at every (re-)registration of our key: a RESERVATION
	 * CONFLICT for an I/O sent under an older epoch is not a fence. */
	unsigned key_epoch;
	bool spc2; /* SPC-2 RESERVE/RELEASE on spc2_path only */
	int spc2_path;
	/* spc2_path's session ended: the target released our SPC-2
	 * reservation with the nexus, RESERVE again before any I/O. */
	bool spc2_lost;
	/* RESERVE(6) met RESERVATION CONFLICT since then (maybe from our own
	 * old nexus, which the target has not dropped yet); next try at. */
	uint64_t spc2_conflict_since_ms, spc2_next_try_ms;
	bool pr_unsupported;

	bool open;
	enum prk_open_mode mode;
	int single_lock_fd;
	bool quiesced; /* close and preempt_self: no new I/O while they work */
	/* prk_mpdev_stall (host_ctl.h): counted, separate from quiesced so
	 * that a close or a reservation move ending does not resume I/O that
	 * someone else stalled. */
	unsigned stalls;
	uint64_t stalled_since_ms;
	bool rtpg_refresh;
	bool freeing;

	struct hio *pending_head, *pending_tail;
	/* I/O that met RESERVATION CONFLICT, held for fenced_hold_ms until
	 * our key is registered again (prk_dev_unfenced). */
	struct hio *held_head, *held_tail;
	unsigned inflight;
	uint64_t next_tick_ms;
	/* The records of finished I/O, handed to the next ones: no malloc or
	 * free per I/O (prk_dev_queue, prk_dev_io_free). */
	struct prk_obj_pool io_pool;
};

/* Idle I/O records a device keeps: enough for prkit io's deepest queue
 * (--qd 1024), about 250 KiB at most. */
#define PRK_DEV_IO_POOL_MAX 1024

/* What one queued I/O sends: every kind goes through the same queue, so a
 * flush or an UNMAP is stalled, waits for a path, is re-driven and meets
 * RESERVATION CONFLICT exactly like a write. */
enum hio_op {
	HIO_READ,
	HIO_WRITE,
	HIO_FLUSH, /* SYNCHRONIZE CACHE(16) of the whole LU, or (10) (d->sync10) */
	HIO_UNMAP  /* one UNMAP of one descriptor (lba, nblocks): mpdev_lbp.c */
};

/* UNMAP's parameter list with one block descriptor. */
#define HIO_UNMAP_PARAM_LEN 24

struct hio {
	struct prk_mpdev *d;
	enum hio_op op;
	uint64_t lba;
	uint32_t nblocks;
	void *buf;
	uint8_t unmap_param[HIO_UNMAP_PARAM_LEN];
	prk_io_fn cb;
	void *arg;
	unsigned redrives;
	int last_path;
	uint64_t queued_ms;
	uint64_t not_before_ms;
	const char *redrive_why; /* why it is sent again (static text) */
	unsigned key_epoch;      /* the device's key_epoch when it was sent */
	uint64_t held_since_ms;  /* first RESERVATION CONFLICT (fenced_hold_ms), or 0 */
	struct scsi_iovec iov;
	/* The command carrying it (one at a time): no allocation per send. */
	struct hcmd cmd;
	struct hio *next;
};

/* Multi-step operations mark the host busy so that slow work (bring-up,
 * reservation recovery) does not interleave with them. */
#define SLOW_BEGIN(d)                                                                              \
	bool slow_was_ = (d)->h->in_slow;                                                          \
	(d)->h->in_slow = true
#define SLOW_END(d) ((d)->h->in_slow = slow_was_)

/* mpdev.c */
/* I/O of d may not be sent now: a close or reservation move (quiesced),
 * a stall, or the device going away. */
static inline bool prk_dev_held(const struct prk_mpdev *d)
{
	return d->quiesced || d->stalls || d->freeing;
}
void prk_dev_event(struct prk_mpdev *d, const struct prk_event *ev);
void prk_dev_dispatch(struct prk_mpdev *d);
/* Gives a finished I/O's record back to d (after its callback ran). */
void prk_dev_io_free(struct prk_mpdev *d, struct hio *io);
/* Our key is registered again: not fenced; I/O held by fenced_hold_ms
 * goes out again at the next dispatch. */
void prk_dev_unfenced(struct prk_mpdev *d);
/* Held I/O joins the pending queue (to be completed by close/free). */
void prk_dev_take_held(struct prk_mpdev *d);
void prk_dev_tick(struct prk_mpdev *d, uint64_t now);
int prk_dev_wait_drained(struct prk_mpdev *d, int timeout_ms);
struct hpath *prk_dev_best_path(struct prk_mpdev *d, bool need_registered);
void prk_dev_path_ready(struct hpath *p);
/* What the paths of a device report to it (set by prk_mpdev_new). */
extern const struct hpath_hooks prk_dev_path_hooks;
/* The path's bring-up and registration are done: it takes I/O (UP, or
 * STANDBY as ALUA and failback say). */
void prk_dev_path_enter_ready(struct hpath *p);

/* Makes one I/O (for HIO_UNMAP with its one-descriptor parameter list
 * over lba and nblocks) and sends it at once when the device may, else
 * queues it. The caller has checked the range. 0, or -1 (not open, no
 * memory; cb is not called). */
int prk_dev_queue(struct prk_mpdev *d, enum hio_op op, uint64_t lba, uint32_t nblocks, void *buf,
                  prk_io_fn cb, void *arg);

/* mpdev_key.c: a device that is not open and whose nexuses hold no
 * registration of ours has a key only in this process: changing it is
 * choosing what the next open registers, and sends nothing (the control
 * socket's set_key on prkit mount's closed devices). */
bool prk_dev_key_is_local(const struct prk_mpdev *d);
/* Sets that key, with a PRK_EV_KEY_CHANGED event. */
void prk_dev_set_key_local(struct prk_mpdev *d, uint64_t new_key);

/* mpdev_life.c: the devices as a source of the host's loop (added by
 * prk_host_new, arg the prk_host). */
int prk_devs_poll_fill(void *h, struct pollfd *pfd, void **tag, int cap, uint64_t now,
                       uint64_t *next_ms);
void prk_devs_service(void *h, struct pollfd *pfd, void **tag, int n);
/* The loop's end of pass: every path writes what was queued on it. */
void prk_devs_pass_end(void *h);

#endif
