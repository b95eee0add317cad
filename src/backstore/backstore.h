/* Backstores: where the blocks of a logical unit live.
 *
 * Two kinds: RAM (for tests and demos; completes inline) and a file or
 * block device driven asynchronously through io_uring (liburing), with a
 * queue depth, an O_DIRECT option, and flushes mapped to fdatasync. The
 * LU submits I/O and is called back on completion from the thread that
 * runs the event loop: the loop watches prk_bs_event_fd() and calls
 * prk_bs_complete() when it is readable. */
#ifndef PRKIT_BACKSTORE_H
#define PRKIT_BACKSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum prk_bs_op {
	PRK_BS_READ,
	PRK_BS_WRITE,
	PRK_BS_FLUSH,        /* fdatasync; offset/len ignored */
	PRK_BS_WRITE_ZEROES, /* write zeroes over [offset, offset+len) */
	PRK_BS_UNMAP,        /* deallocate [offset, offset+len); reads return zeroes after */
};

struct prk_bs_io {
	enum prk_bs_op op;
	uint64_t offset; /* bytes */
	uint64_t len;    /* bytes; for READ/WRITE the sum of iov lengths */
	struct iovec *iov;
	int iovcnt;
	bool fua; /* WRITE: durable before completion (RWF_DSYNC) */
	/* out */
	int result; /* 0, or -errno */
	/* completion: called exactly once, possibly before prk_bs_submit returns
	 * (RAM), or later from prk_bs_complete() (file) */
	void (*done)(struct prk_bs_io *io);
	void *priv;
};

struct prk_bs_file_opts {
	const char *path;
	/* 0: use the existing file or device size; else create/extend to it (a
	 * larger file or device is used up to size only) */
	uint64_t size;
	bool direct;          /* O_DIRECT */
	unsigned queue_depth; /* io_uring entries; 0 = 128 */
	bool readonly;
};

struct prk_bs;

/* Creates a RAM backstore of size bytes (zero-filled, thin: memory is
 * committed on first write). On failure returns NULL and writes a message
 * naming the problem into err. */
struct prk_bs *prk_bs_ram_open(uint64_t size, char *err, size_t errlen);
/* Opens a file or block device. Errors (bad path, permissions, size 0,
 * size not a multiple of 512, O_DIRECT unsupported, io_uring setup) return
 * NULL with a message naming the path and the reason. */
struct prk_bs *prk_bs_file_open(const struct prk_bs_file_opts *o, char *err, size_t errlen);
/* Waits for outstanding I/O, calling its done(), then frees. */
void prk_bs_close(struct prk_bs *bs);

uint64_t prk_bs_size(const struct prk_bs *bs);
/* Required alignment of READ/WRITE iovec buffers and lengths and of offsets:
 * with O_DIRECT 512, or more when the device's logical block size or the
 * file system's direct-I/O alignment is larger; else 1. */
size_t prk_bs_alignment(const struct prk_bs *bs);

/* The largest WRITE (bytes) the backstore makes all-or-nothing: no reader
 * sees part of it, and after a crash every byte is either old or new
 * (SBC-4 WRITE ATOMIC). 0 when it cannot promise that.
 *  - RAM: the whole size. A WRITE is one copy inside prk_bs_submit on the
 *    event-loop thread, so nothing can see it half done; and a crash
 *    leaves nothing at all (a RAM backstore is not durable for any
 *    write), never a torn mix of old and new.
 *  - File: 0. Buffered or O_DIRECT writes can be torn by a crash; only
 *    RWF_ATOMIC (Linux 6.11+, O_DIRECT, and a filesystem and device that
 *    report atomic write units through statx STATX_WRITE_ATOMIC) could
 *    promise it, and the file backstore does not use it yet. */
uint64_t prk_bs_atomic_write_max(const struct prk_bs *bs);

/* Submits io. Offsets/lengths past the end, unknown ops and iovecs not
 * adding up to len fail with -EINVAL, writes to a read-only backstore with
 * -EROFS, all via done() before prk_bs_submit returns; so does a READ,
 * WRITE, WRITE_ZEROES or UNMAP of len 0 (with 0). The iov array is copied
 * (only the buffers must live until done()).
 * Never blocks: when the ring is full the I/O waits in a queue. */
void prk_bs_submit(struct prk_bs *bs, struct prk_bs_io *io);
/* An fd that becomes readable when completions are ready (-1 for RAM,
 * which completes inline). */
int prk_bs_event_fd(const struct prk_bs *bs);
/* Reaps completions and calls their done(). Returns how many completed. */
int prk_bs_complete(struct prk_bs *bs);
/* Batching (file backstore; RAM ignores it). Off (the default), every
 * prk_bs_submit() and prk_bs_complete() hands its I/O to the kernel before
 * returning. On, the I/O is only queued in the ring and goes to the
 * kernel, all of it in one system call, at prk_bs_kick(); so whoever
 * turns it on must kick after every batch of work (prkitd: the event
 * loop's after-batch hooks), or I/O waits forever. The ring is submitted
 * at once anyway when it is full. Turning batching off submits what is
 * queued. prk_bs_close() submits and drains as before. */
void prk_bs_set_batching(struct prk_bs *bs, bool on);
/* Submits what is queued; costs no system call when nothing is. Never
 * blocks; what the kernel does not take is retried from
 * prk_bs_complete() (the event fd is made readable for that). */
void prk_bs_kick(struct prk_bs *bs);

/* A lane: a second handle on the same blocks for another thread (one of
 * prkitd's event loops), which submits through it while the owner's
 * thread keeps using bs. It counts its own I/O (prk_bs_inflight), has its
 * own event fd, batching and kick (a file lane is an io_uring ring of its
 * own over the same fd), and is closed with prk_bs_close (which drains
 * it) before bs; what the blocks hold is shared. NULL when the backend
 * cannot (io_uring or eventfd setup failed, memory ran out). */
struct prk_bs *prk_bs_lane_open(struct prk_bs *bs);

/* What a backstore did, for tests and diagnostics. */
struct prk_bs_stats {
	uint64_t submits;     /* io_uring_submit() calls (system calls) */
	unsigned queued;      /* I/O prepared in the ring, not yet submitted */
	unsigned setup_flags; /* the IORING_SETUP_* flags the kernel took */
};
void prk_bs_stats(const struct prk_bs *bs, struct prk_bs_stats *st);

/* Outstanding I/O count (submitted, not yet completed). */
unsigned prk_bs_inflight(const struct prk_bs *bs);

/* Is [offset, offset+len) mapped (allocated)? Sets *run to the length of
 * the run of the same state starting at offset (<= len). For GET LBA
 * STATUS. Returns 1 mapped, 0 deallocated, -errno on error (-EINVAL for
 * len 0 or a range past the end). */
int prk_bs_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run);

#endif
