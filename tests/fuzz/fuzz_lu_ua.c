/* libFuzzer target: the unit attention table's import (cluster state
 * transfer bytes from the network), on one small RAM LU kept across
 * inputs. Checks: no crash or sanitizer report; a refused input leaves
 * the table exactly as it was (its export unchanged); an accepted one is
 * canonical in size (exporting it again gives as many bytes, since local
 * records only add when logins exist, and this LU has none). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backstore.h"
#include "lu.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!lu)
		setup();
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
	return 0;
}
