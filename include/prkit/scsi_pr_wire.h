/* PERSISTENT RESERVE OUT parameter lists and PERSISTENT RESERVE IN data, in
 * both directions: the target decodes what the host library encodes and
 * vice versa, from the same code.
 *
 * Pure code: no I/O, no allocation. Every decoder validates lengths and
 * reports the exact field that is wrong (struct prk_field_err). */
#ifndef PRKIT_SCSI_PR_WIRE_H
#define PRKIT_SCSI_PR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_sense.h"
#include "prkit/scsi_tid.h"

/* ---- PR OUT parameter lists ---- */

#define PRK_PROUT_BASIC_LEN 24
#define PRK_PROUT_SPEC_I_PT_HDR_LEN 28 /* basic list + TRANSPORTID PARAMETER DATA LENGTH */
#define PRK_PROUT_MOVE_HDR_LEN 24

/* Basic parameter list (every service action but REGISTER AND MOVE):
 *   0..7 RESERVATION KEY, 8..15 SERVICE ACTION RESERVATION KEY,
 *   16..19 obsolete, 20: SPEC_I_PT bit 3, ALL_TG_PT bit 2, APTPL bit 0,
 *   21 reserved, 22..23 obsolete; with SPEC_I_PT: 24..27 TRANSPORTID
 *   PARAMETER DATA LENGTH, 28.. TransportIDs.
 * REGISTER AND MOVE list:
 *   0..7 RESERVATION KEY, 8..15 SERVICE ACTION RESERVATION KEY, 16 reserved,
 *   17: UNREG bit 1, APTPL bit 0, 18..19 RELATIVE TARGET PORT IDENTIFIER,
 *   20..23 TRANSPORTID PARAMETER DATA LENGTH, 24.. one TransportID. */
struct prk_prout_params {
	uint64_t key;
	uint64_t sa_key;
	bool spec_i_pt;
	bool all_tg_pt;
	bool aptpl;
	/* REGISTER AND MOVE only */
	bool unreg;
	uint16_t rtpi;
	struct prk_tid move_tid;
	/* SPEC_I_PT only: the validated TransportID list, still in the caller's
	 * buffer (walk it with prk_tid_list_next). */
	const uint8_t *tid_list;
	uint32_t tid_list_len;
	uint32_t tid_list_off; /* offset of tid_list within the parameter data */
	uint32_t n_tids;
};

/* Decodes the parameter list of service action sa (buf holds exactly the
 * PARAMETER LIST LENGTH bytes of the CDB). Errors:
 *   - basic list shorter than 24, or not exactly 24 without SPEC_I_PT:
 *     PARAMETER LIST LENGTH ERROR (1A/00);
 *   - SPEC_I_PT set on anything but REGISTER, ALL_TG_PT set on anything but
 *     REGISTER / REGISTER AND IGNORE EXISTING KEY: INVALID FIELD IN
 *     PARAMETER LIST pointing at the bit;
 *   - SPEC_I_PT with a list shorter than 28: 1A/00; TRANSPORTID PARAMETER
 *     DATA LENGTH + 28 != list length: 26/00 at byte 24; a TransportID that
 *     is malformed or overruns the list: 26/00 at its field;
 *   - REGISTER AND MOVE list shorter than 24: 1A/00; TRANSPORTID PARAMETER
 *     DATA LENGTH + 24 != list length: 26/00 at byte 20; a TransportID
 *     shorter than that length or malformed: 26/00 at its field.
 * Returns 0 or -1. */
int prk_prout_params_decode(uint8_t sa, const uint8_t *buf, size_t len,
                            struct prk_prout_params *out, struct prk_field_err *err);

/* Iterates over a validated SPEC_I_PT TransportID list. *pos starts at 0.
 * Returns 1 with *tid filled, 0 at the end. */
int prk_tid_list_next(const struct prk_prout_params *p, uint32_t *pos, struct prk_tid *tid);

/* Encodes a basic parameter list with the given TransportIDs (n_tids > 0
 * sets SPEC_I_PT and adds the length field). Writes at most cap bytes;
 * returns the full length, or 0 if a TransportID is invalid. */
size_t prk_prout_params_encode_basic(uint64_t key, uint64_t sa_key, bool all_tg_pt, bool aptpl,
                                     const struct prk_tid *tids, size_t n_tids, uint8_t *buf,
                                     size_t cap);

/* Encodes a REGISTER AND MOVE parameter list. Returns the full length, or 0
 * if the TransportID is invalid. */
size_t prk_prout_params_encode_move(uint64_t key, uint64_t sa_key, bool unreg, bool aptpl,
                                    uint16_t rtpi, const struct prk_tid *tid, uint8_t *buf,
                                    size_t cap);

/* ---- PR IN data ----
 * Encoders write at most cap bytes (the allocation length) and return the
 * full length of the data. ADDITIONAL LENGTH always describes the full data,
 * never the truncated part (SPC-5 6.16.2). */

#define PRK_PRIN_HDR_LEN 8
#define PRK_PRIN_RESV_LEN 24
#define PRK_PRIN_CAPS_LEN 8
#define PRK_FULL_DESC_HDR_LEN 24

/* READ KEYS: generation, then one 8-byte key per registration. */
size_t prk_prin_keys_encode(uint32_t generation, const uint64_t *keys, size_t n, uint8_t *buf,
                            size_t cap);

struct prk_prin_keys {
	uint32_t generation;
	uint32_t additional_len; /* as reported; may exceed what was returned */
	size_t n_total;          /* keys the target has: additional_len / 8 */
	size_t n_present;        /* keys contained in the returned bytes */
	const uint8_t *keys;     /* n_present big-endian keys inside the buffer */
};
/* Fails (26/00 style error with in_cdb = false) if the buffer is shorter
 * than the header or ADDITIONAL LENGTH is not a multiple of 8. */
int prk_prin_keys_decode(const uint8_t *buf, size_t len, struct prk_prin_keys *out,
                         struct prk_field_err *err);
uint64_t prk_prin_keys_at(const struct prk_prin_keys *k, size_t i);

/* READ RESERVATION. */
struct prk_prin_resv {
	uint32_t generation;
	bool present;
	uint64_t key; /* 0 for the all-registrants types */
	uint8_t scope;
	uint8_t type;
};
size_t prk_prin_resv_encode(const struct prk_prin_resv *r, uint8_t *buf, size_t cap);
/* Fails if ADDITIONAL LENGTH is neither 0 nor 16 or the data is short. */
int prk_prin_resv_decode(const uint8_t *buf, size_t len, struct prk_prin_resv *out,
                         struct prk_field_err *err);

/* REPORT CAPABILITIES. Type mask bits as in byte 4/5 of the data. */
#define PRK_TYPE_MASK_WR_EX_AR 0x8000
#define PRK_TYPE_MASK_EX_AC_RO 0x4000
#define PRK_TYPE_MASK_WR_EX_RO 0x2000
#define PRK_TYPE_MASK_EX_AC 0x0800
#define PRK_TYPE_MASK_WR_EX 0x0200
#define PRK_TYPE_MASK_EX_AC_AR 0x0001
#define PRK_TYPE_MASK_ALL 0xea01

struct prk_prin_caps {
	bool rlr_c;             /* byte 2 bit 7: REPLACE LOST RESERVATION capable (SPC-5) */
	bool crh;               /* byte 2 bit 4 */
	bool sip_c;             /* byte 2 bit 3 */
	bool atp_c;             /* byte 2 bit 2 */
	bool ptpl_c;            /* byte 2 bit 0 */
	bool tmv;               /* byte 3 bit 7 */
	uint8_t allow_commands; /* byte 3 bits 6..4 */
	bool ptpl_a;            /* byte 3 bit 0 */
	uint16_t type_mask;     /* bytes 4..5 */
};
size_t prk_prin_caps_encode(const struct prk_prin_caps *c, uint8_t *buf, size_t cap);
/* Fails if shorter than 8 bytes or LENGTH < 8. */
int prk_prin_caps_decode(const uint8_t *buf, size_t len, struct prk_prin_caps *out,
                         struct prk_field_err *err);
/* The type mask bit for a type code (0 for an invalid type). */
uint16_t prk_type_mask_bit(uint8_t type);

/* READ FULL STATUS: a header then one descriptor per registration. */
struct prk_full_desc {
	uint64_t key;
	bool all_tg_pt;
	bool r_holder;
	uint8_t scope; /* valid when r_holder */
	uint8_t type;  /* valid when r_holder */
	uint16_t rtpi; /* undefined when all_tg_pt */
	struct prk_tid tid;
};

/* Incremental encoder: start, add descriptors, finish. Bytes past cap are
 * counted but not written. */
struct prk_full_enc {
	uint8_t *buf;
	size_t cap;
	size_t len; /* full length so far */
	bool bad;   /* a descriptor had an invalid TransportID */
};
void prk_full_enc_start(struct prk_full_enc *e, uint32_t generation, uint8_t *buf, size_t cap);
void prk_full_enc_add(struct prk_full_enc *e, const struct prk_full_desc *d);
/* Writes ADDITIONAL LENGTH; returns the full length, or 0 if bad. */
size_t prk_full_enc_finish(struct prk_full_enc *e);

/* Decoder: header then an iterator. */
struct prk_full_dec {
	const uint8_t *buf;
	size_t len; /* bytes present: min(returned, 8 + ADDITIONAL LENGTH) */
	size_t pos;
	uint32_t generation;
	uint32_t additional_len;
	bool truncated; /* the data announced more than was returned */
};
int prk_full_dec_start(struct prk_full_dec *d, const uint8_t *buf, size_t len,
                       struct prk_field_err *err);
/* Returns 1 with *out filled, 0 at the end (including a truncated last
 * descriptor, which sets d->truncated), -1 on a malformed descriptor. */
int prk_full_dec_next(struct prk_full_dec *d, struct prk_full_desc *out, struct prk_field_err *err);

#endif
