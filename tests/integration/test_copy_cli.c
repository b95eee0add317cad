/* `prkit copy` against a real prkitd and its copy manager: the offload
 * (whole LUs, ranges cut into many commands and segments, block sizes
 * that differ), the host copy, the Annex B.3 sequence with
 * --third-party (the reservation back with us after every command, with
 * --keep and without, released so that `prkit persist` with the same
 * initiator finds the same nexus), the strict PDT policy (a block LU
 * without "third_party_reservations": COPY ABORTED, the reservation
 * taken back from the copy manager), reservation conflicts reported at
 * the step they happen, and the data, always, read back through iSCSI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "harness_cmd.h"

#define INI_A "iqn.2026-12.io.prkit.test:backup"
#define INI_B "iqn.2026-12.io.prkit.test:other"
#define CM_TID "iqn.2026-12.io.prkit:copy-manager,i,0x000000000001"
#define LU_MB 8
#define BLOCKS (LU_MB * 2048)

/* LUN 0: the source; 1: a block LU (strict 15h policy); 2: a block LU
 * that allows 15h; 3: 4096-byte blocks. */
static const char *CONFIG =
    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}],"
    " \"admin_socket\": \"@DIR@/admin.sock\", \"state_dir\": \"@DIR@/state\","
    " \"nop_interval_ms\": 60000,"
    " \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": ["
    "  {\"lun\": 0, \"backstore\": {\"type\": \"ram\", \"size\": \"8M\"}},"
    "  {\"lun\": 1, \"backstore\": {\"type\": \"ram\", \"size\": \"8M\"}},"
    "  {\"lun\": 2, \"backstore\": {\"type\": \"ram\", \"size\": \"8M\"},"
    "   \"third_party_reservations\": true},"
    "  {\"lun\": 3, \"backstore\": {\"type\": \"ram\", \"size\": \"8M\"}, \"block_size\": 4096}"
    " ]}]}";

static struct h_daemon daemon_;
static struct iscsi_context *ses; /* INI_B's session: patterns, checks */
static char url[4][256];
static char out[65536], err[16384];

static int setup(void **state)
{
	(void)state;
	if (h_start(&daemon_, CONFIG))
		return -1;
	for (int i = 0; i < 4; i++)
		snprintf(url[i], sizeof(url[i]), "iscsi://127.0.0.1:%u/%s/%d", daemon_.ports[0],
		         H_TARGET, i);
	ses = h_login_raw_clear(&daemon_, 0, INI_B, 7, 4);
	return ses ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	h_logout(ses);
	return h_stop(&daemon_) == 0 ? 0 : -1;
}

/* prkit copy --initiator INI_A ARGS... (NULL-terminated). */
static int copy(const char *first, ...)
{
	const char *args[40] = {"copy", "--initiator", INI_A};
	int n = 3;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), args);
}

static json_object *report(void)
{
	json_object *o = json_tokener_parse(out);
	if (!o)
		fail_msg("not JSON: %s (stderr: %s)", out, err);
	return o;
}

static int64_t jint(json_object *o, const char *k)
{
	return json_object_get_int64(h_member(o, k));
}

/* Block b of a pattern: every byte says (seed, b, offset). */
static void fill(uint8_t *buf, uint64_t lba, uint32_t n, uint32_t bs, uint8_t seed)
{
	for (uint64_t i = 0; i < (uint64_t)n * bs; i++) {
		uint64_t byte = lba * bs + i;
		buf[i] = (uint8_t)(seed * 31 + (byte >> 9) * 7 + (byte & 511));
	}
}

static void write_pattern(int lun, uint64_t lba, uint32_t n, uint32_t bs, uint8_t seed)
{
	uint8_t *b = malloc((size_t)n * bs);
	fill(b, lba, n, bs, seed);
	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done > 2048 ? 2048 : n - done;
		assert_int_equal(
		    h_status(iscsi_write16_sync(ses, lun, lba + done, b + (size_t)done * bs, k * bs,
		                                (int)bs, 0, 0, 0, 0, 0)),
		    SCSI_STATUS_GOOD);
		done += k;
	}
	free(b);
}

/* bytes of lun from byte offset `at` equal those of the pattern `seed`
 * from byte offset `from` (patterns are defined per byte offset). */
static void assert_bytes(int lun, uint32_t bs, uint64_t at, uint64_t len, uint8_t seed,
                         uint64_t from)
{
	uint8_t *want = malloc(len + 512), *got;
	/* the pattern at `from`, built from whole 512-byte blocks */
	fill(want, from / 512, (uint32_t)((len + 511) / 512 + 1), 512, seed);
	struct scsi_task *t =
	    iscsi_read16_sync(ses, lun, at / bs, (uint32_t)len, (int)bs, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_int_equal(t->datain.size, (int)len);
	got = t->datain.data;
	if (memcmp(got, want + from % 512, len)) {
		for (uint64_t i = 0; i < len; i++)
			if (got[i] != want[from % 512 + i])
				fail_msg("LUN %d byte %llu: 0x%02x, want 0x%02x", lun,
				         (unsigned long long)(at + i), got[i],
				         want[from % 512 + i]);
	}
	scsi_free_scsi_task(t);
	free(want);
}

/* READ KEYS / READ RESERVATION of lun through INI_B. */
static size_t n_keys(int lun)
{
	uint8_t b[256];
	size_t got = 0;
	assert_int_equal(h_pr_in(ses, lun, 0, b, sizeof(b), &got), SCSI_STATUS_GOOD);
	return ((size_t)b[4] << 24 | (size_t)b[5] << 16 | (size_t)b[6] << 8 | b[7]) / 8;
}

static bool reserved(int lun, uint64_t *key, uint8_t *type)
{
	uint8_t b[64];
	size_t got = 0;
	assert_int_equal(h_pr_in(ses, lun, 1, b, sizeof(b), &got), SCSI_STATUS_GOOD);
	if (b[7] < 16)
		return false;
	*key = 0;
	for (int i = 0; i < 8; i++)
		*key = *key << 8 | b[8 + i];
	*type = b[21] & 0x0f;
	return true;
}

/* The names of the steps in the report, space-separated, and each ok? */
static void steps(json_object *o, char *names, size_t cap, bool *all_ok)
{
	json_object *st = h_member(o, "steps");
	names[0] = 0;
	*all_ok = true;
	for (size_t i = 0; i < json_object_array_length(st); i++) {
		json_object *s = json_object_array_get_idx(st, i);
		size_t n = strlen(names);
		snprintf(names + n, cap - n, "%s%s", n ? " " : "",
		         json_object_get_string(h_member(s, "step")));
		*all_ok &= json_object_get_boolean(h_member(s, "ok"));
	}
}

static void test_offload_whole_lu(void **state)
{
	(void)state;
	write_pattern(0, 0, BLOCKS, 512, 1);
	write_pattern(1, 0, BLOCKS, 512, 9);
	assert_int_equal(copy("--json", url[0], url[1], NULL), 0);
	json_object *o = report();
	assert_true(json_object_get_boolean(h_member(o, "offloaded")));
	assert_string_equal(json_object_get_string(h_member(o, "mode")), "offload");
	assert_int_equal(jint(o, "bytes"), LU_MB << 20);
	assert_int_equal(jint(o, "segments"), jint(o, "segments_planned"));
	assert_true(jint(o, "segments") >= 1);
	assert_int_equal(jint(o, "commands"), 1);
	assert_int_equal(jint(o, "exit_status"), 0);
	json_object_put(o);
	assert_bytes(1, 512, 0, LU_MB << 20, 1, 0);
}

static void test_offload_ranges_many_commands(void **state)
{
	(void)state;
	write_pattern(0, 0, 1024, 512, 2);
	write_pattern(1, 0, 1024, 512, 3);
	/* 300 blocks in segments of 16: 19 segments, 4 per command: 5 commands */
	assert_int_equal(copy("--json", "--src-lba", "8", "--dst-lba", "100", "--blocks", "300",
	                      "--segment-blocks", "16", "--segments-per-command", "4", url[0],
	                      url[1], NULL),
	                 0);
	json_object *o = report();
	assert_int_equal(jint(o, "segments"), 19);
	assert_int_equal(jint(o, "commands"), 5);
	assert_int_equal(jint(o, "bytes"), 300 * 512);
	json_object_put(o);
	assert_bytes(1, 512, 100 * 512, 300 * 512, 2, 8 * 512);
	/* nothing outside the range moved */
	assert_bytes(1, 512, 99 * 512, 512, 3, 99 * 512);
	assert_bytes(1, 512, 400 * 512, 512, 3, 400 * 512);
}

static void test_host_copy(void **state)
{
	(void)state;
	write_pattern(0, 0, 4096, 512, 4);
	write_pattern(1, 0, 4096, 512, 5);
	assert_int_equal(copy("--json", "--host-copy", "--src-lba", "1", "--dst-lba", "3",
	                      "--blocks", "3000", url[0], url[1], NULL),
	                 0);
	json_object *o = report();
	assert_false(json_object_get_boolean(h_member(o, "offloaded")));
	assert_string_equal(json_object_get_string(h_member(o, "mode")), "host-copy");
	assert_int_equal(jint(o, "bytes"), 3000 * 512);
	json_object_put(o);
	assert_bytes(1, 512, 3 * 512, 3000 * 512, 4, 512);
	assert_bytes(1, 512, 2 * 512, 512, 5, 2 * 512);
	assert_bytes(1, 512, 3003 * 512, 512, 5, 3003 * 512);
}

static void test_offload_block_sizes_differ(void **state)
{
	(void)state;
	write_pattern(0, 0, 256, 512, 6);
	write_pattern(3, 0, 32, 4096, 7);
	/* 64 source blocks of 512 = 8 blocks of 4096, to LBA 2 of LUN 3 */
	assert_int_equal(copy("--src-lba", "16", "--dst-lba", "2", "--blocks", "64",
	                      "--segment-blocks", "24", url[0], url[3], NULL),
	                 0);
	assert_bytes(3, 4096, 2 * 4096, 64 * 512, 6, 16 * 512);
	assert_bytes(3, 4096, 4096, 4096, 7, 4096);
	assert_bytes(3, 4096, 10 * 4096, 4096, 7, 10 * 4096);
	/* 7 blocks of 512 are no whole 4096-byte block: refused before any
	 * command */
	assert_int_equal(copy("--blocks", "7", url[0], url[3], NULL), 1);
	assert_non_null(strstr(err, "not a whole number of DST blocks"));
}

static void test_ranges_refused(void **state)
{
	(void)state;
	char lba[32];
	snprintf(lba, sizeof(lba), "%d", BLOCKS);
	assert_int_equal(copy("--src-lba", lba, url[0], url[1], NULL), 1);
	assert_non_null(strstr(err, "past the end of SRC"));
	assert_int_equal(copy("--dst-lba", "1", url[0], url[1], NULL), 1);
	assert_non_null(strstr(err, "DST is too small"));
}

static void test_third_party_round_trip(void **state)
{
	(void)state;
	write_pattern(0, 0, 2048, 512, 8);
	write_pattern(2, 0, 2048, 512, 9);
	assert_int_equal(
	    copy("--json", "--third-party", "0xabc1", "--blocks", "2048", url[0], url[2], NULL), 0);
	json_object *o = report();
	char names[512];
	bool ok;
	steps(o, names, sizeof(names), &ok);
	assert_string_equal(names, "register reserve discover move copy verify release unregister");
	assert_true(ok);
	json_object *cm = h_member(o, "copy_manager");
	assert_string_equal(json_object_get_string(h_member(cm, "from")),
	                    "VPD 8Fh descriptor F001h");
	assert_int_equal(jint(cm, "rtpi"), 65535);
	json_object *tid = h_member(cm, "transport_id");
	assert_string_equal(json_object_get_string(h_member(tid, "name")),
	                    "iqn.2026-12.io.prkit:copy-manager");
	assert_string_equal(json_object_get_string(h_member(o, "cm_key")), "0x434d00000000abc1");
	json_object_put(o);
	assert_bytes(2, 512, 0, 2048 * 512, 8, 0);
	/* released and unregistered: the LU as we found it */
	uint64_t k;
	uint8_t t;
	assert_false(reserved(2, &k, &t));
	assert_int_equal(n_keys(2), 0);
}

static void test_third_party_keep_then_persist_release(void **state)
{
	(void)state;
	write_pattern(0, 0, 512, 512, 10);
	assert_int_equal(copy("--json", "--third-party", "0xabc2", "--keep", "--blocks", "512",
	                      url[0], url[2], NULL),
	                 0);
	uint64_t k;
	uint8_t t;
	assert_true(reserved(2, &k, &t));
	assert_int_equal(k, 0xabc2);
	assert_int_equal(t, 3);
	/* the copy manager left (UNREG in the 15h): our key alone */
	assert_int_equal(n_keys(2), 1);
	/* The nexus is prkit persist's for this initiator and URL: it can
	 * release and unregister. */
	const char *rel[] = {"persist", "--initiator",  INI_A, "--out", "--release", "--param-rk",
	                     "0xabc2",  "--prout-type", "3",   url[2],  NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), rel), 0);
	const char *unreg[] = {"persist",    "--initiator", INI_A,  "--out", "--register",
	                       "--param-rk", "0xabc2",      url[2], NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), unreg), 0);
	assert_false(reserved(2, &k, &t));
	assert_int_equal(n_keys(2), 0);
	/* (Exclusive Access kept our session alone out of LUN 2 until now) */
	assert_bytes(2, 512, 0, 512 * 512, 10, 0);
}

static void test_third_party_many_commands(void **state)
{
	(void)state;
	write_pattern(0, 0, 512, 512, 11);
	write_pattern(2, 0, 512, 512, 12);
	/* 4 segments of 64 blocks, 2 per command: the reservation goes to the
	 * copy manager and comes back twice */
	assert_int_equal(copy("--json", "--third-party", "77", "--src-lba", "256", "--blocks",
	                      "256", "--segment-blocks", "64", "--segments-per-command", "2",
	                      url[0], url[2], NULL),
	                 0);
	json_object *o = report();
	char names[512];
	bool ok;
	steps(o, names, sizeof(names), &ok);
	assert_string_equal(names, "register reserve discover move copy verify move copy verify "
	                           "release unregister");
	assert_true(ok);
	assert_int_equal(jint(o, "commands"), 2);
	json_object_put(o);
	assert_bytes(2, 512, 0, 256 * 512, 11, 256 * 512);
	assert_bytes(2, 512, 256 * 512, 256 * 512, 12, 256 * 512);
	assert_int_equal(n_keys(2), 0);
}

static void test_third_party_strict_block_lu(void **state)
{
	(void)state;
	write_pattern(0, 0, 64, 512, 13);
	write_pattern(1, 0, 64, 512, 14);
	/* LUN 1 does not allow 15h: COPY ABORTED, INVALID OPERATION FOR COPY
	 * SOURCE OR DESTINATION; the copy manager kept the reservation, we
	 * take it back, then leave the LU as we found it */
	assert_int_equal(
	    copy("--json", "--third-party", "0xabc3", "--blocks", "64", url[0], url[1], NULL), 10);
	json_object *o = report();
	char names[512];
	bool ok;
	steps(o, names, sizeof(names), &ok);
	assert_string_equal(
	    names, "register reserve discover move copy recover verify release unregister");
	json_object *st = h_member(o, "steps");
	json_object *cp = json_object_array_get_idx(st, 4);
	assert_false(json_object_get_boolean(h_member(cp, "ok")));
	assert_int_equal(jint(cp, "exit_status"), 10);
	assert_non_null(strstr(json_object_get_string(h_member(cp, "detail")), "26/0c"));
	for (size_t i = 5; i < json_object_array_length(st); i++)
		assert_true(
		    json_object_get_boolean(h_member(json_object_array_get_idx(st, i), "ok")));
	assert_int_equal(jint(o, "exit_status"), 10);
	json_object_put(o);
	assert_bytes(1, 512, 0, 64 * 512, 14, 0); /* not a block moved */
	uint64_t k;
	uint8_t t;
	assert_false(reserved(1, &k, &t));
	assert_int_equal(n_keys(1), 0);
}

static void test_conflicts_reported_at_their_step(void **state)
{
	(void)state;
	/* INI_B holds LUN 2, Exclusive Access */
	assert_int_equal(h_prout_past_ua(ses, 2, 0, 0, 0, 0xb0b), SCSI_STATUS_GOOD);
	assert_int_equal(h_prout_lun(ses, 2, 1, 3, 0xb0b, 0, 0, 0), SCSI_STATUS_GOOD);
	/* the copy manager's WRITE meets the reservation: COPY ABORTED */
	assert_int_equal(copy("--blocks", "8", url[0], url[2], NULL), 10);
	assert_non_null(strstr(err, "EXTENDED COPY 1 of 1"));
	/* --third-party: our RESERVE meets it */
	assert_int_equal(
	    copy("--json", "--third-party", "0xabc4", "--blocks", "8", url[0], url[2], NULL), 24);
	json_object *o = report();
	json_object *st = h_member(o, "steps");
	assert_string_equal(
	    json_object_get_string(h_member(json_object_array_get_idx(st, 1), "step")), "reserve");
	assert_false(json_object_get_boolean(h_member(json_object_array_get_idx(st, 1), "ok")));
	json_object_put(o);
	assert_int_equal(h_prout_lun(ses, 2, 3, 0, 0xb0b, 0, 0, 0), SCSI_STATUS_GOOD); /* CLEAR */
	assert_int_equal(n_keys(2), 0);
}

static void test_progress_and_text(void **state)
{
	(void)state;
	assert_int_equal(copy("-v", url[0], url[1], NULL), 0);
	assert_non_null(strstr(out, "offloaded"));
	assert_non_null(strstr(out, "8388608 bytes"));
	assert_non_null(strstr(err, "(100%)"));
	/* --third-party in text: each step on a line, then the summary */
	assert_int_equal(copy("--third-party", "0x55", "--blocks", "64", url[0], url[2], NULL), 0);
	assert_non_null(strstr(out, "register   ok"));
	assert_non_null(
	    strstr(out, "verify     ok     reservation held by key 0x55, nexus " INI_A));
	assert_non_null(strstr(out, "reservation came back, released"));
	assert_int_equal(copy("--bogus", url[0], url[1], NULL), 1);
	assert_non_null(strstr(err, "--bogus"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offload_whole_lu),
	    cmocka_unit_test(test_offload_ranges_many_commands),
	    cmocka_unit_test(test_host_copy),
	    cmocka_unit_test(test_offload_block_sizes_differ),
	    cmocka_unit_test(test_ranges_refused),
	    cmocka_unit_test(test_third_party_round_trip),
	    cmocka_unit_test(test_third_party_keep_then_persist_release),
	    cmocka_unit_test(test_third_party_many_commands),
	    cmocka_unit_test(test_third_party_strict_block_lu),
	    cmocka_unit_test(test_conflicts_reported_at_their_step),
	    cmocka_unit_test(test_progress_and_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
