/* `prkit persist`: the values its options take: hex keys and numbers,
 * iscsi:// URLs (through the shared parser) and TransportIDs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "persist_args.h"
#include "persist_values.h"
#include "hexdigit.h"
#include "prkit/iscsi_url.h"

/* Optional 0x/0X, then at least one hex digit and nothing else; at most
 * max. (sg_persist reads keys with sscanf("%x"), which also takes leading
 * blanks, a sign and trailing junk; we do not.) */
bool prk_persist_parse_hex(const char *s, uint64_t max, uint64_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return prk_parse_hex_n(s, strlen(s), max, out);
}

/* --maxlen: decimal, or hex with a 0x prefix or an h suffix (sg3_utils'
 * number forms, without the multipliers). */
bool prk_persist_parse_num(const char *s, uint64_t max, uint64_t *out)
{
	size_t n = strlen(s);
	char tmp[32];

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return prk_persist_parse_hex(s, max, out);
	if (n > 1 && n < sizeof(tmp) && (s[n - 1] == 'h' || s[n - 1] == 'H')) {
		memcpy(tmp, s, n - 1);
		tmp[n - 1] = '\0';
		if (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'))
			return false;
		return prk_persist_parse_hex(tmp, max, out);
	}
	return prk_parse_dec(s, max, out);
}

/* ---- URLs ---- */

/* The shared parser (prkit/iscsi_url.h); the operand's own text is kept
 * for messages and for handing to the host library. */
int prk_persist_url_parse(const char *s, struct prk_persist_url *u, char *err, size_t errlen)
{
	struct prk_iscsi_url parsed;

	memset(u, 0, sizeof(*u));
	u->text = s;
	if (prk_iscsi_url_parse(s, &parsed, err, errlen) != PRK_URL_OK)
		return -1;
	memcpy(u->host, parsed.host, sizeof(u->host));
	u->port = parsed.port;
	memcpy(u->target, parsed.target, sizeof(u->target));
	u->lun = parsed.lun;
	u->has_credentials = parsed.has_credentials;
	return 0;
}

/* ---- TransportIDs ---- */

#define ISID_DIGITS 12

static int tid_from_name(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	const char *comma = strchr(s, ',');
	size_t nlen = comma ? (size_t)(comma - s) : strlen(s);

	if (nlen > PRK_ISCSI_NAME_MAX)
		return prk_errf(err, errlen, "iSCSI name longer than %d characters",
		                PRK_ISCSI_NAME_MAX);
	memcpy(t->name, s, nlen);
	t->name[nlen] = '\0';
	if (!prk_iscsi_name_valid(t->name))
		return prk_errf(err, errlen, "'%s' is not a valid iSCSI name", t->name);
	if (!comma) {
		t->format = PRK_TID_FMT_DEVICE;
		return 0;
	}
	if (strncasecmp(comma, ",i,0x", 5) != 0)
		return prk_errf(err, errlen,
		                "after the name, expected ',i,0x' and 12 hex digits of ISID");
	const char *hex = comma + 5;
	uint64_t isid = 0;

	if (strlen(hex) != ISID_DIGITS)
		return prk_errf(err, errlen, "ISID '%s' is not 12 hex digits", hex);
	for (size_t i = 0; i < ISID_DIGITS; i++) {
		int d = prk_hex_digit((unsigned char)hex[i]);

		if (d < 0)
			return prk_errf(err, errlen, "ISID '%s' is not 12 hex digits", hex);
		isid = isid << 4 | (uint64_t)d;
	}
	t->format = PRK_TID_FMT_PORT;
	t->isid = isid;
	return 0;
}

/* sg_persist's "comma (or single space) separated list of ASCII hex bytes"
 * for one TransportID. Bytes not given are zero, as in sg_persist. */
static int tid_from_hex(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	uint8_t buf[PRK_TID_MAX_LEN];
	size_t n = 0, used = 0;
	const char *p = s;
	struct prk_field_err fe;

	memset(buf, 0, sizeof(buf));
	for (;;) {
		size_t pos = (size_t)(p - s) + 1;
		size_t k = 0;
		unsigned v = 0;

		while (prk_hex_digit((unsigned char)p[k]) >= 0) {
			v = v << 4 | (unsigned)prk_hex_digit((unsigned char)p[k]);
			if (++k > 2)
				return prk_errf(err, errlen,
				                "hex number at position %zu is larger than ff",
				                pos);
		}
		if (k == 0)
			return prk_errf(err, errlen, "expected a hex byte at position %zu", pos);
		if (n == sizeof(buf))
			return prk_errf(err, errlen, "more than %d bytes", PRK_TID_MAX_LEN);
		buf[n++] = (uint8_t)v;
		p += k;
		if (!*p)
			break;
		p++; /* one ',' or ' ' */
	}
	memset(&fe, 0, sizeof(fe));
	if (prk_tid_decode(buf, sizeof(buf), 0, t, &used, &fe) < 0) {
		if (fe.field && strcmp(fe.field, "PROTOCOL IDENTIFIER") == 0)
			return prk_errf(err, errlen,
			                "not an iSCSI TransportID (PROTOCOL IDENTIFIER %u)",
			                buf[0] & 0xfu);
		return prk_errf(err, errlen, "bad %s at byte %u of the TransportID",
		                fe.field ? fe.field : "field", fe.byte);
	}
	if (n > used)
		return prk_errf(
		    err, errlen,
		    "%zu bytes given, but the TransportID's ADDITIONAL LENGTH makes it %zu", n,
		    used);
	return 0;
}

int prk_persist_tid_parse(const char *s, struct prk_tid *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (!*s)
		return prk_errf(err, errlen, "empty");
	if (strcmp(s, "-") == 0 || strncasecmp(s, "file=", 5) == 0)
		return prk_errf(
		    err, errlen,
		    "reading TransportIDs from stdin or a file is not supported; give each "
		    "with its own --transport-id");
	if (prk_iscsi_name_has_type(s))
		return tid_from_name(s, t, err, errlen);
	if (strspn(s, "0123456789abcdefABCDEF, ") == strlen(s))
		return tid_from_hex(s, t, err, errlen);
	return prk_errf(err, errlen,
	                "only iSCSI TransportIDs are supported: iqn.NAME, iqn.NAME,i,0xISID "
	                "(eui. and naa. names too) or hex bytes");
}
