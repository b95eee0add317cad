/* PERSISTENT RESERVE IN parameter data (SPC-4 6.14). Encoders honour the
 * allocation length (cap) without touching ADDITIONAL LENGTH; decoders are
 * used on data returned by a device, which may have been truncated. */
#include "prkit/scsi_pr_wire.h"

#include <string.h>

#include "prkit/scsi_cdb.h"

#include "be.h"

#define OFF_GEN 0
#define OFF_ADDL 4
#define KEY_LEN 8
#define RESV_ADDL 16
#define RESV_OFF_KEY 8
#define RESV_OFF_SCOPE_TYPE 21

/* REPORT CAPABILITIES byte 2 and 3 bits. */
#define CAPS_RLR_C 0x80
#define CAPS_CRH 0x10
#define CAPS_SIP_C 0x08
#define CAPS_ATP_C 0x04
#define CAPS_PTPL_C 0x01
#define CAPS_TMV 0x80
#define CAPS_ALLOW_SHIFT 4
#define CAPS_ALLOW_MASK 0x07
#define CAPS_PTPL_A 0x01

/* READ FULL STATUS descriptor fields. */
#define FD_OFF_KEY 0
#define FD_OFF_FLAGS 12
#define FD_OFF_SCOPE_TYPE 13
#define FD_OFF_RTPI 18
#define FD_OFF_ADL 20
#define FD_ALL_TG_PT 0x02
#define FD_R_HOLDER 0x01
#define FD_TID_HDR_LEN 4

static const char *const F_ADDL = "ADDITIONAL LENGTH";
static const char *const F_ADL = "ADDITIONAL DESCRIPTOR LENGTH";

static int data_err(struct prk_field_err *err, size_t byte, const char *field)
{
	prk_field_err_set(err, false, prk_off16(byte), -1, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
	                  field);
	return -1;
}

static uint8_t scope_type(uint8_t scope, uint8_t type)
{
	return (uint8_t)((scope & 0x0f) << 4 | (type & 0x0f));
}

/* ---- READ KEYS ---- */

size_t prk_prin_keys_encode(uint32_t generation, const uint64_t *keys, size_t n, uint8_t *buf,
                            size_t cap)
{
	prk_wr_be32(buf, cap, OFF_GEN, generation);
	prk_wr_be32(buf, cap, OFF_ADDL, (uint32_t)(n * KEY_LEN));
	for (size_t i = 0; i < n; i++)
		prk_wr_be64(buf, cap, PRK_PRIN_HDR_LEN + i * KEY_LEN, keys[i]);
	return PRK_PRIN_HDR_LEN + n * KEY_LEN;
}

int prk_prin_keys_decode(const uint8_t *buf, size_t len, struct prk_prin_keys *out,
                         struct prk_field_err *err)
{
	size_t present;

	memset(out, 0, sizeof(*out));
	if (len < PRK_PRIN_HDR_LEN)
		return data_err(err, OFF_ADDL, F_ADDL);
	out->generation = prk_get_be32(buf + OFF_GEN);
	out->additional_len = prk_get_be32(buf + OFF_ADDL);
	if (out->additional_len % KEY_LEN != 0)
		return data_err(err, OFF_ADDL, F_ADDL);
	out->n_total = out->additional_len / KEY_LEN;
	present = (len - PRK_PRIN_HDR_LEN) / KEY_LEN;
	out->n_present = present < out->n_total ? present : out->n_total;
	out->keys = buf + PRK_PRIN_HDR_LEN;
	return 0;
}

uint64_t prk_prin_keys_at(const struct prk_prin_keys *k, size_t i)
{
	return i < k->n_present ? prk_get_be64(k->keys + i * KEY_LEN) : 0;
}

/* ---- READ RESERVATION ---- */

size_t prk_prin_resv_encode(const struct prk_prin_resv *r, uint8_t *buf, size_t cap)
{
	uint8_t b[PRK_PRIN_RESV_LEN] = {0};
	size_t len = r->present ? PRK_PRIN_RESV_LEN : PRK_PRIN_HDR_LEN;

	prk_put_be32(b + OFF_GEN, r->generation);
	if (r->present) {
		prk_put_be32(b + OFF_ADDL, RESV_ADDL);
		prk_put_be64(b + RESV_OFF_KEY, r->key);
		b[RESV_OFF_SCOPE_TYPE] = scope_type(r->scope, r->type);
	}
	prk_wr_bytes(buf, cap, 0, b, len);
	return len;
}

/* A reservation descriptor cut short cannot be decoded, so it is an error
 * here even though the target was right to truncate it. */
int prk_prin_resv_decode(const uint8_t *buf, size_t len, struct prk_prin_resv *out,
                         struct prk_field_err *err)
{
	uint32_t addl;

	memset(out, 0, sizeof(*out));
	if (len < PRK_PRIN_HDR_LEN)
		return data_err(err, OFF_ADDL, F_ADDL);
	out->generation = prk_get_be32(buf + OFF_GEN);
	addl = prk_get_be32(buf + OFF_ADDL);
	if (addl == 0)
		return 0;
	if (addl != RESV_ADDL || len < PRK_PRIN_RESV_LEN) {
		out->generation = 0;
		return data_err(err, OFF_ADDL, F_ADDL);
	}
	out->present = true;
	out->key = prk_get_be64(buf + RESV_OFF_KEY);
	out->scope = buf[RESV_OFF_SCOPE_TYPE] >> 4;
	out->type = buf[RESV_OFF_SCOPE_TYPE] & 0x0f;
	return 0;
}

/* ---- REPORT CAPABILITIES ---- */

size_t prk_prin_caps_encode(const struct prk_prin_caps *c, uint8_t *buf, size_t cap)
{
	uint8_t b[PRK_PRIN_CAPS_LEN] = {0};

	prk_put_be16(b, PRK_PRIN_CAPS_LEN);
	b[2] = (uint8_t)((c->rlr_c ? CAPS_RLR_C : 0) | (c->crh ? CAPS_CRH : 0) |
	                 (c->sip_c ? CAPS_SIP_C : 0) | (c->atp_c ? CAPS_ATP_C : 0) |
	                 (c->ptpl_c ? CAPS_PTPL_C : 0));
	b[3] = (uint8_t)((c->tmv ? CAPS_TMV : 0) |
	                 (c->allow_commands & CAPS_ALLOW_MASK) << CAPS_ALLOW_SHIFT |
	                 (c->ptpl_a ? CAPS_PTPL_A : 0));
	prk_put_be16(b + 4, c->type_mask);
	prk_wr_bytes(buf, cap, 0, b, sizeof(b));
	return sizeof(b);
}

int prk_prin_caps_decode(const uint8_t *buf, size_t len, struct prk_prin_caps *out,
                         struct prk_field_err *err)
{
	memset(out, 0, sizeof(*out));
	/* A longer LENGTH (a later standard) is fine: the first 8 bytes keep
	 * their meaning. */
	if (len < PRK_PRIN_CAPS_LEN || prk_get_be16(buf) < PRK_PRIN_CAPS_LEN)
		return data_err(err, 0, "LENGTH");
	out->rlr_c = buf[2] & CAPS_RLR_C;
	out->crh = buf[2] & CAPS_CRH;
	out->sip_c = buf[2] & CAPS_SIP_C;
	out->atp_c = buf[2] & CAPS_ATP_C;
	out->ptpl_c = buf[2] & CAPS_PTPL_C;
	out->tmv = buf[3] & CAPS_TMV;
	out->allow_commands = (buf[3] >> CAPS_ALLOW_SHIFT) & CAPS_ALLOW_MASK;
	out->ptpl_a = buf[3] & CAPS_PTPL_A;
	out->type_mask = prk_get_be16(buf + 4);
	return 0;
}

uint16_t prk_type_mask_bit(uint8_t type)
{
	switch (type) {
	case PRK_PR_WE:
		return PRK_TYPE_MASK_WR_EX;
	case PRK_PR_EA:
		return PRK_TYPE_MASK_EX_AC;
	case PRK_PR_WE_RO:
		return PRK_TYPE_MASK_WR_EX_RO;
	case PRK_PR_EA_RO:
		return PRK_TYPE_MASK_EX_AC_RO;
	case PRK_PR_WE_AR:
		return PRK_TYPE_MASK_WR_EX_AR;
	case PRK_PR_EA_AR:
		return PRK_TYPE_MASK_EX_AC_AR;
	default:
		return 0;
	}
}

/* ---- READ FULL STATUS ---- */

void prk_full_enc_start(struct prk_full_enc *e, uint32_t generation, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = PRK_PRIN_HDR_LEN;
	e->bad = false;
	prk_wr_be32(buf, cap, OFF_GEN, generation);
	prk_wr_be32(buf, cap, OFF_ADDL, 0);
}

void prk_full_enc_add(struct prk_full_enc *e, const struct prk_full_desc *d)
{
	uint8_t hdr[PRK_FULL_DESC_HDR_LEN] = {0};
	uint8_t tid[PRK_TID_MAX_LEN];
	size_t tid_len = prk_tid_encode(&d->tid, tid, sizeof(tid));

	if (tid_len == 0) {
		e->bad = true;
		return;
	}
	prk_put_be64(hdr + FD_OFF_KEY, d->key);
	hdr[FD_OFF_FLAGS] =
	    (uint8_t)((d->all_tg_pt ? FD_ALL_TG_PT : 0) | (d->r_holder ? FD_R_HOLDER : 0));
	/* SCOPE and TYPE are meaningful only for a holder (SPC-4 6.14.5). */
	if (d->r_holder)
		hdr[FD_OFF_SCOPE_TYPE] = scope_type(d->scope, d->type);
	prk_put_be16(hdr + FD_OFF_RTPI, d->rtpi);
	prk_put_be32(hdr + FD_OFF_ADL, (uint32_t)tid_len);
	prk_wr_bytes(e->buf, e->cap, e->len, hdr, sizeof(hdr));
	prk_wr_bytes(e->buf, e->cap, e->len + sizeof(hdr), tid, tid_len);
	e->len += sizeof(hdr) + tid_len;
}

size_t prk_full_enc_finish(struct prk_full_enc *e)
{
	prk_wr_be32(e->buf, e->cap, OFF_ADDL, (uint32_t)(e->len - PRK_PRIN_HDR_LEN));
	return e->bad ? 0 : e->len;
}

int prk_full_dec_start(struct prk_full_dec *d, const uint8_t *buf, size_t len,
                       struct prk_field_err *err)
{
	uint64_t announced;

	memset(d, 0, sizeof(*d));
	if (len < PRK_PRIN_HDR_LEN)
		return data_err(err, OFF_ADDL, F_ADDL);
	d->buf = buf;
	d->generation = prk_get_be32(buf + OFF_GEN);
	d->additional_len = prk_get_be32(buf + OFF_ADDL);
	announced = (uint64_t)PRK_PRIN_HDR_LEN + d->additional_len;
	d->truncated = announced > len;
	d->len = d->truncated ? len : (size_t)announced;
	d->pos = PRK_PRIN_HDR_LEN;
	return 0;
}

/* Fills *out from the complete descriptor at d->pos, whose TransportID is
 * adl bytes long. */
static int full_dec_desc(struct prk_full_dec *d, size_t adl, struct prk_full_desc *out,
                         struct prk_field_err *err)
{
	const uint8_t *p = d->buf + d->pos;
	size_t used;

	if (prk_tid_decode(p + PRK_FULL_DESC_HDR_LEN, adl, d->pos + PRK_FULL_DESC_HDR_LEN,
	                   &out->tid, &used, err) < 0)
		return -1;
	if (used != adl)
		return data_err(err, d->pos + FD_OFF_ADL, F_ADL);
	out->key = prk_get_be64(p + FD_OFF_KEY);
	out->all_tg_pt = p[FD_OFF_FLAGS] & FD_ALL_TG_PT;
	out->r_holder = p[FD_OFF_FLAGS] & FD_R_HOLDER;
	if (out->r_holder) {
		out->scope = p[FD_OFF_SCOPE_TYPE] >> 4;
		out->type = p[FD_OFF_SCOPE_TYPE] & 0x0f;
	}
	out->rtpi = prk_get_be16(p + FD_OFF_RTPI);
	return 0;
}

/* A descriptor cut by the end of d->len is the normal end of truncated data;
 * in complete data it means ADDITIONAL LENGTH and the descriptors disagree. */
int prk_full_dec_next(struct prk_full_dec *d, struct prk_full_desc *out, struct prk_field_err *err)
{
	size_t rem, adl;

	memset(out, 0, sizeof(*out));
	if (d->pos >= d->len)
		return 0;
	rem = d->len - d->pos;
	if (rem < PRK_FULL_DESC_HDR_LEN) {
		if (d->truncated)
			goto cut;
		return data_err(err, OFF_ADDL, F_ADDL);
	}
	adl = prk_get_be32(d->buf + d->pos + FD_OFF_ADL);
	if (adl > rem - PRK_FULL_DESC_HDR_LEN) {
		if (d->truncated)
			goto cut;
		return data_err(err, d->pos + FD_OFF_ADL, F_ADL);
	}
	/* Shorter than a TransportID header: nothing inside to point at. */
	if (adl < FD_TID_HDR_LEN)
		return data_err(err, d->pos + FD_OFF_ADL, F_ADL);
	if (full_dec_desc(d, adl, out, err) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	d->pos += PRK_FULL_DESC_HDR_LEN + adl;
	return 1;
cut:
	d->pos = d->len;
	return 0;
}
