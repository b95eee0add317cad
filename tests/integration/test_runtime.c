/* Integration tests of run-time administration: the `prkit target` CLI
 * talking to a running prkitd over its admin socket (list, add-lu,
 * remove-lu, add-portal / remove-portal, sessions), what logged-in
 * initiators see of the changes, and a clean stop on SIGTERM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-11.io.prkit.test:host-a"
#define INI_B "iqn.2026-11.io.prkit.test:host-b"

#define ASCQ_REPORTED_LUNS_CHANGED 0x3f0e
#define ASCQ_LU_NOT_SUPPORTED 0x2500

static struct h_daemon daemon_;

static int setup(void **state)
{
	(void)state;
	return h_start_basic(&daemon_, 1, 32);
}

static int teardown(void **state)
{
	(void)state;
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

static char out[65536], err[4096];

#define CLI(...)                                                                                   \
	({                                                                                         \
		const char *args_[] = {__VA_ARGS__, NULL};                                         \
		h_cli(&daemon_, out, sizeof(out), err, sizeof(err), args_);                        \
	})

/* `prkit target --json CMD`, parsed; asserts "ok": true. */
static json_object *cli_json(const char *cmd)
{
	assert_int_equal(CLI("--json", cmd), 0);
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	json_object *ok;
	assert_true(json_object_object_get_ex(o, "ok", &ok));
	assert_true(json_object_get_boolean(ok));
	return o;
}

/* LUN numbers REPORT LUNS lists, as a bit mask of LUNs 0..31. */
static uint32_t report_luns(struct iscsi_context *iscsi, int *count)
{
	struct scsi_task *t = iscsi_reportluns_sync(iscsi, 0, 1024);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_reportluns_list *l = scsi_datain_unmarshall(t);
	assert_non_null(l);
	uint32_t mask = 0;
	for (uint32_t i = 0; i < l->num; i++)
		if (l->luns[i] < 32)
			mask |= 1u << l->luns[i];
	*count = (int)l->num;
	scsi_free_scsi_task(t);
	return mask;
}

/* The next command on lun reports CHECK CONDITION / UNIT ATTENTION with
 * this ASC/ASCQ (after any other unit attentions queued before it). */
static void expect_ua(struct iscsi_context *iscsi, int lun, int ascq)
{
	for (int i = 0; i < 4; i++) {
		struct scsi_task *t = iscsi_testunitready_sync(iscsi, lun);
		assert_non_null(t);
		assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(t->sense.key, SCSI_SENSE_UNIT_ATTENTION);
		int got = t->sense.ascq;
		scsi_free_scsi_task(t);
		if (got == ascq)
			return;
	}
	fail_msg("no unit attention %04x on LUN %d", ascq, lun);
}

static void fill(uint8_t *buf, uint32_t len, unsigned seed)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 17 + seed * 101 + (i >> 9));
}

static void write_read_back(struct iscsi_context *iscsi, int lun, uint64_t lba, unsigned seed)
{
	const uint32_t len = 65536;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	fill(buf, len, seed);
	h_assert_write_read(iscsi, lun, lba, buf, len);
	free(buf);
}

static void read_compare(struct iscsi_context *iscsi, int lun, uint64_t lba, unsigned seed)
{
	const uint32_t len = 65536;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	fill(buf, len, seed);
	struct scsi_task *t = iscsi_read16_sync(iscsi, lun, lba, len, 512, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_memory_equal(t->datain.data, buf, len);
	scsi_free_scsi_task(t);
	free(buf);
}

static void test_list_shows_target_and_lun0(void **state)
{
	(void)state;
	assert_int_equal(CLI("list"), 0);
	assert_non_null(strstr(out, H_TARGET));
	assert_non_null(strstr(out, "lun 0 "));
	assert_null(strstr(out, "lun 1 "));

	json_object *o = cli_json("list");
	json_object *ts = h_member(o, "targets");
	assert_int_equal(json_object_array_length(ts), 1);
	json_object *t = json_object_array_get_idx(ts, 0);
	assert_string_equal(json_object_get_string(h_member(t, "name")), H_TARGET);
	json_object *luns = h_member(t, "luns");
	assert_int_equal(json_object_array_length(luns), 1);
	json_object *l0 = json_object_array_get_idx(luns, 0);
	assert_int_equal(json_object_get_int(h_member(l0, "lun")), 0);
	assert_string_equal(json_object_get_string(h_member(l0, "backstore")), "ram");
	assert_int_equal(json_object_get_int64(h_member(l0, "size")), 32 << 20);
	assert_int_equal(json_object_get_int(h_member(l0, "block_size")), 512);
	json_object_put(o);
}

static void test_add_lu_seen_by_logged_in_session(void **state)
{
	(void)state;
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 1);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	write_read_back(iscsi, 0, 200, 1);
	int n;
	assert_int_equal(report_luns(iscsi, &n), 1u);
	assert_int_equal(n, 1);

	assert_int_equal(CLI("add-lu", H_TARGET, "1", "--ram", "16M"), 0);
	assert_true(h_log_contains(&daemon_, "admin: added LUN 1"));
	/* The session's next command on LUN 0 reports the new inventory. */
	expect_ua(iscsi, 0, ASCQ_REPORTED_LUNS_CHANGED);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	assert_int_equal(report_luns(iscsi, &n), 0x3u);
	assert_int_equal(n, 2);

	/* LUN 1 works: 16 MiB, readable and writable, and separate from LUN 0. */
	assert_int_equal(h_clear_ua(iscsi, 1), SCSI_STATUS_GOOD);
	struct scsi_task *t = iscsi_readcapacity16_sync(iscsi, 1);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	struct scsi_readcapacity16 *rc = scsi_datain_unmarshall(t);
	assert_non_null(rc);
	assert_int_equal(rc->block_length, 512);
	assert_int_equal(rc->returned_lba + 1, 16 * 2048);
	scsi_free_scsi_task(t);
	write_read_back(iscsi, 1, 200, 2);
	read_compare(iscsi, 0, 200, 1);

	assert_int_equal(CLI("list"), 0);
	assert_non_null(strstr(out, "lun 1 "));
	/* A LUN that exists already is refused, naming it. */
	assert_int_not_equal(CLI("add-lu", H_TARGET, "1", "--ram", "16M"), 0);
	assert_non_null(strstr(err, "LUN 1 already exists"));

	/* A session that logs in now sees both from the start. */
	struct iscsi_context *b = h_login(&daemon_, 0, INI_B, 2);
	assert_non_null(b);
	assert_int_equal(report_luns(b, &n), 0x3u);
	assert_int_equal(h_clear_ua(b, 1), SCSI_STATUS_GOOD);
	read_compare(b, 1, 200, 2);
	h_logout(b);

	/* Back to the configured inventory for the tests that follow. */
	assert_int_equal(CLI("remove-lu", H_TARGET, "1"), 0);
	h_logout(iscsi);
}

static void test_remove_lu(void **state)
{
	(void)state;
	assert_int_equal(CLI("add-lu", H_TARGET, "2", "--ram", "8M", "--serial", "rmme2"), 0);
	struct iscsi_context *iscsi = h_login(&daemon_, 0, INI_A, 3);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	assert_int_equal(h_clear_ua(iscsi, 2), SCSI_STATUS_GOOD);
	int n;
	assert_int_equal(report_luns(iscsi, &n), 0x5u);

	assert_int_equal(CLI("remove-lu", H_TARGET, "2"), 0);
	assert_true(h_log_contains(&daemon_, "admin: removed LUN 2"));
	expect_ua(iscsi, 0, ASCQ_REPORTED_LUNS_CHANGED);
	assert_int_equal(report_luns(iscsi, &n), 0x1u);
	assert_int_equal(n, 1);
	/* The LUN is gone: LOGICAL UNIT NOT SUPPORTED. */
	struct scsi_task *t = iscsi_testunitready_sync(iscsi, 2);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(t->sense.key, SCSI_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(t->sense.ascq, ASCQ_LU_NOT_SUPPORTED);
	scsi_free_scsi_task(t);
	assert_int_equal(CLI("list"), 0);
	assert_null(strstr(out, "lun 2 "));
	assert_null(strstr(out, "rmme2"));
	/* LUN 0 is untouched. */
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	write_read_back(iscsi, 0, 300, 3);

	/* A LUN that does not exist: non-zero exit, and the message names it. */
	int rc = CLI("remove-lu", H_TARGET, "7");
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "LUN 7"));
	assert_non_null(strstr(err, H_TARGET));
	/* Nor a target that does not exist. */
	rc = CLI("remove-lu", "iqn.2026-11.io.prkit.test:nosuch", "0");
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err, "iqn.2026-11.io.prkit.test:nosuch"));
	/* Bad arguments are refused before reaching the daemon. */
	assert_int_equal(CLI("remove-lu", H_TARGET, "16384"), 2);
	assert_int_equal(CLI("remove-lu", H_TARGET, "x"), 2);
	h_logout(iscsi);
}

static void test_add_portal_any_port(void **state)
{
	(void)state;
	assert_int_equal(CLI("add-portal", "127.0.0.1:0"), 0);
	json_object *o = cli_json("portals");
	json_object *ps = h_member(o, "portals");
	assert_int_equal(json_object_array_length(ps), 2);
	json_object *p0 = json_object_array_get_idx(ps, 0);
	json_object *p1 = json_object_array_get_idx(ps, 1);
	assert_int_equal(json_object_get_int(h_member(p0, "port")), daemon_.ports[0]);
	assert_string_equal(json_object_get_string(h_member(p1, "address")), "127.0.0.1");
	int port = json_object_get_int(h_member(p1, "port"));
	assert_true(port > 0 && port <= 65535 && port != daemon_.ports[0]);
	/* The next free portal group tag and relative target port id. */
	assert_int_equal(json_object_get_int(h_member(p1, "tpgt")), 2);
	assert_int_equal(json_object_get_int(h_member(p1, "rtpi")), 2);
	json_object_put(o);

	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%d  tpgt 2  rtpi 2", port);
	assert_int_equal(CLI("portals"), 0);
	assert_non_null(strstr(out, want));

	/* Initiators log in through it, as another target port. */
	daemon_.ports[1] = (uint16_t)port;
	daemon_.n_ports = 2;
	struct iscsi_context *iscsi = h_login(&daemon_, 1, INI_A, 4);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	write_read_back(iscsi, 0, 400, 4);
	o = cli_json("portals");
	p1 = json_object_array_get_idx(h_member(o, "portals"), 1);
	assert_int_equal(json_object_get_int(h_member(p1, "connections")), 1);
	json_object_put(o);
	h_logout(iscsi);

	/* A portal address that is not one. */
	assert_int_not_equal(CLI("add-portal", "nowhere:0"), 0);
	assert_non_null(strstr(err, "nowhere"));

	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(CLI("remove-portal", addr), 0);
	o = cli_json("portals");
	assert_int_equal(json_object_array_length(h_member(o, "portals")), 1);
	json_object_put(o);
	daemon_.n_ports = 1;
	assert_int_not_equal(CLI("remove-portal", addr), 0);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* PERSISTENT RESERVE OUT / REGISTER AND MOVE to initiator port (name,
 * isid) through relative target port rtpi. Returns the status; the sense
 * ASC/ASCQ goes to *ascq. */
static int register_and_move(struct iscsi_context *iscsi, int lun, uint64_t key, uint64_t sa_key,
                             const char *name, const char *isid_hex, uint16_t rtpi, int *ascq)
{
	uint8_t tid[256] = {0};
	/* iSCSI TransportID, format 01b: name ",i,0x" ISID, NUL, padded to 4. */
	int n = snprintf((char *)tid + 4, sizeof(tid) - 4, "%s,i,0x%s", name, isid_hex);
	size_t addl = ((size_t)n + 1 + 3) & ~(size_t)3;
	tid[0] = 0x40 | 0x05;
	put_be(tid + 2, addl, 2);
	size_t tid_len = 4 + addl;
	uint8_t *param = calloc(1, 24 + tid_len);
	assert_non_null(param);
	put_be(param, key, 8);
	put_be(param + 8, sa_key, 8);
	put_be(param + 18, rtpi, 2);
	put_be(param + 20, tid_len, 4);
	memcpy(param + 24, tid, tid_len);
	uint32_t plen = (uint32_t)(24 + tid_len);
	uint8_t cdb[10] = {0x5f, SCSI_PERSISTENT_RESERVE_REGISTER_AND_MOVE,
	                   SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE};
	put_be(cdb + 5, plen, 4);
	struct scsi_task *t = scsi_create_task(10, cdb, SCSI_XFER_WRITE, (int)plen);
	assert_non_null(t);
	struct iscsi_data d = {.size = plen, .data = param};
	struct scsi_task *r = iscsi_scsi_command_sync(iscsi, lun, t, &d);
	assert_non_null(r);
	int status = t->status;
	*ascq = status == SCSI_STATUS_CHECK_CONDITION ? t->sense.ascq : 0;
	scsi_free_scsi_task(t);
	free(param);
	return status;
}

/* A portal added at run time is a target port of every LU, including
 * LUs added after it: REGISTER AND MOVE to a nexus through it succeeds on
 * the configured LUN 0 and on a LUN added later alike. */
static void test_lu_added_after_portal_knows_its_port(void **state)
{
	(void)state;
	assert_int_equal(CLI("add-portal", "127.0.0.1:0", "--tpgt", "9", "--rtpi", "9"), 0);
	assert_int_equal(CLI("add-lu", H_TARGET, "3", "--ram", "4M"), 0);
	struct iscsi_context *a = h_login(&daemon_, 0, INI_A, 8);
	assert_non_null(a);
	static const int luns[] = {0, 3};
	int status[2], ascq[2];
	for (int i = 0; i < 2; i++) {
		int lun = luns[i];
		assert_int_equal(h_clear_ua(a, lun), SCSI_STATUS_GOOD);
		assert_int_equal(
		    h_prout_lun(a, lun, SCSI_PERSISTENT_RESERVE_REGISTER_AND_IGNORE_EXISTING_KEY, 0,
		                0, 0xa1, 0, 0),
		    SCSI_STATUS_GOOD);
		assert_int_equal(h_prout_lun(a, lun, SCSI_PERSISTENT_RESERVE_RESERVE,
		                             SCSI_PERSISTENT_RESERVE_TYPE_WRITE_EXCLUSIVE, 0xa1, 0,
		                             0, 0),
		                 SCSI_STATUS_GOOD);
		status[i] =
		    register_and_move(a, lun, 0xa1, 0xb2, INI_B, "801234560009", 9, &ascq[i]);
		print_message(
		    "# REGISTER AND MOVE to rtpi 9 on LUN %d: status 0x%02x asc/ascq %04x\n", lun,
		    status[i], ascq[i]);
		/* Clean up: the registrant clears the LU's PR state. */
		assert_int_equal(
		    h_prout_lun(a, lun, SCSI_PERSISTENT_RESERVE_CLEAR, 0, 0xa1, 0, 0, 0),
		    SCSI_STATUS_GOOD);
	}
	h_logout(a);
	assert_int_equal(CLI("remove-lu", H_TARGET, "3"), 0);
	char addr[32];
	json_object *o = cli_json("portals");
	json_object *p1 = json_object_array_get_idx(h_member(o, "portals"), 1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", json_object_get_int(h_member(p1, "port")));
	json_object_put(o);
	assert_int_equal(CLI("remove-portal", addr), 0);
	assert_int_equal(status[0], SCSI_STATUS_GOOD);
	assert_int_equal(status[1], SCSI_STATUS_GOOD);
}

/* Does the sessions answer hold a normal session of initiator to H_TARGET? */
static int count_sessions(json_object *o, const char *initiator)
{
	json_object *ss = h_member(o, "sessions");
	assert_true(json_object_is_type(ss, json_type_array));
	int n = 0;
	for (size_t i = 0; i < json_object_array_length(ss); i++) {
		json_object *s = json_object_array_get_idx(ss, i);
		if (strcmp(json_object_get_string(h_member(s, "initiator")), initiator) != 0)
			continue;
		assert_string_equal(json_object_get_string(h_member(s, "target")), H_TARGET);
		assert_false(json_object_get_boolean(h_member(s, "discovery")));
		assert_true(json_object_get_int(h_member(s, "tsih")) > 0);
		assert_int_equal(json_object_get_int(h_member(s, "tpgt")), 1);
		assert_non_null(strstr(json_object_get_string(h_member(s, "peer")), "127.0.0.1:"));
		assert_int_equal(strncmp(json_object_get_string(h_member(s, "isid")), "0x", 2), 0);
		n++;
	}
	return n;
}

static void test_json_sessions(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login(&daemon_, 0, INI_A, 5);
	struct iscsi_context *b = h_login(&daemon_, 0, INI_B, 6);
	assert_non_null(a);
	assert_non_null(b);
	json_object *o = cli_json("sessions");
	assert_int_equal(count_sessions(o, INI_A), 1);
	assert_int_equal(count_sessions(o, INI_B), 1);
	assert_int_equal(json_object_array_length(h_member(o, "sessions")), 2);
	json_object_put(o);
	assert_int_equal(CLI("sessions"), 0);
	assert_non_null(strstr(out, INI_A));
	assert_non_null(strstr(out, INI_B));

	h_logout(b);
	/* The target ends the session as it answers the logout. */
	int left = -1;
	for (int i = 0; i < 50 && left != 1; i++) {
		o = cli_json("sessions");
		left = (int)json_object_array_length(h_member(o, "sessions"));
		if (left == 1)
			assert_int_equal(count_sessions(o, INI_A), 1);
		json_object_put(o);
		if (left != 1)
			usleep(100 * 1000);
	}
	assert_int_equal(left, 1);
	h_logout(a);
}

static void test_cli_errors(void **state)
{
	(void)state;
	assert_int_equal(CLI("frobnicate"), 2);
	assert_non_null(strstr(err, "frobnicate"));
	assert_int_not_equal(CLI("add-lu", "iqn.2026-11.io.prkit.test:nosuch", "3", "--ram", "1M"),
	                     0);
	assert_non_null(strstr(err, "nosuch"));
	/* A bad LUN description is refused and names the field. */
	assert_int_not_equal(CLI("add-lu", H_TARGET, "3", "--ram", "12Q"), 0);
	assert_non_null(strstr(err, "size"));
	assert_int_equal(CLI("list"), 0);
	assert_null(strstr(out, "lun 3 "));

	struct h_daemon gone = daemon_;
	snprintf(gone.dir, sizeof(gone.dir), "/nonexistent-prkit-dir");
	const char *args[] = {"list", NULL};
	assert_int_equal(h_cli(&gone, out, sizeof(out), err, sizeof(err), args), 1);
	assert_non_null(strstr(err, "cannot reach"));
}

/* SIGTERM with sessions logged in and after run-time changes: exit 0. */
static void test_sigterm_clean_stop(void **state)
{
	(void)state;
	struct iscsi_context *a = h_login(&daemon_, 0, INI_A, 7);
	assert_non_null(a);
	assert_int_equal(h_clear_ua(a, 0), SCSI_STATUS_GOOD);
	assert_int_equal(CLI("add-lu", H_TARGET, "5", "--ram", "4M"), 0);
	pid_t pid = daemon_.pid;
	assert_int_equal(h_stop(&daemon_), 0);
	/* Really gone (reaped), and the session with it. */
	assert_int_equal(kill(pid, 0), -1);
	struct scsi_task *t = iscsi_testunitready_sync(a, 0);
	assert_true(t == NULL || t->status != SCSI_STATUS_GOOD);
	if (t)
		scsi_free_scsi_task(t);
	iscsi_destroy_context(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_shows_target_and_lun0),
	    cmocka_unit_test(test_add_lu_seen_by_logged_in_session),
	    cmocka_unit_test(test_remove_lu),
	    cmocka_unit_test(test_add_portal_any_port),
	    cmocka_unit_test(test_lu_added_after_portal_knows_its_port),
	    cmocka_unit_test(test_json_sessions),
	    cmocka_unit_test(test_cli_errors),
	    cmocka_unit_test(test_sigterm_clean_stop),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
