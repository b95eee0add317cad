/* `prkit mount`'s command line (mount_args.c): one device from the URLs,
 * the configuration file with options over it, the status command, and
 * every bad value refused with a message naming the option and the value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mount_args.h"

#define URL1 "iscsi://127.0.0.1:3260/iqn.2026-11.io.prkit:t/0"
#define URL2 "iscsi://127.0.0.2:3260/iqn.2026-11.io.prkit:t/0"

static int parse(struct prk_mount_args *a, char *err, size_t cap, int n, ...)
{
	char *argv[32];
	va_list ap;
	va_start(ap, n);
	argv[0] = "mount";
	for (int i = 0; i < n; i++)
		argv[i + 1] = va_arg(ap, char *);
	va_end(ap);
	argv[n + 1] = NULL;
	return prk_mount_args_parse(n + 1, argv, a, err, cap);
}

static void test_one_device(void **state)
{
	(void)state;
	struct prk_mount_args a;
	char err[256];
	assert_int_equal(
	    parse(&a, err, sizeof(err), 7, "-k", "0xabc", "--mode", "forced", "/mnt/x", URL1, URL2),
	    0);
	assert_int_equal(a.cmd, PRK_MOUNT_RUN);
	assert_string_equal(a.mountpoint, "/mnt/x");
	assert_int_equal(a.n_urls, 2);
	assert_int_equal(a.key, 0xabc);
	static struct prk_mnt_config c;
	prk_mnt_config_init(&c);
	assert_int_equal(prk_mount_args_apply(&a, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_devs, 1);
	assert_string_equal(c.devs[0].name, "lu");
	assert_string_equal(c.devs[0].urls[1], URL2);
	assert_int_equal(c.devs[0].mode, PRK_OPEN_FORCED);
	assert_int_equal(c.devs[0].key, 0xabc);
	assert_string_equal(c.mountpoint, "/mnt/x");
	assert_int_equal(c.log_level, 1);
	assert_int_equal(prk_mnt_config_check(&c, err, sizeof(err)), 0);
}

static void test_all_options(void **state)
{
	(void)state;
	struct prk_mount_args a;
	char err[256];
	assert_int_equal(parse(&a, err, sizeof(err), 24, "--key", "12", "-n", "db", "--type", "5",
	                       "--aptpl", "--discover", "--initiator", "iqn.2026-11.io.prkit:h",
	                       "--state-dir", "/tmp/st", "--ctl", "/tmp/c.sock", "--allow-other",
	                       "--open-timeout", "2000", "--io-timeout", "3000",
	                       "--no-path-timeout", "4000", "-v", "/m", URL1),
	                 0);
	static struct prk_mnt_config c;
	prk_mnt_config_init(&c);
	assert_int_equal(prk_mount_args_apply(&a, &c, err, sizeof(err)), 0);
	assert_string_equal(c.devs[0].name, "db");
	assert_int_equal(c.devs[0].key, 0x12); /* hex, as prkit io */
	assert_int_equal(c.devs[0].type, 5);
	assert_true(c.devs[0].aptpl);
	assert_true(c.devs[0].discover);
	assert_int_equal(c.devs[0].io_timeout_ms, 3000);
	assert_int_equal(c.devs[0].no_path_timeout_ms, 4000);
	assert_string_equal(c.initiator, "iqn.2026-11.io.prkit:h");
	assert_string_equal(c.state_dir, "/tmp/st");
	assert_string_equal(c.ctl_path, "/tmp/c.sock");
	assert_true(c.allow_other);
	assert_int_equal(c.open_timeout_ms, 2000);
	assert_int_equal(c.log_level, 2);
	assert_int_equal(
	    parse(&a, err, sizeof(err), 7, "-q", "--fenced-hold", "0", "-k", "1", "/m", URL1), 0);
	assert_true(a.fenced_hold_set);
	assert_int_equal(a.log_level, 0);
}

static void test_config_file_with_overrides(void **state)
{
	(void)state;
	static struct prk_mnt_config c;
	prk_mnt_config_init(&c);
	const char *file = "{\"mountpoint\": \"/mnt/file\", \"devices\": ["
	                   "{\"name\": \"a\", \"paths\": [\"" URL1 "\"], \"key\": \"1\"},"
	                   "{\"name\": \"b\", \"paths\": [\"" URL2 "\"], \"key\": \"2\","
	                   " \"mode\": \"single\"}]}";
	char err[256];
	assert_int_equal(prk_mnt_config_parse(file, strlen(file), &c, err, sizeof(err)), 0);
	struct prk_mount_args a;
	/* -c with no mountpoint: the file's. --mode and --no-ctl over it. */
	assert_int_equal(
	    parse(&a, err, sizeof(err), 5, "-c", "/etc/x.json", "--mode", "retain", "--no-ctl"), 0);
	assert_int_equal(prk_mount_args_apply(&a, &c, err, sizeof(err)), 0);
	assert_string_equal(c.mountpoint, "/mnt/file");
	assert_int_equal(c.n_devs, 2);
	assert_int_equal(c.devs[0].mode, PRK_OPEN_RETAIN);
	assert_int_equal(c.devs[1].mode, PRK_OPEN_RETAIN);
	assert_int_equal(c.devs[1].key, 2); /* not given: the file's */
	assert_true(c.no_ctl);
	assert_int_equal(prk_mnt_config_check(&c, err, sizeof(err)), 0);
	/* A mountpoint on the command line replaces the file's. */
	assert_int_equal(parse(&a, err, sizeof(err), 3, "-c", "/etc/x.json", "/mnt/cli"), 0);
	assert_int_equal(prk_mount_args_apply(&a, &c, err, sizeof(err)), 0);
	assert_string_equal(c.mountpoint, "/mnt/cli");
}

static void test_status(void **state)
{
	(void)state;
	struct prk_mount_args a;
	char err[256];
	assert_int_equal(parse(&a, err, sizeof(err), 3, "status", "--json", "/m"), 0);
	assert_int_equal(a.cmd, PRK_MOUNT_STATUS);
	assert_true(a.json);
	assert_string_equal(a.mountpoint, "/m");
	assert_int_equal(parse(&a, err, sizeof(err), 1, "status"), -1);
	assert_string_equal(err, "status: give one MOUNTPOINT");
	assert_int_equal(parse(&a, err, sizeof(err), 3, "status", "/m", "/n"), -1);
	assert_int_equal(parse(&a, err, sizeof(err), 4, "status", "-k", "1", "/m"), -1);
	assert_string_equal(err, "status: only --json and MOUNTPOINT");
	assert_int_equal(parse(&a, err, sizeof(err), 1, "-h"), 0);
	assert_true(a.help);
}

static void test_refusals(void **state)
{
	(void)state;
	struct {
		int n;
		char *argv[8];
		const char *err;
	} t[] = {
	    {2, {"/m", URL1}, "--key: a reservation key is required"},
	    {4, {"-k", "0", "/m", URL1}, "--key: '0' is not a non-zero hexadecimal key"},
	    {4, {"-k", "12345678901234567", "/m", URL1}, "--key: '12345678901234567' is not"},
	    {4, {"-k", "xyz", "/m", URL1}, "--key: 'xyz' is not"},
	    {6, {"-k", "1", "-m", "exclusive", "/m", URL1}, "--mode: 'exclusive' is not one of"},
	    {6, {"-k", "1", "-n", "a.b", "/m", URL1}, "--name: 'a.b' is not a name"},
	    {6, {"-k", "1", "--type", "2", "/m", URL1}, "--type: '2' is not one of"},
	    {6, {"-k", "1", "--initiator", "bob", "/m", URL1}, "--initiator: 'bob' is not"},
	    {6, {"-k", "1", "--io-timeout", "5", "/m", URL1}, "--io-timeout: '5' is not"},
	    {6, {"-k", "1", "--open-timeout", "600001", "/m", URL1}, "--open-timeout: '600001'"},
	    {6, {"-k", "1", "--fenced-hold", "-1", "/m", URL1}, "--fenced-hold: '-1' is not"},
	    {3, {"-k", "1", "/m"}, "URL: give at least one"},
	    {2, {"-k", "1"}, "MOUNTPOINT: give the directory"},
	    {4, {"-k", "1", "/m", "http://x/y"}, "'http://x/y': not an option and not an iscsi"},
	    {5, {"-k", "1", "--discover", "/m", URL1}, NULL},
	    {6, {"-k", "1", "--discover", "/m", URL1, URL2}, "--discover: give one URL"},
	    {6, {"-k", "1", "--no-ctl", "--ctl", "/s", "/m"}, "--ctl: cannot be given with"},
	    {4, {"--bogus", "-k", "1", "/m"}, "--bogus: unknown option"},
	    {1, {"-k"}, "--key: needs a value"},
	    {4, {"-c", "/f", "/m", URL1}, "with -c the URLs come from the configuration file"},
	    {4, {"-c", "/f", "-n", "x"}, "--name: the configuration file names the devices"},
	    {5, {"--json", "-k", "1", "/m", URL1}, "--json: only for prkit mount status"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *argv[10] = {"mount"};
		for (int k = 0; k < t[i].n; k++)
			argv[k + 1] = t[i].argv[k];
		struct prk_mount_args a;
		char err[256] = "";
		int rc = prk_mount_args_parse(t[i].n + 1, argv, &a, err, sizeof(err));
		if (!t[i].err) {
			assert_int_equal(rc, 0);
			continue;
		}
		if (rc != -1 || !strstr(err, t[i].err))
			fail_msg("case %zu: rc %d, err '%s', wanted '%s'", i, rc, err, t[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_device),
	    cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_config_file_with_overrides),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
