/* What the `prkit persist` option parser (persist_args.c) takes from the
 * readers of option values (persist_values.c). Internal to src/cli; the
 * URL and TransportID parsers are declared in persist_args.h. */
#ifndef PRKIT_CLI_PERSIST_VALUES_H
#define PRKIT_CLI_PERSIST_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Formats the message into err (when errlen); returns -1. */
__attribute__((format(printf, 3, 4))) int prk_persist_errf(char *err, size_t errlen,
                                                           const char *fmt, ...);

/* Optional 0x/0X, then 1..16 hex digits and nothing else; at most max. */
bool prk_persist_parse_hex(const char *s, uint64_t max, uint64_t *out);
/* Decimal digits only, at most max. */
bool prk_persist_parse_dec(const char *s, uint64_t max, uint64_t *out);
/* sg3_utils' numbers: decimal, or hex with 0x or a trailing h. */
bool prk_persist_parse_num(const char *s, uint64_t max, uint64_t *out);

#endif
