/* prk_cdb_data_out_len: the data-out length comes from the CDB (and the
 * block size), whatever the initiator expects to transfer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "prkit/scsi_xfer.h"

static uint64_t len_of(const uint8_t *cdb, size_t n, uint32_t bs)
{
	uint64_t out = 12345;
	assert_int_equal(prk_cdb_data_out_len(cdb, n, bs, &out), PRK_XFER_KNOWN);
	return out;
}

static void test_writes_count_blocks(void **state)
{
	(void)state;
	uint8_t w6[6] = {0x0a, 0, 0, 0, 0, 0};
	assert_int_equal(len_of(w6, 6, 512), 256 * 512); /* 0 means 256 */
	w6[4] = 3;
	assert_int_equal(len_of(w6, 6, 4096), 3 * 4096);
	uint8_t w10[10] = {0x2a, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0};
	assert_int_equal(len_of(w10, 10, 512), 0x102 * 512);
	uint8_t w12[12] = {0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0};
	assert_int_equal(len_of(w12, 12, 512), 9 * 512);
	uint8_t w16[16] = {0x8a};
	w16[10] = 0xff;
	w16[11] = 0xff;
	w16[12] = 0xff;
	w16[13] = 0xff;
	/* 2^32 - 1 blocks of 4 KiB: more than 32 bits of bytes. */
	assert_true(len_of(w16, 16, 4096) == (uint64_t)0xffffffffu * 4096);
	uint8_t caw[16] = {0x89};
	caw[13] = 2;
	assert_int_equal(len_of(caw, 16, 512), 2 * 2 * 512);
	uint8_t atomic[16] = {0x9c};
	atomic[13] = 4;
	assert_int_equal(len_of(atomic, 16, 512), 4 * 512);
}

static void test_write_same_and_verify(void **state)
{
	(void)state;
	uint8_t ws10[10] = {0x41, 0, 0, 0, 0, 0, 0, 0, 100, 0};
	assert_int_equal(len_of(ws10, 10, 512), 512); /* one block, whatever the range */
	uint8_t ws16[16] = {0x93};
	assert_int_equal(len_of(ws16, 16, 4096), 4096);
	ws16[1] = 1; /* NDOB */
	assert_int_equal(len_of(ws16, 16, 4096), 0);
	uint8_t v10[10] = {0x2f, 0, 0, 0, 0, 0, 0, 0, 8, 0};
	assert_int_equal(len_of(v10, 10, 512), 0); /* BYTCHK 00b: no data */
	v10[1] = 0x02;                             /* BYTCHK 01b */
	assert_int_equal(len_of(v10, 10, 512), 8 * 512);
	v10[1] = 0x06; /* BYTCHK 11b: one block */
	assert_int_equal(len_of(v10, 10, 512), 512);
}

static void test_parameter_lists_count_bytes(void **state)
{
	(void)state;
	uint8_t prout[10] = {0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	assert_int_equal(len_of(prout, 10, 512), 24);
	prout[5] = 0xff; /* 32-bit PARAMETER LIST LENGTH */
	assert_true(len_of(prout, 10, 512) == 0xff000018u);
	uint8_t ms6[6] = {0x15, 0x10, 0, 0, 28, 0};
	assert_int_equal(len_of(ms6, 6, 512), 28);
	uint8_t unmap[10] = {0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	assert_int_equal(len_of(unmap, 10, 4096), 24);
	uint8_t wb[10] = {0x3b, 0x02, 0, 0, 0, 0, 0x01, 0, 0, 0};
	assert_int_equal(len_of(wb, 10, 512), 65536);
	uint8_t spout[12] = {0xb5, 0, 0, 0, 0x80, 0, 0, 0, 0, 2, 0, 0};
	assert_int_equal(len_of(spout, 12, 512), 2 * 512); /* INC_512 */
}

static void test_reads_send_nothing(void **state)
{
	(void)state;
	static const uint8_t ops[] = {0x00, 0x03, 0x08, 0x12, 0x1a, 0x25, 0x28, 0x35,
	                              0x5a, 0x5e, 0x88, 0x9e, 0xa0, 0xa3, 0xa8};
	for (size_t i = 0; i < sizeof(ops); i++) {
		uint8_t cdb[16] = {ops[i], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                   0xff,   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		assert_int_equal(len_of(cdb, 16, 512), 0);
	}
}

static void test_unknown_and_short(void **state)
{
	(void)state;
	uint64_t out = 1;
	uint8_t vendor[16] = {0xc0};
	assert_int_equal(prk_cdb_data_out_len(vendor, 16, 512, &out), PRK_XFER_UNKNOWN);
	assert_int_equal(out, 0);
	uint8_t fmt[6] = {0x04, 0x10};
	assert_int_equal(prk_cdb_data_out_len(fmt, 6, 512, &out), PRK_XFER_UNKNOWN);
	/* A 16-byte opcode in 10 bytes: its length field is not there. */
	uint8_t w16[10] = {0x8a};
	assert_int_equal(prk_cdb_data_out_len(w16, 10, 512, &out), PRK_XFER_UNKNOWN);
	/* Variable-length CDBs need their 32 bytes. */
	uint8_t v[16] = {0x7f, 0, 0, 0, 0, 0, 0, 0x18, 0x00, 0x0b};
	assert_int_equal(prk_cdb_data_out_len(v, 16, 512, &out), PRK_XFER_UNKNOWN);
	uint8_t w32[32] = {0x7f, 0, 0, 0, 0, 0, 0, 0x18, 0x00, 0x0b};
	w32[31] = 4;
	assert_int_equal(len_of(w32, 32, 512), 4 * 512);
	assert_int_equal(prk_cdb_data_out_len(w32, 0, 512, &out), PRK_XFER_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writes_count_blocks),
	    cmocka_unit_test(test_write_same_and_verify),
	    cmocka_unit_test(test_parameter_lists_count_bytes),
	    cmocka_unit_test(test_reads_send_nothing),
	    cmocka_unit_test(test_unknown_and_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
