/* libFuzzer target: the unit attention table's import (cluster state
 * transfer bytes from the network), on one small RAM LU kept across
 * inputs. Checks: no crash or sanitizer report; a refused input leaves
 * the table exactly as it was (its export unchanged); an accepted one is
 * canonical in size (exporting it again gives as many bytes, since local
 * records only add when logins exist, and this LU has none). Even-length
 * inputs get their length field and checksum fixed up first, so that
 * mutations reach the structural checks behind the CRC. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backstore.h"
#include "lu.h"
#include "prkit/crc32c.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static struct prk_lu *lu;

static void setup(void)
{
	char err[256];
	struct prk_bs *bs = prk_bs_ram_open(1u << 16, err, sizeof(err));
	CHECK(bs);
	struct prk_lu_config cfg = {.block_size = 512, .num_blocks = 128, .serial = "fuzzua01"};
	lu = prk_lu_new(&cfg, bs, err, sizeof(err));
	CHECK(lu);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (!lu)
		setup();
	uint8_t *data = malloc(size ? size : 1);
	if (!data)
		return 0;
	memcpy(data, in, size);
	if (size % 2 == 0 && size >= 24) {
		put_be32(data + 8, (uint32_t)size);
		uint32_t crc = prk_crc32c(0, data, 12);
		put_be32(data + 12, prk_crc32c(crc, data + 16, size - 16));
	}
	uint8_t *before = NULL, *after = NULL;
	size_t blen = prk_lu_ua_export(lu, &before);
	CHECK(blen);
	if (prk_lu_ua_import(lu, data, size) == 0) {
		size_t alen = prk_lu_ua_export(lu, &after);
		CHECK(alen == size);
	} else {
		size_t alen = prk_lu_ua_export(lu, &after);
		CHECK(alen == blen && memcmp(after, before, blen) == 0);
	}
	free(before);
	free(after);
	free(data);
	return 0;
}
