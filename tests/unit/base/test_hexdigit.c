/* Hex digits and hex spans: every character's value, the bound, 64-bit
 * overflow and what a span must refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hexdigit.h"

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aull

static void digit_values(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		const char *all = "0123456789abcdef", *up = "0123456789ABCDEF";
		const char *lo = c ? strchr(all, c) : NULL, *hi = c ? strchr(up, c) : NULL;
		int want = lo ? (int)(lo - all) : hi ? (int)(hi - up) : -1;

		assert_int_equal(prk_hex_digit(c), want);
	}
	assert_int_equal(prk_hex_digit(-1), -1);
}

static void spans(void **state)
{
	uint64_t v = UNTOUCHED;

	(void)state;
	assert_true(prk_parse_hex_n("00aBcD", 6, UINT64_MAX, &v));
	assert_true(v == 0xabcd);
	assert_true(prk_parse_hex_n("ffffffffffffffff", 16, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	/* Leading zeros beyond 16 digits still fit. */
	assert_true(prk_parse_hex_n("00000000000000000001", 20, UINT64_MAX, &v));
	assert_true(v == 1);
	/* Only the span is read. */
	assert_true(prk_parse_hex_n("12zz", 2, UINT64_MAX, &v));
	assert_true(v == 0x12);
	assert_true(prk_parse_hex_n("ff", 2, 0xff, &v));
	assert_true(v == 0xff);
}

static void refusals(void **state)
{
	static const char *const bad[] = {"", "0x1", "-1", " 1", "1 ", "g", "1.0"};
	uint64_t v = UNTOUCHED;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (prk_parse_hex_n(bad[i], strlen(bad[i]), UINT64_MAX, &v))
			fail_msg("accepted '%s'", bad[i]);
	assert_false(prk_parse_hex_n("100", 3, 0xff, &v));
	/* 17 significant digits: past 64 bits, not wrapped. */
	assert_false(prk_parse_hex_n("10000000000000000", 17, UINT64_MAX, &v));
	assert_false(prk_parse_hex_n("1ffffffffffffffff", 17, UINT64_MAX, &v));
	assert_false(prk_parse_hex_n("1\0"
	                             "2",
	                             3, UINT64_MAX, &v));
	assert_true(v == UNTOUCHED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(digit_values),
	    cmocka_unit_test(spans),
	    cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
