/* iSCSI PDUs (RFC 7143 section 11): the 48-byte basic header segment (BHS)
 * of every opcode, decoded into plain structs and encoded back. Pure code:
 * no I/O, no allocation. The target decodes initiator PDUs and encodes
 * target PDUs; the tests do the reverse with the same code. */
#ifndef PRKIT_ISCSI_PDU_H
#define PRKIT_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRK_ISCSI_BHS_LEN 48
#define PRK_ISCSI_DIGEST_LEN 4
/* Largest data segment we ever accept (MaxRecvDataSegmentLength max, RFC 7143
 * 13.12: 2^24 - 1). */
#define PRK_ISCSI_DSL_MAX 16777215u

enum prk_iscsi_opcode {
	/* initiator -> target */
	PRK_ISCSI_OP_NOP_OUT = 0x00,
	PRK_ISCSI_OP_SCSI_CMD = 0x01,
	PRK_ISCSI_OP_TMF_REQ = 0x02,
	PRK_ISCSI_OP_LOGIN_REQ = 0x03,
	PRK_ISCSI_OP_TEXT_REQ = 0x04,
	PRK_ISCSI_OP_DATA_OUT = 0x05,
	PRK_ISCSI_OP_LOGOUT_REQ = 0x06,
	PRK_ISCSI_OP_SNACK = 0x10,
	/* target -> initiator */
	PRK_ISCSI_OP_NOP_IN = 0x20,
	PRK_ISCSI_OP_SCSI_RSP = 0x21,
	PRK_ISCSI_OP_TMF_RSP = 0x22,
	PRK_ISCSI_OP_LOGIN_RSP = 0x23,
	PRK_ISCSI_OP_TEXT_RSP = 0x24,
	PRK_ISCSI_OP_DATA_IN = 0x25,
	PRK_ISCSI_OP_LOGOUT_RSP = 0x26,
	PRK_ISCSI_OP_R2T = 0x31,
	PRK_ISCSI_OP_ASYNC = 0x32,
	PRK_ISCSI_OP_REJECT = 0x3f,
};

#define PRK_ISCSI_RSVD_TAG 0xffffffffu

/* Fields common to every BHS. */
struct prk_iscsi_hdr {
	uint8_t opcode;    /* byte 0 bits 5..0 */
	bool immediate;    /* byte 0 bit 6 (I) */
	bool final;        /* byte 1 bit 7 (F) */
	uint8_t flags;     /* byte 1, whole */
	uint8_t ahs_words; /* TotalAHSLength in 4-byte words (byte 4) */
	uint32_t dlen;     /* DataSegmentLength (bytes 5..7) */
	uint64_t lun;      /* bytes 8..15, raw SAM LUN structure */
	uint32_t itt;      /* bytes 16..19 */
};

/* Decodes the common fields. Returns 0, or -1 for an opcode that is not a
 * valid initiator opcode (the caller answers with a Reject). */
int prk_iscsi_hdr_decode(const uint8_t bhs[PRK_ISCSI_BHS_LEN], struct prk_iscsi_hdr *h);
/* Bytes that follow the BHS on the wire: AHS, header digest, data segment
 * padded to 4, data digest. */
size_t prk_iscsi_pdu_tail_len(const struct prk_iscsi_hdr *h, bool header_digest, bool data_digest);
static inline size_t prk_iscsi_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* SAM single-level LUN <-> raw 8-byte LUN field (peripheral and flat
 * addressing, LUN < 16384). */
uint64_t prk_iscsi_lun_encode(uint16_t lun);
/* Returns -1 for LUN structures we do not address (extended, multi-level). */
int prk_iscsi_lun_decode(uint64_t raw, uint16_t *lun);

/* ---- initiator -> target ---- */

struct prk_iscsi_scsi_cmd { /* 0x01 */
	struct prk_iscsi_hdr h;
	bool read, write; /* R, W */
	uint8_t attr;     /* task attribute, bits 2..0 */
	uint32_t edtl;    /* Expected Data Transfer Length */
	uint32_t cmdsn;
	uint32_t expstatsn;
	uint8_t cdb[16];
};

struct prk_iscsi_data_out { /* 0x05 */
	struct prk_iscsi_hdr h;
	uint32_t ttt;
	uint32_t expstatsn;
	uint32_t datasn;
	uint32_t offset; /* Buffer Offset */
};

struct prk_iscsi_nop_out { /* 0x00 */
	struct prk_iscsi_hdr h;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t expstatsn;
};

enum prk_iscsi_tmf {
	PRK_TMF_ABORT_TASK = 1,
	PRK_TMF_ABORT_TASK_SET = 2,
	PRK_TMF_CLEAR_ACA = 3,
	PRK_TMF_CLEAR_TASK_SET = 4,
	PRK_TMF_LU_RESET = 5,
	PRK_TMF_TARGET_WARM_RESET = 6,
	PRK_TMF_TARGET_COLD_RESET = 7,
	PRK_TMF_TASK_REASSIGN = 8,
};

struct prk_iscsi_tmf_req { /* 0x02 */
	struct prk_iscsi_hdr h;
	uint8_t function; /* byte 1 bits 6..0 */
	uint32_t rtt;     /* Referenced Task Tag */
	uint32_t cmdsn;
	uint32_t expstatsn;
	uint32_t refcmdsn;
	uint32_t expdatasn;
};

struct prk_iscsi_login_req { /* 0x03 */
	struct prk_iscsi_hdr h;
	bool transit;     /* T */
	bool cont;        /* C */
	uint8_t csg, nsg; /* current / next stage: 0 security, 1 operational, 3 FFP */
	uint8_t version_max, version_min;
	uint64_t isid; /* 48 bits */
	uint16_t tsih;
	uint16_t cid;
	uint32_t cmdsn;
	uint32_t expstatsn;
};

struct prk_iscsi_text_req { /* 0x04 */
	struct prk_iscsi_hdr h;
	bool cont;
	uint32_t ttt;
	uint32_t cmdsn;
	uint32_t expstatsn;
};

struct prk_iscsi_logout_req { /* 0x06 */
	struct prk_iscsi_hdr h;
	uint8_t reason; /* 0 close session, 1 close connection, 2 remove connection for recovery */
	uint16_t cid;
	uint32_t cmdsn;
	uint32_t expstatsn;
};

/* Each decoder checks the opcode and the fields RFC 7143 constrains
 * (F bit where it must be set, reserved values of enumerations) and returns
 * 0, or -1 with *reason set to the Reject reason code to send (RFC 7143
 * 11.17.1: 0x04 protocol error, 0x09 invalid PDU field, ...). */
int prk_iscsi_scsi_cmd_decode(const uint8_t *bhs, struct prk_iscsi_scsi_cmd *c, uint8_t *reason);
int prk_iscsi_data_out_decode(const uint8_t *bhs, struct prk_iscsi_data_out *d, uint8_t *reason);
int prk_iscsi_nop_out_decode(const uint8_t *bhs, struct prk_iscsi_nop_out *n, uint8_t *reason);
int prk_iscsi_tmf_req_decode(const uint8_t *bhs, struct prk_iscsi_tmf_req *t, uint8_t *reason);
int prk_iscsi_login_req_decode(const uint8_t *bhs, struct prk_iscsi_login_req *l, uint8_t *reason);
int prk_iscsi_text_req_decode(const uint8_t *bhs, struct prk_iscsi_text_req *t, uint8_t *reason);
int prk_iscsi_logout_req_decode(const uint8_t *bhs, struct prk_iscsi_logout_req *l,
                                uint8_t *reason);
/* Encoders for the initiator side (tests, fuzz seeds, the host library). */
void prk_iscsi_scsi_cmd_encode(const struct prk_iscsi_scsi_cmd *c, uint8_t *bhs);
void prk_iscsi_data_out_encode(const struct prk_iscsi_data_out *d, uint8_t *bhs);
void prk_iscsi_nop_out_encode(const struct prk_iscsi_nop_out *n, uint8_t *bhs);
void prk_iscsi_tmf_req_encode(const struct prk_iscsi_tmf_req *t, uint8_t *bhs);
void prk_iscsi_login_req_encode(const struct prk_iscsi_login_req *l, uint8_t *bhs);
void prk_iscsi_text_req_encode(const struct prk_iscsi_text_req *t, uint8_t *bhs);
void prk_iscsi_logout_req_encode(const struct prk_iscsi_logout_req *l, uint8_t *bhs);

/* ---- target -> initiator ----
 * Every target PDU carries StatSN / ExpCmdSN / MaxCmdSN where RFC 7143 has
 * them. */
struct prk_iscsi_sn {
	uint32_t statsn;
	uint32_t expcmdsn;
	uint32_t maxcmdsn;
};

struct prk_iscsi_scsi_rsp { /* 0x21 */
	uint32_t itt;
	uint8_t response;         /* 0 command completed at target */
	uint8_t status;           /* SCSI status */
	bool overflow, underflow; /* O / U: residual_count valid */
	uint32_t residual;
	uint32_t expdatasn;
	uint32_t dlen; /* data segment: 2-byte SenseLength + sense, padded by caller */
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_data_in { /* 0x25 */
	uint32_t itt;
	uint64_t lun;
	bool final;
	bool ack;    /* A (ERL > 0 only) */
	bool status; /* S: carries status (phase collapse) */
	bool overflow, underflow;
	uint8_t scsi_status; /* valid when status */
	uint32_t ttt;        /* 0xffffffff */
	uint32_t datasn;
	uint32_t offset;
	uint32_t residual;
	uint32_t dlen;
	struct prk_iscsi_sn sn; /* statsn only meaningful with status */
};

struct prk_iscsi_r2t { /* 0x31 */
	uint32_t itt;
	uint64_t lun;
	uint32_t ttt;
	uint32_t r2tsn;
	uint32_t offset;
	uint32_t length;        /* Desired Data Transfer Length */
	struct prk_iscsi_sn sn; /* statsn: the next StatSN, not advanced */
};

struct prk_iscsi_nop_in { /* 0x20 */
	uint32_t itt;     /* 0xffffffff for a target-initiated ping */
	uint32_t ttt;     /* 0xffffffff when no reply is wanted */
	uint64_t lun;
	uint32_t dlen;
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_tmf_rsp { /* 0x22 */
	uint32_t itt;
	uint8_t response; /* 0 complete, 1 task does not exist, 2 LUN does not exist,
	                   * 3 task still allegiant, 4 reassignment not supported,
	                   * 5 not supported, 6 authorization failed, 255 rejected */
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_login_rsp { /* 0x23 */
	bool transit, cont;
	uint8_t csg, nsg;
	uint8_t version_max, version_active;
	uint64_t isid;
	uint16_t tsih;
	uint32_t itt;
	uint8_t status_class, status_detail;
	uint32_t dlen;
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_text_rsp { /* 0x24 */
	bool final, cont;
	uint64_t lun;
	uint32_t itt;
	uint32_t ttt;
	uint32_t dlen;
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_logout_rsp { /* 0x26 */
	uint32_t itt;
	uint8_t
	    response; /* 0 closed, 1 CID not found, 2 recovery not supported, 3 cleanup failed */
	uint16_t time2wait, time2retain;
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_reject { /* 0x3f; data segment = the rejected BHS */
	uint8_t reason;
	uint32_t dlen;
	uint32_t datasn_r2tsn;
	struct prk_iscsi_sn sn;
};

struct prk_iscsi_async { /* 0x32 */
	uint64_t lun;
	uint8_t event; /* 0 SCSI async event (sense in data), 1 logout request, 2 drop conn,
	                * 3 drop all conns, 4 negotiation request */
	uint8_t vcode;
	uint16_t param1, param2, param3;
	uint32_t dlen;
	struct prk_iscsi_sn sn;
};

void prk_iscsi_scsi_rsp_encode(const struct prk_iscsi_scsi_rsp *r, uint8_t *bhs);
void prk_iscsi_data_in_encode(const struct prk_iscsi_data_in *d, uint8_t *bhs);
void prk_iscsi_r2t_encode(const struct prk_iscsi_r2t *r, uint8_t *bhs);
void prk_iscsi_nop_in_encode(const struct prk_iscsi_nop_in *n, uint8_t *bhs);
void prk_iscsi_tmf_rsp_encode(const struct prk_iscsi_tmf_rsp *t, uint8_t *bhs);
void prk_iscsi_login_rsp_encode(const struct prk_iscsi_login_rsp *l, uint8_t *bhs);
void prk_iscsi_text_rsp_encode(const struct prk_iscsi_text_rsp *t, uint8_t *bhs);
void prk_iscsi_logout_rsp_encode(const struct prk_iscsi_logout_rsp *l, uint8_t *bhs);
void prk_iscsi_reject_encode(const struct prk_iscsi_reject *r, uint8_t *bhs);
void prk_iscsi_async_encode(const struct prk_iscsi_async *a, uint8_t *bhs);
/* Decoders of target PDUs (tests, the host library). Return 0 or -1 on a
 * wrong opcode. */
int prk_iscsi_scsi_rsp_decode(const uint8_t *bhs, struct prk_iscsi_scsi_rsp *r);
int prk_iscsi_data_in_decode(const uint8_t *bhs, struct prk_iscsi_data_in *d);
int prk_iscsi_r2t_decode(const uint8_t *bhs, struct prk_iscsi_r2t *r);
int prk_iscsi_login_rsp_decode(const uint8_t *bhs, struct prk_iscsi_login_rsp *l);
int prk_iscsi_text_rsp_decode(const uint8_t *bhs, struct prk_iscsi_text_rsp *t);

/* Reject reason codes (RFC 7143 11.17.1). */
enum prk_iscsi_reject_reason {
	PRK_REJECT_DIGEST_ERROR = 0x02,
	PRK_REJECT_SNACK_REJECT = 0x03,
	PRK_REJECT_PROTOCOL_ERROR = 0x04,
	PRK_REJECT_CMD_NOT_SUPPORTED = 0x05,
	PRK_REJECT_IMMEDIATE_CMD = 0x06,
	PRK_REJECT_TASK_IN_PROGRESS = 0x07,
	PRK_REJECT_INVALID_DATA_ACK = 0x08,
	PRK_REJECT_INVALID_PDU_FIELD = 0x09,
	PRK_REJECT_OUT_OF_RESOURCES = 0x0a,
	PRK_REJECT_NEGOTIATION_RESET = 0x0b,
	PRK_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

/* Serial number arithmetic (RFC 1982, 32 bits): a < b. */
static inline bool prk_sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(b - a) < 0x80000000u;
}

#endif
