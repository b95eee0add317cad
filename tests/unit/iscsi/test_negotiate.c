/* Operational key negotiation: result functions, ranges, defaults. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "negotiate.h"
#include "text.h"

struct fx {
	struct prk_neg n;
	struct prk_iscsi_params p;
	struct prk_iscsi_limits lim;
	struct prk_text_buf out;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	prk_iscsi_limits_default(&f->lim);
	prk_neg_init(&f->n, &f->p, &f->lim);
}

static int offer(struct fx *f, const char *key, const char *value)
{
	int k = prk_neg_find(key, strlen(key));

	assert_true(k >= 0);
	return prk_neg_offer(&f->n, (enum prk_neg_key)k, value);
}

/* Answers the request and returns the value answered for key. */
static const char *answered(struct fx *f, const char *key)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	prk_text_iter_init(&it, f->out.data, f->out.len);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR)
		if (prk_text_key_is(&kv, key))
			return kv.value;
	return NULL;
}

static const char *one(const char *key, const char *value)
{
	static char buf[64];
	struct fx f;
	const char *v;

	fx_init(&f);
	assert_int_equal(offer(&f, key, value), 0);
	assert_int_equal(prk_neg_answer(&f.n, false, &f.out), 0);
	v = answered(&f, key);
	strcpy(buf, v ? v : "(none)");
	prk_text_buf_free(&f.out);
	return buf;
}

static void test_limits_default(void **state)
{
	struct prk_iscsi_limits l;

	(void)state;
	prk_iscsi_limits_default(&l);
	assert_int_equal(l.max_recv_dsl, 262144);
	assert_int_equal(l.max_burst, 1048576);
	assert_int_equal(l.first_burst, 65536);
	assert_int_equal(l.max_outstanding_r2t, 1);
	assert_true(l.allow_immediate_data);
	assert_int_equal(l.cmdsn_window, 128);
}

static void test_defaults(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_false(f.p.header_digest);
	assert_false(f.p.data_digest);
	assert_int_equal(f.p.max_send_dsl, 8192);
	assert_int_equal(f.p.max_recv_dsl, 8192);
	assert_int_equal(f.p.max_burst, 262144);
	assert_int_equal(f.p.first_burst, 65536);
	assert_true(f.p.initial_r2t);
	assert_true(f.p.immediate_data);
	assert_int_equal(f.p.max_outstanding_r2t, 1);
	assert_true(f.p.data_pdu_in_order);
	assert_true(f.p.data_seq_in_order);
	assert_int_equal(f.p.default_time2wait, 2);
	assert_int_equal(f.p.default_time2retain, 20);
	assert_int_equal(f.p.error_recovery_level, 0);
	assert_int_equal(f.p.max_connections, 1);
	assert_int_equal(prk_neg_find("Foo", 3), -1);
	assert_int_equal(prk_neg_find("MaxBurstLengt", 13), -1);
	assert_int_equal(prk_neg_find("MaxBurstLength", 14), PRK_NK_MAX_BURST);
}

static void test_digests(void **state)
{
	(void)state;
	assert_string_equal(one("HeaderDigest", "None"), "None");
	assert_string_equal(one("HeaderDigest", "CRC32C"), "CRC32C");
	assert_string_equal(one("HeaderDigest", "CRC32C,None"), "CRC32C");
	assert_string_equal(one("HeaderDigest", "None,CRC32C"), "None");
	assert_string_equal(one("DataDigest", "X-foo,CRC32C"), "CRC32C");
	assert_string_equal(one("DataDigest", "X-foo"), "Reject");
	assert_string_equal(one("DataDigest", ""), "Reject");
	assert_string_equal(one("DataDigest", "crc32c"), "Reject");
}

static void test_numbers(void **state)
{
	(void)state;
	/* min with our limit */
	assert_string_equal(one("MaxBurstLength", "16776192"), "1048576");
	assert_string_equal(one("MaxBurstLength", "512"), "512");
	assert_string_equal(one("MaxBurstLength", "511"), "Reject");
	assert_string_equal(one("MaxBurstLength", "16777216"), "Reject");
	assert_string_equal(one("FirstBurstLength", "262144"), "65536");
	assert_string_equal(one("MaxOutstandingR2T", "16"), "1");
	assert_string_equal(one("MaxOutstandingR2T", "0"), "Reject");
	assert_string_equal(one("MaxConnections", "8"), "1");
	assert_string_equal(one("MaxConnections", "0"), "Reject");
	assert_string_equal(one("ErrorRecoveryLevel", "2"), "0");
	assert_string_equal(one("ErrorRecoveryLevel", "3"), "Reject");
	assert_string_equal(one("DefaultTime2Retain", "20"), "0");
	assert_string_equal(one("DefaultTime2Retain", "3601"), "Reject");
	/* max */
	assert_string_equal(one("DefaultTime2Wait", "0"), "2");
	assert_string_equal(one("DefaultTime2Wait", "30"), "30");
	assert_string_equal(one("DefaultTime2Wait", "x"), "Reject");
	/* declarative: no answer */
	assert_string_equal(one("MaxRecvDataSegmentLength", "65536"), "(none)");
	{
		struct fx f;

		fx_init(&f);
		assert_int_equal(offer(&f, "MaxRecvDataSegmentLength", "100"), -1);
		fx_init(&f);
		assert_int_equal(offer(&f, "MaxRecvDataSegmentLength", "0x"), -1);
	}
}

static void test_booleans(void **state)
{
	(void)state;
	assert_string_equal(one("InitialR2T", "No"), "No");
	assert_string_equal(one("InitialR2T", "Yes"), "Yes");
	assert_string_equal(one("ImmediateData", "Yes"), "Yes");
	assert_string_equal(one("ImmediateData", "No"), "No");
	assert_string_equal(one("DataPDUInOrder", "No"), "Yes");
	assert_string_equal(one("DataSequenceInOrder", "No"), "Yes");
	assert_string_equal(one("InitialR2T", "yes"), "Reject");
	assert_string_equal(one("IFMarker", "Yes"), "No");
	assert_string_equal(one("OFMarker", "No"), "No");
	assert_string_equal(one("OFMarker", "1"), "Reject");
	assert_string_equal(one("IFMarkInt", "2048~8192"), "Irrelevant");
	assert_string_equal(one("OFMarkInt", "Reject"), "Irrelevant");
}

static void test_immediate_data_off(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	f.lim.allow_immediate_data = false;
	prk_neg_init(&f.n, &f.p, &f.lim);
	assert_int_equal(offer(&f, "ImmediateData", "Yes"), 0);
	assert_int_equal(prk_neg_answer(&f.n, false, &f.out), 0);
	assert_string_equal(answered(&f, "ImmediateData"), "No");
	assert_false(f.p.immediate_data);
	prk_text_buf_free(&f.out);
}

static void test_results(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(offer(&f, "FirstBurstLength", "65536"), 0);
	assert_int_equal(offer(&f, "MaxBurstLength", "4096"), 0);
	assert_int_equal(offer(&f, "MaxRecvDataSegmentLength", "0x1000"), 0);
	assert_int_equal(offer(&f, "HeaderDigest", "CRC32C"), 0);
	assert_int_equal(prk_neg_answer(&f.n, true, &f.out), 0);
	/* FirstBurstLength <= MaxBurstLength whatever the order. */
	assert_string_equal(answered(&f, "FirstBurstLength"), "4096");
	assert_string_equal(answered(&f, "MaxBurstLength"), "4096");
	assert_string_equal(answered(&f, "MaxRecvDataSegmentLength"), "262144");
	assert_int_equal(f.p.max_send_dsl, 4096);
	assert_int_equal(f.p.max_recv_dsl, 262144);
	assert_true(f.p.header_digest);
	/* Once per login. */
	assert_int_equal(offer(&f, "MaxBurstLength", "4096"), -1);
	f.out.len = 0;
	/* Declared once only. */
	assert_int_equal(prk_neg_answer(&f.n, true, &f.out), 0);
	assert_int_equal(f.out.len, 0);
	prk_text_buf_free(&f.out);
}

static void test_duplicate_in_request(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(offer(&f, "InitialR2T", "No"), 0);
	assert_int_equal(offer(&f, "InitialR2T", "No"), -1);
}

static void test_discovery(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	f.p.discovery = true;
	assert_int_equal(offer(&f, "MaxBurstLength", "4096"), 0);
	assert_int_equal(offer(&f, "FirstBurstLength", "4096"), 0);
	assert_int_equal(offer(&f, "InitialR2T", "No"), 0);
	assert_int_equal(offer(&f, "ImmediateData", "No"), 0);
	assert_int_equal(offer(&f, "MaxOutstandingR2T", "2"), 0);
	assert_int_equal(offer(&f, "DataPDUInOrder", "No"), 0);
	assert_int_equal(offer(&f, "DataSequenceInOrder", "No"), 0);
	assert_int_equal(offer(&f, "MaxConnections", "2"), 0);
	assert_int_equal(offer(&f, "ErrorRecoveryLevel", "1"), 0);
	assert_int_equal(offer(&f, "HeaderDigest", "CRC32C"), 0);
	assert_int_equal(prk_neg_answer(&f.n, true, &f.out), 0);
	assert_string_equal(answered(&f, "MaxBurstLength"), "Irrelevant");
	assert_string_equal(answered(&f, "FirstBurstLength"), "Irrelevant");
	assert_string_equal(answered(&f, "InitialR2T"), "Irrelevant");
	assert_string_equal(answered(&f, "ImmediateData"), "Irrelevant");
	assert_string_equal(answered(&f, "MaxOutstandingR2T"), "Irrelevant");
	assert_string_equal(answered(&f, "DataPDUInOrder"), "Irrelevant");
	assert_string_equal(answered(&f, "DataSequenceInOrder"), "Irrelevant");
	assert_string_equal(answered(&f, "MaxConnections"), "Irrelevant");
	assert_string_equal(answered(&f, "ErrorRecoveryLevel"), "0");
	assert_string_equal(answered(&f, "HeaderDigest"), "CRC32C");
	assert_int_equal(f.p.max_burst, 262144);
	prk_text_buf_free(&f.out);
}

static void test_limits_clamped(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	f.lim.max_recv_dsl = 100;
	f.lim.max_burst = 0xffffffff;
	f.lim.max_outstanding_r2t = 0;
	f.lim.cmdsn_window = 0;
	prk_neg_init(&f.n, &f.p, &f.lim);
	assert_int_equal(offer(&f, "MaxBurstLength", "16777215"), 0);
	assert_int_equal(offer(&f, "MaxOutstandingR2T", "5"), 0);
	assert_int_equal(prk_neg_answer(&f.n, true, &f.out), 0);
	assert_string_equal(answered(&f, "MaxRecvDataSegmentLength"), "512");
	assert_string_equal(answered(&f, "MaxBurstLength"), "16777215");
	assert_string_equal(answered(&f, "MaxOutstandingR2T"), "1");
	assert_int_equal(f.n.lim.cmdsn_window, 1);
	prk_text_buf_free(&f.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_default), cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_digests),        cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_booleans),       cmocka_unit_test(test_immediate_data_off),
	    cmocka_unit_test(test_results),        cmocka_unit_test(test_duplicate_in_request),
	    cmocka_unit_test(test_discovery),      cmocka_unit_test(test_limits_clamped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
