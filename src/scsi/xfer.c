/* See prkit/scsi_xfer.h. Lengths and their fields are those of SPC-4 and
 * SBC-4; a CDB field counting logical blocks is multiplied by the block
 * size, one counting bytes is taken as it is. */
#include "prkit/scsi_xfer.h"

#include <stdbool.h>

#include "be.h"
#include "prkit/scsi_cdb.h"

/* BYTCHK of VERIFY (byte 1 bits 2..1): 00b no data, 01b the blocks to
 * compare, 11b one block compared with every block of the range, 10b
 * reserved (the device server refuses it; nothing to store). */
static uint64_t verify_len(uint8_t flags, uint64_t blocks, uint32_t bs)
{
	switch ((flags >> 1) & 3) {
	case 1:
		return blocks * bs;
	case 3:
		return blocks ? bs : 0;
	default:
		return 0;
	}
}

/* Operation codes that never carry data-out (SPC-4, SBC-4). */
static bool no_data_out(uint8_t op)
{
	switch (op) {
	case 0x00: /* TEST UNIT READY */
	case 0x01: /* REZERO UNIT */
	case 0x03: /* REQUEST SENSE */
	case 0x08: /* READ(6) */
	case 0x0b: /* SEEK(6) */
	case 0x12: /* INQUIRY */
	case 0x16: /* RESERVE(6) */
	case 0x17: /* RELEASE(6) */
	case 0x1a: /* MODE SENSE(6) */
	case 0x1b: /* START STOP UNIT */
	case 0x1c: /* RECEIVE DIAGNOSTIC RESULTS */
	case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
	case 0x25: /* READ CAPACITY(10) */
	case 0x28: /* READ(10) */
	case 0x2b: /* SEEK(10) */
	case 0x34: /* PRE-FETCH(10) */
	case 0x35: /* SYNCHRONIZE CACHE(10) */
	case 0x37: /* READ DEFECT DATA(10) */
	case 0x3c: /* READ BUFFER */
	case 0x3e: /* READ LONG(10) */
	case 0x4d: /* LOG SENSE */
	case 0x5a: /* MODE SENSE(10) */
	case 0x5e: /* PERSISTENT RESERVE IN */
	case 0x84: /* RECEIVE COPY RESULTS */
	case 0x86: /* ACCESS CONTROL IN */
	case 0x88: /* READ(16) */
	case 0x8c: /* READ ATTRIBUTE */
	case 0x90: /* PRE-FETCH(16) */
	case 0x91: /* SYNCHRONIZE CACHE(16) */
	case 0x9e: /* SERVICE ACTION IN(16) */
	case 0xa0: /* REPORT LUNS */
	case 0xa2: /* SECURITY PROTOCOL IN */
	case 0xa3: /* MAINTENANCE IN */
	case 0xa8: /* READ(12) */
	case 0xb7: /* READ DEFECT DATA(12) */
		return true;
	default:
		return false;
	}
}

static enum prk_xfer_kind variable_len(const uint8_t *c, size_t len, uint32_t bs, uint64_t *out)
{
	if (len < 32)
		return PRK_XFER_UNKNOWN;
	uint16_t sa = prk_get_be16(c + 8);
	uint64_t blocks = prk_get_be32(c + 28);
	switch (sa) {
	case 0x0009: /* READ(32) */
		*out = 0;
		return PRK_XFER_KNOWN;
	case 0x000a: /* VERIFY(32): BYTCHK in byte 10 */
		*out = verify_len(c[10], blocks, bs);
		return PRK_XFER_KNOWN;
	case 0x000b: /* WRITE(32) */
	case 0x000c: /* WRITE AND VERIFY(32) */
	case 0x000e: /* ORWRITE(32) */
		*out = blocks * bs;
		return PRK_XFER_KNOWN;
	case 0x000d: /* WRITE SAME(32): NDOB in byte 10 bit 0 */
		*out = (c[10] & 1) ? 0 : bs;
		return PRK_XFER_KNOWN;
	default:
		return PRK_XFER_UNKNOWN;
	}
}

enum prk_xfer_kind prk_cdb_data_out_len(const uint8_t *c, size_t len, uint32_t bs, uint64_t *out)
{
	*out = 0;
	if (!len)
		return PRK_XFER_UNKNOWN;
	uint8_t op = c[0];
	if (op == 0x7f)
		return variable_len(c, len, bs, out);
	size_t need = prk_cdb_len_of_opcode(op); /* 0: 7Fh is above, vendor groups */
	if (!need || len < need)
		return PRK_XFER_UNKNOWN;
	if (no_data_out(op))
		return PRK_XFER_KNOWN;
	switch (op) {
	case 0x0a: /* WRITE(6): 0 means 256 blocks */
		*out = (uint64_t)(c[4] ? c[4] : 256) * bs;
		break;
	case 0x15: /* MODE SELECT(6) */
		*out = c[4];
		break;
	case 0x1d: /* SEND DIAGNOSTIC */
		*out = prk_get_be16(c + 3);
		break;
	case 0x2a: /* WRITE(10) */
	case 0x2e: /* WRITE AND VERIFY(10) */
		*out = (uint64_t)prk_get_be16(c + 7) * bs;
		break;
	case 0x2f: /* VERIFY(10) */
		*out = verify_len(c[1], prk_get_be16(c + 7), bs);
		break;
	case 0x3b: /* WRITE BUFFER */
		*out = prk_get_be24(c + 6);
		break;
	case 0x3f: /* WRITE LONG(10): a byte count */
	case 0x42: /* UNMAP */
	case 0x48: /* SANITIZE */
	case 0x4c: /* LOG SELECT */
	case 0x55: /* MODE SELECT(10) */
	case 0x56: /* RESERVE(10): third-party parameter list */
	case 0x57: /* RELEASE(10) */
		*out = prk_get_be16(c + 7);
		break;
	case 0x41: /* WRITE SAME(10): one block */
		*out = bs;
		break;
	case 0x5f: /* PERSISTENT RESERVE OUT */
		*out = prk_get_be32(c + 5);
		break;
	case 0x83: /* EXTENDED COPY */
	case 0x87: /* ACCESS CONTROL OUT */
	case 0x8d: /* WRITE ATTRIBUTE */
		*out = prk_get_be32(c + 10);
		break;
	case 0x89: /* COMPARE AND WRITE: the verify and the write data */
		*out = 2 * (uint64_t)c[13] * bs;
		break;
	case 0x8a: /* WRITE(16) */
	case 0x8b: /* ORWRITE(16) */
	case 0x8e: /* WRITE AND VERIFY(16) */
		*out = (uint64_t)prk_get_be32(c + 10) * bs;
		break;
	case 0x8f: /* VERIFY(16) */
		*out = verify_len(c[1], prk_get_be32(c + 10), bs);
		break;
	case 0x93: /* WRITE SAME(16): NDOB (byte 1 bit 0) sends no block */
		*out = (c[1] & 1) ? 0 : bs;
		break;
	case 0x9c: /* WRITE ATOMIC(16) */
		*out = (uint64_t)prk_get_be16(c + 12) * bs;
		break;
	case 0xa4: /* MAINTENANCE OUT: every service action has its length here */
		*out = prk_get_be32(c + 6);
		break;
	case 0xaa: /* WRITE(12) */
	case 0xae: /* WRITE AND VERIFY(12) */
		*out = (uint64_t)prk_get_be32(c + 6) * bs;
		break;
	case 0xaf: /* VERIFY(12) */
		*out = verify_len(c[1], prk_get_be32(c + 6), bs);
		break;
	case 0xb5: /* SECURITY PROTOCOL OUT: INC_512 counts 512-byte units */
		*out = (uint64_t)prk_get_be32(c + 6) * ((c[4] & 0x80) ? 512 : 1);
		break;
	default:
		return PRK_XFER_UNKNOWN;
	}
	return PRK_XFER_KNOWN;
}
