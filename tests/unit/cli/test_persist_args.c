/* `prkit persist` command line: every option, every rule and every error
 * path of prk_persist_parse(), the URL and TransportID parsers, the
 * default initiator name, the notes and the usage text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist_args.h"
#include "prkit/scsi_cdb.h"

#define U1 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/0"
#define U2 "iscsi://192.0.2.2:3261/iqn.2026-01.io.prkit:t1/7"

static struct prk_persist_args A;
static char E[512];

static int parse_v(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	memset(E, 0, sizeof(E));
	return prk_persist_parse(argc, argv, &A, E, sizeof(E));
}

/* PARSE("-k", U1) parses {"persist", "-k", U1}. */
#define PARSE(...) parse_v((char *[]){"persist", __VA_ARGS__, NULL})

/* The parse fails with rc and the message holds every string given. */
#define assert_fails(rc, argv, ...)                                                                \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		assert_int_equal(parse_v(argv), (rc));                                             \
		for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++) {                 \
			if (!strstr(E, want_[i_]))                                                 \
				fail_msg("message \"%s\" lacks \"%s\"", E, want_[i_]);             \
		}                                                                                  \
	} while (0)
#define ARGV(...) ((char *[]){"persist", __VA_ARGS__, NULL})

/* ---- defaults and PR IN ---- */

static void defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE(U1), 0);
	assert_string_equal(E, "");
	assert_int_equal(A.dir, PRK_PERSIST_IN);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_KEYS);
	assert_true(A.prin_sa_defaulted);
	assert_int_equal(A.alloc_len, 8192);
	assert_int_equal(A.timeout, 60);
	assert_int_equal(A.n_urls, 1);
	assert_ptr_equal(A.urls[0].text, U1);
	assert_string_equal(A.urls[0].host, "192.0.2.1");
	assert_int_equal(A.urls[0].port, 3260);
	assert_string_equal(A.urls[0].target, "iqn.2026-01.io.prkit:t1");
	assert_int_equal(A.urls[0].lun, 0);
	assert_false(A.urls[0].has_credentials);
	assert_false(A.no_inquiry);
	assert_int_equal(A.hex, 0);
	assert_int_equal(A.verbose, 0);
	assert_false(A.json);
	assert_false(A.initiator_given);
	assert_string_equal(A.initiator, "");
	assert_int_equal(A.n_tids, 0);
	assert_int_equal(A.help, 0);
	assert_false(A.version);
	assert_false(A.type_given);
	assert_int_equal(A.rk, 0);
	assert_int_equal(A.sark, 0);
}

static void prin_actions(void **state)
{
	static const struct {
		const char *opt;
		uint8_t sa;
	} cases[] = {
	    {"-k", PRK_PRIN_READ_KEYS},
	    {"--read-keys", PRK_PRIN_READ_KEYS},
	    {"--read_keys", PRK_PRIN_READ_KEYS},
	    {"-r", PRK_PRIN_READ_RESERVATION},
	    {"--read-reservation", PRK_PRIN_READ_RESERVATION},
	    {"--read_reservation", PRK_PRIN_READ_RESERVATION},
	    {"-c", PRK_PRIN_REPORT_CAPABILITIES},
	    {"--report-capabilities", PRK_PRIN_REPORT_CAPABILITIES},
	    {"--report_capabilities", PRK_PRIN_REPORT_CAPABILITIES},
	    {"-s", PRK_PRIN_READ_FULL_STATUS},
	    {"--read-full-status", PRK_PRIN_READ_FULL_STATUS},
	    {"--read_full_status", PRK_PRIN_READ_FULL_STATUS},
	    {"--read-status", PRK_PRIN_READ_FULL_STATUS},
	    {"--read_status", PRK_PRIN_READ_FULL_STATUS},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = {"persist", (char *)cases[i].opt, U1, NULL};
		char *argv_in[] = {"persist", "--in", (char *)cases[i].opt, U1, NULL};

		assert_int_equal(parse_v(argv), 0);
		assert_int_equal(A.dir, PRK_PERSIST_IN);
		assert_int_equal(A.prin_sa, cases[i].sa);
		assert_false(A.prin_sa_defaulted);
		assert_int_equal(parse_v(argv_in), 0);
		assert_int_equal(A.prin_sa, cases[i].sa);
	}
	/* -i alone: READ KEYS by default */
	assert_int_equal(PARSE("-i", U1), 0);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_KEYS);
	assert_true(A.prin_sa_defaulted);
	/* the same action twice is not a conflict */
	assert_int_equal(PARSE("-r", "--read-reservation", U1), 0);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_RESERVATION);
}

/* ---- PR OUT ---- */

static void prout_actions(void **state)
{
	static const struct {
		const char *opt;
		uint8_t sa;
	} cases[] = {
	    {"-G", PRK_PROUT_REGISTER},
	    {"--register", PRK_PROUT_REGISTER},
	    {"-R", PRK_PROUT_RESERVE},
	    {"--reserve", PRK_PROUT_RESERVE},
	    {"-L", PRK_PROUT_RELEASE},
	    {"--release", PRK_PROUT_RELEASE},
	    {"-C", PRK_PROUT_CLEAR},
	    {"--clear", PRK_PROUT_CLEAR},
	    {"-P", PRK_PROUT_PREEMPT},
	    {"--preempt", PRK_PROUT_PREEMPT},
	    {"-A", PRK_PROUT_PREEMPT_AND_ABORT},
	    {"--preempt-abort", PRK_PROUT_PREEMPT_AND_ABORT},
	    {"--preempt_abort", PRK_PROUT_PREEMPT_AND_ABORT},
	    {"-I", PRK_PROUT_REGISTER_AND_IGNORE},
	    {"--register-ignore", PRK_PROUT_REGISTER_AND_IGNORE},
	    {"--register_ignore", PRK_PROUT_REGISTER_AND_IGNORE},
	    {"-z", PRK_PROUT_REPLACE_LOST},
	    {"--replace-lost", PRK_PROUT_REPLACE_LOST},
	    {"--replace_lost", PRK_PROUT_REPLACE_LOST},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = {"persist", "--out", (char *)cases[i].opt, "-T", "5", U1, NULL};
		char *argv_o[] = {"persist",        "-o", (char *)cases[i].opt,
		                  "--prout-type=1", U1,   NULL};

		assert_int_equal(parse_v(argv), 0);
		assert_int_equal(A.dir, PRK_PERSIST_OUT);
		assert_int_equal(A.prout_sa, cases[i].sa);
		assert_int_equal(A.type, 5);
		assert_true(A.type_given);
		assert_int_equal(parse_v(argv_o), 0);
		assert_int_equal(A.prout_sa, cases[i].sa);
		assert_int_equal(A.type, 1);
	}
	/* REGISTER AND MOVE, both spellings */
	assert_int_equal(
	    PARSE("-o", "-M", "-T", "6", "-X", "iqn.1994-05.com.x:h,i,0x23d000000001", U1), 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_REGISTER_AND_MOVE);
	assert_int_equal(PARSE("-o", "--register-move", "-T", "6", "-X",
	                       "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	                 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_REGISTER_AND_MOVE);
	assert_int_equal(PARSE("-o", "--register_move", "-T", "6", "-X",
	                       "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	                 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_REGISTER_AND_MOVE);
}

/* fence_scsi's command lines. */
static void fence_scsi_lines(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-n", "-o", "-I", "-S", "1a2b0000", "-Z", "-d", U1), 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_REGISTER_AND_IGNORE);
	assert_int_equal(A.sark, 0x1a2b0000);
	assert_true(A.aptpl);
	assert_true(A.no_inquiry);
	assert_int_equal(A.n_urls, 1);

	assert_int_equal(PARSE("-n", "-o", "-R", "-K", "1a2b0000", "-T", "5", "-d", U1), 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_RESERVE);
	assert_int_equal(A.rk, 0x1a2b0000);
	assert_int_equal(A.type, 5);

	assert_int_equal(
	    PARSE("-n", "-o", "-A", "-T", "5", "-K", "1a2b0000", "-S", "3c4d0000", "-d", U1), 0);
	assert_int_equal(A.prout_sa, PRK_PROUT_PREEMPT_AND_ABORT);
	assert_int_equal(A.rk, 0x1a2b0000);
	assert_int_equal(A.sark, 0x3c4d0000);

	assert_int_equal(PARSE("-n", "-i", "-k", "-d", U1), 0);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_KEYS);
	assert_false(A.prin_sa_defaulted);
}

static void keys(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "-G", "-K", "123abc", "-S", "0x123ABC", U1), 0);
	assert_int_equal(A.rk, 0x123abc);
	assert_int_equal(A.sark, 0x123abc);
	assert_int_equal(
	    PARSE("-o", "-G", "--param-rk=ffffffffffffffff", "--param-sark", "0X0", U1), 0);
	assert_true(A.rk == UINT64_MAX);
	assert_int_equal(A.sark, 0);
	assert_int_equal(
	    PARSE("-o", "-G", "--param_rk=0000000000000000000001", "--param_sark=10", U1), 0);
	assert_int_equal(A.rk, 1);
	assert_int_equal(A.sark, 0x10);
	/* PR OUT parameters are accepted (and ignored) with PR IN */
	assert_int_equal(PARSE("-k", "-K", "5", U1), 0);
	assert_int_equal(A.rk, 5);
}

static void bad_keys(void **state)
{
	(void)state;
	assert_fails(1, ARGV("-o", "-G", "-K", "zz", U1), "-K", "'zz'", "hex key");
	assert_fails(1, ARGV("-o", "-G", "--param-rk=", U1), "--param-rk", "''");
	assert_fails(1, ARGV("-o", "-G", "--param-rk", "0x", U1), "--param-rk", "'0x'");
	assert_fails(1, ARGV("-o", "-G", "-S", "1ffffffffffffffff", U1), "-S",
	             "'1ffffffffffffffff'");
	assert_fails(1, ARGV("-o", "-G", "--param-sark", " 12", U1), "--param-sark", "' 12'");
	assert_fails(1, ARGV("-o", "-G", "-S", "-1", U1), "-S", "'-1'");
	assert_fails(1, ARGV("-o", "-G", "-S", "12zz", U1), "-S", "'12zz'");
	assert_fails(1, ARGV("-o", "-G", "--param_sark=g", U1), "--param_sark", "'g'");
}

static void types(void **state)
{
	static const uint8_t valid[] = {1, 3, 5, 6, 7, 8};
	static const char *const needs[] = {"-R", "-L", "-P", "-A", "-z"};
	(void)state;
	for (size_t i = 0; i < sizeof(valid); i++) {
		char t[8];
		char *argv[] = {"persist", "-o", "-R", "-T", t, U1, NULL};

		snprintf(t, sizeof(t), "%u", valid[i]);
		assert_int_equal(parse_v(argv), 0);
		assert_int_equal(A.type, valid[i]);
	}
	/* hex, as sg_persist reads it */
	assert_int_equal(PARSE("-o", "-R", "--prout-type", "0x8", U1), 0);
	assert_int_equal(A.type, 8);
	assert_int_equal(PARSE("-o", "-R", "--prout_type=06", U1), 0);
	assert_int_equal(A.type, 6);
	/* an action that needs a type, without one */
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		char *argv[] = {"persist", "-o", (char *)needs[i], U1, NULL};

		assert_fails(31, argv, "--prout-type", "1, 3, 5, 6, 7 or 8");
	}
	assert_fails(31, ARGV("-o", "-R", U1), "--reserve needs --prout-type");
	assert_fails(31, ARGV("-o", "-M", "-X", "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	             "--register-move needs --prout-type");
	/* invalid types for an action that needs one */
	static const char *const bad[] = {"0", "2", "4", "9", "f"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"persist", "-o", "-P", "-T", (char *)bad[i], U1, NULL};
		char want[16];

		snprintf(want, sizeof(want), "'%s'", bad[i]);
		assert_fails(1, argv, "--prout-type", want, "--preempt");
	}
	/* does not fit the 4-bit field, whatever the action */
	assert_fails(1, ARGV("-o", "-G", "-T", "10", U1), "-T", "'10'");
	assert_fails(1, ARGV("-k", "--prout-type=x", U1), "--prout-type", "'x'");
	/* actions that do not need a type take any 4-bit value */
	assert_int_equal(PARSE("-o", "-G", "-T", "0", U1), 0);
	assert_int_equal(PARSE("-o", "-C", "-T", "2", U1), 0);
	assert_int_equal(A.type, 2);
	assert_int_equal(PARSE("-o", "-C", U1), 0);
	assert_false(A.type_given);
}

static void flags(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "-G", "-Y", "-Z", "-n", "-y", U1), 0);
	assert_true(A.all_tg_pt);
	assert_true(A.aptpl);
	assert_true(A.no_inquiry);
	assert_int_equal(A.readonly, 1);
	assert_int_equal(PARSE("-o", "-I", "--param-alltgpt", "--param-aptpl", "--no-inquiry",
	                       "--readonly", "--readonly", U1),
	                 0);
	assert_true(A.all_tg_pt);
	assert_true(A.aptpl);
	assert_true(A.no_inquiry);
	assert_int_equal(A.readonly, 2);
	assert_int_equal(PARSE("-o", "-G", "--param_alltgpt", "--param_aptpl", "--no_inquiry", U1),
	                 0);
	assert_true(A.all_tg_pt && A.aptpl && A.no_inquiry);
	assert_int_equal(PARSE("-HH", "-vvv", U1), 0);
	assert_int_equal(A.hex, 2);
	assert_int_equal(A.verbose, 3);
	assert_int_equal(PARSE("--hex", "--verbose", "-H", U1), 0);
	assert_int_equal(A.hex, 2);
	assert_int_equal(A.verbose, 1);
	assert_int_equal(PARSE("--json", U1), 0);
	assert_true(A.json);
	/* bundled short options, and an option after the URL */
	assert_int_equal(PARSE("-nik", U1, "-v"), 0);
	assert_true(A.no_inquiry);
	assert_int_equal(A.verbose, 1);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_KEYS);
	/* a unique abbreviation of a long option */
	assert_int_equal(PARSE("--read-res", U1), 0);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_RESERVATION);
}

/* ---- TransportIDs ---- */

static void tids(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "-G", "-S", "1", "-X", "iqn.1994-05.com.x:h,i,0x23d000000001",
	                       "--transport-id=iqn.1994-05.com.x:other", "--transport_id",
	                       "eui.0123456789ABCDEF,I,0X00023D000002", U1),
	                 0);
	assert_int_equal(A.n_tids, 3);
	assert_int_equal(A.tids[0].format, PRK_TID_FMT_PORT);
	assert_string_equal(A.tids[0].name, "iqn.1994-05.com.x:h");
	assert_true(A.tids[0].isid == 0x23d000000001ULL);
	assert_int_equal(A.tids[1].format, PRK_TID_FMT_DEVICE);
	assert_string_equal(A.tids[1].name, "iqn.1994-05.com.x:other");
	assert_int_equal(A.tids[2].format, PRK_TID_FMT_PORT);
	assert_string_equal(A.tids[2].name, "eui.0123456789ABCDEF");
	assert_true(A.tids[2].isid == 0x00023d000002ULL);

	/* sg_persist's hex byte list: a format-00b TransportID of
	 * "iqn.a" padded to 24 bytes, commas and single spaces */
	assert_int_equal(
	    PARSE("-o", "-G", "-X", "5,0,0,14,69,71,6e,2e,61 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", U1),
	    0);
	assert_int_equal(A.n_tids, 1);
	assert_int_equal(A.tids[0].format, PRK_TID_FMT_DEVICE);
	assert_string_equal(A.tids[0].name, "iqn.a");
	/* bytes not given are zero, as in sg_persist */
	assert_int_equal(PARSE("-o", "-G", "-X", "05,00,00,14,69,71,6E,2E,61", U1), 0);
	assert_string_equal(A.tids[0].name, "iqn.a");

	/* up to 16 */
	char *argv[2 + 2 * 17 + 2];
	int n = 0;
	argv[n++] = "persist";
	argv[n++] = "-oG";
	for (int i = 0; i < 16; i++) {
		argv[n++] = "-X";
		argv[n++] = "iqn.1994-05.com.x:h";
	}
	argv[n++] = U1;
	argv[n] = NULL;
	assert_int_equal(parse_v(argv), 0);
	assert_int_equal(A.n_tids, 16);
	argv[n - 1] = "-X";
	argv[n++] = "iqn.1994-05.com.x:17th";
	argv[n++] = U1;
	argv[n] = NULL;
	assert_fails(1, argv, "-X", "iqn.1994-05.com.x:17th", "more than 16");
}

static void bad_tids(void **state)
{
	(void)state;
	assert_fails(1, ARGV("-oG", "-X", "", U1), "-X", "''", "empty");
	assert_fails(1, ARGV("-oG", "-X", "iqn.x,i,0x23d00000001", U1), "'iqn.x,i,0x23d00000001'",
	             "12 hex digits");
	assert_fails(1, ARGV("-oG", "-X", "iqn.x,i,0x23d0000000012", U1), "12 hex digits");
	assert_fails(1, ARGV("-oG", "-X", "iqn.x,i,0x23d00000000g", U1), "12 hex digits");
	assert_fails(1, ARGV("-oG", "-X", "iqn.x,t,0x23d000000001", U1), "',i,0x'");
	assert_fails(1, ARGV("-oG", "--transport-id", "iqn.a b", U1), "--transport-id", "'iqn.a b'",
	             "not a valid iSCSI name");
	char longname[300];
	memcpy(longname, "iqn.", 4);
	memset(longname + 4, 'a', 220);
	longname[224] = '\0';
	assert_fails(1, ARGV("-oG", "-X", longname, U1), "longer than 223");
	assert_fails(1, ARGV("-oG", "-X", "sas,5000c50005b32001", U1), "'sas,5000c50005b32001'",
	             "only iSCSI");
	assert_fails(1, ARGV("-oG", "-X", "-", U1), "'-'", "stdin or a file");
	assert_fails(1, ARGV("-oG", "-X", "file=tids.txt", U1), "'file=tids.txt'",
	             "stdin or a file");
	assert_fails(1, ARGV("-oG", "-X", "5,0,0,100", U1), "larger than ff", "position 7");
	assert_fails(1, ARGV("-oG", "-X", "5,,0", U1), "expected a hex byte at position 3");
	assert_fails(1, ARGV("-oG", "-X", "5,0,", U1), "expected a hex byte at position 5");
	/* a SAS TransportID in hex: not iSCSI */
	assert_fails(1, ARGV("-oG", "-X", "6,0,0,0,50,0,c5,0,5,b3,20,1", U1),
	             "not an iSCSI TransportID (PROTOCOL IDENTIFIER 6)");
	/* ADDITIONAL LENGTH not a multiple of 4 */
	assert_fails(1, ARGV("-oG", "-X", "5,0,0,13,69,71,6e,2e,61", U1), "ADDITIONAL LENGTH");
	/* more bytes than the TransportID holds */
	assert_fails(
	    1,
	    ARGV("-oG", "-X", "5,0,0,14,69,71,6e,2e,61,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0", U1),
	    "28 bytes given", "makes it 24");
	/* prk_persist_tid_parse directly */
	struct prk_tid t;
	char err[128];
	assert_int_equal(
	    prk_persist_tid_parse("naa.60014051234,i,0x400001370000", &t, err, sizeof(err)), 0);
	assert_int_equal(t.format, PRK_TID_FMT_PORT);
	assert_true(t.isid == 0x400001370000ULL);
	assert_int_equal(prk_persist_tid_parse("iqn.x,i,0x", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "12 hex digits"));
}

static void register_move(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-o", "-M", "-T", "6", "-K", "a", "-S", "b", "-U", "-Q", "0x10",
	                       "-Z", "-X", "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	                 0);
	assert_true(A.unreg);
	assert_int_equal(A.rtpi, 0x10);
	assert_true(A.rtpi_given);
	assert_true(A.aptpl);
	assert_int_equal(A.rk, 0xa);
	assert_int_equal(A.sark, 0xb);
	assert_int_equal(PARSE("-o", "-M", "-T", "6", "--unreg", "--relative-target-port=ffff",
	                       "-X", "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	                 0);
	assert_int_equal(A.rtpi, 0xffff);
	assert_int_equal(PARSE("-o", "-M", "-T", "6", "--param-unreg", "--relative_target_port=1",
	                       "-X", "iqn.1994-05.com.x:h,i,0x23d000000001", U1),
	                 0);
	assert_true(A.unreg);
	assert_int_equal(A.rtpi, 1);

	assert_fails(31, ARGV("-o", "-M", "-T", "6", U1), "--register-move needs exactly one",
	             "0 given");
	assert_fails(31,
	             ARGV("-o", "-M", "-T", "6", "-X", "iqn.a,i,0x000000000001", "-X",
	                  "iqn.b,i,0x000000000001", U1),
	             "2 given");
	assert_fails(1, ARGV("-o", "-M", "-T", "6", "-X", "iqn.1994-05.com.x:h", U1),
	             "'iqn.1994-05.com.x:h'", "initiator port");
	assert_fails(1,
	             ARGV("-o", "-M", "-T", "6", "-Q", "10000", "-X", "iqn.a,i,0x000000000001", U1),
	             "-Q", "'10000'");
	assert_fails(1, ARGV("-o", "-M", "-T", "6", "-Q", "zz", "-X", "iqn.a,i,0x000000000001", U1),
	             "-Q", "'zz'");
	assert_fails(31, ARGV("-o", "-R", "-T", "1", "-U", U1),
	             "--unreg is only for --register-move");
	assert_fails(31, ARGV("-o", "-G", "-Q", "0", U1),
	             "--relative-target-port is only for --register-move");
	/* checked with PR IN too, as sg_persist does */
	assert_fails(31, ARGV("-k", "--unreg", U1), "--unreg");
}

static void misplaced_params(void **state)
{
	(void)state;
	assert_fails(31, ARGV("-o", "-R", "-T", "1", "-X", "iqn.a", U1),
	             "--transport-id is only for --register and --register-move", "--reserve");
	assert_fails(31, ARGV("-o", "-I", "-X", "iqn.a", U1), "--register-ignore");
	assert_fails(31, ARGV("-o", "-C", "-Y", U1),
	             "--param-alltgpt is only for --register and --register-ignore", "--clear");
	assert_fails(31, ARGV("-o", "-M", "-T", "6", "-Y", "-X", "iqn.a,i,0x000000000001", U1),
	             "--param-alltgpt", "--register-move");
	/* APTPL goes anywhere (ignored by the standard where it means nothing) */
	assert_int_equal(PARSE("-o", "-C", "-Z", U1), 0);
	/* with PR IN, TransportIDs and ALL_TG_PT are ignored as in sg_persist */
	assert_int_equal(PARSE("-k", "-Y", "-X", "iqn.a", U1), 0);
	assert_int_equal(A.n_tids, 1);
}

/* ---- conflicts ---- */

static void conflicts(void **state)
{
	(void)state;
	assert_fails(31, ARGV("--in", "--out", "-G", U1), "--in and --out");
	assert_fails(31, ARGV("-i", "-o", U1), "--in and --out");
	assert_fails(31, ARGV("-o", U1), "--out needs one PR OUT service action");
	assert_fails(31, ARGV("-o", "-k", U1), "--read-keys is a PR IN service action");
	assert_fails(31, ARGV("-o", "-G", "-s", U1), "--read-full-status is a PR IN");
	assert_fails(31, ARGV("-G", U1), "--register is a PR OUT service action", "--out");
	assert_fails(31, ARGV("-i", "--preempt-abort", U1), "--preempt-abort", "--out");
	assert_fails(31, ARGV("-k", "-r", U1), "--read-keys and --read-reservation");
	assert_fails(31, ARGV("-c", "-s", "-k", U1),
	             "--report-capabilities and --read-full-status");
	assert_fails(31, ARGV("-o", "-R", "-L", "-T", "1", U1), "--reserve and --release",
	             "choose one");
	assert_fails(31, ARGV("-o", "-G", "-I", U1), "--register and --register-ignore");
	assert_fails(31, ARGV("--json", "-H", U1), "--json and --hex");
}

/* ---- URLs ---- */

static void urls(void **state)
{
	(void)state;
	assert_int_equal(
	    PARSE(U1, U2, "-d", "iscsi://[fe80::1%eth0]:3262/iqn.2026-01.io.prkit:t1/3",
	          "--device=iscsi://chap%secret@store-1.example.com/naa.6001405/16383"),
	    0);
	assert_int_equal(A.n_urls, 4);
	/* options first, then operands (getopt moves the operands last) */
	assert_string_equal(A.urls[0].host, "fe80::1%eth0");
	assert_int_equal(A.urls[0].port, 3262);
	assert_int_equal(A.urls[0].lun, 3);
	assert_string_equal(A.urls[1].host, "store-1.example.com");
	assert_true(A.urls[1].has_credentials);
	assert_string_equal(A.urls[1].target, "naa.6001405");
	assert_int_equal(A.urls[1].lun, 16383);
	assert_string_equal(A.urls[2].host, "192.0.2.1");
	assert_string_equal(A.urls[3].host, "192.0.2.2");
	assert_int_equal(A.urls[3].port, 3261);
	assert_int_equal(A.urls[3].lun, 7);
	assert_string_equal(A.urls[3].target, "iqn.2026-01.io.prkit:t1");

	/* eight, then a ninth */
	assert_int_equal(PARSE(U1, U1, U1, U1, U1, U1, U1, U2), 0);
	assert_int_equal(A.n_urls, 8);
	assert_fails(1, ARGV(U1, U1, U1, U1, U1, U1, U1, U1, U2), "too many URLs", "at most 8", U2);
	/* options are taken before operands: the ninth is the -d */
	assert_fails(1,
	             ARGV("-d", U1, "-d", U1, "-d", U1, "-d", U1, "-d", U1, "-d", U1, "-d", U1,
	                  "-d", U1, "--device", U2),
	             "--device", "more than 8", U2);
	assert_fails(1, ARGV("-d", U2, U1, U1, U1, U1, U1, U1, U1, "iscsi://h/iqn.ninth/0"),
	             "too many URLs", "iscsi://h/iqn.ninth/0");
	assert_fails(1, ARGV("-k"), "no URL given");
}

static void bad_urls(void **state)
{
	static const struct {
		const char *url;
		const char *why;
	} cases[] = {
	    {"/dev/sdb", "does not start with iscsi://"},
	    {"http://h/iqn.a/0", "does not start with iscsi://"},
	    {"iscsi://", "no /target-iqn/lun"},
	    {"iscsi://host", "no /target-iqn/lun"},
	    {"iscsi:///iqn.a/0", "empty host"},
	    {"iscsi://ho$t/iqn.a/0", "character '$' in the host"},
	    {"iscsi://h:/iqn.a/0", "empty port"},
	    {"iscsi://h:0/iqn.a/0", "port '0' is out of range"},
	    {"iscsi://h:65536/iqn.a/0", "port '65536' is out of range"},
	    {"iscsi://h:123456789/iqn.a/0", "out of range"},
	    {"iscsi://h:12a/iqn.a/0", "port '12a' is not a decimal number"},
	    {"iscsi://[::1/iqn.a/0", "'[' without ']'"},
	    {"iscsi://[::1]x/iqn.a/0", "'x' after the IPv6 address"},
	    {"iscsi://[]/iqn.a/0", "empty host"},
	    {"iscsi://@h/iqn.a/0", "empty user name"},
	    {"iscsi://%pw@h/iqn.a/0", "empty user name"},
	    {"iscsi://h//0", "empty target name"},
	    {"iscsi://h/iqn.a", "no /lun"},
	    {"iscsi://h/target/0", "does not start with iqn., eui. or naa."},
	    {"iscsi://h/iqn.a,b/0", "not a valid iSCSI name"},
	    {"iscsi://h/iqn.a/", "empty LUN"},
	    {"iscsi://h/iqn.a/1a", "LUN '1a' is not a decimal number"},
	    {"iscsi://h/iqn.a/0/", "LUN '0/' is not a decimal number"},
	    {"iscsi://h/iqn.a/16384", "LUN '16384' is out of range 0..16383"},
	    {"iscsi://h/iqn.a/99999999999999999999999", "out of range"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = {"persist", "-k", (char *)cases[i].url, NULL};
		char *argv_d[] = {"persist", "-d", (char *)cases[i].url, NULL};
		char want[300];

		snprintf(want, sizeof(want), "URL '%s': ", cases[i].url);
		assert_fails(1, argv, want, cases[i].why);
		snprintf(want, sizeof(want), "-d '%s': ", cases[i].url);
		assert_fails(1, argv_d, want, cases[i].why);
	}
	char longhost[300] = "iscsi://";
	memset(longhost + 8, 'h', 256);
	strcpy(longhost + 264, "/iqn.a/0");
	assert_fails(1, ARGV(longhost), "host longer than 255");
	char longtarget[300] = "iscsi://h/iqn.";
	memset(longtarget + 14, 't', 220);
	strcpy(longtarget + 234, "/0");
	assert_fails(1, ARGV(longtarget), "target name longer than 223");
}

/* ---- our options ---- */

static void initiator_timeout(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--initiator", "iqn.2026-01.io.prkit:node1", "--timeout=30", U1), 0);
	assert_true(A.initiator_given);
	assert_string_equal(A.initiator, "iqn.2026-01.io.prkit:node1");
	assert_int_equal(A.timeout, 30);
	assert_int_equal(PARSE("--timeout", "86400", U1), 0);
	assert_int_equal(A.timeout, 86400);

	assert_fails(1, ARGV("--initiator", "iqn.a b", U1), "--initiator", "'iqn.a b'");
	assert_fails(1, ARGV("--initiator=iqn.a,b", U1), "--initiator", "'iqn.a,b'");
	assert_fails(1, ARGV("--initiator=", U1), "--initiator", "''");
	char longname[300];
	memset(longname, 'a', 224);
	longname[224] = '\0';
	assert_fails(1, ARGV("--initiator", longname, U1), "--initiator", "not a valid iSCSI name");
	assert_fails(1, ARGV("--timeout=0", U1), "--timeout", "'0'", "1 to 86400");
	assert_fails(1, ARGV("--timeout", "86401", U1), "--timeout", "'86401'");
	assert_fails(1, ARGV("--timeout", "1s", U1), "--timeout", "'1s'");
	assert_fails(1, ARGV("--timeout", "-5", U1), "--timeout", "'-5'");
}

static void alloc_len(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-l", "100", U1), 0);
	assert_int_equal(A.alloc_len, 0x100);
	assert_int_equal(PARSE("--alloc-length=ffff", U1), 0);
	assert_int_equal(A.alloc_len, 0xffff);
	assert_int_equal(PARSE("--alloc_length=0", U1), 0);
	assert_int_equal(A.alloc_len, 0);
	assert_int_equal(PARSE("-m", "512", U1), 0);
	assert_int_equal(A.alloc_len, 512);
	assert_int_equal(PARSE("--maxlen=0x200", U1), 0);
	assert_int_equal(A.alloc_len, 512);
	assert_int_equal(PARSE("--maxlen", "200h", U1), 0);
	assert_int_equal(A.alloc_len, 512);
	assert_fails(1, ARGV("-l", "10000", U1), "-l", "'10000'");
	assert_fails(1, ARGV("--alloc-length", "1k", U1), "--alloc-length", "'1k'");
	assert_fails(1, ARGV("-m", "70000", U1), "-m", "'70000'");
	assert_fails(1, ARGV("--maxlen=8k", U1), "--maxlen", "'8k'");
	assert_fails(1, ARGV("--maxlen=h", U1), "--maxlen", "'h'");
	assert_fails(1, ARGV("--maxlen=0x10h", U1), "--maxlen", "'0x10h'");
}

/* ---- help, version, unknown options ---- */

static void help_version(void **state)
{
	(void)state;
	assert_int_equal(PARSE("-h"), 0);
	assert_int_equal(A.help, 1);
	assert_int_equal(PARSE("-hh"), 0);
	assert_int_equal(A.help, 2);
	assert_int_equal(PARSE("--help", "-k", "-r"), 0); /* nothing else is checked */
	assert_int_equal(A.help, 1);
	assert_int_equal(PARSE("-?"), 0);
	assert_int_equal(A.help, 1);
	assert_int_equal(PARSE("-V"), 0);
	assert_true(A.version);
	assert_int_equal(PARSE("--version", "bad-url"), 0);
	assert_true(A.version);
	/* a bad value is still an error */
	assert_fails(1, ARGV("-h", "-K", "zz"), "-K", "'zz'");
}

static void unknown_options(void **state)
{
	(void)state;
	assert_fails(1, ARGV("-q", U1), "unknown option '-q'");
	assert_fails(1, ARGV("-nq", U1), "unknown option '-q'");
	assert_fails(1, ARGV("--bogus", U1), "'--bogus'");
	assert_fails(1, ARGV("--json=1", U1), "'--json=1'");
	assert_fails(1, ARGV("--re", U1), "ambiguous", "'--re'");
	assert_fails(1, ARGV(U1, "-K"), "-K needs a value");
	assert_fails(1, ARGV(U1, "-oGK"), "-K needs a value");
	assert_fails(1, ARGV(U1, "--param-rk"), "--param-rk needs a value");
	assert_fails(1, ARGV(U1, "--initiator"), "--initiator needs a value");
	assert_fails(1, ARGV(U1, "--timeout"), "--timeout needs a value");
	/* the parser starts afresh every time */
	assert_int_equal(PARSE("-r", U1), 0);
	assert_int_equal(A.prin_sa, PRK_PRIN_READ_RESERVATION);
}

/* ---- the rest of the interface ---- */

static void default_initiator(void **state)
{
	char buf[PRK_ISCSI_NAME_MAX + 1], err[200], host[256];
	(void)state;

	setenv(PRK_PERSIST_INITIATOR_ENV, "iqn.2026-01.io.prkit:from-env", 1);
	assert_int_equal(prk_persist_default_initiator(buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "iqn.2026-01.io.prkit:from-env");

	setenv(PRK_PERSIST_INITIATOR_ENV, "not valid", 1);
	assert_int_equal(prk_persist_default_initiator(buf, sizeof(buf), err, sizeof(err)), -1);
	assert_string_equal(err, "PRKIT_INITIATOR_NAME='not valid' is not a valid iSCSI name");

	unsetenv(PRK_PERSIST_INITIATOR_ENV);
	assert_int_equal(prk_persist_default_initiator(buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(strncmp(buf, "iqn.2026-11.io.prkit:host-", 26), 0);
	assert_true(prk_iscsi_name_valid(buf));
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_string_equal(buf + 26, host);
	for (const char *p = buf + 26; *p; p++)
		assert_false(*p >= 'A' && *p <= 'Z');

	/* empty means unset */
	setenv(PRK_PERSIST_INITIATOR_ENV, "", 1);
	assert_int_equal(prk_persist_default_initiator(buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(strncmp(buf, "iqn.2026-11.io.prkit:host-", 26), 0);
	unsetenv(PRK_PERSIST_INITIATOR_ENV);
}

static char *capture(void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void notes_fn(FILE *f, const void *arg)
{
	prk_persist_print_notes(f, arg);
}

static void usage1_fn(FILE *f, const void *arg)
{
	(void)arg;
	prk_persist_usage(f, 1);
}

static void usage2_fn(FILE *f, const void *arg)
{
	(void)arg;
	prk_persist_usage(f, 2);
}

static void notes_and_usage(void **state)
{
	char *s;
	(void)state;

	assert_int_equal(PARSE(U1), 0);
	s = capture(notes_fn, &A);
	assert_string_equal(s, ">> No service action given; assume Persistent Reserve In command\n"
	                       ">> with Read Keys service action\n");
	free(s);
	assert_int_equal(PARSE("--json", U1), 0);
	s = capture(notes_fn, &A);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(PARSE("-k", U1), 0);
	s = capture(notes_fn, &A);
	assert_string_equal(s, "");
	free(s);

	s = capture(usage1_fn, NULL);
	assert_int_equal(strncmp(s, "usage: prkit persist [OPTIONS] URL [URL...]\n", 44), 0);
	static const char *const main_opts[] = {"--read-keys",
	                                        "--read-reservation",
	                                        "--report-capabilities",
	                                        "--read-full-status",
	                                        "--register",
	                                        "--register-ignore",
	                                        "--reserve",
	                                        "--release",
	                                        "--clear",
	                                        "--preempt",
	                                        "--preempt-abort",
	                                        "--register-move",
	                                        "--replace-lost",
	                                        "--param-rk",
	                                        "--param-sark",
	                                        "--prout-type",
	                                        "--unreg",
	                                        "--in",
	                                        "--out"};
	for (size_t i = 0; i < sizeof(main_opts) / sizeof(main_opts[0]); i++)
		assert_non_null(strstr(s, main_opts[i]));
	assert_null(strstr(s, "--transport-id"));
	free(s);
	s = capture(usage2_fn, NULL);
	static const char *const other_opts[] = {"--device",
	                                         "--hex",
	                                         "--alloc-length",
	                                         "--maxlen",
	                                         "--no-inquiry",
	                                         "--relative-target-port",
	                                         "--transport-id",
	                                         "--param-alltgpt",
	                                         "--param-aptpl",
	                                         "--readonly",
	                                         "--verbose",
	                                         "--version",
	                                         "--json",
	                                         "--initiator",
	                                         "--timeout",
	                                         "PRKIT_INITIATOR_NAME",
	                                         "8  exclusive access, all registrants"};
	for (size_t i = 0; i < sizeof(other_opts) / sizeof(other_opts[0]); i++)
		assert_non_null(strstr(s, other_opts[i]));
	free(s);
}

static void url_parse_direct(void **state)
{
	struct prk_persist_url u;
	char err[200];
	(void)state;

	assert_int_equal(
	    prk_persist_url_parse("iscsi://user@10.0.0.1:860/iqn.a/12", &u, err, sizeof(err)), 0);
	assert_true(u.has_credentials);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 860);
	assert_string_equal(u.target, "iqn.a");
	assert_int_equal(u.lun, 12);
	assert_int_equal(prk_persist_url_parse("iscsi://h/iqn.a", &u, err, sizeof(err)), -1);
	assert_string_equal(err, "no /lun after the target name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults),
	    cmocka_unit_test(prin_actions),
	    cmocka_unit_test(prout_actions),
	    cmocka_unit_test(fence_scsi_lines),
	    cmocka_unit_test(keys),
	    cmocka_unit_test(bad_keys),
	    cmocka_unit_test(types),
	    cmocka_unit_test(flags),
	    cmocka_unit_test(tids),
	    cmocka_unit_test(bad_tids),
	    cmocka_unit_test(register_move),
	    cmocka_unit_test(misplaced_params),
	    cmocka_unit_test(conflicts),
	    cmocka_unit_test(urls),
	    cmocka_unit_test(bad_urls),
	    cmocka_unit_test(initiator_timeout),
	    cmocka_unit_test(alloc_len),
	    cmocka_unit_test(help_version),
	    cmocka_unit_test(unknown_options),
	    cmocka_unit_test(default_initiator),
	    cmocka_unit_test(notes_and_usage),
	    cmocka_unit_test(url_parse_direct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
