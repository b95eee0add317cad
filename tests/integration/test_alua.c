/* Integration tests of ALUA and of an SPC-2-only LU over real iSCSI
 * sessions: REPORT TARGET PORT GROUPS listing both portals' groups with
 * their states, READ through a standby or unavailable portal refused with
 * NOT READY 04/0B / 04/0C, the admin socket's set-alua changing a state at
 * run time (2A/06 on every nexus, then the read works), the portals list
 * showing the states, and a LU configured without persistent reservations.
 *
 * Every test gets a fresh prkitd with two portals (tpgt/rtpi 1 and 2, the
 * second in standby) and two LUNs: LUN 0 with persistent reservations,
 * LUN 1 without. The state changes go through the admin socket directly
 * (the request `prkit target set-alua` sends); test_cli_set_alua runs the
 * CLI itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"

#define ASCQ_INVALID_OPCODE 0x2000
#define ASCQ_POWER_ON 0x2900
#define ASCQ_STATE_CHANGED 0x2a06
#define ASCQ_STANDBY 0x040b
#define ASCQ_UNAVAILABLE 0x040c

#define AO 0x0
#define STANDBY 0x2
#define UNAVAILABLE 0x3

static struct h_daemon daemon_;

static const char config[] =
    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0},"
    "  {\"address\": \"127.0.0.1\", \"port\": 0, \"alua_state\": \"standby\"}],"
    " \"admin_socket\": \"@DIR@/admin.sock\", \"nop_interval_ms\": 60000,"
    " \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
    "  {\"backstore\": {\"type\": \"ram\", \"size\": \"8M\"}},"
    "  {\"backstore\": {\"type\": \"ram\", \"size\": \"8M\"},"
    "   \"persistent_reservations\": false}]}]}";

static int setup(void **state)
{
	(void)state;
	return h_start(&daemon_, config);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

/* Logs in without any command (libiscsi's full connect would send TEST
 * UNIT READY, which a standby port refuses), then consumes the power-on
 * unit attention of LUNs 0 and 1: TEST UNIT READY reports it whatever the
 * port's state, as unit attentions come before the ALUA check. */
static struct iscsi_context *login(int portal, const char *ini, uint32_t q)
{
	struct h_login_opts o = {.no_tur = 1};
	struct iscsi_context *iscsi = h_login_ex(&daemon_, portal, ini, q, &o);
	assert_non_null(iscsi);
	for (int lun = 0; lun < 2; lun++) {
		struct scsi_task *t = iscsi_testunitready_sync(iscsi, lun);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(t->sense.key, SCSI_SENSE_UNIT_ATTENTION);
		assert_int_equal(t->sense.ascq, ASCQ_POWER_ON);
		scsi_free_scsi_task(t);
	}
	return iscsi;
}

static int read10(struct iscsi_context *iscsi, int lun)
{
	return h_status(iscsi_read10_sync(iscsi, lun, 0, 512, 512, 0, 0, 0, 0, 0));
}

/* REPORT TARGET PORT GROUPS (MAINTENANCE IN, service action 0Ah) with a raw
 * CDB: the data goes to buf, its length is returned. */
static size_t rtpg(struct iscsi_context *iscsi, bool extended, uint8_t *buf, size_t cap)
{
	uint8_t cdb[12] = {0xa3, (uint8_t)(0x0a | (extended ? 0x20 : 0))};
	cdb[6] = (uint8_t)(cap >> 24);
	cdb[7] = (uint8_t)(cap >> 16);
	cdb[8] = (uint8_t)(cap >> 8);
	cdb[9] = (uint8_t)cap;
	struct scsi_task *t = scsi_create_task(12, cdb, SCSI_XFER_READ, (int)cap);
	assert_non_null(t);
	assert_non_null(iscsi_scsi_command_sync(iscsi, 0, t, NULL));
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	size_t n = (size_t)t->datain.size < cap ? (size_t)t->datain.size : cap;
	memcpy(buf, t->datain.data, n);
	scsi_free_scsi_task(t);
	return n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Checks that RTPG through this session lists exactly the groups of both
 * portals: (tpg 1, rtpi 1) in state s1 and (tpg 2, rtpi 2) in state s2. */
static void assert_groups(struct iscsi_context *iscsi, uint8_t s1, uint8_t s2)
{
	for (int ext = 0; ext < 2; ext++) {
		uint8_t buf[256];
		size_t n = rtpg(iscsi, ext, buf, sizeof(buf));
		size_t off = ext ? 8 : 4;
		assert_int_equal(n, off + 2 * 12);
		assert_int_equal(be32(buf), n - 4);
		if (ext)
			assert_int_equal(buf[4] & 0x70, 0x10);
		const uint8_t want_state[2] = {s1, s2};
		for (int g = 0; g < 2; g++) {
			const uint8_t *d = buf + off + 12 * g;
			assert_int_equal(d[0] & 0x0f, want_state[g]);
			assert_int_equal(d[1], 0x8f); /* T_SUP U_SUP S_SUP AN_SUP AO_SUP */
			assert_int_equal(be16(d + 2), g + 1);
			assert_int_equal(d[7], 1);
			assert_int_equal(be16(d + 10), g + 1);
		}
	}
}

/* One request on the admin socket (what `prkit target` sends); returns the
 * parsed answer (json_object_put it). */
static json_object *admin(const char *request)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	h_admin_path(&daemon_, sa.sun_path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	size_t len = strlen(request);
	assert_int_equal(write(fd, request, len), (ssize_t)len);
	assert_int_equal(write(fd, "\n", 1), 1);
	static char buf[65536];
	size_t have = 0;
	ssize_t r;
	while (have < sizeof(buf) - 1 && (r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)r;
	close(fd);
	buf[have] = 0;
	json_object *o = json_tokener_parse(buf);
	assert_non_null(o);
	return o;
}

static bool answer_ok(json_object *o)
{
	json_object *v;
	return json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
}

/* set-alua for portal i; returns "changed" (asserts "ok"). */
static bool set_alua(int portal, const char *state)
{
	char req[256];
	snprintf(req, sizeof(req),
	         "{\"cmd\": \"set-alua\", \"address\": \"127.0.0.1\", \"port\": %u, "
	         "\"state\": \"%s\"}",
	         daemon_.ports[portal], state);
	json_object *o = admin(req);
	if (!answer_ok(o))
		fail_msg("set-alua: %s", json_object_to_json_string(o));
	json_object *v;
	assert_true(json_object_object_get_ex(o, "changed", &v));
	bool changed = json_object_get_boolean(v);
	json_object_put(o);
	return changed;
}

/* The "alua_state" the portals list shows for portal i. */
static void assert_portal_state(int portal, const char *want)
{
	json_object *o = admin("{\"cmd\": \"portals\"}");
	assert_true(answer_ok(o));
	json_object *ps, *v;
	assert_true(json_object_object_get_ex(o, "portals", &ps));
	bool found = false;
	for (size_t i = 0; i < json_object_array_length(ps); i++) {
		json_object *p = json_object_array_get_idx(ps, i);
		assert_true(json_object_object_get_ex(p, "port", &v));
		if (json_object_get_int(v) != daemon_.ports[portal])
			continue;
		assert_true(json_object_object_get_ex(p, "alua_state", &v));
		assert_string_equal(json_object_get_string(v), want);
		found = true;
	}
	assert_true(found);
	json_object_put(o);
}

/* ---- tests ---- */

static void test_standby_then_active(void **state)
{
	(void)state;
	struct iscsi_context *a0 = login(0, INI_A, 1), *a1 = login(1, INI_A, 2);

	/* Both groups, through either port, with their configured states. */
	assert_groups(a0, AO, STANDBY);
	assert_groups(a1, AO, STANDBY);
	assert_portal_state(0, "active_optimized");
	assert_portal_state(1, "standby");

	/* The standby port refuses medium access and TEST UNIT READY. */
	h_assert_sense(read10(a1, 0), SCSI_SENSE_NOT_READY, ASCQ_STANDBY);
	h_assert_sense(h_tur(a1, 0), SCSI_SENSE_NOT_READY, ASCQ_STANDBY);
	assert_int_equal(read10(a0, 0), SCSI_STATUS_GOOD);
	/* INQUIRY still answers through it. */
	assert_int_equal(h_status(iscsi_inquiry_sync(a1, 0, 0, 0, 96)), SCSI_STATUS_GOOD);

	/* The administrator makes the port active/optimized. */
	assert_true(set_alua(1, "active_optimized"));
	assert_true(h_log_contains(&daemon_, "ALUA state active_optimized"));
	assert_portal_state(1, "active_optimized");

	/* Every nexus reports 2A/06 once, then the read works. */
	h_assert_sense(read10(a1, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	assert_int_equal(read10(a1, 0), SCSI_STATUS_GOOD);
	h_assert_sense(read10(a0, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	assert_int_equal(read10(a0, 0), SCSI_STATUS_GOOD);
	/* ...on every LU. */
	h_assert_sense(h_tur(a1, 1), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	assert_int_equal(h_tur(a1, 1), SCSI_STATUS_GOOD);
	assert_groups(a0, AO, AO);

	/* Setting the same state again changes nothing: no unit attention. */
	assert_false(set_alua(1, "active_optimized"));
	assert_int_equal(h_tur(a0, 0), SCSI_STATUS_GOOD);

	h_logout(a0);
	h_logout(a1);
}

static void test_unavailable(void **state)
{
	(void)state;
	struct iscsi_context *a0 = login(0, INI_A, 1), *a1 = login(1, INI_A, 2);
	assert_true(set_alua(1, "unavailable"));
	h_assert_sense(h_tur(a1, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	h_assert_sense(read10(a1, 0), SCSI_SENSE_NOT_READY, ASCQ_UNAVAILABLE);
	assert_groups(a1, AO, UNAVAILABLE);
	/* And the first portal can be put in standby too. */
	assert_true(set_alua(0, "standby"));
	h_assert_sense(read10(a0, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	h_assert_sense(read10(a0, 0), SCSI_SENSE_NOT_READY, ASCQ_STANDBY);
	/* RTPG is not exempt from unit attentions: a1 reports the second
	 * change first. */
	h_assert_sense(h_tur(a1, 0), SCSI_SENSE_UNIT_ATTENTION, ASCQ_STATE_CHANGED);
	assert_groups(a1, STANDBY, UNAVAILABLE);
	h_logout(a0);
	h_logout(a1);
}

static void test_set_alua_errors(void **state)
{
	(void)state;
	char req[256];
	snprintf(req, sizeof(req),
	         "{\"cmd\": \"set-alua\", \"address\": \"127.0.0.1\", \"port\": %u, "
	         "\"state\": \"transitioning\"}",
	         daemon_.ports[1]);
	json_object *o = admin(req);
	assert_false(answer_ok(o));
	json_object *v;
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_non_null(strstr(json_object_get_string(v), "state"));
	json_object_put(o);

	o = admin("{\"cmd\": \"set-alua\", \"address\": \"127.0.0.9\", \"port\": 1, "
	          "\"state\": \"standby\"}");
	assert_false(answer_ok(o));
	assert_true(json_object_object_get_ex(o, "error", &v));
	assert_non_null(strstr(json_object_get_string(v), "no portal 127.0.0.9:1"));
	json_object_put(o);
	assert_portal_state(1, "standby");
}

/* LUN 1 has no persistent reservations: PR IN/OUT are unsupported opcodes,
 * RESERVE(6)/RELEASE(6) work. */
static void test_no_pr_lun(void **state)
{
	(void)state;
	struct iscsi_context *a = login(0, INI_A, 1), *b = login(0, INI_B, 1);
	h_assert_sense(h_status(iscsi_persistent_reserve_in_sync(a, 1, 0, 256)),
	               SCSI_SENSE_ILLEGAL_REQUEST, ASCQ_INVALID_OPCODE);
	struct scsi_persistent_reserve_out_basic p = {.service_action_reservation_key = 1};
	h_assert_sense(h_status(iscsi_persistent_reserve_out_sync(
	                   a, 1, SCSI_PERSISTENT_RESERVE_REGISTER, 0, 0, &p)),
	               SCSI_SENSE_ILLEGAL_REQUEST, ASCQ_INVALID_OPCODE);
	/* LUN 0 keeps them. */
	assert_int_equal(h_status(iscsi_persistent_reserve_in_sync(a, 0, 0, 256)),
	                 SCSI_STATUS_GOOD);

	assert_int_equal(h_status(iscsi_reserve6_sync(a, 1)), SCSI_STATUS_GOOD);
	assert_int_equal(read10(b, 1), SCSI_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(read10(a, 1), SCSI_STATUS_GOOD);
	assert_int_equal(h_status(iscsi_release6_sync(a, 1)), SCSI_STATUS_GOOD);
	assert_int_equal(read10(b, 1), SCSI_STATUS_GOOD);

	/* The admin socket shows it. */
	json_object *o = admin("{\"cmd\": \"targets\"}"), *ts, *v;
	assert_true(answer_ok(o));
	assert_true(json_object_object_get_ex(o, "targets", &ts));
	json_object *luns;
	assert_true(json_object_object_get_ex(json_object_array_get_idx(ts, 0), "luns", &luns));
	assert_int_equal(json_object_array_length(luns), 2);
	for (size_t i = 0; i < 2; i++) {
		json_object *l = json_object_array_get_idx(luns, i);
		assert_true(json_object_object_get_ex(l, "lun", &v));
		int lun = json_object_get_int(v);
		assert_true(json_object_object_get_ex(l, "persistent_reservations", &v));
		assert_int_equal(json_object_get_boolean(v), lun == 0);
	}
	json_object_put(o);
	h_logout(a);
	h_logout(b);
}

/* `prkit target set-alua`, `portals` (text and --json) and `add-lu --no-pr`. */
static void test_cli_set_alua(void **state)
{
	(void)state;
	static char out[65536], err[4096];
	char addr[64], want[128];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", daemon_.ports[1]);
#define CLI(...)                                                                                   \
	({                                                                                         \
		const char *args_[] = {__VA_ARGS__, NULL};                                         \
		h_cli(&daemon_, out, sizeof(out), err, sizeof(err), args_);                        \
	})
	assert_int_equal(CLI("portals"), 0);
	snprintf(want, sizeof(want), "%s  tpgt 2  rtpi 2  alua standby  connections", addr);
	if (!strstr(out, want))
		fail_msg("no \"%s\" in:\n%s", want, out);

	assert_int_equal(CLI("set-alua", addr, "active_non_optimized"), 0);
	assert_portal_state(1, "active_non_optimized");
	assert_int_equal(CLI("--json", "portals"), 0);
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	json_object *ps, *v;
	assert_true(json_object_object_get_ex(o, "portals", &ps));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(ps, 1), "alua_state", &v));
	assert_string_equal(json_object_get_string(v), "active_non_optimized");
	json_object_put(o);

	assert_int_equal(CLI("set-alua", addr, "bogus"), 1);
	assert_non_null(strstr(err, "state"));
	assert_int_equal(CLI("set-alua", addr), 2);
	assert_portal_state(1, "active_non_optimized");

	assert_int_equal(CLI("add-lu", H_TARGET, "5", "--ram", "1M", "--no-pr"), 0);
	assert_int_equal(CLI("list"), 0);
	/* "  lun N ... no-pr ..." for LUNs 1 and 5 only. */
	for (int lun = 0; lun < 6; lun += (lun == 1 ? 4 : 1)) {
		char key[32], line[512];
		snprintf(key, sizeof(key), "lun %-3d ", lun);
		const char *l = strstr(out, key);
		if (!l)
			fail_msg("no \"%s\" in:\n%s", key, out);
		size_t n = strcspn(l, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if ((strstr(line, "  no-pr") != NULL) != (lun != 0))
			fail_msg("LUN %d: %s", lun, line);
	}
#undef CLI
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_standby_then_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_alua_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_pr_lun, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli_set_alua, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
