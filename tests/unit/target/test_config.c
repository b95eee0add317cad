/* prkitd's configuration parser: portals[].alua_state,
 * luns[].persistent_reservations and luns[].readonly (defaults, every accepted value, and
 * rejected values with an error naming the JSON path), also through the
 * LUN parser used by the admin socket's add-lu. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lu.h"

#define TARGET "{\"name\": \"iqn.2026-11.io.prkit:t\", \"luns\": [%s]}"
#define LUN_RAM "{\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}%s}"

static char err[512];

/* A configuration with two portals (the second's extra fields are
 * portal2, e.g. ", \"alua_state\": \"standby\"") and one LUN (extra
 * fields lun). */
static int parse(const char *portal2, const char *lun, struct prk_cfg *cfg)
{
	char l[256], json[1024];
	snprintf(l, sizeof(l), LUN_RAM, lun);
	snprintf(json, sizeof(json),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0},"
	         " {\"address\": \"127.0.0.1\", \"port\": 0%s}],"
	         " \"targets\": [" TARGET "]}",
	         portal2, l);
	err[0] = 0;
	return prk_cfg_parse(json, cfg, err, sizeof(err));
}

static void test_alua_default(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse("", "", &cfg), 0);
	assert_int_equal(cfg.n_portals, 2);
	assert_int_equal(cfg.portals[0].alua_state, PRK_LU_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(cfg.portals[1].alua_state, PRK_LU_ALUA_ACTIVE_OPTIMIZED);
	prk_cfg_free(&cfg);
}

static void test_alua_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum prk_lu_alua_state state;
	} ok[] = {
	    {"active_optimized", PRK_LU_ALUA_ACTIVE_OPTIMIZED},
	    {"active_non_optimized", PRK_LU_ALUA_ACTIVE_NON_OPTIMIZED},
	    {"standby", PRK_LU_ALUA_STANDBY},
	    {"unavailable", PRK_LU_ALUA_UNAVAILABLE},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char p[128];
		struct prk_cfg cfg;
		snprintf(p, sizeof(p), ", \"alua_state\": \"%s\"", ok[i].name);
		if (parse(p, "", &cfg))
			fail_msg("%s: %s", ok[i].name, err);
		assert_int_equal(cfg.portals[0].alua_state, PRK_LU_ALUA_ACTIVE_OPTIMIZED);
		assert_int_equal(cfg.portals[1].alua_state, ok[i].state);
		prk_cfg_free(&cfg);
	}
}

static void test_alua_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "\"Standby\"", "\"optimized\"", "\"transitioning\"", "\"\"", "2",
	    "true",        "null",          "[\"standby\"]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char p[128];
		struct prk_cfg cfg;
		snprintf(p, sizeof(p), ", \"alua_state\": %s", bad[i]);
		assert_int_equal(parse(p, "", &cfg), -1);
		if (strncmp(err, "portals[1].alua_state: ", 23) != 0)
			fail_msg("%s: %s", bad[i], err);
		assert_non_null(strstr(err, "standby"));
	}
	/* A typo in the key is an unknown field. */
	struct prk_cfg cfg;
	assert_int_equal(parse(", \"alua\": \"standby\"", "", &cfg), -1);
	assert_string_equal(err, "portals[1]: unknown field \"alua\"");
}

static void test_pr_flag(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse("", "", &cfg), 0);
	assert_false(cfg.targets[0].luns[0].no_pr);
	prk_cfg_free(&cfg);
	assert_int_equal(parse("", ", \"persistent_reservations\": true", &cfg), 0);
	assert_false(cfg.targets[0].luns[0].no_pr);
	prk_cfg_free(&cfg);
	assert_int_equal(parse("", ", \"persistent_reservations\": false", &cfg), 0);
	assert_true(cfg.targets[0].luns[0].no_pr);
	prk_cfg_free(&cfg);

	static const char *const bad[] = {"\"false\"", "0", "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char l[128];
		snprintf(l, sizeof(l), ", \"persistent_reservations\": %s", bad[i]);
		assert_int_equal(parse("", l, &cfg), -1);
		assert_string_equal(
		    err, "targets[0].luns[0].persistent_reservations: must be true or false");
	}
}

/* luns[].readonly: the read-only LU the conformance run's ReadOnly suite
 * needs (writes get DATA PROTECT 27/00, MODE SENSE sets WP). */
static void test_readonly_flag(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse("", "", &cfg), 0);
	assert_false(cfg.targets[0].luns[0].readonly);
	prk_cfg_free(&cfg);
	assert_int_equal(parse("", ", \"readonly\": true", &cfg), 0);
	assert_true(cfg.targets[0].luns[0].readonly);
	prk_cfg_free(&cfg);
	assert_int_equal(parse("", ", \"readonly\": \"yes\"", &cfg), -1);
	assert_non_null(strstr(err, "targets[0].luns[0].readonly"));
}

/* The admin socket's add-lu parses one LUN with the same schema. */
static void test_pr_flag_lun_text(void **state)
{
	(void)state;
	struct prk_cfg_lun l;
	char json[256];
	snprintf(json, sizeof(json), LUN_RAM, ", \"lun\": 3, \"persistent_reservations\": false");
	assert_int_equal(
	    prk_cfg_parse_lun_text(json, "lun", "iqn.2026-11.io.prkit:t", 0, &l, err, sizeof(err)),
	    0);
	assert_int_equal(l.lun, 3);
	assert_true(l.no_pr);
	snprintf(json, sizeof(json), LUN_RAM, "");
	assert_int_equal(
	    prk_cfg_parse_lun_text(json, "lun", "iqn.2026-11.io.prkit:t", 0, &l, err, sizeof(err)),
	    0);
	assert_false(l.no_pr);
	snprintf(json, sizeof(json), LUN_RAM, ", \"persistent_reservations\": 1");
	assert_int_equal(
	    prk_cfg_parse_lun_text(json, "lun", "iqn.2026-11.io.prkit:t", 0, &l, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "lun.persistent_reservations: must be true or false");
}

/* The "cluster" section: absent is standalone; defaults; errors name
 * the field. */
static int parse_cluster(const char *cluster, struct prk_cfg *cfg)
{
	char json[1024];
	snprintf(json, sizeof(json),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	         " \"targets\": [{\"name\": \"iqn.2026-11.io.prkit:t\", \"luns\": []}]%s}",
	         cluster);
	err[0] = 0;
	return prk_cfg_parse(json, cfg, err, sizeof(err));
}

static void test_cluster_section(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse_cluster("", &cfg), 0);
	assert_false(cfg.cluster.enabled);
	prk_cfg_free(&cfg);
	assert_int_equal(parse_cluster(", \"cluster\": {}", &cfg), 0);
	assert_true(cfg.cluster.enabled);
	assert_string_equal(cfg.cluster.name, "prkit");
	assert_int_equal(cfg.cluster.heartbeat_ms, 200);
	assert_int_equal(cfg.cluster.lease_ms, 0); /* derived at start */
	assert_int_equal(cfg.cluster.margin_ms, 200);
	prk_cfg_free(&cfg);
	assert_int_equal(parse_cluster(", \"cluster\": {\"name\": \"db-1\", \"heartbeat_ms\": 100,"
	                               " \"lease_ms\": 500, \"departure_margin_ms\": 0}",
	                               &cfg),
	                 0);
	assert_string_equal(cfg.cluster.name, "db-1");
	assert_int_equal(cfg.cluster.lease_ms, 500);
	assert_int_equal(cfg.cluster.margin_ms, 0);
	prk_cfg_free(&cfg);
	static const struct {
		const char *json, *want;
	} bad[] = {
	    {", \"cluster\": {\"lease_ms\": 300}",
	     "cluster.lease_ms: 300 ms: must be at least twice"},
	    {", \"cluster\": {\"heartbeat_ms\": 10}", "cluster.heartbeat_ms"},
	    {", \"cluster\": {\"name\": \"a b\"}", "cluster.name"},
	    {", \"cluster\": {\"name\": \"\"}", "cluster.name"},
	    {", \"cluster\": {\"nodes\": 3}", "unknown field \"nodes\""},
	    {", \"cluster\": true", "cluster"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_cluster(bad[i].json, &cfg), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alua_default),    cmocka_unit_test(test_alua_accepted),
	    cmocka_unit_test(test_alua_rejected),   cmocka_unit_test(test_pr_flag),
	    cmocka_unit_test(test_readonly_flag),   cmocka_unit_test(test_pr_flag_lun_text),
	    cmocka_unit_test(test_cluster_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
