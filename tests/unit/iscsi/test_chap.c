/* CHAP: MD5 known answers (computed independently with md5sum), value
 * encodings, and the target's exchange. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "chap.h"
#include "text.h"

/* printf '\x01secretsecret\x00\x01...\x0f' | md5sum */
static const char KAT1[] = "0x226dc576c33f04ff9c3a200ffe35f442";
/* printf '\x2atargetsecret1\xf0...\xff' | md5sum */
static const char KAT2[] = "0x5b3cddcf7c9bd49a19eab0cc5badc8f2";

/* The random bytes the target draws: CHAP_I, then the challenge. */
static const uint8_t script[17] = {1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static size_t g_next;

static void rnd(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = script[g_next++ % sizeof(script)];
}

static void test_md5_known_answers(void **state)
{
	uint8_t chal[16], out[16];
	char hex[40];

	(void)state;
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)i;
	prk_chap_md5(1, "secretsecret", chal, sizeof(chal), out);
	prk_chap_encode_hex(out, sizeof(out), hex);
	assert_string_equal(hex, KAT1);
	for (int i = 0; i < 16; i++)
		chal[i] = (uint8_t)(0xf0 + i);
	prk_chap_md5(0x2a, "targetsecret1", chal, sizeof(chal), out);
	prk_chap_encode_hex(out, sizeof(out), hex);
	assert_string_equal(hex, KAT2);
	/* printf '\x07abc' | md5sum, with an empty secret. */
	prk_chap_md5(7, "", (const uint8_t *)"abc", 3, out);
	prk_chap_encode_hex(out, sizeof(out), hex);
	assert_string_equal(hex, "0xda2b6e1e9346308f4951815ddf13128a");
}

static void test_binary(void **state)
{
	uint8_t b[8];
	size_t n;

	(void)state;
	assert_int_equal(prk_chap_decode_binary("0x0aFF", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(prk_chap_decode_binary("0X123", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[1], 0x23);
	assert_int_equal(prk_chap_decode_binary("0x", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0xzz", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("1234", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0x112233445566778899", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0x1122334455667788", b, sizeof(b), &n), 0);
	assert_int_equal(n, 8);
	/* base64 "abc" = YWJj, "ab" = YWI=, "a" = YQ== */
	assert_int_equal(prk_chap_decode_binary("0bYWJj", b, sizeof(b), &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "abc", 3);
	assert_int_equal(prk_chap_decode_binary("0bYWI=", b, sizeof(b), &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(b, "ab", 2);
	assert_int_equal(prk_chap_decode_binary("0BYQ==", b, sizeof(b), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(prk_chap_decode_binary("0bYQ", b, sizeof(b), &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(prk_chap_decode_binary("0bY", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0bYQ===", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0bY*==", b, sizeof(b), &n), -1);
	assert_int_equal(prk_chap_decode_binary("0b", b, sizeof(b), &n), -1);
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(prk_chap_equal((const uint8_t *)"abcd", (const uint8_t *)"abcd", 4));
	assert_false(prk_chap_equal((const uint8_t *)"abcd", (const uint8_t *)"abce", 4));
	assert_true(prk_chap_equal(NULL, NULL, 0));
}

struct fx {
	struct prk_chap c;
	struct prk_chap_creds cr;
	struct prk_text_buf out;
};

/* f starts zeroed; re-initialising frees the previous output. */
static void fx_init(struct fx *f, bool mutual)
{
	prk_text_buf_free(&f->out);
	memset(f, 0, sizeof(*f));
	prk_chap_init(&f->c);
	f->cr.required = true;
	strcpy(f->cr.user, "alice");
	strcpy(f->cr.secret, "secretsecret");
	if (mutual) {
		f->cr.mutual = true;
		strcpy(f->cr.mutual_user, "target1");
		strcpy(f->cr.mutual_secret, "targetsecret1");
	}
	/* Identifier 1, challenge 00..0f: the first known answer. */
	g_next = 0;
}

static enum prk_chap_result step(struct fx *f, const struct prk_chap_msg *m)
{
	return prk_chap_step(&f->c, &f->cr, m, rnd, NULL, &f->out);
}

static void challenge(struct fx *f)
{
	struct prk_chap_msg m = {.a = "7,5"};

	assert_int_equal(step(f, &m), PRK_CHAP_CONTINUE);
	assert_int_equal(f->c.state, PRK_CHAP_WAIT_R);
	assert_int_equal(f->out.len,
	                 sizeof("CHAP_A=5\0CHAP_I=1\0CHAP_C=0x000102030405060708090a0b0c0d0e0f"));
	assert_memory_equal(f->out.data,
	                    "CHAP_A=5\0CHAP_I=1\0CHAP_C=0x000102030405060708090a0b0c0d0e0f",
	                    f->out.len);
	f->out.len = 0;
}

static void test_one_way(void **state)
{
	struct fx f = {0};
	struct prk_chap_msg m = {.n = "alice", .r = KAT1};

	(void)state;
	fx_init(&f, false);
	/* Nothing to do before CHAP_A. */
	assert_int_equal(step(&f, &(struct prk_chap_msg){0}), PRK_CHAP_CONTINUE);
	challenge(&f);
	assert_int_equal(step(&f, &m), PRK_CHAP_OK);
	assert_int_equal(f.out.len, 0);
	assert_int_equal(f.c.state, PRK_CHAP_DONE);
	/* Upper case hex is the same value. */
	fx_init(&f, false);
	challenge(&f);
	m.r = "0x226DC576C33F04FF9C3A200FFE35F442";
	assert_int_equal(step(&f, &m), PRK_CHAP_OK);
	/* So is base64. */
	fx_init(&f, false);
	challenge(&f);
	m.r = "0bIm3FdsM/BP+cOiAP/jX0Qg==";
	assert_int_equal(step(&f, &m), PRK_CHAP_OK);
	prk_text_buf_free(&f.out);
}

static void test_failures(void **state)
{
	struct fx f = {0};
	struct prk_chap_msg m = {.n = "alice", .r = KAT1};

	(void)state;
	/* Wrong user. */
	fx_init(&f, false);
	challenge(&f);
	m.n = "bob";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	/* Wrong response, short response. */
	fx_init(&f, false);
	challenge(&f);
	m.n = "alice";
	m.r = "0x226dc576c33f04ff9c3a200ffe35f443";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	fx_init(&f, false);
	challenge(&f);
	m.r = "0x226dc576c33f04ff9c3a200ffe35f4";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	/* Missing CHAP_R. */
	fx_init(&f, false);
	challenge(&f);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.n = "alice"}), PRK_CHAP_FAIL);
	/* No MD5 in the list. */
	fx_init(&f, false);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.a = "6,7"}), PRK_CHAP_FAIL);
	assert_memory_equal(f.out.data, "CHAP_A=Reject", 14);
	/* Response before the challenge. */
	fx_init(&f, false);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.n = "alice", .r = KAT1}), PRK_CHAP_FAIL);
	/* Mutual challenge although mutual CHAP is not configured. */
	fx_init(&f, false);
	challenge(&f);
	m.r = KAT1;
	m.i = "42";
	m.c = "0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	/* Keys after success. */
	fx_init(&f, false);
	challenge(&f);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.n = "alice", .r = KAT1}), PRK_CHAP_OK);
	assert_int_equal(step(&f, &(struct prk_chap_msg){0}), PRK_CHAP_OK);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.a = "5"}), PRK_CHAP_FAIL);
	prk_text_buf_free(&f.out);
}

static void test_mutual(void **state)
{
	struct fx f = {0};
	struct prk_chap_msg m = {
	    .n = "alice", .r = KAT1, .i = "42", .c = "0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"};

	(void)state;
	fx_init(&f, true);
	challenge(&f);
	assert_int_equal(step(&f, &m), PRK_CHAP_OK);
	assert_int_equal(f.out.len,
	                 sizeof("CHAP_N=target1\0CHAP_R=0x5b3cddcf7c9bd49a19eab0cc5badc8f2"));
	assert_memory_equal(f.out.data, "CHAP_N=target1\0CHAP_R=0x5b3cddcf7c9bd49a19eab0cc5badc8f2",
	                    f.out.len);
	/* Mutual configured, initiator does not challenge. */
	fx_init(&f, true);
	challenge(&f);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.n = "alice", .r = KAT1}), PRK_CHAP_FAIL);
	/* CHAP_I without CHAP_C. */
	fx_init(&f, true);
	challenge(&f);
	assert_int_equal(step(&f, &(struct prk_chap_msg){.n = "alice", .r = KAT1, .i = "1"}),
	                 PRK_CHAP_FAIL);
	/* Reflected challenge. */
	fx_init(&f, true);
	challenge(&f);
	m.c = "0x000102030405060708090a0b0c0d0e0f";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	/* Too short a challenge, bad identifier. */
	fx_init(&f, true);
	challenge(&f);
	m.c = "0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfe";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	fx_init(&f, true);
	challenge(&f);
	m.c = "0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	m.i = "256";
	assert_int_equal(step(&f, &m), PRK_CHAP_FAIL);
	prk_text_buf_free(&f.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_md5_known_answers),
	    cmocka_unit_test(test_binary),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_one_way),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_mutual),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
