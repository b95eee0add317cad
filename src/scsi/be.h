/* Big-endian field access for the wire codecs (private to src/scsi).
 *
 * SCSI fields are big-endian and unaligned, so every access goes byte by byte.
 * The prk_wr_* helpers write into an output buffer of capacity cap and drop
 * whatever falls past it: encoders compute the full length of the data but
 * must never write beyond the allocation length they were given. */
#ifndef PRKIT_SRC_SCSI_BE_H
#define PRKIT_SRC_SCSI_BE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t prk_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
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

/* Field pointers are 16 bits wide; an offset beyond that (only possible in
 * huge parameter lists) is reported as the largest one rather than wrapped. */
static inline uint16_t prk_off16(size_t off)
{
	return off > 0xffff ? 0xffff : (uint16_t)off;
}

/* Copies src[0..n) to buf[off..off+n), keeping only the bytes below cap. */
static inline void prk_wr_bytes(uint8_t *buf, size_t cap, size_t off, const void *src, size_t n)
{
	if (off >= cap || n == 0)
		return;
	if (n > cap - off)
		n = cap - off;
	memcpy(buf + off, src, n);
}

static inline void prk_wr_be32(uint8_t *buf, size_t cap, size_t off, uint32_t v)
{
	uint8_t tmp[4];

	prk_put_be32(tmp, v);
	prk_wr_bytes(buf, cap, off, tmp, sizeof(tmp));
}

static inline void prk_wr_be64(uint8_t *buf, size_t cap, size_t off, uint64_t v)
{
	uint8_t tmp[8];

	prk_put_be64(tmp, v);
	prk_wr_bytes(buf, cap, off, tmp, sizeof(tmp));
}

#endif
