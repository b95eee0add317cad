/* iSCSI text key=value data segments (RFC 7143 6.1): the parser used by the
 * login and the full feature phase Text Request, and the output buffer
 * (prk_text_buf, declared in login.h). */
#ifndef PRKIT_ISCSI_TEXT_H
#define PRKIT_ISCSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

#define PRK_TEXT_KEY_MAX 63          /* RFC 7143 6.1 */
#define PRK_TEXT_VALUE_MAX 255       /* default limit of a value (RFC 7143 6.1) */
#define PRK_TEXT_LONG_VALUE_MAX 8192 /* CHAP_C / CHAP_R and the parser's hard limit */
/* Largest key=value text (all PDUs of one request) we accept: ample for any
 * login or SendTargets request, and a bound on what an initiator can make
 * us buffer. */
#define PRK_TEXT_SEGMENT_MAX 65536

/* One pair. key is not NUL-terminated (key_len bytes); value is, because
 * every pair is followed by a NUL (prk_text_iter_next checks it). */
struct prk_text_kv {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

struct prk_text_iter {
	const char *p;
	size_t len, pos;
};

enum prk_text_next {
	PRK_TEXT_END = 0,
	PRK_TEXT_PAIR = 1,
	PRK_TEXT_BAD = -1, /* no '=', invalid key, value too long, missing NUL */
};

void prk_text_iter_init(struct prk_text_iter *it, const uint8_t *data, size_t len);
/* Next pair. Empty strings (consecutive NULs, e.g. padding an initiator
 * counted in DataSegmentLength) are skipped. */
enum prk_text_next prk_text_iter_next(struct prk_text_iter *it, struct prk_text_kv *kv);

/* Key name syntax: 1..63 bytes of [A-Za-z0-9.+@_:-], and # for the X#
 * extension keys. */
bool prk_text_key_valid(const char *key, size_t len);
/* kv->key equals name (NUL-terminated). */
bool prk_text_key_is(const struct prk_text_kv *kv, const char *name);
/* Largest value length allowed for this key. */
size_t prk_text_value_limit(const char *key, size_t key_len);

/* Checks a whole text: every pair well-formed and no key twice (RFC 7143
 * 6.1: a key is sent at most once per negotiation). Returns the number of
 * pairs, or -1. */
int prk_text_check(const uint8_t *data, size_t len);

/* Appends "key=value\0"; value may be longer than 255 for CHAP and
 * SendTargets answers. Returns 0 or -1 (out of memory). */
int prk_text_buf_addn(struct prk_text_buf *b, const void *data, size_t n);
int prk_text_buf_addf(struct prk_text_buf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a numerical value (RFC 7143 6.1: decimal, or 0x hex) of at most
 * max. Returns 0 or -1. */
int prk_text_parse_u32(const char *value, uint32_t max, uint32_t *out);

#endif
