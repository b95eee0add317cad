/* The mount's decisions (pure): whether an open(2) runs the open mode,
 * shares the open device or is refused; which errno a failure becomes;
 * and how a byte range of read(2)/write(2) maps onto the LU's blocks.
 *
 * The errno values follow what Linux's SCSI disk driver gives a program
 * for the same condition, so that a program sees the mount as it would
 * see /dev/sdX: RESERVATION CONFLICT is EBADE, a medium error ENODATA,
 * a failed thin allocation ENOSPC, any other target refusal EREMOTEIO. */
#ifndef PRKIT_MOUNT_MNT_CORE_H
#define PRKIT_MOUNT_MNT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/host.h"

/* One device's open state in the mount: how many FUSE file handles are
 * open on it (all names together) and the mode the first one opened it
 * with. */
struct prk_mnt_devstate {
	unsigned handles;
	bool open;
	enum prk_open_mode mode;
};

enum prk_mnt_open_action {
	PRK_MNT_OPEN_RUN,   /* no handle: run prk_mpdev_open with the name's mode */
	PRK_MNT_OPEN_SHARE, /* open already: one more handle, no PR command */
	PRK_MNT_OPEN_REFUSE /* single involved: EBUSY */
};

/* What an open(2) of a name whose mode is want does now. */
enum prk_mnt_open_action prk_mnt_open_decide(const struct prk_mnt_devstate *s,
                                             enum prk_open_mode want);
/* After prk_mpdev_open succeeded (RUN) or for SHARE: count the handle. */
void prk_mnt_open_done(struct prk_mnt_devstate *s, enum prk_mnt_open_action a,
                       enum prk_open_mode mode);
/* A handle goes away. true when it was the last one (the caller closes
 * the device; the state is then closed). */
bool prk_mnt_release(struct prk_mnt_devstate *s);

/* The order of one device's mount I/O. A read-modify-write reads blocks
 * and writes them back whole; a write of the same blocks between the two
 * would be lost. So it runs alone: it starts when none of the device's
 * other mount I/O is in flight, and nothing starts while it runs; what
 * arrives meanwhile waits, in order. (The kernel serialises writes per
 * inode, but NAME and NAME.MODE are two inodes of one device and async
 * direct I/O is not serialised.) */
struct prk_mnt_order {
	unsigned inflight; /* started, not finished */
	bool exclusive;    /* a read-modify-write is among them */
	bool waiting;      /* requests wait in the device's queue */
};
/* May a request start now? queued: it is the head of the queue (else a
 * new request, which never overtakes the queue). */
bool prk_mnt_may_start(const struct prk_mnt_order *o, bool rmw, bool queued);

/* errno for a failed prk_mpdev_open. */
int prk_mnt_open_errno(const struct prk_host_err *e);
/* errno for a failed I/O (0 for PRK_IO_OK). */
int prk_mnt_io_errno(const struct prk_io_result *r);

/* How one read or write request maps onto blocks. */
struct prk_mnt_span {
	uint64_t lba;     /* first block touched */
	uint32_t nblocks; /* blocks touched (0: nothing to do) */
	uint32_t head;    /* offset of the first byte in the first block */
	size_t len;       /* bytes transferred (the request, clipped at the end) */
	/* Write only: the first / last block is partly written, so it must be
	 * read first (read-modify-write). Both false: an aligned write that
	 * goes straight from the request's buffer. */
	bool rmw_first, rmw_last;
};
/* A read of size bytes at off on an LU of blocks x bs bytes: clipped at
 * the end; at or after the end it transfers 0 bytes (end of file). */
void prk_mnt_span_read(uint64_t off, size_t size, uint32_t bs, uint64_t blocks,
                       struct prk_mnt_span *sp);
/* A write: at or after the end ENOSPC (returned); one crossing the end is
 * cut short (len). 0, or a positive errno. */
int prk_mnt_span_write(uint64_t off, size_t size, uint32_t bs, uint64_t blocks,
                       struct prk_mnt_span *sp);
/* An UNMAP (fallocate PUNCH_HOLE): offset and length must be whole
 * blocks (EINVAL) inside the LU (EINVAL past the end; as for a block
 * device's BLKDISCARD). 0 with *lba / *nblocks (0 blocks for len 0), or a
 * positive errno. */
int prk_mnt_span_unmap(uint64_t off, uint64_t len, uint32_t bs, uint64_t blocks, uint64_t *lba,
                       uint64_t *nblocks);

#endif
