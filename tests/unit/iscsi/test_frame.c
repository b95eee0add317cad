/* prk_iscsi_frame: where a PDU at the head of received bytes ends, each
 * stage of an incomplete one, the limits and the header digest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "frame.h"
#include "prkit/crc32c.h"

static const struct prk_iscsi_frame_rules ffp = {.max_dlen = 262144};
static const struct prk_iscsi_frame_rules ffp_digests = {
    .max_dlen = 262144, .header_digest = true, .data_digest = true};
static const struct prk_iscsi_frame_rules login = {.login = true, .max_dlen = 65536};

/* A NOP-Out header with ahs_words of AHS and a dlen-byte data segment. */
static void nop(uint8_t *p, uint8_t ahs_words, uint32_t dlen)
{
	memset(p, 0, 48 + ahs_words * 4);
	p[0] = 0x40; /* immediate NOP-Out */
	p[1] = 0x80;
	p[4] = ahs_words;
	p[5] = (uint8_t)(dlen >> 16);
	p[6] = (uint8_t)(dlen >> 8);
	p[7] = (uint8_t)dlen;
}

static void put_digest(uint8_t *p, size_t n)
{
	uint32_t d = prk_crc32c(0, p, n);
	memcpy(p + n, &d, 4);
}

static void test_stages_without_digests(void **state)
{
	(void)state;
	uint8_t buf[48 + 8 + 8] = {0};
	struct prk_iscsi_frame f;
	nop(buf, 2, 5); /* 8 bytes of AHS, 5 of data + 3 of padding */
	assert_int_equal(prk_iscsi_frame(buf, 47, &ffp, &f), PRK_FRAME_NEED_BHS);
	assert_int_equal(prk_iscsi_frame(buf, 48, &ffp, &f), PRK_FRAME_NEED_HEADER);
	assert_int_equal(f.hdr, 56);
	assert_int_equal(f.dlen, 5);
	assert_int_equal(f.total, 64);
	assert_int_equal(prk_iscsi_frame(buf, 55, &ffp, &f), PRK_FRAME_NEED_HEADER);
	assert_int_equal(prk_iscsi_frame(buf, 56, &ffp, &f), PRK_FRAME_NEED_DATA);
	assert_int_equal(prk_iscsi_frame(buf, 63, &ffp, &f), PRK_FRAME_NEED_DATA);
	assert_int_equal(prk_iscsi_frame(buf, 64, &ffp, &f), PRK_FRAME_COMPLETE);
	/* No data: the BHS is the PDU. */
	nop(buf, 0, 0);
	assert_int_equal(prk_iscsi_frame(buf, 48, &ffp, &f), PRK_FRAME_COMPLETE);
	assert_int_equal(f.total, 48);
}

static void test_digests_and_header_digest_check(void **state)
{
	(void)state;
	uint8_t buf[48 + 4 + 4 + 4 + 4] = {0};
	struct prk_iscsi_frame f;
	nop(buf, 1, 4);
	put_digest(buf, 52); /* over BHS and AHS */
	assert_int_equal(prk_iscsi_frame(buf, 55, &ffp_digests, &f), PRK_FRAME_NEED_HEADER);
	assert_int_equal(f.hdr, 56);
	assert_int_equal(f.total, 64); /* + 4 data + data digest */
	assert_int_equal(prk_iscsi_frame(buf, 56, &ffp_digests, &f), PRK_FRAME_NEED_DATA);
	assert_int_equal(prk_iscsi_frame(buf, 64, &ffp_digests, &f), PRK_FRAME_COMPLETE);
	buf[50] ^= 1; /* the AHS is covered too */
	assert_int_equal(prk_iscsi_frame(buf, 64, &ffp_digests, &f), PRK_FRAME_HEADER_DIGEST);
	/* No data digest without data. */
	nop(buf, 0, 0);
	put_digest(buf, 48);
	assert_int_equal(prk_iscsi_frame(buf, 52, &ffp_digests, &f), PRK_FRAME_COMPLETE);
	assert_int_equal(f.total, 52);
}

static void test_limits(void **state)
{
	(void)state;
	uint8_t buf[48];
	struct prk_iscsi_frame f;
	nop(buf, 0, 262144);
	assert_int_equal(prk_iscsi_frame(buf, 48, &ffp, &f), PRK_FRAME_NEED_DATA);
	nop(buf, 0, 262145);
	assert_int_equal(prk_iscsi_frame(buf, 48, &ffp, &f), PRK_FRAME_TOO_LONG);
	assert_int_equal(f.dlen, 262145);
	buf[0] = 0x43;                      /* Login Request */
	buf[5] = 1, buf[6] = 0, buf[7] = 0; /* 65536 */
	assert_int_equal(prk_iscsi_frame(buf, 48, &login, &f), PRK_FRAME_NEED_DATA);
	buf[7] = 1;
	assert_int_equal(prk_iscsi_frame(buf, 48, &login, &f), PRK_FRAME_TOO_LONG);
}

static void test_undecodable_bhs(void **state)
{
	(void)state;
	uint8_t buf[48];
	struct prk_iscsi_frame f;
	nop(buf, 0, 0);
	buf[0] = 0x3e; /* no initiator opcode */
	assert_int_equal(prk_iscsi_frame(buf, 48, &login, &f), PRK_FRAME_BAD_BHS);
	/* In full feature phase it is framed: its handler rejects it. */
	assert_int_equal(prk_iscsi_frame(buf, 48, &ffp, &f), PRK_FRAME_COMPLETE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stages_without_digests),
	    cmocka_unit_test(test_digests_and_header_digest_check),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_undecodable_bhs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
