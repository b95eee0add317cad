/* key=value text parsing and building (RFC 7143 6.1). */
#include "text.h"
#include "decimal.h"
#include "hexdigit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prk_text_iter_init(struct prk_text_iter *it, const uint8_t *data, size_t len)
{
	it->p = (const char *)data;
	it->len = data ? len : 0;
	it->pos = 0;
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_' || c == ':' ||
	       c == '#'; /* X#<IANA name> extension keys (RFC 7143 13.5.2) */
}

bool prk_text_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > PRK_TEXT_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!key_char(key[i]))
			return false;
	return true;
}

bool prk_text_key_is(const struct prk_text_kv *kv, const char *name)
{
	size_t n = strlen(name);

	return kv->key_len == n && memcmp(kv->key, name, n) == 0;
}

size_t prk_text_value_limit(const char *key, size_t key_len)
{
	/* Binary CHAP values are large-binary-values (RFC 7143 12.1.3). */
	if ((key_len == 6 && (memcmp(key, "CHAP_C", 6) == 0 || memcmp(key, "CHAP_R", 6) == 0)))
		return PRK_TEXT_LONG_VALUE_MAX;
	return PRK_TEXT_VALUE_MAX;
}

enum prk_text_next prk_text_iter_next(struct prk_text_iter *it, struct prk_text_kv *kv)
{
	const char *s, *nul, *eq;
	size_t rest;

	/* Skip empty strings. */
	while (it->pos < it->len && it->p[it->pos] == '\0')
		it->pos++;
	if (it->pos >= it->len)
		return PRK_TEXT_END;
	s = it->p + it->pos;
	rest = it->len - it->pos;
	nul = memchr(s, '\0', rest);
	if (!nul)
		return PRK_TEXT_BAD;
	eq = memchr(s, '=', (size_t)(nul - s));
	if (!eq)
		return PRK_TEXT_BAD;
	kv->key = s;
	kv->key_len = (size_t)(eq - s);
	kv->value = eq + 1;
	kv->value_len = (size_t)(nul - kv->value);
	if (!prk_text_key_valid(kv->key, kv->key_len) || kv->value_len > PRK_TEXT_LONG_VALUE_MAX)
		return PRK_TEXT_BAD;
	it->pos += (size_t)(nul - s) + 1;
	return PRK_TEXT_PAIR;
}

static int key_cmp(const void *a, const void *b)
{
	const struct prk_text_kv *x = a, *y = b;

	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

int prk_text_check(const uint8_t *data, size_t len)
{
	struct prk_text_iter it;
	struct prk_text_kv kv, *all;
	enum prk_text_next r;
	size_t n = 0, count = 0;
	int ret = -1;

	if (len > PRK_TEXT_SEGMENT_MAX)
		return -1;
	prk_text_iter_init(&it, data, len);
	while ((r = prk_text_iter_next(&it, &kv)) == PRK_TEXT_PAIR) {
		if (kv.value_len > prk_text_value_limit(kv.key, kv.key_len))
			return -1;
		count++;
	}
	if (r != PRK_TEXT_END)
		return -1;
	if (count == 0)
		return 0;
	/* Sorting the keys finds duplicates in O(n log n) however many pairs an
	 * initiator packs into 64 KiB. */
	all = malloc(sizeof(*all) * count);
	if (!all)
		return -1;
	prk_text_iter_init(&it, data, len);
	while (n < count && prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR)
		all[n++] = kv;
	qsort(all, n, sizeof(*all), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (key_cmp(&all[i - 1], &all[i]) == 0)
			goto out;
	ret = (int)n;
out:
	free(all);
	return ret;
}

int prk_text_buf_addn(struct prk_text_buf *b, const void *data, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

int prk_text_buf_add(struct prk_text_buf *b, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value), old = b->len;

	if (prk_text_buf_addn(b, key, kl) || prk_text_buf_addn(b, "=", 1) ||
	    prk_text_buf_addn(b, value, vl + 1)) {
		b->len = old;
		return -1;
	}
	return 0;
}

int prk_text_buf_addf(struct prk_text_buf *b, const char *key, const char *fmt, ...)
{
	char v[PRK_TEXT_VALUE_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v))
		return -1;
	return prk_text_buf_add(b, key, v);
}

void prk_text_buf_free(struct prk_text_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int prk_text_parse_u32(const char *value, uint32_t max, uint32_t *out)
{
	uint64_t v;
	bool ok;

	/* RFC 7143 6.1 numerical values are decimal or hex (0x); base64 numbers
	 * are allowed by the grammar but no initiator sends them. A bare "0x"
	 * and an empty value are refused (the parsers reject empty spans). */
	if (value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))
		ok = prk_parse_hex_n(value + 2, strlen(value + 2), max, &v);
	else
		ok = prk_parse_dec(value, max, &v);
	if (!ok)
		return -1;
	*out = (uint32_t)v;
	return 0;
}
