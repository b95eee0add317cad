/* iSCSI TransportIDs (SPC-4 7.6.4.6, protocol identifier 5).
 *
 *   format 00b: byte 0 = 05h, bytes 2..3 ADDITIONAL LENGTH, then the iSCSI
 *               name, NUL terminated, padded with NULs to a multiple of 4.
 *               It names an initiator *device* (every ISID).
 *   format 01b: byte 0 = 45h, bytes 2..3 ADDITIONAL LENGTH, then
 *               "<iSCSI name>,i,0x<12 hex digits of ISID>", NUL terminated,
 *               padded to a multiple of 4. It names an initiator *port*.
 *
 * ADDITIONAL LENGTH is a multiple of 4 and at least 20 (a TransportID is at
 * least 24 bytes). iSCSI names are at most 223 bytes and compare
 * case-insensitively. Pure code: no I/O, no allocation. */
#ifndef PRKIT_SCSI_TID_H
#define PRKIT_SCSI_TID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_sense.h"

#define PRK_PROTO_ISCSI 0x5
#define PRK_ISCSI_NAME_MAX 223
#define PRK_TID_MIN_LEN 24
/* 4 header + 223 name + ",i,0x" + 12 + NUL = 245, padded to 248. */
#define PRK_TID_MAX_LEN 248
#define PRK_ISID_MASK 0xffffffffffffULL

enum prk_tid_format {
	PRK_TID_FMT_DEVICE = 0, /* 00b: name only */
	PRK_TID_FMT_PORT = 1,   /* 01b: name + ISID */
};

struct prk_tid {
	uint8_t format;                    /* enum prk_tid_format */
	uint64_t isid;                     /* 48-bit ISID, valid when format == PRK_TID_FMT_PORT */
	char name[PRK_ISCSI_NAME_MAX + 1]; /* as received, NUL terminated */
};

/* Checks an iSCSI name: 1..223 bytes of printable ASCII without space or
 * comma (the comma separates the ISID in format 01b). */
bool prk_iscsi_name_valid(const char *name);

/* Decodes one TransportID at buf[0..avail). On success *consumed is its
 * length (4 + ADDITIONAL LENGTH). base is the offset of buf within the
 * parameter data, so that err->byte points into the whole list. Errors are
 * INVALID FIELD IN PARAMETER LIST naming the field: PROTOCOL IDENTIFIER
 * (not iSCSI), FORMAT CODE (not 00b/01b), ADDITIONAL LENGTH (not a multiple
 * of 4, < 20, or past avail), ISCSI NAME (empty, too long, bad characters,
 * not NUL terminated, non-NUL padding), SEPARATOR / ISID (format 01b). */
int prk_tid_decode(const uint8_t *buf, size_t avail, size_t base, struct prk_tid *out,
                   size_t *consumed, struct prk_field_err *err);

/* Length prk_tid_encode will produce for t (multiple of 4, >= 24). */
size_t prk_tid_encoded_len(const struct prk_tid *t);

/* Encodes t. Writes at most cap bytes; returns the full length, or 0 if the
 * name is invalid. */
size_t prk_tid_encode(const struct prk_tid *t, uint8_t *buf, size_t cap);

/* Case-insensitive iSCSI name equality. */
bool prk_iscsi_name_eq(const char *a, const char *b);

/* The same initiator port: both format 01b, equal names, equal ISIDs. */
bool prk_tid_same_port(const struct prk_tid *a, const struct prk_tid *b);

/* Does TransportID `pattern` designate the port (name, isid)? Format 00b
 * matches every ISID of the name; format 01b only that ISID. */
bool prk_tid_matches_port(const struct prk_tid *pattern, const char *name, uint64_t isid);

#endif
