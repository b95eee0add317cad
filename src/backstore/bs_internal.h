/* What backstore.c shares with the RAM and file backends: the common part
 * of every backstore, the ops table and the helpers. */
#ifndef PRKIT_BS_INTERNAL_H
#define PRKIT_BS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backstore.h"

/* Sizes are counted in bytes but must be whole 512-byte sectors, the
 * smallest SCSI logical block. */
#define PRK_BS_SECTOR 512u

struct prk_bs_ops {
	/* io has been checked: op known, range inside the backstore, iovecs
	 * adding up to len, len > 0 unless FLUSH, no writes if read-only. The
	 * backend ends it with prk_bs_finish(). */
	void (*submit)(struct prk_bs *bs, struct prk_bs_io *io);
	int (*complete)(struct prk_bs *bs);
	/* [offset, offset+len) is inside the backstore and len > 0. */
	int (*mapped)(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run);
	/* Ends outstanding I/O, then frees the backstore. */
	void (*close)(struct prk_bs *bs);
	/* Optional (NULL: the backend completes inline and queues nothing):
	 * submits what is queued (prk_bs_kick). */
	void (*kick)(struct prk_bs *bs);
	/* Optional: fills what the backend knows of st (zeroed before). */
	void (*stats)(const struct prk_bs *bs, struct prk_bs_stats *st);
	/* Optional (NULL: no lanes): prk_bs_lane_open. */
	struct prk_bs *(*lane)(struct prk_bs *bs);
};

/* Embedded first in every backend's own structure. */
struct prk_bs {
	const struct prk_bs_ops *ops;
	uint64_t size;
	size_t alignment;
	int event_fd;
	bool readonly;
	bool batching; /* prk_bs_set_batching; only with a kick op */
	unsigned inflight;
	/* Bytes up to which one WRITE is all-or-nothing, also across a crash
	 * (prk_bs_atomic_write_max); 0 = no such promise. */
	uint64_t atomic_write_max;
};

void prk_bs_init(struct prk_bs *bs, const struct prk_bs_ops *ops, uint64_t size, bool readonly);
/* Ends a submitted io: sets its result, drops the in-flight count, calls
 * done(). The io must not be touched afterwards: done() may free it. */
void prk_bs_finish(struct prk_bs *bs, struct prk_bs_io *io, int result);

/* The RAM backend's lane (ram.c). */
struct prk_bs *prk_bs_ram_lane(struct prk_bs *bs);

/* Test hook: when set, the file backstore's io_uring setup acts as if
 * the kernel refused the optional IORING_SETUP_* flags (-EINVAL, as
 * kernels before 5.19 do), so the fallback without them is exercised. */
extern bool prk_bs_file_refuse_setup_flags;

/* "backstore WHAT: REASON" into err (which may be NULL). */
void prk_bs_errf(char *err, size_t errlen, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
