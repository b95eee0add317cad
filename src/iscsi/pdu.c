/* BHS codecs of every iSCSI opcode (RFC 7143 section 11). Offsets are the
 * byte numbers of the RFC's PDU diagrams. */
#include "pdu.h"

#include <string.h>

#include "byteorder.h"

/* Byte 1 bits. */
#define B1_F 0x80
#define B1_R 0x40 /* SCSI Command */
#define B1_W 0x20
#define B1_ATTR 0x07
#define B1_C 0x40 /* Login / Text */
#define B1_T 0x80 /* Login */
#define B1_DI_A 0x40
#define B1_DI_O 0x04
#define B1_DI_U 0x02
#define B1_DI_S 0x01
#define B1_RSP_O 0x04
#define B1_RSP_U 0x02
#define B0_I 0x40
#define OPCODE_MASK 0x3f

/* Task attributes above ACA (4) are reserved (SAM-5). */
#define ATTR_MAX 4
/* Logout reason codes 0..2 (RFC 7143 11.14.1); 3 was removed. */
#define LOGOUT_REASON_MAX 2
#define LOGIN_STAGE_RESERVED 2
#define LOGIN_STAGE_FFP 3

int prk_iscsi_hdr_decode(const uint8_t bhs[PRK_ISCSI_BHS_LEN], struct prk_iscsi_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->opcode = bhs[0] & OPCODE_MASK;
	h->immediate = (bhs[0] & B0_I) != 0;
	h->flags = bhs[1];
	h->final = (bhs[1] & B1_F) != 0;
	h->ahs_words = bhs[4];
	h->dlen = prk_get_be24(bhs + 5);
	h->lun = prk_get_be64(bhs + 8);
	h->itt = prk_get_be32(bhs + 16);
	switch (h->opcode) {
	case PRK_ISCSI_OP_NOP_OUT:
	case PRK_ISCSI_OP_SCSI_CMD:
	case PRK_ISCSI_OP_TMF_REQ:
	case PRK_ISCSI_OP_LOGIN_REQ:
	case PRK_ISCSI_OP_TEXT_REQ:
	case PRK_ISCSI_OP_DATA_OUT:
	case PRK_ISCSI_OP_LOGOUT_REQ:
	case PRK_ISCSI_OP_SNACK:
		return 0;
	default:
		return -1;
	}
}

size_t prk_iscsi_pdu_tail_len(const struct prk_iscsi_hdr *h, bool header_digest, bool data_digest)
{
	size_t n = (size_t)h->ahs_words * 4;

	if (header_digest)
		n += PRK_ISCSI_DIGEST_LEN;
	n += prk_iscsi_pad4(h->dlen);
	if (data_digest && h->dlen > 0)
		n += PRK_ISCSI_DIGEST_LEN;
	return n;
}

/* SAM-5 4.7: byte 0 bits 7..6 are the addressing method; 00b peripheral
 * (bus in bits 5..0, LUN in byte 1), 01b flat (14-bit LUN). Bytes 2..7 are
 * the second to fourth levels, zero for a single-level LUN. */
#define LUN_METHOD_PERIPHERAL 0x0
#define LUN_METHOD_FLAT 0x1
#define LUN_FLAT_MAX 0x3fff

uint64_t prk_iscsi_lun_encode(uint16_t lun)
{
	uint64_t b0, b1;

	if (lun < 256)
		return (uint64_t)lun << 48;
	/* Callers never pass more than LUN_FLAT_MAX; mask rather than spill into
	 * the method bits. */
	lun &= LUN_FLAT_MAX;
	b0 = (uint64_t)(LUN_METHOD_FLAT << 6 | lun >> 8);
	b1 = lun & 0xff;
	return b0 << 56 | b1 << 48;
}

int prk_iscsi_lun_decode(uint64_t raw, uint16_t *lun)
{
	uint8_t b0 = (uint8_t)(raw >> 56), b1 = (uint8_t)(raw >> 48);

	if (raw & 0x0000ffffffffffffull)
		return -1;
	switch (b0 >> 6) {
	case LUN_METHOD_PERIPHERAL:
		/* A non-zero bus identifier addresses another SCSI domain. */
		if (b0 & 0x3f)
			return -1;
		*lun = b1;
		return 0;
	case LUN_METHOD_FLAT:
		*lun = (uint16_t)((b0 & 0x3f) << 8 | b1);
		return 0;
	default:
		return -1;
	}
}

/* ---- initiator -> target ---- */

static int expect_opcode(const uint8_t *bhs, uint8_t op, struct prk_iscsi_hdr *h, uint8_t *reason)
{
	if (prk_iscsi_hdr_decode(bhs, h) != 0 || h->opcode != op) {
		*reason = PRK_REJECT_PROTOCOL_ERROR;
		return -1;
	}
	return 0;
}

static int fail(uint8_t *reason, uint8_t code)
{
	*reason = code;
	return -1;
}

int prk_iscsi_scsi_cmd_decode(const uint8_t *bhs, struct prk_iscsi_scsi_cmd *c, uint8_t *reason)
{
	memset(c, 0, sizeof(*c));
	if (expect_opcode(bhs, PRK_ISCSI_OP_SCSI_CMD, &c->h, reason))
		return -1;
	c->read = (bhs[1] & B1_R) != 0;
	c->write = (bhs[1] & B1_W) != 0;
	c->attr = bhs[1] & B1_ATTR;
	c->edtl = prk_get_be32(bhs + 20);
	c->cmdsn = prk_get_be32(bhs + 24);
	c->expstatsn = prk_get_be32(bhs + 28);
	memcpy(c->cdb, bhs + 32, sizeof(c->cdb));
	/* RFC 7143 11.3.1.1: R or W MUST be set when EDTL is not 0. The converse
	 * (R or W set with EDTL 0) is tolerated: initiators set the direction of
	 * the command even when it transfers nothing this time. libiscsi sends
	 * no-data commands with both clear and EDTL 0, which is valid. */
	if (c->edtl != 0 && !c->read && !c->write)
		return fail(reason, PRK_REJECT_INVALID_PDU_FIELD);
	if (c->attr > ATTR_MAX)
		return fail(reason, PRK_REJECT_INVALID_PDU_FIELD);
	return 0;
}

int prk_iscsi_data_out_decode(const uint8_t *bhs, struct prk_iscsi_data_out *d, uint8_t *reason)
{
	memset(d, 0, sizeof(*d));
	if (expect_opcode(bhs, PRK_ISCSI_OP_DATA_OUT, &d->h, reason))
		return -1;
	/* F marks the last PDU of a sequence (solicited or unsolicited); any
	 * value is valid in isolation; the connection checks it against the
	 * burst it belongs to. */
	d->ttt = prk_get_be32(bhs + 20);
	d->expstatsn = prk_get_be32(bhs + 28);
	d->datasn = prk_get_be32(bhs + 36);
	d->offset = prk_get_be32(bhs + 40);
	return 0;
}

int prk_iscsi_nop_out_decode(const uint8_t *bhs, struct prk_iscsi_nop_out *n, uint8_t *reason)
{
	memset(n, 0, sizeof(*n));
	if (expect_opcode(bhs, PRK_ISCSI_OP_NOP_OUT, &n->h, reason))
		return -1;
	n->ttt = prk_get_be32(bhs + 20);
	n->cmdsn = prk_get_be32(bhs + 24);
	n->expstatsn = prk_get_be32(bhs + 28);
	/* RFC 7143 11.18: byte 1 is 0x80; a NOP-Out that wants no answer
	 * (ITT 0xffffffff) MUST be immediate, since it takes no CmdSN. */
	if (!n->h.final)
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	if (n->h.itt == PRK_ISCSI_RSVD_TAG && !n->h.immediate)
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	return 0;
}

int prk_iscsi_tmf_req_decode(const uint8_t *bhs, struct prk_iscsi_tmf_req *t, uint8_t *reason)
{
	memset(t, 0, sizeof(*t));
	if (expect_opcode(bhs, PRK_ISCSI_OP_TMF_REQ, &t->h, reason))
		return -1;
	t->function = bhs[1] & 0x7f;
	t->rtt = prk_get_be32(bhs + 20);
	t->cmdsn = prk_get_be32(bhs + 24);
	t->expstatsn = prk_get_be32(bhs + 28);
	t->refcmdsn = prk_get_be32(bhs + 32);
	t->expdatasn = prk_get_be32(bhs + 36);
	/* Unknown functions are not a PDU error: the target answers them with
	 * "Task management function not supported" (RFC 7143 11.6.1). */
	if (!t->h.final)
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	return 0;
}

int prk_iscsi_login_req_decode(const uint8_t *bhs, struct prk_iscsi_login_req *l, uint8_t *reason)
{
	memset(l, 0, sizeof(*l));
	if (expect_opcode(bhs, PRK_ISCSI_OP_LOGIN_REQ, &l->h, reason))
		return -1;
	l->transit = (bhs[1] & B1_T) != 0;
	l->cont = (bhs[1] & B1_C) != 0;
	l->csg = (bhs[1] >> 2) & 3;
	l->nsg = bhs[1] & 3;
	l->version_max = bhs[2];
	l->version_min = bhs[3];
	l->isid = prk_get_be64(bhs + 8) >> 16;
	l->tsih = prk_get_be16(bhs + 14);
	l->cid = prk_get_be16(bhs + 20);
	l->cmdsn = prk_get_be32(bhs + 24);
	l->expstatsn = prk_get_be32(bhs + 28);
	/* Version, TSIH and stage ordering are answered with a login status by
	 * the login state machine; only the field encodings are checked here. */
	if (l->transit && l->cont) /* RFC 7143 11.12.2 */
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	if (l->csg == LOGIN_STAGE_RESERVED || l->csg == LOGIN_STAGE_FFP)
		return fail(reason, PRK_REJECT_INVALID_PDU_FIELD);
	if (l->transit && l->nsg == LOGIN_STAGE_RESERVED)
		return fail(reason, PRK_REJECT_INVALID_PDU_FIELD);
	return 0;
}

int prk_iscsi_text_req_decode(const uint8_t *bhs, struct prk_iscsi_text_req *t, uint8_t *reason)
{
	memset(t, 0, sizeof(*t));
	if (expect_opcode(bhs, PRK_ISCSI_OP_TEXT_REQ, &t->h, reason))
		return -1;
	t->cont = (bhs[1] & B1_C) != 0;
	t->ttt = prk_get_be32(bhs + 20);
	t->cmdsn = prk_get_be32(bhs + 24);
	t->expstatsn = prk_get_be32(bhs + 28);
	if (t->h.final && t->cont) /* RFC 7143 11.10.2 */
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	return 0;
}

int prk_iscsi_logout_req_decode(const uint8_t *bhs, struct prk_iscsi_logout_req *l, uint8_t *reason)
{
	memset(l, 0, sizeof(*l));
	if (expect_opcode(bhs, PRK_ISCSI_OP_LOGOUT_REQ, &l->h, reason))
		return -1;
	l->reason = bhs[1] & 0x7f;
	l->cid = prk_get_be16(bhs + 20);
	l->cmdsn = prk_get_be32(bhs + 24);
	l->expstatsn = prk_get_be32(bhs + 28);
	if (!l->h.final)
		return fail(reason, PRK_REJECT_PROTOCOL_ERROR);
	if (l->reason > LOGOUT_REASON_MAX)
		return fail(reason, PRK_REJECT_INVALID_PDU_FIELD);
	return 0;
}

/* Zeroes the BHS and writes the common fields of an initiator PDU. */
static void put_ini_hdr(uint8_t *bhs, const struct prk_iscsi_hdr *h, uint8_t op, uint8_t b1)
{
	memset(bhs, 0, PRK_ISCSI_BHS_LEN);
	bhs[0] = (uint8_t)(op | (h->immediate ? B0_I : 0));
	bhs[1] = b1;
	bhs[4] = h->ahs_words;
	prk_put_be24(bhs + 5, h->dlen);
	prk_put_be64(bhs + 8, h->lun);
	prk_put_be32(bhs + 16, h->itt);
}

void prk_iscsi_scsi_cmd_encode(const struct prk_iscsi_scsi_cmd *c, uint8_t *bhs)
{
	uint8_t b1 = (uint8_t)((c->h.final ? B1_F : 0) | (c->read ? B1_R : 0) |
	                       (c->write ? B1_W : 0) | (c->attr & B1_ATTR));

	put_ini_hdr(bhs, &c->h, PRK_ISCSI_OP_SCSI_CMD, b1);
	prk_put_be32(bhs + 20, c->edtl);
	prk_put_be32(bhs + 24, c->cmdsn);
	prk_put_be32(bhs + 28, c->expstatsn);
	memcpy(bhs + 32, c->cdb, sizeof(c->cdb));
}

void prk_iscsi_data_out_encode(const struct prk_iscsi_data_out *d, uint8_t *bhs)
{
	put_ini_hdr(bhs, &d->h, PRK_ISCSI_OP_DATA_OUT, d->h.final ? B1_F : 0);
	bhs[0] &= (uint8_t)~B0_I; /* Data-Out is never immediate */
	prk_put_be32(bhs + 20, d->ttt);
	prk_put_be32(bhs + 28, d->expstatsn);
	prk_put_be32(bhs + 36, d->datasn);
	prk_put_be32(bhs + 40, d->offset);
}

void prk_iscsi_nop_out_encode(const struct prk_iscsi_nop_out *n, uint8_t *bhs)
{
	put_ini_hdr(bhs, &n->h, PRK_ISCSI_OP_NOP_OUT, B1_F);
	prk_put_be32(bhs + 20, n->ttt);
	prk_put_be32(bhs + 24, n->cmdsn);
	prk_put_be32(bhs + 28, n->expstatsn);
}

void prk_iscsi_tmf_req_encode(const struct prk_iscsi_tmf_req *t, uint8_t *bhs)
{
	put_ini_hdr(bhs, &t->h, PRK_ISCSI_OP_TMF_REQ, (uint8_t)(B1_F | (t->function & 0x7f)));
	prk_put_be32(bhs + 20, t->rtt);
	prk_put_be32(bhs + 24, t->cmdsn);
	prk_put_be32(bhs + 28, t->expstatsn);
	prk_put_be32(bhs + 32, t->refcmdsn);
	prk_put_be32(bhs + 36, t->expdatasn);
}

void prk_iscsi_login_req_encode(const struct prk_iscsi_login_req *l, uint8_t *bhs)
{
	uint8_t b1 = (uint8_t)((l->transit ? B1_T : 0) | (l->cont ? B1_C : 0) | (l->csg & 3) << 2 |
	                       (l->nsg & 3));

	put_ini_hdr(bhs, &l->h, PRK_ISCSI_OP_LOGIN_REQ, b1);
	bhs[2] = l->version_max;
	bhs[3] = l->version_min;
	/* Bytes 8..15 are ISID and TSIH, not a LUN. */
	prk_put_be64(bhs + 8, (l->isid & 0xffffffffffffull) << 16 | l->tsih);
	prk_put_be16(bhs + 20, l->cid);
	prk_put_be32(bhs + 24, l->cmdsn);
	prk_put_be32(bhs + 28, l->expstatsn);
}

void prk_iscsi_text_req_encode(const struct prk_iscsi_text_req *t, uint8_t *bhs)
{
	put_ini_hdr(bhs, &t->h, PRK_ISCSI_OP_TEXT_REQ,
	            (uint8_t)((t->h.final ? B1_F : 0) | (t->cont ? B1_C : 0)));
	prk_put_be32(bhs + 20, t->ttt);
	prk_put_be32(bhs + 24, t->cmdsn);
	prk_put_be32(bhs + 28, t->expstatsn);
}

void prk_iscsi_logout_req_encode(const struct prk_iscsi_logout_req *l, uint8_t *bhs)
{
	put_ini_hdr(bhs, &l->h, PRK_ISCSI_OP_LOGOUT_REQ, (uint8_t)(B1_F | (l->reason & 0x7f)));
	/* Bytes 8..15 are reserved in a Logout Request. */
	memset(bhs + 8, 0, 8);
	prk_put_be16(bhs + 20, l->cid);
	prk_put_be32(bhs + 24, l->cmdsn);
	prk_put_be32(bhs + 28, l->expstatsn);
}

/* ---- target -> initiator ---- */

static void put_tgt_hdr(uint8_t *bhs, uint8_t op, uint8_t b1, uint32_t dlen, uint64_t lun,
                        uint32_t itt)
{
	memset(bhs, 0, PRK_ISCSI_BHS_LEN);
	bhs[0] = op;
	bhs[1] = b1;
	prk_put_be24(bhs + 5, dlen);
	prk_put_be64(bhs + 8, lun);
	prk_put_be32(bhs + 16, itt);
}

static void put_sn(uint8_t *bhs, const struct prk_iscsi_sn *sn)
{
	prk_put_be32(bhs + 24, sn->statsn);
	prk_put_be32(bhs + 28, sn->expcmdsn);
	prk_put_be32(bhs + 32, sn->maxcmdsn);
}

static void get_sn(const uint8_t *bhs, struct prk_iscsi_sn *sn)
{
	sn->statsn = prk_get_be32(bhs + 24);
	sn->expcmdsn = prk_get_be32(bhs + 28);
	sn->maxcmdsn = prk_get_be32(bhs + 32);
}

void prk_iscsi_scsi_rsp_encode(const struct prk_iscsi_scsi_rsp *r, uint8_t *bhs)
{
	uint8_t b1 = (uint8_t)(B1_F | (r->overflow ? B1_RSP_O : 0) | (r->underflow ? B1_RSP_U : 0));

	put_tgt_hdr(bhs, PRK_ISCSI_OP_SCSI_RSP, b1, r->dlen, 0, r->itt);
	bhs[2] = r->response;
	bhs[3] = r->status;
	put_sn(bhs, &r->sn);
	prk_put_be32(bhs + 36, r->expdatasn);
	if (r->overflow || r->underflow)
		prk_put_be32(bhs + 44, r->residual);
}

void prk_iscsi_data_in_encode(const struct prk_iscsi_data_in *d, uint8_t *bhs)
{
	uint8_t b1 = (uint8_t)((d->final ? B1_F : 0) | (d->ack ? B1_DI_A : 0));

	/* O, U, status and StatSN are only meaningful (and only set) in the PDU
	 * that carries the status (RFC 7143 11.7.3-11.7.5). */
	if (d->status)
		b1 |=
		    (uint8_t)(B1_DI_S | (d->overflow ? B1_DI_O : 0) | (d->underflow ? B1_DI_U : 0));
	put_tgt_hdr(bhs, PRK_ISCSI_OP_DATA_IN, b1, d->dlen, d->lun, d->itt);
	if (d->status)
		bhs[3] = d->scsi_status;
	prk_put_be32(bhs + 20, d->ttt);
	put_sn(bhs, &d->sn);
	if (!d->status)
		prk_put_be32(bhs + 24, 0);
	prk_put_be32(bhs + 36, d->datasn);
	prk_put_be32(bhs + 40, d->offset);
	if (d->status && (d->overflow || d->underflow))
		prk_put_be32(bhs + 44, d->residual);
}

void prk_iscsi_r2t_encode(const struct prk_iscsi_r2t *r, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_R2T, B1_F, 0, r->lun, r->itt);
	prk_put_be32(bhs + 20, r->ttt);
	put_sn(bhs, &r->sn);
	prk_put_be32(bhs + 36, r->r2tsn);
	prk_put_be32(bhs + 40, r->offset);
	prk_put_be32(bhs + 44, r->length);
}

void prk_iscsi_nop_in_encode(const struct prk_iscsi_nop_in *n, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_NOP_IN, B1_F, n->dlen, n->lun, n->itt);
	prk_put_be32(bhs + 20, n->ttt);
	put_sn(bhs, &n->sn);
}

void prk_iscsi_tmf_rsp_encode(const struct prk_iscsi_tmf_rsp *t, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_TMF_RSP, B1_F, 0, 0, t->itt);
	bhs[2] = t->response;
	put_sn(bhs, &t->sn);
}

void prk_iscsi_login_rsp_encode(const struct prk_iscsi_login_rsp *l, uint8_t *bhs)
{
	uint8_t b1 = (uint8_t)((l->transit ? B1_T : 0) | (l->cont ? B1_C : 0) | (l->csg & 3) << 2 |
	                       (l->nsg & 3));

	put_tgt_hdr(bhs, PRK_ISCSI_OP_LOGIN_RSP, b1, l->dlen,
	            (l->isid & 0xffffffffffffull) << 16 | l->tsih, l->itt);
	bhs[2] = l->version_max;
	bhs[3] = l->version_active;
	put_sn(bhs, &l->sn);
	bhs[36] = l->status_class;
	bhs[37] = l->status_detail;
}

void prk_iscsi_text_rsp_encode(const struct prk_iscsi_text_rsp *t, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_TEXT_RSP,
	            (uint8_t)((t->final ? B1_F : 0) | (t->cont ? B1_C : 0)), t->dlen, t->lun,
	            t->itt);
	prk_put_be32(bhs + 20, t->ttt);
	put_sn(bhs, &t->sn);
}

void prk_iscsi_logout_rsp_encode(const struct prk_iscsi_logout_rsp *l, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_LOGOUT_RSP, B1_F, 0, 0, l->itt);
	bhs[2] = l->response;
	put_sn(bhs, &l->sn);
	prk_put_be16(bhs + 40, l->time2wait);
	prk_put_be16(bhs + 42, l->time2retain);
}

void prk_iscsi_reject_encode(const struct prk_iscsi_reject *r, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_REJECT, B1_F, r->dlen, 0, PRK_ISCSI_RSVD_TAG);
	bhs[2] = r->reason;
	put_sn(bhs, &r->sn);
	prk_put_be32(bhs + 36, r->datasn_r2tsn);
}

void prk_iscsi_async_encode(const struct prk_iscsi_async *a, uint8_t *bhs)
{
	put_tgt_hdr(bhs, PRK_ISCSI_OP_ASYNC, B1_F, a->dlen, a->lun, PRK_ISCSI_RSVD_TAG);
	put_sn(bhs, &a->sn);
	bhs[36] = a->event;
	bhs[37] = a->vcode;
	prk_put_be16(bhs + 38, a->param1);
	prk_put_be16(bhs + 40, a->param2);
	prk_put_be16(bhs + 42, a->param3);
}

static bool is_op(const uint8_t *bhs, uint8_t op)
{
	return (bhs[0] & OPCODE_MASK) == op;
}

int prk_iscsi_scsi_rsp_decode(const uint8_t *bhs, struct prk_iscsi_scsi_rsp *r)
{
	memset(r, 0, sizeof(*r));
	if (!is_op(bhs, PRK_ISCSI_OP_SCSI_RSP))
		return -1;
	r->itt = prk_get_be32(bhs + 16);
	r->overflow = (bhs[1] & B1_RSP_O) != 0;
	r->underflow = (bhs[1] & B1_RSP_U) != 0;
	r->response = bhs[2];
	r->status = bhs[3];
	r->dlen = prk_get_be24(bhs + 5);
	get_sn(bhs, &r->sn);
	r->expdatasn = prk_get_be32(bhs + 36);
	r->residual = prk_get_be32(bhs + 44);
	return 0;
}

int prk_iscsi_data_in_decode(const uint8_t *bhs, struct prk_iscsi_data_in *d)
{
	memset(d, 0, sizeof(*d));
	if (!is_op(bhs, PRK_ISCSI_OP_DATA_IN))
		return -1;
	d->final = (bhs[1] & B1_F) != 0;
	d->ack = (bhs[1] & B1_DI_A) != 0;
	d->status = (bhs[1] & B1_DI_S) != 0;
	d->overflow = (bhs[1] & B1_DI_O) != 0;
	d->underflow = (bhs[1] & B1_DI_U) != 0;
	d->scsi_status = bhs[3];
	d->dlen = prk_get_be24(bhs + 5);
	d->lun = prk_get_be64(bhs + 8);
	d->itt = prk_get_be32(bhs + 16);
	d->ttt = prk_get_be32(bhs + 20);
	get_sn(bhs, &d->sn);
	d->datasn = prk_get_be32(bhs + 36);
	d->offset = prk_get_be32(bhs + 40);
	d->residual = prk_get_be32(bhs + 44);
	return 0;
}

int prk_iscsi_r2t_decode(const uint8_t *bhs, struct prk_iscsi_r2t *r)
{
	memset(r, 0, sizeof(*r));
	if (!is_op(bhs, PRK_ISCSI_OP_R2T))
		return -1;
	r->lun = prk_get_be64(bhs + 8);
	r->itt = prk_get_be32(bhs + 16);
	r->ttt = prk_get_be32(bhs + 20);
	get_sn(bhs, &r->sn);
	r->r2tsn = prk_get_be32(bhs + 36);
	r->offset = prk_get_be32(bhs + 40);
	r->length = prk_get_be32(bhs + 44);
	return 0;
}

int prk_iscsi_login_rsp_decode(const uint8_t *bhs, struct prk_iscsi_login_rsp *l)
{
	memset(l, 0, sizeof(*l));
	if (!is_op(bhs, PRK_ISCSI_OP_LOGIN_RSP))
		return -1;
	l->transit = (bhs[1] & B1_T) != 0;
	l->cont = (bhs[1] & B1_C) != 0;
	l->csg = (bhs[1] >> 2) & 3;
	l->nsg = bhs[1] & 3;
	l->version_max = bhs[2];
	l->version_active = bhs[3];
	l->dlen = prk_get_be24(bhs + 5);
	l->isid = prk_get_be64(bhs + 8) >> 16;
	l->tsih = prk_get_be16(bhs + 14);
	l->itt = prk_get_be32(bhs + 16);
	get_sn(bhs, &l->sn);
	l->status_class = bhs[36];
	l->status_detail = bhs[37];
	return 0;
}

int prk_iscsi_text_rsp_decode(const uint8_t *bhs, struct prk_iscsi_text_rsp *t)
{
	memset(t, 0, sizeof(*t));
	if (!is_op(bhs, PRK_ISCSI_OP_TEXT_RSP))
		return -1;
	t->final = (bhs[1] & B1_F) != 0;
	t->cont = (bhs[1] & B1_C) != 0;
	t->dlen = prk_get_be24(bhs + 5);
	t->lun = prk_get_be64(bhs + 8);
	t->itt = prk_get_be32(bhs + 16);
	t->ttt = prk_get_be32(bhs + 20);
	get_sn(bhs, &t->sn);
	return 0;
}
