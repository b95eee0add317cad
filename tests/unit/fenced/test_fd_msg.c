/* The fenced message codec: every type round-trips byte for byte, and
 * every refusal names the field that was wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "byteorder.h"
#include "fd_msg.h"

static struct prk_fd_msg sample(enum prk_fd_msg_type t, size_t n)
{
	struct prk_fd_msg m = {.type = t, .nodeid = 7};
	if (t == PRK_FD_MSG_HELLO) {
		m.joined = true;
		m.key = 0x84d4000700000002ull;
	}
	if (t == PRK_FD_MSG_STALLED || t == PRK_FD_MSG_FENCED) {
		for (size_t i = 0; i < n; i++)
			m.victims[i] = (uint16_t)(1000 + i);
		m.n_victims = n;
	}
	if (t == PRK_FD_MSG_FENCED) {
		m.result = PRK_FD_RESULT_LOST;
		m.key = 0x1122334455667788ull;
	}
	return m;
}

static void roundtrip(const struct prk_fd_msg *m, size_t want_len)
{
	uint8_t buf[PRK_FD_MSG_MAX];
	int len = prk_fd_msg_encode(m, buf, sizeof(buf));
	assert_int_equal(len, (int)want_len);
	struct prk_fd_msg d;
	char err[128] = "";
	assert_int_equal(prk_fd_msg_decode(buf, (size_t)len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.type, m->type);
	assert_int_equal(d.nodeid, m->nodeid);
	assert_int_equal(d.joined, m->joined);
	assert_int_equal(d.key, m->key);
	assert_int_equal(d.result, m->result);
	assert_int_equal(d.n_victims, m->n_victims);
	assert_memory_equal(d.victims, m->victims, m->n_victims * sizeof(uint16_t));
	uint8_t again[PRK_FD_MSG_MAX];
	assert_int_equal(prk_fd_msg_encode(&d, again, sizeof(again)), len);
	assert_memory_equal(again, buf, (size_t)len);
}

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	struct prk_fd_msg m = sample(PRK_FD_MSG_HELLO, 0);
	roundtrip(&m, 8 + 12);
	m.joined = false;
	m.key = 0;
	roundtrip(&m, 8 + 12);
	m = sample(PRK_FD_MSG_LEAVE, 0);
	roundtrip(&m, 8 + 2);
	for (size_t n = 0; n <= PRK_FD_MAX_VICTIMS; n += 8) {
		m = sample(PRK_FD_MSG_STALLED, n);
		roundtrip(&m, 8 + 4 + 2 * n);
		m = sample(PRK_FD_MSG_FENCED, n);
		roundtrip(&m, 8 + 12 + 2 * n);
		m.result = PRK_FD_RESULT_OK;
		roundtrip(&m, 8 + 12 + 2 * n);
	}
	/* The largest message fits the documented maximum exactly. */
	m = sample(PRK_FD_MSG_FENCED, PRK_FD_MAX_VICTIMS);
	roundtrip(&m, PRK_FD_MSG_MAX);
}

static void test_wire_layout(void **state)
{
	(void)state;
	struct prk_fd_msg m = sample(PRK_FD_MSG_FENCED, 2);
	uint8_t buf[PRK_FD_MSG_MAX];
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), 24);
	static const uint8_t want[24] = {'P',  'R',  'F',  'D',  1,    4,    0,    16,
	                                 0,    7,    1,    2,    0x11, 0x22, 0x33, 0x44,
	                                 0x55, 0x66, 0x77, 0x88, 0x03, 0xe8, 0x03, 0xe9};
	assert_memory_equal(buf, want, sizeof(want));
}

/* Decodes buf and expects a refusal whose message contains field. */
static void refused(const uint8_t *buf, size_t len, const char *field)
{
	struct prk_fd_msg d;
	char err[128] = "";
	assert_int_equal(prk_fd_msg_decode(buf, len, &d, err, sizeof(err)), -1);
	if (!strstr(err, field))
		fail_msg("error \"%s\" does not name \"%s\"", err, field);
}

static int enc(const struct prk_fd_msg *m, uint8_t *buf)
{
	int len = prk_fd_msg_encode(m, buf, PRK_FD_MSG_MAX);
	assert_true(len > 0);
	return len;
}

static void test_refusals_name_the_field(void **state)
{
	(void)state;
	uint8_t buf[PRK_FD_MSG_MAX + 4];
	struct prk_fd_msg m = sample(PRK_FD_MSG_STALLED, 3);
	int len = enc(&m, buf);

	refused(buf, 7, "bad length");
	refused(buf, 0, "bad length");
	buf[0] = 'X';
	refused(buf, (size_t)len, "bad magic");
	len = enc(&m, buf);
	buf[4] = 2;
	refused(buf, (size_t)len, "bad version 2");
	len = enc(&m, buf);
	buf[5] = 9;
	refused(buf, (size_t)len, "bad type 9");
	buf[5] = 0;
	refused(buf, (size_t)len, "bad type 0");
	len = enc(&m, buf);
	/* Shorter and longer than the header says. */
	refused(buf, (size_t)len - 1, "bad length");
	buf[len] = 0;
	refused(buf, (size_t)len + 1, "bad length");
	/* Header and bytes agree, but the count says more victims. */
	buf[10] = 4;
	refused(buf, (size_t)len, "bad length");
	len = enc(&m, buf);
	buf[11] = 1;
	refused(buf, (size_t)len, "bad pad");

	/* Node id 0, sender and victim. */
	len = enc(&m, buf);
	prk_put_be16(buf + 8, 0);
	refused(buf, (size_t)len, "bad nodeid");
	len = enc(&m, buf);
	prk_put_be16(buf + 14, 0);
	refused(buf, (size_t)len, "bad victim 1");
	len = enc(&m, buf);
	prk_put_be16(buf + 14, 1000);
	refused(buf, (size_t)len, "listed twice");

	/* n above the limit, with a body that matches it. */
	m = sample(PRK_FD_MSG_STALLED, PRK_FD_MAX_VICTIMS);
	len = enc(&m, buf);
	buf[10] = PRK_FD_MAX_VICTIMS + 1;
	prk_put_be16(buf + 6, (uint16_t)(4 + 2 * (PRK_FD_MAX_VICTIMS + 1)));
	prk_put_be16(buf + len, 2000);
	refused(buf, (size_t)len + 2, "bad n");

	m = sample(PRK_FD_MSG_FENCED, 1);
	len = enc(&m, buf);
	buf[10] = 2;
	refused(buf, (size_t)len, "bad result 2");
	len = enc(&m, buf);
	prk_put_be16(buf + 8, 0);
	refused(buf, (size_t)len, "bad executor");

	m = sample(PRK_FD_MSG_HELLO, 0);
	len = enc(&m, buf);
	buf[10] = 2;
	refused(buf, (size_t)len, "bad flags");
	len = enc(&m, buf);
	prk_put_be16(buf + 6, 11);
	refused(buf, (size_t)len - 1, "bad length");
	m = sample(PRK_FD_MSG_LEAVE, 0);
	len = enc(&m, buf);
	prk_put_be16(buf + 6, 3);
	buf[len] = 0;
	refused(buf, (size_t)len + 1, "bad length");
	prk_put_be16(buf + 6, 1);
	refused(buf, (size_t)len - 1, "bad length");
}

/* The encoder refuses what the decoder would refuse, and short buffers. */
static void test_encoder_refuses_invalid(void **state)
{
	(void)state;
	uint8_t buf[PRK_FD_MSG_MAX];
	struct prk_fd_msg m = sample(PRK_FD_MSG_FENCED, 2);
	assert_int_equal(prk_fd_msg_encode(&m, buf, 10), -1);
	m.victims[1] = m.victims[0];
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), -1);
	m = sample(PRK_FD_MSG_FENCED, 2);
	m.result = 5;
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), -1);
	m = sample(PRK_FD_MSG_STALLED, 2);
	m.n_victims = PRK_FD_MAX_VICTIMS + 1;
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), -1);
	m = sample(PRK_FD_MSG_HELLO, 0);
	m.nodeid = 0;
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), -1);
	m.nodeid = 1;
	m.type = (enum prk_fd_msg_type)7;
	assert_int_equal(prk_fd_msg_encode(&m, buf, sizeof(buf)), -1);
	assert_string_equal(prk_fd_msg_type_name(PRK_FD_MSG_FENCED), "FENCED");
	assert_string_equal(prk_fd_msg_type_name((enum prk_fd_msg_type)7), "?");
}

/* Corrupting any one byte of a valid message either decodes to something
 * that re-encodes to the same bytes, or is refused with a "bad" field. */
static void test_single_byte_corruption(void **state)
{
	(void)state;
	for (int t = PRK_FD_MSG_HELLO; t <= PRK_FD_MSG_FENCED; t++) {
		struct prk_fd_msg m = sample((enum prk_fd_msg_type)t, 3);
		uint8_t buf[PRK_FD_MSG_MAX];
		int len = enc(&m, buf);
		for (int i = 0; i < len; i++)
			for (int v = 0; v < 256; v += 17) {
				uint8_t b[PRK_FD_MSG_MAX];
				memcpy(b, buf, (size_t)len);
				b[i] = (uint8_t)v;
				struct prk_fd_msg d;
				char err[128] = "";
				if (prk_fd_msg_decode(b, (size_t)len, &d, err, sizeof(err))) {
					assert_non_null(strstr(err, "bad "));
					continue;
				}
				uint8_t again[PRK_FD_MSG_MAX];
				assert_int_equal(prk_fd_msg_encode(&d, again, sizeof(again)), len);
				assert_memory_equal(again, b, (size_t)len);
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_every_type),
	    cmocka_unit_test(test_wire_layout),
	    cmocka_unit_test(test_refusals_name_the_field),
	    cmocka_unit_test(test_encoder_refuses_invalid),
	    cmocka_unit_test(test_single_byte_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
