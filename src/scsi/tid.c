/* iSCSI TransportIDs (SPC-4 7.6.4.6). */
#include "prkit/scsi_tid.h"

#include <string.h>

#include "be.h"
#include "hexdigit.h"

#define TID_HDR_LEN 4
#define TID_MIN_ADDL (PRK_TID_MIN_LEN - TID_HDR_LEN)
#define TID_FMT_SHIFT 6
#define ISID_HEX_DIGITS 12
#define SEP ",i,0x"
#define SEP_LEN 5

static const char *const F_PROTO = "PROTOCOL IDENTIFIER";
static const char *const F_FORMAT = "FORMAT CODE";
static const char *const F_ADDL = "ADDITIONAL LENGTH";
static const char *const F_NAME = "ISCSI NAME";
static const char *const F_SEP = "SEPARATOR";
static const char *const F_ISID = "ISID";

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Printable ASCII without space; the comma is excluded because format 01b
 * uses it to separate the ISID. */
static bool name_char_ok(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e && c != ',';
}

/* Checks n bytes of a name. Returns true, or false with *bad set to the index
 * of the first offending byte (0 for a bad length). */
static bool name_bytes_ok(const uint8_t *s, size_t n, size_t *bad)
{
	*bad = 0;
	if (n == 0 || n > PRK_ISCSI_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!name_char_ok(s[i])) {
			*bad = i;
			return false;
		}
	}
	return true;
}

bool prk_iscsi_name_valid(const char *name)
{
	size_t bad;

	return name_bytes_ok((const uint8_t *)name, strnlen(name, PRK_ISCSI_NAME_MAX + 1), &bad);
}

static int tid_err(struct prk_field_err *err, size_t off, int8_t bit, const char *field)
{
	prk_field_err_set(err, false, prk_off16(off), bit, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST,
	                  field);
	return -1;
}

/* Byte 0 and ADDITIONAL LENGTH. On success *addl is the checked length. */
static int tid_decode_hdr(const uint8_t *buf, size_t avail, size_t base, size_t *addl,
                          struct prk_field_err *err)
{
	/* Byte 0 says what kind of TransportID this is, so it is judged first
	 * whenever it is present. */
	if (avail >= 1 && (buf[0] & 0x0f) != PRK_PROTO_ISCSI)
		return tid_err(err, base, 3, F_PROTO);
	if (avail >= 1 && (buf[0] >> TID_FMT_SHIFT) > PRK_TID_FMT_PORT)
		return tid_err(err, base, 7, F_FORMAT);
	/* A header cut by the end of the list overruns it: blame its length. */
	if (avail < TID_HDR_LEN)
		return tid_err(err, base + 2, -1, F_ADDL);
	*addl = prk_get_be16(buf + 2);
	if (*addl < TID_MIN_ADDL || *addl % 4 != 0 || *addl > avail - TID_HDR_LEN)
		return tid_err(err, base + 2, -1, F_ADDL);
	return 0;
}

/* The ISID part after the name: ",i,0x" (i and x in any case) and exactly
 * 12 hex digits up to the terminator. s[0] is the comma. */
static int tid_decode_isid(const uint8_t *s, size_t n, size_t off, struct prk_tid *out,
                           struct prk_field_err *err)
{
	uint64_t isid = 0;

	if (n < SEP_LEN)
		return tid_err(err, off, -1, F_SEP);
	for (size_t i = 0; i < SEP_LEN; i++)
		if (ascii_lower((char)s[i]) != SEP[i])
			return tid_err(err, off, -1, F_SEP);
	if (n - SEP_LEN != ISID_HEX_DIGITS)
		return tid_err(err, off + SEP_LEN, -1, F_ISID);
	if (!prk_parse_hex_n((const char *)s + SEP_LEN, ISID_HEX_DIGITS, UINT64_MAX, &isid))
		return tid_err(err, off + SEP_LEN, -1, F_ISID);
	out->isid = isid;
	return 0;
}

/* The string area after the header: addl bytes holding the NUL-terminated
 * string and zero padding. off is its offset in the parameter data. */
static int tid_decode_string(const uint8_t *s, size_t addl, size_t off, uint8_t fmt,
                             struct prk_tid *out, struct prk_field_err *err)
{
	const uint8_t *nul = memchr(s, 0, addl);
	const uint8_t *comma;
	size_t slen, name_len, bad;

	if (!nul)
		return tid_err(err, off, -1, F_NAME);
	slen = (size_t)(nul - s);
	for (size_t i = slen + 1; i < addl; i++)
		if (s[i] != 0)
			return tid_err(err, off + i, -1, F_NAME);

	comma = fmt == PRK_TID_FMT_PORT ? memchr(s, ',', slen) : NULL;
	name_len = comma ? (size_t)(comma - s) : slen;
	if (!name_bytes_ok(s, name_len, &bad))
		return tid_err(err, off + bad, -1, F_NAME);
	if (fmt == PRK_TID_FMT_PORT) {
		if (!comma)
			return tid_err(err, off + slen, -1, F_SEP);
		if (tid_decode_isid(comma, slen - name_len, off + name_len, out, err) < 0)
			return -1;
	}
	memcpy(out->name, s, name_len);
	out->name[name_len] = '\0';
	return 0;
}

int prk_tid_decode(const uint8_t *buf, size_t avail, size_t base, struct prk_tid *out,
                   size_t *consumed, struct prk_field_err *err)
{
	size_t addl;
	uint8_t fmt;

	memset(out, 0, sizeof(*out));
	if (tid_decode_hdr(buf, avail, base, &addl, err) < 0)
		return -1;
	fmt = buf[0] >> TID_FMT_SHIFT;
	if (tid_decode_string(buf + TID_HDR_LEN, addl, base + TID_HDR_LEN, fmt, out, err) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->format = fmt;
	*consumed = TID_HDR_LEN + addl;
	return 0;
}

/* Builds the TransportID into out; returns its length or 0 if t is invalid. */
static size_t tid_build(const struct prk_tid *t, uint8_t out[PRK_TID_MAX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strnlen(t->name, sizeof(t->name));
	size_t slen, len, bad;

	if (t->format > PRK_TID_FMT_PORT || !name_bytes_ok((const uint8_t *)t->name, n, &bad))
		return 0;
	slen = n + (t->format == PRK_TID_FMT_PORT ? SEP_LEN + ISID_HEX_DIGITS : 0);
	/* NUL terminator, then pad to a multiple of 4 and to the minimum. */
	len = TID_HDR_LEN + ((slen + 1 + 3) & ~(size_t)3);
	if (len < PRK_TID_MIN_LEN)
		len = PRK_TID_MIN_LEN;

	memset(out, 0, len);
	out[0] = (uint8_t)(t->format << TID_FMT_SHIFT | PRK_PROTO_ISCSI);
	prk_put_be16(out + 2, (uint16_t)(len - TID_HDR_LEN));
	memcpy(out + TID_HDR_LEN, t->name, n);
	if (t->format == PRK_TID_FMT_PORT) {
		uint8_t *p = out + TID_HDR_LEN + n;
		uint64_t isid = t->isid & PRK_ISID_MASK;

		memcpy(p, SEP, SEP_LEN);
		for (int i = ISID_HEX_DIGITS - 1; i >= 0; i--) {
			p[SEP_LEN + i] = (uint8_t)hex[isid & 0xf];
			isid >>= 4;
		}
	}
	return len;
}

size_t prk_tid_encoded_len(const struct prk_tid *t)
{
	uint8_t tmp[PRK_TID_MAX_LEN];

	return tid_build(t, tmp);
}

size_t prk_tid_encode(const struct prk_tid *t, uint8_t *buf, size_t cap)
{
	uint8_t tmp[PRK_TID_MAX_LEN];
	size_t len = tid_build(t, tmp);

	prk_wr_bytes(buf, cap, 0, tmp, len);
	return len;
}

bool prk_iscsi_name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
		if (*a == '\0')
			return true;
	}
}

bool prk_tid_same_port(const struct prk_tid *a, const struct prk_tid *b)
{
	return a->format == PRK_TID_FMT_PORT && b->format == PRK_TID_FMT_PORT &&
	       ((a->isid ^ b->isid) & PRK_ISID_MASK) == 0 && prk_iscsi_name_eq(a->name, b->name);
}

bool prk_tid_matches_port(const struct prk_tid *pattern, const char *name, uint64_t isid)
{
	if (!prk_iscsi_name_eq(pattern->name, name))
		return false;
	switch (pattern->format) {
	case PRK_TID_FMT_DEVICE:
		return true;
	case PRK_TID_FMT_PORT:
		return pattern->isid == (isid & PRK_ISID_MASK);
	default:
		return false;
	}
}
