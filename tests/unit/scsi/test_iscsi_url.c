/* The shared iscsi:// URL parser: every field of a good URL, the defaults,
 * and each error code with its message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "prkit/iscsi_url.h"

static void good_urls(void **state)
{
	struct prk_iscsi_url u;
	char err[200] = "";

	(void)state;
	assert_int_equal(prk_iscsi_url_parse("iscsi://192.0.2.1/iqn.2026-01.io.prkit:t1/0", &u, err,
	                                     sizeof(err)),
	                 PRK_URL_OK);
	assert_string_equal(u.host, "192.0.2.1");
	assert_int_equal(u.port, PRK_ISCSI_URL_DEFAULT_PORT);
	assert_string_equal(u.target, "iqn.2026-01.io.prkit:t1");
	assert_int_equal(u.lun, 0);
	assert_false(u.has_credentials);

	assert_int_equal(prk_iscsi_url_parse("iscsi://u%p@w@[fe80::1%eth0]:3262/naa.6001405/16383",
	                                     &u, err, sizeof(err)),
	                 PRK_URL_OK);
	assert_string_equal(u.host, "fe80::1%eth0");
	assert_int_equal(u.port, 3262);
	assert_string_equal(u.target, "naa.6001405");
	assert_int_equal(u.lun, 16383);
	assert_true(u.has_credentials);

	assert_int_equal(
	    prk_iscsi_url_parse("iscsi://h-1.example.com:65535/EUI.0123/7", &u, NULL, 0),
	    PRK_URL_OK);
	assert_string_equal(u.host, "h-1.example.com");
	assert_int_equal(u.port, 65535);
	assert_int_equal(u.lun, 7);
}

static void bad_urls(void **state)
{
	static const struct {
		const char *url;
		enum prk_iscsi_url_error e;
		const char *msg;
	} cases[] = {
	    {"/dev/sdb", PRK_URL_SCHEME, "does not start with iscsi://"},
	    {"ISCSI://h/iqn.a/0", PRK_URL_SCHEME, "does not start with iscsi://"},
	    {"iscsi://", PRK_URL_EMPTY, "no /target-iqn/lun after the host"},
	    {"iscsi://host", PRK_URL_NO_PATH, "no /target-iqn/lun after the host"},
	    {"iscsi://@h/iqn.a/0", PRK_URL_USER, "empty user name before '@'"},
	    {"iscsi://%pw@h/iqn.a/0", PRK_URL_USER, "empty user name before '@'"},
	    {"iscsi:///iqn.a/0", PRK_URL_HOST_EMPTY, "empty host"},
	    {"iscsi://[]/iqn.a/0", PRK_URL_HOST_EMPTY, "empty host"},
	    {"iscsi://ho$t/iqn.a/0", PRK_URL_HOST, "character '$' in the host"},
	    {"iscsi://h%1/iqn.a/0", PRK_URL_HOST, "character '%' in the host"},
	    {"iscsi://[::1/iqn.a/0", PRK_URL_HOST, "'[' without ']' around the IPv6 address"},
	    {"iscsi://[::1]x/iqn.a/0", PRK_URL_HOST, "'x' after the IPv6 address"},
	    {"iscsi://h:/iqn.a/0", PRK_URL_PORT, "empty port after ':'"},
	    {"iscsi://h:0/iqn.a/0", PRK_URL_PORT, "port '0' is out of range 1..65535"},
	    {"iscsi://h:65536/iqn.a/0", PRK_URL_PORT, "port '65536' is out of range 1..65535"},
	    {"iscsi://h:123456789/iqn.a/0", PRK_URL_PORT,
	     "port '123456789' is out of range 1..65535"},
	    {"iscsi://h:12a/iqn.a/0", PRK_URL_PORT, "port '12a' is not a decimal number"},
	    {"iscsi://h//0", PRK_URL_TARGET_EMPTY, "empty target name"},
	    {"iscsi://h/", PRK_URL_NO_LUN, "no /lun after the target name"},
	    {"iscsi://h/iqn.a", PRK_URL_NO_LUN, "no /lun after the target name"},
	    {"iscsi://h/target/0", PRK_URL_TARGET,
	     "target name 'target' does not start with iqn., eui. or naa."},
	    {"iscsi://h/iqn.a,b/0", PRK_URL_TARGET,
	     "target name 'iqn.a,b' is not a valid iSCSI name"},
	    {"iscsi://h/iqn.a/", PRK_URL_LUN, "empty LUN"},
	    {"iscsi://h/iqn.a/1a", PRK_URL_LUN, "LUN '1a' is not a decimal number"},
	    {"iscsi://h/iqn.a/0/", PRK_URL_LUN, "LUN '0/' is not a decimal number"},
	    {"iscsi://h/iqn.a/16384", PRK_URL_LUN, "LUN '16384' is out of range 0..16383"},
	    {"iscsi://h/iqn.a/99999999999999999999999", PRK_URL_LUN,
	     "LUN '99999999999999999999999' is out of range 0..16383"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prk_iscsi_url u;
		char err[200] = "";

		print_message("%s\n", cases[i].url);
		assert_int_equal(prk_iscsi_url_parse(cases[i].url, &u, err, sizeof(err)),
		                 cases[i].e);
		assert_string_equal(err, cases[i].msg);
	}
}

static void lengths(void **state)
{
	char url[600];
	struct prk_iscsi_url u;
	char err[200] = "";

	(void)state;
	/* a host of 255 characters is the longest */
	memset(url, 0, sizeof(url));
	memcpy(url, "iscsi://", 8);
	memset(url + 8, 'h', 255);
	strcpy(url + 8 + 255, "/iqn.a/0");
	assert_int_equal(prk_iscsi_url_parse(url, &u, err, sizeof(err)), PRK_URL_OK);
	assert_int_equal(strlen(u.host), 255);
	memset(url + 8, 'h', 256);
	strcpy(url + 8 + 256, "/iqn.a/0");
	assert_int_equal(prk_iscsi_url_parse(url, &u, err, sizeof(err)), PRK_URL_HOST);
	assert_string_equal(err, "host longer than 255 characters");

	/* a target name of 223 characters is the longest */
	memset(url, 0, sizeof(url));
	strcpy(url, "iscsi://h/iqn.");
	memset(url + strlen(url), 'a', PRK_ISCSI_NAME_MAX - 4);
	strcat(url, "/1");
	assert_int_equal(prk_iscsi_url_parse(url, &u, err, sizeof(err)), PRK_URL_OK);
	assert_int_equal(strlen(u.target), PRK_ISCSI_NAME_MAX);
	memset(url, 0, sizeof(url));
	strcpy(url, "iscsi://h/iqn.");
	memset(url + strlen(url), 'a', PRK_ISCSI_NAME_MAX - 3);
	strcat(url, "/1");
	assert_int_equal(prk_iscsi_url_parse(url, &u, err, sizeof(err)), PRK_URL_TARGET);
	assert_string_equal(err, "target name longer than 223 characters");
}

static void name_types(void **state)
{
	(void)state;
	assert_true(prk_iscsi_name_has_type("iqn.2026-01.x"));
	assert_true(prk_iscsi_name_has_type("EUI.0123"));
	assert_true(prk_iscsi_name_has_type("naa.6001"));
	assert_false(prk_iscsi_name_has_type("iqn"));
	assert_false(prk_iscsi_name_has_type("target"));
	assert_false(prk_iscsi_name_has_type(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_urls),
	    cmocka_unit_test(bad_urls),
	    cmocka_unit_test(lengths),
	    cmocka_unit_test(name_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
