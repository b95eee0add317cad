/* libFuzzer target: the cluster snapshot decoder. An accepted snapshot
 * must be canonical (encoding the decoded state gives back the same
 * bytes); a refused one must leave the destination's state untouched and
 * name the bad field. Odd-length inputs are decoded as they are; even-length
 * ones get their length fields and both checksums (the snapshot's and the
 * embedded record's) fixed up first, so that mutations reach the structural
 * checks behind the CRCs (the unit tests cover the checksums themselves). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/crc32c.h"
#include "prkit/pr.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC32C of b[0..len) but the 4 bytes at crc_off, stored there. */
static void seal(uint8_t *b, size_t len, size_t crc_off)
{
	uint32_t crc = prk_crc32c(0, b, crc_off);
	put_le32(b + crc_off, prk_crc32c(crc, b + crc_off + 4, len - crc_off - 4));
}

static void fix_up(uint8_t *b, size_t size)
{
	if (size < 28)
		return;
	size_t rec = 28 + (size_t)b[17]; /* the record follows the SPC-2 holder's name */
	if (rec + 36 <= size) {
		put_le32(b + rec + 12, (uint32_t)(size - rec));
		seal(b + rec, size - rec, 16);
	}
	put_le32(b + 8, (uint32_t)size);
	seal(b, size, 12);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	uint8_t *data = malloc(size ? size : 1);
	if (!data)
		return 0;
	memcpy(data, in, size);
	if (size % 2 == 0)
		fix_up(data, size);
	struct prk_pr_config cfg = {.max_registrations = 64};
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	if (!st) {
		free(data);
		return 0;
	}
	struct prk_field_err err = {0};
	if (prk_pr_snapshot_decode(st, data, size, &err) == 0) {
		uint8_t *out = NULL;
		size_t n = prk_pr_snapshot_encode(st, &out);
		if (n != size || memcmp(out, data, size) != 0)
			__builtin_trap();
		free(out);
	} else if (prk_pr_reg_count(st) != 0 || prk_pr_spc2_holder(st, NULL) || prk_pr_lost(st) ||
	           !err.field) {
		__builtin_trap();
	}
	prk_pr_state_free(st);
	free(data);
	return 0;
}
