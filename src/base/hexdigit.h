/* One hexadecimal digit's value, and a span of them as a number: shared by the TransportID ISID
 * parser, the iSCSI text/CHAP parsers, the command-line key parsers and the fence key file.
 * Internal (not part of include/prkit). Pure. */
#ifndef PRKIT_SRC_BASE_HEXDIGIT_H
#define PRKIT_SRC_BASE_HEXDIGIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int prk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses s[0..n) as hex digits (either case, no 0x: callers differ on the
 * prefix) into *out when the value is at most max. False (and *out
 * untouched) for n == 0, a non-hex character or a value above max,
 * including one past 64 bits. Leading zeros are accepted. */
static inline bool prk_parse_hex_n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = prk_hex_digit((unsigned char)s[i]);

		if (d < 0 || v > (UINT64_MAX >> 4))
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A reservation key as an operator types it (prkit io --key, prkit mount
 * --key and its configuration file): an optional 0x, then 1..16 hex
 * digits (a longer key is a typo even with leading zeros), not zero (0
 * reads as "no key"). */
static inline bool prk_parse_key_hex(const char *s, uint64_t *out)
{
	size_t n;
	uint64_t v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = __builtin_strlen(s);
	if (n > 16 || !prk_parse_hex_n(s, n, UINT64_MAX, &v) || !v)
		return false;
	*out = v;
	return true;
}

#endif
