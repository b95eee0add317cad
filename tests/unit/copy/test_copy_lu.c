/* The LU's side of third-party copy: without hooks EXTENDED COPY and
 * RECEIVE COPY RESULTS stay unknown opcodes and nothing advertises them;
 * with hooks they reach the hooks after the LU's checks, other service
 * actions are 24/00 at the SA field, INQUIRY sets 3PC, VPD 8Fh exists
 * (listed in 00h, with the copy manager's TransportID), REPORT SUPPORTED
 * OPERATION CODES lists them, and prk_lu_cancel forwards only a held
 * EXTENDED COPY. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lu_internal.h"
#include "lu_test_util.h"
#include "prkit/scsi_cdb.h"
#include "prkit/scsi_xcopy.h"

struct hook_rec {
	int xcopy, rcr, cancel;
	struct prk_lu_cmd *held;
};

static void h_xcopy(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct hook_rec *r = ctx;
	(void)lu;
	r->xcopy++;
	r->held = cmd; /* completed later by the test */
}

static void h_rcr(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct hook_rec *r = ctx;
	r->rcr++;
	static const uint8_t d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	prk_lu_copy_reply(lu, cmd, d, sizeof(d), lt_get32(cmd->cdb + 10));
}

static void h_cancel(void *ctx, struct prk_lu *lu, struct prk_lu_cmd *cmd)
{
	struct hook_rec *r = ctx;
	(void)lu;
	(void)cmd;
	r->cancel++;
}

static struct hook_rec rec;
static struct prk_xcopy_opparams params;
static struct prk_tid cm_tid;

static void set_hooks(struct lt_ctx *t)
{
	memset(&rec, 0, sizeof(rec));
	memset(&params, 0, sizeof(params));
	params.max_cscd = 16;
	params.max_seg = 64;
	params.max_list_len = 4096;
	params.total_concurrent = 32;
	params.max_concurrent = 32;
	params.n_impl = 4;
	params.impl[0] = 0x02;
	params.impl[1] = 0x14;
	params.impl[2] = 0x15;
	params.impl[3] = 0xe4;
	cm_tid = (struct prk_tid){.format = PRK_TID_FMT_PORT, .isid = 1};
	strcpy(cm_tid.name, "iqn.2026-12.io.prkit:copy-manager");
	struct prk_lu_copy_hooks h = {.ctx = &rec,
	                              .xcopy = h_xcopy,
	                              .rcr = h_rcr,
	                              .cancel = h_cancel,
	                              .params = &params,
	                              .cm_tid = &cm_tid,
	                              .cm_rtpi = 65535};
	prk_lu_set_copy_hooks(t->lu, &h);
}

static void xcopy_cdb(uint8_t *c, uint8_t sa, uint32_t len)
{
	memset(c, 0, 16);
	c[0] = PRK_OP_XCOPY;
	c[1] = sa;
	lt_put32(c + 10, len);
}

static void rcr_cdb(uint8_t *c, uint8_t sa, uint8_t id, uint32_t alloc)
{
	memset(c, 0, 16);
	c[0] = PRK_OP_RCR;
	c[1] = sa;
	c[2] = id;
	lt_put32(c + 10, alloc);
}

static void test_no_hooks_unsupported(void **state)
{
	struct lt_ctx *t = *state;
	uint8_t c[16];
	xcopy_cdb(c, 0, 0);
	struct lt_res r = lt_in(t, &t->a, c, 16, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	/* Also with another service action: the opcode is unknown. */
	xcopy_cdb(c, 1, 0);
	r = lt_in(t, &t->a, c, 16, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	rcr_cdb(c, 3, 0, 64);
	r = lt_in(t, &t->a, c, 16, 64);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
	lt_res_free(&r);

	/* INQUIRY: 3PC clear, no VPD 8Fh, not in the list of pages. */
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	r = lt_in(t, &t->a, inq, 6, 96);
	lt_assert_good(&r);
	assert_int_equal(r.data[5] & 0x08, 0);
	lt_res_free(&r);
	uint8_t vpd[6] = {PRK_OP_INQUIRY, 1, 0x8f, 0, 255, 0};
	r = lt_in(t, &t->a, vpd, 6, 255);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
	vpd[2] = 0;
	r = lt_in(t, &t->a, vpd, 6, 255);
	lt_assert_good(&r);
	assert_null(memchr(r.data + 4, 0x8f, r.len - 4));
	lt_res_free(&r);
	/* RSOC: neither opcode. */
	uint8_t rsoc[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES};
	lt_put32(rsoc + 6, 4096);
	r = lt_in(t, &t->a, rsoc, 12, 4096);
	lt_assert_good(&r);
	for (uint32_t off = 4; off + 8 <= r.len; off += 8) {
		assert_int_not_equal(r.data[off], PRK_OP_XCOPY);
		assert_int_not_equal(r.data[off], PRK_OP_RCR);
	}
	lt_res_free(&r);
}

static void on_done(struct prk_lu_cmd *cmd)
{
	(*(int *)cmd->priv)++;
}

static void test_hooks_dispatch(void **state)
{
	struct lt_ctx *t = *state;
	set_hooks(t);
	uint8_t c[16];

	/* Service actions other than LID1 / 00h, 03h, 04h: 24/00 at the SA. */
	xcopy_cdb(c, 1, 0);
	struct lt_res r = lt_in(t, &t->a, c, 16, 0);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	rcr_cdb(c, 5, 0, 64);
	r = lt_in(t, &t->a, c, 16, 64);
	lt_assert_field(&r, PRK_ASC_INVALID_FIELD_IN_CDB, true, 1, 4);
	assert_int_equal(rec.xcopy + rec.rcr, 0);

	/* RECEIVE COPY RESULTS reaches its hook; data truncated to alloc. */
	rcr_cdb(c, 3, 0, 4);
	r = lt_in(t, &t->a, c, 16, 64);
	lt_assert_good(&r);
	assert_int_equal(rec.rcr, 1);
	assert_int_equal(r.len, 4);
	lt_res_free(&r);

	/* EXTENDED COPY is held by the hook; cancel forwards it once held,
	 * never for an ordinary command; completion with sense longer than
	 * ordinary sense (up to PRK_LU_SENSE_MAX). */
	struct prk_lu_cmd cmd;
	int done = 0;
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &t->a;
	cmd.port = &t->port;
	xcopy_cdb(cmd.cdb, 0, 0);
	cmd.cdb_len = 16;
	cmd.done = on_done;
	cmd.priv = &done;
	prk_lu_submit(t->lu, &cmd);
	assert_int_equal(rec.xcopy, 1);
	assert_ptr_equal(rec.held, &cmd);
	assert_int_equal(done, 0);
	assert_int_equal(prk_lu_inflight(t->lu), 1);
	prk_lu_cancel(t->lu, &cmd);
	assert_int_equal(rec.cancel, 1);
	uint8_t sense[PRK_LU_SENSE_MAX + 10];
	for (size_t i = 0; i < sizeof(sense); i++)
		sense[i] = (uint8_t)i;
	sense[0] = 0x70;
	sense[2] = PRK_SK_COPY_ABORTED;
	sense[7] = PRK_LU_SENSE_MAX - 8;
	prk_lu_copy_sense(t->lu, &cmd, PRK_STATUS_CHECK_CONDITION, sense, sizeof(sense));
	assert_int_equal(done, 1);
	assert_int_equal(cmd.sense_len, PRK_LU_SENSE_MAX);
	assert_memory_equal(cmd.sense, sense, PRK_LU_SENSE_MAX);
	assert_int_equal(prk_lu_inflight(t->lu), 0);
	/* Completed: a late cancel is not forwarded. */
	prk_lu_cancel(t->lu, &cmd);
	assert_int_equal(rec.cancel, 1);

	/* An ordinary command (completed or not) is never forwarded. */
	uint8_t tur[16] = {0};
	r = lt_in(t, &t->a, tur, 16, 0);
	lt_assert_good(&r);
	memset(&cmd, 0, sizeof(cmd));
	cmd.nx = &t->a;
	cmd.port = &t->port;
	cmd.cdb_len = 16;
	cmd.done = on_done;
	cmd.priv = &done;
	prk_lu_submit(t->lu, &cmd);
	prk_lu_cancel(t->lu, &cmd);
	assert_int_equal(rec.cancel, 1);

	/* The LU's checks come first: a reservation conflict never reaches
	 * the hook (EXTENDED COPY is a write-class command). */
	uint8_t p[24] = {0};
	lt_put64(p + 8, 0xabc);
	uint8_t pro[10] = {PRK_OP_PR_OUT, PRK_PROUT_REGISTER};
	lt_put32(pro + 5, 24);
	r = lt_out(t, &t->b, pro, 10, p, 24);
	lt_assert_good(&r);
	lt_put64(p, 0xabc);
	memset(p + 8, 0, 8);
	pro[1] = PRK_PROUT_RESERVE;
	pro[2] = PRK_PR_EA;
	r = lt_out(t, &t->b, pro, 10, p, 24);
	lt_assert_good(&r);
	xcopy_cdb(c, 0, 0);
	r = lt_in(t, &t->a, c, 16, 0);
	assert_int_equal(r.status, PRK_STATUS_RESERVATION_CONFLICT);
	assert_int_equal(rec.xcopy, 1);
}

static void test_hooks_advertised(void **state)
{
	struct lt_ctx *t = *state;
	set_hooks(t);
	uint8_t inq[6] = {PRK_OP_INQUIRY, 0, 0, 0, 96, 0};
	struct lt_res r = lt_in(t, &t->a, inq, 6, 96);
	lt_assert_good(&r);
	assert_int_equal(r.data[5] & 0x08, 0x08); /* 3PC */
	lt_res_free(&r);

	uint8_t vpd[6] = {PRK_OP_INQUIRY, 1, 0, 0, 255, 0};
	r = lt_in(t, &t->a, vpd, 6, 255);
	lt_assert_good(&r);
	assert_non_null(memchr(r.data + 4, 0x8f, r.len - 4));
	/* Ascending order kept. */
	for (uint32_t i = 5; i < r.len; i++)
		assert_true(r.data[i] > r.data[i - 1]);
	lt_res_free(&r);

	vpd[2] = 0x8f;
	lt_put16(vpd + 3, 1024);
	r = lt_in(t, &t->a, vpd, 6, 1024);
	lt_assert_good(&r);
	assert_int_equal(r.data[1], 0x8f);
	uint8_t want[1024];
	size_t n = prk_vpd_3pc_encode(0, &params, &cm_tid, 65535, want, sizeof(want));
	assert_int_equal(r.len, n);
	assert_memory_equal(r.data, want, n);
	struct prk_tid tid;
	uint16_t rtpi;
	assert_int_equal(prk_vpd_3pc_cm_nexus(r.data, r.len, &tid, &rtpi), 0);
	assert_int_equal(rtpi, 65535);
	assert_string_equal(tid.name, cm_tid.name);
	lt_res_free(&r);

	/* RSOC: 83h/00h and 84h/00h, 03h, 04h, with their usage data. */
	uint8_t rsoc[12] = {PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES};
	lt_put32(rsoc + 6, 4096);
	r = lt_in(t, &t->a, rsoc, 12, 4096);
	lt_assert_good(&r);
	int x = 0, rc = 0;
	for (uint32_t off = 4; off + 8 <= r.len; off += 8) {
		if (r.data[off] == PRK_OP_XCOPY) {
			assert_int_equal(lt_get16(r.data + off + 2), 0);
			assert_int_equal(r.data[off + 5] & 1, 1);
			x++;
		}
		if (r.data[off] == PRK_OP_RCR) {
			uint16_t sa = lt_get16(r.data + off + 2);
			assert_true(sa == 0 || sa == 3 || sa == 4);
			assert_int_equal(lt_get16(r.data + off + 6), 16);
			rc++;
		}
	}
	assert_int_equal(x, 1);
	assert_int_equal(rc, 3);
	lt_res_free(&r);
	uint8_t one[12] = {
	    PRK_OP_MAINTENANCE_IN, PRK_MI_REPORT_SUPPORTED_OPCODES, 2, PRK_OP_RCR, 0, 4};
	lt_put32(one + 6, 64);
	r = lt_in(t, &t->a, one, 12, 64);
	lt_assert_good(&r);
	assert_int_equal(r.data[1] & 7, 3);
	assert_int_equal(lt_get16(r.data + 2), 16);
	static const uint8_t usage[16] = {PRK_OP_RCR, 0x04, 0xff, 0,    0,    0,    0, 0,
	                                  0,          0,    0xff, 0xff, 0xff, 0xff, 0, 0x05};
	assert_memory_equal(r.data + 4, usage, 16);
	lt_res_free(&r);
	assert_true(prk_lu_rsoc_consistent(t->lu));

	/* Hooks removed: back to unsupported. */
	prk_lu_set_copy_hooks(t->lu, NULL);
	uint8_t c[16];
	xcopy_cdb(c, 0, 0);
	r = lt_in(t, &t->a, c, 16, 0);
	lt_assert_sense(&r, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_COMMAND_OPCODE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_hooks_unsupported, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_hooks_dispatch, lt_setup, lt_teardown),
	    cmocka_unit_test_setup_teardown(test_hooks_advertised, lt_setup, lt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
