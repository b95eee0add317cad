/* The replication snapshot codec (cluster state transfer): round trips
 * over states reached by random PR OUT, SPC-2 and event sequences; every
 * truncation and every single-bit flip refused (or, were one ever to pass
 * the checksum, decoded to a canonical state); decode replaces everything
 * the destination held and leaves it untouched on error; bounded counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "prkit/crc32c.h"
#include "prkit/pr.h"

#define N_NX 5
static struct prk_nexus nx[N_NX];
static const char *const names[N_NX] = {"iqn.2026-01.org.example:a", "iqn.2026-01.org.example:a",
                                        "iqn.2026-01.org.example:b", "iqn.2026-01.org.example:c",
                                        "iqn.2026-01.org.example:d"};
static const uint16_t ports[] = {1, 2};
static const struct prk_pr_config cfg = {.max_registrations = 10, .rtpis = ports, .n_rtpis = 2};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void prout(struct prk_pr_state *st, const struct prk_nexus *from, uint8_t sa, uint8_t type,
                  uint64_t key, uint64_t sa_key, bool all_tg_pt, bool aptpl)
{
	uint8_t params[64], cdb[10];
	size_t plen = prk_prout_params_encode_basic(key, sa_key, all_tg_pt, aptpl, NULL, 0, params,
	                                            sizeof(params));
	struct prk_prout_cdb pc = {.sa = sa, .type = type, .param_len = (uint32_t)plen};
	prk_prout_cdb_encode(&pc, cdb);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	prk_pr_out(st, from, cdb, sizeof(cdb), params, plen, &res);
	prk_pr_result_free(&res);
}

/* One random step: mostly PR OUTs with keys from a small set (so that
 * many succeed), sometimes RESERVE/RELEASE(6), a nexus loss, a LU reset,
 * or the loss of PR information. */
static void random_step(struct prk_pr_state *st, uint64_t *s)
{
	static const uint64_t keys[] = {0, 1, 2, 3};
	static const uint8_t types[] = {1, 3, 5, 6, 7, 8};
	const struct prk_nexus *from = &nx[rnd(s) % N_NX];
	unsigned what = (unsigned)(rnd(s) % 100);
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	if (what < 80) {
		uint8_t sa = (uint8_t)(rnd(s) % 8);
		prout(st, from, sa, types[rnd(s) % 6], keys[rnd(s) % 4], keys[rnd(s) % 4],
		      rnd(s) % 7 == 0, rnd(s) % 3 == 0);
	} else if (what < 90) {
		uint8_t cdb[6] = {rnd(s) % 2 ? PRK_OP_RESERVE6 : PRK_OP_RELEASE6};
		prk_pr_spc2(st, from, cdb, sizeof(cdb), &res);
	} else if (what < 95) {
		prk_pr_nexus_loss(st, from, &res);
	} else if (what < 98) {
		prk_pr_lu_reset(st, &res);
	} else if (what < 99) {
		prk_pr_mark_lost(st);
	} else {
		/* REPLACE LOST RESERVATION, so that "lost" does not stick. */
		uint8_t params[24] = {0}, cdb[10];
		params[15] = 9;
		struct prk_prout_cdb pc = {
		    .sa = PRK_PROUT_REPLACE_LOST, .type = PRK_PR_WE, .param_len = 24};
		prk_prout_cdb_encode(&pc, cdb);
		prk_pr_out(st, from, cdb, sizeof(cdb), params, 24, &res);
	}
	prk_pr_result_free(&res);
}

/* Decodes snap into a fresh state and checks equality and canonical form. */
static void check_round_trip(const struct prk_pr_state *st)
{
	uint8_t *snap = NULL, *again = NULL;
	size_t len = prk_pr_snapshot_encode(st, &snap);
	assert_true(len > 0);
	struct prk_pr_state *back = prk_pr_state_new(&cfg);
	struct prk_field_err err;
	assert_int_equal(prk_pr_snapshot_decode(back, snap, len, &err), 0);
	assert_true(prk_pr_state_equal(st, back));
	size_t len2 = prk_pr_snapshot_encode(back, &again);
	assert_int_equal(len, len2);
	assert_memory_equal(snap, again, len);
	free(snap);
	free(again);
	prk_pr_state_free(back);
}

static void test_snapshot_random_round_trip(void **state)
{
	(void)state;
	unsigned seen_spc2 = 0, seen_lost = 0, seen_resv = 0, seen_regs = 0;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 7;
		struct prk_pr_state *st = prk_pr_state_new(&cfg);
		for (int step = 0; step < 600; step++) {
			random_step(st, &s);
			check_round_trip(st);
			seen_spc2 += prk_pr_spc2_holder(st, NULL);
			seen_lost += prk_pr_lost(st);
			seen_resv += prk_pr_reservation(st, NULL, NULL, NULL);
			seen_regs += prk_pr_reg_count(st) > 1;
		}
		prk_pr_state_free(st);
	}
	/* The walk must have visited every part of the state. */
	assert_true(seen_spc2 > 50);
	assert_true(seen_lost > 10);
	assert_true(seen_resv > 100);
	assert_true(seen_regs > 100);
}

/* States covering each field the record lacks. */
static struct prk_pr_state *with_regs(void)
{
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	prout(st, &nx[0], PRK_PROUT_REGISTER, 0, 0, 0x11, false, true);
	prout(st, &nx[2], PRK_PROUT_REGISTER, 0, 0, 0x22, true, false);
	prout(st, &nx[0], PRK_PROUT_RESERVE, PRK_PR_EA_RO, 0x11, 0, false, false);
	assert_int_equal(prk_pr_reg_count(st), 2);
	return st;
}

static struct prk_pr_state *with_spc2(void)
{
	struct prk_pr_state *st = prk_pr_state_new(&cfg);
	uint8_t cdb[6] = {PRK_OP_RESERVE6};
	struct prk_pr_result res;
	prk_pr_result_init(&res);
	assert_int_equal(prk_pr_spc2(st, &nx[3], cdb, sizeof(cdb), &res), 0);
	prk_pr_result_free(&res);
	assert_true(prk_pr_spc2_holder(st, NULL));
	return st;
}

static struct prk_pr_state *with_lost(void)
{
	struct prk_pr_state *st = with_regs();
	prk_pr_mark_lost(st);
	return st;
}

typedef struct prk_pr_state *(*maker)(void);
static const maker makers[] = {with_regs, with_spc2, with_lost};

static void test_snapshot_truncation_and_bit_flips(void **state)
{
	(void)state;
	for (size_t m = 0; m < 3; m++) {
		struct prk_pr_state *st = makers[m]();
		uint8_t *snap;
		size_t len = prk_pr_snapshot_encode(st, &snap);
		/* The destination holds another state, which an error must keep. */
		struct prk_pr_state *dst = makers[(m + 1) % 3]();
		struct prk_pr_state *orig = prk_pr_state_clone(dst);
		struct prk_field_err err;
		for (size_t n = 0; n < len; n++) {
			err.field = NULL;
			assert_int_equal(prk_pr_snapshot_decode(dst, snap, n, &err), -1);
			assert_non_null(err.field);
			assert_true(prk_pr_state_equal(dst, orig));
		}
		uint8_t *bad = malloc(len);
		for (size_t bit = 0; bit < len * 8; bit++) {
			memcpy(bad, snap, len);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (prk_pr_snapshot_decode(dst, bad, len, &err) == 0) {
				/* Only a canonical state may come out: re-encoding
				 * it gives the same bytes. */
				uint8_t *re;
				size_t relen = prk_pr_snapshot_encode(dst, &re);
				assert_int_equal(relen, len);
				assert_memory_equal(re, bad, len);
				free(re);
				prk_pr_state_free(dst);
				dst = prk_pr_state_clone(orig);
			} else {
				assert_true(prk_pr_state_equal(dst, orig));
			}
		}
		free(bad);
		free(snap);
		prk_pr_state_free(orig);
		prk_pr_state_free(dst);
		prk_pr_state_free(st);
	}
}

static void test_snapshot_replaces_everything(void **state)
{
	(void)state;
	for (size_t m = 0; m < 3; m++)
		for (size_t d = 0; d < 3; d++) {
			struct prk_pr_state *src = makers[m]();
			struct prk_pr_state *dst = makers[d]();
			uint8_t *snap;
			size_t len = prk_pr_snapshot_encode(src, &snap);
			struct prk_field_err err;
			assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), 0);
			assert_true(prk_pr_state_equal(src, dst));
			free(snap);
			prk_pr_state_free(src);
			prk_pr_state_free(dst);
		}
	/* And an empty state wipes a full one. */
	struct prk_pr_state *empty = prk_pr_state_new(&cfg);
	struct prk_pr_state *dst = with_regs();
	uint8_t *snap;
	size_t len = prk_pr_snapshot_encode(empty, &snap);
	struct prk_field_err err;
	assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), 0);
	assert_int_equal(prk_pr_reg_count(dst), 0);
	assert_false(prk_pr_reservation(dst, NULL, NULL, NULL));
	free(snap);
	prk_pr_state_free(empty);
	prk_pr_state_free(dst);
}

/* More registrations than the receiver allows: refused, not allocated. */
static void test_snapshot_count_bounded(void **state)
{
	(void)state;
	struct prk_pr_state *st = with_regs();
	uint8_t *snap;
	size_t len = prk_pr_snapshot_encode(st, &snap);
	struct prk_pr_config one = {.max_registrations = 1};
	struct prk_pr_state *small = prk_pr_state_new(&one);
	struct prk_field_err err;
	assert_int_equal(prk_pr_snapshot_decode(small, snap, len, &err), -1);
	assert_string_equal(err.field, "registration count");
	assert_int_equal(prk_pr_reg_count(small), 0);
	free(snap);
	prk_pr_state_free(small);
	prk_pr_state_free(st);
}

/* Re-seals a hand-made snapshot with a valid CRC (offset 12). */
static void reseal(uint8_t *b, size_t len)
{
	uint32_t crc = prk_crc32c(0, b, 12);
	crc = prk_crc32c(crc, b + 16, len - 16);
	b[12] = (uint8_t)crc;
	b[13] = (uint8_t)(crc >> 8);
	b[14] = (uint8_t)(crc >> 16);
	b[15] = (uint8_t)(crc >> 24);
}

/* Well-sealed but impossible states are refused with the field named. */
static void test_snapshot_inconsistent_refused(void **state)
{
	(void)state;
	struct prk_pr_state *st = with_regs();
	uint8_t *snap;
	size_t len = prk_pr_snapshot_encode(st, &snap);
	struct prk_pr_state *dst = prk_pr_state_new(&cfg);
	struct prk_field_err err;

	snap[16] = 0x2; /* "lost" with registrations */
	reseal(snap, len);
	assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), -1);
	assert_int_equal(err.byte, 16);
	snap[16] = 0x4; /* unknown flag */
	reseal(snap, len);
	assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), -1);
	assert_string_equal(err.field, "snapshot flags");
	snap[16] = 0;
	snap[19] = 1; /* holder port without an SPC-2 reservation */
	reseal(snap, len);
	assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), -1);
	snap[19] = 0;
	snap[40] ^= 0xff; /* inside the record: its own CRC, offset reported in the snapshot */
	reseal(snap, len);
	assert_int_equal(prk_pr_snapshot_decode(dst, snap, len, &err), -1);
	assert_true(err.byte >= 28);
	assert_int_equal(prk_pr_reg_count(dst), 0);
	free(snap);
	prk_pr_state_free(st);

	/* An SPC-2 reservation beside registrations: the header of one state
	 * before the record of the other. */
	struct prk_pr_state *s2 = with_spc2(), *sr = with_regs();
	uint8_t *a, *b;
	size_t la = prk_pr_snapshot_encode(s2, &a), lb = prk_pr_snapshot_encode(sr, &b);
	size_t hdr = 28 + strlen(nx[3].name);
	size_t n = hdr + (lb - 28);
	uint8_t *mix = malloc(n);
	memcpy(mix, a, hdr);
	memcpy(mix + hdr, b + 28, lb - 28);
	mix[8] = (uint8_t)n;
	mix[9] = (uint8_t)(n >> 8);
	reseal(mix, n);
	assert_int_equal(prk_pr_snapshot_decode(dst, mix, n, &err), -1);
	assert_string_equal(err.field, "SPC-2 reservation with registrations");
	/* A NUL inside the SPC-2 holder's name (the shorter name would be
	 * valid): refused, since it is not what encode writes. */
	a[28 + 21] = 0;
	reseal(a, la);
	assert_int_equal(prk_pr_snapshot_decode(dst, a, la, &err), -1);
	assert_int_equal(err.byte, 17);
	free(a);
	free(b);
	free(mix);
	prk_pr_state_free(s2);
	prk_pr_state_free(sr);
	prk_pr_state_free(dst);
}

static int setup(void **state)
{
	(void)state;
	static const uint64_t isids[N_NX] = {0x23d000000001ULL, 0x23d000000001ULL,
	                                     0x23d000000002ULL, 0x23d000000003ULL,
	                                     0x23d000000004ULL};
	static const uint16_t rtpis[N_NX] = {1, 2, 1, 2, 1};
	for (int i = 0; i < N_NX; i++)
		if (prk_nexus_init(&nx[i], names[i], isids[i], rtpis[i]))
			return -1;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_random_round_trip),
	    cmocka_unit_test(test_snapshot_truncation_and_bit_flips),
	    cmocka_unit_test(test_snapshot_replaces_everything),
	    cmocka_unit_test(test_snapshot_count_bounded),
	    cmocka_unit_test(test_snapshot_inconsistent_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
