/* Device Identification VPD page (83h), REPORT TARGET PORT GROUPS data,
 * ALUA priorities and the INQUIRY / REPORT TARGET PORT GROUPS CDBs: real
 * byte arrays, truncation at every length and every decoder error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_vpd.h"

#include "scsi_test_util.h"

/* ---- VPD 83h ---- */

/* A page like a Linux target's: T10 vendor ID, an NAA for the target port
 * (association 01b: not the LU's), the LU's NAA 6 (16 bytes), RTPI, TPG, a
 * SCSI name string for the target port, and a second LU NAA that must not
 * replace the first. Designators end at 20, 32, 52, 60, 68, 92, 104. */
static const uint8_t PAGE1[104] = {
    0x00, 0x83, 0x00, 0x64,
    /* 4: T10 vendor ID, ASCII, LU: "PRKIT   ab12" */
    0x02, 0x01, 0x00, 0x0c, 'P', 'R', 'K', 'I', 'T', ' ', ' ', ' ', 'a', 'b', '1', '2',
    /* 20: NAA 5, binary, PIV=1 iSCSI, target port */
    0x51, 0x93, 0x00, 0x08, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    /* 32: NAA 6, binary, LU */
    0x01, 0x03, 0x00, 0x10, 0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a,
    0xbc, 0xde, 0xf0, 0x01,
    /* 52: RELATIVE TARGET PORT IDENTIFIER 2, target port */
    0x51, 0x94, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
    /* 60: TARGET PORT GROUP 7, target port */
    0x51, 0x95, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
    /* 68: SCSI name string, UTF-8, target port: "iqn.a:b,t,0x0001" + 4 NULs */
    0x53, 0x98, 0x00, 0x14, 'i', 'q', 'n', '.', 'a', ':', 'b', ',', 't', ',', '0', 'x', '0', '0',
    '0', '1', 0x00, 0x00, 0x00, 0x00,
    /* 92: a second LU NAA (5, 8 bytes): ignored, the first one counts */
    0x01, 0x03, 0x00, 0x08, 0x50, 0x01, 0x40, 0x5a, 0x11, 0x22, 0x33, 0x44};

static const uint8_t PAGE_NAA8[16] = {0x00, 0x83, 0x00, 0x0c, 0x01, 0x03, 0x00, 0x08,
                                      0x50, 0x01, 0x40, 0x5a, 0x12, 0x34, 0x56, 0x78};

/* No NAA: EUI-64 and T10 vendor ID for the LU; a TPG with the reserved
 * association 00b (ignored) before the real one; RTPI last. */
static const uint8_t PAGE_NO_NAA[52] = {
    0x00, 0x83, 0x00, 0x30,
    /* 4: EUI-64 */
    0x01, 0x02, 0x00, 0x08, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    /* 16: T10 vendor ID */
    0x02, 0x01, 0x00, 0x08, 'P', 'R', 'K', 'I', 'T', ' ', ' ', ' ',
    /* 28: TPG 9, association 00b */
    0x01, 0x05, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09,
    /* 36: TPG 3, target port */
    0x01, 0x15, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03,
    /* 44: RTPI 1, target port (obsolete bytes 0..1 non-zero: ignored) */
    0x01, 0x14, 0x00, 0x04, 0xff, 0xff, 0x00, 0x01};

static void test_vpd83_full_page(void **state)
{
	static const uint8_t naa[16] = {0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
	                                0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01};
	struct prk_vpd83 v;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_vpd83_decode(PAGE1, sizeof(PAGE1), &v, &e), 0);
	assert_true(v.has_naa);
	assert_int_equal(v.naa_len, 16);
	assert_memory_equal(v.naa, naa, 16);
	assert_string_equal(v.naa_hex, "6001405abcdef0123456789abcdef001");
	assert_true(v.has_rtpi);
	assert_int_equal(v.rtpi, 2);
	assert_true(v.has_tpg);
	assert_int_equal(v.tpg, 7);
	assert_int_equal(v.page_len, 100);
	assert_false(v.truncated);
	assert_int_equal(v.n_designators, 7);
}

static void test_vpd83_naa8(void **state)
{
	static const uint8_t naa[8] = {0x50, 0x01, 0x40, 0x5a, 0x12, 0x34, 0x56, 0x78};
	uint8_t buf[20];
	struct prk_vpd83 v;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_vpd83_decode(PAGE_NAA8, sizeof(PAGE_NAA8), &v, &e), 0);
	assert_true(v.has_naa);
	assert_int_equal(v.naa_len, 8);
	assert_memory_equal(v.naa, naa, 8);
	assert_string_equal(v.naa_hex, "5001405a12345678");
	assert_false(v.has_rtpi);
	assert_int_equal(v.rtpi, 0);
	assert_false(v.has_tpg);
	assert_int_equal(v.tpg, 0);
	assert_false(v.truncated);
	assert_int_equal(v.n_designators, 1);

	/* Bytes returned past PAGE LENGTH are not part of the page. */
	memcpy(buf, PAGE_NAA8, sizeof(PAGE_NAA8));
	memset(buf + sizeof(PAGE_NAA8), 0xff, sizeof(buf) - sizeof(PAGE_NAA8));
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), 0);
	assert_string_equal(v.naa_hex, "5001405a12345678");
	assert_int_equal(v.n_designators, 1);
}

static void test_vpd83_no_naa(void **state)
{
	static const uint8_t empty[4] = {0x00, 0x83, 0x00, 0x00};
	struct prk_vpd83 v;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_vpd83_decode(PAGE_NO_NAA, sizeof(PAGE_NO_NAA), &v, &e), 0);
	assert_false(v.has_naa);
	assert_int_equal(v.naa_len, 0);
	assert_string_equal(v.naa_hex, "");
	assert_true(v.has_tpg);
	assert_int_equal(v.tpg, 3);
	assert_true(v.has_rtpi);
	assert_int_equal(v.rtpi, 1);
	assert_int_equal(v.n_designators, 5);
	assert_false(v.truncated);

	assert_int_equal(prk_vpd83_decode(empty, sizeof(empty), &v, &e), 0);
	assert_false(v.has_naa || v.has_rtpi || v.has_tpg || v.truncated);
	assert_int_equal(v.n_designators, 0);
	assert_string_equal(v.naa_hex, "");
}

/* Every returned length from the header to one byte short: what is
 * complete is decoded, the rest is not, and it is never an error. */
static void test_vpd83_truncated(void **state)
{
	static const size_t ends[] = {20, 32, 52, 60, 68, 92, 104};
	struct prk_vpd83 v;
	struct prk_field_err e;

	(void)state;
	for (size_t len = 4; len < sizeof(PAGE1); len++) {
		unsigned n = 0;

		while (n < 7 && ends[n] <= len)
			n++;
		assert_int_equal(prk_vpd83_decode(PAGE1, len, &v, &e), 0);
		assert_true(v.truncated);
		assert_int_equal(v.page_len, 100);
		assert_int_equal(v.n_designators, n);
		assert_int_equal(v.has_naa, len >= 52);
		assert_int_equal(v.has_rtpi, len >= 60);
		assert_int_equal(v.has_tpg, len >= 68);
		if (!v.has_naa) {
			assert_int_equal(v.naa_len, 0);
			assert_string_equal(v.naa_hex, "");
		} else {
			assert_string_equal(v.naa_hex, "6001405abcdef0123456789abcdef001");
		}
	}
}

static void test_vpd83_errors(void **state)
{
	static const uint8_t naa12[20] = {0x00, 0x83, 0x00, 0x10, 0x01, 0x13, 0x00, 0x0c, 1,  2,
	                                  3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
	static const uint8_t rtpi8[16] = {0x00, 0x83, 0x00, 0x0c, 0x51, 0x94, 0x00, 0x08,
	                                  0,    0,    0,    1,    0,    0,    0,    0};
	static const uint8_t tpg2[10] = {0x00, 0x83, 0x00, 0x06, 0x51, 0x95, 0x00, 0x02, 0, 1};
	uint8_t buf[sizeof(PAGE1)];
	struct prk_vpd83 v;
	struct prk_field_err e;

	(void)state;
	/* Shorter than the header. */
	assert_int_equal(prk_vpd83_decode(PAGE1, 3, &v, &e), -1);
	assert_perr(e, 2, -1, "PAGE LENGTH");
	assert_int_equal(prk_vpd83_decode(PAGE1, 0, &v, &e), -1);
	assert_perr(e, 2, -1, "PAGE LENGTH");

	/* Another page. */
	memcpy(buf, PAGE1, sizeof(PAGE1));
	buf[1] = 0x80;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), -1);
	assert_perr(e, 1, -1, "PAGE CODE");
	assert_false(v.has_naa);

	/* DESIGNATOR LENGTH past PAGE LENGTH: the only designator, even when
	 * the page was truncated after its header; and the sixth one. */
	memcpy(buf, PAGE_NAA8, sizeof(PAGE_NAA8));
	buf[3] = 0x0b;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(PAGE_NAA8), &v, &e), -1);
	assert_perr(e, 7, -1, "DESIGNATOR LENGTH");
	assert_int_equal(prk_vpd83_decode(buf, 8, &v, &e), -1);
	assert_perr(e, 7, -1, "DESIGNATOR LENGTH");
	memcpy(buf, PAGE1, sizeof(PAGE1));
	buf[71] = 0x30;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), -1);
	assert_perr(e, 71, -1, "DESIGNATOR LENGTH");
	/* ... but not once the returned data ends before that header. */
	assert_int_equal(prk_vpd83_decode(buf, 71, &v, &e), 0);
	assert_true(v.truncated && v.has_tpg);

	/* NAA of 12 bytes (here a target port's: checked whatever the
	 * association), and the LU's NAA of PAGE1 cut to 12. */
	assert_int_equal(prk_vpd83_decode(naa12, sizeof(naa12), &v, &e), -1);
	assert_perr(e, 7, -1, "DESIGNATOR LENGTH");
	memcpy(buf, PAGE1, sizeof(PAGE1));
	buf[35] = 0x0c;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), -1);
	assert_perr(e, 35, -1, "DESIGNATOR LENGTH");

	/* RTPI of 8 bytes, TPG of 2, alone and inside PAGE1. */
	assert_int_equal(prk_vpd83_decode(rtpi8, sizeof(rtpi8), &v, &e), -1);
	assert_perr(e, 7, -1, "DESIGNATOR LENGTH");
	assert_int_equal(prk_vpd83_decode(tpg2, sizeof(tpg2), &v, &e), -1);
	assert_perr(e, 7, -1, "DESIGNATOR LENGTH");
	memcpy(buf, PAGE1, sizeof(PAGE1));
	buf[55] = 0x08;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), -1);
	assert_perr(e, 55, -1, "DESIGNATOR LENGTH");
	memcpy(buf, PAGE1, sizeof(PAGE1));
	buf[63] = 0x02;
	assert_int_equal(prk_vpd83_decode(buf, sizeof(buf), &v, &e), -1);
	assert_perr(e, 63, -1, "DESIGNATOR LENGTH");

	/* PAGE LENGTH leaving a 2-byte piece of a descriptor header. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, PAGE_NAA8, sizeof(PAGE_NAA8));
	buf[3] = 0x0e;
	assert_int_equal(prk_vpd83_decode(buf, 18, &v, &e), -1);
	assert_perr(e, 2, -1, "PAGE LENGTH");
}

/* ---- REPORT TARGET PORT GROUPS ---- */

/* Length-only header, three groups; descriptors end at 20, 40, 52. */
static const uint8_t RTPG0[52] = {
    0x00, 0x00, 0x00, 0x30,
    /* 4: PREF, active/optimized, T_SUP U_SUP S_SUP AN_SUP AO_SUP, TPG 1,
     * status "implicit", ports 1 and 2 */
    0x80, 0x8f, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    /* 20: active/non-optimized, TPG 2, status "by STPG", ports 3, 4, 5 */
    0x01, 0x8f, 0x00, 0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x05,
    /* 40: standby, TPG 0x100, port 0x100 */
    0x02, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00};

/* Extended header (IMPLICIT TRANSITION TIME 10 s), two groups; descriptors
 * end at 20, 44. */
static const uint8_t RTPG1[44] = {
    0x00, 0x00, 0x00, 0x28, 0x10, 0x0a, 0x00, 0x00,
    /* 8: offline, every *_SUP bit, TPG 5, port 9 */
    0x0e, 0xdf, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
    /* 20: PREF, LBA dependent, TPG 6, status 2, ports 10..13 */
    0x84, 0x1f, 0x00, 0x06, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b,
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0d};

static void test_rtpg_format0(void **state)
{
	struct prk_rtpg r;
	struct prk_field_err e;
	const struct prk_rtpg_group *g;

	(void)state;
	assert_int_equal(prk_rtpg_decode(RTPG0, sizeof(RTPG0), &r, &e), 0);
	assert_false(r.extended);
	assert_int_equal(r.implicit_transition_time, 0);
	assert_false(r.truncated);
	assert_int_equal(r.n_groups, 3);

	g = &r.groups[0];
	assert_true(g->pref);
	assert_int_equal(g->state, PRK_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(g->supported, PRK_RTPG_T_SUP | PRK_RTPG_U_SUP | PRK_RTPG_S_SUP |
	                                   PRK_RTPG_AN_SUP | PRK_RTPG_AO_SUP);
	assert_int_equal(g->tpg, 1);
	assert_int_equal(g->status_code, PRK_RTPG_STATUS_IMPLICIT);
	assert_int_equal(g->n_ports, 2);
	assert_int_equal(g->n_ports_total, 2);
	assert_int_equal(g->rtpi[0], 1);
	assert_int_equal(g->rtpi[1], 2);

	g = &r.groups[1];
	assert_false(g->pref);
	assert_int_equal(g->state, PRK_ALUA_ACTIVE_NON_OPTIMIZED);
	assert_int_equal(g->supported, 0x8f);
	assert_int_equal(g->tpg, 2);
	assert_int_equal(g->status_code, PRK_RTPG_STATUS_STPG);
	assert_int_equal(g->n_ports, 3);
	assert_int_equal(g->n_ports_total, 3);
	assert_int_equal(g->rtpi[0], 3);
	assert_int_equal(g->rtpi[1], 4);
	assert_int_equal(g->rtpi[2], 5);

	g = &r.groups[2];
	assert_false(g->pref);
	assert_int_equal(g->state, PRK_ALUA_STANDBY);
	assert_int_equal(g->supported, 0x0f);
	assert_int_equal(g->tpg, 0x100);
	assert_int_equal(g->status_code, PRK_RTPG_STATUS_NONE);
	assert_int_equal(g->n_ports, 1);
	assert_int_equal(g->rtpi[0], 0x100);

	assert_ptr_equal(prk_rtpg_find_port(&r, 1), &r.groups[0]);
	assert_ptr_equal(prk_rtpg_find_port(&r, 4), &r.groups[1]);
	assert_ptr_equal(prk_rtpg_find_port(&r, 5), &r.groups[1]);
	assert_ptr_equal(prk_rtpg_find_port(&r, 0x100), &r.groups[2]);
	assert_null(prk_rtpg_find_port(&r, 6));
	assert_null(prk_rtpg_find_port(&r, 0));
}

static void test_rtpg_format1(void **state)
{
	struct prk_rtpg r;
	struct prk_field_err e;
	const struct prk_rtpg_group *g;

	(void)state;
	assert_int_equal(prk_rtpg_decode(RTPG1, sizeof(RTPG1), &r, &e), 0);
	assert_true(r.extended);
	assert_int_equal(r.implicit_transition_time, 10);
	assert_false(r.truncated);
	assert_int_equal(r.n_groups, 2);

	g = &r.groups[0];
	assert_false(g->pref);
	assert_int_equal(g->state, PRK_ALUA_OFFLINE);
	assert_int_equal(g->supported, PRK_RTPG_T_SUP | PRK_RTPG_O_SUP | PRK_RTPG_LBD_SUP |
	                                   PRK_RTPG_U_SUP | PRK_RTPG_S_SUP | PRK_RTPG_AN_SUP |
	                                   PRK_RTPG_AO_SUP);
	assert_int_equal(g->tpg, 5);
	assert_int_equal(g->status_code, 0);
	assert_int_equal(g->n_ports, 1);
	assert_int_equal(g->rtpi[0], 9);

	g = &r.groups[1];
	assert_true(g->pref);
	assert_int_equal(g->state, PRK_ALUA_LBA_DEPENDENT);
	assert_int_equal(g->supported, 0x1f);
	assert_int_equal(g->tpg, 6);
	assert_int_equal(g->status_code, 2);
	assert_int_equal(g->n_ports, 4);
	assert_int_equal(g->n_ports_total, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(g->rtpi[i], 10 + i);

	assert_ptr_equal(prk_rtpg_find_port(&r, 9), &r.groups[0]);
	assert_ptr_equal(prk_rtpg_find_port(&r, 13), &r.groups[1]);
	assert_null(prk_rtpg_find_port(&r, 14));
}

static void test_rtpg_empty(void **state)
{
	static const uint8_t f0[8] = {0x00, 0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xff};
	static const uint8_t f1[8] = {0x00, 0x00, 0x00, 0x04, 0x10, 0x3c, 0x00, 0x00};
	struct prk_rtpg r;
	struct prk_field_err e;

	(void)state;
	/* RETURN DATA LENGTH 0: byte 4 is not part of the data. */
	assert_int_equal(prk_rtpg_decode(f0, 4, &r, &e), 0);
	assert_false(r.extended || r.truncated);
	assert_int_equal(r.n_groups, 0);
	assert_int_equal(prk_rtpg_decode(f0, sizeof(f0), &r, &e), 0);
	assert_false(r.extended || r.truncated);
	assert_int_equal(r.n_groups, 0);

	assert_int_equal(prk_rtpg_decode(f1, sizeof(f1), &r, &e), 0);
	assert_true(r.extended);
	assert_false(r.truncated);
	assert_int_equal(r.implicit_transition_time, 60);
	assert_int_equal(r.n_groups, 0);
	assert_null(prk_rtpg_find_port(&r, 0));

	/* Only the RETURN DATA LENGTH of the extended data came back: the
	 * format cannot be told. */
	assert_int_equal(prk_rtpg_decode(f1, 4, &r, &e), 0);
	assert_false(r.extended);
	assert_true(r.truncated);
	assert_int_equal(r.n_groups, 0);
}

static void test_rtpg_truncated(void **state)
{
	static const size_t ends0[] = {20, 40, 52};
	static const size_t ends1[] = {20, 44};
	struct prk_rtpg r;
	struct prk_field_err e;

	(void)state;
	for (size_t len = 4; len < sizeof(RTPG0); len++) {
		unsigned n = 0;

		while (n < 3 && ends0[n] <= len)
			n++;
		assert_int_equal(prk_rtpg_decode(RTPG0, len, &r, &e), 0);
		assert_false(r.extended);
		assert_true(r.truncated);
		assert_int_equal(r.n_groups, n);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(r.groups[i].tpg, i < 2 ? i + 1 : 0x100);
	}
	for (size_t len = 8; len < sizeof(RTPG1); len++) {
		unsigned n = 0;

		while (n < 2 && ends1[n] <= len)
			n++;
		assert_int_equal(prk_rtpg_decode(RTPG1, len, &r, &e), 0);
		assert_true(r.extended);
		assert_int_equal(r.implicit_transition_time, 10);
		assert_true(r.truncated);
		assert_int_equal(r.n_groups, n);
	}
}

/* One group listing 20 ports: 16 are kept, the count says 20. */
static void test_rtpg_many_ports(void **state)
{
	uint8_t buf[4 + 8 + 20 * 4] = {0};
	struct prk_rtpg r;
	struct prk_field_err e;

	(void)state;
	buf[3] = 8 + 20 * 4;
	buf[4] = 0x01;
	buf[7] = 0x21;
	buf[11] = 20;
	for (unsigned i = 0; i < 20; i++)
		buf[12 + 4 * i + 3] = (uint8_t)(100 + i);
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), 0);
	assert_false(r.truncated);
	assert_int_equal(r.n_groups, 1);
	assert_int_equal(r.groups[0].tpg, 0x21);
	assert_int_equal(r.groups[0].n_ports, PRK_RTPG_MAX_PORTS);
	assert_int_equal(r.groups[0].n_ports_total, 20);
	for (unsigned i = 0; i < PRK_RTPG_MAX_PORTS; i++)
		assert_int_equal(r.groups[0].rtpi[i], 100 + i);
	assert_ptr_equal(prk_rtpg_find_port(&r, 115), &r.groups[0]);
	/* Ports beyond those kept are not found. */
	assert_null(prk_rtpg_find_port(&r, 116));
}

/* 32 groups fit; a 33rd stops the decoder with truncated set, unchecked. */
static void test_rtpg_many_groups(void **state)
{
	uint8_t buf[4 + 33 * 8] = {0};
	struct prk_rtpg r;
	struct prk_field_err e;

	(void)state;
	for (unsigned i = 0; i < 33; i++)
		buf[4 + 8 * i + 3] = (uint8_t)(i + 1); /* TPG i + 1, no ports */
	buf[2] = (32 * 8) >> 8;
	buf[3] = (32 * 8) & 0xff;
	assert_int_equal(prk_rtpg_decode(buf, 4 + 32 * 8, &r, &e), 0);
	assert_false(r.truncated);
	assert_int_equal(r.n_groups, 32);
	assert_int_equal(r.groups[31].tpg, 32);
	assert_int_equal(r.groups[31].n_ports, 0);

	buf[2] = (33 * 8) >> 8;
	buf[3] = (33 * 8) & 0xff;
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), 0);
	assert_true(r.truncated);
	assert_int_equal(r.n_groups, PRK_RTPG_MAX_GROUPS);
	assert_int_equal(r.groups[31].tpg, 32);

	/* The 33rd descriptor would overrun: not looked at. */
	buf[4 + 32 * 8 + 7] = 5;
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), 0);
	assert_true(r.truncated);
	assert_int_equal(r.n_groups, PRK_RTPG_MAX_GROUPS);
}

static void test_rtpg_errors(void **state)
{
	static const uint8_t short_ext_rdl[8] = {0x00, 0x00, 0x00, 0x02, 0x10, 0x00, 0x00, 0x00};
	uint8_t buf[sizeof(RTPG0)];
	struct prk_rtpg r;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_rtpg_decode(RTPG0, 3, &r, &e), -1);
	assert_perr(e, 0, -1, "RETURN DATA LENGTH");
	assert_int_equal(prk_rtpg_decode(RTPG0, 0, &r, &e), -1);
	assert_perr(e, 0, -1, "RETURN DATA LENGTH");

	/* Extended header returned incompletely. */
	for (size_t len = 5; len < 8; len++) {
		assert_int_equal(prk_rtpg_decode(RTPG1, len, &r, &e), -1);
		assert_perr(e, 4, 6, "FORMAT TYPE");
	}
	/* Extended header longer than RETURN DATA LENGTH. */
	assert_int_equal(prk_rtpg_decode(short_ext_rdl, sizeof(short_ext_rdl), &r, &e), -1);
	assert_perr(e, 0, -1, "RETURN DATA LENGTH");

	/* The third group's TARGET PORT COUNT runs past RETURN DATA LENGTH,
	 * whether or not its ports were returned. */
	memcpy(buf, RTPG0, sizeof(RTPG0));
	buf[47] = 2;
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), -1);
	assert_perr(e, 47, -1, "TARGET PORT COUNT");
	assert_int_equal(prk_rtpg_decode(buf, 48, &r, &e), -1);
	assert_perr(e, 47, -1, "TARGET PORT COUNT");
	/* ... and not when its header was not returned. */
	assert_int_equal(prk_rtpg_decode(buf, 47, &r, &e), 0);
	assert_int_equal(r.n_groups, 2);

	/* RETURN DATA LENGTH cutting the third group's port list. */
	memcpy(buf, RTPG0, sizeof(RTPG0));
	buf[3] = 0x2c;
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), -1);
	assert_perr(e, 47, -1, "TARGET PORT COUNT");

	/* RETURN DATA LENGTH leaving 2 bytes after the second group. */
	buf[3] = 0x26;
	assert_int_equal(prk_rtpg_decode(buf, sizeof(buf), &r, &e), -1);
	assert_perr(e, 0, -1, "RETURN DATA LENGTH");

	/* Extended: the first group's count overruns. */
	{
		uint8_t b1[sizeof(RTPG1)];

		memcpy(b1, RTPG1, sizeof(RTPG1));
		b1[15] = 0x20;
		assert_int_equal(prk_rtpg_decode(b1, sizeof(b1), &r, &e), -1);
		assert_perr(e, 15, -1, "TARGET PORT COUNT");
	}
}

static void test_rtpg_encode(void **state)
{
	uint8_t buf[sizeof(RTPG0) + 4];
	struct prk_rtpg r, r2;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_rtpg_decode(RTPG0, sizeof(RTPG0), &r, &e), 0);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_rtpg_encode(&r, buf, sizeof(buf)), sizeof(RTPG0));
	assert_memory_equal(buf, RTPG0, sizeof(RTPG0));
	for (size_t i = sizeof(RTPG0); i < sizeof(buf); i++)
		assert_int_equal(buf[i], GUARD);

	/* Truncated at the allocation length, RETURN DATA LENGTH intact. */
	for (size_t cap = 0; cap < sizeof(RTPG0); cap++) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(prk_rtpg_encode(&r, buf, cap), sizeof(RTPG0));
		assert_memory_equal(buf, RTPG0, cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], GUARD);
	}

	assert_int_equal(prk_rtpg_decode(RTPG1, sizeof(RTPG1), &r, &e), 0);
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_rtpg_encode(&r, buf, sizeof(buf)), sizeof(RTPG1));
	assert_memory_equal(buf, RTPG1, sizeof(RTPG1));

	/* Ports beyond those kept are dropped on re-encoding. */
	memset(&r, 0, sizeof(r));
	r.n_groups = 1;
	r.groups[0].tpg = 3;
	r.groups[0].n_ports = 40;
	r.groups[0].state = 0x13; /* only the low 4 bits go out */
	assert_int_equal(prk_rtpg_encode(&r, NULL, 0), 4 + 8 + 16 * 4);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(prk_rtpg_encode(&r, buf, 12), 4 + 8 + 16 * 4);
	assert_int_equal(buf[3], 8 + 16 * 4);
	assert_int_equal(buf[4], 0x03);
	assert_int_equal(buf[7], 3);
	assert_int_equal(buf[11], 16);
	{
		uint8_t big[4 + 8 + 16 * 4];

		prk_rtpg_encode(&r, big, sizeof(big));
		assert_int_equal(prk_rtpg_decode(big, sizeof(big), &r2, &e), 0);
		assert_int_equal(r2.groups[0].n_ports, 16);
		assert_int_equal(r2.groups[0].n_ports_total, 16);
		assert_int_equal(r2.groups[0].state, PRK_ALUA_UNAVAILABLE);
	}
}

/* ---- ALUA priorities and names ---- */

static void test_alua_priority(void **state)
{
	(void)state;
	assert_int_equal(prk_alua_priority(PRK_ALUA_ACTIVE_OPTIMIZED, false), 50);
	assert_int_equal(prk_alua_priority(PRK_ALUA_ACTIVE_NON_OPTIMIZED, false), 10);
	assert_int_equal(prk_alua_priority(PRK_ALUA_LBA_DEPENDENT, false), 5);
	assert_int_equal(prk_alua_priority(PRK_ALUA_STANDBY, false), 1);
	assert_int_equal(prk_alua_priority(PRK_ALUA_UNAVAILABLE, false), 0);
	assert_int_equal(prk_alua_priority(PRK_ALUA_OFFLINE, false), 0);
	assert_int_equal(prk_alua_priority(PRK_ALUA_TRANSITIONING, false), 0);
	assert_int_equal(prk_alua_priority(0x5, false), 0);

	/* multipath-tools' default: PREF adds 80 except to active/optimized. */
	assert_int_equal(prk_alua_priority(PRK_ALUA_ACTIVE_OPTIMIZED, true), 50);
	assert_int_equal(prk_alua_priority(PRK_ALUA_ACTIVE_NON_OPTIMIZED, true), 90);
	assert_int_equal(prk_alua_priority(PRK_ALUA_LBA_DEPENDENT, true), 85);
	assert_int_equal(prk_alua_priority(PRK_ALUA_STANDBY, true), 81);
	assert_int_equal(prk_alua_priority(PRK_ALUA_UNAVAILABLE, true), 80);
	assert_int_equal(prk_alua_priority(PRK_ALUA_OFFLINE, true), 80);
	assert_int_equal(prk_alua_priority(PRK_ALUA_TRANSITIONING, true), 80);

	/* Only the state's 4 bits count (a raw byte 0 with PREF). */
	assert_int_equal(prk_alua_priority(0x81, false), 10);
}

static void test_alua_state_name(void **state)
{
	(void)state;
	assert_string_equal(prk_alua_state_name(PRK_ALUA_ACTIVE_OPTIMIZED), "active/optimized");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_ACTIVE_NON_OPTIMIZED),
	                    "active/non-optimized");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_STANDBY), "standby");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_UNAVAILABLE), "unavailable");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_LBA_DEPENDENT), "lba-dependent");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_OFFLINE), "offline");
	assert_string_equal(prk_alua_state_name(PRK_ALUA_TRANSITIONING), "transitioning");
	assert_string_equal(prk_alua_state_name(0x5), "reserved");
	assert_string_equal(prk_alua_state_name(0xd), "reserved");
	assert_string_equal(prk_alua_state_name(0x80), "reserved");
}

/* ---- CDBs ---- */

static void test_cdbs(void **state)
{
	static const uint8_t rtpg0[12] = {0xa3, 0x0a, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0, 0};
	static const uint8_t rtpg1[12] = {0xa3, 0x2a, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0, 0};
	static const uint8_t inq83[6] = {0x12, 0x01, 0x83, 0x10, 0x00, 0x00};
	static const uint8_t inq_std[6] = {0x12, 0x00, 0x00, 0x00, 0x24, 0x00};
	static const uint8_t inq00[6] = {0x12, 0x01, 0x00, 0xff, 0xff, 0x00};
	uint8_t cdb[16];

	(void)state;
	memset(cdb, GUARD, sizeof(cdb));
	assert_int_equal(prk_rtpg_cdb_encode(false, 0x1000, cdb), 12);
	assert_memory_equal(cdb, rtpg0, 12);
	assert_int_equal(cdb[12], GUARD);
	memset(cdb, GUARD, sizeof(cdb));
	assert_int_equal(prk_rtpg_cdb_encode(true, 0x01020304, cdb), 12);
	assert_memory_equal(cdb, rtpg1, 12);
	assert_int_equal(cdb[12], GUARD);

	memset(cdb, GUARD, sizeof(cdb));
	assert_int_equal(prk_inquiry_cdb_encode(true, 0x83, 0x1000, cdb), 6);
	assert_memory_equal(cdb, inq83, 6);
	assert_int_equal(cdb[6], GUARD);
	memset(cdb, GUARD, sizeof(cdb));
	/* Without EVPD the page code is not sent. */
	assert_int_equal(prk_inquiry_cdb_encode(false, 0x83, 36, cdb), 6);
	assert_memory_equal(cdb, inq_std, 6);
	assert_int_equal(cdb[6], GUARD);
	assert_int_equal(prk_inquiry_cdb_encode(true, 0x00, 0xffff, cdb), 6);
	assert_memory_equal(cdb, inq00, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vpd83_full_page),  cmocka_unit_test(test_vpd83_naa8),
	    cmocka_unit_test(test_vpd83_no_naa),     cmocka_unit_test(test_vpd83_truncated),
	    cmocka_unit_test(test_vpd83_errors),     cmocka_unit_test(test_rtpg_format0),
	    cmocka_unit_test(test_rtpg_format1),     cmocka_unit_test(test_rtpg_empty),
	    cmocka_unit_test(test_rtpg_truncated),   cmocka_unit_test(test_rtpg_many_ports),
	    cmocka_unit_test(test_rtpg_many_groups), cmocka_unit_test(test_rtpg_errors),
	    cmocka_unit_test(test_rtpg_encode),      cmocka_unit_test(test_alua_priority),
	    cmocka_unit_test(test_alua_state_name),  cmocka_unit_test(test_cdbs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
