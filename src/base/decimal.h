/* The one strict decimal parser: digits only (no sign, no blanks, no
 * trailing junk, no empty string), bounded by a caller's maximum.
 *
 * strtoul is not used because it accepts leading blanks and a sign, wraps
 * "-1" to the largest value and needs errno juggling to see overflow.
 * Pure. */
#ifndef PRKIT_SRC_BASE_DECIMAL_H
#define PRKIT_SRC_BASE_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses s[0..n) as decimal digits into *out when the value is at most max.
 * False (and *out untouched) for n == 0, any non-digit or a value above
 * max, including one that would not fit in 64 bits. Leading zeros are
 * accepted. */
bool prk_parse_dec_n(const char *s, size_t n, uint64_t max, uint64_t *out);

/* The same for a NUL-terminated string. */
bool prk_parse_dec(const char *s, uint64_t max, uint64_t *out);

#endif
