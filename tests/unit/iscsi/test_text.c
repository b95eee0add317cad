/* key=value parsing and building (RFC 7143 6.1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "text.h"

#define T(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_iter(void **state)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	(void)state;
	prk_text_iter_init(&it, T("A=1\0\0B.c-d+e@f_g:h=\0X#y=z\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_PAIR);
	assert_int_equal(kv.key_len, 1);
	assert_true(prk_text_key_is(&kv, "A"));
	assert_string_equal(kv.value, "1");
	assert_int_equal(kv.value_len, 1);
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_PAIR);
	assert_true(prk_text_key_is(&kv, "B.c-d+e@f_g:h"));
	assert_false(prk_text_key_is(&kv, "B"));
	assert_string_equal(kv.value, "");
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_PAIR);
	assert_true(prk_text_key_is(&kv, "X#y"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_END);
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_END);

	prk_text_iter_init(&it, NULL, 0);
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_END);
	/* Value with '=' in it. */
	prk_text_iter_init(&it, T("K=a=b\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_PAIR);
	assert_string_equal(kv.value, "a=b");
}

static void test_iter_bad(void **state)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	(void)state;
	prk_text_iter_init(&it, T("A=1"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_BAD);
	prk_text_iter_init(&it, T("A1\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_BAD);
	prk_text_iter_init(&it, T("=1\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_BAD);
	prk_text_iter_init(&it, T("A B=1\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_BAD);
	prk_text_iter_init(&it, T("A=1\0B\xff=2\0"));
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_PAIR);
	assert_int_equal(prk_text_iter_next(&it, &kv), PRK_TEXT_BAD);
}

static void test_key_limits(void **state)
{
	char key[80];

	(void)state;
	memset(key, 'k', sizeof(key));
	assert_true(prk_text_key_valid(key, 63));
	assert_false(prk_text_key_valid(key, 64));
	assert_false(prk_text_key_valid(key, 0));
	assert_int_equal(prk_text_value_limit("CHAP_C", 6), 8192);
	assert_int_equal(prk_text_value_limit("CHAP_R", 6), 8192);
	assert_int_equal(prk_text_value_limit("CHAP_N", 6), 255);
	assert_int_equal(prk_text_value_limit("TargetName", 10), 255);
}

static uint8_t *pair(const char *key, size_t vlen, size_t *len)
{
	size_t kl = strlen(key);
	uint8_t *b = malloc(kl + 1 + vlen + 1);

	memcpy(b, key, kl);
	b[kl] = '=';
	memset(b + kl + 1, 'v', vlen);
	b[kl + 1 + vlen] = '\0';
	*len = kl + 1 + vlen + 1;
	return b;
}

static void test_check(void **state)
{
	uint8_t *b;
	size_t len;

	(void)state;
	assert_int_equal(prk_text_check(T("A=1\0B=2\0C=3\0")), 3);
	assert_int_equal(prk_text_check(NULL, 0), 0);
	assert_int_equal(prk_text_check(T("A=1\0B=2\0A=3\0")), -1);
	/* Keys differing only in length or case are different keys. */
	assert_int_equal(prk_text_check(T("A=1\0AA=2\0a=3\0")), 3);
	assert_int_equal(prk_text_check(T("A=1\0junk\0")), -1);

	b = pair("TargetAlias", 255, &len);
	assert_int_equal(prk_text_check(b, len), 1);
	free(b);
	b = pair("TargetAlias", 256, &len);
	assert_int_equal(prk_text_check(b, len), -1);
	free(b);
	b = pair("CHAP_C", 8192, &len);
	assert_int_equal(prk_text_check(b, len), 1);
	free(b);
	b = pair("CHAP_C", 8193, &len);
	assert_int_equal(prk_text_check(b, len), -1);
	free(b);
	b = calloc(1, PRK_TEXT_SEGMENT_MAX + 1);
	assert_int_equal(prk_text_check(b, PRK_TEXT_SEGMENT_MAX), 0);
	assert_int_equal(prk_text_check(b, PRK_TEXT_SEGMENT_MAX + 1), -1);
	free(b);
}

static void test_buf(void **state)
{
	struct prk_text_buf b = {0};
	char big[300];

	(void)state;
	assert_int_equal(prk_text_buf_add(&b, "A", "1"), 0);
	assert_int_equal(prk_text_buf_addf(&b, "N", "%u", 42u), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "A=1\0N=42\0", 9);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(prk_text_buf_add(&b, "Key", "Value"), 0);
	assert_int_equal(b.len, 9 + 1000 * 10);
	assert_true(b.cap >= b.len);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(prk_text_buf_addf(&b, "K", "%s", big), -1);
	assert_int_equal(prk_text_buf_add(&b, "K", big), 0);
	prk_text_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	prk_text_buf_free(&b);
}

static void test_parse_u32(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(prk_text_parse_u32("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(prk_text_parse_u32("262144", 16777215, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(prk_text_parse_u32("0x40000", 16777215, &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(prk_text_parse_u32("0XfF", 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(prk_text_parse_u32("007", 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(prk_text_parse_u32("16777216", 16777215, &v), -1);
	assert_int_equal(prk_text_parse_u32("99999999999999999999", 0xffffffffu, &v), -1);
	assert_int_equal(prk_text_parse_u32("4294967295", 0xffffffffu, &v), 0);
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(prk_text_parse_u32("", 10, &v), -1);
	assert_int_equal(prk_text_parse_u32("0x", 10, &v), -1);
	assert_int_equal(prk_text_parse_u32("-1", 10, &v), -1);
	assert_int_equal(prk_text_parse_u32("+1", 10, &v), -1);
	assert_int_equal(prk_text_parse_u32("1 ", 10, &v), -1);
	assert_int_equal(prk_text_parse_u32("0x1g", 100, &v), -1);
	assert_int_equal(prk_text_parse_u32("Yes", 10, &v), -1);
	/* Edges pinned when the parsing moved to the shared base: leading
	 * zeros of any length, in both bases, and a hex value past max or
	 * past 32 bits. */
	assert_int_equal(prk_text_parse_u32("000000000000000000000000000007", 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(prk_text_parse_u32("0x00000000000000000000000000ff", 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(prk_text_parse_u32("0x100", 255, &v), -1);
	assert_int_equal(prk_text_parse_u32("0x1ffffffff", 0xffffffffu, &v), -1);
	assert_int_equal(prk_text_parse_u32("0xffffffffffffffffffff", 0xffffffffu, &v), -1);
	assert_int_equal(prk_text_parse_u32("0x0x1", 100, &v), -1);
	assert_int_equal(prk_text_parse_u32("x1", 100, &v), -1);
	/* A refused value leaves *out alone. */
	v = 42;
	assert_int_equal(prk_text_parse_u32("11", 10, &v), -1);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iter),       cmocka_unit_test(test_iter_bad),
	    cmocka_unit_test(test_key_limits), cmocka_unit_test(test_check),
	    cmocka_unit_test(test_buf),        cmocka_unit_test(test_parse_u32),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
