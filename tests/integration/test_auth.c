/* Integration tests of login authentication and authorization against a
 * real prkitd: one-way and mutual CHAP, ACLs, per-ACL CHAP credentials
 * that override the target's, and discovery filtered by the ACLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"
#define INI_C "iqn.2026-11.io.prkit.test:host-c"

/* One-way CHAP, everyone may log in. */
#define T_CHAP "iqn.2026-11.io.prkit.test:chap"
#define CHAP_USER "tgtuser"
#define CHAP_SECRET "chap-secret-0001"
/* Mutual CHAP. */
#define T_MUTUAL "iqn.2026-11.io.prkit.test:mutual"
#define MU_USER "muser"
#define MU_SECRET "mutual-ini-secret"
#define MU_TGT_USER "mtarget"
#define MU_TGT_SECRET "mutual-tgt-secret"
/* An ACL without CHAP: host-a only. */
#define T_ACL "iqn.2026-11.io.prkit.test:acl"
/* Target CHAP, and an ACL where host-b has its own credentials. */
#define T_ACLCHAP "iqn.2026-11.io.prkit.test:aclchap"
#define AC_USER "tgtuser2"
#define AC_SECRET "target-secret-02"
#define B_USER "hostb"
#define B_SECRET "host-b-secret-12"

static struct h_daemon daemon_;

#define LUN_RAM "\"luns\": [{\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}]"

static int setup(void **state)
{
	(void)state;
	static const char cfg[] =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	    " \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000,"
	    " \"targets\": ["
	    "  {\"name\": \"" T_CHAP "\","
	    "   \"chap\": {\"user\": \"" CHAP_USER "\", \"secret\": \"" CHAP_SECRET "\"},"
	    "   " LUN_RAM "},"
	    "  {\"name\": \"" T_MUTUAL "\","
	    "   \"chap\": {\"user\": \"" MU_USER "\", \"secret\": \"" MU_SECRET "\","
	    "              \"mutual_user\": \"" MU_TGT_USER "\","
	    "              \"mutual_secret\": \"" MU_TGT_SECRET "\"},"
	    "   " LUN_RAM "},"
	    "  {\"name\": \"" T_ACL "\", \"acls\": [{\"initiator\": \"" INI_A "\"}],"
	    "   " LUN_RAM "},"
	    "  {\"name\": \"" T_ACLCHAP "\","
	    "   \"chap\": {\"user\": \"" AC_USER "\", \"secret\": \"" AC_SECRET "\"},"
	    "   \"acls\": [{\"initiator\": \"" INI_A "\"},"
	    "              {\"initiator\": \"" INI_B "\", \"chap\": {\"user\": \"" B_USER
	    "\", \"secret\": \"" B_SECRET "\"}}],"
	    "   " LUN_RAM "}"
	    " ]}";
	return h_start(&daemon_, cfg);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static uint32_t next_isid = 1;

/* Logs in; on success checks that the session really works (TEST UNIT
 * READY after the power-on UA) and logs out. Returns 1 when the login
 * succeeded, 0 when it failed; the libiscsi error text goes to err. */
static int try_login(const char *initiator, const char *target, const char *user,
                     const char *secret, const char *muser, const char *msecret, char *err,
                     size_t cap)
{
	struct h_login_opts o = {.target = target,
	                         .user = user,
	                         .secret = secret,
	                         .mutual_user = muser,
	                         .mutual_secret = msecret,
	                         .error = err,
	                         .error_cap = cap};
	struct iscsi_context *iscsi = h_login_ex(&daemon_, 0, initiator, next_isid++, &o);
	if (!iscsi)
		return 0;
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	h_logout(iscsi);
	return 1;
}

static int login_ok(const char *ini, const char *tgt, const char *user, const char *secret)
{
	char err[256];
	return try_login(ini, tgt, user, secret, NULL, NULL, err, sizeof(err));
}

/* ---- one-way CHAP ---- */

static void test_chap_without_credentials_fails(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(try_login(INI_A, T_CHAP, NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	/* Login status 02/01: authentication failure. */
	assert_non_null(strstr(err, "uthentication"));
	assert_true(h_log_wait(&daemon_, "failed login", 5000));
}

static void test_chap_wrong_secret_fails(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(
	    try_login(INI_A, T_CHAP, CHAP_USER, "chap-secret-0002", NULL, NULL, err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "uthentication"));
}

static void test_chap_wrong_user_fails(void **state)
{
	(void)state;
	assert_int_equal(login_ok(INI_A, T_CHAP, "someoneelse", CHAP_SECRET), 0);
}

static void test_chap_right_credentials_succeed(void **state)
{
	(void)state;
	assert_int_equal(login_ok(INI_A, T_CHAP, CHAP_USER, CHAP_SECRET), 1);
	/* Any initiator may log in: the target has no ACL. */
	assert_int_equal(login_ok(INI_C, T_CHAP, CHAP_USER, CHAP_SECRET), 1);
}

/* ---- mutual CHAP ---- */

static void test_mutual_chap_right_target_secret_succeeds(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(try_login(INI_A, T_MUTUAL, MU_USER, MU_SECRET, MU_TGT_USER, MU_TGT_SECRET,
	                           err, sizeof(err)),
	                 1);
}

static void test_mutual_chap_wrong_target_secret_fails(void **state)
{
	(void)state;
	char err[256];
	/* The target proves itself with its own secret, which the initiator
	 * does not accept: libiscsi fails the login. */
	assert_int_equal(try_login(INI_A, T_MUTUAL, MU_USER, MU_SECRET, MU_TGT_USER,
	                           "not-the-target-secret", err, sizeof(err)),
	                 0);
	assert_non_null(strstr(err, "CHAP_R"));
}

static void test_mutual_chap_wrong_initiator_secret_fails(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(try_login(INI_A, T_MUTUAL, MU_USER, "mutual-ini-wrong", MU_TGT_USER,
	                           MU_TGT_SECRET, err, sizeof(err)),
	                 0);
	assert_non_null(strstr(err, "uthentication"));
}

/* A target configured for mutual CHAP insists on it. */
static void test_mutual_chap_required_one_way_fails(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(
	    try_login(INI_A, T_MUTUAL, MU_USER, MU_SECRET, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "uthentication"));
}

/* ---- ACLs ---- */

static void test_acl_admits_listed_initiator(void **state)
{
	(void)state;
	assert_int_equal(login_ok(INI_A, T_ACL, NULL, NULL), 1);
	/* Initiator names compare case-insensitively. */
	assert_int_equal(login_ok("IQN.2026-11.IO.PRKIT.TEST:HOST-A", T_ACL, NULL, NULL), 1);
}

static void test_acl_refuses_other_initiator(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(try_login(INI_B, T_ACL, NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	/* Login status 02/02: authorization failure. */
	assert_non_null(strstr(err, "uthorization"));
	assert_int_equal(try_login(INI_C, T_ACL, NULL, NULL, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "uthorization"));
}

/* host-b's ACL entry has its own credentials: they replace the target's
 * for host-b; host-a (an entry without CHAP) uses the target's. */
static void test_acl_chap_overrides_target_chap(void **state)
{
	(void)state;
	assert_int_equal(login_ok(INI_B, T_ACLCHAP, B_USER, B_SECRET), 1);
	assert_int_equal(login_ok(INI_B, T_ACLCHAP, AC_USER, AC_SECRET), 0);
	assert_int_equal(login_ok(INI_B, T_ACLCHAP, B_USER, AC_SECRET), 0);
	assert_int_equal(login_ok(INI_B, T_ACLCHAP, NULL, NULL), 0);
	assert_int_equal(login_ok(INI_A, T_ACLCHAP, AC_USER, AC_SECRET), 1);
	assert_int_equal(login_ok(INI_A, T_ACLCHAP, B_USER, B_SECRET), 0);
	assert_int_equal(login_ok(INI_A, T_ACLCHAP, NULL, NULL), 0);
	/* Not in the ACL: refused whatever the credentials. */
	char err[256];
	assert_int_equal(
	    try_login(INI_C, T_ACLCHAP, AC_USER, AC_SECRET, NULL, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "uthorization"));
	assert_int_equal(
	    try_login(INI_C, T_ACLCHAP, B_USER, B_SECRET, NULL, NULL, err, sizeof(err)), 0);
}

/* ---- discovery ---- */

static int listed(const char *list, const char *name)
{
	char line[256];
	snprintf(line, sizeof(line), "%s\n", name);
	return strstr(list, line) != NULL;
}

static void test_discovery_lists_only_admitted_targets(void **state)
{
	(void)state;
	char list[2048];
	/* host-a is in both ACLs. */
	assert_int_equal(h_discover(&daemon_, 0, INI_A, list, sizeof(list)), 4);
	assert_true(listed(list, T_CHAP));
	assert_true(listed(list, T_MUTUAL));
	assert_true(listed(list, T_ACL));
	assert_true(listed(list, T_ACLCHAP));
	/* host-b: not in T_ACL's ACL. */
	assert_int_equal(h_discover(&daemon_, 0, INI_B, list, sizeof(list)), 3);
	assert_true(listed(list, T_CHAP));
	assert_true(listed(list, T_MUTUAL));
	assert_false(listed(list, T_ACL));
	assert_true(listed(list, T_ACLCHAP));
	/* host-c: in no ACL; sees only the targets without one. */
	assert_int_equal(h_discover(&daemon_, 0, INI_C, list, sizeof(list)), 2);
	assert_true(listed(list, T_CHAP));
	assert_true(listed(list, T_MUTUAL));
	assert_false(listed(list, T_ACL));
	assert_false(listed(list, T_ACLCHAP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chap_without_credentials_fails),
	    cmocka_unit_test(test_chap_wrong_secret_fails),
	    cmocka_unit_test(test_chap_wrong_user_fails),
	    cmocka_unit_test(test_chap_right_credentials_succeed),
	    cmocka_unit_test(test_mutual_chap_right_target_secret_succeeds),
	    cmocka_unit_test(test_mutual_chap_wrong_target_secret_fails),
	    cmocka_unit_test(test_mutual_chap_wrong_initiator_secret_fails),
	    cmocka_unit_test(test_mutual_chap_required_one_way_fails),
	    cmocka_unit_test(test_acl_admits_listed_initiator),
	    cmocka_unit_test(test_acl_refuses_other_initiator),
	    cmocka_unit_test(test_acl_chap_overrides_target_chap),
	    cmocka_unit_test(test_discovery_lists_only_admitted_targets),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
