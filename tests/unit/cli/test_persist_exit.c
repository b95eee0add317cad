/* `prkit persist` exit statuses: the whole outcome table, raw sense data,
 * the names, the one-line descriptions and sg_persist's failure lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persist_exit.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_sense.h"

struct row {
	int status, key, asc;
	int want;
};

static const struct row table[] = {
    /* SCSI status */
    {0x00, -1, 0, 0},
    {0x04, -1, 0, 25},
    {0x08, -1, 0, 26},
    {0x18, -1, 0, 24},
    {0x28, -1, 0, 27},
    {0x30, -1, 0, 28},
    {0x40, -1, 0, 29},
    {0x22, -1, 0, 99}, /* COMMAND TERMINATED (obsolete) */
    {0x10, -1, 0, 99}, /* INTERMEDIATE (obsolete) */
    /* CHECK CONDITION by sense key */
    {0x02, 0x0, 0x0000, 0},  /* NO SENSE: success for PR IN/OUT */
    {0x02, 0x1, 0x1700, 0},  /* RECOVERED ERROR: success */
    {0x02, 0x2, 0x0000, 2},  /* NOT READY */
    {0x02, 0x2, 0x0401, 2},  /* becoming ready */
    {0x02, 0x2, 0x041a, 2},  /* START STOP UNIT in progress */
    {0x02, 0x2, 0x3a00, 2},  /* medium not present */
    {0x02, 0x2, 0x0404, 16}, /* format in progress */
    {0x02, 0x2, 0x0405, 16}, /* rebuild */
    {0x02, 0x2, 0x0406, 16}, /* recalculation */
    {0x02, 0x2, 0x0414, 16}, /* space allocation */
    {0x02, 0x2, 0x041b, 16}, /* sanitize */
    {0x02, 0x2, 0x041d, 16}, /* configuration */
    {0x02, 0x2, 0x0424, 16}, /* depopulation */
    {0x02, 0x2, 0x0425, 16}, /* depopulation restoration */
    {0x02, 0x2, 0x040b, 12}, /* ALUA standby */
    {0x02, 0x2, 0x040c, 13}, /* ALUA unavailable */
    {0x02, 0x3, 0x1100, 3},  /* MEDIUM ERROR */
    {0x02, 0x4, 0x4400, 3},  /* HARDWARE ERROR */
    {0x02, 0x8, 0x0000, 3},  /* BLANK CHECK */
    {0x02, 0x5, 0x2400, 5},  /* INVALID FIELD IN CDB */
    {0x02, 0x5, 0x1a00, 5},  /* PARAMETER LIST LENGTH ERROR */
    {0x02, 0x5, 0x2604, 5},  /* INVALID RELEASE OF PERSISTENT RESERVATION */
    {0x02, 0x5, 0x2000, 9},  /* INVALID COMMAND OPERATION CODE */
    {0x02, 0x5, 0x2001, 5},  /* 20/01 is not 20/00 */
    {0x02, 0x5, 0x2100, 22}, /* LBA OUT OF RANGE */
    {0x02, 0x5, 0x2600, 19}, /* INVALID FIELD IN PARAMETER LIST */
    {0x02, 0x6, 0x2a03, 6},  /* RESERVATIONS PREEMPTED */
    {0x02, 0x6, 0x2900, 6},  /* POWER ON */
    {0x02, 0x7, 0x2700, 7},  /* DATA PROTECT */
    {0x02, 0x9, 0x0000, 98}, /* vendor specific */
    {0x02, 0xa, 0x0000, 10}, /* COPY ABORTED */
    {0x02, 0xb, 0x4700, 11}, /* ABORTED COMMAND */
    {0x02, 0xb, 0x1001, 40}, /* ABORTED COMMAND, protection information */
    {0x02, 0xc, 0x0000, 98}, /* reserved */
    {0x02, 0xd, 0x0000, 98}, /* VOLUME OVERFLOW */
    {0x02, 0xe, 0x1d00, 14}, /* MISCOMPARE */
    {0x02, 0xf, 0x0000, 98}, /* COMPLETED */
    {0x02, -1, 0x0000, 98},  /* no sense data */
    {0x02, 16, 0x0000, 98},  /* not a sense key */
    /* outcomes that are not a status */
    {PRK_PERSIST_OUTCOME_TIMEOUT, -1, 0, 33},
    {PRK_PERSIST_OUTCOME_TRANSPORT, -1, 0, 35},
    {PRK_PERSIST_OUTCOME_CONNECT, -1, 0, 15},
    {PRK_PERSIST_OUTCOME_MALFORMED, -1, 0, 97},
    {PRK_PERSIST_OUTCOME_OTHER, -1, 0, 99},
    {-100, -1, 0, 99},
    {-1, -1, 0, 35}, /* prk_host_err's "-1: a transport failure" */
};

static void exit_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int got = prk_persist_exit_status(table[i].status, table[i].key, table[i].asc);

		if (got != table[i].want)
			fail_msg("row %zu: status 0x%x key %d asc %04x: got %d, want %d", i,
			         table[i].status, table[i].key, table[i].asc, got, table[i].want);
	}
}

/* The numbers themselves are sg3_utils' (sg3_utils(8), sg_lib.h). */
static void exit_values(void **state)
{
	(void)state;
	assert_int_equal(PRK_PERSIST_EXIT_SYNTAX, 1);
	assert_int_equal(PRK_PERSIST_EXIT_NOT_READY, 2);
	assert_int_equal(PRK_PERSIST_EXIT_MEDIUM_HARD, 3);
	assert_int_equal(PRK_PERSIST_EXIT_ILLEGAL_REQ, 5);
	assert_int_equal(PRK_PERSIST_EXIT_UNIT_ATTENTION, 6);
	assert_int_equal(PRK_PERSIST_EXIT_DATA_PROTECT, 7);
	assert_int_equal(PRK_PERSIST_EXIT_INVALID_OP, 9);
	assert_int_equal(PRK_PERSIST_EXIT_ABORTED_COMMAND, 11);
	assert_int_equal(PRK_PERSIST_EXIT_FILE_ERROR, 15);
	assert_int_equal(PRK_PERSIST_EXIT_NO_SENSE, 20);
	assert_int_equal(PRK_PERSIST_EXIT_RECOVERED, 21);
	assert_int_equal(PRK_PERSIST_EXIT_RES_CONFLICT, 24);
	assert_int_equal(PRK_PERSIST_EXIT_CONDITION_MET, 25);
	assert_int_equal(PRK_PERSIST_EXIT_BUSY, 26);
	assert_int_equal(PRK_PERSIST_EXIT_TASK_SET_FULL, 27);
	assert_int_equal(PRK_PERSIST_EXIT_CONTRADICT, 31);
	assert_int_equal(PRK_PERSIST_EXIT_TIMEOUT, 33);
	assert_int_equal(PRK_PERSIST_EXIT_TRANSPORT, 35);
	assert_int_equal(PRK_PERSIST_EXIT_MALFORMED, 97);
	assert_int_equal(PRK_PERSIST_EXIT_SENSE, 98);
	assert_int_equal(PRK_PERSIST_EXIT_OTHER, 99);
}

static void from_sense(void **state)
{
	uint8_t fixed[18] = {0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00};
	uint8_t desc[8] = {0x72, 0x06, 0x2a, 0x03, 0, 0, 0, 0};
	uint8_t bad[8] = {0x10, 0, 0, 0, 0, 0, 0, 0};
	(void)state;

	assert_int_equal(prk_persist_exit_from_sense(0x02, fixed, sizeof(fixed)), 9);
	fixed[12] = 0x26;
	assert_int_equal(prk_persist_exit_from_sense(0x02, fixed, sizeof(fixed)), 19);
	fixed[2] = 0x01;
	assert_int_equal(prk_persist_exit_from_sense(0x02, fixed, sizeof(fixed)), 0);
	assert_int_equal(prk_persist_exit_from_sense(0x02, desc, sizeof(desc)), 6);
	desc[1] = 0x0b;
	desc[2] = 0x10;
	assert_int_equal(prk_persist_exit_from_sense(0x02, desc, sizeof(desc)), 40);
	assert_int_equal(prk_persist_exit_from_sense(0x02, bad, sizeof(bad)), 98);
	assert_int_equal(prk_persist_exit_from_sense(0x02, NULL, 0), 98);
	assert_int_equal(prk_persist_exit_from_sense(0x02, desc, 1), 98);
	/* the sense data only matters with CHECK CONDITION */
	assert_int_equal(prk_persist_exit_from_sense(0x18, desc, sizeof(desc)), 24);
	assert_int_equal(prk_persist_exit_from_sense(0x00, desc, sizeof(desc)), 0);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(prk_persist_exit_str(0), "Success");
	assert_string_equal(prk_persist_exit_str(1), "Syntax error");
	assert_string_equal(prk_persist_exit_str(24), "Reservation conflict");
	assert_string_equal(prk_persist_exit_str(9), "Illegal request, invalid opcode");
	assert_string_equal(prk_persist_exit_str(31), "Contradicting command line options");
	assert_string_equal(prk_persist_exit_str(97), "Malformed response");
	assert_string_equal(prk_persist_exit_str(4), "Unknown exit status");
	assert_string_equal(prk_persist_exit_str(-1), "Unknown exit status");
	/* every status the mapping can produce has its own name */
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_string_not_equal(prk_persist_exit_str(table[i].want), "Unknown exit status");
}

static void describe(void **state)
{
	char b[200];
	(void)state;

	prk_persist_describe(b, sizeof(b), 0x18, -1, 0);
	assert_string_equal(b, "RESERVATION CONFLICT: exit status 24");
	prk_persist_describe(b, sizeof(b), 0x00, -1, 0);
	assert_string_equal(b, "GOOD: exit status 0");
	prk_persist_describe(b, sizeof(b), 0x08, -1, 0);
	assert_string_equal(b, "BUSY: exit status 26");
	prk_persist_describe(b, sizeof(b), 0x02, 0x5, 0x2400);
	assert_string_equal(b, "CHECK CONDITION, sense key ILLEGAL REQUEST, INVALID FIELD IN CDB "
	                       "(asc/ascq 24/00): exit status 5");
	prk_persist_describe(b, sizeof(b), 0x02, 0x6, 0x2a03);
	assert_string_equal(b, "CHECK CONDITION, sense key UNIT ATTENTION, RESERVATIONS PREEMPTED "
	                       "(asc/ascq 2a/03): exit status 6");
	prk_persist_describe(b, sizeof(b), 0x02, 0x3, 0x7f7e);
	assert_string_equal(
	    b, "CHECK CONDITION, sense key MEDIUM ERROR, asc/ascq 7f/7e: exit status 3");
	prk_persist_describe(b, sizeof(b), 0x02, -1, 0);
	assert_string_equal(b, "CHECK CONDITION without sense data: exit status 98");
	prk_persist_describe(b, sizeof(b), 0x22, -1, 0);
	assert_string_equal(b, "SCSI status 0x22: exit status 99");
	prk_persist_describe(b, sizeof(b), PRK_PERSIST_OUTCOME_TIMEOUT, -1, 0);
	assert_string_equal(b, "no answer within the timeout: exit status 33");
	prk_persist_describe(b, sizeof(b), PRK_PERSIST_OUTCOME_TRANSPORT, -1, 0);
	assert_string_equal(b, "the iSCSI session failed: exit status 35");
	prk_persist_describe(b, sizeof(b), PRK_PERSIST_OUTCOME_CONNECT, -1, 0);
	assert_string_equal(b, "cannot connect to or log in to the target: exit status 15");
	prk_persist_describe(b, sizeof(b), PRK_PERSIST_OUTCOME_MALFORMED, -1, 0);
	assert_string_equal(b, "malformed response: exit status 97");
	prk_persist_describe(b, sizeof(b), PRK_PERSIST_OUTCOME_OTHER, -1, 0);
	assert_string_equal(b, "error: exit status 99");
	/* truncation is snprintf's */
	assert_int_equal(prk_persist_describe(b, 5, 0x18, -1, 0), 36);
	assert_string_equal(b, "RESE");
}

/* ---- sg_persist's lines on stderr ---- */

static char *outcome(const struct prk_persist_args *a, int ex)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	prk_persist_print_outcome(f, a, ex);
	fclose(f);
	return buf;
}

#define assert_outcome(a, ex, want)                                                                \
	do {                                                                                       \
		char *s_ = outcome((a), (ex));                                                     \
		assert_string_equal(s_, (want));                                                   \
		free(s_);                                                                          \
	} while (0)

static void outcome_lines(void **state)
{
	struct prk_persist_args a;
	(void)state;

	memset(&a, 0, sizeof(a));
	a.dir = PRK_PERSIST_IN;
	a.prin_sa = PRK_PRIN_READ_KEYS;
	assert_outcome(&a, 0, "");
	assert_outcome(&a, 9,
	               "PR in (Read keys): command not supported\n"
	               "prkit persist failed: Illegal request, invalid opcode\n");
	a.prin_sa = PRK_PRIN_READ_FULL_STATUS;
	assert_outcome(&a, 5,
	               "PR in (Read full status): bad field in cdb or parameter list (perhaps "
	               "unsupported service action)\n"
	               "prkit persist failed: Illegal request\n");
	a.prin_sa = PRK_PRIN_REPORT_CAPABILITIES;
	assert_outcome(&a, 6,
	               "PR in (Report capabilities): Unit attention\n"
	               "prkit persist failed: Unit attention\n");
	a.verbose = 1;
	assert_outcome(&a, 6, "PR in (Report capabilities): Unit attention\n");
	/* a malformed response has its own message already */
	a.verbose = 0;
	assert_outcome(&a, 97, "prkit persist failed: Malformed response\n");

	a.dir = PRK_PERSIST_OUT;
	a.prout_sa = PRK_PROUT_RESERVE;
	assert_outcome(&a, 0, "");
	assert_outcome(&a, 24,
	               "PR out (Reserve): Reservation conflict\n"
	               "prkit persist failed: Reservation conflict\n");
	assert_outcome(&a, 9,
	               "PR out (Reserve): command not supported\n"
	               "prkit persist failed: Illegal request, invalid opcode\n");
	assert_outcome(&a, 5,
	               "PR out (Reserve): bad field in cdb (perhaps unsupported service action)\n"
	               "prkit persist failed: Illegal request\n");
	a.prout_sa = PRK_PROUT_REGISTER_AND_IGNORE;
	assert_outcome(&a, 19,
	               "PR out (Register and ignore existing key): bad field parameter list\n"
	               "prkit persist failed: Illegal request, invalid field in parameter list\n");
	a.verbose = 1;
	assert_outcome(&a, 0, "PR out: command (Register and ignore existing key) successful\n");
	a.prout_sa = PRK_PROUT_REGISTER_AND_MOVE;
	assert_outcome(&a, 0, "PR out (register and move): command successful\n");
	assert_outcome(&a, 19, "PR out (register and move): bad field in parameter list\n");
	assert_outcome(&a, 9, "PR out (register and move): command not supported\n");
	assert_outcome(&a, 5,
	               "PR out (register and move): bad field in cdb (perhaps unsupported service "
	               "action)\n");
	a.verbose = 0;
	assert_outcome(&a, 33,
	               "PR out (register and move): Command timed out\n"
	               "prkit persist failed: Command timed out\n");
	a.prout_sa = PRK_PROUT_REPLACE_LOST;
	assert_outcome(&a, 35,
	               "PR out (Replace lost reservation): Transport error\n"
	               "prkit persist failed: Transport error\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exit_table), cmocka_unit_test(exit_values),
	    cmocka_unit_test(from_sense), cmocka_unit_test(names),
	    cmocka_unit_test(describe),   cmocka_unit_test(outcome_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
