/* Text Requests in full feature phase: SendTargets, continuation of long
 * answers, C-bit requests, keys that are login-only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"
#include "negotiate.h"
#include "text.h"

#define INI "iqn.2024-01.org.prkit:ini"

static char g_which[300];
static int g_calls;
static int g_targets = 2;

static void send_targets(void *ctx, const char *initiator_name, const char *which,
                         struct prk_text_buf *out)
{
	char name[64];

	(void)ctx;
	assert_string_equal(initiator_name, INI);
	snprintf(g_which, sizeof(g_which), "%s", which);
	g_calls++;
	for (int i = 0; i < g_targets; i++) {
		snprintf(name, sizeof(name), "iqn.2024-01.org.prkit:t%d", i);
		if (strcmp(which, "All") != 0 && strcmp(which, name) != 0)
			continue;
		prk_text_buf_add(out, "TargetName", name);
		prk_text_buf_add(out, "TargetAddress", "192.0.2.1:3260,1");
		prk_text_buf_add(out, "TargetAddress", "[2001:db8::1]:3260,1");
	}
}

struct fx {
	struct prk_text *t;
	struct prk_iscsi_params p;
	struct prk_iscsi_text_rsp r;
	uint8_t *data;
	size_t dlen;
	uint8_t reason;
	int ret;
};

static const struct prk_iscsi_sn SN = {100, 200, 327};

static void fx_init(struct fx *f, bool discovery, uint32_t max_send_dsl)
{
	struct prk_text_env env = {.ctx = NULL, .send_targets = send_targets};
	struct prk_neg n;
	struct prk_iscsi_limits lim;

	memset(f, 0, sizeof(*f));
	prk_iscsi_limits_default(&lim);
	prk_neg_init(&n, &f->p, &lim);
	f->p.discovery = discovery;
	strcpy(f->p.initiator_name, INI);
	f->p.max_send_dsl = max_send_dsl;
	f->t = prk_text_new(&env, &f->p);
	assert_non_null(f->t);
	g_calls = 0;
	g_which[0] = '\0';
	g_targets = 2;
}

static void fx_free(struct fx *f)
{
	free(f->data);
	prk_text_free(f->t);
}

static int fx_raw(struct fx *f, bool final, bool cont, uint32_t ttt, const void *text, size_t len)
{
	struct prk_iscsi_text_req q = {0};
	uint8_t bhs[PRK_ISCSI_BHS_LEN], rsp[PRK_ISCSI_BHS_LEN];

	q.h.opcode = PRK_ISCSI_OP_TEXT_REQ;
	q.h.final = final;
	q.h.dlen = (uint32_t)len;
	q.h.itt = 0x99;
	q.h.lun = 0;
	q.cont = cont;
	q.ttt = ttt;
	q.cmdsn = 200;
	prk_iscsi_text_req_encode(&q, bhs);
	free(f->data);
	f->data = NULL;
	f->ret = prk_text_step(f->t, bhs, text, len, &SN, rsp, &f->data, &f->dlen, &f->reason);
	if (f->ret == 0) {
		assert_int_equal(prk_iscsi_text_rsp_decode(rsp, &f->r), 0);
		assert_int_equal(f->r.itt, 0x99);
		assert_int_equal(f->r.dlen, f->dlen);
		assert_memory_equal(&f->r.sn, &SN, sizeof(SN));
		assert_true(f->dlen <= f->p.max_send_dsl);
		/* F and C are never both set; F=0 needs a TTT. */
		assert_false(f->r.final && f->r.cont);
		if (!f->r.final)
			assert_int_not_equal(f->r.ttt, PRK_ISCSI_RSVD_TAG);
	}
	return f->ret;
}

static int fx_send(struct fx *f, const char *kv)
{
	return fx_raw(f, true, false, PRK_ISCSI_RSVD_TAG, kv, strlen(kv) + 1);
}

static void test_send_targets_all(void **state)
{
	struct fx f;
	struct prk_text_buf want = {0};

	(void)state;
	fx_init(&f, true, 8192);
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	assert_string_equal(g_which, "All");
	assert_true(f.r.final);
	assert_false(f.r.cont);
	assert_int_equal(f.r.ttt, PRK_ISCSI_RSVD_TAG);
	send_targets(NULL, INI, "All", &want);
	assert_int_equal(f.dlen, want.len);
	assert_memory_equal(f.data, want.data, want.len);
	prk_text_buf_free(&want);
	fx_free(&f);
}

static void test_send_targets_specific(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false, 8192);
	assert_int_equal(fx_send(&f, "SendTargets=iqn.2024-01.org.prkit:t1"), 0);
	assert_string_equal(g_which, "iqn.2024-01.org.prkit:t1");
	assert_non_null(memmem(f.data, f.dlen, "TargetName=iqn.2024-01.org.prkit:t1", 35));
	assert_null(memmem(f.data, f.dlen, "prkit:t0", 8));
	/* Empty: the current target, resolved by the environment. */
	assert_int_equal(fx_send(&f, "SendTargets="), 0);
	assert_string_equal(g_which, "");
	/* All is for discovery sessions only. */
	g_calls = 0;
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	assert_int_equal(g_calls, 0);
	assert_int_equal(f.dlen, strlen("SendTargets=Reject") + 1);
	assert_string_equal((char *)f.data, "SendTargets=Reject");
	fx_free(&f);
}

static void test_long_answer(void **state)
{
	struct fx f;
	struct prk_text_buf want = {0}, got = {0};
	uint32_t ttt;
	int pieces = 0;

	(void)state;
	fx_init(&f, true, 512);
	g_targets = 40;
	send_targets(NULL, INI, "All", &want);
	assert_true(want.len > 2000);
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	ttt = f.r.ttt;
	while (!f.r.final) {
		assert_true(f.r.cont);
		assert_int_equal(f.dlen, 512);
		assert_int_equal(f.r.ttt, ttt);
		prk_text_buf_addn(&got, f.data, f.dlen);
		pieces++;
		assert_int_equal(fx_raw(&f, true, false, ttt, NULL, 0), 0);
	}
	prk_text_buf_addn(&got, f.data, f.dlen);
	assert_int_equal(f.r.ttt, PRK_ISCSI_RSVD_TAG);
	assert_int_equal(pieces, (int)((want.len - 1) / 512));
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	/* The exchange is over: its TTT is no longer valid. */
	assert_int_equal(fx_raw(&f, true, false, ttt, NULL, 0), -1);
	assert_int_equal(f.reason, PRK_REJECT_INVALID_PDU_FIELD);
	prk_text_buf_free(&want);
	prk_text_buf_free(&got);
	fx_free(&f);
}

static void test_long_answer_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, true, 512);
	g_targets = 40;
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	assert_false(f.r.final);
	/* A new request drops the rest of the old answer. */
	g_targets = 1;
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	assert_true(f.r.final);
	assert_non_null(memmem(f.data, f.dlen, "prkit:t0", 8));
	fx_free(&f);
}

static void test_cbit_request(void **state)
{
	struct fx f;
	const char *kv = "SendTargets=All";
	uint32_t ttt;

	(void)state;
	fx_init(&f, true, 8192);
	assert_int_equal(fx_raw(&f, false, true, PRK_ISCSI_RSVD_TAG, kv, 6), 0);
	assert_false(f.r.final);
	assert_false(f.r.cont);
	assert_int_equal(f.dlen, 0);
	ttt = f.r.ttt;
	assert_int_equal(g_calls, 0);
	assert_int_equal(fx_raw(&f, true, false, ttt, kv + 6, strlen(kv) + 1 - 6), 0);
	assert_int_equal(g_calls, 1);
	assert_true(f.r.final);
	assert_string_equal(g_which, "All");
	fx_free(&f);
}

static void test_other_keys(void **state)
{
	struct fx f;
	const char text[] = "MaxBurstLength=4096\0X-com.example=1\0HeaderDigest=None\0"
	                    "InitiatorAlias=x\0CHAP_A=5";

	(void)state;
	fx_init(&f, false, 8192);
	assert_int_equal(fx_raw(&f, true, false, PRK_ISCSI_RSVD_TAG, text, sizeof(text)), 0);
	assert_non_null(memmem(f.data, f.dlen, "MaxBurstLength=Reject", 22));
	assert_non_null(memmem(f.data, f.dlen, "X-com.example=NotUnderstood", 28));
	assert_non_null(memmem(f.data, f.dlen, "HeaderDigest=Reject", 20));
	assert_non_null(memmem(f.data, f.dlen, "InitiatorAlias=Reject", 22));
	assert_non_null(memmem(f.data, f.dlen, "CHAP_A=Reject", 14));
	/* An empty request gets an empty final answer. */
	assert_int_equal(fx_raw(&f, true, false, PRK_ISCSI_RSVD_TAG, NULL, 0), 0);
	assert_int_equal(f.dlen, 0);
	assert_true(f.r.final);
	fx_free(&f);
}

static void test_rejects(void **state)
{
	struct fx f;
	const char dup[] = "SendTargets=All\0SendTargets=All";

	(void)state;
	fx_init(&f, true, 8192);
	/* F and C together. */
	assert_int_equal(fx_raw(&f, true, true, PRK_ISCSI_RSVD_TAG, "a=b", 4), -1);
	assert_int_equal(f.reason, PRK_REJECT_PROTOCOL_ERROR);
	/* Unknown TTT. */
	assert_int_equal(fx_raw(&f, true, false, 1234, NULL, 0), -1);
	assert_int_equal(f.reason, PRK_REJECT_INVALID_PDU_FIELD);
	/* A key twice. */
	assert_int_equal(fx_raw(&f, true, false, PRK_ISCSI_RSVD_TAG, dup, sizeof(dup)), -1);
	assert_int_equal(f.reason, PRK_REJECT_PROTOCOL_ERROR);
	/* No '='. */
	assert_int_equal(fx_raw(&f, true, false, PRK_ISCSI_RSVD_TAG, "junk", 5), -1);
	assert_int_equal(f.reason, PRK_REJECT_PROTOCOL_ERROR);
	/* Still usable afterwards. */
	assert_int_equal(fx_send(&f, "SendTargets=All"), 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_targets_all), cmocka_unit_test(test_send_targets_specific),
	    cmocka_unit_test(test_long_answer),      cmocka_unit_test(test_long_answer_reset),
	    cmocka_unit_test(test_cbit_request),     cmocka_unit_test(test_other_keys),
	    cmocka_unit_test(test_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
