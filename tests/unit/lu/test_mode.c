/* MODE SENSE / MODE SELECT: pages, PC values, block descriptors, field
 * pointers into the parameter list, the 2A/01 unit attention, D_SENSE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

static struct lt_res sense6(struct lt_ctx *t, uint8_t flags, uint8_t pcpage, uint8_t sub,
                            uint8_t alloc)
{
	uint8_t c[6] = {PRK_OP_MODE_SENSE6, flags, pcpage, sub, alloc, 0};
	return lt_in(t, &t->a, c, 6, alloc);
}

static struct lt_res select6(struct lt_ctx *t, const struct prk_nexus *nx, uint8_t flags,
                             const uint8_t *p, uint8_t len)
{
	uint8_t c[6] = {PRK_OP_MODE_SELECT6, flags, 0, 0, len, 0};
	return lt_out(t, nx, c, 6, p, len);
}

/* Finds page `code` in MODE SENSE(6) data. */
static const uint8_t *find_page(const struct lt_res *r, size_t hdr, size_t bdl, uint8_t code)
{
	size_t end = r->len;
	for (size_t off = hdr + bdl; off + 2 <= end; off += 2 + r->data[off + 1])
		if ((r->data[off] & 0x3f) == code)
			return r->data + off;
	return NULL;
}

static void test_sense6_all_pages(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = sense6(t, 0, 0x3f, 0, 255);
	lt_assert_good(&r);
	const uint8_t *d = r.data;
	assert_int_equal(r.len, 4 + 8 + 20 + 12 + 12);
	assert_int_equal(d[0], r.len - 1);
	assert_int_equal(d[1], 0);
	assert_int_equal(d[2], 0x10); /* DPOFUA */
	assert_int_equal(d[3], 8);
	assert_int_equal(lt_get32(d + 4), LT_BLOCKS);
	assert_int_equal(d[9] << 16 | d[10] << 8 | d[11], 512);
	const uint8_t *p = find_page(&r, 4, 8, 0x08);
	assert_non_null(p);
	assert_int_equal(p[1], 0x12);
	assert_int_equal(p[2], 0x04); /* WCE */
	p = find_page(&r, 4, 8, 0x0a);
	assert_non_null(p);
	assert_int_equal(p[1], 0x0a);
	assert_int_equal(p[2], 0x00);
	assert_int_equal(p[3], 0x10);
	assert_int_equal(p[5], 0x00);
	p = find_page(&r, 4, 8, 0x1c);
	assert_non_null(p);
	assert_int_equal(p[2], 0x08);
	lt_res_free(&r);
	/* 3Fh/FFh: the same (no subpages) */
	r = sense6(t, 0, 0x3f, 0xff, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 56);
	lt_res_free(&r);
	/* truncation keeps MODE DATA LENGTH */
	r = sense6(t, 0, 0x3f, 0, 4);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4);
	assert_int_equal(r.data[0], 55);
	lt_res_free(&r);
}

static void test_sense_dbd_and_single(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = sense6(t, 0x08, 0x08, 0, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4 + 20);
	assert_int_equal(r.data[3], 0);
	assert_int_equal(r.data[4], 0x08);
	lt_res_free(&r);
}

static void test_sense10_llbaa(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[10] = {PRK_OP_MODE_SENSE10, 0x10, 0x0a, 0, 0, 0, 0, 0, 255, 0};
	struct lt_res r = lt_in(t, &t->a, c, 10, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 8 + 16 + 12);
	assert_int_equal(lt_get16(r.data), r.len - 2);
	assert_int_equal(r.data[4], 0x01); /* LONGLBA */
	assert_int_equal(lt_get16(r.data + 6), 16);
	assert_int_equal(lt_get64(r.data + 8), LT_BLOCKS);
	assert_int_equal(lt_get32(r.data + 20), 512);
	assert_int_equal(r.data[24], 0x0a);
	lt_res_free(&r);
	c[1] = 0; /* short descriptor */
	r = lt_in(t, &t->a, c, 10, 255);
	lt_assert_good(&r);
	assert_int_equal(lt_get16(r.data + 6), 8);
	assert_int_equal(r.len, 8 + 8 + 12);
	lt_res_free(&r);
}

static void test_sense_pc(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = sense6(t, 0x08, 0x40 | 0x3f, 0, 255); /* changeable */
	lt_assert_good(&r);
	const uint8_t *p = find_page(&r, 4, 0, 0x08);
	assert_int_equal(p[2], 0x04);
	p = find_page(&r, 4, 0, 0x0a);
	assert_int_equal(p[2], 0x04);
	assert_int_equal(p[3], 0x00); /* QERR not changeable */
	assert_int_equal(p[5], 0x40);
	p = find_page(&r, 4, 0, 0x1c);
	assert_int_equal(p[2], 0x00);
	lt_res_free(&r);
	r = sense6(t, 0x08, 0x80 | 0x08, 0, 255); /* default */
	lt_assert_good(&r);
	assert_int_equal(r.data[4 + 2], 0x04);
	lt_res_free(&r);
	r = sense6(t, 0, 0xc0 | 0x08, 0, 255); /* saved */
	lt_assert_field(&r, 0x3900, true, 2, 7);
	r = sense6(t, 0, 0x19, 0, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, 5);
	r = sense6(t, 0, 0x0a, 0x01, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 3, -1);
}

/* Current caching page as a MODE SELECT(6) list with WCE as given. */
static uint8_t caching_list(uint8_t *p, bool wce)
{
	memset(p, 0, 24);
	p[4] = 0x08;
	p[5] = 0x12;
	p[6] = wce ? 0x04 : 0;
	return 24;
}

static void test_select_round_trip_and_ua(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[64];
	uint8_t n = caching_list(p, false);
	struct lt_res r = select6(t, &t->a, 0x10, p, n);
	lt_assert_good(&r);
	assert_int_equal(r.spdtl, n);
	r = sense6(t, 0x08, 0x08, 0, 255);
	lt_assert_good(&r);
	assert_int_equal(r.data[6], 0x00);
	lt_res_free(&r);
	/* the other nexus learns about it, the sender does not */
	uint8_t tur[6] = {0};
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_MODE_PARAMETERS_CHANGED);
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_good(&r);
	r = lt_in(t, &t->a, tur, 6, 0);
	lt_assert_good(&r);
	/* the same values again: no change, no UA */
	r = select6(t, &t->a, 0x10, p, n);
	lt_assert_good(&r);
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_good(&r);
	/* back on, with a block descriptor naming the current geometry */
	n = caching_list(p, true);
	memmove(p + 12, p + 4, 20);
	memset(p + 4, 0, 8);
	p[3] = 8;
	lt_put32(p + 4, LT_BLOCKS);
	p[10] = 0x02; /* 512 */
	r = select6(t, &t->a, 0x10, p, n + 8);
	lt_assert_good(&r);
	r = sense6(t, 0x08, 0x08, 0, 255);
	assert_int_equal(r.data[6], 0x04);
	lt_res_free(&r);
}

static void test_select_cdb_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[24];
	uint8_t n = caching_list(p, true);
	struct lt_res r = select6(t, &t->a, 0x00, p, n); /* PF=0 */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	r = select6(t, &t->a, 0x11, p, n); /* SP=1 */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 0);
	r = select6(t, &t->a, 0x10, p, 0); /* empty list */
	lt_assert_good(&r);
	/* data-out shorter than the list */
	uint8_t c[6] = {PRK_OP_MODE_SELECT6, 0x10, 0, 0, 24, 0};
	r = lt_out(t, &t->a, c, 6, p, 20);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_false(r.sense.sksv);
}

static void test_select_param_errors(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t p[32];
	struct lt_res r;

	caching_list(p, true);
	p[1] = 5; /* MEDIUM TYPE */
	r = select6(t, &t->a, 0x10, p, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 1, -1);

	caching_list(p, true);
	p[5] = 0x10; /* PAGE LENGTH */
	r = select6(t, &t->a, 0x10, p, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 5, -1);

	caching_list(p, true);
	p[4] = 0x19; /* unknown page */
	r = select6(t, &t->a, 0x10, p, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 4, 5);

	caching_list(p, true);
	p[4] = 0x48; /* SPF */
	r = select6(t, &t->a, 0x10, p, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 4, 6);

	caching_list(p, true);
	p[6] |= 0x01; /* RCD: not changeable */
	r = select6(t, &t->a, 0x10, p, 24);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 6, 0);

	/* control page with QERR 01b */
	memset(p, 0, sizeof(p));
	p[4] = 0x0a;
	p[5] = 0x0a;
	p[7] = 0x10 | 0x02;
	r = select6(t, &t->a, 0x10, p, 16);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 7, 1);

	/* page cut by the end of the list */
	caching_list(p, true);
	r = select6(t, &t->a, 0x10, p, 20);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);

	/* block descriptor: wrong block length, wrong capacity, bad length */
	memset(p, 0, sizeof(p));
	p[3] = 8;
	p[10] = 0x10; /* 4096 */
	r = select6(t, &t->a, 0x10, p, 12);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 9, -1);
	p[10] = 0x02;
	lt_put32(p + 4, 12345);
	r = select6(t, &t->a, 0x10, p, 12);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 4, -1);
	lt_put32(p + 4, 0);
	r = select6(t, &t->a, 0x10, p, 12);
	lt_assert_good(&r);
	p[3] = 4;
	r = select6(t, &t->a, 0x10, p, 12);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST, false, 3, -1);

	/* nothing changed by the failures: no UA for b */
	uint8_t tur[6] = {0};
	r = lt_in(t, &t->b, tur, 6, 0);
	lt_assert_good(&r);
}

/* SWP (control page byte 4 bit 3): iscsi-test-cu's Sanitize.ReadOnly sets
 * it through MODE SELECT and expects writes to fail until it is cleared. */
static void test_swp(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[10] = {PRK_OP_MODE_SELECT10, 0x10}, p[20] = {0};
	p[8] = 0x0a;
	p[9] = 0x0a;
	p[11] = 0x10; /* QAM as reported */
	p[12] = 0x08; /* SWP */
	lt_put16(c + 7, 20);
	struct lt_res r = lt_out(t, &t->a, c, 10, p, 20);
	lt_assert_good(&r);
	uint8_t blk[512] = {7}, w[10];
	lt_cdb10(w, PRK_OP_WRITE10, 0, 5, 1);
	r = lt_out(t, &t->a, w, 10, blk, 512);
	lt_assert_sense(&r, PRK_SK_DATA_PROTECT, 0x2702);
	/* WP in the mode parameter header */
	uint8_t ms[6] = {PRK_OP_MODE_SENSE6, 0x08, 0x0a, 0, 255, 0};
	r = lt_in(t, &t->a, ms, 6, 255);
	lt_assert_good(&r);
	assert_int_equal(r.data[2] & 0x80, 0x80);
	assert_int_equal(r.data[4 + r.data[3] + 4] & 0x08, 0x08);
	lt_res_free(&r);
	p[12] = 0;
	r = lt_out(t, &t->a, c, 10, p, 20);
	lt_assert_good(&r);
	r = lt_out(t, &t->a, w, 10, blk, 512);
	lt_assert_good(&r);
}

static void test_d_sense_and_tas(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[10] = {PRK_OP_MODE_SELECT10, 0x10}, p[20] = {0};
	p[8] = 0x0a;
	p[9] = 0x0a;
	p[10] = 0x04; /* D_SENSE */
	p[11] = 0x10; /* QAM as reported */
	p[13] = 0x40; /* TAS */
	lt_put16(c + 7, 20);
	assert_false(prk_lu_tas(t->lu));
	struct lt_res r = lt_out(t, &t->a, c, 10, p, 20);
	lt_assert_good(&r);
	assert_true(prk_lu_tas(t->lu));
	/* errors now come in descriptor format */
	uint8_t bad[6] = {0xc0};
	r = lt_in(t, &t->a, bad, 6, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	assert_int_equal(r.sense_raw[0], 0x72);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0x80, 0, 255, 0};
	r = lt_in(t, &t->a, inq, 6, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
	assert_int_equal(r.sense_raw[0], 0x72);
	assert_int_equal(r.sense_len, 16);
	/* a miscompare carries INFORMATION in a descriptor */
	uint8_t v[16] = {PRK_OP_VERIFY16, 0x02};
	lt_put32(v + 10, 1);
	uint8_t blk[512];
	memset(blk, 0, sizeof(blk));
	blk[3] = 1;
	r = lt_out(t, &t->a, v, 16, blk, 512);
	lt_assert_sense(&r, PRK_SK_MISCOMPARE, 0x1d00);
	assert_int_equal(r.sense_len, 20);
	assert_int_equal(r.sense.info, 3);
	/* a LU reset brings back the defaults */
	prk_lu_reset(t->lu);
	assert_false(prk_lu_tas(t->lu));
	r = lt_in(t, &t->a, bad, 6, 0);
	lt_assert_sense(&r, PRK_SK_UNIT_ATTENTION, PRK_ASC_BUS_DEVICE_RESET);
	assert_int_equal(r.sense_raw[0], 0x70);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sense6_all_pages, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_sense_dbd_and_single, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_sense10_llbaa, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_sense_pc, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_select_round_trip_and_ua, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_select_cdb_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_select_param_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_d_sense_and_tas, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_swp, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
