/* RAM backstore: thin, in chunks of RAM_CHUNK bytes that are allocated by
 * the first write into them and freed again by an UNMAP covering them
 * whole. A chunk that is not allocated reads as zeroes. Everything
 * completes inline.
 *
 * Several threads (prkitd's event loops, each through its own lane,
 * prk_bs_lane_open) may read and write at once: a chunk is installed by
 * the first write with a compare-and-swap (a loser frees its own), and
 * chunk pointers are loaded with acquire, so a reader sees a chunk's
 * zeroes before its pointer. Overlapping plain writes from two threads may
 * interleave, which SCSI allows for SIMPLE tasks; UNMAP, which frees
 * chunks, runs only while the LU's fast path is drained (src/lu/gate.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bs_internal.h"

/* Big enough that the chunk table stays small (8 MiB of pointers for a
 * TiB), small enough that a scattered workload commits little memory. */
#define RAM_CHUNK_SHIFT 20
#define RAM_CHUNK ((uint64_t)1 << RAM_CHUNK_SHIFT)

struct ram_bs {
	struct prk_bs bs;
	uint64_t nchunks;
	uint8_t **chunks; /* NULL: never written, or unmapped */
};

static struct ram_bs *ram_of(struct prk_bs *bs)
{
	return (struct ram_bs *)bs;
}

/* The last chunk is short when the size is not a multiple of RAM_CHUNK. */
static uint64_t chunk_len(const struct ram_bs *r, uint64_t idx)
{
	uint64_t start = idx << RAM_CHUNK_SHIFT;
	uint64_t left = r->bs.size - start;

	return left < RAM_CHUNK ? left : RAM_CHUNK;
}

/* Bytes from offset to the end of its chunk, at most max. */
static uint64_t piece_len(const struct ram_bs *r, uint64_t offset, uint64_t max)
{
	uint64_t idx = offset >> RAM_CHUNK_SHIFT;
	uint64_t left = chunk_len(r, idx) - (offset & (RAM_CHUNK - 1));

	return left < max ? left : max;
}

/* calloc: a new chunk must read as zeroes outside what is written now. */
static uint8_t *chunk_get(const struct ram_bs *r, uint64_t idx)
{
	return __atomic_load_n(&r->chunks[idx], __ATOMIC_ACQUIRE);
}

static uint8_t *chunk_for_write(struct ram_bs *r, uint64_t idx)
{
	uint8_t *c = chunk_get(r, idx);
	if (c)
		return c;
	uint8_t *fresh = calloc(1, chunk_len(r, idx));
	if (!fresh)
		return NULL;
	/* Another lane may have installed one meanwhile: keep that one. */
	if (__atomic_compare_exchange_n(&r->chunks[idx], &c, fresh, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_ACQUIRE))
		return fresh;
	free(fresh);
	return c;
}

static int ram_read(struct ram_bs *r, uint64_t offset, uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint8_t *chunk = chunk_get(r, offset >> RAM_CHUNK_SHIFT);
		size_t n = piece_len(r, offset, len);

		if (chunk)
			memcpy(buf, chunk + (offset & (RAM_CHUNK - 1)), n);
		else
			memset(buf, 0, n);
		buf += n;
		offset += n;
		len -= n;
	}
	return 0;
}

static int ram_write(struct ram_bs *r, uint64_t offset, uint8_t *buf, size_t len)
{
	while (len > 0) {
		uint8_t *chunk = chunk_for_write(r, offset >> RAM_CHUNK_SHIFT);
		size_t n = piece_len(r, offset, len);

		if (!chunk)
			return -ENOMEM;
		memcpy(chunk + (offset & (RAM_CHUNK - 1)), buf, n);
		buf += n;
		offset += n;
		len -= n;
	}
	return 0;
}

static int ram_rw(struct ram_bs *r, const struct prk_bs_io *io)
{
	uint64_t offset = io->offset;

	for (int i = 0; i < io->iovcnt; i++) {
		uint8_t *buf = io->iov[i].iov_base;
		size_t len = io->iov[i].iov_len;
		int ret = io->op == PRK_BS_READ ? ram_read(r, offset, buf, len)
		                                : ram_write(r, offset, buf, len);

		if (ret < 0)
			return ret;
		offset += len;
	}
	return 0;
}

/* Zeroes the range. Chunks it covers whole are freed when release is set
 * (UNMAP); WRITE_ZEROES keeps them, and never allocates, since an absent
 * chunk already reads as zeroes. */
static void ram_zero(struct ram_bs *r, uint64_t offset, uint64_t len, bool release)
{
	while (len > 0) {
		uint64_t idx = offset >> RAM_CHUNK_SHIFT;
		uint64_t in = offset & (RAM_CHUNK - 1);
		uint64_t n = piece_len(r, offset, len);

		uint8_t *c = chunk_get(r, idx);
		if (c && release && in == 0 && n == chunk_len(r, idx)) {
			__atomic_store_n(&r->chunks[idx], NULL, __ATOMIC_RELEASE);
			free(c);
		} else if (c) {
			memset(c + in, 0, n);
		}
		offset += n;
		len -= n;
	}
}

/* The work of one io on r; bs is the handle it was submitted through
 * (the backstore itself or a lane), which counts it. */
static void ram_run(struct ram_bs *r, struct prk_bs *bs, struct prk_bs_io *io)
{
	int ret = 0;

	switch (io->op) {
	case PRK_BS_READ:
	case PRK_BS_WRITE:
		ret = ram_rw(r, io);
		break;
	case PRK_BS_WRITE_ZEROES:
	case PRK_BS_UNMAP:
		ram_zero(r, io->offset, io->len, io->op == PRK_BS_UNMAP);
		break;
	case PRK_BS_FLUSH:
		break; /* RAM has nothing to make durable */
	}
	prk_bs_finish(bs, io, ret);
}

static void ram_submit(struct prk_bs *bs, struct prk_bs_io *io)
{
	ram_run(ram_of(bs), bs, io);
}

static int ram_complete(struct prk_bs *bs)
{
	(void)bs;
	return 0; /* everything completed inline */
}

static int ram_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run)
{
	struct ram_bs *r = ram_of(bs);
	uint64_t end = offset + len;
	bool mapped = chunk_get(r, offset >> RAM_CHUNK_SHIFT) != NULL;
	uint64_t pos = offset;

	while (pos < end && (chunk_get(r, pos >> RAM_CHUNK_SHIFT) != NULL) == mapped)
		pos = ((pos >> RAM_CHUNK_SHIFT) + 1) << RAM_CHUNK_SHIFT;
	*run = (pos < end ? pos : end) - offset;
	return mapped;
}

static void ram_close(struct prk_bs *bs)
{
	struct ram_bs *r = ram_of(bs);

	for (uint64_t i = 0; i < r->nchunks; i++)
		free(r->chunks[i]);
	free(r->chunks);
	free(r);
}

static const struct prk_bs_ops ram_ops = {
    .submit = ram_submit,
    .complete = ram_complete,
    .mapped = ram_mapped,
    .close = ram_close,
    .lane = prk_bs_ram_lane,
};

/* ---- lanes: the same chunks, counted apart, for another thread ---- */

struct ram_lane {
	struct prk_bs bs;
	struct ram_bs *r;
};

static void lane_submit(struct prk_bs *bs, struct prk_bs_io *io)
{
	ram_run(((struct ram_lane *)bs)->r, bs, io);
}

static int lane_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run)
{
	return ram_mapped(&((struct ram_lane *)bs)->r->bs, offset, len, run);
}

static void lane_close(struct prk_bs *bs)
{
	free(bs);
}

static const struct prk_bs_ops lane_ops = {
    .submit = lane_submit,
    .complete = ram_complete,
    .mapped = lane_mapped,
    .close = lane_close,
};

struct prk_bs *prk_bs_ram_lane(struct prk_bs *bs)
{
	struct ram_lane *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	prk_bs_init(&l->bs, &lane_ops, bs->size, bs->readonly);
	l->bs.alignment = bs->alignment;
	l->bs.atomic_write_max = bs->atomic_write_max;
	l->r = ram_of(bs);
	return &l->bs;
}

struct prk_bs *prk_bs_ram_open(uint64_t size, char *err, size_t errlen)
{
	struct ram_bs *r;

	if (size == 0 || size % PRK_BS_SECTOR != 0) {
		prk_bs_errf(err, errlen, "ram", "size %llu is not a positive multiple of %u",
		            (unsigned long long)size, PRK_BS_SECTOR);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->nchunks = (size + RAM_CHUNK - 1) >> RAM_CHUNK_SHIFT;
	if (r->nchunks > SIZE_MAX / sizeof(*r->chunks))
		goto nomem;
	r->chunks = calloc(r->nchunks, sizeof(*r->chunks));
	if (!r->chunks)
		goto nomem;
	prk_bs_init(&r->bs, &ram_ops, size, false);
	r->bs.atomic_write_max = size; /* see prk_bs_atomic_write_max() */
	return &r->bs;
nomem:
	free(r);
	prk_bs_errf(err, errlen, "ram", "size %llu: %s", (unsigned long long)size,
	            strerror(ENOMEM));
	return NULL;
}
