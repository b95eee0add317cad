/* The iSCSI login phase (RFC 7143 section 6, 13) and text negotiation in
 * full feature phase, as pure state machines: PDUs in, PDUs out. The
 * connection code (src/iscsi/conn.c) moves bytes; these decide.
 *
 * Covered: the security stage (AuthMethod None, CHAP with MD5, one-way and
 * mutual, per target and per initiator), the operational stage, the login
 * libiscsi sends (operational stage straight to full feature phase), every
 * standard key, NotUnderstood for unknown keys, Discovery sessions with
 * SendTargets, multi-PDU (C bit) requests and responses. */
#ifndef PRKIT_ISCSI_LOGIN_H
#define PRKIT_ISCSI_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdu.h"

#define PRK_ISCSI_NAME_LEN 224
#define PRK_CHAP_NAME_MAX 255
#define PRK_CHAP_SECRET_MAX 255

/* Negotiated parameters of a session and its connection. */
struct prk_iscsi_params {
	bool discovery; /* SessionType=Discovery */
	char initiator_name[PRK_ISCSI_NAME_LEN];
	char initiator_alias[256];
	char target_name[PRK_ISCSI_NAME_LEN]; /* empty for discovery */
	bool header_digest, data_digest;      /* CRC32C */
	uint32_t max_send_dsl; /* the initiator's MaxRecvDataSegmentLength: our Data-In limit */
	uint32_t max_recv_dsl; /* ours: the most the initiator may send in one PDU */
	uint32_t max_burst;
	uint32_t first_burst;
	bool initial_r2t;
	bool immediate_data;
	uint32_t max_outstanding_r2t;
	bool data_pdu_in_order;
	bool data_seq_in_order;
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	uint8_t error_recovery_level; /* always 0 */
	uint32_t max_connections;     /* always 1 */
};

/* What the target offers and accepts (from the configuration). */
struct prk_iscsi_limits {
	uint32_t max_recv_dsl;        /* default 262144 */
	uint32_t max_burst;           /* upper bound we accept; default 1048576 */
	uint32_t first_burst;         /* upper bound; default 65536 */
	uint32_t max_outstanding_r2t; /* upper bound; default 1 */
	bool allow_immediate_data;    /* default true */
	uint32_t cmdsn_window;        /* MaxCmdSN = ExpCmdSN + window - 1; default 128 */
};
void prk_iscsi_limits_default(struct prk_iscsi_limits *l);

/* CHAP credentials that apply to one login. */
struct prk_chap_creds {
	bool required;                           /* AuthMethod=CHAP is mandatory */
	char user[PRK_CHAP_NAME_MAX + 1];        /* the initiator must answer as this name */
	char secret[PRK_CHAP_SECRET_MAX + 1];    /* 12..16 bytes recommended; any length accepted */
	bool mutual;                             /* the target proves itself too */
	char mutual_user[PRK_CHAP_NAME_MAX + 1]; /* name the target answers with */
	char mutual_secret[PRK_CHAP_SECRET_MAX + 1];
};

/* Answers of the configuration to the login. */
enum prk_login_lookup {
	PRK_LOOKUP_OK = 0,
	PRK_LOOKUP_NOT_FOUND,      /* no such target (login status 02/03) */
	PRK_LOOKUP_NOT_AUTHORIZED, /* the initiator is not in the ACL (02/02) */
	PRK_LOOKUP_NOT_HERE,       /* target not served on this portal group (02/03) */
	/* The initiator name is reserved (the target's own copy manager's):
	 * initiator error (02/00), logged with the reason. */
	PRK_LOOKUP_NAME_RESERVED,
};

struct prk_login_env {
	void *ctx;
	/* Target name and initiator name -> may it log in through portal group
	 * tpgt, and with which CHAP credentials (creds zeroed = no auth)?
	 * target_name is NULL for discovery sessions (discovery CHAP). */
	enum prk_login_lookup (*lookup)(void *ctx, const char *target_name,
	                                const char *initiator_name, uint16_t tpgt,
	                                struct prk_chap_creds *creds);
	/* Called once when the login is about to enter full feature phase. It
	 * creates or reinstates the session (same initiator name + ISID +
	 * target: the old session is closed first) and returns its TSIH
	 * (non-zero), or 0 to fail the login with status 03/02 (out of
	 * resources). A non-zero tsih in the request means "add a connection",
	 * which MaxConnections=1 refuses before this is called. */
	uint16_t (*enter_ffp)(void *ctx, const struct prk_iscsi_params *p, uint64_t isid);
	/* Random bytes for CHAP identifiers and challenges. */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	struct prk_iscsi_limits limits;
	const char *target_alias; /* reported as TargetAlias when set */
};

enum prk_login_result {
	PRK_LOGIN_CONTINUE, /* send the response, wait for the next request */
	PRK_LOGIN_DONE,     /* send the response; the connection is in full feature phase */
	PRK_LOGIN_FAIL,     /* send the response (status class 2 or 3), then close */
};

struct prk_login;

struct prk_login *prk_login_new(const struct prk_login_env *env, uint16_t tpgt);
void prk_login_free(struct prk_login *l);

/* Processes one Login Request (BHS + data segment, digests already checked
 * and stripped). Fills the response BHS and a malloc'ed data segment
 * (*rsp_data, *rsp_dlen; the caller frees; NULL when empty). Never fails
 * silently: protocol errors become a login response with status class 2
 * and the right detail (RFC 7143 11.13.5). */
enum prk_login_result prk_login_step(struct prk_login *l, const uint8_t *bhs, const uint8_t *data,
                                     size_t dlen, uint8_t rsp_bhs[PRK_ISCSI_BHS_LEN],
                                     uint8_t **rsp_data, size_t *rsp_dlen);

/* After PRK_LOGIN_FAIL: why, when the status alone does not say it (an
 * InitiatorName that is not UTF-8...), safe for a log line (no raw bytes
 * of the request); else "". */
#define PRK_LOGIN_ERROR_LEN 1100
const char *prk_login_error(const struct prk_login *l);

/* After PRK_LOGIN_DONE: the negotiated parameters, the session identity, and
 * the sequence numbers full feature phase starts with. */
const struct prk_iscsi_params *prk_login_params(const struct prk_login *l);
uint64_t prk_login_isid(const struct prk_login *l);
uint16_t prk_login_tsih(const struct prk_login *l);
uint16_t prk_login_cid(const struct prk_login *l);
uint32_t prk_login_next_statsn(const struct prk_login *l); /* StatSN of the next response */
uint32_t prk_login_expcmdsn(const struct prk_login *l);

/* ---- Text requests in full feature phase ---- */

/* Builds the SendTargets answer: for each target visible to this initiator,
 * "TargetName=<name>" then one "TargetAddress=<ip>:<port>,<tpgt>" per portal
 * (IPv6 in brackets). which is "All", a target name, or "" (the current
 * target only). Appends NUL-terminated key=value strings to the buffer. */
struct prk_text_buf {
	uint8_t *data;
	size_t len, cap;
};
int prk_text_buf_add(struct prk_text_buf *b, const char *key, const char *value);
void prk_text_buf_free(struct prk_text_buf *b);

struct prk_text_env {
	void *ctx;
	void (*send_targets)(void *ctx, const char *initiator_name, const char *which,
	                     struct prk_text_buf *out);
};

struct prk_text;

struct prk_text *prk_text_new(const struct prk_text_env *env, const struct prk_iscsi_params *p);
void prk_text_free(struct prk_text *t);
/* Processes one Text Request. Long answers are split over several Text
 * Responses of at most p->max_send_dsl bytes (C bit, a TTT the initiator
 * echoes to continue). Unknown keys get NotUnderstood; keys that may only
 * be negotiated at login get Reject. `sn` supplies StatSN/ExpCmdSN/MaxCmdSN
 * for the response. Returns 0, or -1 with *reject_reason for a PDU that
 * must be answered with a Reject. */
int prk_text_step(struct prk_text *t, const uint8_t *bhs, const uint8_t *data, size_t dlen,
                  const struct prk_iscsi_sn *sn, uint8_t rsp_bhs[PRK_ISCSI_BHS_LEN],
                  uint8_t **rsp_data, size_t *rsp_dlen, uint8_t *reject_reason);

#endif
