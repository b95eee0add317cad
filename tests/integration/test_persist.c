/* `prkit persist` against a real prkitd with two portals: sg_persist's text
 * as fence agents parse it (their regexes), mpathpersist semantics with
 * several URLs (register through every path, reserve through one,
 * preempting our own key re-registers the other paths), --json, and the
 * sg3_utils exit statuses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-11.io.prkit.test:node-a"
#define INI_B "iqn.2026-11.io.prkit.test:node-b"

static struct h_daemon daemon_;
static char u0[256], u1[256];
static char out[65536], err[8192];

static int setup(void **state)
{
	(void)state;
	if (h_start_basic(&daemon_, 2, 16))
		return -1;
	snprintf(u0, sizeof(u0), "iscsi://127.0.0.1:%u/%s/0", daemon_.ports[0], H_TARGET);
	snprintf(u1, sizeof(u1), "iscsi://127.0.0.1:%u/%s/0", daemon_.ports[1], H_TARGET);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* prkit persist --initiator INI ARGS... (NULL-terminated). */
static int persist(const char *ini, ...)
{
	const char *args[32] = {"persist", "--initiator", ini};
	int n = 3;
	va_list ap;
	va_start(ap, ini);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 31)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), args);
}

/* Every match of fence_scsi's pattern for READ KEYS lines. */
static int keys_like_fence_scsi(const char *text, char found[][32], int cap)
{
	regex_t re;
	assert_int_equal(
	    regcomp(&re, "^[[:space:]]+0x([^[:space:]]+)$", REG_EXTENDED | REG_NEWLINE), 0);
	int n = 0;
	const char *p = text;
	regmatch_t m[2];
	while (n < cap && regexec(&re, p, 2, m, 0) == 0) {
		int len = (int)(m[1].rm_eo - m[1].rm_so);
		snprintf(found[n++], 32, "%.*s", len, p + m[1].rm_so);
		p += m[0].rm_eo;
	}
	regfree(&re);
	return n;
}

static void test_register_every_path_text_as_fence_agents_parse(void **state)
{
	(void)state;
	assert_int_equal(persist(INI_A, "--out", "--register", "--param-sark=0xabc1", u0, u1, NULL),
	                 0);
	assert_int_equal(persist(INI_A, "-n", "-i", "-k", u0, u1, NULL), 0);
	assert_non_null(
	    strstr(out, "  PR generation=0x2, 2 registered reservation keys follow:\n"));
	char keys[8][32];
	assert_int_equal(keys_like_fence_scsi(out, keys, 8), 2);
	assert_string_equal(keys[0], "abc1");
	assert_string_equal(keys[1], "abc1");

	assert_int_equal(persist(INI_A, "--out", "--reserve", "--param-rk=0xabc1", "--prout-type=5",
	                         u0, u1, NULL),
	                 0);
	assert_int_equal(persist(INI_A, "-n", "-i", "-r", u0, NULL), 0);
	regex_t re;
	regmatch_t m[2];
	assert_int_equal(
	    regcomp(&re, "Key[[:space:]]*=[[:space:]]*0x([^[:space:]]+)", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, out, 2, m, 0), 0);
	regfree(&re);
	assert_int_equal(strncmp(out + m[1].rm_so, "abc1", 4), 0);
	assert_non_null(strstr(out, "type: Write Exclusive, registrants only"));

	/* Without -n: the INQUIRY lines first, as sg_persist prints them. */
	assert_int_equal(persist(INI_A, "-i", "-k", u0, NULL), 0);
	assert_non_null(strstr(out, "Peripheral device type: disk\n"));
}

static void test_json_and_exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(persist(INI_A, "--out", "--register", "--param-sark=0xa", u0, u1, NULL),
	                 0);
	assert_int_equal(
	    persist(INI_A, "--out", "--reserve", "--param-rk=0xa", "--prout-type=5", u0, NULL), 0);
	/* Another node cannot reserve: RESERVATION CONFLICT, exit 24. */
	assert_int_equal(persist(INI_B, "--out", "--register", "--param-sark=0xb", u0, NULL), 0);
	assert_int_equal(
	    persist(INI_B, "--out", "--reserve", "--param-rk=0xb", "--prout-type=5", u0, NULL), 24);
	assert_non_null(strstr(err, "RESERVATION CONFLICT"));

	assert_int_equal(persist(INI_B, "-n", "-i", "-k", "--json", u0, NULL), 0);
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	json_object *keys;
	assert_true(json_object_object_get_ex(o, "keys", &keys));
	assert_int_equal(json_object_array_length(keys), 3);
	json_object_put(o);

	/* A bad URL is a syntax error (1) naming it; a wrong type too. */
	assert_int_equal(persist(INI_A, "-i", "-k", "iscsi://127.0.0.1/", NULL), 1);
	assert_true(strlen(err) > 0);
	assert_int_equal(
	    persist(INI_A, "--out", "--reserve", "--param-rk=0xa", "--prout-type=2", u0, NULL), 1);
	assert_non_null(strstr(err, "prout-type"));
}

/* PREEMPT AND ABORT of our own key moves the reservation to the path it
 * was sent through and drops our other registrations: prkit persist puts
 * them back (fence-agents #594 left one key instead of one per path). */
static void test_preempt_own_key_keeps_one_registration_per_path(void **state)
{
	(void)state;
	assert_int_equal(persist(INI_A, "--out", "--register", "--param-sark=0xc", u0, u1, NULL),
	                 0);
	assert_int_equal(
	    persist(INI_A, "--out", "--reserve", "--param-rk=0xc", "--prout-type=5", u1, NULL), 0);
	assert_int_equal(persist(INI_A, "--out", "--preempt-abort", "--param-rk=0xc",
	                         "--param-sark=0xc", "--prout-type=5", u0, u1, NULL),
	                 0);
	assert_int_equal(persist(INI_A, "-n", "-i", "-k", u0, NULL), 0);
	char keys[8][32];
	assert_int_equal(keys_like_fence_scsi(out, keys, 8), 2);
	assert_int_equal(persist(INI_A, "-n", "-i", "-s", u0, NULL), 0);
	assert_non_null(strstr(out, "<< Reservation holder >>"));
}

/* After another node preempts us, our next command reports the unit
 * attention (it is not swallowed). */
static void test_unit_attention_is_reported(void **state)
{
	(void)state;
	assert_int_equal(persist(INI_A, "--out", "--register", "--param-sark=0xd", u0, NULL), 0);
	assert_int_equal(persist(INI_B, "--out", "--register", "--param-sark=0xe", u0, NULL), 0);
	assert_int_equal(persist(INI_B, "--out", "--preempt-abort", "--param-rk=0xe",
	                         "--param-sark=0xd", "--prout-type=5", u0, NULL),
	                 0);
	assert_int_equal(persist(INI_A, "-n", "-i", "-k", u0, NULL), 0);
	assert_non_null(strstr(err, "unit attention 2a/05"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_register_every_path_text_as_fence_agents_parse,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_and_exit_statuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_preempt_own_key_keeps_one_registration_per_path,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unit_attention_is_reported, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
