/* The login phase state machine (RFC 7143 6.3, 11.12, 11.13).
 *
 * Decisions (see also negotiate.c and chap.c):
 * - The first response's StatSN comes from env->random (1 when random is
 *   NULL); every response, including C-bit acknowledgements and failures,
 *   advances it by one. ExpCmdSN is the request's CmdSN (login requests are
 *   immediate), MaxCmdSN = ExpCmdSN + cmdsn_window - 1.
 * - Request data segments with C=1 are accumulated (up to
 *   PRK_TEXT_SEGMENT_MAX) and acknowledged with an empty response (T=0,
 *   C=0); the text is processed when the C=0 request arrives. Responses
 *   longer than 8192 bytes (the initiator's MaxRecvDataSegmentLength is its
 *   default throughout login) are sent in pieces with C=1; the initiator
 *   fetches each further piece with an empty request.
 * - Stage rules: security keys (AuthMethod, CHAP_*) only in the security
 *   stage, operational keys only in the operational stage, both as the
 *   Linux target does; a misplaced key fails the login with 02/00.
 *   InitiatorName, TargetName, SessionType must come in the first request
 *   and may be repeated later only with the same value (libiscsi repeats
 *   them in the operational stage).
 * - A non-zero TSIH (adding or reinstating a connection of an existing
 *   session) is answered 02/0A: with MaxConnections=1, ERL 0 and
 *   DefaultTime2Retain 0 no session state survives for it to join.
 * - Keys the target declares: TargetPortalGroupTag (and TargetAlias when
 *   configured) in the first complete response of a Normal session, our
 *   MaxRecvDataSegmentLength in the first operational-stage response. */
#include "login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "chap.h"
#include "iname.h"
#include "negotiate.h"
#include "text.h"

#define STAGE_SECURITY 0
#define STAGE_OPERATIONAL 1
#define STAGE_FFP 3

/* RFC 7143 11.13.5 */
#define CLASS_INITIATOR_ERR 2
#define CLASS_TARGET_ERR 3
#define D_INIT_ERR 0x00
#define D_AUTH_FAIL 0x01
#define D_AUTHZ_FAIL 0x02
#define D_NOT_FOUND 0x03
#define D_UNSUPPORTED_VERSION 0x05
#define D_MISSING_PARAM 0x07
#define D_SESSION_TYPE 0x09
#define D_NO_SESSION 0x0a
#define D_INVALID_DURING_LOGIN 0x0b
#define D_TARGET_ERR 0x00
#define D_OUT_OF_RESOURCES 0x02

#define ISCSI_VERSION 0x00
/* Bound on the number of requests of one login (C-bit pieces included):
 * 64 KiB of text in 512-byte pieces plus the exchanges themselves. */
#define LOGIN_MAX_REQUESTS 256

enum auth { AUTH_UNSET, AUTH_NONE, AUTH_CHAP };

struct prk_login {
	struct prk_login_env env;
	uint16_t tpgt;
	struct prk_iscsi_params p;
	struct prk_neg neg;
	struct prk_chap chap;
	struct prk_chap_creds creds;
	enum auth auth;
	bool started;    /* the first request was seen */
	bool identified; /* names of the first complete request processed */
	bool declared;   /* TargetPortalGroupTag sent */
	bool finished;   /* PRK_LOGIN_DONE or PRK_LOGIN_FAIL returned */
	bool statsn_set;
	uint8_t stage;
	uint64_t isid;
	uint16_t req_tsih, tsih;
	uint16_t cid;
	uint32_t statsn, cmdsn;
	unsigned requests;
	struct prk_text_buf acc; /* request text of C=1 PDUs */
	/* A response being sent in pieces, and what its last piece says. */
	struct prk_text_buf out;
	size_t out_off;
	bool out_pending;
	bool fin_transit;
	uint8_t fin_nsg;
	enum prk_login_result fin_result;
	char error[PRK_LOGIN_ERROR_LEN]; /* why a login failed, for the log */
};

/* The outcome of processing one complete request text. */
struct outcome {
	uint8_t cls, detail; /* 0/0: success */
};

struct prk_login *prk_login_new(const struct prk_login_env *env, uint16_t tpgt)
{
	struct prk_login *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->env = *env;
	l->tpgt = tpgt;
	prk_neg_init(&l->neg, &l->p, &env->limits);
	prk_chap_init(&l->chap);
	return l;
}

void prk_login_free(struct prk_login *l)
{
	if (!l)
		return;
	prk_text_buf_free(&l->acc);
	prk_text_buf_free(&l->out);
	/* The credentials hold secrets. */
	memset(&l->creds, 0, sizeof(l->creds));
	free(l);
}

const char *prk_login_error(const struct prk_login *l)
{
	return l->error;
}

const struct prk_iscsi_params *prk_login_params(const struct prk_login *l)
{
	return &l->p;
}

uint64_t prk_login_isid(const struct prk_login *l)
{
	return l->isid;
}

uint16_t prk_login_tsih(const struct prk_login *l)
{
	return l->tsih;
}

uint16_t prk_login_cid(const struct prk_login *l)
{
	return l->cid;
}

uint32_t prk_login_next_statsn(const struct prk_login *l)
{
	return l->statsn;
}

uint32_t prk_login_expcmdsn(const struct prk_login *l)
{
	return l->cmdsn;
}

static void init_statsn(struct prk_login *l)
{
	uint8_t b[4];

	if (l->statsn_set)
		return;
	l->statsn_set = true;
	l->statsn = 1;
	if (l->env.random) {
		l->env.random(l->env.ctx, b, sizeof(b));
		l->statsn = prk_get_be32(b);
	}
}

/* Fills the sequence numbers and encodes the response. */
static void finish_rsp(struct prk_login *l, struct prk_iscsi_login_rsp *r, uint8_t *rsp_bhs)
{
	init_statsn(l);
	r->version_max = ISCSI_VERSION;
	r->version_active = ISCSI_VERSION;
	r->sn.statsn = l->statsn++;
	r->sn.expcmdsn = l->cmdsn;
	r->sn.maxcmdsn = l->cmdsn + l->neg.lim.cmdsn_window - 1;
	prk_iscsi_login_rsp_encode(r, rsp_bhs);
}

static enum prk_login_result fail_rsp(struct prk_login *l, struct prk_iscsi_login_rsp *r,
                                      uint8_t cls, uint8_t detail, uint8_t *rsp_bhs)
{
	r->transit = false;
	r->cont = false;
	r->nsg = 0;
	r->tsih = 0;
	r->dlen = 0;
	r->status_class = cls;
	r->status_detail = detail;
	finish_rsp(l, r, rsp_bhs);
	l->finished = true;
	prk_text_buf_free(&l->out);
	l->out_pending = false;
	return PRK_LOGIN_FAIL;
}

/* Sends the next piece of l->out. */
static enum prk_login_result send_piece(struct prk_login *l, struct prk_iscsi_login_rsp *r,
                                        uint8_t *rsp_bhs, uint8_t **rsp_data, size_t *rsp_dlen)
{
	size_t left = l->out.len - l->out_off;
	size_t n = left < PRK_NEG_DEFAULT_DSL ? left : PRK_NEG_DEFAULT_DSL;
	bool last = n == left;

	if (n) {
		*rsp_data = malloc(n);
		if (!*rsp_data)
			return fail_rsp(l, r, CLASS_TARGET_ERR, D_OUT_OF_RESOURCES, rsp_bhs);
		memcpy(*rsp_data, l->out.data + l->out_off, n);
		*rsp_dlen = n;
	}
	l->out_off += n;
	r->dlen = (uint32_t)n;
	r->cont = !last;
	r->transit = last && l->fin_transit;
	r->nsg = r->transit ? l->fin_nsg : 0;
	r->tsih = l->req_tsih;
	r->status_class = 0;
	r->status_detail = 0;
	if (!last) {
		l->out_pending = true;
		finish_rsp(l, r, rsp_bhs);
		return PRK_LOGIN_CONTINUE;
	}
	l->out_pending = false;
	prk_text_buf_free(&l->out);
	l->out_off = 0;
	if (r->transit)
		l->stage = l->fin_nsg;
	if (l->fin_result == PRK_LOGIN_DONE) {
		r->tsih = l->tsih;
		l->finished = true;
	}
	finish_rsp(l, r, rsp_bhs);
	return l->fin_result;
}

static bool kv_is(const struct prk_text_kv *kv, const char *name)
{
	return prk_text_key_is(kv, name);
}

static const char *find_value(const uint8_t *text, size_t len, const char *name)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	prk_text_iter_init(&it, text, len);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR)
		if (kv_is(&kv, name))
			return kv.value;
	return NULL;
}

static struct outcome status(uint8_t cls, uint8_t detail)
{
	return (struct outcome){cls, detail};
}

#define OK status(0, 0)
#define INIT_ERR status(CLASS_INITIATOR_ERR, D_INIT_ERR)
#define AUTH_FAIL status(CLASS_INITIATOR_ERR, D_AUTH_FAIL)
#define NOMEM status(CLASS_TARGET_ERR, D_OUT_OF_RESOURCES)

static bool valid_name(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n < PRK_ISCSI_NAME_LEN;
}

/* The leading keys of the first complete request: who logs in to what. */
static struct outcome identify(struct prk_login *l, const uint8_t *text, size_t len)
{
	const char *ini = find_value(text, len, "InitiatorName");
	const char *tgt = find_value(text, len, "TargetName");
	const char *type = find_value(text, len, "SessionType");
	const char *alias = find_value(text, len, "InitiatorAlias");
	enum prk_login_lookup lk = PRK_LOOKUP_OK;

	if (!ini)
		return status(CLASS_INITIATOR_ERR, D_MISSING_PARAM);
	/* Not UTF-8, control characters, white space...: the initiator's
	 * error (02/00) at the first PDU, with the name escaped for the log. */
	if (prk_iscsi_initiator_name_check(ini, l->error, sizeof(l->error)))
		return INIT_ERR;
	if (type && strcmp(type, "Discovery") == 0)
		l->p.discovery = true;
	else if (type && strcmp(type, "Normal") != 0)
		return status(CLASS_INITIATOR_ERR, D_SESSION_TYPE);
	strcpy(l->p.initiator_name, ini);
	if (alias)
		snprintf(l->p.initiator_alias, sizeof(l->p.initiator_alias), "%s", alias);
	if (!l->p.discovery) {
		if (!tgt)
			return status(CLASS_INITIATOR_ERR, D_MISSING_PARAM);
		if (!valid_name(tgt))
			return status(CLASS_INITIATOR_ERR, D_NOT_FOUND);
		strcpy(l->p.target_name, tgt);
	}
	memset(&l->creds, 0, sizeof(l->creds));
	if (l->env.lookup)
		lk = l->env.lookup(l->env.ctx, l->p.discovery ? NULL : l->p.target_name,
		                   l->p.initiator_name, l->tpgt, &l->creds);
	switch (lk) {
	case PRK_LOOKUP_OK:
		break;
	case PRK_LOOKUP_NOT_AUTHORIZED:
		return status(CLASS_INITIATOR_ERR, D_AUTHZ_FAIL);
	case PRK_LOOKUP_NAME_RESERVED:
		/* The name passed the check above: printable, no white space. */
		snprintf(l->error, sizeof(l->error),
		         "InitiatorName %s is the target's own (its copy manager's I_T nexus): not "
		         "allowed",
		         l->p.initiator_name);
		return INIT_ERR;
	default:
		return status(CLASS_INITIATOR_ERR, D_NOT_FOUND);
	}
	l->identified = true;
	return OK;
}

/* A leading key repeated in a later request must not change. */
static bool same_identity(const struct prk_login *l, const struct prk_text_kv *kv)
{
	if (kv_is(kv, "InitiatorName"))
		return strcmp(kv->value, l->p.initiator_name) == 0;
	if (kv_is(kv, "TargetName"))
		return l->p.discovery || strcmp(kv->value, l->p.target_name) == 0;
	if (kv_is(kv, "SessionType"))
		return strcmp(kv->value, l->p.discovery ? "Discovery" : "Normal") == 0;
	return true; /* InitiatorAlias */
}

static bool chap_configured(const struct prk_chap_creds *c)
{
	return c->user[0] && c->secret[0];
}

/* AuthMethod=<list>: the first method of the initiator's list we accept. */
static struct outcome choose_auth(struct prk_login *l, const char *list, struct prk_text_buf *out)
{
	const char *s = list;

	for (;;) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 4 && memcmp(s, "None", 4) == 0 && !l->creds.required) {
			l->auth = AUTH_NONE;
			return prk_text_buf_add(out, "AuthMethod", "None") ? NOMEM : OK;
		}
		if (n == 4 && memcmp(s, "CHAP", 4) == 0 && chap_configured(&l->creds)) {
			l->auth = AUTH_CHAP;
			return prk_text_buf_add(out, "AuthMethod", "CHAP") ? NOMEM : OK;
		}
		if (!e)
			break;
		s = e + 1;
	}
	if (prk_text_buf_add(out, "AuthMethod", "Reject"))
		return NOMEM;
	return AUTH_FAIL;
}

static bool is_chap_key(const struct prk_text_kv *kv)
{
	return kv->key_len == 6 && memcmp(kv->key, "CHAP_", 5) == 0;
}

static void collect_chap(struct prk_chap_msg *m, const struct prk_text_kv *kv)
{
	switch (kv->key[5]) {
	case 'A':
		m->a = kv->value;
		break;
	case 'I':
		m->i = kv->value;
		break;
	case 'C':
		m->c = kv->value;
		break;
	case 'N':
		m->n = kv->value;
		break;
	case 'R':
		m->r = kv->value;
		break;
	default:
		break;
	}
}

static bool known_chap_key(const struct prk_text_kv *kv)
{
	return is_chap_key(kv) && strchr("AICNR", kv->key[5]) != NULL;
}

static bool is_leading_key(const struct prk_text_kv *kv)
{
	return kv_is(kv, "InitiatorName") || kv_is(kv, "TargetName") || kv_is(kv, "SessionType") ||
	       kv_is(kv, "InitiatorAlias");
}

/* Keys only the target sends; from the initiator they are answered
 * Reject. SendTargets is for full feature phase only. */
static bool is_reject_key(const struct prk_text_kv *kv)
{
	return kv_is(kv, "TargetAlias") || kv_is(kv, "TargetAddress") ||
	       kv_is(kv, "TargetPortalGroupTag") || kv_is(kv, "SendTargets");
}

static int add_key_value(struct prk_text_buf *out, const struct prk_text_kv *kv, const char *v)
{
	return prk_text_buf_addn(out, kv->key, kv->key_len) || prk_text_buf_add(out, "", v) ? -1
	                                                                                    : 0;
}

/* Processes the keys of one complete request; appends the answers to
 * l->out. *complete: the current stage may end. */
static struct outcome process(struct prk_login *l, const uint8_t *text, size_t len, bool *complete)
{
	struct prk_chap_msg msg = {0};
	struct prk_text_iter it;
	struct prk_text_kv kv;
	bool first = !l->identified;
	struct outcome o;

	*complete = false;
	if (prk_text_check(text, len) < 0)
		return INIT_ERR;
	if (first) {
		o = identify(l, text, len);
		if (o.cls)
			return o;
	}
	prk_text_iter_init(&it, text, len);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR) {
		int k;

		if (is_leading_key(&kv)) {
			if (!first && !same_identity(l, &kv))
				return INIT_ERR;
		} else if (kv_is(&kv, "AuthMethod")) {
			if (l->stage != STAGE_SECURITY || l->auth != AUTH_UNSET)
				return INIT_ERR;
			o = choose_auth(l, kv.value, &l->out);
			if (o.cls)
				return o;
		} else if (known_chap_key(&kv)) {
			if (l->stage != STAGE_SECURITY)
				return INIT_ERR;
			collect_chap(&msg, &kv);
		} else if ((k = prk_neg_find(kv.key, kv.key_len)) >= 0) {
			if (l->stage != STAGE_OPERATIONAL)
				return INIT_ERR;
			if (prk_neg_offer(&l->neg, (enum prk_neg_key)k, kv.value))
				return INIT_ERR;
		} else if (is_reject_key(&kv)) {
			if (add_key_value(&l->out, &kv, "Reject"))
				return NOMEM;
		} else {
			/* X-, X# and every key we do not know (RFC 7143 6.2). */
			if (add_key_value(&l->out, &kv, "NotUnderstood"))
				return NOMEM;
		}
	}

	if (l->stage == STAGE_SECURITY) {
		if (l->auth == AUTH_UNSET) {
			/* No AuthMethod offered: only acceptable without CHAP. */
			if (l->creds.required)
				return AUTH_FAIL;
			l->auth = AUTH_NONE;
		}
		if (l->auth == AUTH_NONE) {
			if (msg.a || msg.i || msg.c || msg.n || msg.r)
				return INIT_ERR;
			*complete = true;
		} else {
			switch (prk_chap_step(&l->chap, &l->creds, &msg, l->env.random, l->env.ctx,
			                      &l->out)) {
			case PRK_CHAP_CONTINUE:
				break;
			case PRK_CHAP_OK:
				*complete = true;
				break;
			case PRK_CHAP_FAIL:
				return AUTH_FAIL;
			case PRK_CHAP_NOMEM:
				return NOMEM;
			}
		}
	} else {
		/* Skipping the security stage is no way around CHAP. */
		if (l->creds.required && !(l->auth == AUTH_CHAP && l->chap.state == PRK_CHAP_DONE))
			return AUTH_FAIL;
		if (prk_neg_answer(&l->neg, true, &l->out))
			return NOMEM;
		*complete = true;
	}

	if (!l->declared && !l->p.discovery) {
		/* RFC 7143 13.9: the target portal group tag in the first response
		 * of a Normal session's login. */
		l->declared = true;
		if (prk_text_buf_addf(&l->out, "TargetPortalGroupTag", "%u", l->tpgt))
			return NOMEM;
		if (l->env.target_alias && l->env.target_alias[0] &&
		    strlen(l->env.target_alias) <= PRK_TEXT_VALUE_MAX &&
		    prk_text_buf_add(&l->out, "TargetAlias", l->env.target_alias))
			return NOMEM;
	}
	return OK;
}

/* Checks the fields of a request against the login so far. */
static struct outcome check_request(struct prk_login *l, const struct prk_iscsi_login_req *q)
{
	if (!l->started) {
		l->started = true;
		l->isid = q->isid;
		l->cid = q->cid;
		l->req_tsih = q->tsih;
		l->stage = q->csg;
		/* RFC 7143 11.12.4: version 0 must lie in [min, max]. */
		if (q->version_min > ISCSI_VERSION)
			return status(CLASS_INITIATOR_ERR, D_UNSUPPORTED_VERSION);
		if (q->tsih != 0)
			return status(CLASS_INITIATOR_ERR, D_NO_SESSION);
	} else if (q->isid != l->isid || q->cid != l->cid || q->tsih != l->req_tsih) {
		return INIT_ERR;
	}
	if (q->csg != l->stage)
		return INIT_ERR;
	/* A transition only goes forward: 0 -> 1 or 3, 1 -> 3. */
	if (q->transit && q->nsg <= q->csg)
		return INIT_ERR;
	return OK;
}

enum prk_login_result prk_login_step(struct prk_login *l, const uint8_t *bhs, const uint8_t *data,
                                     size_t dlen, uint8_t rsp_bhs[PRK_ISCSI_BHS_LEN],
                                     uint8_t **rsp_data, size_t *rsp_dlen)
{
	struct prk_iscsi_login_rsp r = {0};
	struct prk_iscsi_login_req q;
	struct prk_iscsi_hdr h;
	struct outcome o;
	bool complete;
	uint8_t reason;

	*rsp_data = NULL;
	*rsp_dlen = 0;
	/* Echo what we can even of a request we refuse. */
	prk_iscsi_hdr_decode(bhs, &h);
	r.itt = h.itt;
	r.isid = h.lun >> 16;
	r.csg = (bhs[1] >> 2) & 3;
	if (r.csg > STAGE_OPERATIONAL)
		r.csg = l->stage;
	if (h.opcode != PRK_ISCSI_OP_LOGIN_REQ || l->finished)
		return fail_rsp(l, &r, CLASS_INITIATOR_ERR, D_INVALID_DURING_LOGIN, rsp_bhs);
	if (prk_iscsi_login_req_decode(bhs, &q, &reason))
		return fail_rsp(l, &r, CLASS_INITIATOR_ERR, D_INIT_ERR, rsp_bhs);
	l->cmdsn = q.cmdsn;
	if (++l->requests > LOGIN_MAX_REQUESTS || dlen != q.h.dlen || (dlen && !data))
		return fail_rsp(l, &r, CLASS_INITIATOR_ERR, D_INIT_ERR, rsp_bhs);
	o = check_request(l, &q);
	if (o.cls)
		return fail_rsp(l, &r, o.cls, o.detail, rsp_bhs);
	r.tsih = l->req_tsih;

	if (l->out_pending) {
		/* The initiator fetches the next piece of our response. */
		if (dlen || q.cont)
			return fail_rsp(l, &r, CLASS_INITIATOR_ERR, D_INIT_ERR, rsp_bhs);
		return send_piece(l, &r, rsp_bhs, rsp_data, rsp_dlen);
	}

	if (dlen > PRK_TEXT_SEGMENT_MAX - l->acc.len)
		return fail_rsp(l, &r, CLASS_INITIATOR_ERR, D_INIT_ERR, rsp_bhs);
	if (prk_text_buf_addn(&l->acc, data, dlen))
		return fail_rsp(l, &r, CLASS_TARGET_ERR, D_OUT_OF_RESOURCES, rsp_bhs);
	if (q.cont) {
		/* RFC 7143 6.3: acknowledge a partial text with an empty response. */
		finish_rsp(l, &r, rsp_bhs);
		return PRK_LOGIN_CONTINUE;
	}
	/* Every pair must end with a NUL; tolerate a missing last one. */
	if (l->acc.len && l->acc.data[l->acc.len - 1] != '\0' && prk_text_buf_addn(&l->acc, "", 1))
		return fail_rsp(l, &r, CLASS_TARGET_ERR, D_OUT_OF_RESOURCES, rsp_bhs);

	o = process(l, l->acc.data, l->acc.len, &complete);
	l->acc.len = 0;
	if (o.cls)
		return fail_rsp(l, &r, o.cls, o.detail, rsp_bhs);

	l->fin_transit = q.transit && complete;
	l->fin_nsg = q.nsg;
	l->fin_result = PRK_LOGIN_CONTINUE;
	if (l->fin_transit && q.nsg == STAGE_FFP) {
		uint16_t tsih = 0;

		if (l->env.enter_ffp)
			tsih = l->env.enter_ffp(l->env.ctx, &l->p, l->isid);
		if (tsih == 0)
			return fail_rsp(l, &r, CLASS_TARGET_ERR, D_OUT_OF_RESOURCES, rsp_bhs);
		l->tsih = tsih;
		l->fin_result = PRK_LOGIN_DONE;
	}
	l->out_off = 0;
	return send_piece(l, &r, rsp_bhs, rsp_data, rsp_dlen);
}
