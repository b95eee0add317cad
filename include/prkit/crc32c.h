/* CRC32C (Castagnoli), the checksum of iSCSI digests (RFC 7143) and of the
 * persistent PR record. Pure code. */
#ifndef PRKIT_CRC32C_H
#define PRKIT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0. prk_crc32c(0, "123456789", 9) is
 * 0xE3069283. */
uint32_t prk_crc32c(uint32_t crc, const void *data, size_t len);

#endif
