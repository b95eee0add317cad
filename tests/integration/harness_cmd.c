/* See harness_cmd.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness_cmd.h"

struct scsi_sense h_sense;

int h_status(struct scsi_task *t)
{
	assert_non_null(t);
	int status = t->status;
	h_sense = t->sense;
	scsi_free_scsi_task(t);
	return status;
}

void h_assert_sense(int status, int key, int ascq)
{
	assert_int_equal(status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(h_sense.key, key);
	assert_int_equal(h_sense.ascq, ascq);
}

void h_assert_field(bool in_cdb, unsigned byte)
{
	assert_true(h_sense.sense_specific);
	if (in_cdb)
		assert_true(h_sense.ill_param_in_cdb);
	else
		assert_false(h_sense.ill_param_in_cdb);
	assert_int_equal(h_sense.field_pointer, byte);
}

int h_tur(struct iscsi_context *iscsi, int lun)
{
	return h_status(iscsi_testunitready_sync(iscsi, lun));
}

void h_assert_read(struct iscsi_context *iscsi, int lun, uint64_t lba, const uint8_t *want,
                   uint32_t len)
{
	struct scsi_task *t = iscsi_read16_sync(iscsi, lun, lba, len, 512, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_int_equal(t->datain.size, (int)len);
	assert_memory_equal(t->datain.data, want, len);
	scsi_free_scsi_task(t);
}

void h_assert_write_read(struct iscsi_context *iscsi, int lun, uint64_t lba, const uint8_t *buf,
                         uint32_t len)
{
	struct scsi_task *t =
	    iscsi_write16_sync(iscsi, lun, lba, (unsigned char *)buf, len, 512, 0, 0, 0, 0, 0);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	scsi_free_scsi_task(t);
	h_assert_read(iscsi, lun, lba, buf, len);
}

struct iscsi_context *h_login_raw(struct h_daemon *d, int portal, const char *ini, uint32_t q)
{
	struct h_login_opts o = {.no_tur = 1};
	struct iscsi_context *iscsi = h_login_ex(d, portal, ini, q, &o);
	assert_non_null(iscsi);
	return iscsi;
}

struct iscsi_context *h_login_clear(struct h_daemon *d, int portal, const char *ini, uint32_t q)
{
	struct iscsi_context *iscsi = h_login(d, portal, ini, q);
	assert_non_null(iscsi);
	assert_int_equal(h_clear_ua(iscsi, 0), SCSI_STATUS_GOOD);
	return iscsi;
}

struct iscsi_context *h_login_raw_clear(struct h_daemon *d, int portal, const char *ini, uint32_t q,
                                        int n_luns)
{
	struct iscsi_context *iscsi = h_login_raw(d, portal, ini, q);
	for (int lun = 0; lun < n_luns; lun++)
		assert_int_equal(h_clear_ua(iscsi, lun), SCSI_STATUS_GOOD);
	return iscsi;
}

int h_prout_lun(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key,
                uint64_t sa_key, int all_tg_pt, int aptpl)
{
	struct scsi_persistent_reserve_out_basic p = {
	    .reservation_key = key,
	    .service_action_reservation_key = sa_key,
	    .all_tg_pt = (uint8_t)all_tg_pt,
	    .aptpl = (uint8_t)aptpl,
	};
	return h_status(iscsi_persistent_reserve_out_sync(iscsi, lun, sa, 0, type, &p));
}

int h_prout(struct iscsi_context *iscsi, int sa, int type, uint64_t key, uint64_t sa_key,
            int all_tg_pt, int aptpl)
{
	return h_prout_lun(iscsi, 0, sa, type, key, sa_key, all_tg_pt, aptpl);
}

int h_prout_past_ua(struct iscsi_context *iscsi, int lun, int sa, int type, uint64_t key,
                    uint64_t sa_key)
{
	/* A few tries: each UNIT ATTENTION reported clears one condition, and
	 * a nexus under test may have several queued (preempted, cleared). */
	for (int i = 0; i < 8; i++) {
		int status = h_prout_lun(iscsi, lun, sa, type, key, sa_key, 0, 0);
		if (status != SCSI_STATUS_CHECK_CONDITION ||
		    h_sense.key != SCSI_SENSE_UNIT_ATTENTION)
			return status;
	}
	return -1;
}

void h_lu_naa(struct iscsi_context *iscsi, int lun, uint8_t naa[16])
{
	struct scsi_task *t = iscsi_inquiry_sync(iscsi, lun, 1, 0x83, 255);
	assert_non_null(t);
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	const uint8_t *d = t->datain.data;
	size_t len = (size_t)t->datain.size;
	assert_true(len >= 4);
	size_t end = 4 + ((size_t)d[2] << 8 | d[3]);
	if (end > len)
		end = len;
	bool found = false;
	for (size_t off = 4; off + 4 <= end && !found; off += 4 + d[off + 3]) {
		const uint8_t *x = d + off;
		if ((x[0] & 0x0f) == 1 && ((x[1] >> 4) & 3) == 0 && (x[1] & 0x0f) == 3 &&
		    x[3] == 16 && off + 20 <= end) {
			memcpy(naa, x + 4, 16);
			found = true;
		}
	}
	scsi_free_scsi_task(t);
	if (!found)
		fail_msg("LUN %d: no NAA designator in VPD 83h", lun);
}

int h_start_basic(struct h_daemon *d, int n_portals, unsigned size_mb)
{
	char cfg[2048];
	h_config_basic(cfg, sizeof(cfg), n_portals, size_mb);
	return h_start(d, cfg);
}

json_object *h_member(json_object *o, const char *key)
{
	json_object *v = NULL;
	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

json_object *h_cli_json(struct h_daemon *d, const char *const *args)
{
	static char out[65536], err[4096];
	assert_int_equal(h_cli(d, out, sizeof(out), err, sizeof(err), args), 0);
	json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

/* The session list of `prkit target sessions --json`: the reply's
 * "sessions", or the array itself. */
static json_object *sessions_of(json_object *o)
{
	json_object *v = NULL;
	if (json_object_is_type(o, json_type_array))
		return o;
	assert_true(json_object_object_get_ex(o, "sessions", &v));
	return v;
}

static int sessions_find(struct h_daemon *d, const char *ini, int *loop)
{
	const char *args[] = {"--json", "sessions", NULL};
	json_object *o = h_cli_json(d, args);
	json_object *arr = sessions_of(o);
	int n = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *s = json_object_array_get_idx(arr, i);
		if (strcmp(json_object_get_string(h_member(s, "initiator")), ini) != 0)
			continue;
		n++;
		*loop = json_object_get_int(h_member(s, "loop"));
	}
	json_object_put(o);
	return n;
}

int h_session_loop(struct h_daemon *d, const char *ini)
{
	int loop = -1;
	sessions_find(d, ini, &loop);
	return loop;
}

void h_lu_rw_counts(struct h_daemon *d, int lun, uint64_t *fast, uint64_t *slow)
{
	const char *args[] = {"--json", "list", NULL};
	json_object *o = h_cli_json(d, args);
	json_object *ts = h_member(o, "targets");
	assert_true(json_object_array_length(ts) > 0);
	json_object *luns = h_member(json_object_array_get_idx(ts, 0), "luns");
	bool found = false;
	for (size_t i = 0; i < json_object_array_length(luns); i++) {
		json_object *l = json_object_array_get_idx(luns, i);
		if (json_object_get_int(h_member(l, "lun")) != lun)
			continue;
		*fast = (uint64_t)json_object_get_int64(h_member(l, "rw_fast"));
		*slow = (uint64_t)json_object_get_int64(h_member(l, "rw_slow"));
		found = true;
	}
	json_object_put(o);
	assert_true(found);
}

int h_session_count(struct h_daemon *d, const char *ini)
{
	int loop = -1;
	return sessions_find(d, ini, &loop);
}
