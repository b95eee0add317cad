/* `prkit copy`: the plan. The arithmetic lives here, apart from the
 * commands, so that every edge (ends of LUs, block sizes that differ,
 * limits of one descriptor) is tested without a target. */
#include "copy_plan.h"

#include <inttypes.h>

#include "errfmt.h"
#include "prkit/scsi_xcopy.h"

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Source blocks per segment: the largest count within NUMBER OF BLOCKS,
 * MAXIMUM SEGMENT LENGTH and the user's cap whose bytes the destination
 * block size divides (else the copy manager ends the copy with
 * UNEXPECTED INEXACT SEGMENT). 0 when none fits. */
static uint32_t seg_blocks(const struct prk_copy_geom *g, const struct prk_copy_limits *l)
{
	uint64_t n = 65535;
	if (l->max_seg_len && l->max_seg_len / g->src_bs < n)
		n = l->max_seg_len / g->src_bs;
	if (l->seg_blocks && l->seg_blocks < n)
		n = l->seg_blocks;
	/* step source blocks make a whole number of destination blocks */
	uint64_t step = g->dst_bs / gcd(g->src_bs, g->dst_bs);
	return (uint32_t)(n / step * step);
}

static int64_t segs_per_cmd(const struct prk_copy_limits *l, char *err, size_t errlen)
{
	int64_t n = PRK_XCOPY_MAX_SEG;
	if (l->max_seg && l->max_seg < n)
		n = l->max_seg;
	n -= l->extra_segs;
	if (l->max_list_len) {
		int64_t room = (int64_t)l->max_list_len - (int64_t)l->n_cscd * PRK_XCOPY_CSCD_LEN -
		               (int64_t)l->extra_len;
		if (room / PRK_COPY_B2B_LEN < n)
			n = room / PRK_COPY_B2B_LEN;
	}
	if (l->segs_per_cmd && l->segs_per_cmd < n)
		n = l->segs_per_cmd;
	if (l->max_cscd && l->n_cscd > l->max_cscd)
		return prk_errf(
		    err, errlen,
		    "the copy manager takes %u CSCD descriptor%s per command; this copy "
		    "needs %u",
		    l->max_cscd, l->max_cscd == 1 ? "" : "s", l->n_cscd);
	if (n < 1)
		return prk_errf(
		    err, errlen,
		    "the copy manager's limits (%u segment descriptors, descriptor list "
		    "length %" PRIu32 ") leave no room for a 02h segment descriptor",
		    l->max_seg, l->max_list_len);
	return n;
}

int prk_copy_plan_make(const struct prk_copy_geom *g, const struct prk_copy_req *r,
                       const struct prk_copy_limits *l, struct prk_copy_plan *p, char *err,
                       size_t errlen)
{
	*p = (struct prk_copy_plan){0};
	if (!g->src_bs || !g->dst_bs)
		return prk_errf(err, errlen, "a block size of 0 reported");
	if (r->src_lba >= g->src_blocks)
		return prk_errf(err, errlen,
		                "--src-lba %" PRIu64 " is past the end of SRC (%" PRIu64 " blocks)",
		                r->src_lba, g->src_blocks);
	uint64_t blocks = r->blocks_given ? r->blocks : g->src_blocks - r->src_lba;
	if (!blocks || blocks > g->src_blocks - r->src_lba)
		return prk_errf(err, errlen,
		                "--blocks %" PRIu64 " from --src-lba %" PRIu64
		                " runs past the end of SRC (%" PRIu64 " blocks)",
		                blocks, r->src_lba, g->src_blocks);
	if (blocks > UINT64_MAX / g->src_bs)
		return prk_errf(err, errlen, "--blocks %" PRIu64 ": too many bytes", blocks);
	uint64_t bytes = blocks * g->src_bs;
	if (bytes % g->dst_bs)
		return prk_errf(err, errlen,
		                "%" PRIu64 " bytes (%" PRIu64 " blocks of %" PRIu32
		                ") are not a whole number of DST blocks of %" PRIu32,
		                bytes, blocks, g->src_bs, g->dst_bs);
	uint64_t dst_n = bytes / g->dst_bs;
	if (r->dst_lba >= g->dst_blocks || dst_n > g->dst_blocks - r->dst_lba)
		return prk_errf(err, errlen,
		                "DST is too small: %" PRIu64 " blocks from --dst-lba %" PRIu64
		                " needed, it has %" PRIu64,
		                dst_n, r->dst_lba, g->dst_blocks);
	uint32_t sb = seg_blocks(g, l);
	if (!sb)
		return prk_errf(err, errlen,
		                "no segment length fits: MAXIMUM SEGMENT LENGTH %" PRIu32
		                " bytes, block sizes %" PRIu32 " and %" PRIu32,
		                l->max_seg_len, g->src_bs, g->dst_bs);
	int64_t spc = segs_per_cmd(l, err, errlen);
	if (spc < 0)
		return -1;
	*p = (struct prk_copy_plan){.src_lba = r->src_lba,
	                            .dst_lba = r->dst_lba,
	                            .src_bs = g->src_bs,
	                            .dst_bs = g->dst_bs,
	                            .blocks = blocks,
	                            .bytes = bytes,
	                            .seg_blocks = sb,
	                            .n_segs = (blocks + sb - 1) / sb,
	                            .segs_per_cmd = (uint16_t)spc};
	p->n_cmds = (p->n_segs + p->segs_per_cmd - 1) / p->segs_per_cmd;
	return 0;
}

void prk_copy_plan_seg(const struct prk_copy_plan *p, uint64_t k, struct prk_copy_seg *s)
{
	uint64_t off = k * p->seg_blocks; /* source blocks before segment k */
	uint64_t left = p->blocks - off;
	s->src_lba = p->src_lba + off;
	/* off * src_bs is a multiple of dst_bs: seg_blocks is. */
	s->dst_lba = p->dst_lba + off * p->src_bs / p->dst_bs;
	s->n_blocks = (uint32_t)(left < p->seg_blocks ? left : p->seg_blocks);
}

void prk_copy_plan_cmd(const struct prk_copy_plan *p, uint64_t c, uint64_t *first, uint16_t *n)
{
	*first = c * p->segs_per_cmd;
	uint64_t left = p->n_segs - *first;
	*n = (uint16_t)(left < p->segs_per_cmd ? left : p->segs_per_cmd);
}
