/* Helpers of the backstore tests (RAM, file, and the suite both share):
 * submit one I/O and wait for it, fill and check buffers. */
#ifndef PRKIT_TEST_BS_UTIL_H
#define PRKIT_TEST_BS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backstore.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

/* What bs_on_done records of the I/Os whose priv points to one. */
struct bs_done {
	int calls;
	int result;
};
void bs_on_done(struct prk_bs_io *io);

/* Waits on the event fd and reaps until nothing is outstanding. Returns how
 * many I/Os prk_bs_complete() reported. */
int bs_drive(struct prk_bs *bs);

/* Submits one I/O and waits for it; returns its result. A backend with an
 * event fd (file) must complete valid I/O later (expect_async true) and
 * invalid or empty I/O inside prk_bs_submit; one without (RAM) completes
 * everything inside prk_bs_submit, so expect_async is not checked there.
 * Either way done() runs exactly once. */
int bs_run(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len, struct iovec *iov,
           int iovcnt, bool fua, bool expect_async);
/* A valid READ or WRITE of one buffer. */
int bs_rw(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, void *buf, size_t len);
/* A valid UNMAP, WRITE_ZEROES or FLUSH. */
int bs_range_op(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len);

/* A pattern that differs with seed and offset. */
void bs_fill(uint8_t *p, size_t n, unsigned seed);
bool bs_all_zero(const uint8_t *p, size_t n);

#endif
