/* Helpers private to src/iscsi: big-endian access to BHS fields. The BHS is
 * a byte array with unaligned multi-byte fields, so every access goes byte by
 * byte. (src/scsi has its own copy in be.h, private to that directory.) */
#ifndef PRKIT_SRC_ISCSI_INTERNAL_H
#define PRKIT_SRC_ISCSI_INTERNAL_H

#include <stdint.h>

static inline uint16_t prk_is_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t prk_is_get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t prk_is_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t prk_is_get64(const uint8_t *p)
{
	return (uint64_t)prk_is_get32(p) << 32 | prk_is_get32(p + 4);
}

static inline void prk_is_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void prk_is_put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void prk_is_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void prk_is_put64(uint8_t *p, uint64_t v)
{
	prk_is_put32(p, (uint32_t)(v >> 32));
	prk_is_put32(p + 4, (uint32_t)v);
}

#endif
