/* CRC32C: the constant table against the bit-wise definition, the standard
 * check value, the iSCSI test vectors of RFC 3720 appendix B.4, and
 * continuation across calls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/crc32c.h"

static const char check_input[] = "123456789";
#define CHECK_VALUE 0xE3069283u

/* The bit-wise definition: the reflected polynomial shifted through one
 * bit at a time, no table. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
	}
	return ~c;
}

/* One byte through the table-driven code reads exactly table entry
 * (0xff ^ b): comparing all 256 single bytes with the bit-wise definition
 * checks every entry of the constant table. */
static void test_table_matches_definition(void **state)
{
	(void)state;
	for (int i = 0; i < 256; i++) {
		uint8_t b = (uint8_t)i;

		assert_int_equal(prk_crc32c(0, &b, 1), crc32c_bitwise(&b, 1));
	}
	/* And a longer buffer that walks every entry many times. */
	uint8_t buf[4096];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	assert_int_equal(prk_crc32c(0, buf, sizeof(buf)), crc32c_bitwise(buf, sizeof(buf)));
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(prk_crc32c(0, check_input, 9), CHECK_VALUE);
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(prk_crc32c(0, "", 0), 0);
	/* An empty continuation leaves a CRC unchanged. */
	assert_int_equal(prk_crc32c(CHECK_VALUE, "", 0), CHECK_VALUE);
}

static void test_rfc3720_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(prk_crc32c(0, buf, sizeof(buf)), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(prk_crc32c(0, buf, sizeof(buf)), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(prk_crc32c(0, buf, sizeof(buf)), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(prk_crc32c(0, buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_single_bytes_differ(void **state)
{
	(void)state;
	/* Every single byte value gives a distinct CRC (a table error in any
	 * entry would very likely collide or break this). */
	uint32_t seen[256];

	for (int i = 0; i < 256; i++) {
		uint8_t b = (uint8_t)i;

		seen[i] = prk_crc32c(0, &b, 1);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[i], seen[j]);
	}
}

static void test_incremental(void **state)
{
	uint8_t buf[300];
	uint32_t whole;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = prk_crc32c(0, buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split++) {
		uint32_t c = prk_crc32c(0, buf, split);

		c = prk_crc32c(c, buf + split, sizeof(buf) - split);
		assert_int_equal(c, whole);
	}
	/* Three pieces, and byte by byte. */
	uint32_t c = prk_crc32c(0, check_input, 2);
	c = prk_crc32c(c, check_input + 2, 5);
	c = prk_crc32c(c, check_input + 7, 2);
	assert_int_equal(c, CHECK_VALUE);
	c = 0;
	for (int i = 0; i < 9; i++)
		c = prk_crc32c(c, check_input + i, 1);
	assert_int_equal(c, CHECK_VALUE);
}

static void test_detects_change(void **state)
{
	char buf[] = "123456789";

	(void)state;
	buf[4] ^= 0x01;
	assert_int_not_equal(prk_crc32c(0, buf, 9), CHECK_VALUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_matches_definition),
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_rfc3720_vectors),
	    cmocka_unit_test(test_single_bytes_differ),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_detects_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
