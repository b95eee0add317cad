/* The error formatter: returns -1, formats, truncates to the buffer with a
 * terminating NUL, and accepts no buffer at all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "errfmt.h"

static void formats_and_returns_minus_one(void **state)
{
	char e[64];

	(void)state;
	assert_int_equal(prk_errf(e, sizeof(e), "port '%s' is %d", "x", 7), -1);
	assert_string_equal(e, "port 'x' is 7");
}

static void truncates_with_a_nul(void **state)
{
	char e[8];

	(void)state;
	memset(e, 'z', sizeof(e));
	assert_int_equal(prk_errf(e, 5, "%s", "abcdefgh"), -1);
	assert_string_equal(e, "abcd");
	/* Nothing past the given capacity is written. */
	assert_int_equal(e[5], 'z');
	assert_int_equal(e[7], 'z');
	assert_int_equal(prk_errf(e, 1, "%s", "abc"), -1);
	assert_string_equal(e, "");
}

static void no_buffer_is_fine(void **state)
{
	char e[4] = "abc";

	(void)state;
	assert_int_equal(prk_errf(NULL, 0, "%s", "ignored"), -1);
	assert_int_equal(prk_errf(NULL, 100, "%s", "ignored"), -1);
	/* Capacity 0: the buffer is not touched. */
	assert_int_equal(prk_errf(e, 0, "%s", "x"), -1);
	assert_string_equal(e, "abc");
}

static int wrapper(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prk_verrf(err, cap, fmt, ap);
	va_end(ap);
	return 42;
}

static void va_list_form(void **state)
{
	char e[16];

	(void)state;
	assert_int_equal(wrapper(e, sizeof(e), "%u-%u", 1u, 2u), 42);
	assert_string_equal(e, "1-2");
	assert_int_equal(wrapper(e, 3, "%s", "longer"), 42);
	assert_string_equal(e, "lo");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(formats_and_returns_minus_one),
	    cmocka_unit_test(truncates_with_a_nul),
	    cmocka_unit_test(no_buffer_is_fine),
	    cmocka_unit_test(va_list_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
