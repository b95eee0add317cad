/* See frame.h. */
#include "frame.h"

#include <string.h>

#include "byteorder.h"
#include "pdu.h"
#include "prkit/crc32c.h"

enum prk_iscsi_frame_result prk_iscsi_frame(const uint8_t *p, size_t avail,
                                            const struct prk_iscsi_frame_rules *r,
                                            struct prk_iscsi_frame *f)
{
	if (avail < PRK_ISCSI_BHS_LEN)
		return PRK_FRAME_NEED_BHS;
	struct prk_iscsi_hdr h;
	/* In full feature phase a BHS that does not decode is still framed,
	 * so that the stream stays in step and its handler rejects it. */
	if (prk_iscsi_hdr_decode(p, &h) && r->login)
		return PRK_FRAME_BAD_BHS;
	h.ahs_words = p[4];
	h.dlen = prk_get_be24(p + 5);
	f->dlen = h.dlen;
	f->hdr = PRK_ISCSI_BHS_LEN + (size_t)h.ahs_words * 4 +
	         (r->header_digest ? PRK_ISCSI_DIGEST_LEN : 0);
	f->total = PRK_ISCSI_BHS_LEN + prk_iscsi_pdu_tail_len(&h, r->header_digest, r->data_digest);
	if (h.dlen > r->max_dlen)
		return PRK_FRAME_TOO_LONG;
	if (avail < f->hdr)
		return PRK_FRAME_NEED_HEADER;
	if (r->header_digest) {
		size_t n = f->hdr - PRK_ISCSI_DIGEST_LEN;
		uint32_t d = prk_crc32c(0, p, n), w;
		memcpy(&w, p + n, 4); /* digests are little-endian on the wire */
		if (d != w)
			return PRK_FRAME_HEADER_DIGEST;
	}
	return avail < f->total ? PRK_FRAME_NEED_DATA : PRK_FRAME_COMPLETE;
}
