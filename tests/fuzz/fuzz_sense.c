/* libFuzzer target: sense data decoding, and encode/decode round trips of
 * whatever decodes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_sense.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static bool same(const struct prk_sense *a, const struct prk_sense *b, bool info_too)
{
	return a->key == b->key && a->asc == b->asc && a->ascq == b->ascq && a->sksv == b->sksv &&
	       a->cd == b->cd && a->bpv == b->bpv && a->bit == b->bit && a->field == b->field &&
	       (!info_too || (a->has_info == b->has_info && a->info == b->info));
}

/* Encodes s both ways, exactly into a buffer of cap bytes (so ASan sees any
 * overrun), and checks the decoded result. */
static void round_trip(const struct prk_sense *s, size_t cap)
{
	uint8_t full[PRK_SENSE_DESC_MAX_LEN];
	uint8_t *buf = malloc(cap ? cap : 1);
	struct prk_sense got;
	size_t n;

	CHECK(buf);
	n = prk_sense_encode_desc(s, full, sizeof(full));
	CHECK(n >= 8 && n <= PRK_SENSE_DESC_MAX_LEN);
	CHECK(prk_sense_decode(full, n, &got) == 0);
	CHECK(same(&got, s, true));
	CHECK(prk_sense_encode_desc(s, buf, cap) == n);
	CHECK(memcmp(buf, full, cap < n ? cap : n) == 0);

	n = prk_sense_encode_fixed(s, full, sizeof(full));
	CHECK(n == PRK_SENSE_FIXED_LEN);
	CHECK(prk_sense_decode(full, n, &got) == 0);
	/* Fixed format holds 32 bits of INFORMATION only. */
	CHECK(same(&got, s, !s->has_info || s->info <= UINT32_MAX));
	CHECK(prk_sense_encode_fixed(s, buf, cap) == n);
	CHECK(memcmp(buf, full, cap < n ? cap : n) == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prk_sense s;
	uint8_t *copy;

	/* An exact-size copy: reading one byte too far is caught by ASan. */
	copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	if (prk_sense_decode(copy, size, &s) == 0) {
		const char *name = prk_asc_name((uint16_t)(s.asc << 8 | s.ascq));

		CHECK(!name || name[0] != '\0');
		CHECK(s.key <= 0xf && s.bit <= 7);
		round_trip(&s, size % (PRK_SENSE_DESC_MAX_LEN + 1));
	}
	free(copy);
	return 0;
}
