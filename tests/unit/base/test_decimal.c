/* The strict decimal parser: accepted forms, the bound, overflow of 64
 * bits, and everything it must refuse (empty, sign, blanks, junk). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decimal.h"

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aull

static void accepts_digits(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(prk_parse_dec("0", 10, &v));
	assert_true(v == 0);
	assert_true(prk_parse_dec("007", 10, &v)); /* leading zeros */
	assert_true(v == 7);
	assert_true(prk_parse_dec("65535", 65535, &v));
	assert_true(v == 65535);
	assert_true(prk_parse_dec("18446744073709551615", UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
}

static void refuses_above_max(void **state)
{
	uint64_t v = UNTOUCHED;

	(void)state;
	assert_false(prk_parse_dec("65536", 65535, &v));
	assert_false(prk_parse_dec("1", 0, &v));
	assert_false(prk_parse_dec("4294967296", UINT32_MAX, &v));
	assert_true(v == UNTOUCHED);
	assert_true(prk_parse_dec("0", 0, &v));
	assert_true(v == 0);
}

/* Values past 64 bits must be refused, not wrapped below max. */
static void refuses_overflow(void **state)
{
	uint64_t v = UNTOUCHED;

	(void)state;
	assert_false(prk_parse_dec("18446744073709551616", UINT64_MAX, &v));
	assert_false(prk_parse_dec("18446744073709551620", UINT64_MAX, &v));
	assert_false(prk_parse_dec("99999999999999999999", UINT64_MAX, &v));
	/* 2^64 + 5 wraps to 5 in 64-bit arithmetic: still refused. */
	assert_false(prk_parse_dec("18446744073709551621", 10, &v));
	assert_false(
	    prk_parse_dec("000000000000000000000000018446744073709551616", UINT64_MAX, &v));
	assert_true(v == UNTOUCHED);
}

static void refuses_empty_sign_blanks_junk(void **state)
{
	static const char *const bad[] = {"",     "-1",  "+1",  " 1", "1 ", "1x",
	                                  "0x10", "1.0", "1e3", "\t", "１"};
	uint64_t v = UNTOUCHED;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prk_parse_dec(bad[i], UINT64_MAX, &v))
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_true(v == UNTOUCHED);
}

/* The length form stops at n: what follows is not looked at, and a NUL
 * inside the span is junk. */
static void span_form(void **state)
{
	uint64_t v = UNTOUCHED;

	(void)state;
	assert_true(prk_parse_dec_n("3260/iqn", 4, 65535, &v));
	assert_true(v == 3260);
	assert_false(prk_parse_dec_n("3260", 0, 65535, &v));
	assert_false(prk_parse_dec_n("32\0"
	                             "0",
	                             4, 65535, &v));
	assert_true(prk_parse_dec_n("12345", 2, 65535, &v));
	assert_true(v == 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(accepts_digits),   cmocka_unit_test(refuses_above_max),
	    cmocka_unit_test(refuses_overflow), cmocka_unit_test(refuses_empty_sign_blanks_junk),
	    cmocka_unit_test(span_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
