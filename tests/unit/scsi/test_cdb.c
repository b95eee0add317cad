/* CDB lengths, service actions, PR IN/OUT CDBs, SPC-2 RESERVE/RELEASE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/scsi_cdb.h"

#include "scsi_test_util.h"

static void test_len_of_opcode(void **state)
{
	(void)state;
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_TEST_UNIT_READY), 6);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_INQUIRY), 6);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_RESERVE6), 6);
	assert_int_equal(prk_cdb_len_of_opcode(0x1f), 6);
	assert_int_equal(prk_cdb_len_of_opcode(0x20), 10);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_READ10), 10);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_PR_IN), 10);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_PR_OUT), 10);
	assert_int_equal(prk_cdb_len_of_opcode(0x5f), 10);
	assert_int_equal(prk_cdb_len_of_opcode(0x60), 0);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_VARIABLE), 0);
	assert_int_equal(prk_cdb_len_of_opcode(0x80), 16);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_READ16), 16);
	assert_int_equal(prk_cdb_len_of_opcode(0x9f), 16);
	assert_int_equal(prk_cdb_len_of_opcode(PRK_OP_REPORT_LUNS), 12);
	assert_int_equal(prk_cdb_len_of_opcode(0xbf), 12);
	assert_int_equal(prk_cdb_len_of_opcode(0xc0), 0);
	assert_int_equal(prk_cdb_len_of_opcode(0xe0), 0);
	assert_int_equal(prk_cdb_len_of_opcode(0xff), 0);
}

static void test_cdb_len(void **state)
{
	uint8_t cdb[32] = {0};

	(void)state;
	assert_int_equal(prk_cdb_len(cdb, 0), 0);
	cdb[0] = PRK_OP_READ10;
	assert_int_equal(prk_cdb_len(cdb, 1), 10);
	cdb[0] = PRK_OP_VARIABLE;
	cdb[7] = 0x18;
	assert_int_equal(prk_cdb_len(cdb, 32), 32);
	assert_int_equal(prk_cdb_len(cdb, 8), 32);
	assert_int_equal(prk_cdb_len(cdb, 7), 0);
	cdb[0] = 0xc5;
	assert_int_equal(prk_cdb_len(cdb, 16), 0);
}

static void test_service_action(void **state)
{
	uint8_t cdb[16] = {0};

	(void)state;
	cdb[1] = 0xe3; /* upper bits are not part of the SA */
	cdb[0] = PRK_OP_PR_IN;
	assert_int_equal(prk_cdb_service_action(cdb, 10), 3);
	cdb[0] = PRK_OP_PR_OUT;
	assert_int_equal(prk_cdb_service_action(cdb, 2), 3);
	assert_int_equal(prk_cdb_service_action(cdb, 1), -1);
	cdb[1] = PRK_SAI_READ_CAPACITY16;
	cdb[0] = PRK_OP_SERVICE_ACTION_IN16;
	assert_int_equal(prk_cdb_service_action(cdb, 16), 0x10);
	cdb[0] = PRK_OP_SERVICE_ACTION_OUT16;
	assert_int_equal(prk_cdb_service_action(cdb, 16), 0x10);
	cdb[1] = PRK_MI_REPORT_TARGET_PGS;
	cdb[0] = PRK_OP_MAINTENANCE_IN;
	assert_int_equal(prk_cdb_service_action(cdb, 12), 0x0a);
	cdb[0] = PRK_OP_MAINTENANCE_OUT;
	assert_int_equal(prk_cdb_service_action(cdb, 12), 0x0a);
	cdb[0] = PRK_OP_READ10;
	assert_int_equal(prk_cdb_service_action(cdb, 10), -1);
	assert_int_equal(prk_cdb_service_action(cdb, 0), -1);
	cdb[0] = PRK_OP_VARIABLE;
	cdb[8] = 0x12;
	cdb[9] = 0x0b;
	assert_int_equal(prk_cdb_service_action(cdb, 10), 0x120b);
	assert_int_equal(prk_cdb_service_action(cdb, 9), -1);
}

static void test_pr_types(void **state)
{
	(void)state;
	for (unsigned t = 0; t < 16; t++) {
		bool valid = t == 1 || t == 3 || t == 5 || t == 6 || t == 7 || t == 8;

		assert_int_equal(prk_pr_type_valid((uint8_t)t), valid);
		assert_int_equal(prk_pr_type_all_registrants((uint8_t)t), t == 7 || t == 8);
		assert_int_equal(prk_pr_type_registrants_only((uint8_t)t), t == 5 || t == 6);
		if (!valid)
			assert_string_equal(prk_pr_type_name((uint8_t)t), "?");
	}
	assert_string_equal(prk_pr_type_name(PRK_PR_WE), "WE");
	assert_string_equal(prk_pr_type_name(PRK_PR_EA), "EA");
	assert_string_equal(prk_pr_type_name(PRK_PR_WE_RO), "WE-RO");
	assert_string_equal(prk_pr_type_name(PRK_PR_EA_RO), "EA-RO");
	assert_string_equal(prk_pr_type_name(PRK_PR_WE_AR), "WE-AR");
	assert_string_equal(prk_pr_type_name(PRK_PR_EA_AR), "EA-AR");
}

static void test_prout_sa_names(void **state)
{
	(void)state;
	assert_string_equal(prk_prout_sa_name(0), "REGISTER");
	assert_string_equal(prk_prout_sa_name(1), "RESERVE");
	assert_string_equal(prk_prout_sa_name(2), "RELEASE");
	assert_string_equal(prk_prout_sa_name(3), "CLEAR");
	assert_string_equal(prk_prout_sa_name(4), "PREEMPT");
	assert_string_equal(prk_prout_sa_name(5), "PREEMPT AND ABORT");
	assert_string_equal(prk_prout_sa_name(6), "REGISTER AND IGNORE EXISTING KEY");
	assert_string_equal(prk_prout_sa_name(7), "REGISTER AND MOVE");
	assert_string_equal(prk_prout_sa_name(8), "REPLACE LOST RESERVATION");
	assert_string_equal(prk_prout_sa_name(9), "?");
	assert_string_equal(prk_prout_sa_name(0xff), "?");
}

static void test_prout_encode_bytes(void **state)
{
	static const uint8_t want[10] = {0x5f, 0x04, 0x07, 0, 0, 0x01, 0x02, 0x03, 0x04, 0};
	struct prk_prout_cdb c = {.sa = 4, .scope = 0, .type = 7, .param_len = 0x01020304};
	uint8_t cdb[10];

	(void)state;
	memset(cdb, 0xee, sizeof(cdb));
	assert_int_equal(prk_prout_cdb_encode(&c, cdb), 10);
	assert_memory_equal(cdb, want, sizeof(want));
}

static void test_prout_decode(void **state)
{
	uint8_t cdb[10] = {0x5f, 0xe1, 0x25, 0xff, 0xff, 0, 0, 0, 24, 0};
	struct prk_prout_cdb c;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_prout_cdb_decode(cdb, sizeof(cdb), &c, &e), 0);
	assert_int_equal(c.sa, 1);
	assert_int_equal(c.scope, 2);
	assert_int_equal(c.type, 5);
	assert_int_equal(c.param_len, 24);

	cdb[5] = 0xff;
	cdb[8] = 0xfe;
	assert_int_equal(prk_prout_cdb_decode(cdb, sizeof(cdb), &c, &e), 0);
	assert_int_equal(c.param_len, 0xff0000feu);
}

static void test_prout_round_trip(void **state)
{
	(void)state;
	for (uint8_t sa = 0; sa <= PRK_PROUT_SA_MAX; sa++) {
		struct prk_prout_cdb in = {
		    .sa = sa, .scope = 0, .type = (uint8_t)(sa + 1), .param_len = 24u + sa};
		struct prk_prout_cdb out;
		struct prk_field_err e;
		uint8_t cdb[10];

		prk_prout_cdb_encode(&in, cdb);
		assert_int_equal(prk_prout_cdb_decode(cdb, 10, &out, &e), 0);
		assert_int_equal(out.sa, in.sa);
		assert_int_equal(out.scope, in.scope);
		assert_int_equal(out.type, in.type);
		assert_int_equal(out.param_len, in.param_len);
	}
}

static void test_prout_decode_errors(void **state)
{
	uint8_t cdb[10] = {0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	struct prk_prout_cdb c;
	struct prk_field_err e;

	(void)state;
	for (unsigned sa = 9; sa < 32; sa++) {
		cdb[1] = (uint8_t)sa;
		memset(&e, 0, sizeof(e));
		assert_int_equal(prk_prout_cdb_decode(cdb, sizeof(cdb), &c, &e), -1);
		assert_ferr(e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "SERVICE ACTION");
	}
	cdb[1] = 0;
	assert_int_equal(prk_prout_cdb_decode(cdb, 9, &c, &e), -1);
	assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
	assert_int_equal(prk_prout_cdb_decode(cdb, 0, &c, &e), -1);
	assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
}

static void test_prin_codec(void **state)
{
	static const uint8_t want[10] = {0x5e, 0x03, 0, 0, 0, 0, 0, 0x12, 0x34, 0};
	struct prk_prin_cdb in = {.sa = 3, .alloc_len = 0x1234};
	struct prk_prin_cdb out;
	struct prk_field_err e;
	uint8_t cdb[10];

	(void)state;
	memset(cdb, 0xee, sizeof(cdb));
	assert_int_equal(prk_prin_cdb_encode(&in, cdb), 10);
	assert_memory_equal(cdb, want, sizeof(want));
	assert_int_equal(prk_prin_cdb_decode(cdb, sizeof(cdb), &out, &e), 0);
	assert_int_equal(out.sa, 3);
	assert_int_equal(out.alloc_len, 0x1234);

	/* A tiny allocation length is not an error. */
	cdb[1] = 0xe0;
	cdb[7] = 0;
	cdb[8] = 1;
	assert_int_equal(prk_prin_cdb_decode(cdb, sizeof(cdb), &out, &e), 0);
	assert_int_equal(out.sa, 0);
	assert_int_equal(out.alloc_len, 1);
}

static void test_prin_decode_errors(void **state)
{
	uint8_t cdb[10] = {0x5e, 0, 0, 0, 0, 0, 0, 0, 8, 0};
	struct prk_prin_cdb c;
	struct prk_field_err e;

	(void)state;
	for (unsigned sa = 4; sa < 32; sa++) {
		cdb[1] = (uint8_t)sa;
		memset(&e, 0, sizeof(e));
		assert_int_equal(prk_prin_cdb_decode(cdb, sizeof(cdb), &c, &e), -1);
		assert_ferr(e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "SERVICE ACTION");
	}
	cdb[1] = 0;
	assert_int_equal(prk_prin_cdb_decode(cdb, 6, &c, &e), -1);
	assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
}

static void test_spc2_ok(void **state)
{
	uint8_t cdb[10] = {0};
	struct prk_spc2_cdb c;
	struct prk_field_err e;

	(void)state;
	cdb[0] = PRK_OP_RESERVE6;
	c.reserve = false;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), 0);
	assert_true(c.reserve);
	cdb[0] = PRK_OP_RELEASE6;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), 0);
	assert_false(c.reserve);
	cdb[0] = PRK_OP_RESERVE10;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), 0);
	assert_true(c.reserve);
	cdb[0] = PRK_OP_RELEASE10;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), 0);
	assert_false(c.reserve);
	/* Obsolete LUN bits (7..5) are ignored. */
	cdb[1] = 0xe0;
	cdb[0] = PRK_OP_RESERVE6;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), 0);
	cdb[0] = PRK_OP_RESERVE10;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), 0);
}

static void test_spc2_six_errors(void **state)
{
	static const uint8_t ops[] = {PRK_OP_RESERVE6, PRK_OP_RELEASE6};
	uint8_t cdb[6] = {0};
	struct prk_spc2_cdb c;
	struct prk_field_err e;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		cdb[0] = ops[i];
		cdb[1] = 0x01;
		assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), -1);
		assert_ferr(e, true, 1, 0, PRK_ASC_INVALID_FIELD_IN_CDB, "EXTENT");
		for (int bit = 1; bit <= 4; bit++) {
			cdb[1] = (uint8_t)(1u << bit);
			memset(&e, 0, sizeof(e));
			assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), -1);
			assert_ferr(e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "3RDPTY");
		}
		cdb[1] = 0;
		assert_int_equal(prk_spc2_cdb_decode(cdb, 5, &c, &e), -1);
		assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
	}
}

static void test_spc2_ten_errors(void **state)
{
	static const uint8_t ops[] = {PRK_OP_RESERVE10, PRK_OP_RELEASE10};
	uint8_t cdb[10] = {0};
	struct prk_spc2_cdb c;
	struct prk_field_err e;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		cdb[0] = ops[i];
		cdb[1] = 0x10;
		assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), -1);
		assert_ferr(e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "3RDPTY");
		cdb[1] = 0x02;
		assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), -1);
		assert_ferr(e, true, 1, 1, PRK_ASC_INVALID_FIELD_IN_CDB, "LONGID");
		cdb[1] = 0x12; /* both: 3RDPTY reported first */
		assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), -1);
		assert_ferr(e, true, 1, 4, PRK_ASC_INVALID_FIELD_IN_CDB, "3RDPTY");
		cdb[1] = 0;
		assert_int_equal(prk_spc2_cdb_decode(cdb, 6, &c, &e), -1);
		assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
	}
}

static void test_spc2_wrong_opcode(void **state)
{
	uint8_t cdb[10] = {PRK_OP_PR_OUT};
	struct prk_spc2_cdb c;
	struct prk_field_err e;

	(void)state;
	assert_int_equal(prk_spc2_cdb_decode(cdb, 10, &c, &e), -1);
	assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "OPERATION CODE");
	assert_int_equal(prk_spc2_cdb_decode(cdb, 0, &c, &e), -1);
	assert_ferr(e, true, 0, -1, PRK_ASC_INVALID_FIELD_IN_CDB, "CDB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_len_of_opcode),       cmocka_unit_test(test_cdb_len),
	    cmocka_unit_test(test_service_action),      cmocka_unit_test(test_pr_types),
	    cmocka_unit_test(test_prout_sa_names),      cmocka_unit_test(test_prout_encode_bytes),
	    cmocka_unit_test(test_prout_decode),        cmocka_unit_test(test_prout_round_trip),
	    cmocka_unit_test(test_prout_decode_errors), cmocka_unit_test(test_prin_codec),
	    cmocka_unit_test(test_prin_decode_errors),  cmocka_unit_test(test_spc2_ok),
	    cmocka_unit_test(test_spc2_six_errors),     cmocka_unit_test(test_spc2_ten_errors),
	    cmocka_unit_test(test_spc2_wrong_opcode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
