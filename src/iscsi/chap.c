/* CHAP (RFC 1994) as RFC 7143 12.1.3 carries it in login text keys. */
#include "chap.h"

#include <nettle/md5.h>
#include <stdio.h>
#include <string.h>

#include "text.h"
#include "hexdigit.h"

void prk_chap_init(struct prk_chap *c)
{
	memset(c, 0, sizeof(*c));
	c->state = PRK_CHAP_WAIT_A;
}

void prk_chap_md5(uint8_t id, const char *secret, const uint8_t *chal, size_t chal_len,
                  uint8_t out[PRK_CHAP_DIGEST_LEN])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_update(&ctx, 1, &id);
	md5_update(&ctx, strlen(secret), (const uint8_t *)secret);
	md5_update(&ctx, chal_len, chal);
	md5_digest(&ctx, PRK_CHAP_DIGEST_LEN, out);
}

bool prk_chap_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int decode_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t digits = strlen(s), n = 0;
	size_t i = 0;

	if (digits == 0)
		return -1;
	/* An odd number of digits has an implied leading 0. */
	if (digits % 2) {
		int h = prk_hex_digit(s[0]);

		if (h < 0 || cap < 1)
			return -1;
		out[n++] = (uint8_t)h;
		i = 1;
	}
	for (; i < digits; i += 2) {
		int hi = prk_hex_digit(s[i]), lo = prk_hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return 0;
}

static int decode_b64(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t slen = strlen(s), n = 0;
	uint32_t acc = 0;
	int bits = 0;

	/* Padding is optional; after it nothing may follow. */
	while (slen > 0 && s[slen - 1] == '=')
		slen--;
	if (slen == 0 || strlen(s) - slen > 2)
		return -1;
	for (size_t i = 0; i < slen; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* 6 leftover bits cannot come from whole bytes. */
	if (bits >= 6)
		return -1;
	*len = n;
	return 0;
}

int prk_chap_decode_binary(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	if (s[0] != '0')
		return -1;
	if (s[1] == 'x' || s[1] == 'X')
		return decode_hex(s + 2, out, cap, len);
	if (s[1] == 'b' || s[1] == 'B')
		return decode_b64(s + 2, out, cap, len);
	return -1;
}

void prk_chap_encode_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = digits[in[i] >> 4];
		out[3 + 2 * i] = digits[in[i] & 15];
	}
	out[2 + 2 * n] = '\0';
}

/* Does the comma-separated CHAP_A list contain 5? */
static bool list_has_md5(const char *list)
{
	const char *s = list;

	for (;;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		char tok[16];
		uint32_t v;

		if (len > 0 && len < sizeof(tok)) {
			memcpy(tok, s, len);
			tok[len] = '\0';
			if (prk_text_parse_u32(tok, 0xffffffffu, &v) == 0 && v == PRK_CHAP_MD5)
				return true;
		}
		if (!e)
			return false;
		s = e + 1;
	}
}

static enum prk_chap_result send_challenge(struct prk_chap *c,
                                           void (*random)(void *ctx, uint8_t *buf, size_t len),
                                           void *ctx, struct prk_text_buf *out)
{
	char hex[2 * PRK_CHAP_CHALLENGE_LEN + 3];
	uint8_t rnd[1 + PRK_CHAP_CHALLENGE_LEN];

	if (!random)
		return PRK_CHAP_FAIL;
	random(ctx, rnd, sizeof(rnd));
	c->id = rnd[0];
	memcpy(c->challenge, rnd + 1, PRK_CHAP_CHALLENGE_LEN);
	prk_chap_encode_hex(c->challenge, PRK_CHAP_CHALLENGE_LEN, hex);
	if (prk_text_buf_add(out, "CHAP_A", "5") || prk_text_buf_addf(out, "CHAP_I", "%u", c->id) ||
	    prk_text_buf_add(out, "CHAP_C", hex))
		return PRK_CHAP_NOMEM;
	c->state = PRK_CHAP_WAIT_R;
	return PRK_CHAP_CONTINUE;
}

/* Checks CHAP_N / CHAP_R against our challenge. */
static bool verify(const struct prk_chap *c, const struct prk_chap_creds *cr,
                   const struct prk_chap_msg *m)
{
	uint8_t got[PRK_CHAP_BINARY_MAX], want[PRK_CHAP_DIGEST_LEN];
	size_t len;
	bool ok;

	if (strcmp(m->n, cr->user) != 0)
		return false;
	if (prk_chap_decode_binary(m->r, got, sizeof(got), &len) || len != PRK_CHAP_DIGEST_LEN)
		return false;
	prk_chap_md5(c->id, cr->secret, c->challenge, PRK_CHAP_CHALLENGE_LEN, want);
	ok = prk_chap_equal(got, want, PRK_CHAP_DIGEST_LEN);
	memset(want, 0, sizeof(want));
	return ok;
}

/* Mutual CHAP: answers the initiator's CHAP_I / CHAP_C. */
static enum prk_chap_result answer_mutual(const struct prk_chap *c, const struct prk_chap_creds *cr,
                                          const struct prk_chap_msg *m, struct prk_text_buf *out)
{
	uint8_t chal[PRK_CHAP_BINARY_MAX], rsp[PRK_CHAP_DIGEST_LEN];
	char hex[2 * PRK_CHAP_DIGEST_LEN + 3];
	size_t len;
	uint32_t id;

	if (prk_text_parse_u32(m->i, 255, &id))
		return PRK_CHAP_FAIL;
	if (prk_chap_decode_binary(m->c, chal, sizeof(chal), &len) ||
	    len < PRK_CHAP_PEER_CHALLENGE_MIN)
		return PRK_CHAP_FAIL;
	/* RFC 7143 12.1.3: our own challenge sent back would make us compute
	 * the initiator's answer for it. */
	if (len == PRK_CHAP_CHALLENGE_LEN && memcmp(chal, c->challenge, len) == 0)
		return PRK_CHAP_FAIL;
	prk_chap_md5((uint8_t)id, cr->mutual_secret, chal, len, rsp);
	prk_chap_encode_hex(rsp, sizeof(rsp), hex);
	if (prk_text_buf_add(out, "CHAP_N", cr->mutual_user) ||
	    prk_text_buf_add(out, "CHAP_R", hex))
		return PRK_CHAP_NOMEM;
	return PRK_CHAP_OK;
}

enum prk_chap_result prk_chap_step(struct prk_chap *c, const struct prk_chap_creds *cr,
                                   const struct prk_chap_msg *m,
                                   void (*random)(void *ctx, uint8_t *buf, size_t len), void *ctx,
                                   struct prk_text_buf *out)
{
	bool other = m->i || m->c || m->n || m->r;
	enum prk_chap_result r;

	switch (c->state) {
	case PRK_CHAP_WAIT_A:
		if (!m->a)
			return other ? PRK_CHAP_FAIL : PRK_CHAP_CONTINUE;
		if (other)
			return PRK_CHAP_FAIL;
		if (!list_has_md5(m->a)) {
			if (prk_text_buf_add(out, "CHAP_A", "Reject"))
				return PRK_CHAP_NOMEM;
			return PRK_CHAP_FAIL;
		}
		return send_challenge(c, random, ctx, out);
	case PRK_CHAP_WAIT_R:
		if (m->a || !m->n || !m->r)
			return PRK_CHAP_FAIL;
		/* CHAP_I and CHAP_C come together or not at all. */
		if (!m->i != !m->c)
			return PRK_CHAP_FAIL;
		if (!m->i != !cr->mutual)
			return PRK_CHAP_FAIL;
		if (!verify(c, cr, m))
			return PRK_CHAP_FAIL;
		r = m->i ? answer_mutual(c, cr, m, out) : PRK_CHAP_OK;
		if (r == PRK_CHAP_OK)
			c->state = PRK_CHAP_DONE;
		return r;
	case PRK_CHAP_DONE:
		break;
	}
	return (m->a || other) ? PRK_CHAP_FAIL : PRK_CHAP_OK;
}
