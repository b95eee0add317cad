/* Bounded big-endian writes for the wire codecs (private to src/scsi); the
 * loads and stores themselves are the base's (byteorder.h).
 *
 * The prk_wr_* helpers write into an output buffer of capacity cap and drop
 * whatever falls past it: encoders compute the full length of the data but
 * must never write beyond the allocation length they were given. */
#ifndef PRKIT_SRC_SCSI_BE_H
#define PRKIT_SRC_SCSI_BE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"

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
