/* prkit mount's configuration: the file's members, the refusals that name
 * the member and the value, and the checks of the whole configuration that
 * the command line goes through as well. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "mount.h"

#define U1 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/0"
#define U2 "iscsi://192.0.2.2:3261/iqn.2026-01.io.prkit:t1/0"
#define U3 "iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/1"

static struct prk_mnt_config C;
static char E[1024];

static int parse(const char *text)
{
	memset(E, 0, sizeof(E));
	prk_mnt_config_init(&C);
	return prk_mnt_config_parse(text, strlen(text), &C, E, sizeof(E));
}

static int check(void)
{
	memset(E, 0, sizeof(E));
	return prk_mnt_config_check(&C, E, sizeof(E));
}

/* Fails unless text is refused with a message holding every string given. */
#define refused(text, ...)                                                                         \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		if (parse(text) != -1)                                                             \
			fail_msg("accepted: %s", text);                                            \
		for (size_t i_ = 0; i_ < sizeof(want_) / sizeof(want_[0]); i_++)                   \
			if (!strstr(E, want_[i_]))                                                 \
				fail_msg("message \"%s\" lacks \"%s\"", E, want_[i_]);             \
	} while (0)

#define ONE_DEV "\"devices\": [{\"name\": \"db\", \"paths\": [\"" U1 "\"], \"key\": \"0xab\"}]"

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"mountpoint\": \"/mnt/p\", " ONE_DEV "}"), 0);
	assert_string_equal(C.mountpoint, "/mnt/p");
	assert_int_equal(C.log_level, 1);
	assert_false(C.no_ctl);
	assert_false(C.allow_other);
	assert_string_equal(C.ctl_path, "");
	assert_string_equal(C.initiator, "");
	assert_int_equal(C.open_timeout_ms, 0);
	assert_int_equal(C.n_devs, 1);
	assert_string_equal(C.devs[0].name, "db");
	assert_int_equal(C.devs[0].n_urls, 1);
	assert_string_equal(C.devs[0].urls[0], U1);
	assert_true(C.devs[0].key == 0xab);
	assert_int_equal(C.devs[0].mode, PRK_OPEN_DEFAULT);
	assert_int_equal(C.devs[0].type, 0);
	assert_false(C.devs[0].aptpl);
	assert_false(C.devs[0].discover);
	assert_int_equal(C.devs[0].selector, PRK_SEL_SERVICE_TIME);
	assert_int_equal(check(), 0);
}

static void test_every_member(void **state)
{
	(void)state;
	const char *text =
	    "{\"mountpoint\": \"/mnt/p\", \"initiator\": \"iqn.2026-01.io.prkit:h1\","
	    " \"state_dir\": \"/var/lib/x\", \"control\": \"/run/x.sock\", \"allow_other\": true,"
	    " \"log_level\": 2, \"open_timeout_ms\": 2500,"
	    " \"devices\": [{\"name\": \"db\", \"paths\": [\"" U1 "\", \"" U2 "\"],"
	    " \"discover\": true, \"key\": \"1234abcd\", \"mode\": \"retain\", \"type\": 5,"
	    " \"aptpl\": true, \"selector\": \"round-robin\", \"io_timeout_ms\": 3000,"
	    " \"no_path_timeout_ms\": 4000, \"fenced_hold_ms\": 0, \"checker_interval_ms\": 500},"
	    " {\"name\": \"log-2_x\", \"paths\": [\"" U3 "\"], \"key\": \"0X7\","
	    " \"mode\": \"single\"}]}";
	assert_int_equal(parse(text), 0);
	assert_string_equal(C.initiator, "iqn.2026-01.io.prkit:h1");
	assert_string_equal(C.state_dir, "/var/lib/x");
	assert_string_equal(C.ctl_path, "/run/x.sock");
	assert_true(C.allow_other);
	assert_int_equal(C.log_level, 2);
	assert_int_equal(C.open_timeout_ms, 2500);
	assert_int_equal(C.n_devs, 2);
	const struct prk_mnt_dev_config *d = &C.devs[0];
	assert_int_equal(d->n_urls, 2);
	assert_string_equal(d->urls[1], U2);
	assert_true(d->discover);
	assert_true(d->key == 0x1234abcd);
	assert_int_equal(d->mode, PRK_OPEN_RETAIN);
	assert_int_equal(d->type, 5);
	assert_true(d->aptpl);
	assert_int_equal(d->selector, PRK_SEL_ROUND_ROBIN);
	assert_int_equal(d->io_timeout_ms, 3000);
	assert_int_equal(d->no_path_timeout_ms, 4000);
	assert_int_equal(d->checker_interval_ms, 500);
	assert_string_equal(C.devs[1].name, "log-2_x");
	assert_true(C.devs[1].key == 7);
	assert_int_equal(C.devs[1].mode, PRK_OPEN_SINGLE);
	assert_int_equal(check(), 0);
}

/* The command line sets values first; the file then overrides only what
 * it names, and false for "control" means no socket. */
static void test_file_over_defaults(void **state)
{
	(void)state;
	prk_mnt_config_init(&C);
	snprintf(C.mountpoint, sizeof(C.mountpoint), "/from/cli");
	C.log_level = 0;
	const char *text = "{\"control\": false, " ONE_DEV "}";
	assert_int_equal(prk_mnt_config_parse(text, strlen(text), &C, E, sizeof(E)), 0);
	assert_string_equal(C.mountpoint, "/from/cli");
	assert_int_equal(C.log_level, 0);
	assert_true(C.no_ctl);
	assert_int_equal(check(), 0);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("", "not JSON");
	refused("[]", "expected a JSON object");
	refused("{} {}", "text after the JSON object");
	refused("{\"mountpoint\": \"rel/p\"}", "mountpoint", "rel/p", "absolute");
	refused("{\"mountpont\": \"/x\"}", "mountpont", "unknown member");
	refused("{\"initiator\": \"host1\"}", "initiator", "host1", "iSCSI name");
	refused("{\"log_level\": 3}", "log_level", "out of range");
	refused("{\"log_level\": \"1\"}", "log_level", "expected an integer");
	refused("{\"allow_other\": 1}", "allow_other", "true or false");
	refused("{\"control\": 5}", "control", "socket path");
	refused("{\"open_timeout_ms\": 10}", "open_timeout_ms", "out of range");
	refused("{\"devices\": []}", "devices", "empty");
	refused("{\"devices\": {}}", "devices", "array");
	refused("{\"devices\": [5]}", "devices[0]", "object");
	refused("{\"devices\": [{\"paths\": [\"" U1 "\"], \"key\": \"1\"}]}", "devices[0].name",
	        "missing");
	refused("{\"devices\": [{\"name\": \"a\", \"key\": \"1\"}]}", "devices[0].paths",
	        "missing");
	refused("{\"devices\": [{\"name\": \"a\", \"paths\": [\"" U1 "\"]}]}", "devices[0].key",
	        "missing");
	refused("{\"devices\": [{\"name\": \"a.b\"}]}", "devices[0].name", "a.b");
	refused("{\"devices\": [{\"name\": \"a/b\"}]}", "devices[0].name", "a/b");
	refused("{\"devices\": [{\"name\": \"a\", \"paths\": []}]}", "devices[0].paths", "empty");
	refused("{\"devices\": [{\"name\": \"a\", \"paths\": [\"http://x/\"]}]}",
	        "devices[0].paths[0]", "http://x/");
	refused("{\"devices\": [{\"name\": \"a\", \"paths\": \"" U1 "\"}]}", "devices[0].paths",
	        "array");
	refused("{\"devices\": [{\"name\": \"a\", \"key\": \"0\"}]}", "devices[0].key", "'0'");
	refused("{\"devices\": [{\"name\": \"a\", \"key\": \"12345678901234567\"}]}",
	        "devices[0].key", "16 digits");
	refused("{\"devices\": [{\"name\": \"a\", \"key\": 17}]}", "devices[0].key", "string");
	refused("{\"devices\": [{\"name\": \"a\", \"mode\": \"shared\"}]}", "devices[0].mode",
	        "shared", "open mode");
	refused("{\"devices\": [{\"name\": \"a\", \"type\": 2}]}", "devices[0].type", "2",
	        "reservation type");
	refused("{\"devices\": [{\"name\": \"a\", \"selector\": \"fast\"}]}", "devices[0].selector",
	        "fast");
	refused("{\"devices\": [{\"name\": \"a\", \"io_timeout_ms\": 5}]}",
	        "devices[0].io_timeout_ms", "out of range");
	refused("{\"devices\": [{\"name\": \"a\", \"colour\": 5}]}", "devices[0].colour",
	        "unknown member");
	static char nul[] = "{\"mountpoint\": \"/x\"}";
	memset(E, 0, sizeof(E));
	prk_mnt_config_init(&C);
	nul[5] = 0;
	assert_int_equal(prk_mnt_config_parse(nul, sizeof(nul) - 1, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "NUL"));
}

static void test_paths_limit(void **state)
{
	(void)state;
	char text[4096];
	int n = snprintf(text, sizeof(text), "{\"devices\": [{\"name\": \"a\", \"paths\": [");
	for (int i = 0; i < PRK_MPDEV_MAX_PATHS + 1; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		              "%s\"iscsi://192.0.2.%d/iqn.2026-01.io.prkit:t1/0\"", i ? "," : "",
		              i + 1);
	snprintf(text + n, sizeof(text) - (size_t)n, "]}]}");
	refused(text, "devices[0].paths", "9 paths", "at most 8");
}

/* The whole configuration: what neither the file reader nor the command
 * line alone can see. */
static void test_check(void **state)
{
	(void)state;
	assert_int_equal(parse("{" ONE_DEV "}"), 0);
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "mountpoint"));

	const char *two = "{\"mountpoint\": \"/m\", \"devices\": ["
	                  "{\"name\": \"a\", \"paths\": [\"" U1 "\"], \"key\": \"1\"},"
	                  "{\"name\": \"a\", \"paths\": [\"" U3 "\"], \"key\": \"2\"}]}";
	assert_int_equal(parse(two), 0);
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "both named 'a'"));

	const char *shared = "{\"mountpoint\": \"/m\", \"devices\": ["
	                     "{\"name\": \"a\", \"paths\": [\"" U1 "\"], \"key\": \"1\"},"
	                     "{\"name\": \"b\", \"paths\": [\"" U2 "\", \"" U1 "\"], \"key\": "
	                     "\"2\"}]}";
	assert_int_equal(parse(shared), 0);
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "share the path"));
	assert_non_null(strstr(E, U1));

	const char *twice = "{\"mountpoint\": \"/m\", \"devices\": ["
	                    "{\"name\": \"a\", \"paths\": [\"" U1 "\", \"" U1 "\"], \"key\": "
	                    "\"1\"}]}";
	assert_int_equal(parse(twice), 0);
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "given twice"));

	/* What the command line may leave wrong. */
	prk_mnt_config_init(&C);
	snprintf(C.mountpoint, sizeof(C.mountpoint), "/m");
	C.n_devs = 1;
	snprintf(C.devs[0].name, sizeof(C.devs[0].name), "lu");
	snprintf(C.devs[0].urls[0], sizeof(C.devs[0].urls[0]), "%s", U1);
	C.devs[0].n_urls = 1;
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "no reservation key"));
	C.devs[0].key = 5;
	assert_int_equal(check(), 0);
	C.devs[0].type = 2;
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "reservation type"));
	C.devs[0].type = 0;
	snprintf(C.devs[0].urls[0], sizeof(C.devs[0].urls[0]), "iscsi://h");
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "iscsi://h"));
	snprintf(C.devs[0].urls[0], sizeof(C.devs[0].urls[0]), "%s", U1);
	C.no_ctl = true;
	snprintf(C.ctl_path, sizeof(C.ctl_path), "/s");
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "control socket"));
	C.ctl_path[0] = 0;
	C.n_devs = 0;
	assert_int_equal(check(), -1);
	assert_non_null(strstr(E, "0 devices"));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(prk_mnt_name_valid("lu"));
	assert_true(prk_mnt_name_valid("A-b_9"));
	assert_false(prk_mnt_name_valid(""));
	assert_false(prk_mnt_name_valid("a.retain"));
	assert_false(prk_mnt_name_valid(".prkit-status"));
	assert_false(prk_mnt_name_valid("a b"));
	char longname[PRK_MNT_NAME_MAX + 1];
	memset(longname, 'x', sizeof(longname));
	longname[PRK_MNT_NAME_MAX - 1] = 0;
	assert_true(prk_mnt_name_valid(longname));
	longname[PRK_MNT_NAME_MAX - 1] = 'x';
	longname[PRK_MNT_NAME_MAX] = 0;
	assert_false(prk_mnt_name_valid(longname));
}

static void test_load(void **state)
{
	(void)state;
	char path[] = "/tmp/prk-mnt-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "{\"mountpoint\": \"/m\", " ONE_DEV "}\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	prk_mnt_config_init(&C);
	assert_int_equal(prk_mnt_config_load(path, &C, E, sizeof(E)), 0);
	assert_string_equal(C.devs[0].name, "db");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"x\": 1}", 8), 8);
	close(fd);
	assert_int_equal(prk_mnt_config_load(path, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, path));
	assert_non_null(strstr(E, "x: unknown member"));
	unlink(path);
	assert_int_equal(prk_mnt_config_load(path, &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "No such file"));
	assert_int_equal(prk_mnt_config_load("/tmp", &C, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_member),
	    cmocka_unit_test(test_file_over_defaults),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_paths_limit),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
