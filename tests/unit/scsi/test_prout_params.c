/* PR OUT parameter lists: the basic list, SPEC_I_PT TransportID lists and
 * REGISTER AND MOVE, with every error and its field pointer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_cdb.h"
#include "prkit/scsi_pr_wire.h"

#include "scsi_test_util.h"

#define assert_len_err(e)                                                                          \
	do {                                                                                       \
		assert_false((e).has_ptr);                                                         \
		assert_int_equal((e).asc, PRK_ASC_PARAMETER_LIST_LENGTH_ERROR);                    \
	} while (0)

static int decode(uint8_t sa, const uint8_t *buf, size_t len, struct prk_prout_params *p,
                  struct prk_field_err *e)
{
	memset(e, 0, sizeof(*e));
	return prk_prout_params_decode(sa, buf, len, p, e);
}

static void basic_list(uint8_t *buf, uint64_t key, uint64_t sa_key, uint8_t flags)
{
	memset(buf, 0, 24);
	for (int i = 0; i < 8; i++) {
		buf[i] = (uint8_t)(key >> (56 - 8 * i));
		buf[8 + i] = (uint8_t)(sa_key >> (56 - 8 * i));
	}
	buf[20] = flags;
}

static void test_basic_decode(void **state)
{
	uint8_t buf[24];
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	basic_list(buf, 0x0102030405060708ULL, 0x1112131415161718ULL, 0x01);
	buf[16] = buf[17] = buf[22] = 0xff; /* obsolete bytes are ignored */
	for (uint8_t sa = 0; sa <= PRK_PROUT_SA_MAX; sa++) {
		if (sa == PRK_PROUT_REGISTER_AND_MOVE)
			continue;
		assert_int_equal(decode(sa, buf, sizeof(buf), &p, &e), 0);
		assert_int_equal(p.key, 0x0102030405060708ULL);
		assert_int_equal(p.sa_key, 0x1112131415161718ULL);
		assert_true(p.aptpl);
		assert_false(p.spec_i_pt);
		assert_false(p.all_tg_pt);
		assert_int_equal(p.n_tids, 0);
		assert_null(p.tid_list);
	}
	buf[20] = 0x04;
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, 24, &p, &e), 0);
	assert_true(p.all_tg_pt);
	assert_false(p.aptpl);
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_IGNORE, buf, 24, &p, &e), 0);
	assert_true(p.all_tg_pt);
}

static void test_basic_length_errors(void **state)
{
	uint8_t buf[64] = {0};
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	for (uint8_t sa = 0; sa <= PRK_PROUT_SA_MAX; sa++) {
		if (sa == PRK_PROUT_REGISTER_AND_MOVE)
			continue;
		assert_int_equal(decode(sa, buf, 0, &p, &e), -1);
		assert_len_err(e);
		assert_int_equal(decode(sa, buf, 23, &p, &e), -1);
		assert_len_err(e);
		assert_int_equal(decode(sa, buf, 25, &p, &e), -1);
		assert_len_err(e);
		assert_int_equal(decode(sa, buf, 28, &p, &e), -1);
		assert_len_err(e);
	}
}

static void test_spec_i_pt_not_allowed(void **state)
{
	uint8_t buf[28] = {0};
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	basic_list(buf, 1, 2, 0x08);
	for (uint8_t sa = 1; sa <= PRK_PROUT_SA_MAX; sa++) {
		if (sa == PRK_PROUT_REGISTER_AND_MOVE)
			continue;
		/* Reported before any length problem. */
		assert_int_equal(decode(sa, buf, 24, &p, &e), -1);
		assert_perr(e, 20, 3, "SPEC_I_PT");
		assert_int_equal(decode(sa, buf, 28, &p, &e), -1);
		assert_perr(e, 20, 3, "SPEC_I_PT");
	}
	/* With ALL_TG_PT too, SPEC_I_PT is reported first. */
	buf[20] = 0x0c;
	assert_int_equal(decode(PRK_PROUT_RESERVE, buf, 24, &p, &e), -1);
	assert_perr(e, 20, 3, "SPEC_I_PT");
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_IGNORE, buf, 24, &p, &e), -1);
	assert_perr(e, 20, 3, "SPEC_I_PT");
}

static void test_all_tg_pt_not_allowed(void **state)
{
	static const uint8_t bad[] = {1, 2, 3, 4, 5, 8, 9};
	uint8_t buf[24];
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	basic_list(buf, 1, 2, 0x04);
	for (size_t i = 0; i < sizeof(bad); i++) {
		assert_int_equal(decode(bad[i], buf, 24, &p, &e), -1);
		assert_perr(e, 20, 2, "ALL_TG_PT");
		assert_int_equal(p.key, 0); /* output cleared on failure */
	}
}

static void test_spec_i_pt_length_errors(void **state)
{
	uint8_t buf[64] = {0};
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	basic_list(buf, 0, 9, 0x08);
	for (size_t len = 24; len < 28; len++) {
		assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), -1);
		assert_len_err(e);
	}
	buf[27] = 24; /* TPDL 24, list has 28 + 20 */
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, 48, &p, &e), -1);
	assert_perr(e, 24, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	buf[27] = 0;
	buf[24] = 0xff; /* huge TPDL must not wrap */
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, 28, &p, &e), -1);
	assert_perr(e, 24, -1, "TRANSPORTID PARAMETER DATA LENGTH");
}

static void test_spec_i_pt_empty(void **state)
{
	uint8_t buf[28] = {0};
	struct prk_prout_params p;
	struct prk_field_err e;
	struct prk_tid t;
	uint32_t pos = 0;

	(void)state;
	basic_list(buf, 0, 5, 0x08);
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, 28, &p, &e), 0);
	assert_true(p.spec_i_pt);
	assert_int_equal(p.n_tids, 0);
	assert_int_equal(p.tid_list_len, 0);
	assert_int_equal(p.tid_list_off, 28);
	assert_int_equal(prk_tid_list_next(&p, &pos, &t), 0);
}

static void three_tids(struct prk_tid t[3])
{
	make_tid(&t[0], PRK_TID_FMT_DEVICE, "iqn.2024-01.org.example:a", 0);
	make_tid(&t[1], PRK_TID_FMT_PORT, "iqn.2024-01.org.example:b", 0x23d000000007ULL);
	make_tid(&t[2], PRK_TID_FMT_DEVICE, "x", 0);
}

static void test_spec_i_pt_round_trip(void **state)
{
	struct prk_tid t[3], got;
	uint8_t buf[256];
	struct prk_prout_params p;
	struct prk_field_err e;
	size_t len;
	uint32_t pos = 0;

	(void)state;
	three_tids(t);
	len = prk_prout_params_encode_basic(0, 0xabcdef, true, true, t, 3, buf, sizeof(buf));
	/* 28 + 32 + 48 + 24 */
	assert_int_equal(len, 132);
	assert_int_equal(buf[20], 0x0d);
	assert_int_equal(buf[27], 104);
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), 0);
	assert_int_equal(p.key, 0);
	assert_int_equal(p.sa_key, 0xabcdef);
	assert_true(p.spec_i_pt);
	assert_true(p.all_tg_pt);
	assert_true(p.aptpl);
	assert_int_equal(p.n_tids, 3);
	assert_ptr_equal(p.tid_list, buf + 28);
	assert_int_equal(p.tid_list_len, 104);
	assert_int_equal(p.tid_list_off, 28);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(prk_tid_list_next(&p, &pos, &got), 1);
		assert_int_equal(got.format, t[i].format);
		assert_int_equal(got.isid, t[i].isid);
		assert_string_equal(got.name, t[i].name);
	}
	assert_int_equal(pos, 104);
	assert_int_equal(prk_tid_list_next(&p, &pos, &got), 0);
}

static void test_spec_i_pt_tid_errors(void **state)
{
	struct prk_tid t[3];
	uint8_t buf[256];
	struct prk_prout_params p;
	struct prk_field_err e;
	size_t len;

	(void)state;
	three_tids(t);
	len = prk_prout_params_encode_basic(0, 1, false, false, t, 3, buf, sizeof(buf));
	assert_int_equal(len, 132);
	/* Second TransportID (at 60) with a wrong protocol identifier. */
	buf[60] = 0x46;
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), -1);
	assert_perr(e, 60, 3, "PROTOCOL IDENTIFIER");
	assert_int_equal(p.n_tids, 0);
	buf[60] = 0x45;
	/* Third (at 108) with a bad character in its name. */
	buf[112] = ' ';
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), -1);
	assert_perr(e, 112, -1, "ISCSI NAME");
	buf[112] = 'x';
	/* The last TransportID claims more than is left: blamed at its
	 * ADDITIONAL LENGTH, not read past the list. */
	buf[111] = 24;
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), -1);
	assert_perr(e, 110, -1, "ADDITIONAL LENGTH");
	buf[111] = 20;
	assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len, &p, &e), 0);
	/* Trailing bytes too few for another TransportID header: there is no
	 * ADDITIONAL LENGTH to point at, so the list length is blamed. */
	for (size_t extra = 1; extra < 4; extra++) {
		buf[27] = (uint8_t)(104 + extra);
		memset(buf + len, 0x05, extra);
		assert_int_equal(decode(PRK_PROUT_REGISTER, buf, len + extra, &p, &e), -1);
		assert_perr(e, 24, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	}
}

static void test_encode_basic_plain(void **state)
{
	static const uint8_t want[24] = {0, 0, 0, 0, 0, 0, 0, 1, 0,    0, 0, 0,
	                                 0, 0, 0, 2, 0, 0, 0, 0, 0x05, 0, 0, 0};
	uint8_t buf[25];
	struct prk_prout_params p;
	struct prk_field_err e;

	(void)state;
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prout_params_encode_basic(1, 2, true, true, NULL, 0, buf, sizeof(buf)),
	                 24);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[24], GUARD);
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_IGNORE, buf, 24, &p, &e), 0);
	assert_int_equal(p.key, 1);
	assert_int_equal(p.sa_key, 2);
	assert_true(p.all_tg_pt);
	assert_true(p.aptpl);
	assert_false(p.spec_i_pt);
}

static void test_encode_basic_truncated_and_invalid(void **state)
{
	struct prk_tid t[3];
	uint8_t full[132], buf[140];

	(void)state;
	three_tids(t);
	assert_int_equal(
	    prk_prout_params_encode_basic(7, 8, false, false, t, 3, full, sizeof(full)), 132);
	for (size_t cap = 0; cap < 132; cap += 7) {
		memset(buf, GUARD, sizeof(buf));
		assert_int_equal(prk_prout_params_encode_basic(7, 8, false, false, t, 3, buf, cap),
		                 132);
		assert_memory_equal(buf, full, cap);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], GUARD);
	}
	/* An invalid TransportID: 0 and nothing written. */
	strcpy(t[2].name, "bad name");
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prout_params_encode_basic(7, 8, false, false, t, 3, buf, sizeof(buf)),
	                 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], GUARD);
}

static void test_move_round_trip(void **state)
{
	struct prk_tid t;
	uint8_t buf[80];
	struct prk_prout_params p;
	struct prk_field_err e;
	size_t len;

	(void)state;
	make_tid(&t, PRK_TID_FMT_PORT, "iqn.2024-01.org.example:dest", 0x400001370000ULL);
	memset(buf, GUARD, sizeof(buf));
	len = prk_prout_params_encode_move(0x11, 0x22, true, true, 0x0102, &t, buf, sizeof(buf));
	/* 28 + 17 + 1 = 46 -> 48, + 4 header = 52 */
	assert_int_equal(len, 24 + 52);
	assert_int_equal(buf[16], 0);
	assert_int_equal(buf[17], 0x03);
	assert_int_equal(buf[18], 0x01);
	assert_int_equal(buf[19], 0x02);
	assert_int_equal(buf[23], 52);
	assert_int_equal(buf[24], 0x45);
	assert_int_equal(buf[len], GUARD);
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, len, &p, &e), 0);
	assert_int_equal(p.key, 0x11);
	assert_int_equal(p.sa_key, 0x22);
	assert_true(p.unreg);
	assert_true(p.aptpl);
	assert_int_equal(p.rtpi, 0x0102);
	assert_false(p.spec_i_pt);
	assert_false(p.all_tg_pt);
	assert_int_equal(p.move_tid.format, PRK_TID_FMT_PORT);
	assert_int_equal(p.move_tid.isid, 0x400001370000ULL);
	assert_string_equal(p.move_tid.name, t.name);

	len = prk_prout_params_encode_move(0x11, 0, false, false, 0, &t, buf, sizeof(buf));
	assert_int_equal(buf[17], 0);
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, len, &p, &e), 0);
	assert_false(p.unreg);
	assert_false(p.aptpl);

	strcpy(t.name, "");
	memset(buf, GUARD, sizeof(buf));
	assert_int_equal(prk_prout_params_encode_move(1, 2, false, false, 0, &t, buf, sizeof(buf)),
	                 0);
	assert_int_equal(buf[0], GUARD);
}

static void test_move_errors(void **state)
{
	struct prk_tid t;
	uint8_t buf[96] = {0};
	struct prk_prout_params p;
	struct prk_field_err e;
	size_t len;

	(void)state;
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 23, &p, &e), -1);
	assert_len_err(e);
	/* TPDL 0..3: not even a TransportID header. */
	for (uint8_t tpdl = 0; tpdl < 4; tpdl++) {
		buf[23] = tpdl;
		assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 24u + tpdl, &p, &e), -1);
		assert_perr(e, 20, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	}
	/* TPDL 4: a header whose length runs past it. */
	buf[23] = 4;
	buf[24] = 0x05;
	buf[27] = 20;
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 28, &p, &e), -1);
	assert_perr(e, 26, -1, "ADDITIONAL LENGTH");
	memset(buf, 0, sizeof(buf));

	make_tid(&t, PRK_TID_FMT_DEVICE, "iqn.x", 0);
	len = prk_prout_params_encode_move(1, 2, false, false, 3, &t, buf, sizeof(buf));
	assert_int_equal(len, 48);
	/* TPDL + 24 != length. */
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, len + 4, &p, &e), -1);
	assert_perr(e, 20, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, len - 4, &p, &e), -1);
	assert_perr(e, 20, -1, "TRANSPORTID PARAMETER DATA LENGTH");
	/* TPDL larger than the TransportID it holds. */
	buf[23] = 28;
	memset(buf + 48, 0, 4);
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 52, &p, &e), -1);
	assert_perr(e, 26, -1, "ADDITIONAL LENGTH");
	/* TPDL smaller than the TransportID: it overruns. */
	buf[23] = 20;
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 44, &p, &e), -1);
	assert_perr(e, 26, -1, "ADDITIONAL LENGTH");
	/* A malformed TransportID. */
	buf[23] = 24;
	buf[24] = 0x85;
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 48, &p, &e), -1);
	assert_perr(e, 24, 7, "FORMAT CODE");
	buf[24] = 0x05;
	buf[28] = ',';
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 48, &p, &e), -1);
	assert_perr(e, 28, -1, "ISCSI NAME");
	buf[28] = 'i';
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, 48, &p, &e), 0);
	assert_int_equal(p.rtpi, 3);
}

static void test_move_flags_not_basic(void **state)
{
	/* In the REGISTER AND MOVE list byte 20 is TPDL, not the flags: 0x0c
	 * there must not be read as SPEC_I_PT / ALL_TG_PT. */
	struct prk_tid t;
	uint8_t buf[64];
	struct prk_prout_params p;
	struct prk_field_err e;
	size_t len;

	(void)state;
	make_tid(&t, PRK_TID_FMT_DEVICE, "iqn.x", 0);
	len = prk_prout_params_encode_move(1, 2, false, false, 3, &t, buf, sizeof(buf));
	buf[20] = 0x0c;
	assert_int_equal(decode(PRK_PROUT_REGISTER_AND_MOVE, buf, len, &p, &e), -1);
	assert_perr(e, 20, -1, "TRANSPORTID PARAMETER DATA LENGTH");
}

static void test_list_next_without_list(void **state)
{
	struct prk_prout_params p;
	struct prk_tid t;
	uint32_t pos = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(prk_tid_list_next(&p, &pos, &t), 0);
	assert_int_equal(pos, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_decode),
	    cmocka_unit_test(test_basic_length_errors),
	    cmocka_unit_test(test_spec_i_pt_not_allowed),
	    cmocka_unit_test(test_all_tg_pt_not_allowed),
	    cmocka_unit_test(test_spec_i_pt_length_errors),
	    cmocka_unit_test(test_spec_i_pt_empty),
	    cmocka_unit_test(test_spec_i_pt_round_trip),
	    cmocka_unit_test(test_spec_i_pt_tid_errors),
	    cmocka_unit_test(test_encode_basic_plain),
	    cmocka_unit_test(test_encode_basic_truncated_and_invalid),
	    cmocka_unit_test(test_move_round_trip),
	    cmocka_unit_test(test_move_errors),
	    cmocka_unit_test(test_move_flags_not_basic),
	    cmocka_unit_test(test_list_next_without_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
