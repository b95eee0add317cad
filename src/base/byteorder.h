/* Byte-order loads and stores: the one set for all of prkit. Big-endian for
 * the wire (SCSI CDBs and parameter data, iSCSI PDU headers); little-endian
 * for the formats prkit defines itself (the APTPL record, the I/O verify
 * pattern), which are documented that way.
 *
 * Fields are often unaligned, so every access goes byte by byte; the
 * compiler turns these into single loads/stores where the target allows.
 * Pure: usable by src/scsi and src/pr. */
#ifndef PRKIT_SRC_BASE_BYTEORDER_H
#define PRKIT_SRC_BASE_BYTEORDER_H

#include <stdint.h>

static inline uint16_t prk_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* 24-bit fields: iSCSI DataSegmentLength, some SBC/SPC lengths. */
static inline uint32_t prk_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t prk_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t prk_get_be64(const uint8_t *p)
{
	return (uint64_t)prk_get_be32(p) << 32 | prk_get_be32(p + 4);
}

static inline void prk_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Stores the low 24 bits of v; the caller checks that v fits. */
static inline void prk_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void prk_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void prk_put_be64(uint8_t *p, uint64_t v)
{
	prk_put_be32(p, (uint32_t)(v >> 32));
	prk_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t prk_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t prk_get_le32(const uint8_t *p)
{
	return prk_get_le16(p) | (uint32_t)prk_get_le16(p + 2) << 16;
}

static inline uint64_t prk_get_le64(const uint8_t *p)
{
	return prk_get_le32(p) | (uint64_t)prk_get_le32(p + 4) << 32;
}

static inline void prk_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void prk_put_le32(uint8_t *p, uint32_t v)
{
	prk_put_le16(p, (uint16_t)v);
	prk_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void prk_put_le64(uint8_t *p, uint64_t v)
{
	prk_put_le32(p, (uint32_t)v);
	prk_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
