/* One hexadecimal digit's value: shared by the TransportID ISID parser, the
 * iSCSI text/CHAP parsers, the command-line key parsers and the fence key
 * file. Internal (not part of include/prkit). Pure. */
#ifndef PRKIT_SRC_BASE_HEXDIGIT_H
#define PRKIT_SRC_BASE_HEXDIGIT_H

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

#endif
