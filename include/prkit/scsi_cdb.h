/* CDB field access: operation codes, CDB lengths, service actions, and the
 * PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE CDBs.
 *
 * Pure code: no I/O, no allocation. Decoders report the exact wrong field. */
#ifndef PRKIT_SCSI_CDB_H
#define PRKIT_SCSI_CDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prkit/scsi_sense.h"

/* Operation codes the PR engine classifies or the codecs build. */
enum prk_opcode {
	PRK_OP_TEST_UNIT_READY = 0x00,
	PRK_OP_REQUEST_SENSE = 0x03,
	PRK_OP_FORMAT_UNIT = 0x04,
	PRK_OP_REASSIGN_BLOCKS = 0x07,
	PRK_OP_READ6 = 0x08,
	PRK_OP_WRITE6 = 0x0a,
	PRK_OP_INQUIRY = 0x12,
	PRK_OP_MODE_SELECT6 = 0x15,
	PRK_OP_RESERVE6 = 0x16,
	PRK_OP_RELEASE6 = 0x17,
	PRK_OP_MODE_SENSE6 = 0x1a,
	PRK_OP_START_STOP_UNIT = 0x1b,
	PRK_OP_RECEIVE_DIAGNOSTIC = 0x1c,
	PRK_OP_SEND_DIAGNOSTIC = 0x1d,
	PRK_OP_PREVENT_ALLOW = 0x1e,
	PRK_OP_READ_CAPACITY10 = 0x25,
	PRK_OP_READ10 = 0x28,
	PRK_OP_WRITE10 = 0x2a,
	PRK_OP_WRITE_VERIFY10 = 0x2e,
	PRK_OP_VERIFY10 = 0x2f,
	PRK_OP_PRE_FETCH10 = 0x34,
	PRK_OP_SYNC_CACHE10 = 0x35,
	PRK_OP_READ_DEFECT10 = 0x37,
	PRK_OP_WRITE_BUFFER = 0x3b,
	PRK_OP_READ_BUFFER = 0x3c,
	PRK_OP_READ_LONG10 = 0x3e,
	PRK_OP_WRITE_LONG10 = 0x3f,
	PRK_OP_WRITE_SAME10 = 0x41,
	PRK_OP_UNMAP = 0x42,
	PRK_OP_SANITIZE = 0x48,
	PRK_OP_LOG_SELECT = 0x4c,
	PRK_OP_LOG_SENSE = 0x4d,
	PRK_OP_MODE_SELECT10 = 0x55,
	PRK_OP_RESERVE10 = 0x56,
	PRK_OP_RELEASE10 = 0x57,
	PRK_OP_MODE_SENSE10 = 0x5a,
	PRK_OP_PR_IN = 0x5e,
	PRK_OP_PR_OUT = 0x5f,
	PRK_OP_VARIABLE = 0x7f,
	PRK_OP_EXTENDED_COPY = 0x83,
	PRK_OP_RECEIVE_COPY_RESULTS = 0x84,
	PRK_OP_ACCESS_CONTROL_IN = 0x86,
	PRK_OP_ACCESS_CONTROL_OUT = 0x87,
	PRK_OP_READ16 = 0x88,
	PRK_OP_COMPARE_AND_WRITE = 0x89,
	PRK_OP_WRITE16 = 0x8a,
	PRK_OP_ORWRITE16 = 0x8b,
	PRK_OP_READ_ATTRIBUTE = 0x8c,
	PRK_OP_WRITE_ATTRIBUTE = 0x8d,
	PRK_OP_WRITE_VERIFY16 = 0x8e,
	PRK_OP_VERIFY16 = 0x8f,
	PRK_OP_PRE_FETCH16 = 0x90,
	PRK_OP_SYNC_CACHE16 = 0x91,
	PRK_OP_WRITE_SAME16 = 0x93,
	PRK_OP_WRITE_ATOMIC16 = 0x9c,
	PRK_OP_SERVICE_ACTION_IN16 = 0x9e,
	PRK_OP_SERVICE_ACTION_OUT16 = 0x9f,
	PRK_OP_REPORT_LUNS = 0xa0,
	PRK_OP_SECURITY_PROTOCOL_IN = 0xa2,
	PRK_OP_MAINTENANCE_IN = 0xa3,
	PRK_OP_MAINTENANCE_OUT = 0xa4,
	PRK_OP_READ12 = 0xa8,
	PRK_OP_WRITE12 = 0xaa,
	PRK_OP_WRITE_VERIFY12 = 0xae,
	PRK_OP_VERIFY12 = 0xaf,
	PRK_OP_SECURITY_PROTOCOL_OUT = 0xb5,
	PRK_OP_READ_DEFECT12 = 0xb7,
};

/* Service actions of SERVICE ACTION IN(16) (9Eh). */
enum prk_sai16 {
	PRK_SAI_READ_CAPACITY16 = 0x10,
	PRK_SAI_READ_LONG16 = 0x11,
	PRK_SAI_GET_LBA_STATUS = 0x12,
	PRK_SAI_REPORT_REFERRALS = 0x13,
};

/* Service actions of MAINTENANCE IN (A3h). */
enum prk_mi_sa {
	PRK_MI_REPORT_IDENTIFYING_INFO = 0x05,
	PRK_MI_REPORT_TARGET_PGS = 0x0a,
	PRK_MI_REPORT_ALIASES = 0x0b,
	PRK_MI_REPORT_SUPPORTED_OPCODES = 0x0c,
	PRK_MI_REPORT_SUPPORTED_TMFS = 0x0d,
	PRK_MI_REPORT_PRIORITY = 0x0e,
	PRK_MI_REPORT_TIMESTAMP = 0x0f,
	PRK_MI_MANAGEMENT_PROTOCOL_IN = 0x10,
};

/* Service actions of the variable-length CDB (7Fh). */
enum prk_var_sa {
	PRK_VAR_READ32 = 0x0009,
	PRK_VAR_VERIFY32 = 0x000a,
	PRK_VAR_WRITE32 = 0x000b,
	PRK_VAR_WRITE_VERIFY32 = 0x000c,
	PRK_VAR_WRITE_SAME32 = 0x000d,
	PRK_VAR_ORWRITE32 = 0x000e,
};

/* Length of a CDB implied by its operation code's group (SAM-5): 6, 10, 12
 * or 16; for 7Fh the full length is 8 + ADDITIONAL CDB LENGTH, so this
 * returns 0 and prk_cdb_len() must be used. Vendor-specific and reserved
 * groups (3, 6, 7) return 0. */
size_t prk_cdb_len_of_opcode(uint8_t opcode);

/* Full length of the CDB in buf (needs buf[0], and buf[7] for 7Fh), or 0 if it
 * cannot be determined from len bytes. */
size_t prk_cdb_len(const uint8_t *cdb, size_t len);

/* Service action of a CDB whose opcode carries one (5Eh, 5Fh, 9Eh, 9Fh, A3h,
 * A4h: byte 1 bits 4..0; 7Fh: bytes 8..9). Returns -1 for other opcodes or
 * when len is too short. */
int prk_cdb_service_action(const uint8_t *cdb, size_t len);

/* ---- PERSISTENT RESERVE OUT (5Fh) ---- */

enum prk_prout_sa {
	PRK_PROUT_REGISTER = 0x00,
	PRK_PROUT_RESERVE = 0x01,
	PRK_PROUT_RELEASE = 0x02,
	PRK_PROUT_CLEAR = 0x03,
	PRK_PROUT_PREEMPT = 0x04,
	PRK_PROUT_PREEMPT_AND_ABORT = 0x05,
	PRK_PROUT_REGISTER_AND_IGNORE = 0x06,
	PRK_PROUT_REGISTER_AND_MOVE = 0x07,
	PRK_PROUT_REPLACE_LOST = 0x08,
};
#define PRK_PROUT_SA_MAX PRK_PROUT_REPLACE_LOST

/* Persistent reservation types (SPC-4 table "Persistent reservation type
 * codes"). */
enum prk_pr_type {
	PRK_PR_WE = 0x1,    /* Write Exclusive */
	PRK_PR_EA = 0x3,    /* Exclusive Access */
	PRK_PR_WE_RO = 0x5, /* Write Exclusive - Registrants Only */
	PRK_PR_EA_RO = 0x6, /* Exclusive Access - Registrants Only */
	PRK_PR_WE_AR = 0x7, /* Write Exclusive - All Registrants */
	PRK_PR_EA_AR = 0x8, /* Exclusive Access - All Registrants */
};
#define PRK_PR_SCOPE_LU 0x0

bool prk_pr_type_valid(uint8_t type);
/* Types 7 and 8: every registrant is a holder. */
bool prk_pr_type_all_registrants(uint8_t type);
/* Types 5 and 6. */
bool prk_pr_type_registrants_only(uint8_t type);
/* Short name for logs: "WE", "EA", "WE-RO", "EA-RO", "WE-AR", "EA-AR" or "?". */
const char *prk_pr_type_name(uint8_t type);
const char *prk_prout_sa_name(uint8_t sa);

struct prk_prout_cdb {
	uint8_t sa;         /* enum prk_prout_sa */
	uint8_t scope;      /* byte 2 bits 7..4 */
	uint8_t type;       /* byte 2 bits 3..0 */
	uint32_t param_len; /* PARAMETER LIST LENGTH, bytes 5..8 */
};

/* Decodes a PR OUT CDB. Fails with INVALID FIELD IN CDB on an unknown service
 * action (byte 1). Type and scope are checked by the engine, where they
 * matter. Returns 0 or -1 (err filled). */
int prk_prout_cdb_decode(const uint8_t *cdb, size_t len, struct prk_prout_cdb *out,
                         struct prk_field_err *err);
/* Writes the 10-byte CDB; returns 10. */
size_t prk_prout_cdb_encode(const struct prk_prout_cdb *in, uint8_t cdb[10]);

/* ---- PERSISTENT RESERVE IN (5Eh) ---- */

enum prk_prin_sa {
	PRK_PRIN_READ_KEYS = 0x00,
	PRK_PRIN_READ_RESERVATION = 0x01,
	PRK_PRIN_REPORT_CAPABILITIES = 0x02,
	PRK_PRIN_READ_FULL_STATUS = 0x03,
};
#define PRK_PRIN_SA_MAX PRK_PRIN_READ_FULL_STATUS

struct prk_prin_cdb {
	uint8_t sa;
	uint16_t alloc_len; /* bytes 7..8 */
};

/* Fails with INVALID FIELD IN CDB on an unknown service action. An allocation
 * length smaller than any header is not an error (SPC-4 4.2.5.6: the data is
 * truncated). */
int prk_prin_cdb_decode(const uint8_t *cdb, size_t len, struct prk_prin_cdb *out,
                        struct prk_field_err *err);
size_t prk_prin_cdb_encode(const struct prk_prin_cdb *in, uint8_t cdb[10]);

/* ---- SPC-2 RESERVE(6/10) and RELEASE(6/10) ---- */

struct prk_spc2_cdb {
	bool reserve; /* RESERVE, else RELEASE */
};

/* Accepts only the form this target implements: a logical-unit reservation
 * for the sender. RESERVE(6)/RELEASE(6) with the obsolete EXTENT bit, and
 * RESERVE(10)/RELEASE(10) with 3RDPTY or LONGID, fail with INVALID FIELD IN
 * CDB pointing at the bit. */
int prk_spc2_cdb_decode(const uint8_t *cdb, size_t len, struct prk_spc2_cdb *out,
                        struct prk_field_err *err);

#endif
