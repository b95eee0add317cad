/* `prkit copy`: how a copy is cut into EXTENDED COPY commands and 02h
 * segment descriptors, within what the copy manager says it takes
 * (RECEIVE COPY RESULTS, OPERATING PARAMETERS). Pure. */
#ifndef PRKIT_CLI_COPY_PLAN_H
#define PRKIT_CLI_COPY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The two LUs (READ CAPACITY). */
struct prk_copy_geom {
	uint32_t src_bs, dst_bs;
	uint64_t src_blocks, dst_blocks;
};

/* What the user asked: blocks_given false = to the end of the source. */
struct prk_copy_req {
	uint64_t src_lba, dst_lba;
	uint64_t blocks; /* source blocks */
	bool blocks_given;
};

/* The copy manager's limits and what each command carries besides the
 * 02h descriptors. Zero in a max_* field means "not limited". */
struct prk_copy_limits {
	uint16_t max_cscd, max_seg;
	uint32_t max_list_len; /* MAXIMUM DESCRIPTOR LIST LENGTH */
	uint32_t max_seg_len;  /* MAXIMUM SEGMENT LENGTH, bytes */
	uint16_t n_cscd;       /* CSCD descriptors per command (1 or 2) */
	uint16_t extra_segs;   /* other segment descriptors per command (one 15h) */
	uint32_t extra_len;    /* their bytes */
	uint32_t seg_blocks;   /* the user's cap per segment (0: none) */
	uint16_t segs_per_cmd; /* the user's cap per command (0: none) */
};

#define PRK_COPY_B2B_LEN 28 /* one 02h segment descriptor */

struct prk_copy_plan {
	uint64_t src_lba, dst_lba;
	uint32_t src_bs, dst_bs;
	uint64_t blocks;     /* source blocks in all */
	uint64_t bytes;      /* blocks * src_bs */
	uint32_t seg_blocks; /* source blocks per segment (the last may be shorter) */
	uint64_t n_segs;     /* 02h segments in all */
	uint16_t segs_per_cmd;
	uint64_t n_cmds;
};

/* Checks the ranges against the LUs and cuts the copy. 0, or -1 with a
 * message in err (a range past the end of a LU, a length the destination's
 * block size does not divide, limits that leave no room for one 02h
 * descriptor). */
int prk_copy_plan_make(const struct prk_copy_geom *g, const struct prk_copy_req *r,
                       const struct prk_copy_limits *l, struct prk_copy_plan *p, char *err,
                       size_t errlen);

/* Segment k (0 .. n_segs-1): its source and destination LBAs and its
 * NUMBER OF BLOCKS (source blocks: DC = 0). */
struct prk_copy_seg {
	uint64_t src_lba, dst_lba;
	uint32_t n_blocks;
};
void prk_copy_plan_seg(const struct prk_copy_plan *p, uint64_t k, struct prk_copy_seg *s);

/* Command c (0 .. n_cmds-1): the index of its first segment and how many. */
void prk_copy_plan_cmd(const struct prk_copy_plan *p, uint64_t c, uint64_t *first, uint16_t *n);

#endif
