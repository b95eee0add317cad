/* CHAP with MD5 (RFC 1994, RFC 7143 12.1.3), target side: we challenge the
 * initiator and, for mutual CHAP, answer its challenge.
 *
 * Flow (one call of prk_chap_step per login request of the security stage
 * once AuthMethod=CHAP is agreed):
 *   initiator CHAP_A=<list>        -> CHAP_A=5 CHAP_I=<id> CHAP_C=0x<16 bytes>
 *   initiator CHAP_N, CHAP_R [, CHAP_I, CHAP_C for mutual]
 *                                  -> verified; [CHAP_N=<mutual_user> CHAP_R=0x<...>]
 * Policy: the algorithm list must contain 5 (MD5); CHAP_N must equal the
 * configured user; CHAP_R is compared in constant time. For mutual CHAP the
 * initiator's challenge must be 16..1024 bytes (16: what open-iscsi and
 * libiscsi send at least; shorter challenges weaken the target's proof and
 * are refused) and must not equal our own challenge (RFC 7143 12.1.3:
 * reflection). Mutual CHAP is required when configured, and refused when
 * not configured (we could not prove ourselves). */
#ifndef PRKIT_ISCSI_CHAP_H
#define PRKIT_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

#define PRK_CHAP_MD5 5
#define PRK_CHAP_DIGEST_LEN 16
#define PRK_CHAP_CHALLENGE_LEN 16
#define PRK_CHAP_PEER_CHALLENGE_MIN 16
#define PRK_CHAP_BINARY_MAX 1024

enum prk_chap_state {
	PRK_CHAP_WAIT_A, /* AuthMethod=CHAP agreed, waiting for CHAP_A */
	PRK_CHAP_WAIT_R, /* challenge sent, waiting for CHAP_N / CHAP_R */
	PRK_CHAP_DONE,
};

struct prk_chap {
	enum prk_chap_state state;
	uint8_t id;
	uint8_t challenge[PRK_CHAP_CHALLENGE_LEN];
};

/* The CHAP keys of one request; NULL when absent. */
struct prk_chap_msg {
	const char *a, *i, *c, *n, *r;
};

enum prk_chap_result {
	PRK_CHAP_CONTINUE, /* answer, stay in the security stage */
	PRK_CHAP_OK,       /* authenticated (and for mutual, our answer appended) */
	PRK_CHAP_FAIL,     /* authentication failure: login status 02/01 */
	PRK_CHAP_NOMEM,    /* login status 03/02 */
};

void prk_chap_init(struct prk_chap *c);
enum prk_chap_result prk_chap_step(struct prk_chap *c, const struct prk_chap_creds *cr,
                                   const struct prk_chap_msg *m,
                                   void (*random)(void *ctx, uint8_t *buf, size_t len), void *ctx,
                                   struct prk_text_buf *out);

/* MD5(id || secret || challenge) (RFC 1994 4.1). */
void prk_chap_md5(uint8_t id, const char *secret, const uint8_t *chal, size_t chal_len,
                  uint8_t out[PRK_CHAP_DIGEST_LEN]);
/* Decodes a binary value, "0x<hex>" or "0b<base64>" (RFC 7143 6.1) of at
 * most cap bytes. Returns 0 or -1. */
int prk_chap_decode_binary(const char *s, uint8_t *out, size_t cap, size_t *len);
/* "0x" + lowercase hex + NUL; out must hold 2 * n + 3 bytes. */
void prk_chap_encode_hex(const uint8_t *in, size_t n, char *out);
/* Constant-time comparison. */
bool prk_chap_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
