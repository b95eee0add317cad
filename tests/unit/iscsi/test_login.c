/* Login state machine: whole logins as libiscsi and open-iscsi perform them,
 * and the failures RFC 7143 11.13.5 assigns a status to. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "login.h"
#include "text.h"

#define TGT "iqn.2024-01.org.prkit:t1"
#define TGT_DENIED "iqn.2024-01.org.prkit:denied"
#define TGT_RESERVED "iqn.2024-01.org.prkit:reserved"
#define INI "iqn.2024-01.org.prkit:ini"
#define ISID 0x23d000000001ull
#define TSIH 0x1234

/* ---- environment ---- */

static struct prk_chap_creds g_creds;
static uint16_t g_tsih = TSIH;
static int g_enter_calls;
static struct prk_iscsi_params g_entered;
static const char *g_lookup_target;
static uint8_t g_rand;

static enum prk_login_lookup lookup(void *ctx, const char *target_name, const char *initiator_name,
                                    uint16_t tpgt, struct prk_chap_creds *creds)
{
	(void)ctx;
	assert_int_equal(tpgt, 1);
	assert_string_equal(initiator_name, INI);
	g_lookup_target = target_name;
	*creds = g_creds;
	if (!target_name || strcmp(target_name, TGT) == 0)
		return PRK_LOOKUP_OK;
	if (strcmp(target_name, TGT_DENIED) == 0)
		return PRK_LOOKUP_NOT_AUTHORIZED;
	if (strcmp(target_name, TGT_RESERVED) == 0)
		return PRK_LOOKUP_NAME_RESERVED;
	return PRK_LOOKUP_NOT_FOUND;
}

static uint16_t enter_ffp(void *ctx, const struct prk_iscsi_params *p, uint64_t isid)
{
	(void)ctx;
	assert_int_equal(isid, ISID);
	g_enter_calls++;
	g_entered = *p;
	return g_tsih;
}

static void rnd(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = g_rand++;
}

/* ---- a scripted initiator ---- */

struct sim {
	struct prk_login *l;
	struct prk_login_env env;
	uint32_t itt, cmdsn;
	struct prk_iscsi_login_rsp r;
	uint8_t *data;
	size_t dlen;
	enum prk_login_result res;
	uint8_t version_min;
	uint16_t tsih;
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->env.lookup = lookup;
	s->env.enter_ffp = enter_ffp;
	s->env.random = rnd;
	prk_iscsi_limits_default(&s->env.limits);
	s->itt = 0x10;
	s->cmdsn = 0xfffffffe; /* MaxCmdSN wraps */
}

static void sim_start(struct sim *s)
{
	s->l = prk_login_new(&s->env, 1);
	assert_non_null(s->l);
}

static void sim_free(struct sim *s)
{
	free(s->data);
	prk_login_free(s->l);
}

/* Sends one Login Request carrying raw text bytes. */
static enum prk_login_result sim_raw(struct sim *s, int csg, int nsg, bool t, bool c,
                                     const uint8_t *text, size_t len)
{
	struct prk_iscsi_login_req q = {0};
	uint8_t bhs[PRK_ISCSI_BHS_LEN], rsp[PRK_ISCSI_BHS_LEN];

	q.h.opcode = PRK_ISCSI_OP_LOGIN_REQ;
	q.h.immediate = true;
	q.h.dlen = (uint32_t)len;
	q.h.itt = s->itt;
	q.transit = t;
	q.cont = c;
	q.csg = (uint8_t)csg;
	q.nsg = (uint8_t)nsg;
	q.version_min = s->version_min;
	q.isid = ISID;
	q.tsih = s->tsih;
	q.cid = 7;
	q.cmdsn = s->cmdsn;
	prk_iscsi_login_req_encode(&q, bhs);
	free(s->data);
	s->res = prk_login_step(s->l, bhs, text, len, rsp, &s->data, &s->dlen);
	assert_int_equal(prk_iscsi_login_rsp_decode(rsp, &s->r), 0);
	assert_int_equal(s->r.dlen, s->dlen);
	assert_int_equal(s->r.itt, s->itt);
	assert_int_equal(s->r.isid, ISID);
	assert_int_equal(s->r.sn.expcmdsn, s->cmdsn);
	assert_int_equal(s->r.sn.maxcmdsn, s->cmdsn + 127);
	assert_int_equal(s->r.version_active, 0);
	assert_true(s->dlen == 0 || s->data != NULL);
	assert_true(s->dlen <= 8192);
	if (s->r.status_class == 0)
		assert_int_equal(s->r.csg, csg);
	return s->res;
}

/* Sends pairs given as "Key=Value" strings, NULL-terminated. */
static enum prk_login_result sim_send(struct sim *s, int csg, int nsg, int t, ...)
{
	struct prk_text_buf b = {0};
	enum prk_login_result r;
	const char *kv;
	va_list ap;

	va_start(ap, t);
	while ((kv = va_arg(ap, const char *)) != NULL)
		assert_int_equal(prk_text_buf_addn(&b, kv, strlen(kv) + 1), 0);
	va_end(ap);
	r = sim_raw(s, csg, nsg, t != 0, false, b.data, b.len);
	prk_text_buf_free(&b);
	return r;
}

/* Value of key in the last response, or NULL. */
static const char *rsp_value(struct sim *s, const char *key)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	prk_text_iter_init(&it, s->data, s->dlen);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR)
		if (prk_text_key_is(&kv, key))
			return kv.value;
	return NULL;
}

static void assert_rsp(struct sim *s, const char *key, const char *value)
{
	const char *v = rsp_value(s, key);

	if (!v)
		fail_msg("no %s in the response", key);
	assert_string_equal(v, value);
}

static void assert_status(struct sim *s, int cls, int detail)
{
	assert_int_equal(s->r.status_class, cls);
	assert_int_equal(s->r.status_detail, detail);
	if (cls) {
		assert_int_equal(s->res, PRK_LOGIN_FAIL);
		assert_false(s->r.transit);
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&g_creds, 0, sizeof(g_creds));
	g_tsih = TSIH;
	g_enter_calls = 0;
	g_rand = 0x40;
	g_lookup_target = NULL;
	return 0;
}

#define OP_KEYS                                                                                    \
	"HeaderDigest=None,CRC32C", "DataDigest=None", "DefaultTime2Wait=2",                       \
	    "DefaultTime2Retain=0", "IFMarker=No", "OFMarker=No", "ErrorRecoveryLevel=0",          \
	    "InitialR2T=No", "ImmediateData=Yes", "MaxBurstLength=16776192",                       \
	    "FirstBurstLength=262144", "MaxOutstandingR2T=1", "MaxConnections=1",                  \
	    "DataPDUInOrder=Yes", "DataSequenceInOrder=Yes", "MaxRecvDataSegmentLength=262144"

/* What libiscsi sends without CHAP: one request, operational stage
 * straight to full feature phase. */
static void test_libiscsi_login(void **state)
{
	struct sim s;
	const struct prk_iscsi_params *p;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "InitiatorAlias=host1", "TargetName=" TGT,
	         "SessionType=Normal", OP_KEYS, NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_true(s.r.transit);
	assert_int_equal(s.r.nsg, 3);
	assert_int_equal(s.r.tsih, TSIH);
	assert_int_equal(g_enter_calls, 1);
	assert_string_equal(g_lookup_target, TGT);
	/* The first StatSN comes from env->random: 40 41 42 43. */
	assert_int_equal(s.r.sn.statsn, 0x40414243);
	assert_int_equal(prk_login_next_statsn(s.l), 0x40414244);
	assert_int_equal(prk_login_expcmdsn(s.l), s.cmdsn);
	assert_int_equal(prk_login_tsih(s.l), TSIH);
	assert_int_equal(prk_login_cid(s.l), 7);
	assert_int_equal(prk_login_isid(s.l), ISID);

	assert_rsp(&s, "HeaderDigest", "None");
	assert_rsp(&s, "DataDigest", "None");
	assert_rsp(&s, "DefaultTime2Wait", "2");
	assert_rsp(&s, "DefaultTime2Retain", "0");
	assert_rsp(&s, "IFMarker", "No");
	assert_rsp(&s, "OFMarker", "No");
	assert_rsp(&s, "ErrorRecoveryLevel", "0");
	assert_rsp(&s, "InitialR2T", "No");
	assert_rsp(&s, "ImmediateData", "Yes");
	assert_rsp(&s, "MaxBurstLength", "1048576");
	assert_rsp(&s, "FirstBurstLength", "65536");
	assert_rsp(&s, "MaxOutstandingR2T", "1");
	assert_rsp(&s, "MaxConnections", "1");
	assert_rsp(&s, "DataPDUInOrder", "Yes");
	assert_rsp(&s, "DataSequenceInOrder", "Yes");
	assert_rsp(&s, "MaxRecvDataSegmentLength", "262144");
	assert_rsp(&s, "TargetPortalGroupTag", "1");
	assert_null(rsp_value(&s, "TargetAlias"));

	p = prk_login_params(s.l);
	assert_false(p->discovery);
	assert_string_equal(p->initiator_name, INI);
	assert_string_equal(p->initiator_alias, "host1");
	assert_string_equal(p->target_name, TGT);
	assert_false(p->header_digest);
	assert_false(p->data_digest);
	assert_int_equal(p->max_send_dsl, 262144);
	assert_int_equal(p->max_recv_dsl, 262144);
	assert_int_equal(p->max_burst, 1048576);
	assert_int_equal(p->first_burst, 65536);
	assert_false(p->initial_r2t);
	assert_true(p->immediate_data);
	assert_int_equal(p->max_outstanding_r2t, 1);
	assert_true(p->data_pdu_in_order);
	assert_true(p->data_seq_in_order);
	assert_int_equal(p->default_time2wait, 2);
	assert_int_equal(p->default_time2retain, 0);
	assert_int_equal(p->error_recovery_level, 0);
	assert_int_equal(p->max_connections, 1);
	assert_memory_equal(&g_entered, p, sizeof(*p));
	sim_free(&s);
}

/* Every key at values that differ from ours, and the configured limits. */
static void test_every_key(void **state)
{
	struct sim s;
	const struct prk_iscsi_params *p;

	(void)state;
	sim_init(&s);
	s.env.limits.max_recv_dsl = 65536;
	s.env.limits.max_burst = 131072;
	s.env.limits.first_burst = 8192;
	s.env.limits.max_outstanding_r2t = 4;
	s.env.limits.allow_immediate_data = false;
	s.env.limits.cmdsn_window = 128;
	s.env.target_alias = "disk array";
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, "HeaderDigest=CRC32C",
	         "DataDigest=CRC32C,None", "DefaultTime2Wait=10", "DefaultTime2Retain=30",
	         "ErrorRecoveryLevel=2", "InitialR2T=Yes", "ImmediateData=Yes",
	         "MaxBurstLength=65536", "FirstBurstLength=0x10000", "MaxOutstandingR2T=8",
	         "MaxConnections=4", "DataPDUInOrder=No", "DataSequenceInOrder=No",
	         "MaxRecvDataSegmentLength=4096", "IFMarkInt=2048~8192", "OFMarkInt=2048", NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_rsp(&s, "HeaderDigest", "CRC32C");
	assert_rsp(&s, "DataDigest", "CRC32C");
	assert_rsp(&s, "DefaultTime2Wait", "10");
	assert_rsp(&s, "DefaultTime2Retain", "0");
	assert_rsp(&s, "ErrorRecoveryLevel", "0");
	assert_rsp(&s, "InitialR2T", "Yes");
	assert_rsp(&s, "ImmediateData", "No");
	assert_rsp(&s, "MaxBurstLength", "65536");
	assert_rsp(&s, "FirstBurstLength", "8192");
	assert_rsp(&s, "MaxOutstandingR2T", "4");
	assert_rsp(&s, "MaxConnections", "1");
	assert_rsp(&s, "DataPDUInOrder", "Yes");
	assert_rsp(&s, "DataSequenceInOrder", "Yes");
	assert_rsp(&s, "IFMarkInt", "Irrelevant");
	assert_rsp(&s, "OFMarkInt", "Irrelevant");
	assert_rsp(&s, "MaxRecvDataSegmentLength", "65536");
	assert_rsp(&s, "TargetAlias", "disk array");
	p = prk_login_params(s.l);
	assert_true(p->header_digest);
	assert_true(p->data_digest);
	assert_int_equal(p->default_time2wait, 10);
	assert_int_equal(p->max_send_dsl, 4096);
	assert_int_equal(p->max_recv_dsl, 65536);
	assert_int_equal(p->max_burst, 65536);
	assert_int_equal(p->first_burst, 8192);
	assert_true(p->initial_r2t);
	assert_false(p->immediate_data);
	assert_int_equal(p->max_outstanding_r2t, 4);
	sim_free(&s);
}

/* Keys left out keep the RFC defaults; our MaxRecvDataSegmentLength is
 * declared anyway. */
static void test_defaults(void **state)
{
	struct sim s;
	const struct prk_iscsi_params *p;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_rsp(&s, "MaxRecvDataSegmentLength", "262144");
	assert_null(rsp_value(&s, "MaxBurstLength"));
	p = prk_login_params(s.l);
	assert_int_equal(p->max_send_dsl, 8192);
	assert_int_equal(p->max_burst, 262144);
	assert_int_equal(p->first_burst, 65536);
	assert_true(p->initial_r2t);
	assert_true(p->immediate_data);
	assert_int_equal(p->default_time2retain, 20);
	sim_free(&s);
}

/* Security stage with AuthMethod=None, then operational stage where
 * libiscsi repeats the names. */
static void test_security_none_then_operational(void **state)
{
	struct sim s;
	uint32_t statsn;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 0, 1, true, "InitiatorName=" INI, "TargetName=" TGT, "SessionType=Normal",
	         "AuthMethod=CHAP,None", NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_CONTINUE);
	assert_true(s.r.transit);
	assert_int_equal(s.r.nsg, 1);
	assert_int_equal(s.r.tsih, 0);
	assert_rsp(&s, "AuthMethod", "None");
	assert_rsp(&s, "TargetPortalGroupTag", "1");
	statsn = s.r.sn.statsn;
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, "SessionType=Normal",
	         OP_KEYS, NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_int_equal(s.r.sn.statsn, statsn + 1);
	assert_int_equal(s.r.tsih, TSIH);
	assert_null(rsp_value(&s, "TargetPortalGroupTag"));
	assert_rsp(&s, "MaxRecvDataSegmentLength", "262144");
	sim_free(&s);
}

/* Security stage straight to full feature phase: nothing declared, so the
 * initiator may only send us 8192-byte PDUs. */
static void test_security_to_ffp(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 0, 3, true, "InitiatorName=" INI, "TargetName=" TGT, "AuthMethod=None", NULL);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_int_equal(prk_login_params(s.l)->max_recv_dsl, 8192);
	sim_free(&s);
}

static void set_chap(bool mutual)
{
	g_creds.required = true;
	strcpy(g_creds.user, "alice");
	strcpy(g_creds.secret, "secretsecret");
	if (mutual) {
		g_creds.mutual = true;
		strcpy(g_creds.mutual_user, "target1");
		strcpy(g_creds.mutual_secret, "targetsecret1");
	}
}

/* Runs the CHAP exchange the way libiscsi does; returns after the
 * CHAP_N/CHAP_R request. */
static void chap_login(struct sim *s, const char *secret, const char *mutual_c)
{
	uint8_t chal[PRK_CHAP_BINARY_MAX], rsp[PRK_CHAP_DIGEST_LEN];
	char hex[2 * PRK_CHAP_DIGEST_LEN + 3], n[300], r[64], i[32], c[2200];
	size_t len;
	uint32_t id;

	sim_send(s, 0, 1, true, "InitiatorName=" INI, "TargetName=" TGT, "SessionType=Normal",
	         "AuthMethod=CHAP,None", NULL);
	assert_status(s, 0, 0);
	assert_false(s->r.transit);
	assert_rsp(s, "AuthMethod", "CHAP");
	sim_send(s, 0, 1, false, "CHAP_A=5", NULL);
	assert_status(s, 0, 0);
	assert_false(s->r.transit);
	assert_rsp(s, "CHAP_A", "5");
	assert_int_equal(prk_text_parse_u32(rsp_value(s, "CHAP_I"), 255, &id), 0);
	assert_int_equal(prk_chap_decode_binary(rsp_value(s, "CHAP_C"), chal, sizeof(chal), &len),
	                 0);
	assert_int_equal(len, 16);
	prk_chap_md5((uint8_t)id, secret, chal, len, rsp);
	prk_chap_encode_hex(rsp, sizeof(rsp), hex);
	snprintf(n, sizeof(n), "CHAP_N=%s", "alice");
	snprintf(r, sizeof(r), "CHAP_R=%s", hex);
	if (mutual_c) {
		snprintf(i, sizeof(i), "CHAP_I=%u", 0x2a);
		snprintf(c, sizeof(c), "CHAP_C=%s", mutual_c);
		sim_send(s, 0, 1, true, n, r, i, c, NULL);
	} else {
		sim_send(s, 0, 1, true, n, r, NULL);
	}
}

static void test_chap_one_way(void **state)
{
	struct sim s;

	(void)state;
	set_chap(false);
	sim_init(&s);
	sim_start(&s);
	chap_login(&s, "secretsecret", NULL);
	assert_status(&s, 0, 0);
	assert_true(s.r.transit);
	assert_int_equal(s.r.nsg, 1);
	assert_null(rsp_value(&s, "CHAP_R"));
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, OP_KEYS, NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	sim_free(&s);
}

static void test_chap_mutual(void **state)
{
	struct sim s;

	(void)state;
	set_chap(true);
	sim_init(&s);
	sim_start(&s);
	chap_login(&s, "secretsecret", "0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	assert_status(&s, 0, 0);
	assert_true(s.r.transit);
	assert_rsp(&s, "CHAP_N", "target1");
	/* MD5(0x2a || "targetsecret1" || f0..ff), from md5sum. */
	assert_rsp(&s, "CHAP_R", "0x5b3cddcf7c9bd49a19eab0cc5badc8f2");
	sim_send(&s, 1, 3, true, OP_KEYS, NULL);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	sim_free(&s);
}

static void test_chap_wrong_secret(void **state)
{
	struct sim s;

	(void)state;
	set_chap(false);
	sim_init(&s);
	sim_start(&s);
	chap_login(&s, "wrongsecret!", NULL);
	assert_status(&s, 2, 1);
	assert_int_equal(g_enter_calls, 0);
	/* Nothing more is accepted after a failure. */
	sim_send(&s, 0, 1, true, "CHAP_N=alice", NULL);
	assert_status(&s, 2, 0x0b);
	sim_free(&s);
}

static void test_chap_mutual_reflection(void **state)
{
	struct sim s;
	char c[64];

	(void)state;
	set_chap(true);
	sim_init(&s);
	sim_start(&s);
	/* The challenge will be the random bytes after the 4 of StatSN and
	 * the 1 of CHAP_I: 0x45..0x54. */
	strcpy(c, "0x");
	for (int i = 0; i < 16; i++)
		sprintf(c + 2 + 2 * i, "%02x", 0x45 + i);
	chap_login(&s, "secretsecret", c);
	assert_status(&s, 2, 1);
	sim_free(&s);
}

static void test_chap_required_but_skipped(void **state)
{
	struct sim s;

	(void)state;
	set_chap(false);
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, OP_KEYS, NULL);
	assert_status(&s, 2, 1);
	sim_free(&s);

	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 0, 1, true, "InitiatorName=" INI, "TargetName=" TGT, "AuthMethod=None", NULL);
	assert_status(&s, 2, 1);
	assert_int_equal(s.dlen, 0); /* failure responses carry no text */
	sim_free(&s);
}

static void test_unknown_target(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=iqn.2024-01.org.prkit:nope",
	         NULL);
	assert_status(&s, 2, 3);
	assert_int_equal(s.dlen, 0);
	sim_free(&s);
}

static void test_acl_denied(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT_DENIED, NULL);
	assert_status(&s, 2, 2);
	sim_free(&s);
}

/* A name the target keeps for itself (its copy manager's): initiator
 * error 02/00, no session, and a reason for the log. */
static void test_reserved_name(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT_RESERVED, NULL);
	assert_status(&s, 2, 0);
	assert_int_equal(g_enter_calls, 0);
	assert_string_equal(prk_login_error(s.l),
	                    "InitiatorName " INI " is the target's own (its copy manager's I_T "
	                    "nexus): not allowed");
	sim_free(&s);
}

static void test_discovery(void **state)
{
	struct sim s;
	const struct prk_iscsi_params *p;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "SessionType=Discovery", OP_KEYS, NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_null(g_lookup_target);
	assert_null(rsp_value(&s, "TargetPortalGroupTag"));
	assert_rsp(&s, "MaxBurstLength", "Irrelevant");
	assert_rsp(&s, "InitialR2T", "Irrelevant");
	assert_rsp(&s, "HeaderDigest", "None");
	assert_rsp(&s, "MaxRecvDataSegmentLength", "262144");
	p = prk_login_params(s.l);
	assert_true(p->discovery);
	assert_string_equal(p->target_name, "");
	assert_int_equal(p->max_send_dsl, 262144);
	sim_free(&s);
}

/* A request text spread over three PDUs with C=1. */
static void test_cbit_request(void **state)
{
	struct sim s;
	struct prk_text_buf b = {0};
	const char *keys[] = {"InitiatorName=" INI, "TargetName=" TGT, OP_KEYS};
	size_t cut1, cut2;
	uint32_t statsn;

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		prk_text_buf_addn(&b, keys[i], strlen(keys[i]) + 1);
	cut1 = 10; /* inside "InitiatorName" */
	cut2 = b.len / 2;
	sim_init(&s);
	sim_start(&s);
	sim_raw(&s, 1, 3, false, true, b.data, cut1);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_CONTINUE);
	assert_false(s.r.transit);
	assert_false(s.r.cont);
	assert_int_equal(s.dlen, 0);
	statsn = s.r.sn.statsn;
	sim_raw(&s, 1, 3, false, true, b.data + cut1, cut2 - cut1);
	assert_int_equal(s.res, PRK_LOGIN_CONTINUE);
	assert_int_equal(s.dlen, 0);
	assert_int_equal(s.r.sn.statsn, statsn + 1);
	sim_raw(&s, 1, 3, true, false, b.data + cut2, b.len - cut2);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_rsp(&s, "MaxBurstLength", "1048576");
	assert_int_equal(s.r.sn.statsn, statsn + 2);
	prk_text_buf_free(&b);
	sim_free(&s);
}

/* A response longer than 8192 bytes goes out in pieces. */
static void test_long_response(void **state)
{
	struct sim s;
	struct prk_text_buf b = {0}, got = {0};
	char kv[80];
	int pieces = 0;

	(void)state;
	prk_text_buf_addn(&b, "InitiatorName=" INI, strlen("InitiatorName=" INI) + 1);
	prk_text_buf_addn(&b, "TargetName=" TGT, strlen("TargetName=" TGT) + 1);
	for (int i = 0; i < 600; i++) {
		snprintf(kv, sizeof(kv), "X-org.example.key%04d=v", i);
		prk_text_buf_addn(&b, kv, strlen(kv) + 1);
	}
	sim_init(&s);
	sim_start(&s);
	sim_raw(&s, 1, 3, true, false, b.data, b.len);
	while (s.r.cont) {
		assert_int_equal(s.res, PRK_LOGIN_CONTINUE);
		assert_false(s.r.transit);
		assert_int_equal(s.dlen, 8192);
		prk_text_buf_addn(&got, s.data, s.dlen);
		pieces++;
		sim_raw(&s, 1, 3, true, false, NULL, 0);
	}
	prk_text_buf_addn(&got, s.data, s.dlen);
	assert_true(pieces >= 1);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	assert_true(s.r.transit);
	assert_int_equal(s.r.tsih, TSIH);
	assert_int_equal(prk_text_check(got.data, got.len), 600 + 2);
	assert_non_null(memmem(got.data, got.len, "X-org.example.key0599=NotUnderstood", 35));
	prk_text_buf_free(&b);
	prk_text_buf_free(&got);
	sim_free(&s);
}

static void test_missing_initiator_name(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "TargetName=" TGT, NULL);
	assert_status(&s, 2, 7);
	sim_free(&s);

	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "SessionType=Normal", NULL);
	assert_status(&s, 2, 7);
	sim_free(&s);
}

static void test_unsupported_version(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	s.version_min = 1;
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_status(&s, 2, 5);
	sim_free(&s);
}

static void test_nonzero_tsih(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	s.tsih = 5;
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_status(&s, 2, 0x0a);
	sim_free(&s);
}

static void test_unknown_keys(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, "X-com.example.foo=1",
	         "X#bar=2", "iSCSIProtocolLevel=1", "TargetAlias=me", "MaxBurstLength=100", NULL);
	assert_status(&s, 0, 0);
	assert_rsp(&s, "X-com.example.foo", "NotUnderstood");
	assert_rsp(&s, "X#bar", "NotUnderstood");
	assert_rsp(&s, "iSCSIProtocolLevel", "NotUnderstood");
	assert_rsp(&s, "TargetAlias", "Reject");
	/* Out of range: Reject, the default stays. */
	assert_rsp(&s, "MaxBurstLength", "Reject");
	assert_int_equal(prk_login_params(s.l)->max_burst, 262144);
	sim_free(&s);
}

static void test_protocol_errors(void **state)
{
	struct sim s;
	uint8_t bhs[PRK_ISCSI_BHS_LEN] = {0}, rsp[PRK_ISCSI_BHS_LEN], *d;
	size_t dl;

	(void)state;
	/* Operational key in the security stage. */
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 0, 1, true, "InitiatorName=" INI, "TargetName=" TGT, "MaxBurstLength=512",
	         NULL);
	assert_status(&s, 2, 0);
	sim_free(&s);
	/* Duplicate key. */
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, "MaxBurstLength=512",
	         "MaxBurstLength=1024", NULL);
	assert_status(&s, 2, 0);
	sim_free(&s);
	/* Stage going backwards. */
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 0, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_status(&s, 2, 0);
	sim_free(&s);
	/* Name changing between requests. */
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 0, 1, true, "InitiatorName=" INI, "TargetName=" TGT, "AuthMethod=None", NULL);
	sim_send(&s, 1, 3, true, "TargetName=iqn.2024-01.org.prkit:other", NULL);
	assert_status(&s, 2, 0);
	sim_free(&s);
	/* Malformed text. */
	sim_init(&s);
	sim_start(&s);
	sim_raw(&s, 1, 3, true, false, (const uint8_t *)"InitiatorName\0", 14);
	assert_status(&s, 2, 0);
	sim_free(&s);
	/* Not a Login Request at all. */
	sim_init(&s);
	sim_start(&s);
	bhs[0] = PRK_ISCSI_OP_NOP_OUT | 0x40;
	bhs[1] = 0x80;
	assert_int_equal(prk_login_step(s.l, bhs, NULL, 0, rsp, &d, &dl), PRK_LOGIN_FAIL);
	assert_null(d);
	assert_int_equal(rsp[0], PRK_ISCSI_OP_LOGIN_RSP);
	assert_int_equal(rsp[36], 2);
	assert_int_equal(rsp[37], 0x0b);
	sim_free(&s);
}

/* An InitiatorName that is not UTF-8, or holds control characters or
 * white space, is the initiator's error (02/00) at the first PDU, before
 * any lookup or session; the reason quotes it escaped, never raw. */
static void test_bad_initiator_name(void **state)
{
	static const struct {
		const char *name, *why;
	} bad[] = {
	    {INI "\xff", "InitiatorName \"" INI "\\xff\" is not valid UTF-8 (byte 25)"},
	    {INI "\xc0\xaf", "is not valid UTF-8 (byte 25)"},     /* overlong '/' */
	    {INI "\xed\xa0\x80", "is not valid UTF-8 (byte 25)"}, /* a surrogate */
	    {INI "\xf4\x90\x80\x80", "is not valid UTF-8"},       /* above U+10FFFF */
	    {INI "\xe2\x82", "is not valid UTF-8 (byte 25)"},     /* cut short */
	    {INI "\x1b[31m", "\\x1b[31m\" holds a control character (byte 25)"},
	    {"iqn.2024-01.org.prkit:\x7f", "holds a control character (byte 22)"},
	    {INI "\xc2\x85", "holds a control character (byte 25)"}, /* C1 NEL */
	    {"iqn.2024-01.org.prkit: ini", "holds a space (byte 22)"},
	    {"iqn.2024-01.org.prkit:a,b", "holds a comma (byte 23)"},
	    {"iqn.2024-01.org.prkit:\xc3\xa9", "holds a character outside ASCII"},
	};
	struct sim s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char kv[300];
		snprintf(kv, sizeof(kv), "InitiatorName=%s", bad[i].name);
		sim_init(&s);
		sim_start(&s);
		sim_send(&s, 1, 3, true, kv, "TargetName=" TGT, NULL);
		assert_status(&s, 2, 0);
		const char *why = prk_login_error(s.l);
		if (!strstr(why, bad[i].why))
			fail_msg("%zu: \"%s\" lacks \"%s\"", i, why, bad[i].why);
		for (const char *c = why; *c; c++)
			assert_true(*c >= 0x20 && *c < 0x7f);
		assert_null(g_lookup_target);
		assert_int_equal(g_enter_calls, 0);
		sim_free(&s);
	}
	/* A good login leaves no reason behind. */
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_status(&s, 0, 0);
	assert_string_equal(prk_login_error(s.l), "");
	sim_free(&s);
}

static void test_enter_ffp_fails(void **state)
{
	struct sim s;

	(void)state;
	g_tsih = 0;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 3, true, "InitiatorName=" INI, "TargetName=" TGT, NULL);
	assert_status(&s, 3, 2);
	sim_free(&s);
}

/* The operational stage without T stays there until the initiator asks. */
static void test_operational_rounds(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 0, false, "InitiatorName=" INI, "TargetName=" TGT, "MaxBurstLength=4096",
	         NULL);
	assert_status(&s, 0, 0);
	assert_int_equal(s.res, PRK_LOGIN_CONTINUE);
	assert_false(s.r.transit);
	assert_rsp(&s, "MaxBurstLength", "4096");
	assert_rsp(&s, "MaxRecvDataSegmentLength", "262144");
	sim_send(&s, 1, 3, true, "FirstBurstLength=65536", NULL);
	assert_int_equal(s.res, PRK_LOGIN_DONE);
	/* Clamped to MaxBurstLength. */
	assert_rsp(&s, "FirstBurstLength", "4096");
	assert_null(rsp_value(&s, "MaxRecvDataSegmentLength"));
	/* The same key again in a later request is a protocol error. */
	sim_free(&s);
	sim_init(&s);
	sim_start(&s);
	sim_send(&s, 1, 0, false, "InitiatorName=" INI, "TargetName=" TGT, "MaxBurstLength=4096",
	         NULL);
	sim_send(&s, 1, 3, true, "MaxBurstLength=4096", NULL);
	assert_status(&s, 2, 0);
	sim_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_libiscsi_login, setup),
	    cmocka_unit_test_setup(test_every_key, setup),
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_security_none_then_operational, setup),
	    cmocka_unit_test_setup(test_security_to_ffp, setup),
	    cmocka_unit_test_setup(test_chap_one_way, setup),
	    cmocka_unit_test_setup(test_chap_mutual, setup),
	    cmocka_unit_test_setup(test_chap_wrong_secret, setup),
	    cmocka_unit_test_setup(test_chap_mutual_reflection, setup),
	    cmocka_unit_test_setup(test_chap_required_but_skipped, setup),
	    cmocka_unit_test_setup(test_unknown_target, setup),
	    cmocka_unit_test_setup(test_acl_denied, setup),
	    cmocka_unit_test_setup(test_reserved_name, setup),
	    cmocka_unit_test_setup(test_discovery, setup),
	    cmocka_unit_test_setup(test_cbit_request, setup),
	    cmocka_unit_test_setup(test_long_response, setup),
	    cmocka_unit_test_setup(test_missing_initiator_name, setup),
	    cmocka_unit_test_setup(test_unsupported_version, setup),
	    cmocka_unit_test_setup(test_nonzero_tsih, setup),
	    cmocka_unit_test_setup(test_unknown_keys, setup),
	    cmocka_unit_test_setup(test_protocol_errors, setup),
	    cmocka_unit_test_setup(test_bad_initiator_name, setup),
	    cmocka_unit_test_setup(test_enter_ffp_fails, setup),
	    cmocka_unit_test_setup(test_operational_rounds, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
