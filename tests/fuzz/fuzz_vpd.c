/* libFuzzer target: Device Identification VPD page and REPORT TARGET PORT
 * GROUPS data. The input is decoded as both; a successful decode must be
 * self-consistent, must stay successful (and decode no more) on every
 * shorter returned length, and RTPG data must re-encode (also into a short,
 * exact-size buffer) to what decodes to the same values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prkit/scsi_vpd.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

#define MAX_DATA 70000
#define MAX_RTPG_LEN                                                                               \
	(PRK_RTPG_EXT_HDR_LEN +                                                                    \
	 PRK_RTPG_MAX_GROUPS * (PRK_RTPG_DESC_HDR_LEN + PRK_RTPG_MAX_PORTS * PRK_RTPG_PORT_LEN))

static uint8_t enc[MAX_RTPG_LEN];

static void check_err(const struct prk_field_err *e)
{
	CHECK(!e->in_cdb && e->has_ptr && e->field != NULL);
	CHECK(e->asc == PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	CHECK(e->bit >= -1 && e->bit <= 7);
}

static void check_vpd83(const struct prk_vpd83 *v, size_t size)
{
	static const char digits[] = "0123456789abcdef";

	CHECK(v->truncated == (size < PRK_VPD_HDR_LEN + (size_t)v->page_len));
	CHECK(v->n_designators <= size / PRK_DESIG_HDR_LEN);
	if (!v->has_naa) {
		CHECK(v->naa_len == 0 && v->naa_hex[0] == '\0');
	} else {
		CHECK(v->naa_len == 8 || v->naa_len == 16);
		CHECK(strlen(v->naa_hex) == 2u * v->naa_len);
		for (unsigned i = 0; i < v->naa_len; i++)
			CHECK(v->naa_hex[2 * i] == digits[v->naa[i] >> 4] &&
			      v->naa_hex[2 * i + 1] == digits[v->naa[i] & 0x0f]);
	}
	CHECK(v->has_rtpi || v->rtpi == 0);
	CHECK(v->has_tpg || v->tpg == 0);
}

static void fuzz_vpd83(const uint8_t *data, size_t size, size_t cut)
{
	struct prk_vpd83 v, p;
	struct prk_field_err err;

	if (prk_vpd83_decode(data, size, &v, &err) < 0) {
		check_err(&err);
		return;
	}
	CHECK(size >= PRK_VPD_HDR_LEN && data[1] == PRK_VPD_DEVID_PAGE);
	check_vpd83(&v, size);
	/* The same page returned shorter: still fine, a prefix of it. */
	if (cut < PRK_VPD_HDR_LEN || cut > size)
		return;
	CHECK(prk_vpd83_decode(data, cut, &p, &err) == 0);
	check_vpd83(&p, cut);
	CHECK(p.page_len == v.page_len && p.n_designators <= v.n_designators);
	CHECK(!p.has_naa || (p.naa_len == v.naa_len && memcmp(p.naa, v.naa, v.naa_len) == 0));
	CHECK(!p.has_rtpi || p.rtpi == v.rtpi);
	CHECK(!p.has_tpg || p.tpg == v.tpg);
}

static void check_rtpg(const struct prk_rtpg *r)
{
	CHECK(r->n_groups <= PRK_RTPG_MAX_GROUPS);
	CHECK(r->extended || r->implicit_transition_time == 0);
	for (unsigned i = 0; i < r->n_groups; i++) {
		const struct prk_rtpg_group *g = &r->groups[i];

		CHECK(g->state <= 0x0f);
		CHECK(g->n_ports <= PRK_RTPG_MAX_PORTS && g->n_ports <= g->n_ports_total);
		CHECK(g->n_ports == g->n_ports_total || g->n_ports == PRK_RTPG_MAX_PORTS);
		for (unsigned p = 0; p < g->n_ports; p++) {
			const struct prk_rtpg_group *f = prk_rtpg_find_port(r, g->rtpi[p]);

			CHECK(f != NULL && f <= g);
		}
		CHECK(prk_alua_state_name(g->state) != NULL);
		CHECK(prk_alua_priority(g->state, g->pref) >= 0 &&
		      prk_alua_priority(g->state, g->pref) <= 130);
	}
}

static bool same_group(const struct prk_rtpg_group *a, const struct prk_rtpg_group *b)
{
	return a->pref == b->pref && a->state == b->state && a->supported == b->supported &&
	       a->tpg == b->tpg && a->status_code == b->status_code && a->n_ports == b->n_ports &&
	       memcmp(a->rtpi, b->rtpi, a->n_ports * sizeof(a->rtpi[0])) == 0;
}

static void fuzz_rtpg(const uint8_t *data, size_t size, size_t cut)
{
	static struct prk_rtpg r, r2, p;
	struct prk_field_err err;
	size_t n, cap;
	uint8_t *buf;

	/* Asking for the length alone always works. */
	if (size >= PRK_RTPG_HDR_LEN) {
		CHECK(prk_rtpg_decode(data, PRK_RTPG_HDR_LEN, &p, &err) == 0);
		CHECK(p.n_groups == 0 && !p.extended);
	}
	if (prk_rtpg_decode(data, size, &r, &err) < 0) {
		check_err(&err);
		return;
	}
	CHECK(size >= (r.extended ? PRK_RTPG_EXT_HDR_LEN : PRK_RTPG_HDR_LEN));
	check_rtpg(&r);

	/* Re-encode and decode again. */
	n = prk_rtpg_encode(&r, enc, sizeof(enc));
	CHECK(n <= sizeof(enc));
	CHECK(prk_rtpg_decode(enc, n, &r2, &err) == 0);
	CHECK(!r2.truncated && r2.extended == r.extended && r2.n_groups == r.n_groups &&
	      r2.implicit_transition_time == r.implicit_transition_time);
	for (unsigned i = 0; i < r.n_groups; i++)
		CHECK(same_group(&r.groups[i], &r2.groups[i]));

	/* Into an exact-size heap buffer: ASan reports a write past it. */
	cap = cut < n ? cut : n;
	buf = malloc(cap ? cap : 1);
	CHECK(buf);
	CHECK(prk_rtpg_encode(&r, buf, cap) == n);
	CHECK(memcmp(buf, enc, cap) == 0);
	free(buf);

	/* The same data returned shorter: still fine, a prefix of it. */
	if (cut > size || cut < (r.extended ? PRK_RTPG_EXT_HDR_LEN : PRK_RTPG_HDR_LEN))
		return;
	CHECK(prk_rtpg_decode(data, cut, &p, &err) == 0);
	check_rtpg(&p);
	CHECK(p.extended == r.extended && p.n_groups <= r.n_groups);
	CHECK(p.truncated || p.n_groups == r.n_groups);
	for (unsigned i = 0; i < p.n_groups; i++)
		CHECK(same_group(&p.groups[i], &r.groups[i]));
}

static void fuzz_cdbs(const uint8_t *data, size_t size)
{
	uint8_t cdb[12];
	uint32_t v = 0;

	for (size_t i = 0; i < size && i < 4; i++)
		v = v << 8 | data[i];
	CHECK(prk_rtpg_cdb_encode(v & 1, v, cdb) == 12);
	CHECK(cdb[0] == 0xa3 && (cdb[1] & 0x1f) == 0x0a);
	CHECK(prk_inquiry_cdb_encode(v & 2, (uint8_t)v, (uint16_t)v, cdb) == 6);
	CHECK(cdb[0] == 0x12 && (cdb[1] & 1) == !!(v & 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t cut;

	if (size > MAX_DATA)
		return 0;
	/* An exact-size copy: ASan reports any read past the returned bytes. */
	copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	/* A shorter returned length, from the data. */
	cut = size ? size - 1 - (size_t)copy[size - 1] % size : 0;
	fuzz_vpd83(copy, size, cut);
	fuzz_rtpg(copy, size, cut);
	fuzz_cdbs(copy, size);
	free(copy);
	return 0;
}
