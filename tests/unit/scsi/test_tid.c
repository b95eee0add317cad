/* iSCSI TransportIDs: names, encoding with exact bytes, every decode error
 * with its field pointer, and the comparisons. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_tid.h"

#include "scsi_test_util.h"

#define BASE 100

/* Raw TransportID: byte 0, ADDITIONAL LENGTH = addl, the string (without its
 * NUL) and zeros up to 4 + addl. Returns 4 + addl. */
static size_t raw_tid(uint8_t *buf, uint8_t b0, const char *str, size_t addl)
{
	size_t n = strlen(str);

	memset(buf, 0, 4 + addl);
	buf[0] = b0;
	buf[2] = (uint8_t)(addl >> 8);
	buf[3] = (uint8_t)addl;
	memcpy(buf + 4, str, n < addl ? n : addl);
	return 4 + addl;
}

static void name_of_len(char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('a' + i % 26);
	out[n] = '\0';
}

static int decode(const uint8_t *buf, size_t avail, struct prk_tid *t, size_t *used,
                  struct prk_field_err *e)
{
	memset(e, 0, sizeof(*e));
	return prk_tid_decode(buf, avail, BASE, t, used, e);
}

static void test_name_valid(void **state)
{
	char name[300];

	(void)state;
	assert_true(prk_iscsi_name_valid("iqn.2001-04.com.example:storage.disk2.sys1.xyz"));
	assert_true(prk_iscsi_name_valid("eui.02004567A425678D"));
	assert_true(prk_iscsi_name_valid("x"));
	assert_true(prk_iscsi_name_valid("!~"));
	assert_false(prk_iscsi_name_valid(""));
	assert_false(prk_iscsi_name_valid("iqn.a b"));
	assert_false(prk_iscsi_name_valid("iqn.a,b"));
	assert_false(prk_iscsi_name_valid("iqn.a\tb"));
	assert_false(prk_iscsi_name_valid("iqn.a\x7f"));
	assert_false(prk_iscsi_name_valid("iqn.\x80"));
	name_of_len(name, 223);
	assert_true(prk_iscsi_name_valid(name));
	name_of_len(name, 224);
	assert_false(prk_iscsi_name_valid(name));
	name_of_len(name, 299);
	assert_false(prk_iscsi_name_valid(name));
}

static void test_encode_device_bytes(void **state)
{
	static const uint8_t want[24] = {0x05, 0, 0, 20, 'i', 'q', 'n', '.', 'a'};
	struct prk_tid t;
	uint8_t buf[25];

	(void)state;
	make_tid(&t, PRK_TID_FMT_DEVICE, "iqn.a", 0x123);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_tid_encoded_len(&t), 24);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 24);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[24], GUARD);
}

static void test_encode_port_bytes(void **state)
{
	/* "iqn.a,i,0x00123456789a" is 22 bytes; NUL and padding make 24. */
	static const uint8_t want[28] = {0x45, 0,   0,   24,  'i', 'q', 'n', '.', 'a', ',',
	                                 'i',  ',', '0', 'x', '0', '0', '1', '2', '3', '4',
	                                 '5',  '6', '7', '8', '9', 'a', 0,   0};
	struct prk_tid t;
	uint8_t buf[29];

	(void)state;
	make_tid(&t, PRK_TID_FMT_PORT, "iqn.a", 0x00123456789aULL);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_tid_encoded_len(&t), 28);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 28);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[28], GUARD);
	/* ISID bits above 48 are not part of it. */
	t.isid |= 0xffff000000000000ULL;
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 28);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_encode_lengths(void **state)
{
	char name[PRK_ISCSI_NAME_MAX + 1];
	struct prk_tid t;
	uint8_t buf[PRK_TID_MAX_LEN];

	(void)state;
	/* Name length -> device length, port length. */
	static const size_t cases[][3] = {
	    {1, 24, 24},  {6, 24, 28},  {19, 24, 44}, {20, 28, 44},
	    {22, 28, 44}, {23, 28, 48}, {24, 32, 48}, {223, 228, 248},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name_of_len(name, cases[i][0]);
		make_tid(&t, PRK_TID_FMT_DEVICE, name, 0);
		assert_int_equal(prk_tid_encoded_len(&t), cases[i][1]);
		assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), cases[i][1]);
		assert_int_equal(buf[3] + 4, cases[i][1]);
		t.format = PRK_TID_FMT_PORT;
		assert_int_equal(prk_tid_encoded_len(&t), cases[i][2]);
		assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), cases[i][2]);
		assert_int_equal(buf[3] + 4, cases[i][2]);
	}
	assert_int_equal(PRK_TID_MAX_LEN, 248);
}

static void test_encode_invalid(void **state)
{
	struct prk_tid t;
	uint8_t buf[32];

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	make_tid(&t, PRK_TID_FMT_DEVICE, "", 0);
	assert_int_equal(prk_tid_encoded_len(&t), 0);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 0);
	make_tid(&t, PRK_TID_FMT_PORT, "iqn.a,b", 0);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 0);
	make_tid(&t, PRK_TID_FMT_DEVICE, "iqn a", 0);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 0);
	make_tid(&t, 2, "iqn.a", 0);
	assert_int_equal(prk_tid_encoded_len(&t), 0);
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 0);
	/* A name filling the array without a terminator. */
	memset(t.name, 'a', sizeof(t.name));
	t.format = PRK_TID_FMT_DEVICE;
	assert_int_equal(prk_tid_encode(&t, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], GUARD);
}

static void test_encode_truncated(void **state)
{
	struct prk_tid t;
	uint8_t full[48];
	uint8_t buf[48];

	(void)state;
	make_tid(&t, PRK_TID_FMT_PORT, "iqn.2024-01.org.example:h1", 0xabc);
	assert_int_equal(prk_tid_encode(&t, full, sizeof(full)), 48);
	for (size_t cap = 0; cap < 48; cap += 5) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(prk_tid_encode(&t, buf, cap), 48);
		assert_memory_equal(buf, full, cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], GUARD);
	}
}

static void round_trip(uint8_t fmt, const char *name, uint64_t isid)
{
	struct prk_tid t, got;
	struct prk_field_err e;
	uint8_t buf[PRK_TID_MAX_LEN];
	size_t len, used = 0;

	make_tid(&t, fmt, name, isid);
	len = prk_tid_encode(&t, buf, sizeof(buf));
	assert_true(len >= PRK_TID_MIN_LEN);
	assert_int_equal(len % 4, 0);
	assert_int_equal(decode(buf, len, &got, &used, &e), 0);
	assert_int_equal(used, len);
	assert_int_equal(got.format, fmt);
	assert_string_equal(got.name, name);
	assert_int_equal(got.isid, fmt == PRK_TID_FMT_PORT ? isid : 0);
	/* Extra bytes after it are not consumed. */
	assert_int_equal(decode(buf, sizeof(buf), &got, &used, &e), 0);
	assert_int_equal(used, len);
}

static void test_round_trips(void **state)
{
	char name[PRK_ISCSI_NAME_MAX + 1];

	(void)state;
	round_trip(PRK_TID_FMT_DEVICE, "iqn.1994-05.com.redhat:abc", 0);
	round_trip(PRK_TID_FMT_PORT, "iqn.1994-05.com.redhat:abc", 0x23d000000001ULL);
	round_trip(PRK_TID_FMT_PORT, "x", 0);
	round_trip(PRK_TID_FMT_PORT, "X", PRK_ISID_MASK);
	for (size_t n = 1; n <= PRK_ISCSI_NAME_MAX; n += 13) {
		name_of_len(name, n);
		round_trip(PRK_TID_FMT_DEVICE, name, 0);
		round_trip(PRK_TID_FMT_PORT, name, n * 0x10001);
	}
	name_of_len(name, PRK_ISCSI_NAME_MAX);
	round_trip(PRK_TID_FMT_DEVICE, name, 0);
	round_trip(PRK_TID_FMT_PORT, name, 0x800000000001ULL);
}

static void test_decode_case_and_padding(void **state)
{
	uint8_t buf[64];
	struct prk_tid t;
	struct prk_field_err e;
	size_t used, len;

	(void)state;
	/* Upper-case separator letters and hex digits. */
	len = raw_tid(buf, 0x45, "iqn.a,I,0XABCDEF012345", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), 0);
	assert_int_equal(t.format, PRK_TID_FMT_PORT);
	assert_int_equal(t.isid, 0xabcdef012345ULL);
	assert_string_equal(t.name, "iqn.a");
	assert_int_equal(used, 28);
	/* More zero padding than needed is fine. */
	len = raw_tid(buf, 0x05, "iqn.a", 56);
	assert_int_equal(decode(buf, len, &t, &used, &e), 0);
	assert_int_equal(used, 60);
	assert_string_equal(t.name, "iqn.a");
	/* Reserved bits 5..4 of byte 0 are not judged. */
	len = raw_tid(buf, 0x35, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), 0);
	assert_int_equal(t.format, PRK_TID_FMT_DEVICE);
}

static void test_decode_header_errors(void **state)
{
	uint8_t buf[64];
	struct prk_tid t;
	struct prk_field_err e;
	size_t used = 77, len;

	(void)state;
	len = raw_tid(buf, 0x04, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE, 3, "PROTOCOL IDENTIFIER");
	assert_int_equal(used, 77);
	len = raw_tid(buf, 0x00, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE, 3, "PROTOCOL IDENTIFIER");
	len = raw_tid(buf, 0x85, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE, 7, "FORMAT CODE");
	len = raw_tid(buf, 0xc5, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE, 7, "FORMAT CODE");
	/* ADDITIONAL LENGTH: < 20, not a multiple of 4, past the data. */
	len = raw_tid(buf, 0x05, "iqn.a", 16);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	len = raw_tid(buf, 0x05, "iqn.a", 22);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	len = raw_tid(buf, 0x05, "iqn.a", 0);
	assert_int_equal(decode(buf, 24, &t, &used, &e), -1);
	assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	len = raw_tid(buf, 0x05, "iqn.a", 24);
	assert_int_equal(decode(buf, len - 1, &t, &used, &e), -1);
	assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	buf[2] = 0xff; /* 0xff18: far past the data */
	assert_int_equal(decode(buf, sizeof(buf), &t, &used, &e), -1);
	assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	/* Header itself cut. */
	len = raw_tid(buf, 0x05, "iqn.a", 20);
	for (size_t avail = 0; avail < 4; avail++) {
		assert_int_equal(decode(buf, avail, &t, &used, &e), -1);
		assert_perr(e, BASE + 2, -1, "ADDITIONAL LENGTH");
	}
	/* ... but a wrong protocol in the first byte is named as such. */
	buf[0] = 0x06;
	assert_int_equal(decode(buf, 1, &t, &used, &e), -1);
	assert_perr(e, BASE, 3, "PROTOCOL IDENTIFIER");
}

static void test_decode_name_errors(void **state)
{
	uint8_t buf[PRK_TID_MAX_LEN + 8];
	char name[PRK_ISCSI_NAME_MAX + 2];
	struct prk_tid t;
	struct prk_field_err e;
	size_t used, len;

	(void)state;
	/* Not NUL terminated within ADDITIONAL LENGTH. */
	len = raw_tid(buf, 0x05, "abcdefghijklmnopqrst", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	/* Empty name. */
	len = raw_tid(buf, 0x05, "", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	/* Bad characters, pointed at exactly. */
	len = raw_tid(buf, 0x05, "iqn.a b", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "ISCSI NAME");
	len = raw_tid(buf, 0x05, "iqn,ab", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 3, -1, "ISCSI NAME");
	len = raw_tid(buf, 0x05, "\x01qn", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	len = raw_tid(buf, 0x45, "iq\x80,i,0x000000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 2, -1, "ISCSI NAME");
	/* Non-zero padding after the terminator. */
	len = raw_tid(buf, 0x05, "iqn.a", 20);
	buf[4 + 12] = 'z';
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 12, -1, "ISCSI NAME");
	len = raw_tid(buf, 0x05, "iqn.a", 20);
	buf[4 + 19] = 1;
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 19, -1, "ISCSI NAME");
	/* 223 accepted, 224 rejected, in both formats. */
	name_of_len(name, 223);
	len = raw_tid(buf, 0x05, name, 224);
	assert_int_equal(decode(buf, len, &t, &used, &e), 0);
	assert_string_equal(t.name, name);
	name_of_len(name, 224);
	len = raw_tid(buf, 0x05, name, 228);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	{
		char s[300];

		name_of_len(name, 223);
		strcpy(s, name);
		strcat(s, ",i,0x000000000001");
		len = raw_tid(buf, 0x45, s, 244);
		assert_int_equal(decode(buf, len, &t, &used, &e), 0);
		assert_int_equal(used, 248);
		assert_int_equal(t.isid, 1);
		name_of_len(name, 224);
		strcpy(s, name);
		strcat(s, ",i,0x000000000001");
		len = raw_tid(buf, 0x45, s, 244);
		assert_int_equal(decode(buf, len, &t, &used, &e), -1);
		assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	}
	/* The output is cleared on failure. */
	assert_int_equal(t.name[0], '\0');
}

static void test_decode_port_errors(void **state)
{
	uint8_t buf[64];
	struct prk_tid t;
	struct prk_field_err e;
	size_t used, len;

	(void)state;
	/* Format 01b without a separator: pointed at the terminator. */
	len = raw_tid(buf, 0x45, "iqn.a", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "SEPARATOR");
	len = raw_tid(buf, 0x45, "iqn.a,x,0x000000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "SEPARATOR");
	len = raw_tid(buf, 0x45, "iqn.a,i,1x000000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "SEPARATOR");
	len = raw_tid(buf, 0x45, "iqn.a,i,", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "SEPARATOR");
	/* Empty name before the separator. */
	len = raw_tid(buf, 0x45, ",i,0x000000000001", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4, -1, "ISCSI NAME");
	/* ISID: too short, too long, not hex, missing. */
	len = raw_tid(buf, 0x45, "iqn.a,i,0x00000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 10, -1, "ISID");
	len = raw_tid(buf, 0x45, "iqn.a,i,0x0000000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 10, -1, "ISID");
	len = raw_tid(buf, 0x45, "iqn.a,i,0x00000000000g", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 10, -1, "ISID");
	len = raw_tid(buf, 0x45, "iqn.a,i,0x", 20);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 10, -1, "ISID");
	len = raw_tid(buf, 0x45, "iqn.a,i,0x0000000,00001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 10, -1, "ISID");
	/* In format 00b a comma is just a bad name character. */
	len = raw_tid(buf, 0x05, "iqn.a,i,0x000000000001", 24);
	assert_int_equal(decode(buf, len, &t, &used, &e), -1);
	assert_perr(e, BASE + 4 + 5, -1, "ISCSI NAME");
}

static void test_name_eq(void **state)
{
	(void)state;
	assert_true(prk_iscsi_name_eq("iqn.a:B", "IQN.A:b"));
	assert_true(prk_iscsi_name_eq("", ""));
	assert_false(prk_iscsi_name_eq("iqn.a", "iqn.ab"));
	assert_false(prk_iscsi_name_eq("iqn.ab", "iqn.a"));
	assert_false(prk_iscsi_name_eq("iqn.a", "iqn.b"));
	/* Case folding is ASCII letters only: '@' and '`' differ. */
	assert_false(prk_iscsi_name_eq("a@", "a`"));
	assert_false(prk_iscsi_name_eq("a[", "a{"));
}

static void test_same_port(void **state)
{
	struct prk_tid a, b;

	(void)state;
	make_tid(&a, PRK_TID_FMT_PORT, "iqn.x", 5);
	make_tid(&b, PRK_TID_FMT_PORT, "IQN.X", 5);
	assert_true(prk_tid_same_port(&a, &b));
	b.isid = 6;
	assert_false(prk_tid_same_port(&a, &b));
	b.isid = 5;
	strcpy(b.name, "iqn.y");
	assert_false(prk_tid_same_port(&a, &b));
	strcpy(b.name, "iqn.x");
	b.format = PRK_TID_FMT_DEVICE;
	assert_false(prk_tid_same_port(&a, &b));
	assert_false(prk_tid_same_port(&b, &a));
	a.format = PRK_TID_FMT_DEVICE;
	assert_false(prk_tid_same_port(&a, &b));
}

static void test_matches_port(void **state)
{
	struct prk_tid p;

	(void)state;
	make_tid(&p, PRK_TID_FMT_DEVICE, "iqn.host", 0);
	assert_true(prk_tid_matches_port(&p, "iqn.host", 1));
	assert_true(prk_tid_matches_port(&p, "IQN.HOST", 0x123456789abcULL));
	assert_false(prk_tid_matches_port(&p, "iqn.host2", 1));
	make_tid(&p, PRK_TID_FMT_PORT, "iqn.host", 0x23d000000001ULL);
	assert_true(prk_tid_matches_port(&p, "iqn.Host", 0x23d000000001ULL));
	assert_false(prk_tid_matches_port(&p, "iqn.host", 0x23d000000002ULL));
	assert_false(prk_tid_matches_port(&p, "iqn.hos", 0x23d000000001ULL));
	p.format = 2;
	assert_false(prk_tid_matches_port(&p, "iqn.host", 0x23d000000001ULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_encode_device_bytes),
	    cmocka_unit_test(test_encode_port_bytes),
	    cmocka_unit_test(test_encode_lengths),
	    cmocka_unit_test(test_encode_invalid),
	    cmocka_unit_test(test_encode_truncated),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_decode_case_and_padding),
	    cmocka_unit_test(test_decode_header_errors),
	    cmocka_unit_test(test_decode_name_errors),
	    cmocka_unit_test(test_decode_port_errors),
	    cmocka_unit_test(test_name_eq),
	    cmocka_unit_test(test_same_port),
	    cmocka_unit_test(test_matches_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
