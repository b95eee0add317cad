/* Precise configuration errors: a JSON syntax error names its line and
 * column, an empty or truncated file says so, text after the object is
 * refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char err[1024];
static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/prkit-cfgerr-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void expect_parse_error(const char *json, const char *want)
{
	struct prk_cfg cfg;
	err[0] = 0;
	assert_int_equal(prk_cfg_parse(json, &cfg, err, sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fail_msg("got \"%s\", wanted \"%s\"", err, want);
}

static void test_syntax_error_line_and_column(void **state)
{
	(void)state;
	expect_parse_error("{\n  \"portals\": [\n    {\"address\" \"127.0.0.1\"}\n  ]\n}\n",
	                   "line 3, column 16: object property name separator ':' expected");
	/* Columns count characters, not UTF-8 bytes. */
	expect_parse_error("{\"log_level\": \"\xc3\xa9t\xc3\xa9\" x}",
	                   "line 1, column 21: object value separator ',' expected");
}

static void test_truncated_and_trailing(void **state)
{
	(void)state;
	expect_parse_error("{\n  \"portals\": [{\"address\": \"127.0.0.1\"",
	                   "line 2, column 38: the text ends inside a JSON value (truncated?)");
	expect_parse_error("{\"portals\": []}\n{\"targets\": []}\n",
	                   "line 2, column 1: text after the JSON value (only one is allowed)");
	expect_parse_error("", "empty, no JSON value");
	expect_parse_error(" \n\t", "only white space, no JSON value");
}

static void test_empty_file(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	char path[128], want[192];
	write_file("empty.json", "", 0);
	snprintf(path, sizeof(path), "%s/empty.json", dir);
	assert_int_equal(prk_cfg_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: the file is empty", path);
	assert_string_equal(err, want);
	/* A directory is a read error, not an empty file. */
	assert_int_equal(prk_cfg_load(dir, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Is a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_error_line_and_column),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_empty_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
