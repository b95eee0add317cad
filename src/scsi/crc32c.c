/* CRC32C (Castagnoli), reflected polynomial 0x82F63B78, as used by iSCSI
 * digests (RFC 7143) and the persistent PR record.
 *
 * Table-driven, one byte per step. The table is computed once on first use;
 * pthread_once makes that safe when the first calls race. */
#include "prkit/crc32c.h"

#include <pthread.h>

#define CRC32C_POLY_REFLECTED 0x82F63B78u

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_table_once = PTHREAD_ONCE_INIT;

static void crc32c_build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY_REFLECTED : 0);
		crc32c_table[i] = c;
	}
}

uint32_t prk_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&crc32c_table_once, crc32c_build_table);
	/* The running value is kept inverted between calls, so that a CRC can
	 * be continued by passing the previous result back in. */
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
