/* Operational text keys (RFC 7143 section 13): defaults, validation and the
 * result functions, for the login's operational stage. The login module
 * decides which stage a key may appear in; this one only negotiates.
 *
 * Usage per request: prk_neg_offer() for each operational key the
 * initiator sent, then prk_neg_answer() once, which appends the answers in
 * a fixed order (consistency checks such as FirstBurstLength <=
 * MaxBurstLength need every offer of the request first). */
#ifndef PRKIT_ISCSI_NEGOTIATE_H
#define PRKIT_ISCSI_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "login.h"

enum prk_neg_key {
	PRK_NK_HEADER_DIGEST,
	PRK_NK_DATA_DIGEST,
	PRK_NK_MAX_RECV_DSL,
	PRK_NK_MAX_BURST,
	PRK_NK_FIRST_BURST,
	PRK_NK_INITIAL_R2T,
	PRK_NK_IMMEDIATE_DATA,
	PRK_NK_MAX_OUTSTANDING_R2T,
	PRK_NK_DATA_PDU_IN_ORDER,
	PRK_NK_DATA_SEQ_IN_ORDER,
	PRK_NK_TIME2WAIT,
	PRK_NK_TIME2RETAIN,
	PRK_NK_ERL,
	PRK_NK_MAX_CONNECTIONS,
	/* RFC 3720 markers, obsolete in RFC 7143: answered No / Irrelevant. */
	PRK_NK_IFMARKER,
	PRK_NK_OFMARKER,
	PRK_NK_IFMARKINT,
	PRK_NK_OFMARKINT,
	PRK_NK_COUNT,
};

/* Lower bound of MaxRecvDataSegmentLength, MaxBurstLength,
 * FirstBurstLength (RFC 7143 13.12-13.14). */
#define PRK_NEG_LEN_MIN 512u
/* Default MaxRecvDataSegmentLength: what each side may send before the
 * other declared its own, including every login PDU. */
#define PRK_NEG_DEFAULT_DSL 8192u

struct prk_neg {
	struct prk_iscsi_params *p;  /* results, RFC defaults until negotiated */
	struct prk_iscsi_limits lim; /* ours, clamped to the RFC ranges */
	uint32_t done;               /* keys offered in an earlier request */
	uint32_t offered;            /* keys offered in the current request */
	uint32_t rejected;           /* ... whose value we answer with Reject */
	bool declared;               /* our MaxRecvDataSegmentLength was declared */
};

/* Fills p with the RFC defaults of every operational key. */
void prk_neg_init(struct prk_neg *n, struct prk_iscsi_params *p,
                  const struct prk_iscsi_limits *lim);
/* The operational key called key (key_len bytes), or -1. */
int prk_neg_find(const char *key, size_t key_len);
/* Records the initiator's value of key. Invalid values are answered with
 * Reject and leave the default in force. Returns -1 for a protocol error,
 * after which the login fails with 02/00: the key was already negotiated
 * in this login (RFC 7143 6.2), or an invalid MaxRecvDataSegmentLength
 * (declarative: it cannot be rejected, and we declare the same key). */
int prk_neg_offer(struct prk_neg *n, enum prk_neg_key key, const char *value);
/* Appends the answers to this request's offers, and when declare is set
 * and not done yet, our MaxRecvDataSegmentLength declaration. Returns 0 or
 * -1 (out of memory). */
int prk_neg_answer(struct prk_neg *n, bool declare, struct prk_text_buf *out);

#endif
