/* What third-party copy reports back: RECEIVE COPY RESULTS data (SPC-4
 * 6.18: COPY STATUS, OPERATING PARAMETERS, FAILED SEGMENT DETAILS), the
 * COPY ABORTED sense data of a failed EXTENDED COPY (SPC-4's rules for
 * errors detected while processing segment descriptors, the segment pointer
 * form of the sense-key specific field and the forwarded sense data
 * descriptor) and the Third-party Copy VPD page (SPC-4 7.8.17).
 *
 * Encoders write at most cap bytes and return the full length; AVAILABLE
 * DATA / PAGE LENGTH always describe the full data. Decoders read data a
 * device returned, possibly cut by the allocation length. */
#include "prkit/scsi_xcopy.h"

#include <string.h>

#include "be.h"

/* COPY STATUS. */
#define CS_LEN 12
#define CS_OFF_STATUS 4
#define CS_OFF_SEGS 5
#define CS_OFF_UNITS 7
#define CS_OFF_COUNT 8
#define CS_HDD 0x80
#define CS_STATUS_MASK 0x7f
#define CS_MAX_UNITS 6 /* exbibytes */

/* OPERATING PARAMETERS. */
#define OP_HDR_LEN 44
#define OP_OFF_SNLID 4
#define OP_OFF_MAX_CSCD 8
#define OP_OFF_MAX_SEG 10
#define OP_OFF_MAX_LIST 12
#define OP_OFF_MAX_SEG_LEN 16
#define OP_OFF_MAX_INLINE 20
#define OP_OFF_HELD 24
#define OP_OFF_STREAM 28
#define OP_OFF_TOTAL 34
#define OP_OFF_MAX_CONC 36
#define OP_OFF_DATA_GRAN 37
#define OP_OFF_INLINE_GRAN 38
#define OP_OFF_HELD_GRAN 39
#define OP_OFF_N_IMPL 43
#define OP_IMPL_MAX 16

/* FAILED SEGMENT DETAILS. */
#define FS_OFF_STATUS 56
#define FS_OFF_SENSE_LEN 58
#define FS_HDR_LEN 60

/* AVAILABLE DATA counts the bytes after itself. */
#define AVAIL_LEN 4

/* COPY ABORTED sense data. */
#define FIXED_OFF_CSI 8
#define FIXED_OFF_ASC 12
#define FIXED_OFF_SKS 15
#define FIXED_HDR_LEN 18
#define SKS_SKSV 0x80
#define SKS_SD 0x20
#define SKS_BPV 0x08
#define SKS_BIT_MASK 0x07
#define DESC_HDR_LEN 8
#define DESC_CSI 0x01
#define DESC_CSI_LEN 12
#define DESC_SKS 0x02
#define DESC_SKS_LEN 8
#define DESC_FWD 0x0c
#define DESC_FWD_HDR 4
#define FWD_SOURCE_SRC 0x1 /* SENSE DATA SOURCE: the copy source */
#define FWD_SOURCE_DST 0x2 /* the copy destination */

/* Third-party Copy VPD page. */
#define VPD_3PC_PAGE 0x8f
#define VPD_HDR_LEN 4
#define TPC_DESC_HDR 4
#define TPC_SUPPORTED_COMMANDS 0x0001
#define TPC_PARAMETER_DATA 0x0004
#define TPC_SUPPORTED_DESCRIPTORS 0x0008
#define TPC_SUPPORTED_CSCD_IDS 0x000c
#define TPC_GENERAL_COPY_OPS 0x8001
#define TPC_PARAM_DATA_LEN 0x1c
#define TPC_GENERAL_LEN 0x20
#define CMN_OFF_RTPI 4 /* our CM nexus descriptor */
#define CMN_OFF_TID 8

size_t prk_rcr_status_encode(const struct prk_xcopy_status *s, uint8_t *buf, size_t cap)
{
	uint8_t b[CS_LEN] = {0};

	prk_put_be32(b, CS_LEN - AVAIL_LEN);
	b[CS_OFF_STATUS] = (uint8_t)((s->hdd ? CS_HDD : 0) | (s->status & CS_STATUS_MASK));
	prk_put_be16(b + CS_OFF_SEGS, s->segs_done);
	b[CS_OFF_UNITS] = s->units;
	prk_put_be32(b + CS_OFF_COUNT, s->count);
	prk_wr_bytes(buf, cap, 0, b, sizeof(b));
	return sizeof(b);
}

int prk_rcr_status_decode(const uint8_t *buf, size_t len, struct prk_xcopy_status *out)
{
	memset(out, 0, sizeof(*out));
	if (len < CS_LEN || prk_get_be32(buf) < CS_LEN - AVAIL_LEN)
		return -1;
	out->hdd = buf[CS_OFF_STATUS] & CS_HDD;
	out->status = buf[CS_OFF_STATUS] & CS_STATUS_MASK;
	out->segs_done = prk_get_be16(buf + CS_OFF_SEGS);
	out->units = buf[CS_OFF_UNITS];
	out->count = prk_get_be32(buf + CS_OFF_COUNT);
	return 0;
}

void prk_xcopy_status_set_bytes(struct prk_xcopy_status *s, uint64_t bytes)
{
	uint8_t u = 0;

	/* The smallest unit (powers of 1024) in which the count fits 32 bits;
	 * 2^64 bytes are 16 EiB, so unit 6 always fits. */
	while (u < CS_MAX_UNITS && (bytes >> (10 * u)) > UINT32_MAX)
		u++;
	s->units = u;
	s->count = (uint32_t)(bytes >> (10 * u));
}

size_t prk_rcr_opparams_encode(const struct prk_xcopy_opparams *p, uint8_t *buf, size_t cap)
{
	uint8_t b[OP_HDR_LEN + OP_IMPL_MAX] = {0};
	uint8_t n = p->n_impl > OP_IMPL_MAX ? OP_IMPL_MAX : p->n_impl;
	size_t len = OP_HDR_LEN + n;

	prk_put_be32(b, (uint32_t)(len - AVAIL_LEN));
	b[OP_OFF_SNLID] = p->snlid ? 1 : 0;
	prk_put_be16(b + OP_OFF_MAX_CSCD, p->max_cscd);
	prk_put_be16(b + OP_OFF_MAX_SEG, p->max_seg);
	prk_put_be32(b + OP_OFF_MAX_LIST, p->max_list_len);
	prk_put_be32(b + OP_OFF_MAX_SEG_LEN, p->max_seg_len);
	prk_put_be32(b + OP_OFF_MAX_INLINE, p->max_inline);
	prk_put_be32(b + OP_OFF_HELD, p->held_limit);
	prk_put_be32(b + OP_OFF_STREAM, p->max_stream_xfer);
	prk_put_be16(b + OP_OFF_TOTAL, p->total_concurrent);
	b[OP_OFF_MAX_CONC] = p->max_concurrent;
	b[OP_OFF_DATA_GRAN] = p->data_gran_log2;
	b[OP_OFF_INLINE_GRAN] = p->inline_gran_log2;
	b[OP_OFF_HELD_GRAN] = p->held_gran_log2;
	b[OP_OFF_N_IMPL] = n;
	memcpy(b + OP_HDR_LEN, p->impl, n);
	prk_wr_bytes(buf, cap, 0, b, len);
	return len;
}

int prk_rcr_opparams_decode(const uint8_t *buf, size_t len, struct prk_xcopy_opparams *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len < OP_HDR_LEN || prk_get_be32(buf) < OP_HDR_LEN - AVAIL_LEN)
		return -1;
	out->snlid = buf[OP_OFF_SNLID] & 1;
	out->max_cscd = prk_get_be16(buf + OP_OFF_MAX_CSCD);
	out->max_seg = prk_get_be16(buf + OP_OFF_MAX_SEG);
	out->max_list_len = prk_get_be32(buf + OP_OFF_MAX_LIST);
	out->max_seg_len = prk_get_be32(buf + OP_OFF_MAX_SEG_LEN);
	out->max_inline = prk_get_be32(buf + OP_OFF_MAX_INLINE);
	out->held_limit = prk_get_be32(buf + OP_OFF_HELD);
	out->max_stream_xfer = prk_get_be32(buf + OP_OFF_STREAM);
	out->total_concurrent = prk_get_be16(buf + OP_OFF_TOTAL);
	out->max_concurrent = buf[OP_OFF_MAX_CONC];
	out->data_gran_log2 = buf[OP_OFF_DATA_GRAN];
	out->inline_gran_log2 = buf[OP_OFF_INLINE_GRAN];
	out->held_gran_log2 = buf[OP_OFF_HELD_GRAN];
	/* What is both announced and present, up to what the struct holds. */
	n = buf[OP_OFF_N_IMPL];
	if (n > len - OP_HDR_LEN)
		n = len - OP_HDR_LEN;
	if (n > OP_IMPL_MAX)
		n = OP_IMPL_MAX;
	out->n_impl = (uint8_t)n;
	memcpy(out->impl, buf + OP_HDR_LEN, n);
	return 0;
}

size_t prk_rcr_failed_encode(const struct prk_xcopy_failed *f, uint8_t *buf, size_t cap)
{
	uint8_t b[FS_HDR_LEN] = {0};
	uint16_t n = f->sense_len > PRK_XCOPY_SENSE_MAX ? PRK_XCOPY_SENSE_MAX : f->sense_len;

	prk_put_be32(b, (uint32_t)(FS_HDR_LEN + n - AVAIL_LEN));
	b[FS_OFF_STATUS] = f->status;
	prk_put_be16(b + FS_OFF_SENSE_LEN, n);
	prk_wr_bytes(buf, cap, 0, b, sizeof(b));
	prk_wr_bytes(buf, cap, FS_HDR_LEN, f->sense, n);
	return FS_HDR_LEN + (size_t)n;
}

int prk_rcr_failed_decode(const uint8_t *buf, size_t len, struct prk_xcopy_failed *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len < FS_HDR_LEN || prk_get_be32(buf) < FS_HDR_LEN - AVAIL_LEN)
		return -1;
	out->status = buf[FS_OFF_STATUS];
	/* Sense data cut by the allocation length, or longer than we keep, is
	 * kept as far as it goes (sense data is read from its start). */
	n = prk_get_be16(buf + FS_OFF_SENSE_LEN);
	if (n > len - FS_HDR_LEN)
		n = len - FS_HDR_LEN;
	if (n > PRK_XCOPY_SENSE_MAX)
		n = PRK_XCOPY_SENSE_MAX;
	out->sense_len = (uint16_t)n;
	memcpy(out->sense, buf + FS_HDR_LEN, n);
	return 0;
}

static void sks_segment_ptr(const struct prk_xcopy_abort *a, uint8_t out[3])
{
	memset(out, 0, 3);
	if (!a->has_ptr)
		return;
	out[0] = SKS_SKSV | (a->sd ? SKS_SD : 0);
	if (a->bit >= 0)
		out[0] |= SKS_BPV | ((uint8_t)a->bit & SKS_BIT_MASK);
	prk_put_be16(out + 1, a->field);
}

/* The CSCD's sense is forwarded with the status it came with: CHECK
 * CONDITION (sense data exists only with it). */
size_t prk_xcopy_abort_encode(const struct prk_xcopy_abort *a, bool desc, uint8_t *buf, size_t cap)
{
	uint8_t b[PRK_XCOPY_SENSE_MAX] = {0};
	uint8_t n = a->cscd_sense_len > sizeof(a->cscd_sense) ? (uint8_t)sizeof(a->cscd_sense)
	                                                      : a->cscd_sense_len;
	size_t len;

	if (!desc) {
		/* Fixed: COMMAND-SPECIFIC INFORMATION = source sense offset,
		 * destination sense offset, SEGMENT NUMBER (2 bytes); the
		 * offsets point at the CSCD's status byte, followed by its
		 * sense data, in the additional sense bytes. */
		b[0] = 0x70;
		b[2] = PRK_SK_COPY_ABORTED;
		if (n > 0) {
			b[FIXED_OFF_CSI + (a->from_dst ? 1 : 0)] = FIXED_HDR_LEN;
			b[FIXED_HDR_LEN] = PRK_STATUS_CHECK_CONDITION;
			memcpy(b + FIXED_HDR_LEN + 1, a->cscd_sense, n);
		}
		prk_put_be16(b + FIXED_OFF_CSI + 2, a->seg);
		b[FIXED_OFF_ASC] = (uint8_t)(a->asc >> 8);
		b[FIXED_OFF_ASC + 1] = (uint8_t)a->asc;
		sks_segment_ptr(a, b + FIXED_OFF_SKS);
		len = FIXED_HDR_LEN + (n > 0 ? 1 + (size_t)n : 0);
		b[7] = (uint8_t)(len - DESC_HDR_LEN);
		prk_wr_bytes(buf, cap, 0, b, len);
		return len;
	}
	/* Descriptor format: the CSCD's sense goes in a forwarded sense data
	 * descriptor, so the two offsets are zero; the command-specific
	 * information descriptor carries the segment number in the low bytes
	 * of its 8-byte field (the fixed format's 4 bytes, right-aligned). */
	b[0] = 0x72;
	b[1] = PRK_SK_COPY_ABORTED;
	b[2] = (uint8_t)(a->asc >> 8);
	b[3] = (uint8_t)a->asc;
	len = DESC_HDR_LEN;
	b[len] = DESC_CSI;
	b[len + 1] = DESC_CSI_LEN - 2;
	prk_put_be16(b + len + DESC_CSI_LEN - 2, a->seg);
	len += DESC_CSI_LEN;
	if (a->has_ptr) {
		b[len] = DESC_SKS;
		b[len + 1] = DESC_SKS_LEN - 2;
		sks_segment_ptr(a, b + len + 4);
		len += DESC_SKS_LEN;
	}
	if (n > 0) {
		b[len] = DESC_FWD;
		b[len + 1] = (uint8_t)(DESC_FWD_HDR - 2 + n);
		b[len + 2] = a->from_dst ? FWD_SOURCE_DST : FWD_SOURCE_SRC;
		b[len + 3] = PRK_STATUS_CHECK_CONDITION;
		memcpy(b + len + DESC_FWD_HDR, a->cscd_sense, n);
		len += DESC_FWD_HDR + (size_t)n;
	}
	b[7] = (uint8_t)(len - DESC_HDR_LEN);
	prk_wr_bytes(buf, cap, 0, b, len);
	return len;
}

/* ---- Third-party Copy VPD page ---- */

struct vpd_w {
	uint8_t *buf;
	size_t cap;
	size_t pos;
};

/* Writes one descriptor of type type whose parameters are p[0..n), padded
 * with zeros to a multiple of 4 (SPC-4 7.8.17.2). */
static void tpc_desc(struct vpd_w *w, uint16_t type, const uint8_t *p, size_t n)
{
	uint8_t hdr[TPC_DESC_HDR];
	static const uint8_t pad[3];
	size_t padded = (n + 3) & ~(size_t)3;

	prk_put_be16(hdr, type);
	prk_put_be16(hdr + 2, (uint16_t)padded);
	prk_wr_bytes(w->buf, w->cap, w->pos, hdr, sizeof(hdr));
	prk_wr_bytes(w->buf, w->cap, w->pos + TPC_DESC_HDR, p, n);
	prk_wr_bytes(w->buf, w->cap, w->pos + TPC_DESC_HDR + n, pad, padded - n);
	w->pos += TPC_DESC_HDR + padded;
}

size_t prk_vpd_3pc_encode(uint8_t pdt, const struct prk_xcopy_opparams *p,
                          const struct prk_tid *cm_tid, uint16_t cm_rtpi, uint8_t *buf, size_t cap)
{
	struct vpd_w w = {buf, cap, VPD_HDR_LEN};
	uint8_t hdr[VPD_HDR_LEN] = {0};
	uint8_t d[CMN_OFF_TID - TPC_DESC_HDR + PRK_TID_MAX_LEN];
	uint8_t codes[OP_IMPL_MAX];
	uint8_t n = p->n_impl > OP_IMPL_MAX ? OP_IMPL_MAX : p->n_impl;

	/* Supported Commands: 83h with LID1, 84h with the three RECEIVE COPY
	 * RESULTS service actions prkit implements. */
	{
		static const uint8_t cmds[] = {
		    8, /* COMMANDS SUPPORTED LIST LENGTH */
		    PRK_OP_XCOPY,
		    1,
		    PRK_XCOPY_SA_LID1,
		    PRK_OP_RCR,
		    3,
		    PRK_RCR_SA_COPY_STATUS,
		    PRK_RCR_SA_OP_PARAMS,
		    PRK_RCR_SA_FAILED_SEG,
		};

		tpc_desc(&w, TPC_SUPPORTED_COMMANDS, cmds, sizeof(cmds));
	}
	memset(d, 0, TPC_PARAM_DATA_LEN);
	prk_put_be16(d + 4, p->max_cscd);
	prk_put_be16(d + 6, p->max_seg);
	prk_put_be32(d + 8, p->max_list_len);
	prk_put_be32(d + 12, p->max_inline);
	tpc_desc(&w, TPC_PARAMETER_DATA, d, TPC_PARAM_DATA_LEN);

	/* Supported Descriptors: the type codes in ascending order. */
	memcpy(codes, p->impl, n);
	for (uint8_t i = 1; i < n; i++)
		for (uint8_t j = i; j > 0 && codes[j - 1] > codes[j]; j--) {
			uint8_t t = codes[j];

			codes[j] = codes[j - 1];
			codes[j - 1] = t;
		}
	d[0] = n;
	memcpy(d + 1, codes, n);
	tpc_desc(&w, TPC_SUPPORTED_DESCRIPTORS, d, 1 + (size_t)n);

	/* Supported CSCD IDs: none above 07FFh (no null LUs, no FFFFh). */
	memset(d, 0, 2);
	tpc_desc(&w, TPC_SUPPORTED_CSCD_IDS, d, 2);

	memset(d, 0, TPC_GENERAL_LEN);
	prk_put_be32(d, p->total_concurrent);
	prk_put_be32(d + 4, p->max_concurrent);
	prk_put_be32(d + 8, p->max_seg_len);
	d[12] = p->data_gran_log2;
	d[13] = p->inline_gran_log2;
	tpc_desc(&w, TPC_GENERAL_COPY_OPS, d, TPC_GENERAL_LEN);

	if (cm_tid != NULL) {
		size_t tl = prk_tid_encode(cm_tid, d + CMN_OFF_TID - TPC_DESC_HDR, PRK_TID_MAX_LEN);

		if (tl > 0) {
			prk_put_be16(d, cm_rtpi);
			d[2] = d[3] = 0;
			tpc_desc(&w, PRK_VPD_3PC_CM_NEXUS, d, CMN_OFF_TID - TPC_DESC_HDR + tl);
		}
	}
	hdr[0] = pdt & 0x1f;
	hdr[1] = VPD_3PC_PAGE;
	prk_put_be16(hdr + 2, (uint16_t)(w.pos - VPD_HDR_LEN));
	prk_wr_bytes(buf, cap, 0, hdr, sizeof(hdr));
	return w.pos;
}

int prk_vpd_3pc_cm_nexus(const uint8_t *page, size_t len, struct prk_tid *tid, uint16_t *rtpi)
{
	size_t end, pos = VPD_HDR_LEN;

	if (len < VPD_HDR_LEN || page[1] != VPD_3PC_PAGE)
		return -1;
	end = VPD_HDR_LEN + (size_t)prk_get_be16(page + 2);
	if (end > len)
		end = len;
	while (end - pos >= TPC_DESC_HDR) {
		uint16_t type = prk_get_be16(page + pos);
		size_t dlen = prk_get_be16(page + pos + 2);

		if (dlen > end - pos - TPC_DESC_HDR)
			return -1;
		if (type == PRK_VPD_3PC_CM_NEXUS) {
			struct prk_field_err err;
			size_t used;

			if (dlen < CMN_OFF_TID - TPC_DESC_HDR + PRK_TID_MIN_LEN)
				return -1;
			if (prk_tid_decode(page + pos + CMN_OFF_TID,
			                   dlen - (CMN_OFF_TID - TPC_DESC_HDR), 0, tid, &used,
			                   &err) < 0)
				return -1;
			*rtpi = prk_get_be16(page + pos + CMN_OFF_RTPI);
			return 0;
		}
		pos += TPC_DESC_HDR + dlen;
	}
	return -1;
}
