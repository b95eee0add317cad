/* The unit serial number of each LU (src/target/config_serial.c): the
 * default is derived from the target's name and the LUN number, so LUs of
 * different targets, or a LU added at run time, never share one (nor,
 * through it, an NAA identifier); and a configuration in which two LUs
 * have one serial is refused, naming both. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "backstore.h"
#include "config.h"
#include "lu.h"

#define T_A "iqn.2026-11.io.prkit:a"
#define T_B "iqn.2026-11.io.prkit:b"
#define RAM "\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}"

static char err[512];

/* Targets A and B with the given luns arrays. */
static int parse2(const char *luns_a, const char *luns_b, struct prk_cfg *cfg)
{
	char json[2048];
	snprintf(json, sizeof(json),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	         " \"targets\": [{\"name\": \"" T_A "\", \"luns\": [%s]},"
	         " {\"name\": \"" T_B "\", \"luns\": [%s]}]}",
	         luns_a, luns_b);
	err[0] = 0;
	return prk_cfg_parse(json, cfg, err, sizeof(err));
}

/* The NAA identifier (VPD 83h) a LU with this serial reports. */
static void naa_of(const char *serial, uint8_t naa[16])
{
	char e[256];
	struct prk_lu_config lc = {.block_size = 512, .num_blocks = 2048};
	snprintf(lc.serial, sizeof(lc.serial), "%s", serial);
	struct prk_bs *bs = prk_bs_ram_open(1 << 20, e, sizeof(e));
	assert_non_null(bs);
	struct prk_lu *lu = prk_lu_new(&lc, bs, e, sizeof(e));
	if (!lu)
		fail_msg("prk_lu_new: %s", e);
	memcpy(naa, prk_lu_naa(lu), 16);
	prk_lu_free(lu);
	prk_bs_close(bs);
}

/* LUN 0 of two targets, neither with a serial: two serials, two NAAs
 * (both were "prkit0000" when the default counted LUs per target). */
static void test_two_targets_differ(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	if (parse2("{" RAM "}, {" RAM "}", "{" RAM "}", &cfg))
		fail_msg("%s", err);
	const char *a0 = cfg.targets[0].luns[0].serial, *a1 = cfg.targets[0].luns[1].serial;
	const char *b0 = cfg.targets[1].luns[0].serial;
	assert_string_not_equal(a0, b0);
	assert_string_not_equal(a0, a1);
	assert_string_not_equal(a1, b0);
	uint8_t na0[16], nb0[16];
	naa_of(a0, na0);
	naa_of(b0, nb0);
	assert_memory_not_equal(na0, nb0, 16);
	/* printable, within VPD 80h's 32 characters, accepted by the LU */
	for (const char *s = a0; *s; s++)
		assert_true(*s > 0x20 && *s < 0x7f);
	assert_true(strlen(a0) <= 32);
	prk_cfg_free(&cfg);
}

/* Derived from the target's name (without case, as iSCSI names compare)
 * and the LUN number, after "lun" is read: not from the position. */
static void test_default_follows_name_and_lun(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	char want[33], upper[33];
	if (parse2("{\"lun\": 5, " RAM "}", "", &cfg))
		fail_msg("%s", err);
	prk_cfg_default_serial(T_A, 5, want, sizeof(want));
	assert_string_equal(cfg.targets[0].luns[0].serial, want);
	prk_cfg_default_serial("IQN.2026-11.IO.PRKIT:A", 5, upper, sizeof(upper));
	assert_string_equal(upper, want);
	/* "prkit", 8 hex digits of the name's hash, 4 of the LUN */
	assert_int_equal(strlen(want), 17);
	assert_memory_equal(want, "prkit", 5);
	assert_string_equal(want + 13, "0005");
	prk_cfg_free(&cfg);

	/* add-lu's parser: the same serial for the same target and LUN,
	 * whatever the LUN count it is given. */
	struct prk_cfg_lun l;
	assert_int_equal(
	    prk_cfg_parse_lun_text("{\"lun\": 5, " RAM "}", "lun", T_A, 1, &l, err, sizeof(err)),
	    0);
	assert_string_equal(l.serial, want);
	/* An explicit serial is kept as given. */
	assert_int_equal(prk_cfg_parse_lun_text("{\"serial\": \"Mine-1\", " RAM "}", "lun", T_A, 0,
	                                        &l, err, sizeof(err)),
	                 0);
	assert_string_equal(l.serial, "Mine-1");
}

/* Two LUs with one serial, explicit or default, are refused with both
 * named; serials compare exactly, so "x" and "X" are two. */
static void test_duplicates_refused(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(
	    parse2("{\"serial\": \"x\", " RAM "}", "{\"serial\": \"x\", " RAM "}", &cfg), -1);
	assert_string_equal(err, "targets[1].luns[0].serial: 'x' is already used by "
	                         "targets[0].luns[0]: two LUs with one serial have one NAA "
	                         "identifier");
	/* within one target */
	assert_int_equal(parse2("{\"serial\": \"s1\", " RAM "}, {\"lun\": 3, " RAM
	                        "}, {\"lun\": 7, \"serial\": \"s1\", " RAM "}",
	                        "", &cfg),
	                 -1);
	assert_string_equal(err, "targets[0].luns[2].serial: 's1' is already used by "
	                         "targets[0].luns[0]: two LUs with one serial have one NAA "
	                         "identifier");
	/* an explicit serial that is another LU's default */
	char def[33], lun[128];
	prk_cfg_default_serial(T_A, 0, def, sizeof(def));
	snprintf(lun, sizeof(lun), "{\"serial\": \"%s\", " RAM "}", def);
	assert_int_equal(parse2("{" RAM "}", lun, &cfg), -1);
	char want[256];
	snprintf(want, sizeof(want),
	         "targets[1].luns[0].serial: '%s' is already used by targets[0].luns[0]: two LUs "
	         "with one serial have one NAA identifier",
	         def);
	assert_string_equal(err, want);
	/* the first repeat in the file is named, with its first user */
	assert_int_equal(
	    parse2("{\"serial\": \"q\", " RAM "}, {\"lun\": 1, \"serial\": \"p\", " RAM "}",
	           "{\"serial\": \"p\", " RAM "}, {\"lun\": 1, \"serial\": \"q\", " RAM "}", &cfg),
	    -1);
	assert_non_null(strstr(err, "targets[1].luns[0].serial: 'p' is already used by "
	                            "targets[0].luns[1]"));
	/* case differs: two serials */
	if (parse2("{\"serial\": \"x\", " RAM "}", "{\"serial\": \"X\", " RAM "}", &cfg))
		fail_msg("%s", err);
	prk_cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_targets_differ),
	    cmocka_unit_test(test_default_follows_name_and_lun),
	    cmocka_unit_test(test_duplicates_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
