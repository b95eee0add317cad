/* See iname.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iname.h"
#include "login.h"

void prk_iscsi_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char piece[5];
		if (*p == '"' || *p == '\\')
			snprintf(piece, sizeof(piece), "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			snprintf(piece, sizeof(piece), "%c", *p);
		else
			snprintf(piece, sizeof(piece), "\\x%02x", *p);
		size_t n = strlen(piece);
		if (o + n + 4 > cap) { /* room for "..." and the NUL */
			if (o + 4 <= cap) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = 0;
}

/* The length of the UTF-8 sequence at s (1..4) and its code point, or 0
 * when it is not well-formed (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, min = 0x80, *cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, min = 0x800, *cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, min = 0x10000, *cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3fu);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

int prk_iscsi_initiator_name_check(const char *name, char *why, size_t cap)
{
	char shown[PRK_ISCSI_NAME_LEN * 4 + 8];
	const unsigned char *s = (const unsigned char *)name;
	size_t len = strlen(name);
	const char *what = NULL;
	size_t at = 0;
	prk_iscsi_escape(name, shown, sizeof(shown));
	if (len == 0) {
		snprintf(why, cap, "InitiatorName is empty");
		return -1;
	}
	if (len >= PRK_ISCSI_NAME_LEN) {
		snprintf(why, cap, "InitiatorName of %zu bytes is longer than %d", len,
		         PRK_ISCSI_NAME_LEN - 1);
		return -1;
	}
	/* Each problem at its first byte, the worst kind first: not UTF-8,
	 * then control characters, then characters no iSCSI name holds, then
	 * what prkit does not support. */
	for (size_t i = 0; i < len && !what;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, &cp);
		if (!n)
			what = "is not valid UTF-8", at = i;
		i += n ? n : 1;
	}
	for (size_t i = 0; i < len && !what;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, &cp);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			what = "holds a control character", at = i;
		else if (cp == ' ' || cp == ',')
			what = cp == ' ' ? "holds a space" : "holds a comma", at = i;
		else if (cp >= 0x80)
			what = "holds a character outside ASCII, which prkit does not support in "
			       "iSCSI names",
			at = i;
		i += n;
	}
	if (!what)
		return 0;
	snprintf(why, cap, "InitiatorName \"%s\" %s (byte %zu)", shown, what, at);
	return -1;
}
