/* Precise configuration errors: a JSON syntax error names its line and
 * column, an empty or truncated file says so, text after the object is
 * refused; a file backstore's missing path is an error unless "create":
 * true, a short file one unless "grow": true; and prk_check_config finds
 * what a start would (addresses, backing files, memory, state directory). */
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

#include "check.h"
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

#define CFG_FILE_LU                                                                                \
	"{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}], \"targets\": [{\"name\": "     \
	"\"iqn.2026-11.io.prkit:t\", \"luns\": [{\"backstore\": {\"type\": \"file\", "             \
	"\"path\": \"%s/%s\"%s}}]}]}"

static int parse_file_lu(const char *name, const char *extra, struct prk_cfg *cfg)
{
	char json[1024];
	snprintf(json, sizeof(json), CFG_FILE_LU, dir, name, extra);
	err[0] = 0;
	return prk_cfg_parse(json, cfg, err, sizeof(err));
}

static void test_create_and_grow_fields(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	assert_int_equal(parse_file_lu("a.img", ", \"size\": \"1M\", \"create\": true", &cfg), 0);
	assert_true(cfg.targets[0].luns[0].create);
	assert_false(cfg.targets[0].luns[0].grow);
	prk_cfg_free(&cfg);
	assert_int_equal(parse_file_lu("a.img", ", \"size\": \"1M\", \"grow\": true", &cfg), 0);
	assert_true(cfg.targets[0].luns[0].grow);
	prk_cfg_free(&cfg);
	assert_int_equal(parse_file_lu("a.img", ", \"create\": true", &cfg), -1);
	assert_string_equal(err, "targets[0].luns[0].backstore: \"create\": true needs a \"size\" "
	                         "for the new file");
	assert_int_equal(parse_file_lu("a.img", ", \"grow\": 1", &cfg), -1);
	assert_string_equal(err, "targets[0].luns[0].backstore.grow: must be true or false");
	struct prk_cfg_lun l;
	assert_int_equal(prk_cfg_parse_lun_text("{\"backstore\": {\"type\": \"ram\", \"size\": "
	                                        "\"1M\", \"create\": true}}",
	                                        "lun", "iqn.2026-11.io.prkit:t", 0, &l, err,
	                                        sizeof(err)),
	                 -1);
	assert_string_equal(err, "lun.backstore.create: only file backstores have it");
}

static void test_missing_file_needs_create(void **state)
{
	(void)state;
	struct prk_cfg cfg;
	char want[512];
	assert_int_equal(parse_file_lu("typo.img", ", \"size\": \"1M\"", &cfg), 0);
	struct prk_cfg_lun *l = &cfg.targets[0].luns[0];
	assert_int_equal(prk_check_lun_file(l, "target T LUN 0", err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	         "target T LUN 0: backstore.path %s/typo.img does not exist (\"create\": true "
	         "makes a new file of the LU's size)",
	         dir);
	assert_string_equal(err, want);
	l->create = true;
	assert_int_equal(prk_check_lun_file(l, "target T LUN 0", err, sizeof(err)), 0);
	/* ... but not in a directory that does not exist. */
	snprintf(l->path, sizeof(l->path), "%s/no/such/dir.img", dir);
	assert_int_equal(prk_check_lun_file(l, "target T LUN 0", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot be created: its directory"));
	prk_cfg_free(&cfg);
}

static void test_short_file_needs_grow(void **state)
{
	(void)state;
	static char half[512 * 1024];
	struct prk_cfg cfg;
	char want[512];
	write_file("short.img", half, sizeof(half));
	assert_int_equal(parse_file_lu("short.img", ", \"size\": \"1M\"", &cfg), 0);
	struct prk_cfg_lun *l = &cfg.targets[0].luns[0];
	assert_int_equal(prk_check_lun_file(l, "targets[0].luns[0]", err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	         "targets[0].luns[0]: backstore.size: %s/short.img has 524288 bytes, fewer than "
	         "the size 1048576 (\"grow\": true extends it)",
	         dir);
	assert_string_equal(err, want);
	l->grow = true;
	assert_int_equal(prk_check_lun_file(l, "targets[0].luns[0]", err, sizeof(err)), 0);
	/* A size of 0 uses the file as it is; a file of the size is fine. */
	l->grow = false;
	l->size = 0;
	assert_int_equal(prk_check_lun_file(l, "targets[0].luns[0]", err, sizeof(err)), 0);
	l->size = sizeof(half);
	assert_int_equal(prk_check_lun_file(l, "targets[0].luns[0]", err, sizeof(err)), 0);
	prk_cfg_free(&cfg);
}

/* A valid configuration with a file LU, then one thing wrong at a time. */
static void test_check_config(void **state)
{
	(void)state;
	static char blocks[1024 * 1024];
	struct prk_cfg cfg;
	char sock[128], state_dir[128];
	snprintf(sock, sizeof(sock), "%s/admin.sock", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state/deeper", dir);
	write_file("disk.img", blocks, sizeof(blocks));
	FILE *warn = fopen("/dev/null", "w");
	assert_non_null(warn);

	assert_int_equal(parse_file_lu("disk.img", "", &cfg), 0);
	if (prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)))
		fail_msg("%s", err);

	snprintf(cfg.portals[0].address, sizeof(cfg.portals[0].address), "127.0.0.300");
	assert_int_equal(prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "portals[0].address: \"127.0.0.300\" is not an IPv4 or IPv6 address");
	/* An address of no interface here (TEST-NET-1) cannot be bound. */
	snprintf(cfg.portals[0].address, sizeof(cfg.portals[0].address), "192.0.2.1");
	assert_int_equal(prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "portals[0]: cannot listen on 192.0.2.1:0: Cannot assign requested address");
	snprintf(cfg.portals[0].address, sizeof(cfg.portals[0].address), "127.0.0.1");

	/* The backing file is opened as the backstore would: a size that is
	 * no multiple of 512 fails there. */
	write_file("odd.img", blocks, 1000);
	snprintf(cfg.targets[0].luns[0].path, sizeof(cfg.targets[0].luns[0].path), "%s/odd.img",
	         dir);
	assert_int_equal(prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "targets[0].luns[0]: "));
	assert_non_null(strstr(err, "not a multiple of 512"));
	snprintf(cfg.targets[0].luns[0].path, sizeof(cfg.targets[0].luns[0].path), "%s/gone.img",
	         dir);
	assert_int_equal(prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "gone.img does not exist"));
	snprintf(cfg.targets[0].luns[0].path, sizeof(cfg.targets[0].luns[0].path), "%s/disk.img",
	         dir);

	/* RAM LUs that cannot fit in this machine's memory. */
	cfg.targets[0].luns[0].type = PRK_CFG_BS_RAM;
	cfg.targets[0].luns[0].size = 1ULL << 60;
	assert_int_equal(prk_check_config(&cfg, sock, state_dir, warn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "RAM LUs hold 1152921504606846976 bytes together, more than"));
	cfg.targets[0].luns[0].size = 1 << 20;

	/* The admin socket path is a regular file; the state directory's
	 * nearest existing ancestor is a file. */
	write_file("plain", "x", 1);
	char plain[128], below[160];
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	assert_int_equal(prk_check_config(&cfg, plain, state_dir, warn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists and is not a socket"));
	snprintf(below, sizeof(below), "%s/plain/state", dir);
	assert_int_equal(prk_check_config(&cfg, sock, below, warn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "plain/state: Not a directory"));
	assert_int_equal(prk_check_config(&cfg, NULL, state_dir, warn, err, sizeof(err)), 0);
	fclose(warn);
	prk_cfg_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_error_line_and_column),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_create_and_grow_fields),
	    cmocka_unit_test(test_missing_file_needs_create),
	    cmocka_unit_test(test_short_file_needs_grow),
	    cmocka_unit_test(test_check_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
