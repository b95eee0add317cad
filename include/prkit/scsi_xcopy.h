/* Third-party copy (SPC-4 6.4 EXTENDED COPY (LID1), 6.18 RECEIVE COPY
 * RESULTS, 7.8.17 the Third-party Copy VPD page): the wire formats, both
 * directions, for the target's copy manager and for `prkit copy`.
 *
 * Pure code: no I/O, no allocation. Decoders validate every length and
 * report the first bad field as a struct prk_field_err (byte offset into
 * the parameter list or CDB, bit, sense code, field name).
 *
 * What a decoder checks and what it leaves to the copy manager: the
 * decoder checks the structure of the list (header lengths, counts against
 * the limits, descriptor type codes and descriptor lengths, the inner
 * REGISTER AND MOVE list of 15h): these are ILLEGAL REQUEST errors of the
 * EXTENDED COPY command itself. What depends on processing a segment (a
 * CSCD index out of range, the NUL bit, the LU a CSCD names, PDT checks,
 * LBA ranges) is checked by the copy manager when it reaches the segment,
 * and is reported as COPY ABORTED with that segment's number. */
#ifndef PRKIT_SCSI_XCOPY_H
#define PRKIT_SCSI_XCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_sense.h"
#include "prkit/scsi_tid.h"

#define PRK_OP_XCOPY 0x83 /* EXTENDED COPY; service action 00h = LID1 */
#define PRK_OP_RCR 0x84   /* RECEIVE COPY RESULTS */
#define PRK_XCOPY_SA_LID1 0x00
#define PRK_RCR_SA_COPY_STATUS 0x00
#define PRK_RCR_SA_OP_PARAMS 0x03
#define PRK_RCR_SA_FAILED_SEG 0x04

#define PRK_XCOPY_HDR_LEN 16  /* the LID1 parameter list header */
#define PRK_XCOPY_CSCD_LEN 32 /* one E4h CSCD descriptor */
#define PRK_XCOPY_CSCD_E4 0xe4

/* Segment descriptor type codes prkit implements. */
enum prk_xcopy_seg_type {
	PRK_XCOPY_SEG_B2B = 0x02,    /* block device to block device */
	PRK_XCOPY_SEG_REGKEY = 0x14, /* register persistent reservation key */
	PRK_XCOPY_SEG_3PR = 0x15,    /* third party persistent reservations source I_T nexus */
};

/* Upper bounds of the decoded form (the copy manager may report lower
 * limits in OPERATING PARAMETERS; the decoder enforces struct
 * prk_xcopy_limits). */
#define PRK_XCOPY_MAX_CSCD 16
#define PRK_XCOPY_MAX_SEG 64

/* LIST ID USAGE (byte 1 bits 4..3). */
enum prk_xcopy_list_id_usage {
	PRK_XCOPY_LIU_HOLD = 0,    /* 00b: hold results for RECEIVE COPY RESULTS */
	PRK_XCOPY_LIU_NO_HOLD = 2, /* 10b: do not hold results */
	PRK_XCOPY_LIU_NONE = 3,    /* 11b: the list id is not used (must be 0) */
};

struct prk_xcopy_limits {
	uint16_t max_cscd;     /* <= PRK_XCOPY_MAX_CSCD */
	uint16_t max_seg;      /* <= PRK_XCOPY_MAX_SEG */
	uint32_t max_list_len; /* MAXIMUM DESCRIPTOR LIST LENGTH (CSCD + segment lists) */
	uint32_t max_inline;   /* MAXIMUM INLINE DATA LENGTH (prkit: 0) */
};

/* One E4h (identification descriptor) CSCD descriptor. */
struct prk_xcopy_cscd {
	uint32_t off;       /* its offset in the parameter list (field pointers) */
	uint8_t lu_id_type; /* LU ID TYPE (byte 1 bits 7..6) */
	bool nul;           /* NUL bit */
	uint8_t pdt;        /* PERIPHERAL DEVICE TYPE */
	uint16_t rel_init_port;
	/* The designation descriptor (VPD 83h format): */
	uint8_t code_set, assoc, desig_type, desig_len;
	uint8_t desig[16];
	/* Device type specific parameters. PDT 00h: PAD and DISK BLOCK LENGTH;
	 * PDT 01h: FIXED and STREAM BLOCK LENGTH (kept in block_len). */
	bool pad;
	bool fixed;
	uint32_t block_len;
};

/* One segment descriptor. */
struct prk_xcopy_seg {
	uint32_t off; /* its offset in the parameter list */
	uint8_t type; /* enum prk_xcopy_seg_type */
	uint16_t desc_len;
	uint16_t src, dst; /* CSCD descriptor IDs (14h/15h: dst only) */
	/* 02h */
	bool dc, cat;
	uint16_t n_blocks;
	uint64_t src_lba, dst_lba;
	/* 14h */
	uint64_t key, sa_key;
	/* 15h: the REGISTER AND MOVE parameter list it carries, as bytes in
	 * the caller's buffer (what the copy manager sends) and decoded. */
	const uint8_t *move;
	uint32_t move_len;
	struct prk_prout_params move_p;
};

struct prk_xcopy_list {
	uint8_t list_id;
	uint8_t list_id_usage; /* enum prk_xcopy_list_id_usage */
	bool str;
	uint8_t priority;
	uint16_t n_cscd;
	struct prk_xcopy_cscd cscd[PRK_XCOPY_MAX_CSCD];
	uint16_t n_seg;
	struct prk_xcopy_seg seg[PRK_XCOPY_MAX_SEG];
	uint32_t inline_len;
};

/* Decodes a LID1 parameter list (buf holds the PARAMETER LIST LENGTH bytes;
 * len 0 is the caller's business: SPC-4 makes it a no-op). 15h's move
 * pointers point into buf. Bytes after the inline data are ignored, and so
 * are reserved fields. Returns 0, or -1 with *err (ILLEGAL REQUEST), checked
 * in this order (the order libiscsi's ExtendedCopy tests need):
 *   1A/00 PARAMETER LIST LENGTH ERROR (no field pointer): fewer than 16
 *         bytes, or 16 + the three list lengths > len (ParamHdr), or CSCD +
 *         segment list lengths > lim->max_list_len (SPC-4 6.4.3.5,
 *         DescrLimits: reported before the counts);
 *   26/00 at byte 1 bit 4 LIST ID USAGE 01b (reserved); at byte 0 a LIST
 *         IDENTIFIER other than 0 with LIST ID USAGE 11b;
 *   26/0B INLINE DATA LENGTH EXCEEDED at byte 12 (> lim->max_inline);
 *   26/06 TOO MANY TARGET DESCRIPTORS at byte 2 (more than lim->max_cscd
 *         32-byte CSCD descriptors);
 *   26/07 UNSUPPORTED TARGET DESCRIPTOR TYPE CODE at the CSCD's byte 0 (any
 *         type but E4h); 26/00 at byte 2 when an E4h descriptor is cut by
 *         the CSCD DESCRIPTOR LIST LENGTH; 26/00 at its byte 7 for a
 *         DESIGNATOR LENGTH above 16;
 *   26/08 TOO MANY SEGMENT DESCRIPTORS at byte 8 (more than lim->max_seg);
 *   26/00 at byte 8 when fewer than 4 bytes of segment list are left;
 *   26/09 UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE at the segment's byte 0
 *         (any type but 02h, 14h, 15h);
 *   26/00 at the segment's byte 2 DESCRIPTOR LENGTH: not 0018h for 02h/14h,
 *         past the segment list, for 15h not a multiple of 4 or too short
 *         for the REGISTER AND MOVE list it carries;
 *   15h's REGISTER AND MOVE list: the errors of prk_prout_params_decode
 *         with the field pointer moved to the whole list (segment offset +
 *         8 + the inner offset).
 * Not checked here (the copy manager's, when it reaches the segment): NUL,
 * PDT, CSCD indexes, the designator, LBAs. LU ID TYPE is kept and checked
 * by no one: SPC-4 has it ignored in an E4h descriptor, which names its LU
 * by the designator (libiscsi 1.19's ValidTgtDescr sends 10b and expects
 * GOOD). libiscsi's
 * DescrLimits needs max_list_len >= 32 + (max_seg + 1) * 28 for its
 * "too many segments" case and < 16 + (max_cscd + 1) * 32 + (max_seg + 1)
 * * 28 for its "list too long" case to run: with 16 and 64, 1852..2379. */
int prk_xcopy_decode(const uint8_t *buf, size_t len, const struct prk_xcopy_limits *lim,
                     struct prk_xcopy_list *out, struct prk_field_err *err);

/* Encodes l (host side). 15h segments copy seg.move/move_len; inline_len
 * bytes of zeros follow the segments (prkit keeps no inline contents).
 * Writes at most cap bytes; returns the full length, or 0 if l is not
 * encodable (counts above the maxima, an unknown segment type, LIST ID USAGE
 * above 3, a 15h list whose length is not a multiple of 4 or too long). */
size_t prk_xcopy_encode(const struct prk_xcopy_list *l, uint8_t *buf, size_t cap);

/* Fills an E4h CSCD naming a LU by its 16-byte NAA designator (VPD 83h
 * type 3, association 0, binary), PDT pdt, block length block_len. */
void prk_xcopy_cscd_naa(struct prk_xcopy_cscd *d, const uint8_t naa[16], uint8_t pdt,
                        uint32_t block_len);

/* CDBs (16 bytes each). */
void prk_xcopy_cdb_encode(uint32_t param_len, uint8_t cdb[16]);
void prk_rcr_cdb_encode(uint8_t sa, uint8_t list_id, uint32_t alloc, uint8_t cdb[16]);

/* ---- RECEIVE COPY RESULTS data ---- */

/* COPY MANAGER STATUS / COPY COMMAND STATUS values. */
enum prk_xcopy_status_code {
	PRK_XCOPY_ST_IN_PROGRESS = 0x00,
	PRK_XCOPY_ST_DONE = 0x01,   /* completed, no errors */
	PRK_XCOPY_ST_FAILED = 0x02, /* completed with errors */
};

/* COPY STATUS (SA 00h). */
struct prk_xcopy_status {
	uint8_t status; /* enum prk_xcopy_status_code */
	bool hdd;       /* held data discarded */
	uint16_t segs_done;
	uint8_t units; /* TRANSFER COUNT UNITS: 0 bytes, 1 KiB, 2 MiB, 3 GiB, 4 TiB, 5 PiB, 6 EiB */
	uint32_t count;
};
/* Picks units so that bytes fits TRANSFER COUNT (rounding down). */
void prk_xcopy_status_set_bytes(struct prk_xcopy_status *s, uint64_t bytes);
size_t prk_rcr_status_encode(const struct prk_xcopy_status *s, uint8_t *buf, size_t cap);
int prk_rcr_status_decode(const uint8_t *buf, size_t len, struct prk_xcopy_status *out);

/* OPERATING PARAMETERS (SA 03h). impl lists the implemented descriptor
 * type codes (segment and CSCD). */
struct prk_xcopy_opparams {
	bool snlid;
	uint16_t max_cscd, max_seg;
	uint32_t max_list_len, max_seg_len, max_inline, held_limit, max_stream_xfer;
	uint16_t total_concurrent;
	uint8_t max_concurrent;
	uint8_t data_gran_log2, inline_gran_log2, held_gran_log2;
	uint8_t n_impl;
	uint8_t impl[16];
};
size_t prk_rcr_opparams_encode(const struct prk_xcopy_opparams *p, uint8_t *buf, size_t cap);
int prk_rcr_opparams_decode(const uint8_t *buf, size_t len, struct prk_xcopy_opparams *out);

/* FAILED SEGMENT DETAILS (SA 04h): the status and sense data the failed
 * EXTENDED COPY ended with. */
#define PRK_XCOPY_SENSE_MAX 96
struct prk_xcopy_failed {
	uint8_t status; /* COPY COMMAND STATUS: the SCSI status of the EXTENDED COPY */
	uint16_t sense_len;
	uint8_t sense[PRK_XCOPY_SENSE_MAX];
};
size_t prk_rcr_failed_encode(const struct prk_xcopy_failed *f, uint8_t *buf, size_t cap);
int prk_rcr_failed_decode(const uint8_t *buf, size_t len, struct prk_xcopy_failed *out);

/* ---- COPY ABORTED sense data ----
 * The sense an EXTENDED COPY ends with when a segment fails: sense key
 * COPY ABORTED, the ASC, the number of the segment being processed, a
 * segment pointer to the bad field when there is one (SD: relative to the
 * segment descriptor), and the sense data the source or destination CSCD
 * returned, when the failure came from one. */
struct prk_xcopy_abort {
	uint16_t asc; /* (ASC << 8) | ASCQ */
	uint16_t seg; /* segment number (0-based) */
	bool has_ptr; /* segment pointer valid */
	bool sd;      /* pointer relative to the segment descriptor (else to the list) */
	int8_t bit;   /* -1: whole byte */
	uint16_t field;
	bool from_dst; /* cscd_sense came from the destination (else the source) */
	uint8_t cscd_sense_len;
	uint8_t cscd_sense[PRK_SENSE_FIXED_LEN + 14];
};
/* Fixed (desc = false) or descriptor format; writes at most cap bytes and
 * returns the full length (at most PRK_XCOPY_SENSE_MAX).
 *   Fixed (70h): COMMAND-SPECIFIC INFORMATION (bytes 8..11) = source sense
 *   offset, destination sense offset, SEGMENT NUMBER (2 bytes); with
 *   cscd_sense, the offset of the CSCD (from_dst picks which) is 18, where
 *   its status byte (CHECK CONDITION) and then its sense data follow; the
 *   sense-key specific bytes 15..17 are the segment pointer (SKSV, SD, BPV,
 *   bit, FIELD POINTER) when has_ptr.
 *   Descriptor (72h): a command-specific information descriptor (01h) whose
 *   8-byte field ends with the same 4 bytes (offsets 0: the sense is not
 *   inline), the segment pointer in a sense-key specific descriptor (02h)
 *   when has_ptr, and the CSCD's sense in a forwarded sense data descriptor
 *   (0Ch: SENSE DATA SOURCE 1 = copy source, 2 = copy destination,
 *   FORWARDED STATUS = CHECK CONDITION). */
size_t prk_xcopy_abort_encode(const struct prk_xcopy_abort *a, bool desc, uint8_t *buf, size_t cap);

/* ---- The Third-party Copy VPD page (8Fh) ----
 * The descriptors that describe LID1, in ascending type order: Supported
 * Commands (0001h: 83h SA 00h; 84h SA 00h, 03h, 04h), Parameter Data
 * (0004h: max_cscd, max_seg, max_list_len, max_inline), Supported
 * Descriptors (0008h: p->impl sorted), Supported CSCD IDs (000Ch: none
 * above 07FFh) and General Copy Operations (8001h: total_concurrent,
 * max_concurrent, max_seg_len, the two granularities) from p; and, when
 * cm_tid is not NULL, prkit's descriptor PRK_VPD_3PC_CM_NEXUS that names the
 * copy manager's I_T nexus so that a host can REGISTER AND MOVE to it:
 *   0..1 type (F001h), 2..3 length (n-3), 4..5 RELATIVE TARGET PORT
 *   IDENTIFIER, 6..7 reserved, 8..n the TransportID as prk_tid_encode
 *   writes it (a multiple of 4, so no pad).
 * Not C001h: SPC-4 table 645 assigns C001h to the Held Data descriptor and
 * has no vendor-specific range; F001h is reserved there (a standard tool
 * shows it as unknown rather than misreading it). */
#define PRK_VPD_3PC_CM_NEXUS 0xf001
size_t prk_vpd_3pc_encode(uint8_t pdt, const struct prk_xcopy_opparams *p,
                          const struct prk_tid *cm_tid, uint16_t cm_rtpi, uint8_t *buf, size_t cap);
/* Finds the PRK_VPD_3PC_CM_NEXUS descriptor in a page (possibly cut by the
 * allocation length); 0, or -1 when absent/malformed. */
int prk_vpd_3pc_cm_nexus(const uint8_t *page, size_t len, struct prk_tid *tid, uint16_t *rtpi);

#endif
