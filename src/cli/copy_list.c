/* `prkit copy`: one EXTENDED COPY parameter list, from the plan, through
 * the codec's encoder. Apart from the commands so that a unit test can
 * decode it with the copy manager's decoder. */
#include "copy_list.h"

#include <string.h>

#include "prkit/scsi_xcopy.h"

size_t prk_copy_list_build(const struct prk_copy_plan *p, uint64_t cmd, uint8_t list_id,
                           const struct prk_copy_lu_id *src, const struct prk_copy_lu_id *dst,
                           const uint8_t *move, size_t move_len, uint8_t *buf, size_t cap,
                           uint16_t *n02)
{
	struct prk_xcopy_list l;
	memset(&l, 0, sizeof(l));
	l.list_id = list_id;
	l.list_id_usage = PRK_XCOPY_LIU_HOLD;
	prk_xcopy_cscd_naa(&l.cscd[0], src->naa, src->pdt, src->bs);
	if (dst)
		prk_xcopy_cscd_naa(&l.cscd[1], dst->naa, dst->pdt, dst->bs);
	l.n_cscd = dst ? 2 : 1;
	uint16_t dsti = dst ? 1 : 0;
	if (move) {
		/* SPC-4 wants the 15h at or near the beginning: whatever fails
		 * after it, the copy manager moves the reservation back. */
		struct prk_xcopy_seg *s = &l.seg[l.n_seg++];
		s->type = PRK_XCOPY_SEG_3PR;
		s->dst = dsti;
		s->move = move;
		s->move_len = (uint32_t)move_len;
	}
	uint64_t first;
	uint16_t n;
	prk_copy_plan_cmd(p, cmd, &first, &n);
	if (n + l.n_seg > PRK_XCOPY_MAX_SEG)
		return 0;
	for (uint16_t i = 0; i < n; i++) {
		struct prk_copy_seg ps;
		prk_copy_plan_seg(p, first + i, &ps);
		struct prk_xcopy_seg *s = &l.seg[l.n_seg++];
		s->type = PRK_XCOPY_SEG_B2B;
		s->src = 0;
		s->dst = dsti;
		s->n_blocks = (uint16_t)ps.n_blocks;
		s->src_lba = ps.src_lba;
		s->dst_lba = ps.dst_lba;
	}
	*n02 = n;
	return prk_xcopy_encode(&l, buf, cap);
}
