/* Integration test of the LUs' identities: two targets whose LUN 0 has no
 * "serial" report two NAA identifiers in VPD 83h (a multipath host takes
 * LUs with one NAA for one device and mixes their data); a LU added at run
 * time without a serial after another was removed does not take the
 * remaining LU's identity; and add-lu with a serial another LU has is
 * refused, naming that LU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define T1 "iqn.2026-11.io.prkit.test:serial-one"
#define T2 "iqn.2026-11.io.prkit.test:serial-two"
#define INI "iqn.2026-11.io.prkit.test:host-a"
#define RAM "{\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}"

static struct h_daemon daemon_;
static char out[16384], err[4096];

#define CLI(...)                                                                                   \
	({                                                                                         \
		const char *args_[] = {__VA_ARGS__, NULL};                                         \
		h_cli(&daemon_, out, sizeof(out), err, sizeof(err), args_);                        \
	})

/* T1: LUNs 0 and 1, T2: LUN 0; none with a serial. */
static int setup(void **state)
{
	(void)state;
	return h_start(&daemon_,
	               "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
	               " \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000,"
	               " \"targets\": [{\"name\": \"" T1 "\", \"luns\": [" RAM "}, " RAM
	               ", \"lun\": 1}]},"
	               " {\"name\": \"" T2 "\", \"luns\": [" RAM "}]}]}");
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* The LU's NAA identifier, read by a session of its own to target. */
static void naa(const char *target, int lun, uint8_t out16[16])
{
	struct h_login_opts o = {.target = target};
	struct iscsi_context *c = h_login_ex(&daemon_, 0, INI, 1, &o);
	assert_non_null(c);
	h_lu_naa(c, lun, out16);
	h_logout(c);
}

static void test_two_targets_two_naas(void **state)
{
	(void)state;
	uint8_t a0[16], a1[16], b0[16];
	naa(T1, 0, a0);
	naa(T1, 1, a1);
	naa(T2, 0, b0);
	assert_memory_not_equal(a0, b0, 16);
	assert_memory_not_equal(a0, a1, 16);
	assert_memory_not_equal(a1, b0, 16);
}

/* Before the fix, the default counted the target's LUs: after LUN 0 was
 * removed, a LUN added next got index 1, the serial of the remaining
 * LUN 1. The LUN comes back with the identity it had: same target, same
 * LUN number. */
static void test_add_after_remove_keeps_identities_apart(void **state)
{
	(void)state;
	uint8_t before0[16], a0[16], a1[16], a2[16];
	naa(T1, 0, before0);
	assert_int_equal(CLI("remove-lu", T1, "0"), 0);
	assert_int_equal(CLI("add-lu", T1, "0", "--ram", "4M"), 0);
	naa(T1, 0, a0);
	naa(T1, 1, a1);
	assert_memory_not_equal(a0, a1, 16);
	assert_memory_equal(a0, before0, 16);
	/* and a new LUN number is a new identity */
	assert_int_equal(CLI("add-lu", T1, "2", "--ram", "4M"), 0);
	naa(T1, 2, a2);
	assert_memory_not_equal(a2, a0, 16);
	assert_memory_not_equal(a2, a1, 16);
}

static void test_add_lu_with_a_used_serial_refused(void **state)
{
	(void)state;
	uint8_t b0[16], b1[16];
	assert_int_equal(CLI("add-lu", T1, "3", "--ram", "4M", "--serial", "mine"), 0);
	assert_int_not_equal(CLI("add-lu", T2, "1", "--ram", "4M", "--serial", "mine"), 0);
	if (!strstr(err, "lun.serial: 'mine' is already used by target " T1 " LUN 3: two LUs "
	                 "with one serial have one NAA identifier"))
		fail_msg("unexpected error: %s", err);
	/* Nothing was added (LUN 1 is free for the next add-lu); serials
	 * compare exactly, so another case is another serial. */
	assert_int_equal(CLI("add-lu", T2, "1", "--ram", "4M", "--serial", "MINE"), 0);
	naa(T2, 0, b0);
	naa(T2, 1, b1);
	assert_memory_not_equal(b0, b1, 16);
	/* A LUN that exists is still named as such (its default serial is
	 * its own). */
	assert_int_not_equal(CLI("add-lu", T2, "0", "--ram", "4M"), 0);
	if (!strstr(err, "LUN 0 already exists"))
		fail_msg("unexpected error: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_targets_two_naas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_after_remove_keeps_identities_apart, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_add_lu_with_a_used_serial_refused, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
