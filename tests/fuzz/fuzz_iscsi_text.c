/* libFuzzer target: the key=value parser, operational key negotiation,
 * CHAP value decoding and a full feature phase Text Request over arbitrary
 * data. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "login.h"
#include "negotiate.h"
#include "text.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static void send_targets(void *ctx, const char *initiator_name, const char *which,
                         struct prk_text_buf *out)
{
	(void)ctx;
	(void)initiator_name;
	prk_text_buf_add(out, "TargetName", which[0] ? which : "iqn.2024-01.org.prkit:t");
	prk_text_buf_add(out, "TargetAddress", "192.0.2.1:3260,1");
}

static void negotiate(const uint8_t *data, size_t size, bool discovery)
{
	struct prk_iscsi_params p = {0};
	struct prk_iscsi_limits lim;
	struct prk_text_buf out = {0};
	struct prk_text_iter it;
	struct prk_text_kv kv;
	struct prk_neg n;

	prk_iscsi_limits_default(&lim);
	prk_neg_init(&n, &p, &lim);
	p.discovery = discovery;
	prk_text_iter_init(&it, data, size);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR) {
		int k = prk_neg_find(kv.key, kv.key_len);
		uint8_t bin[PRK_CHAP_BINARY_MAX];
		size_t len;
		uint32_t v;

		if (k >= 0)
			prk_neg_offer(&n, (enum prk_neg_key)k, kv.value);
		if (prk_chap_decode_binary(kv.value, bin, sizeof(bin), &len) == 0)
			CHECK(len <= sizeof(bin));
		if (prk_text_parse_u32(kv.value, 16777215, &v) == 0)
			CHECK(v <= 16777215);
	}
	CHECK(prk_neg_answer(&n, true, &out) == 0);
	/* Our answer is itself valid text with every key once. */
	CHECK(prk_text_check(out.data, out.len) >= 1);
	CHECK(p.first_burst <= p.max_burst);
	CHECK(p.max_send_dsl >= 512 && p.max_send_dsl <= PRK_ISCSI_DSL_MAX);
	CHECK(p.max_burst >= 512 && p.max_burst <= lim.max_burst);
	CHECK(p.error_recovery_level == 0 && p.max_connections == 1);
	CHECK(p.data_pdu_in_order && p.data_seq_in_order);
	prk_text_buf_free(&out);
}

static void text_request(const uint8_t *data, size_t size, bool discovery)
{
	struct prk_text_env env = {.send_targets = send_targets};
	struct prk_iscsi_params p = {0};
	struct prk_iscsi_text_req q = {0};
	struct prk_iscsi_sn sn = {1, 2, 3};
	uint8_t bhs[PRK_ISCSI_BHS_LEN], rsp[PRK_ISCSI_BHS_LEN], *out, reason;
	size_t len;
	struct prk_text *t;

	p.discovery = discovery;
	p.max_send_dsl = 512;
	t = prk_text_new(&env, &p);
	CHECK(t);
	q.h.opcode = PRK_ISCSI_OP_TEXT_REQ;
	q.h.final = true;
	q.h.dlen = (uint32_t)size;
	q.ttt = PRK_ISCSI_RSVD_TAG;
	prk_iscsi_text_req_encode(&q, bhs);
	for (int i = 0; i < 64; i++) {
		struct prk_iscsi_text_rsp r;

		if (prk_text_step(t, bhs, size ? data : NULL, size, &sn, rsp, &out, &len,
		                  &reason) != 0) {
			CHECK(out == NULL && len == 0);
			break;
		}
		CHECK(prk_iscsi_text_rsp_decode(rsp, &r) == 0);
		CHECK(r.dlen == len && len <= 512 && (len == 0) == (out == NULL));
		CHECK(!(r.final && r.cont));
		free(out);
		if (r.final)
			break;
		/* Fetch the next piece. */
		q.h.dlen = 0;
		q.ttt = r.ttt;
		prk_iscsi_text_req_encode(&q, bhs);
		size = 0;
	}
	prk_text_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	int n;

	if (size > PRK_TEXT_SEGMENT_MAX)
		return 0;
	/* Exact-size copy: reading one byte too far is caught by ASan. */
	copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	n = prk_text_check(copy, size);
	CHECK(n >= -1);
	negotiate(copy, size, size && (copy[0] & 1));
	text_request(copy, size, size && (copy[0] & 2));
	free(copy);
	return 0;
}
