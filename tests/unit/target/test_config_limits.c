/* prkitd's configuration parser: the hardening limits max_task_memory,
 * max_login_connections and login_timeout_ms (defaults, accepted forms,
 * and out-of-range values named by their field). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char err[512];

/* One portal, one RAM LUN, and extra top-level fields. */
static int parse(const char *extra, struct prk_cfg *cfg)
{
	char json[1024];
	snprintf(json, sizeof(json),
	         "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	         " \"targets\": [{\"name\": \"iqn.2026-11.io.prkit:t\", \"luns\": "
	         "[{\"backstore\": {\"type\": \"ram\", \"size\": \"1M\"}}]}]%s}",
	         extra);
	err[0] = 0;
	return prk_cfg_parse(json, cfg, err, sizeof(err));
}

static void test_defaults_are_zero(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse("", &cfg), 0);
	/* 0: the server applies its defaults (256 MiB, 64, 15000 ms). */
	assert_int_equal(cfg.max_task_memory, 0);
	assert_int_equal(cfg.max_login_conns, 0);
	assert_int_equal(cfg.login_timeout_ms, 0);
	prk_cfg_free(&cfg);
}

static void test_task_memory_forms(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse(", \"max_task_memory\": \"64M\"", &cfg), 0);
	assert_true(cfg.max_task_memory == 64ull << 20);
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"max_task_memory\": 2097152", &cfg), 0);
	assert_true(cfg.max_task_memory == 2ull << 20);
	prk_cfg_free(&cfg);
}

static void test_task_memory_too_small(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse(", \"max_task_memory\": \"512K\"", &cfg), -1);
	assert_non_null(strstr(err, "max_task_memory"));
	assert_non_null(strstr(err, "at least 1M"));
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"max_task_memory\": \"lots\"", &cfg), -1);
	assert_non_null(strstr(err, "max_task_memory"));
	prk_cfg_free(&cfg);
}

static void test_login_limits(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse(", \"max_login_connections\": 8, \"login_timeout_ms\": 2500", &cfg),
	                 0);
	assert_int_equal(cfg.max_login_conns, 8);
	assert_int_equal(cfg.login_timeout_ms, 2500);
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"max_login_connections\": 0", &cfg), -1);
	assert_non_null(strstr(err, "max_login_connections"));
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"login_timeout_ms\": 50", &cfg), -1);
	assert_non_null(strstr(err, "login_timeout_ms"));
	prk_cfg_free(&cfg);
}

/* "threads": 1..64, 0 or absent = one per online CPU; anything else is
 * refused naming the member. */
static void test_threads(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse("", &cfg), 0);
	assert_int_equal(cfg.threads, 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(prk_cfg_threads(&cfg), cpus > 64 ? 64 : cpus);
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"threads\": 4", &cfg), 0);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(prk_cfg_threads(&cfg), 4);
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"threads\": 64", &cfg), 0);
	assert_int_equal(prk_cfg_threads(&cfg), 64);
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"threads\": 65", &cfg), -1);
	assert_non_null(strstr(err, "threads"));
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"threads\": -1", &cfg), -1);
	assert_non_null(strstr(err, "threads"));
	prk_cfg_free(&cfg);
	assert_int_equal(parse(", \"threads\": \"two\"", &cfg), -1);
	assert_non_null(strstr(err, "threads"));
	prk_cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_are_zero),
	    cmocka_unit_test(test_task_memory_forms),
	    cmocka_unit_test(test_task_memory_too_small),
	    cmocka_unit_test(test_login_limits),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
