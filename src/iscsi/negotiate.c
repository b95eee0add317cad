/* Operational key negotiation (RFC 7143 6.2, 13).
 *
 * What we enforce: numerical values inside the RFC range (else Reject),
 * Yes/No booleans (else Reject), digests from the list we support (else
 * Reject), each key at most once per login and a valid
 * MaxRecvDataSegmentLength (else the login fails). What we
 * choose: CRC32C or None, whichever the initiator lists first; InitialR2T
 * is the initiator's choice (we offer No, OR function); ImmediateData is
 * AND with the configuration; DataPDUInOrder and DataSequenceInOrder are
 * always Yes (we offer Yes, OR function) since reassembly of out-of-order
 * data is not implemented; ErrorRecoveryLevel 0 and MaxConnections 1. In
 * a Discovery session the keys RFC 7143 marks "Irrelevant when:
 * SessionType=Discovery" are answered Irrelevant.
 *
 * Known gap: a key the initiator does not send keeps its RFC default, even
 * when our limits are lower (e.g. ImmediateData=Yes with
 * allow_immediate_data false); offering our own value would need another
 * login round trip, which no initiator we know of needs (libiscsi and
 * open-iscsi send every key). */
#include "negotiate.h"

#include <string.h>

#include "text.h"

#define LEN_MAX PRK_ISCSI_DSL_MAX /* 2^24 - 1 */
#define R2T_MAX 65535u
#define TIME_MAX 3600u
#define ERL_MAX 2u
#define CONN_MAX 65535u

/* Our side of the non-configurable keys. */
#define OUR_TIME2WAIT 2   /* the RFC default; max function: at least 2 s */
#define OUR_TIME2RETAIN 0 /* ERL 0: nothing is retained after a drop */

enum kind { K_DIGEST, K_DECL, K_MIN, K_MAX, K_OR, K_AND, K_MARKER, K_MARKINT };

struct keydef {
	const char *name;
	enum kind kind;
	uint32_t lo, hi;
	bool disc_irrelevant; /* RFC 7143 13: "Irrelevant when: SessionType=Discovery" */
};

static const struct keydef keys[PRK_NK_COUNT] = {
    [PRK_NK_HEADER_DIGEST] = {"HeaderDigest", K_DIGEST, 0, 0, false},
    [PRK_NK_DATA_DIGEST] = {"DataDigest", K_DIGEST, 0, 0, false},
    [PRK_NK_MAX_RECV_DSL] = {"MaxRecvDataSegmentLength", K_DECL, PRK_NEG_LEN_MIN, LEN_MAX, false},
    [PRK_NK_MAX_BURST] = {"MaxBurstLength", K_MIN, PRK_NEG_LEN_MIN, LEN_MAX, true},
    [PRK_NK_FIRST_BURST] = {"FirstBurstLength", K_MIN, PRK_NEG_LEN_MIN, LEN_MAX, true},
    [PRK_NK_INITIAL_R2T] = {"InitialR2T", K_OR, 0, 0, true},
    [PRK_NK_IMMEDIATE_DATA] = {"ImmediateData", K_AND, 0, 0, true},
    [PRK_NK_MAX_OUTSTANDING_R2T] = {"MaxOutstandingR2T", K_MIN, 1, R2T_MAX, true},
    [PRK_NK_DATA_PDU_IN_ORDER] = {"DataPDUInOrder", K_OR, 0, 0, true},
    [PRK_NK_DATA_SEQ_IN_ORDER] = {"DataSequenceInOrder", K_OR, 0, 0, true},
    [PRK_NK_TIME2WAIT] = {"DefaultTime2Wait", K_MAX, 0, TIME_MAX, false},
    [PRK_NK_TIME2RETAIN] = {"DefaultTime2Retain", K_MIN, 0, TIME_MAX, false},
    [PRK_NK_ERL] = {"ErrorRecoveryLevel", K_MIN, 0, ERL_MAX, false},
    [PRK_NK_MAX_CONNECTIONS] = {"MaxConnections", K_MIN, 1, CONN_MAX, true},
    [PRK_NK_IFMARKER] = {"IFMarker", K_MARKER, 0, 0, false},
    [PRK_NK_OFMARKER] = {"OFMarker", K_MARKER, 0, 0, false},
    [PRK_NK_IFMARKINT] = {"IFMarkInt", K_MARKINT, 0, 0, false},
    [PRK_NK_OFMARKINT] = {"OFMarkInt", K_MARKINT, 0, 0, false},
};

void prk_iscsi_limits_default(struct prk_iscsi_limits *l)
{
	l->max_recv_dsl = 262144;
	l->max_burst = 1048576;
	l->first_burst = 65536;
	l->max_outstanding_r2t = 1;
	l->allow_immediate_data = true;
	l->cmdsn_window = 128;
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void prk_neg_init(struct prk_neg *n, struct prk_iscsi_params *p, const struct prk_iscsi_limits *lim)
{
	memset(n, 0, sizeof(*n));
	n->p = p;
	n->lim = *lim;
	n->lim.max_recv_dsl = clamp(lim->max_recv_dsl, PRK_NEG_LEN_MIN, LEN_MAX);
	n->lim.max_burst = clamp(lim->max_burst, PRK_NEG_LEN_MIN, LEN_MAX);
	n->lim.first_burst = clamp(lim->first_burst, PRK_NEG_LEN_MIN, LEN_MAX);
	n->lim.max_outstanding_r2t = clamp(lim->max_outstanding_r2t, 1, R2T_MAX);
	if (n->lim.cmdsn_window == 0)
		n->lim.cmdsn_window = 1;
	/* RFC 7143 13: defaults of every key. */
	p->header_digest = false;
	p->data_digest = false;
	p->max_send_dsl = PRK_NEG_DEFAULT_DSL;
	p->max_recv_dsl = PRK_NEG_DEFAULT_DSL;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->initial_r2t = true;
	p->immediate_data = true;
	p->max_outstanding_r2t = 1;
	p->data_pdu_in_order = true;
	p->data_seq_in_order = true;
	p->default_time2wait = 2;
	p->default_time2retain = 20;
	p->error_recovery_level = 0;
	p->max_connections = 1;
}

int prk_neg_find(const char *key, size_t key_len)
{
	for (int i = 0; i < PRK_NK_COUNT; i++)
		if (strlen(keys[i].name) == key_len && memcmp(keys[i].name, key, key_len) == 0)
			return i;
	return -1;
}

static int parse_bool(const char *v, bool *out)
{
	if (strcmp(v, "Yes") == 0)
		*out = true;
	else if (strcmp(v, "No") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

/* "CRC32C,None" -> the first value we support. */
static int parse_digest(const char *v, bool *crc)
{
	const char *s = v;

	for (;;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == 6 && memcmp(s, "CRC32C", 6) == 0) {
			*crc = true;
			return 0;
		}
		if (len == 4 && memcmp(s, "None", 4) == 0) {
			*crc = false;
			return 0;
		}
		if (!e)
			return -1;
		s = e + 1;
	}
}

static uint32_t *num_field(struct prk_iscsi_params *p, enum prk_neg_key k)
{
	switch (k) {
	case PRK_NK_MAX_RECV_DSL:
		return &p->max_send_dsl;
	case PRK_NK_MAX_BURST:
		return &p->max_burst;
	case PRK_NK_FIRST_BURST:
		return &p->first_burst;
	case PRK_NK_MAX_OUTSTANDING_R2T:
		return &p->max_outstanding_r2t;
	case PRK_NK_TIME2WAIT:
		return &p->default_time2wait;
	case PRK_NK_TIME2RETAIN:
		return &p->default_time2retain;
	case PRK_NK_MAX_CONNECTIONS:
		return &p->max_connections;
	default:
		return NULL;
	}
}

static uint32_t our_num(const struct prk_neg *n, enum prk_neg_key k)
{
	switch (k) {
	case PRK_NK_MAX_BURST:
		return n->lim.max_burst;
	case PRK_NK_FIRST_BURST:
		return n->lim.first_burst;
	case PRK_NK_MAX_OUTSTANDING_R2T:
		return n->lim.max_outstanding_r2t;
	case PRK_NK_TIME2WAIT:
		return OUR_TIME2WAIT;
	case PRK_NK_TIME2RETAIN:
		return OUR_TIME2RETAIN;
	case PRK_NK_ERL:
		return 0;
	case PRK_NK_MAX_CONNECTIONS:
		return 1;
	default:
		return 0;
	}
}

static bool *bool_field(struct prk_iscsi_params *p, enum prk_neg_key k)
{
	switch (k) {
	case PRK_NK_INITIAL_R2T:
		return &p->initial_r2t;
	case PRK_NK_IMMEDIATE_DATA:
		return &p->immediate_data;
	case PRK_NK_DATA_PDU_IN_ORDER:
		return &p->data_pdu_in_order;
	case PRK_NK_DATA_SEQ_IN_ORDER:
		return &p->data_seq_in_order;
	default:
		return NULL;
	}
}

static bool our_bool(const struct prk_neg *n, enum prk_neg_key k)
{
	switch (k) {
	case PRK_NK_INITIAL_R2T:
		return false;
	case PRK_NK_IMMEDIATE_DATA:
		return n->lim.allow_immediate_data;
	default: /* DataPDUInOrder, DataSequenceInOrder */
		return true;
	}
}

int prk_neg_offer(struct prk_neg *n, enum prk_neg_key k, const char *value)
{
	const struct keydef *d = &keys[k];
	uint32_t bit = 1u << k, v;
	bool b;

	if ((n->done | n->offered) & bit)
		return -1;
	n->offered |= bit;
	if (n->p->discovery && d->disc_irrelevant)
		return 0;
	switch (d->kind) {
	case K_DIGEST:
		if (parse_digest(value, &b))
			goto reject;
		if (k == PRK_NK_HEADER_DIGEST)
			n->p->header_digest = b;
		else
			n->p->data_digest = b;
		return 0;
	case K_DECL:
		/* Answering Reject would put the key twice in our response
		 * (we declare our own MaxRecvDataSegmentLength), and the
		 * initiator would still expect PDUs we cannot size: a protocol
		 * error. */
		if (prk_text_parse_u32(value, d->hi, &v) || v < d->lo)
			return -1;
		n->p->max_send_dsl = v;
		return 0;
	case K_MIN:
	case K_MAX:
		if (prk_text_parse_u32(value, d->hi, &v) || v < d->lo)
			goto reject;
		if (d->kind == K_MIN)
			v = min32(v, our_num(n, k));
		else if (v < our_num(n, k))
			v = our_num(n, k);
		if (k == PRK_NK_ERL)
			n->p->error_recovery_level = (uint8_t)v;
		else
			*num_field(n->p, k) = v;
		return 0;
	case K_OR:
	case K_AND:
		if (parse_bool(value, &b))
			goto reject;
		*bool_field(n->p, k) =
		    d->kind == K_OR ? (b || our_bool(n, k)) : (b && our_bool(n, k));
		return 0;
	case K_MARKER:
		if (parse_bool(value, &b))
			goto reject;
		return 0;
	case K_MARKINT:
		return 0;
	}
reject:
	n->rejected |= bit;
	return 0;
}

static int answer_one(struct prk_neg *n, enum prk_neg_key k, struct prk_text_buf *out)
{
	const struct keydef *d = &keys[k];
	const struct prk_iscsi_params *p = n->p;

	if (n->rejected & (1u << k))
		return prk_text_buf_add(out, d->name, "Reject");
	if ((p->discovery && d->disc_irrelevant) || d->kind == K_MARKINT)
		return prk_text_buf_add(out, d->name, "Irrelevant");
	switch (d->kind) {
	case K_DIGEST: {
		bool crc = k == PRK_NK_HEADER_DIGEST ? p->header_digest : p->data_digest;

		return prk_text_buf_add(out, d->name, crc ? "CRC32C" : "None");
	}
	case K_DECL:
		/* A declaration needs no answer. */
		return 0;
	case K_MIN:
	case K_MAX:
		if (k == PRK_NK_ERL)
			return prk_text_buf_addf(out, d->name, "%u", p->error_recovery_level);
		return prk_text_buf_addf(out, d->name, "%u", *num_field(n->p, k));
	case K_OR:
	case K_AND:
		return prk_text_buf_add(out, d->name, *bool_field(n->p, k) ? "Yes" : "No");
	case K_MARKER:
		return prk_text_buf_add(out, d->name, "No");
	case K_MARKINT:
		break;
	}
	return 0;
}

int prk_neg_answer(struct prk_neg *n, bool declare, struct prk_text_buf *out)
{
	int ret = 0;

	/* RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength,
	 * whichever order (or request) they came in. */
	if (n->p->first_burst > n->p->max_burst)
		n->p->first_burst = n->p->max_burst;
	for (int k = 0; k < PRK_NK_COUNT && ret == 0; k++)
		if (n->offered & (1u << k))
			ret = answer_one(n, (enum prk_neg_key)k, out);
	if (ret == 0 && declare && !n->declared) {
		ret = prk_text_buf_addf(out, "MaxRecvDataSegmentLength", "%u", n->lim.max_recv_dsl);
		if (ret == 0) {
			n->declared = true;
			n->p->max_recv_dsl = n->lim.max_recv_dsl;
		}
	}
	n->done |= n->offered;
	n->offered = 0;
	n->rejected = 0;
	return ret;
}
