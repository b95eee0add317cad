/* libFuzzer target: PR IN data. The input is decoded as each of the four
 * formats; whatever decodes is re-encoded (also into a short, exact-size
 * buffer) and must decode to the same values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_pr_wire.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define MAX_DATA 60000
#define MAX_DESCS (MAX_DATA / (PRK_FULL_DESC_HDR_LEN + PRK_TID_MIN_LEN) + 1)

static uint64_t keys[MAX_DATA / 8 + 1];
static struct prk_full_desc descs[MAX_DESCS];
static uint8_t enc[MAX_DATA + 64];

static void check_err(const struct prk_field_err *e)
{
	CHECK(!e->in_cdb && e->has_ptr && e->field != NULL);
	CHECK(e->asc == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	CHECK(e->bit >= -1 && e->bit <= 7);
}

/* Re-encodes into an exact-size heap buffer of cap bytes; ASan reports a
 * write past it. */
typedef size_t (*encode_fn)(const void *arg, uint8_t *buf, size_t cap);

static void encode_capped(encode_fn fn, const void *arg, size_t full_len, size_t cap)
{
	uint8_t *buf = malloc(cap ? cap : 1);

	CHECK(buf);
	CHECK(fn(arg, buf, cap) == full_len);
	CHECK(memcmp(buf, enc, cap < full_len ? cap : full_len) == 0);
	free(buf);
}

struct keys_arg {
	uint32_t gen;
	size_t n;
};

static size_t keys_enc(const void *arg, uint8_t *buf, size_t cap)
{
	const struct keys_arg *a = arg;

	return prk_prin_keys_encode(a->gen, keys, a->n, buf, cap);
}

static void fuzz_keys(const uint8_t *data, size_t size, size_t cap)
{
	struct prk_prin_keys k, k2;
	struct prk_field_err err;
	struct keys_arg a;
	size_t n;

	if (prk_prin_keys_decode(data, size, &k, &err) < 0) {
		check_err(&err);
		return;
	}
	CHECK(k.n_present <= k.n_total && 8 + k.n_present * 8 <= size);
	for (size_t i = 0; i < k.n_present; i++)
		keys[i] = prk_prin_keys_at(&k, i);
	a.gen = k.generation;
	a.n = k.n_present;
	n = prk_prin_keys_encode(a.gen, keys, a.n, enc, sizeof(enc));
	CHECK(prk_prin_keys_decode(enc, n, &k2, &err) == 0);
	CHECK(k2.generation == k.generation && k2.n_total == k.n_present &&
	      k2.n_present == k.n_present);
	for (size_t i = 0; i < k.n_present; i++)
		CHECK(prk_prin_keys_at(&k2, i) == keys[i]);
	encode_capped(keys_enc, &a, n, cap);
}

static size_t resv_enc(const void *arg, uint8_t *buf, size_t cap)
{
	return prk_prin_resv_encode(arg, buf, cap);
}

static void fuzz_resv(const uint8_t *data, size_t size, size_t cap)
{
	struct prk_prin_resv r, r2;
	struct prk_field_err err;
	size_t n;

	if (prk_prin_resv_decode(data, size, &r, &err) < 0) {
		check_err(&err);
		return;
	}
	n = prk_prin_resv_encode(&r, enc, sizeof(enc));
	CHECK(n == (r.present ? PRK_PRIN_RESV_LEN : PRK_PRIN_HDR_LEN));
	CHECK(prk_prin_resv_decode(enc, n, &r2, &err) == 0);
	CHECK(r2.generation == r.generation && r2.present == r.present && r2.key == r.key &&
	      r2.scope == r.scope && r2.type == r.type);
	encode_capped(resv_enc, &r, n, cap);
}

static size_t caps_enc(const void *arg, uint8_t *buf, size_t cap)
{
	return prk_prin_caps_encode(arg, buf, cap);
}

static void fuzz_caps(const uint8_t *data, size_t size, size_t cap)
{
	struct prk_prin_caps c, c2;
	struct prk_field_err err;
	size_t n;

	if (prk_prin_caps_decode(data, size, &c, &err) < 0) {
		check_err(&err);
		return;
	}
	n = prk_prin_caps_encode(&c, enc, sizeof(enc));
	CHECK(n == PRK_PRIN_CAPS_LEN);
	CHECK(prk_prin_caps_decode(enc, n, &c2, &err) == 0);
	CHECK(c2.rlr_c == c.rlr_c && c2.crh == c.crh && c2.sip_c == c.sip_c &&
	      c2.atp_c == c.atp_c && c2.ptpl_c == c.ptpl_c && c2.tmv == c.tmv &&
	      c2.allow_commands == c.allow_commands && c2.ptpl_a == c.ptpl_a &&
	      c2.type_mask == c.type_mask);
	encode_capped(caps_enc, &c, n, cap);
}

struct full_arg {
	uint32_t gen;
	size_t n;
};

static size_t full_enc(const void *arg, uint8_t *buf, size_t cap)
{
	const struct full_arg *a = arg;
	struct prk_full_enc e;

	prk_full_enc_start(&e, a->gen, buf, cap);
	for (size_t i = 0; i < a->n; i++)
		prk_full_enc_add(&e, &descs[i]);
	return prk_full_enc_finish(&e);
}

static bool same_desc(const struct prk_full_desc *a, const struct prk_full_desc *b)
{
	return a->key == b->key && a->all_tg_pt == b->all_tg_pt && a->r_holder == b->r_holder &&
	       a->scope == b->scope && a->type == b->type && a->rtpi == b->rtpi &&
	       a->tid.format == b->tid.format && a->tid.isid == b->tid.isid &&
	       strcmp(a->tid.name, b->tid.name) == 0;
}

static void fuzz_full(const uint8_t *data, size_t size, size_t cap)
{
	struct prk_full_dec d;
	struct prk_field_err err;
	struct full_arg a = {0, 0};
	size_t n;
	int rc;

	if (prk_full_dec_start(&d, data, size, &err) < 0) {
		check_err(&err);
		return;
	}
	CHECK(d.len <= size);
	while ((rc = prk_full_dec_next(&d, &descs[a.n], &err)) == 1) {
		a.n++;
		CHECK(a.n < MAX_DESCS && d.pos <= d.len);
	}
	if (rc < 0) {
		check_err(&err);
		return;
	}
	CHECK(d.pos == d.len || d.truncated);
	a.gen = d.generation;
	n = full_enc(&a, enc, sizeof(enc));
	CHECK(n >= PRK_PRIN_HDR_LEN && n <= size);
	CHECK(prk_full_dec_start(&d, enc, n, &err) == 0);
	CHECK(!d.truncated && d.generation == a.gen);
	for (size_t i = 0; i <= a.n; i++) {
		struct prk_full_desc got;

		CHECK(prk_full_dec_next(&d, &got, &err) == (i < a.n));
		CHECK(i == a.n || same_desc(&got, &descs[i]));
	}
	encode_capped(full_enc, &a, n, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t cap;

	if (size > MAX_DATA)
		return 0;
	copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	/* A short allocation length for the re-encodings, from the data. */
	cap = size ? (size_t)copy[size - 1] : 0;
	fuzz_keys(copy, size, cap);
	fuzz_resv(copy, size, cap);
	fuzz_caps(copy, size, cap);
	fuzz_full(copy, size, cap);
	free(copy);
	return 0;
}
