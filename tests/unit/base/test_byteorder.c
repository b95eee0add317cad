/* Byte-order loads and stores (big- and little-endian): known byte patterns, round trips at every
 * alignment, and stores that touch only their own bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "byteorder.h"

static const uint8_t pattern[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static void loads_are_big_endian(void **state)
{
	(void)state;
	assert_int_equal(prk_get_be16(pattern), 0x0123);
	assert_int_equal(prk_get_be24(pattern), 0x012345);
	assert_int_equal(prk_get_be32(pattern), 0x01234567u);
	assert_true(prk_get_be64(pattern) == 0x0123456789abcdefull);
	/* The top bit must not sign-extend through int promotion. */
	assert_int_equal(prk_get_be16(pattern + 4), 0x89ab);
	assert_int_equal(prk_get_be24(pattern + 4), 0x89abcd);
	assert_int_equal(prk_get_be32(pattern + 4), 0x89abcdefu);
}

static void stores_are_big_endian(void **state)
{
	uint8_t b[8];

	(void)state;
	memset(b, 0, sizeof(b));
	prk_put_be64(b, 0x0123456789abcdefull);
	assert_memory_equal(b, pattern, 8);
	memset(b, 0, sizeof(b));
	prk_put_be32(b, 0x01234567u);
	assert_memory_equal(b, pattern, 4);
	memset(b, 0, sizeof(b));
	prk_put_be24(b, 0x012345);
	assert_memory_equal(b, pattern, 3);
	memset(b, 0, sizeof(b));
	prk_put_be16(b, 0x0123);
	assert_memory_equal(b, pattern, 2);
}

/* Stores write exactly their width (a 24-bit store drops the top byte of
 * its argument and leaves its neighbours alone). */
static void stores_touch_only_their_bytes(void **state)
{
	uint8_t b[10];

	(void)state;
	memset(b, 0x5a, sizeof(b));
	prk_put_be24(b + 1, 0xff123456u);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(b[1], 0x12);
	assert_int_equal(b[3], 0x56);
	assert_int_equal(b[4], 0x5a);
	memset(b, 0x5a, sizeof(b));
	prk_put_be64(b + 1, 0);
	assert_int_equal(b[0], 0x5a);
	assert_int_equal(b[9], 0x5a);
	for (int i = 1; i < 9; i++)
		assert_int_equal(b[i], 0);
}

static void little_endian_is_reversed(void **state)
{
	uint8_t b[8];

	(void)state;
	assert_int_equal(prk_get_le16(pattern), 0x2301);
	assert_int_equal(prk_get_le32(pattern), 0x67452301u);
	assert_true(prk_get_le64(pattern) == 0xefcdab8967452301ull);
	assert_int_equal(prk_get_le16(pattern + 4), 0xab89);
	memset(b, 0, sizeof(b));
	prk_put_le64(b, 0xefcdab8967452301ull);
	assert_memory_equal(b, pattern, 8);
	memset(b, 0, sizeof(b));
	prk_put_le32(b, 0x67452301u);
	assert_memory_equal(b, pattern, 4);
	memset(b, 0, sizeof(b));
	prk_put_le16(b, 0x2301);
	assert_memory_equal(b, pattern, 2);
}

/* Round trips at every offset of an unaligned buffer, over values that set
 * each bit position in turn. */
static void round_trips_unaligned(void **state)
{
	uint8_t buf[16];

	(void)state;
	for (size_t off = 0; off < 8; off++) {
		for (int bit = 0; bit < 64; bit++) {
			uint64_t v = (1ull << bit) | 0x8000000000000001ull;

			prk_put_be64(buf + off, v);
			assert_true(prk_get_be64(buf + off) == v);
			prk_put_be32(buf + off, (uint32_t)v);
			assert_int_equal(prk_get_be32(buf + off), (uint32_t)v);
			prk_put_be24(buf + off, (uint32_t)v & 0xffffff);
			assert_int_equal(prk_get_be24(buf + off), (uint32_t)v & 0xffffff);
			prk_put_be16(buf + off, (uint16_t)v);
			assert_int_equal(prk_get_be16(buf + off), (uint16_t)v);
			prk_put_le64(buf + off, v);
			assert_true(prk_get_le64(buf + off) == v);
			prk_put_le32(buf + off, (uint32_t)v);
			assert_int_equal(prk_get_le32(buf + off), (uint32_t)v);
			prk_put_le16(buf + off, (uint16_t)v);
			assert_int_equal(prk_get_le16(buf + off), (uint16_t)v);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(loads_are_big_endian),
	    cmocka_unit_test(stores_are_big_endian),
	    cmocka_unit_test(stores_touch_only_their_bytes),
	    cmocka_unit_test(little_endian_is_reversed),
	    cmocka_unit_test(round_trips_unaligned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
