/* Framing a received byte stream: where the PDU at its head ends, and
 * whether its header is whole and intact. Pure; rx.c keeps the bytes. */
#ifndef PRKIT_ISCSI_FRAME_H
#define PRKIT_ISCSI_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the connection negotiated (login: no digests, 65536 bytes). */
struct prk_iscsi_frame_rules {
	bool login;        /* a BHS that does not decode cannot be framed */
	uint32_t max_dlen; /* longer data segments end the connection */
	bool header_digest, data_digest;
};

struct prk_iscsi_frame {
	size_t hdr;    /* BHS + AHS + header digest */
	uint32_t dlen; /* the data segment */
	size_t total;  /* hdr + padded data + data digest */
};

enum prk_iscsi_frame_result {
	PRK_FRAME_NEED_BHS,      /* fewer than 48 bytes: f untouched */
	PRK_FRAME_NEED_HEADER,   /* f filled; AHS or header digest missing */
	PRK_FRAME_NEED_DATA,     /* header whole and checked; data not all in */
	PRK_FRAME_COMPLETE,      /* the whole PDU is in (data digest unchecked) */
	PRK_FRAME_BAD_BHS,       /* during login, an opcode that cannot be */
	PRK_FRAME_TOO_LONG,      /* dlen over max_dlen: f filled */
	PRK_FRAME_HEADER_DIGEST, /* the header digest does not match */
};

/* Frames the PDU at p, of which avail bytes are at hand. */
enum prk_iscsi_frame_result prk_iscsi_frame(const uint8_t *p, size_t avail,
                                            const struct prk_iscsi_frame_rules *r,
                                            struct prk_iscsi_frame *f);

#endif
