/* `prkit io`: the pure parts of a run. The verify pattern (every block
 * says which LBA it belongs to, which write of that LBA it is and which
 * run wrote it, followed by data derived from those three), the latency
 * histogram with its percentiles, and the LBA generators. */
#ifndef PRKIT_CLI_IO_PATTERN_H
#define PRKIT_CLI_IO_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the verify pattern ----
 * Block layout: bytes 0..7 "PRKITIO1", 8..15 the LBA, 16..23 the sequence
 * number, 24..31 the run id (little endian), then a xorshift stream seeded
 * from the three, up to the end of the block. */
#define IOP_MAGIC "PRKITIO1"
#define IOP_HEADER 32

enum iop_fault {
	IOP_OK = 0,
	IOP_NOT_WRITTEN, /* no pattern at all (the magic is missing) */
	IOP_WRONG_LBA,   /* a block of another LBA (misdirected I/O) */
	IOP_WRONG_RUN,   /* written by another run */
	IOP_WRONG_SEQ,   /* an older or newer write of this LBA (lost write) */
	IOP_BAD_DATA     /* header right, data after it differs */
};
const char *prk_iop_fault_name(enum iop_fault f);

struct iop_mismatch {
	enum iop_fault fault;
	uint64_t lba;    /* the LBA of the block that failed */
	uint32_t offset; /* first differing byte within that block */
	uint64_t found;  /* WRONG_LBA / WRONG_RUN / WRONG_SEQ: the value found */
};

/* Fills nblocks blocks of block_size (>= IOP_HEADER, a multiple of 8) for
 * lba, lba+1, ... */
void prk_iop_fill(uint8_t *buf, uint32_t block_size, uint32_t nblocks, uint64_t lba, uint64_t seq,
                  uint64_t run_id);
/* Checks what prk_iop_fill would have written. IOP_OK, or the first fault
 * (with *m filled when m is not NULL). */
enum iop_fault prk_iop_check(const uint8_t *buf, uint32_t block_size, uint32_t nblocks,
                             uint64_t lba, uint64_t seq, uint64_t run_id, struct iop_mismatch *m);

/* ---- the latency histogram ----
 * Log-linear in microseconds, 32 sub-buckets per power of two: values
 * below 64 are exact, others are kept to within 1/32 (3.1%). */
#define IOH_SUB_BITS 5
#define IOH_SUB (1u << IOH_SUB_BITS)
#define IOH_BUCKETS (59u * IOH_SUB)

struct io_hist {
	uint64_t n, max;
	uint64_t b[IOH_BUCKETS];
};
void prk_io_hist_add(struct io_hist *h, uint64_t us);
/* The p-th percentile (0 < p <= 100) by nearest rank: the smallest value
 * v such that at least p% of the samples are <= v, rounded up to the
 * bucket's upper edge and never above the largest sample. 0 when empty. */
uint64_t prk_io_hist_percentile(const struct io_hist *h, double p);

/* ---- LBAs ---- */
/* xorshift64*, state != 0. Inline: prkit io draws one per I/O. */
static inline uint64_t prk_io_rand_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545F4914F6CDD1Dull;
}

#endif
