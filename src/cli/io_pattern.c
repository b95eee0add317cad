/* `prkit io`: verify pattern and latency percentiles (see io_pattern.h). */
#include <string.h>

#include "byteorder.h"
#include "io_pattern.h"

const char *prk_iop_fault_name(enum iop_fault f)
{
	switch (f) {
	case IOP_OK:
		return "ok";
	case IOP_NOT_WRITTEN:
		return "no pattern";
	case IOP_WRONG_LBA:
		return "wrong LBA";
	case IOP_WRONG_RUN:
		return "wrong run id";
	case IOP_WRONG_SEQ:
		return "wrong sequence number";
	case IOP_BAD_DATA:
		return "data differs";
	}
	return "?";
}

/* splitmix64's finaliser: spreads every input bit over the seed. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t seed_of(uint64_t lba, uint64_t seq, uint64_t run_id)
{
	uint64_t s = mix(lba ^ mix(seq ^ mix(run_id)));
	return s ? s : 1;
}

static void fill_block(uint8_t *b, uint32_t bs, uint64_t lba, uint64_t seq, uint64_t run_id)
{
	memcpy(b, IOP_MAGIC, 8);
	prk_put_le64(b + 8, lba);
	prk_put_le64(b + 16, seq);
	prk_put_le64(b + 24, run_id);
	uint64_t x = seed_of(lba, seq, run_id);
	for (uint32_t off = IOP_HEADER; off + 8 <= bs; off += 8)
		prk_put_le64(b + off, prk_io_rand_next(&x));
}

void prk_iop_fill(uint8_t *buf, uint32_t block_size, uint32_t nblocks, uint64_t lba, uint64_t seq,
                  uint64_t run_id)
{
	for (uint32_t i = 0; i < nblocks; i++)
		fill_block(buf + (size_t)i * block_size, block_size, lba + i, seq, run_id);
}

static enum iop_fault header_fault(const uint8_t *b, uint64_t lba, uint64_t seq, uint64_t run_id,
                                   struct iop_mismatch *m)
{
	if (memcmp(b, IOP_MAGIC, 8) != 0) {
		for (m->offset = 0; m->offset < 8 && b[m->offset] == IOP_MAGIC[m->offset];)
			m->offset++;
		return IOP_NOT_WRITTEN;
	}
	const struct {
		uint32_t off;
		uint64_t want;
		enum iop_fault fault;
	} f[] = {{8, lba, IOP_WRONG_LBA}, {24, run_id, IOP_WRONG_RUN}, {16, seq, IOP_WRONG_SEQ}};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		m->found = prk_get_le64(b + f[i].off);
		if (m->found == f[i].want)
			continue;
		m->offset = f[i].off;
		while ((uint8_t)(m->found >> (8 * (m->offset - f[i].off))) ==
		       (uint8_t)(f[i].want >> (8 * (m->offset - f[i].off))))
			m->offset++;
		return f[i].fault;
	}
	m->found = 0;
	return IOP_OK;
}

static enum iop_fault check_block(const uint8_t *b, uint32_t bs, uint64_t lba, uint64_t seq,
                                  uint64_t run_id, struct iop_mismatch *m)
{
	enum iop_fault f = header_fault(b, lba, seq, run_id, m);
	if (f != IOP_OK)
		return f;
	uint64_t x = seed_of(lba, seq, run_id);
	for (uint32_t off = IOP_HEADER; off + 8 <= bs; off += 8) {
		uint64_t want = prk_io_rand_next(&x);
		if (prk_get_le64(b + off) == want)
			continue;
		m->offset = off;
		while (b[m->offset] == (uint8_t)(want >> (8 * (m->offset - off))))
			m->offset++;
		return IOP_BAD_DATA;
	}
	return IOP_OK;
}

enum iop_fault prk_iop_check(const uint8_t *buf, uint32_t block_size, uint32_t nblocks,
                             uint64_t lba, uint64_t seq, uint64_t run_id, struct iop_mismatch *m)
{
	struct iop_mismatch tmp;
	if (!m)
		m = &tmp;
	memset(m, 0, sizeof(*m));
	for (uint32_t i = 0; i < nblocks; i++) {
		m->lba = lba + i;
		m->fault =
		    check_block(buf + (size_t)i * block_size, block_size, lba + i, seq, run_id, m);
		if (m->fault != IOP_OK)
			return m->fault;
	}
	m->lba = 0;
	return IOP_OK;
}

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
	if (v < 2 * IOH_SUB)
		return (unsigned)v;
	unsigned k = 63u - (unsigned)__builtin_clzll(v); /* k > IOH_SUB_BITS */
	unsigned shift = k - IOH_SUB_BITS;
	unsigned idx = (shift + 1) * IOH_SUB + (unsigned)((v >> shift) & (IOH_SUB - 1));
	return idx < IOH_BUCKETS ? idx : IOH_BUCKETS - 1;
}

/* The largest value that falls in bucket idx. */
static uint64_t hist_upper(unsigned idx)
{
	if (idx < 2 * IOH_SUB)
		return idx;
	unsigned shift = idx / IOH_SUB - 1;
	uint64_t lo = ((uint64_t)IOH_SUB + idx % IOH_SUB) << shift;
	return lo + (1ull << shift) - 1;
}

void prk_io_hist_add(struct io_hist *h, uint64_t us)
{
	h->b[hist_index(us)]++;
	h->n++;
	if (us > h->max)
		h->max = us;
}

uint64_t prk_io_hist_percentile(const struct io_hist *h, double p)
{
	if (!h->n || p <= 0)
		return 0;
	double r = p * (double)h->n / 100.0; /* exact for whole p and n */
	uint64_t rank = (uint64_t)r;
	if ((double)rank < r)
		rank++; /* ceil */
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	uint64_t seen = 0;
	for (unsigned i = 0; i < IOH_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_upper(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
