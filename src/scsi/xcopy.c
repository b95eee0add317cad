/* The EXTENDED COPY (LID1) parameter list (SPC-4 6.5, 6.4.3 to 6.4.6):
 * decoder, encoder and the two CDBs of third-party copy.
 *
 * The order of the checks is what the standard and libiscsi's ExtendedCopy
 * tests need: the lengths of the header against the data first (1A/00),
 * then the combined descriptor list length against the copy manager's
 * MAXIMUM DESCRIPTOR LIST LENGTH (1A/00, SPC-4 6.4.3.5: a list that is both
 * too long and has too many descriptors reports the length), then the
 * counts (26/06, 26/08), the type codes (26/07, 26/09) and the fields.
 * Reserved fields are ignored, so decode(encode(l)) == l but not every
 * accepted list re-encodes to the same bytes. */
#include "prkit/scsi_xcopy.h"

#include <string.h>

#include "prkit/scsi_cdb.h"

#include "be.h"

/* Header fields. */
#define HDR_OFF_LIST_ID 0
#define HDR_OFF_FLAGS 1
#define HDR_OFF_CSCD_LEN 2
#define HDR_OFF_SEG_LEN 8
#define HDR_OFF_INLINE_LEN 12
#define HDR_STR 0x20
#define HDR_LIU_SHIFT 3
#define HDR_LIU_MASK 0x3
#define HDR_PRIO_MASK 0x7
#define LIU_RESERVED 1

/* E4h CSCD descriptor fields. */
#define CSCD_OFF_FLAGS 1
#define CSCD_OFF_RIPI 2
#define CSCD_OFF_CODESET 4
#define CSCD_OFF_DTYPE 5
#define CSCD_OFF_DLEN 7
#define CSCD_OFF_DESIG 8
#define CSCD_DESIG_MAX 16
#define CSCD_OFF_DEVSPEC 28
#define CSCD_OFF_BLOCK_LEN 29
#define CSCD_LUID_SHIFT 6
#define CSCD_NUL 0x20
#define CSCD_PDT_MASK 0x1f
#define CSCD_PAD 0x04
#define CSCD_FIXED 0x01

/* Segment descriptor fields. */
#define SEG_HDR_LEN 4
#define SEG_OFF_FLAGS 1
#define SEG_OFF_DLEN 2
#define SEG_OFF_SRC 4
#define SEG_OFF_DST 6
#define SEG_DC 0x02
#define SEG_CAT 0x01
#define SEG_FIXED_DLEN 0x18 /* 02h and 14h */
#define B2B_OFF_NBLK 10
#define B2B_OFF_SRC_LBA 12
#define B2B_OFF_DST_LBA 20
#define REGKEY_OFF_KEY 8
#define REGKEY_OFF_SAKEY 16
#define TPR_OFF_LIST 8 /* 15h: the REGISTER AND MOVE list starts here */

/* CDB fields (EXTENDED COPY and RECEIVE COPY RESULTS, 16 bytes each). */
#define CDB_OFF_SA 1
#define CDB_SA_MASK 0x1f
#define CDB_OFF_LIST_ID 2
#define CDB_OFF_LEN 10
#define XCOPY_CDB_LEN 16

static int ferr(struct prk_field_err *err, size_t byte, int8_t bit, uint16_t asc, const char *field)
{
	prk_field_err_set(err, false, prk_off16(byte), bit, asc, field);
	return -1;
}

static int len_err(struct prk_field_err *err)
{
	prk_field_err_set(err, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR,
	                  "PARAMETER LIST LENGTH");
	err->has_ptr = false;
	return -1;
}

static int decode_cscd(const uint8_t *d, size_t off, struct prk_xcopy_cscd *c,
                       struct prk_field_err *err)
{
	if (d[0] != PRK_XCOPY_CSCD_E4)
		return ferr(err, off, -1, PRK_ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE,
		            "DESCRIPTOR TYPE CODE");
	memset(c, 0, sizeof(*c));
	c->off = (uint32_t)off;
	c->lu_id_type = d[CSCD_OFF_FLAGS] >> CSCD_LUID_SHIFT;
	/* Kept, not checked: an identification descriptor (E4h) names its LU
	 * by the designator, and SPC-4 has the copy manager ignore LU ID TYPE
	 * there. libiscsi 1.19's ExtendedCopy.ValidTgtDescr sends the
	 * reserved 10b and expects GOOD (libiscsi pull request 229). */
	c->nul = d[CSCD_OFF_FLAGS] & CSCD_NUL;
	c->pdt = d[CSCD_OFF_FLAGS] & CSCD_PDT_MASK;
	c->rel_init_port = prk_get_be16(d + CSCD_OFF_RIPI);
	c->code_set = d[CSCD_OFF_CODESET] & 0x0f;
	c->assoc = (d[CSCD_OFF_DTYPE] >> 4) & 0x3;
	c->desig_type = d[CSCD_OFF_DTYPE] & 0x0f;
	c->desig_len = d[CSCD_OFF_DLEN];
	/* The designation descriptor has 20 bytes: at most 16 of designator. */
	if (c->desig_len > CSCD_DESIG_MAX)
		return ferr(err, off + CSCD_OFF_DLEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "DESIGNATOR LENGTH");
	memcpy(c->desig, d + CSCD_OFF_DESIG, c->desig_len);
	c->pad = d[CSCD_OFF_DEVSPEC] & CSCD_PAD;
	c->fixed = d[CSCD_OFF_DEVSPEC] & CSCD_FIXED;
	c->block_len = prk_get_be24(d + CSCD_OFF_BLOCK_LEN);
	return 0;
}

/* 15h: bytes 8..end are a REGISTER AND MOVE parameter list (SPC-4
 * 6.4.6.18), decoded by the PR OUT codec; its field pointers are moved to
 * the whole parameter list. */
static int decode_3pr(const uint8_t *d, size_t off, struct prk_xcopy_seg *s,
                      struct prk_field_err *err)
{
	if (s->desc_len % 4 != 0 || s->desc_len < TPR_OFF_LIST - SEG_HDR_LEN)
		return ferr(err, off + SEG_OFF_DLEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "DESCRIPTOR LENGTH");
	s->dst = prk_get_be16(d + SEG_OFF_DST);
	s->move = d + TPR_OFF_LIST;
	s->move_len = (uint32_t)(s->desc_len + SEG_HDR_LEN - TPR_OFF_LIST);
	if (prk_prout_params_decode(PRK_PROUT_REGISTER_AND_MOVE, s->move, s->move_len, &s->move_p,
	                            err) == 0)
		return 0;
	/* The inner list's length is the descriptor's length: a length error
	 * of the inner list is a bad DESCRIPTOR LENGTH here. */
	if (!err->has_ptr)
		return ferr(err, off + SEG_OFF_DLEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "DESCRIPTOR LENGTH");
	err->byte = prk_off16((size_t)err->byte + off + TPR_OFF_LIST);
	return -1;
}

static int decode_seg(const uint8_t *d, size_t off, size_t avail, struct prk_xcopy_seg *s,
                      struct prk_field_err *err)
{
	memset(s, 0, sizeof(*s));
	s->off = (uint32_t)off;
	s->type = d[0];
	if (s->type != PRK_XCOPY_SEG_B2B && s->type != PRK_XCOPY_SEG_REGKEY &&
	    s->type != PRK_XCOPY_SEG_3PR)
		return ferr(err, off, -1, PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE,
		            "DESCRIPTOR TYPE CODE");
	s->desc_len = prk_get_be16(d + SEG_OFF_DLEN);
	if ((size_t)s->desc_len + SEG_HDR_LEN > avail ||
	    (s->type != PRK_XCOPY_SEG_3PR && s->desc_len != SEG_FIXED_DLEN))
		return ferr(err, off + SEG_OFF_DLEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "DESCRIPTOR LENGTH");
	/* 02h and 14h are 28 bytes now; 15h's length is checked before its
	 * DESTINATION CSCD DESCRIPTOR ID is read (it may be all of 4 bytes). */
	switch (s->type) {
	case PRK_XCOPY_SEG_B2B:
		s->dst = prk_get_be16(d + SEG_OFF_DST);
		s->dc = d[SEG_OFF_FLAGS] & SEG_DC;
		s->cat = d[SEG_OFF_FLAGS] & SEG_CAT;
		s->src = prk_get_be16(d + SEG_OFF_SRC);
		s->n_blocks = prk_get_be16(d + B2B_OFF_NBLK);
		s->src_lba = prk_get_be64(d + B2B_OFF_SRC_LBA);
		s->dst_lba = prk_get_be64(d + B2B_OFF_DST_LBA);
		return 0;
	case PRK_XCOPY_SEG_REGKEY:
		s->dst = prk_get_be16(d + SEG_OFF_DST);
		s->key = prk_get_be64(d + REGKEY_OFF_KEY);
		s->sa_key = prk_get_be64(d + REGKEY_OFF_SAKEY);
		return 0;
	default:
		return decode_3pr(d, off, s, err);
	}
}

int prk_xcopy_decode(const uint8_t *buf, size_t len, const struct prk_xcopy_limits *lim,
                     struct prk_xcopy_list *out, struct prk_field_err *err)
{
	uint32_t cscd_len, seg_len, inline_len;
	size_t pos, end;
	uint16_t max_cscd = lim->max_cscd, max_seg = lim->max_seg;

	if (max_cscd > PRK_XCOPY_MAX_CSCD)
		max_cscd = PRK_XCOPY_MAX_CSCD;
	if (max_seg > PRK_XCOPY_MAX_SEG)
		max_seg = PRK_XCOPY_MAX_SEG;
	memset(out, 0, sizeof(*out));
	if (len < PRK_XCOPY_HDR_LEN)
		return len_err(err);
	out->list_id = buf[HDR_OFF_LIST_ID];
	out->str = buf[HDR_OFF_FLAGS] & HDR_STR;
	out->list_id_usage = (buf[HDR_OFF_FLAGS] >> HDR_LIU_SHIFT) & HDR_LIU_MASK;
	out->priority = buf[HDR_OFF_FLAGS] & HDR_PRIO_MASK;
	cscd_len = prk_get_be16(buf + HDR_OFF_CSCD_LEN);
	seg_len = prk_get_be32(buf + HDR_OFF_SEG_LEN);
	inline_len = prk_get_be32(buf + HDR_OFF_INLINE_LEN);
	out->inline_len = inline_len;

	/* The lists must be inside the data the initiator sent (libiscsi
	 * ExtendedCopy.ParamHdr truncates a descriptor and expects 1A/00). */
	if ((uint64_t)PRK_XCOPY_HDR_LEN + cscd_len + seg_len + inline_len > len)
		return len_err(err);
	if ((uint64_t)cscd_len + seg_len > lim->max_list_len)
		return len_err(err);
	if (out->list_id_usage == LIU_RESERVED)
		return ferr(err, HDR_OFF_FLAGS, 4, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "LIST ID USAGE");
	if (out->list_id_usage == PRK_XCOPY_LIU_NONE && out->list_id != 0)
		return ferr(err, HDR_OFF_LIST_ID, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
		            "LIST IDENTIFIER");
	if (inline_len > lim->max_inline)
		return ferr(err, HDR_OFF_INLINE_LEN, -1, PRK_ASC_INLINE_DATA_LENGTH_EXCEEDED,
		            "INLINE DATA LENGTH");

	/* CSCD descriptors: every type prkit knows (E4h) is 32 bytes. */
	if ((cscd_len + PRK_XCOPY_CSCD_LEN - 1) / PRK_XCOPY_CSCD_LEN > max_cscd)
		return ferr(err, HDR_OFF_CSCD_LEN, -1, PRK_ASC_TOO_MANY_TARGET_DESCRIPTORS,
		            "CSCD DESCRIPTOR LIST LENGTH");
	pos = PRK_XCOPY_HDR_LEN;
	end = pos + cscd_len;
	while (pos < end) {
		if (buf[pos] == PRK_XCOPY_CSCD_E4 && end - pos < PRK_XCOPY_CSCD_LEN)
			return ferr(err, HDR_OFF_CSCD_LEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
			            "CSCD DESCRIPTOR LIST LENGTH");
		if (decode_cscd(buf + pos, pos, &out->cscd[out->n_cscd], err) < 0)
			return -1;
		out->n_cscd++;
		pos += PRK_XCOPY_CSCD_LEN;
	}

	/* Segment descriptors, walked by their DESCRIPTOR LENGTH. */
	end = pos + seg_len;
	while (pos < end) {
		if (out->n_seg == max_seg)
			return ferr(err, HDR_OFF_SEG_LEN, -1, PRK_ASC_TOO_MANY_SEGMENT_DESCRIPTORS,
			            "SEGMENT DESCRIPTOR LIST LENGTH");
		if (end - pos < SEG_HDR_LEN)
			return ferr(err, HDR_OFF_SEG_LEN, -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
			            "SEGMENT DESCRIPTOR LIST LENGTH");
		if (decode_seg(buf + pos, pos, end - pos, &out->seg[out->n_seg], err) < 0)
			return -1;
		pos += SEG_HDR_LEN + out->seg[out->n_seg].desc_len;
		out->n_seg++;
	}
	return 0;
}

static size_t encode_cscd(const struct prk_xcopy_cscd *c, uint8_t *buf, size_t cap, size_t off)
{
	uint8_t d[PRK_XCOPY_CSCD_LEN] = {0};
	uint8_t dlen = c->desig_len > CSCD_DESIG_MAX ? CSCD_DESIG_MAX : c->desig_len;

	d[0] = PRK_XCOPY_CSCD_E4;
	d[CSCD_OFF_FLAGS] = (uint8_t)(((c->lu_id_type & 0x3) << CSCD_LUID_SHIFT) |
	                              (c->nul ? CSCD_NUL : 0) | (c->pdt & CSCD_PDT_MASK));
	prk_put_be16(d + CSCD_OFF_RIPI, c->rel_init_port);
	d[CSCD_OFF_CODESET] = c->code_set & 0x0f;
	d[CSCD_OFF_DTYPE] = (uint8_t)(((c->assoc & 0x3) << 4) | (c->desig_type & 0x0f));
	d[CSCD_OFF_DLEN] = dlen;
	memcpy(d + CSCD_OFF_DESIG, c->desig, dlen);
	d[CSCD_OFF_DEVSPEC] = (uint8_t)((c->pad ? CSCD_PAD : 0) | (c->fixed ? CSCD_FIXED : 0));
	prk_put_be24(d + CSCD_OFF_BLOCK_LEN, c->block_len & 0xffffff);
	prk_wr_bytes(buf, cap, off, d, sizeof(d));
	return sizeof(d);
}

static size_t seg_len_of(const struct prk_xcopy_seg *s)
{
	if (s->type == PRK_XCOPY_SEG_3PR)
		return TPR_OFF_LIST + s->move_len;
	return SEG_HDR_LEN + SEG_FIXED_DLEN;
}

static void encode_seg(const struct prk_xcopy_seg *s, uint8_t *buf, size_t cap, size_t off)
{
	uint8_t d[TPR_OFF_LIST + SEG_FIXED_DLEN] = {0};
	size_t len = seg_len_of(s);

	d[0] = s->type;
	prk_put_be16(d + SEG_OFF_DLEN, (uint16_t)(len - SEG_HDR_LEN));
	prk_put_be16(d + SEG_OFF_DST, s->dst);
	switch (s->type) {
	case PRK_XCOPY_SEG_B2B:
		d[SEG_OFF_FLAGS] = (uint8_t)((s->dc ? SEG_DC : 0) | (s->cat ? SEG_CAT : 0));
		prk_put_be16(d + SEG_OFF_SRC, s->src);
		prk_put_be16(d + B2B_OFF_NBLK, s->n_blocks);
		prk_put_be64(d + B2B_OFF_SRC_LBA, s->src_lba);
		prk_put_be64(d + B2B_OFF_DST_LBA, s->dst_lba);
		break;
	case PRK_XCOPY_SEG_REGKEY:
		prk_put_be64(d + REGKEY_OFF_KEY, s->key);
		prk_put_be64(d + REGKEY_OFF_SAKEY, s->sa_key);
		break;
	default:
		prk_wr_bytes(buf, cap, off, d, TPR_OFF_LIST);
		prk_wr_bytes(buf, cap, off + TPR_OFF_LIST, s->move, s->move_len);
		return;
	}
	prk_wr_bytes(buf, cap, off, d, len);
}

size_t prk_xcopy_encode(const struct prk_xcopy_list *l, uint8_t *buf, size_t cap)
{
	uint8_t hdr[PRK_XCOPY_HDR_LEN] = {0};
	size_t cscd_len, seg_len = 0, pos;
	static const uint8_t zeros[64];

	if (l->n_cscd > PRK_XCOPY_MAX_CSCD || l->n_seg > PRK_XCOPY_MAX_SEG ||
	    (l->list_id_usage & HDR_LIU_MASK) != l->list_id_usage)
		return 0;
	for (uint16_t i = 0; i < l->n_seg; i++) {
		const struct prk_xcopy_seg *s = &l->seg[i];

		if (s->type != PRK_XCOPY_SEG_B2B && s->type != PRK_XCOPY_SEG_REGKEY &&
		    s->type != PRK_XCOPY_SEG_3PR)
			return 0;
		/* 15h: DESCRIPTOR LENGTH is 16 bits and a multiple of 4. */
		if (s->type == PRK_XCOPY_SEG_3PR &&
		    (s->move_len % 4 != 0 || s->move_len > 0xffff - (TPR_OFF_LIST - SEG_HDR_LEN) ||
		     (s->move_len > 0 && s->move == NULL)))
			return 0;
		seg_len += seg_len_of(s);
	}
	cscd_len = (size_t)l->n_cscd * PRK_XCOPY_CSCD_LEN;
	hdr[HDR_OFF_LIST_ID] = l->list_id;
	hdr[HDR_OFF_FLAGS] =
	    (uint8_t)((l->str ? HDR_STR : 0) | (l->list_id_usage << HDR_LIU_SHIFT) |
	              (l->priority & HDR_PRIO_MASK));
	prk_put_be16(hdr + HDR_OFF_CSCD_LEN, (uint16_t)cscd_len);
	prk_put_be32(hdr + HDR_OFF_SEG_LEN, (uint32_t)seg_len);
	prk_put_be32(hdr + HDR_OFF_INLINE_LEN, l->inline_len);
	prk_wr_bytes(buf, cap, 0, hdr, sizeof(hdr));
	pos = PRK_XCOPY_HDR_LEN;
	for (uint16_t i = 0; i < l->n_cscd; i++)
		pos += encode_cscd(&l->cscd[i], buf, cap, pos);
	for (uint16_t i = 0; i < l->n_seg; i++) {
		encode_seg(&l->seg[i], buf, cap, pos);
		pos += seg_len_of(&l->seg[i]);
	}
	/* prkit carries no inline data contents: INLINE DATA LENGTH bytes of
	 * zeros (the decoder keeps only the length). */
	for (uint32_t left = l->inline_len; left > 0;) {
		uint32_t n = left > sizeof(zeros) ? (uint32_t)sizeof(zeros) : left;

		if (pos >= cap) {
			pos += left;
			break;
		}
		prk_wr_bytes(buf, cap, pos, zeros, n);
		pos += n;
		left -= n;
	}
	return pos;
}

void prk_xcopy_cscd_naa(struct prk_xcopy_cscd *d, const uint8_t naa[16], uint8_t pdt,
                        uint32_t block_len)
{
	memset(d, 0, sizeof(*d));
	d->lu_id_type = 0;
	d->pdt = pdt & CSCD_PDT_MASK;
	d->code_set = 1;   /* binary */
	d->assoc = 0;      /* the logical unit */
	d->desig_type = 3; /* NAA */
	d->desig_len = 16;
	memcpy(d->desig, naa, 16);
	d->block_len = block_len & 0xffffff;
}

void prk_xcopy_cdb_encode(uint32_t param_len, uint8_t cdb[16])
{
	memset(cdb, 0, XCOPY_CDB_LEN);
	cdb[0] = PRK_OP_XCOPY;
	cdb[CDB_OFF_SA] = PRK_XCOPY_SA_LID1;
	prk_put_be32(cdb + CDB_OFF_LEN, param_len);
}

void prk_rcr_cdb_encode(uint8_t sa, uint8_t list_id, uint32_t alloc, uint8_t cdb[16])
{
	memset(cdb, 0, XCOPY_CDB_LEN);
	cdb[0] = PRK_OP_RCR;
	cdb[CDB_OFF_SA] = sa & CDB_SA_MASK;
	cdb[CDB_OFF_LIST_ID] = list_id;
	prk_put_be32(cdb + CDB_OFF_LEN, alloc);
}
