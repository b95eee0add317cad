/* libFuzzer target: a login state machine fed a sequence of arbitrary
 * Login Requests. It must never crash, and every response must be a valid
 * Login Response consistent with the result returned.
 *
 * Input: a configuration byte, then records of
 *   [mode][b1][version_min][tsih][len_hi][len_lo][len bytes of text]
 * mode bit 0: the BHS is 48 raw bytes taken from the input instead. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "login.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static uint8_t g_cfg;
static uint8_t g_rnd;

static enum prk_login_lookup lookup(void *ctx, const char *target_name, const char *initiator_name,
                                    uint16_t tpgt, struct prk_chap_creds *creds)
{
	(void)ctx;
	(void)tpgt;
	CHECK(initiator_name && strlen(initiator_name) < PRK_ISCSI_NAME_LEN);
	CHECK(!target_name || strlen(target_name) < PRK_ISCSI_NAME_LEN);
	memset(creds, 0, sizeof(*creds));
	if (g_cfg & 1) {
		creds->required = true;
		strcpy(creds->user, "u");
		strcpy(creds->secret, "secretsecret");
		creds->mutual = (g_cfg & 2) != 0;
		strcpy(creds->mutual_user, "t");
		strcpy(creds->mutual_secret, "othersecret1");
	}
	if (target_name && target_name[0] == 'x')
		return PRK_LOOKUP_NOT_FOUND;
	return PRK_LOOKUP_OK;
}

static uint16_t enter_ffp(void *ctx, const struct prk_iscsi_params *p, uint64_t isid)
{
	(void)ctx;
	(void)isid;
	CHECK(p->initiator_name[0]);
	CHECK(p->discovery || p->target_name[0]);
	CHECK(p->max_recv_dsl >= 512 && p->max_send_dsl >= 512);
	CHECK(p->first_burst <= p->max_burst);
	return (g_cfg & 4) ? 0 : 0x55;
}

static void rnd(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = g_rnd++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_login_env env = {.lookup = lookup, .enter_ffp = enter_ffp, .random = rnd};
	struct prk_login *l;
	size_t pos = 1;
	uint32_t statsn = 0;
	bool first = true;

	if (size < 1)
		return 0;
	g_cfg = data[0];
	g_rnd = 0;
	prk_iscsi_limits_default(&env.limits);
	l = prk_login_new(&env, 1);
	CHECK(l);
	while (pos + 6 <= size) {
		const uint8_t *rec = data + pos;
		size_t len = (size_t)rec[4] << 8 | rec[5];
		uint8_t bhs[PRK_ISCSI_BHS_LEN], rsp[PRK_ISCSI_BHS_LEN], *text, *out;
		struct prk_iscsi_login_rsp r;
		enum prk_login_result res;
		size_t olen;

		pos += 6;
		if (rec[0] & 1) {
			if (pos + PRK_ISCSI_BHS_LEN > size)
				break;
			memcpy(bhs, data + pos, PRK_ISCSI_BHS_LEN);
			pos += PRK_ISCSI_BHS_LEN;
		} else {
			struct prk_iscsi_login_req q = {0};

			q.h.opcode = PRK_ISCSI_OP_LOGIN_REQ;
			q.h.immediate = true;
			q.transit = rec[1] & 0x80;
			q.cont = rec[1] & 0x40;
			q.csg = (rec[1] >> 2) & 3;
			q.nsg = rec[1] & 3;
			q.version_min = rec[2] & 1;
			q.tsih = rec[3] & 1;
			q.isid = 0x400000000001ull;
			q.cid = 1;
			q.cmdsn = 10;
			q.h.itt = 7;
			q.h.dlen = (uint32_t)len;
			prk_iscsi_login_req_encode(&q, bhs);
		}
		if (len > size - pos)
			len = size - pos;
		/* The caller passes exactly DataSegmentLength bytes. */
		bhs[5] = 0;
		bhs[6] = (uint8_t)(len >> 8);
		bhs[7] = (uint8_t)len;
		text = malloc(len ? len : 1);
		CHECK(text);
		memcpy(text, data + pos, len);
		pos += len;
		res = prk_login_step(l, bhs, len ? text : NULL, len, rsp, &out, &olen);
		free(text);

		CHECK(prk_iscsi_login_rsp_decode(rsp, &r) == 0);
		CHECK(rsp[0] == PRK_ISCSI_OP_LOGIN_RSP);
		CHECK(r.dlen == olen && olen <= 8192 && (olen == 0) == (out == NULL));
		CHECK(!(r.transit && r.cont));
		CHECK(r.version_active == 0 && r.csg != 2 && r.csg != 3);
		if (!first)
			CHECK(r.sn.statsn == statsn + 1);
		statsn = r.sn.statsn;
		first = false;
		CHECK(r.sn.maxcmdsn == r.sn.expcmdsn + 127);
		switch (res) {
		case PRK_LOGIN_CONTINUE:
			CHECK(r.status_class == 0);
			CHECK(!r.transit || (r.nsg == 1 && r.csg == 0));
			CHECK(r.tsih == 0);
			break;
		case PRK_LOGIN_DONE:
			CHECK(r.status_class == 0 && r.transit && r.nsg == 3 && r.tsih == 0x55);
			CHECK(prk_login_tsih(l) == 0x55);
			break;
		case PRK_LOGIN_FAIL:
			CHECK(r.status_class == 2 || r.status_class == 3);
			CHECK(olen == 0 && !r.transit);
			break;
		}
		free(out);
		if (res != PRK_LOGIN_CONTINUE)
			break;
	}
	prk_login_free(l);
	return 0;
}
