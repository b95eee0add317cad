/* The copy manager's configuration: its defaults, every field and what is
 * wrong with it (named by its JSON path), "copy_manager": false, the
 * per-LU "third_party_reservations", and the identities no one else may
 * have (a portal on its rtpi, an ACL with its initiator name). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cm.h"
#include "config.h"

static char err[1024];

/* A configuration with one portal (rtpi 1, or the given field text) and
 * one RAM LU, plus `extra` top-level fields and `lun_extra` LU fields. */
static void build(char *out, size_t cap, const char *portal_extra, const char *lun_extra,
                  const char *acl, const char *extra)
{
	snprintf(out, cap,
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0%s}],"
	         " \"targets\": [{\"name\": \"iqn.2026-12.io.prkit:t\"%s,"
	         "  \"luns\": [{\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}%s}]}]%s}",
	         portal_extra, acl, lun_extra, extra);
}

static void expect_error(const char *json, const char *want)
{
	struct prk_cfg cfg;
	err[0] = 0;
	assert_int_equal(prk_cfg_parse(json, &cfg, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("got \"%s\", wanted \"%s\"", err, want);
}

static void test_defaults(void **state)
{
	(void)state;
	char j[1024];
	struct prk_cfg cfg;
	build(j, sizeof(j), "", "", "", "");
	assert_int_equal(prk_cfg_parse(j, &cfg, err, sizeof(err)), 0);
	assert_false(cfg.copy_manager.disabled);
	assert_string_equal(cfg.copy_manager.initiator, PRK_CM_DEFAULT_INITIATOR);
	assert_true(cfg.copy_manager.isid == PRK_CM_DEFAULT_ISID);
	assert_int_equal(cfg.copy_manager.rtpi, PRK_CM_DEFAULT_RTPI);
	assert_int_equal(cfg.copy_manager.max_copies, 0);
	assert_false(cfg.targets[0].luns[0].third_party_pr);
	prk_cfg_free(&cfg);
}

static void test_fields(void **state)
{
	(void)state;
	char j[1024];
	struct prk_cfg cfg;
	build(j, sizeof(j), "", ", \"third_party_reservations\": true", "",
	      ", \"copy_manager\": {\"initiator\": \"iqn.2026-12.com.example:cm\","
	      " \"isid\": \"0xABCDEF012345\", \"rtpi\": 9, \"max_copies\": 64}");
	assert_int_equal(prk_cfg_parse(j, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.copy_manager.initiator, "iqn.2026-12.com.example:cm");
	assert_true(cfg.copy_manager.isid == 0xabcdef012345ULL);
	assert_int_equal(cfg.copy_manager.rtpi, 9);
	assert_int_equal(cfg.copy_manager.max_copies, 64);
	assert_true(cfg.targets[0].luns[0].third_party_pr);
	prk_cfg_free(&cfg);

	build(j, sizeof(j), "", "", "", ", \"copy_manager\": false");
	assert_int_equal(prk_cfg_parse(j, &cfg, err, sizeof(err)), 0);
	assert_true(cfg.copy_manager.disabled);
	prk_cfg_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	char j[1024];
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": true");
	expect_error(j, "copy_manager: true is not a setting");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": 3");
	expect_error(j, "copy_manager: must be an object, or false");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"isdi\": \"0x1\"}");
	expect_error(j, "copy_manager: unknown field \"isdi\"");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"initiator\": \"bob\"}");
	expect_error(j, "copy_manager.initiator: \"bob\" is not an iSCSI name");
	static const char *const bad_isids[] = {"\"1\"",    "\"0x\"",    "\"0x1234567890abc\"",
	                                        "\"0xzz\"", "\"0x12 \"", "5"};
	for (size_t i = 0; i < sizeof(bad_isids) / sizeof(bad_isids[0]); i++) {
		char extra[128];
		snprintf(extra, sizeof(extra), ", \"copy_manager\": {\"isid\": %s}", bad_isids[i]);
		build(j, sizeof(j), "", "", "", extra);
		expect_error(j, "copy_manager.isid: must be a string of 1 to 12 hex digits");
	}
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"rtpi\": 0}");
	expect_error(j, "copy_manager.rtpi: 0 is out of range 1..65535");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"rtpi\": 65536}");
	expect_error(j, "copy_manager.rtpi: 65536 is out of range 1..65535");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"max_copies\": 15}");
	expect_error(j, "copy_manager.max_copies: 15 is out of range 16..255");
	build(j, sizeof(j), "", ", \"third_party_reservations\": 1", "", "");
	expect_error(j, "targets[0].luns[0].third_party_reservations: must be true or false");
}

/* Nobody else may be the copy manager's I_T nexus: not through a portal
 * on its relative target port, not by logging in with its name. */
static void test_identity_conflicts(void **state)
{
	(void)state;
	char j[1024];
	struct prk_cfg cfg;
	build(j, sizeof(j), ", \"rtpi\": 65535", "", "", "");
	expect_error(j, "portals[0].rtpi: 65535 is the copy manager's relative target port "
	                "(copy_manager.rtpi)");
	build(j, sizeof(j), "", "", "", ", \"copy_manager\": {\"rtpi\": 1}");
	expect_error(j, "portals[0].rtpi: 1 is the copy manager's relative target port");
	/* Off: its rtpi is free. */
	build(j, sizeof(j), ", \"rtpi\": 65535", "", "", ", \"copy_manager\": false");
	assert_int_equal(prk_cfg_parse(j, &cfg, err, sizeof(err)), 0);
	prk_cfg_free(&cfg);
	build(j, sizeof(j), "", "",
	      ", \"acls\": [{\"initiator\": \"iqn.2026-12.io.prkit:a\"},"
	      " {\"initiator\": \"IQN.2026-12.io.prkit:copy-manager\"}]",
	      "");
	expect_error(j, "targets[0].acls[1].initiator: IQN.2026-12.io.prkit:copy-manager is "
	                "the copy manager's initiator name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_identity_conflicts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
