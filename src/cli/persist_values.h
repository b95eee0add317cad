/* What the `prkit persist` option parser (persist_args.c) takes from the
 * readers of option values (persist_values.c). Internal to src/cli; the
 * URL and TransportID parsers are declared in persist_args.h. */
#ifndef PRKIT_CLI_PERSIST_VALUES_H
#define PRKIT_CLI_PERSIST_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages (prk_errf) and decimals (prk_parse_dec) come from the base. */
#include "decimal.h"
#include "errfmt.h"

/* Optional 0x/0X, then 1..16 hex digits and nothing else; at most max. */
bool prk_persist_parse_hex(const char *s, uint64_t max, uint64_t *out);
/* sg3_utils' numbers: decimal, or hex with 0x or a trailing h. */
bool prk_persist_parse_num(const char *s, uint64_t max, uint64_t *out);

#endif
