/* libFuzzer target: TransportID decoding, walked like a SPEC_I_PT list; every
 * TransportID that decodes is re-encoded and decoded again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_tid.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

static bool same_tid(const struct prk_tid *a, const struct prk_tid *b)
{
	return a->format == b->format && a->isid == b->isid && strcmp(a->name, b->name) == 0;
}

static void check_err(const struct prk_field_err *e, size_t base, size_t avail)
{
	CHECK(!e->in_cdb && e->has_ptr && e->field != NULL);
	CHECK(e->asc == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	CHECK(e->bit >= -1 && e->bit <= 7);
	/* The pointer stays within this TransportID's header or data. */
	CHECK(e->byte >= base && e->byte < base + (avail > 4 ? avail : 4));
}

static void round_trip(const struct prk_tid *t, size_t consumed)
{
	uint8_t enc[PRK_TID_MAX_LEN], enc2[PRK_TID_MAX_LEN];
	struct prk_tid again;
	struct prk_field_err err;
	size_t len, used;

	CHECK(prk_iscsi_name_valid(t->name));
	CHECK(t->format <= PRK_TID_FMT_PORT);
	CHECK(t->isid <= PRK_ISID_MASK);
	CHECK(t->format == PRK_TID_FMT_PORT || t->isid == 0);
	len = prk_tid_encode(t, enc, sizeof(enc));
	CHECK(len >= PRK_TID_MIN_LEN && len % 4 == 0 && len <= PRK_TID_MAX_LEN);
	CHECK(len == prk_tid_encoded_len(t));
	/* The encoding is minimal: never longer than what was received. */
	CHECK(len <= consumed);
	CHECK(prk_tid_decode(enc, len, 0, &again, &used, &err) == 0);
	CHECK(used == len);
	CHECK(same_tid(t, &again));
	CHECK(prk_tid_encode(&again, enc2, sizeof(enc2)) == len);
	CHECK(memcmp(enc, enc2, len) == 0);
	CHECK(prk_iscsi_name_eq(t->name, again.name));
	CHECK(prk_tid_matches_port(t, again.name, again.isid));
	CHECK(prk_tid_same_port(t, &again) == (t->format == PRK_TID_FMT_PORT));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	size_t pos = 0;

	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	/* Field pointers are 16 bits; keep every offset representable. */
	if (size > 60000)
		size = 60000;
	while (pos < size) {
		struct prk_tid t;
		struct prk_field_err err;
		size_t used = 0;

		if (prk_tid_decode(copy + pos, size - pos, pos, &t, &used, &err) < 0) {
			check_err(&err, pos, size - pos);
			break;
		}
		CHECK(used >= PRK_TID_MIN_LEN && used % 4 == 0 && used <= size - pos);
		round_trip(&t, used);
		pos += used;
	}
	/* The name checker on arbitrary text. */
	if (size > 0 && size <= 300) {
		char name[301];

		memcpy(name, data, size);
		name[size] = '\0';
		(void)prk_iscsi_name_valid(name);
		CHECK(prk_iscsi_name_eq(name, name));
	}
	free(copy);
	return 0;
}
