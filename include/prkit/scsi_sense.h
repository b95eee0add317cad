/* SCSI status codes, sense data (fixed and descriptor formats) and the
 * "which field is wrong" report that every decoder in src/scsi returns.
 *
 * Pure code: no I/O, no allocation. Used by the target (to build sense data)
 * and by the host library (to parse it). */
#ifndef PRKIT_SCSI_SENSE_H
#define PRKIT_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SAM-5 status codes. */
enum prk_status {
	PRK_STATUS_GOOD = 0x00,
	PRK_STATUS_CHECK_CONDITION = 0x02,
	PRK_STATUS_BUSY = 0x08,
	PRK_STATUS_RESERVATION_CONFLICT = 0x18,
	PRK_STATUS_TASK_SET_FULL = 0x28,
	PRK_STATUS_TASK_ABORTED = 0x40,
};

/* SPC-4 sense keys. */
enum prk_sense_key {
	PRK_SK_NO_SENSE = 0x0,
	PRK_SK_RECOVERED_ERROR = 0x1,
	PRK_SK_NOT_READY = 0x2,
	PRK_SK_MEDIUM_ERROR = 0x3,
	PRK_SK_HARDWARE_ERROR = 0x4,
	PRK_SK_ILLEGAL_REQUEST = 0x5,
	PRK_SK_UNIT_ATTENTION = 0x6,
	PRK_SK_DATA_PROTECT = 0x7,
	PRK_SK_COPY_ABORTED = 0xa,
	PRK_SK_ABORTED_COMMAND = 0xb,
	PRK_SK_MISCOMPARE = 0xe,
};

/* The additional sense codes this project uses, as (ASC << 8) | ASCQ. */
enum prk_asc {
	PRK_ASC_NONE = 0x0000,
	PRK_ASC_OPERATION_IN_PROGRESS = 0x0016,
	PRK_ASC_THIRD_PARTY_INITIATOR_ERROR =
	    0x0d00, /* ERROR DETECTED BY THIRD PARTY TEMPORARY INITIATOR */
	PRK_ASC_THIRD_PARTY_DEVICE_FAILURE = 0x0d01,
	PRK_ASC_COPY_TARGET_NOT_REACHABLE = 0x0d02,
	PRK_ASC_INCORRECT_COPY_TARGET_TYPE = 0x0d03,
	PRK_ASC_COPY_TARGET_DATA_UNDERRUN = 0x0d04,
	PRK_ASC_COPY_TARGET_DATA_OVERRUN = 0x0d05,
	PRK_ASC_LU_NOT_ACCESSIBLE_STANDBY = 0x040b,
	PRK_ASC_LU_NOT_ACCESSIBLE_UNAVAILABLE = 0x040c,
	PRK_ASC_PARAMETER_LIST_LENGTH_ERROR = 0x1a00,
	PRK_ASC_INVALID_COMMAND_OPCODE = 0x2000,
	PRK_ASC_LBA_OUT_OF_RANGE = 0x2100,
	PRK_ASC_INVALID_FIELD_IN_CDB = 0x2400,
	PRK_ASC_LU_NOT_SUPPORTED = 0x2500,
	PRK_ASC_INVALID_FIELD_IN_PARAM_LIST = 0x2600,
	PRK_ASC_INVALID_RELEASE_OF_PR = 0x2604,
	PRK_ASC_TOO_MANY_TARGET_DESCRIPTORS = 0x2606,
	PRK_ASC_UNSUPPORTED_TARGET_DESCRIPTOR_TYPE = 0x2607,
	PRK_ASC_TOO_MANY_SEGMENT_DESCRIPTORS = 0x2608,
	PRK_ASC_UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE = 0x2609,
	PRK_ASC_UNEXPECTED_INEXACT_SEGMENT = 0x260a,
	PRK_ASC_INLINE_DATA_LENGTH_EXCEEDED = 0x260b,
	PRK_ASC_INVALID_OPERATION_FOR_COPY = 0x260c, /* ... FOR COPY SOURCE OR DESTINATION */
	PRK_ASC_COPY_SEGMENT_GRANULARITY_VIOLATION = 0x260d,
	PRK_ASC_POWER_ON_RESET = 0x2900,
	PRK_ASC_POWER_ON_OCCURRED = 0x2901,
	PRK_ASC_BUS_DEVICE_RESET = 0x2903,
	PRK_ASC_MODE_PARAMETERS_CHANGED = 0x2a01,
	PRK_ASC_RESERVATIONS_PREEMPTED = 0x2a03,
	PRK_ASC_RESERVATIONS_RELEASED = 0x2a04,
	PRK_ASC_REGISTRATIONS_PREEMPTED = 0x2a05,
	PRK_ASC_ASYMMETRIC_ACCESS_STATE_CHANGED = 0x2a06,
	PRK_ASC_CAPACITY_DATA_CHANGED = 0x2a09,
	PRK_ASC_COMMANDS_CLEARED_BY_ANOTHER_INITIATOR = 0x2f00,
	PRK_ASC_REPORTED_LUNS_DATA_CHANGED = 0x3f0e,
	PRK_ASC_INTERNAL_TARGET_FAILURE = 0x4400,
	PRK_ASC_PR_INFORMATION_LOST = 0x4401,
	PRK_ASC_PROTOCOL_SERVICE_CRC_ERROR = 0x4705,
	PRK_ASC_DATA_PHASE_ERROR = 0x4b00,
	PRK_ASC_DATA_OFFSET_ERROR = 0x4b05,
	PRK_ASC_INSUFFICIENT_RESOURCES = 0x5503,
	PRK_ASC_INSUFFICIENT_REGISTRATION_RESOURCES = 0x5504,
};

/* Decoded sense data, format-independent. The sense-key specific field is
 * kept only in its "field pointer" form (SPC-4 4.5.2.4.2), the one the
 * device server needs for ILLEGAL REQUEST. */
struct prk_sense {
	uint8_t key; /* enum prk_sense_key */
	uint8_t asc;
	uint8_t ascq;
	bool sksv;      /* the field pointer below is valid */
	bool cd;        /* C/D: 1 = the error is in the CDB, 0 = in the data */
	bool bpv;       /* the bit pointer is valid */
	uint8_t bit;    /* bit pointer (0..7) */
	uint16_t field; /* byte offset of the field in the CDB or data */
	bool has_info;  /* INFORMATION field present/valid */
	uint64_t info;
};

/* Where a decoder found a problem: the byte (and bit) of the offending field,
 * whether it is in the CDB or in the parameter data, the sense code to report
 * and a human-readable field name for logs and CLI errors. */
struct prk_field_err {
	bool in_cdb;       /* true: CDB field, false: parameter data field */
	bool has_ptr;      /* false for errors without a field (1A/00) */
	uint16_t byte;     /* offset of the field's first byte */
	int8_t bit;        /* most significant bit of the field, -1 = whole byte */
	uint16_t asc;      /* enum prk_asc */
	const char *field; /* e.g. "TRANSPORTID PARAMETER DATA LENGTH" */
};

/* Length of fixed-format sense data we produce (no extra bytes). */
#define PRK_SENSE_FIXED_LEN 18
/* Length of descriptor-format sense data we produce: the 8-byte header, an
 * optional information descriptor (12 bytes) and an optional sense-key
 * specific descriptor (8 bytes). */
#define PRK_SENSE_DESC_MAX_LEN 28

/* Sets *s to sense key/ASC with no field pointer. */
void prk_sense_set(struct prk_sense *s, uint8_t key, uint16_t asc);

/* Builds ILLEGAL REQUEST sense (with field pointer when e->has_ptr) from a
 * decoder's field error. */
void prk_sense_from_field_err(struct prk_sense *s, const struct prk_field_err *e);

/* Fills *e; helper for decoders. bit = -1 for a whole-byte field. */
void prk_field_err_set(struct prk_field_err *e, bool in_cdb, uint16_t byte, int8_t bit,
                       uint16_t asc, const char *field);

/* Encode as fixed format (response code 70h). Writes at most cap bytes and
 * returns the full length (PRK_SENSE_FIXED_LEN). */
size_t prk_sense_encode_fixed(const struct prk_sense *s, uint8_t *buf, size_t cap);

/* Encode as descriptor format (response code 72h). Writes at most cap bytes
 * and returns the full length. */
size_t prk_sense_encode_desc(const struct prk_sense *s, uint8_t *buf, size_t cap);

/* Decode fixed (70h/71h) or descriptor (72h/73h) sense data. Returns 0, or
 * -1 when the buffer is too short or the response code unknown. Unknown
 * descriptors are skipped. */
int prk_sense_decode(const uint8_t *buf, size_t len, struct prk_sense *out);

/* Name of an ASC/ASCQ pair, or NULL when unknown to us. */
const char *prk_asc_name(uint16_t asc);

#endif
