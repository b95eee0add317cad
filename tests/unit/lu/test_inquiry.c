/* INQUIRY: standard data, every VPD page byte-exact for the key fields,
 * CmdDt/EVPD/page errors with field pointers, allocation length and EDTL
 * truncation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lu_test_util.h"

static struct lt_res inq(struct lt_ctx *t, uint8_t evpd, uint8_t page, uint16_t alloc,
                         uint32_t edtl)
{
	uint8_t c[6] = {PRK_OP_INQUIRY, evpd, page, 0, 0, 0};
	lt_put16(c + 3, alloc);
	return lt_in(t, &t->a, c, 6, edtl);
}

static void test_standard(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 0, 0, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 96);
	assert_int_equal(r.spdtl, 96);
	const uint8_t *d = r.data;
	assert_int_equal(d[0], 0x00);
	assert_int_equal(d[1], 0x00);
	assert_int_equal(d[2], 0x06);
	assert_int_equal(d[3], 0x12);
	assert_int_equal(d[4], 91);
	assert_int_equal(d[5], 0x10); /* TPGS 01b */
	assert_int_equal(d[6], 0x00);
	assert_int_equal(d[7], 0x02); /* CMDQUE */
	assert_memory_equal(d + 8, "PRKIT   ", 8);
	assert_memory_equal(d + 16, "prkit LU        ", 16);
	assert_memory_equal(d + 32, "0001", 4);
	assert_int_equal(lt_get16(d + 58), 0x00a0);
	assert_int_equal(lt_get16(d + 62), 0x0460);
	lt_res_free(&r);
}

static void test_standard_truncated(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 0, 0, 36, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 36);
	assert_int_equal(r.spdtl, 36);
	assert_int_equal(r.data[4], 91); /* ADDITIONAL LENGTH unchanged */
	lt_res_free(&r);
	/* EDTL smaller than the allocation length: overflow */
	r = inq(t, 0, 0, 255, 10);
	lt_assert_good(&r);
	assert_int_equal(r.len, 10);
	assert_int_equal(r.spdtl, 96);
	lt_res_free(&r);
	r = inq(t, 0, 0, 0, 0);
	lt_assert_good(&r);
	assert_int_equal(r.len, 0);
	assert_null(r.data);
}

static void test_cmddt_and_page_errors(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 0x02, 0, 255, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 1);
	r = inq(t, 0, 0x80, 255, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
	r = inq(t, 1, 0xc0, 255, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
	r = inq(t, 1, 0xb2, 255, 255); /* thick: no provisioning page */
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
}

static void test_vpd_supported(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0x00, 255, 255);
	static const uint8_t want[] = {0, 0, 0, 6, 0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1};
	lt_assert_good(&r);
	assert_int_equal(r.len, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
	lt_res_free(&r);
}

static void test_vpd_supported_thin(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0x00, 255, 255);
	static const uint8_t want[] = {0, 0, 0, 7, 0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1, 0xb2};
	lt_assert_good(&r);
	assert_int_equal(r.len, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
	lt_res_free(&r);
}

static void test_vpd_serial(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0x80, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 4 + 6);
	assert_int_equal(r.data[1], 0x80);
	assert_int_equal(lt_get16(r.data + 2), 6);
	assert_memory_equal(r.data + 4, "SN0001", 6);
	lt_res_free(&r);
}

/* Walks the designators of page 83h into an array of pointers. */
static int designators(const struct lt_res *r, const uint8_t **out, int max)
{
	int n = 0;
	size_t end = 4 + lt_get16(r->data + 2);
	assert_int_equal(end, r->len);
	for (size_t off = 4; off < end && n < max; off += 4 + r->data[off + 3])
		out[n++] = r->data + off;
	return n;
}

static void test_vpd_devid(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0x83, 1024, 1024);
	const uint8_t *d[8];
	lt_assert_good(&r);
	assert_int_equal(r.data[1], 0x83);
	int n = designators(&r, d, 8);
	assert_int_equal(n, 5);
	/* NAA 6, binary, LU association */
	assert_int_equal(d[0][0], 0x01);
	assert_int_equal(d[0][1], 0x03);
	assert_int_equal(d[0][3], 16);
	assert_int_equal(d[0][4] >> 4, 6);
	/* relative target port */
	static const uint8_t rtpi[] = {0x51, 0x94, 0, 4, 0, 0, 0, 1};
	assert_memory_equal(d[1], rtpi, sizeof(rtpi));
	static const uint8_t tpg[] = {0x51, 0x95, 0, 4, 0, 0, 0, 7};
	assert_memory_equal(d[2], tpg, sizeof(tpg));
	/* SCSI target port name, UTF-8, association 01b */
	const char *port = LT_TARGET ",t,0x0001";
	assert_int_equal(d[3][0], 0x53);
	assert_int_equal(d[3][1], 0x98);
	assert_int_equal(d[3][3] % 4, 0);
	assert_true(d[3][3] > strlen(port));
	assert_string_equal((const char *)d[3] + 4, port);
	/* target device name, association 10b */
	assert_int_equal(d[4][0], 0x53);
	assert_int_equal(d[4][1], 0xa8);
	assert_int_equal(d[4][3] % 4, 0);
	assert_string_equal((const char *)d[4] + 4, LT_TARGET);
	lt_res_free(&r);
}

static void naa_of(struct lt_ctx *t, uint8_t out[16])
{
	struct lt_res r = inq(t, 1, 0x83, 1024, 1024);
	lt_assert_good(&r);
	memcpy(out, r.data + 8, 16);
	lt_res_free(&r);
}

static void test_naa_unique_and_configured(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t n1[16], n2[16], n3[16], again[16];
	naa_of(t, n1);
	naa_of(t, again);
	assert_memory_equal(n1, again, 16);

	struct prk_lu_config cfg = t->cfg;
	snprintf(cfg.serial, sizeof(cfg.serial), "SN0002");
	struct lt_ctx *t2 = lt_new(&cfg);
	naa_of(t2, n2);
	assert_memory_not_equal(n1, n2, 16);
	lt_free(t2);

	cfg.naa = 0x5001405abcdef012ULL;
	struct lt_ctx *t3 = lt_new(&cfg);
	naa_of(t3, n3);
	static const uint8_t hi[] = {0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12};
	assert_memory_equal(n3, hi, 8);
	lt_free(t3);
}

static void test_vpd_ext_and_chars(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0x86, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 64);
	assert_int_equal(r.data[1], 0x86);
	assert_int_equal(lt_get16(r.data + 2), 0x3c);
	assert_int_equal(r.data[5], 0x01);
	lt_res_free(&r);
	r = inq(t, 1, 0xb1, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(r.len, 64);
	assert_int_equal(lt_get16(r.data + 4), 1);
	lt_res_free(&r);
}

static void test_vpd_block_limits(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0xb0, 255, 255);
	lt_assert_good(&r);
	const uint8_t *d = r.data;
	assert_int_equal(r.len, 64);
	assert_int_equal(d[4], 0x00);             /* WSNZ=0 */
	assert_int_equal(d[5], 128);              /* MAX COMPARE AND WRITE LENGTH */
	assert_int_equal(lt_get32(d + 8), 65536); /* MAXIMUM TRANSFER LENGTH */
	assert_int_equal(lt_get32(d + 12), 2048); /* OPTIMAL: 1 MiB */
	assert_int_equal(lt_get32(d + 20), 0);    /* thick: no UNMAP */
	assert_int_equal(lt_get32(d + 24), 0);
	assert_int_equal(lt_get64(d + 36), 0x400000); /* MAXIMUM WRITE SAME LENGTH */
	lt_res_free(&r);
}

static void test_vpd_thin_pages(void **state)
{
	struct lt_ctx *t = *state;
	struct lt_res r = inq(t, 1, 0xb0, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data + 20), 0x100000); /* iscsi-test-cu: <= 1M */
	assert_int_equal(lt_get32(r.data + 24), 256);
	assert_int_equal(lt_get32(r.data + 28), 1);
	lt_res_free(&r);
	r = inq(t, 1, 0xb2, 255, 255);
	lt_assert_good(&r);
	static const uint8_t want[] = {0, 0xb2, 0, 4, 0, 0xe4, 0x02, 0};
	assert_int_equal(r.len, sizeof(want));
	assert_memory_equal(r.data, want, sizeof(want));
	lt_res_free(&r);
}

static void test_max_xfer_config(void **state)
{
	struct lt_ctx *t = *state;
	struct prk_lu_config cfg = t->cfg;
	cfg.max_xfer_blocks = 16;
	struct lt_ctx *t2 = lt_new(&cfg);
	struct lt_res r = inq(t2, 1, 0xb0, 255, 255);
	lt_assert_good(&r);
	assert_int_equal(lt_get32(r.data + 8), 16);
	assert_int_equal(lt_get32(r.data + 12), 16);
	lt_res_free(&r);
	lt_free(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_standard, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_standard_truncated, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_cmddt_and_page_errors, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_supported, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_supported_thin, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_serial, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_devid, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_naa_unique_and_configured, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_ext_and_chars, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_block_limits, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_vpd_thin_pages, lt_setup_thin, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_max_xfer_config, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
