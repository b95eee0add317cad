/* Text Requests in full feature phase (RFC 7143 6.2, 11.10, 11.11):
 * SendTargets, and answers to everything else.
 *
 * Decisions:
 * - SendTargets=All is served in Discovery sessions only; in a Normal
 *   session it is answered SendTargets=Reject (RFC 7143 appendix C: a
 *   Normal session may ask for its own target or a named one).
 * - Every key that RFC 7143 allows only during login (leading, security and
 *   operational keys) is answered Reject; an ERL 0 target renegotiates
 *   nothing in full feature phase. MaxRecvDataSegmentLength is declarative
 *   and allowed in FFP by the RFC, but this interface cannot hand a new
 *   value to the connection, so it is rejected too.
 * - Unknown and X- keys get NotUnderstood.
 * - A request with C=1 is acknowledged with an empty response (F=0, TTT
 *   set); its continuation carries that TTT (or 0xffffffff, tolerated).
 *   Answers longer than the initiator's MaxRecvDataSegmentLength go out in
 *   pieces with C=1, F=0 and a TTT; the initiator asks for each next piece
 *   with an empty request carrying the TTT. A new request with TTT
 *   0xffffffff drops an unfinished answer (RFC 7143 11.10.4). */
#include "login.h"

#include <stdlib.h>
#include <string.h>

#include "negotiate.h"
#include "text.h"

struct prk_text {
	struct prk_text_env env;
	bool discovery;
	char initiator_name[PRK_ISCSI_NAME_LEN];
	uint32_t max_send_dsl;
	uint32_t next_ttt;
	uint32_t ttt;    /* of the exchange in progress */
	bool acc_active; /* we acknowledged C=1 pieces */
	struct prk_text_buf acc;
	bool out_pending;
	struct prk_text_buf out;
	size_t out_off;
};

struct prk_text *prk_text_new(const struct prk_text_env *env, const struct prk_iscsi_params *p)
{
	struct prk_text *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->env = *env;
	t->discovery = p->discovery;
	memcpy(t->initiator_name, p->initiator_name, sizeof(t->initiator_name));
	t->initiator_name[sizeof(t->initiator_name) - 1] = '\0';
	t->max_send_dsl = p->max_send_dsl < PRK_NEG_LEN_MIN ? PRK_NEG_LEN_MIN : p->max_send_dsl;
	t->next_ttt = 1;
	return t;
}

void prk_text_free(struct prk_text *t)
{
	if (!t)
		return;
	prk_text_buf_free(&t->acc);
	prk_text_buf_free(&t->out);
	free(t);
}

static uint32_t new_ttt(struct prk_text *t)
{
	uint32_t v = t->next_ttt++;

	if (t->next_ttt == PRK_ISCSI_RSVD_TAG)
		t->next_ttt = 1;
	return v;
}

static bool login_only_key(const struct prk_text_kv *kv)
{
	static const char *const names[] = {
	    "InitiatorName", "TargetName",    "SessionType",          "InitiatorAlias",
	    "TargetAlias",   "TargetAddress", "TargetPortalGroupTag", "AuthMethod",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (prk_text_key_is(kv, names[i]))
			return true;
	if (kv->key_len == 6 && memcmp(kv->key, "CHAP_", 5) == 0)
		return true;
	return prk_neg_find(kv->key, kv->key_len) >= 0;
}

static int answer(struct prk_text *t, const uint8_t *text, size_t len)
{
	struct prk_text_iter it;
	struct prk_text_kv kv;

	prk_text_iter_init(&it, text, len);
	while (prk_text_iter_next(&it, &kv) == PRK_TEXT_PAIR) {
		const char *v = NULL;

		if (prk_text_key_is(&kv, "SendTargets")) {
			if (!t->discovery && strcmp(kv.value, "All") == 0)
				v = "Reject";
			else if (t->env.send_targets)
				t->env.send_targets(t->env.ctx, t->initiator_name, kv.value,
				                    &t->out);
		} else if (login_only_key(&kv)) {
			v = "Reject";
		} else {
			v = "NotUnderstood";
		}
		if (v && (prk_text_buf_addn(&t->out, kv.key, kv.key_len) ||
		          prk_text_buf_add(&t->out, "", v)))
			return -1;
	}
	return 0;
}

static int send_piece(struct prk_text *t, struct prk_iscsi_text_rsp *r, uint8_t *rsp_bhs,
                      uint8_t **rsp_data, size_t *rsp_dlen, uint8_t *reject_reason)
{
	size_t left = t->out.len - t->out_off;
	size_t n = left < t->max_send_dsl ? left : t->max_send_dsl;
	bool last = n == left;

	if (n) {
		*rsp_data = malloc(n);
		if (!*rsp_data) {
			*reject_reason = PRK_REJECT_OUT_OF_RESOURCES;
			return -1;
		}
		memcpy(*rsp_data, t->out.data + t->out_off, n);
		*rsp_dlen = n;
	}
	t->out_off += n;
	r->dlen = (uint32_t)n;
	r->final = last;
	r->cont = !last;
	if (last) {
		r->ttt = PRK_ISCSI_RSVD_TAG;
		t->out_pending = false;
		prk_text_buf_free(&t->out);
		t->out_off = 0;
	} else {
		if (!t->out_pending)
			t->ttt = new_ttt(t);
		r->ttt = t->ttt;
		t->out_pending = true;
	}
	prk_iscsi_text_rsp_encode(r, rsp_bhs);
	return 0;
}

static int reject(uint8_t *reject_reason, uint8_t reason)
{
	*reject_reason = reason;
	return -1;
}

int prk_text_step(struct prk_text *t, const uint8_t *bhs, const uint8_t *data, size_t dlen,
                  const struct prk_iscsi_sn *sn, uint8_t rsp_bhs[PRK_ISCSI_BHS_LEN],
                  uint8_t **rsp_data, size_t *rsp_dlen, uint8_t *reject_reason)
{
	struct prk_iscsi_text_rsp r = {0};
	struct prk_iscsi_text_req q;
	int ret;

	*rsp_data = NULL;
	*rsp_dlen = 0;
	if (prk_iscsi_text_req_decode(bhs, &q, reject_reason))
		return -1;
	if (dlen != q.h.dlen || (dlen && !data))
		return reject(reject_reason, PRK_REJECT_PROTOCOL_ERROR);
	r.itt = q.h.itt;
	r.lun = q.h.lun;
	r.sn = *sn;

	if (q.ttt != PRK_ISCSI_RSVD_TAG) {
		if (q.ttt != t->ttt || !(t->out_pending || t->acc_active))
			return reject(reject_reason, PRK_REJECT_INVALID_PDU_FIELD);
		if (t->out_pending) {
			if (dlen || q.cont)
				return reject(reject_reason, PRK_REJECT_PROTOCOL_ERROR);
			return send_piece(t, &r, rsp_bhs, rsp_data, rsp_dlen, reject_reason);
		}
	} else {
		/* A new request resets an unfinished exchange. */
		if (t->out_pending) {
			t->out_pending = false;
			prk_text_buf_free(&t->out);
			t->out_off = 0;
		}
		if (!t->acc_active)
			t->acc.len = 0;
	}

	if (dlen > PRK_TEXT_SEGMENT_MAX - t->acc.len) {
		t->acc_active = false;
		t->acc.len = 0;
		return reject(reject_reason, PRK_REJECT_OUT_OF_RESOURCES);
	}
	if (prk_text_buf_addn(&t->acc, data, dlen))
		return reject(reject_reason, PRK_REJECT_OUT_OF_RESOURCES);
	if (q.cont) {
		if (!t->acc_active)
			t->ttt = new_ttt(t);
		t->acc_active = true;
		r.final = false;
		r.ttt = t->ttt;
		prk_iscsi_text_rsp_encode(&r, rsp_bhs);
		return 0;
	}
	t->acc_active = false;
	if (t->acc.len && t->acc.data[t->acc.len - 1] != '\0' && prk_text_buf_addn(&t->acc, "", 1))
		return reject(reject_reason, PRK_REJECT_OUT_OF_RESOURCES);
	if (prk_text_check(t->acc.data, t->acc.len) < 0) {
		t->acc.len = 0;
		return reject(reject_reason, PRK_REJECT_PROTOCOL_ERROR);
	}
	prk_text_buf_free(&t->out);
	t->out_off = 0;
	ret = answer(t, t->acc.data, t->acc.len);
	t->acc.len = 0;
	if (ret) {
		prk_text_buf_free(&t->out);
		return reject(reject_reason, PRK_REJECT_OUT_OF_RESOURCES);
	}
	return send_piece(t, &r, rsp_bhs, rsp_data, rsp_dlen, reject_reason);
}
