/* PERSISTENT RESERVE OUT parameter lists (SPC-4 6.15.3, 6.15.4). */
#include "prkit/scsi_pr_wire.h"

#include <string.h>

#include "prkit/scsi_cdb.h"

#include "be.h"

/* Basic list fields. */
#define OFF_KEY 0
#define OFF_SA_KEY 8
#define OFF_FLAGS 20
#define OFF_TPDL 24
#define FLAG_SPEC_I_PT 0x08
#define FLAG_ALL_TG_PT 0x04
#define FLAG_APTPL 0x01

/* REGISTER AND MOVE list fields. */
#define MOVE_OFF_FLAGS 17
#define MOVE_OFF_RTPI 18
#define MOVE_OFF_TPDL 20
#define MOVE_FLAG_UNREG 0x02
#define MOVE_FLAG_APTPL 0x01

#define TID_HDR_LEN 4 /* protocol byte, reserved byte, ADDITIONAL LENGTH */

static const char *const F_TPDL = "TRANSPORTID PARAMETER DATA LENGTH";

static int list_len_err(struct prk_field_err *err)
{
	prk_field_err_set(err, false, 0, -1, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR,
	                  "PARAMETER LIST LENGTH");
	return -1;
}

static int field_err(struct prk_field_err *err, size_t byte, int8_t bit, const char *field)
{
	prk_field_err_set(err, false, prk_off16(byte), bit, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
	                  field);
	return -1;
}

/* Validates every TransportID of a SPEC_I_PT list. Each decode is bounded by
 * the bytes left, so a TransportID that would overrun the list fails (at its
 * ADDITIONAL LENGTH) and a successful walk ends exactly at the end. Leftover
 * bytes too few for a TransportID header have no ADDITIONAL LENGTH to point
 * at; the list length that covers them is blamed instead. */
static int decode_tid_list(const uint8_t *buf, size_t len, struct prk_prout_params *out,
                           struct prk_field_err *err)
{
	size_t pos = PRK_PROUT_SPEC_I_PT_HDR_LEN;

	out->tid_list = buf + pos;
	out->tid_list_len = (uint32_t)(len - pos);
	out->tid_list_off = (uint32_t)pos;
	while (pos < len) {
		struct prk_tid tid;
		size_t used;

		if (len - pos < TID_HDR_LEN)
			return field_err(err, OFF_TPDL, -1, F_TPDL);
		if (prk_tid_decode(buf + pos, len - pos, pos, &tid, &used, err) < 0)
			return -1;
		pos += used;
		out->n_tids++;
	}
	return 0;
}

static int decode_basic(uint8_t sa, const uint8_t *buf, size_t len, struct prk_prout_params *out,
                        struct prk_field_err *err)
{
	uint8_t flags;

	if (len < PRK_PROUT_BASIC_LEN)
		return list_len_err(err);
	flags = buf[OFF_FLAGS];
	/* The bits are judged before the length: the length a list must have
	 * depends on SPEC_I_PT. */
	if ((flags & FLAG_SPEC_I_PT) && sa != PRK_PROUT_REGISTER)
		return field_err(err, OFF_FLAGS, 3, "SPEC_I_PT");
	if ((flags & FLAG_ALL_TG_PT) && sa != PRK_PROUT_REGISTER &&
	    sa != PRK_PROUT_REGISTER_AND_IGNORE)
		return field_err(err, OFF_FLAGS, 2, "ALL_TG_PT");
	out->key = prk_get_be64(buf + OFF_KEY);
	out->sa_key = prk_get_be64(buf + OFF_SA_KEY);
	out->spec_i_pt = flags & FLAG_SPEC_I_PT;
	out->all_tg_pt = flags & FLAG_ALL_TG_PT;
	out->aptpl = flags & FLAG_APTPL;
	if (!out->spec_i_pt)
		return len == PRK_PROUT_BASIC_LEN ? 0 : list_len_err(err);
	if (len < PRK_PROUT_SPEC_I_PT_HDR_LEN)
		return list_len_err(err);
	if ((uint64_t)prk_get_be32(buf + OFF_TPDL) + PRK_PROUT_SPEC_I_PT_HDR_LEN != len)
		return field_err(err, OFF_TPDL, -1, F_TPDL);
	return decode_tid_list(buf, len, out, err);
}

static int decode_move(const uint8_t *buf, size_t len, struct prk_prout_params *out,
                       struct prk_field_err *err)
{
	size_t tpdl, used;

	if (len < PRK_PROUT_MOVE_HDR_LEN)
		return list_len_err(err);
	tpdl = prk_get_be32(buf + MOVE_OFF_TPDL);
	/* Too short even for a TransportID header: the length is wrong. */
	if ((uint64_t)tpdl + PRK_PROUT_MOVE_HDR_LEN != len || tpdl < TID_HDR_LEN)
		return field_err(err, MOVE_OFF_TPDL, -1, F_TPDL);
	if (prk_tid_decode(buf + PRK_PROUT_MOVE_HDR_LEN, tpdl, PRK_PROUT_MOVE_HDR_LEN,
	                   &out->move_tid, &used, err) < 0)
		return -1;
	/* The list holds exactly one TransportID: its own length must account
	 * for all of TRANSPORTID PARAMETER DATA LENGTH. */
	if (used != tpdl)
		return field_err(err, PRK_PROUT_MOVE_HDR_LEN + 2, -1, "ADDITIONAL LENGTH");
	out->key = prk_get_be64(buf + OFF_KEY);
	out->sa_key = prk_get_be64(buf + OFF_SA_KEY);
	out->unreg = buf[MOVE_OFF_FLAGS] & MOVE_FLAG_UNREG;
	out->aptpl = buf[MOVE_OFF_FLAGS] & MOVE_FLAG_APTPL;
	out->rtpi = prk_get_be16(buf + MOVE_OFF_RTPI);
	return 0;
}

int prk_prout_params_decode(uint8_t sa, const uint8_t *buf, size_t len,
                            struct prk_prout_params *out, struct prk_field_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (sa == PRK_PROUT_REGISTER_AND_MOVE)
		rc = decode_move(buf, len, out, err);
	else
		rc = decode_basic(sa, buf, len, out, err);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int prk_tid_list_next(const struct prk_prout_params *p, uint32_t *pos, struct prk_tid *tid)
{
	struct prk_field_err err;
	size_t used;

	if (!p->tid_list || *pos >= p->tid_list_len)
		return 0;
	/* The list was validated by the decoder; a failure here means the
	 * caller's buffer changed, and ends the walk. */
	if (prk_tid_decode(p->tid_list + *pos, p->tid_list_len - *pos, p->tid_list_off + *pos, tid,
	                   &used, &err) < 0)
		return 0;
	*pos += (uint32_t)used;
	return 1;
}

/* Writes the TransportIDs from off on; returns their total length, or 0 if
 * one is invalid (then n_tids > 0). Nothing is written in that case. */
static size_t encode_tids(const struct prk_tid *tids, size_t n_tids, uint8_t *buf, size_t cap,
                          size_t off)
{
	size_t total = 0;

	for (size_t i = 0; i < n_tids; i++)
		if (prk_tid_encoded_len(&tids[i]) == 0)
			return 0;
	for (size_t i = 0; i < n_tids; i++) {
		uint8_t tmp[PRK_TID_MAX_LEN];
		size_t len = prk_tid_encode(&tids[i], tmp, sizeof(tmp));

		prk_wr_bytes(buf, cap, off + total, tmp, len);
		total += len;
	}
	return total;
}

size_t prk_prout_params_encode_basic(uint64_t key, uint64_t sa_key, bool all_tg_pt, bool aptpl,
                                     const struct prk_tid *tids, size_t n_tids, uint8_t *buf,
                                     size_t cap)
{
	uint8_t hdr[PRK_PROUT_SPEC_I_PT_HDR_LEN] = {0};
	size_t hdr_len = n_tids > 0 ? PRK_PROUT_SPEC_I_PT_HDR_LEN : PRK_PROUT_BASIC_LEN;
	size_t tids_len = encode_tids(tids, n_tids, buf, cap, hdr_len);

	if (n_tids > 0 && tids_len == 0)
		return 0;
	prk_put_be64(hdr + OFF_KEY, key);
	prk_put_be64(hdr + OFF_SA_KEY, sa_key);
	hdr[OFF_FLAGS] = (uint8_t)((n_tids > 0 ? FLAG_SPEC_I_PT : 0) |
	                           (all_tg_pt ? FLAG_ALL_TG_PT : 0) | (aptpl ? FLAG_APTPL : 0));
	if (n_tids > 0)
		prk_put_be32(hdr + OFF_TPDL, (uint32_t)tids_len);
	prk_wr_bytes(buf, cap, 0, hdr, hdr_len);
	return hdr_len + tids_len;
}

size_t prk_prout_params_encode_move(uint64_t key, uint64_t sa_key, bool unreg, bool aptpl,
                                    uint16_t rtpi, const struct prk_tid *tid, uint8_t *buf,
                                    size_t cap)
{
	uint8_t hdr[PRK_PROUT_MOVE_HDR_LEN] = {0};
	size_t tid_len = encode_tids(tid, 1, buf, cap, PRK_PROUT_MOVE_HDR_LEN);

	if (tid_len == 0)
		return 0;
	prk_put_be64(hdr + OFF_KEY, key);
	prk_put_be64(hdr + OFF_SA_KEY, sa_key);
	hdr[MOVE_OFF_FLAGS] =
	    (uint8_t)((unreg ? MOVE_FLAG_UNREG : 0) | (aptpl ? MOVE_FLAG_APTPL : 0));
	prk_put_be16(hdr + MOVE_OFF_RTPI, rtpi);
	prk_put_be32(hdr + MOVE_OFF_TPDL, (uint32_t)tid_len);
	prk_wr_bytes(buf, cap, 0, hdr, sizeof(hdr));
	return sizeof(hdr) + tid_len;
}
