/* The copy manager's 02h (block to block) segments over real LUs: data
 * copied across LUs and within one, in several chunks with more than one
 * in flight, block sizes mixed (DC rules, inexact segments), the CSCD
 * checks made when a segment is reached, list identifiers, max_copies,
 * 16 copies at once, and an empty parameter list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "copy_test_util.h"
#include "prkit/scsi_cdb.h"

static const uint32_t bs512[] = {512, 512, 4096};
static const uint64_t blocks[] = {4096, 4096, 512};

static struct ct_env *env3(void)
{
	return ct_new(3, bs512, blocks, NULL);
}

static void test_param_len_zero(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	uint8_t cdb[16];
	prk_xcopy_cdb_encode(0, cdb);
	struct ct_cmd *c = ct_run(e, 0, &e->a, cdb, NULL, 0, 0);
	ct_assert_good(c);
	assert_int_equal(e->resolves, 0);
	struct prk_cm_stats st;
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.started, 0);
	ct_cmd_free(c);
	ct_free(e);
}

/* 1000 blocks = 8 chunks of 64 KiB (the last one short), asynchronous
 * completions: more than one chunk is in flight, and the data lands. */
static void test_across_lus_async(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	ct_fill(e, 0, 10, 1000, 1);
	ct_fill(e, 1, 0, 1200, 2);
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 512), d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 1000, 10, 100, false);
	ct_set_async(true);
	ct_max_queued(true);
	struct ct_cmd *c = ct_xcopy_start(e, 0, &e->a, &l);
	assert_int_equal(c->done, 0);
	ct_wait(c);
	ct_assert_good(c);
	assert_true(ct_max_queued(false) >= 2);
	ct_set_async(false);
	assert_true(ct_same(e, 0, 10, 1, 100, 1000 * 512));
	/* Untouched around it: the destination's own pattern (seed 2)
	 * differs from the source's, so a stray block would show. */
	assert_false(ct_same(e, 0, 9, 1, 99, 512));
	assert_false(ct_same(e, 0, 1010, 1, 1100, 512));
	struct prk_cm_stats st;
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.bytes, 1000 * 512);
	assert_int_equal(st.active, 0);
	ct_cmd_free(c);
	ct_free(e);
}

static void test_within_lu_inline(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	ct_fill(e, 0, 0, 700, 3);
	struct prk_xcopy_list l;
	ct_list_init(&l, 0, PRK_XCOPY_LIU_NONE);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0);
	ct_seg_b2b(&l, s, s, 700, 0, 2000, false);
	ct_seg_b2b(&l, s, s, 100, 0, 3000, false);
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c);
	assert_true(ct_same(e, 0, 0, 0, 2000, 700 * 512));
	assert_true(ct_same(e, 0, 0, 0, 3000, 100 * 512));
	/* Received through another LU: same result. */
	ct_fill(e, 0, 0, 700, 4);
	c->done = 0;
	ct_cmd_free(c);
	c = ct_xcopy(e, 1, &e->a, &l);
	ct_assert_good(c);
	assert_true(ct_same(e, 0, 0, 0, 2000, 700 * 512));
	ct_cmd_free(c);
	ct_free(e);
}

/* 512 -> 4096 and back: the byte count is n_blocks times the source's
 * block size (DC=0) or the destination's (DC=1); both must divide it. */
static void test_block_size_mix(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	ct_fill(e, 0, 0, 400, 5);
	struct prk_xcopy_list l;
	ct_list_init(&l, 2, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 2, 0, 4096);
	ct_seg_b2b(&l, s, d, 160, 0, 1, false); /* 160 x 512 = 20 x 4096 */
	ct_seg_b2b(&l, s, d, 5, 160, 30, true); /* 5 x 4096 = 40 x 512 */
	ct_seg_b2b(&l, d, s, 20, 1, 1000, false);
	ct_set_async(true);
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_set_async(false);
	ct_assert_good(c);
	assert_true(ct_same(e, 0, 0, 2, 1, 160 * 512));
	assert_true(ct_same(e, 0, 160, 2, 30, 40 * 512));
	assert_true(ct_same(e, 0, 0, 0, 1000, 160 * 512));
	ct_cmd_free(c);

	/* Inexact: 7 x 512 is not whole 4096-byte blocks. */
	ct_list_init(&l, 3, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 0);
	d = ct_cscd(e, &l, 2, 0, 0);
	ct_seg_b2b(&l, s, d, 8, 0, 0, false);
	ct_seg_b2b(&l, s, d, 7, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_UNEXPECTED_INEXACT_SEGMENT, 1);
	ct_cmd_free(c);

	/* DISK BLOCK LENGTH not the LU's: 26/0C. */
	ct_list_init(&l, 4, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 4096);
	d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 8, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_INVALID_OPERATION_FOR_COPY, 0);
	ct_cmd_free(c);

	/* A CSCD of another device type: 0D/03. */
	ct_list_init(&l, 5, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0x01, 0);
	d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 8, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_INCORRECT_COPY_TARGET_TYPE, 0);
	ct_cmd_free(c);
	ct_free(e);
}

/* What the CSCD names is checked when its segment is reached. */
static void test_cscd_checks(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	ct_fill(e, 0, 0, 16, 6);
	uint8_t zero[16 * 512] = {0}, got[16 * 512];
	struct prk_xcopy_list l;

	/* A LU the nexus may not access: 0D/02, and nothing is written. */
	e->l[1].visible = false;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, s, 16, 0, 100, false);
	ct_seg_b2b(&l, s, d, 16, 0, 0, false);
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, 1);
	ct_cmd_free(c);
	ct_read(e, 1, 0, 16, got);
	assert_memory_equal(got, zero, sizeof(zero));
	assert_true(ct_same(e, 0, 0, 0, 100, 16 * 512)); /* segment 0 ran */
	e->l[1].visible = true;

	/* An index past the CSCD list: 0D/02 naming the segment. */
	ct_list_init(&l, 2, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 0);
	ct_seg_b2b(&l, s, 3, 16, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, 0);
	ct_cmd_free(c);

	/* The NUL bit. */
	ct_list_init(&l, 3, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 0);
	d = ct_cscd(e, &l, 1, 0, 0);
	l.cscd[d].nul = true;
	ct_seg_b2b(&l, s, d, 16, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_COPY_TARGET_NOT_REACHABLE, 0);
	ct_cmd_free(c);
	ct_read(e, 1, 0, 16, got);
	assert_memory_equal(got, zero, sizeof(zero));

	/* LU ID TYPE is ignored in an E4h descriptor (SPC-4): 01b and the
	 * reserved 11b copy as 00b does, the designator naming the LU. */
	ct_list_init(&l, 4, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 0);
	d = ct_cscd(e, &l, 1, 0, 0);
	l.cscd[d].lu_id_type = 1;
	ct_seg_b2b(&l, s, s, 16, 0, 300, false);
	ct_seg_b2b(&l, s, d, 16, 0, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	l.cscd[d].lu_id_type = 3;
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);

	/* An LBA past the end: the source fails the READ (ILLEGAL REQUEST);
	 * COPY ABORTED, NO ADDITIONAL SENSE INFORMATION, naming the segment,
	 * the CSCD's sense forwarded. */
	ct_list_init(&l, 5, PRK_XCOPY_LIU_HOLD);
	s = ct_cscd(e, &l, 0, 0, 0);
	d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 16, 0, 200, false);
	ct_seg_b2b(&l, s, d, 16, 4090, 0, false);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_NONE, 1);
	ct_cmd_free(c);
	assert_true(ct_same(e, 0, 0, 1, 200, 16 * 512));
	struct prk_cm_stats st;
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.failed, 4);
	assert_int_equal(st.started, 6);
	assert_int_equal(st.done, 2); /* the two LU ID TYPE cases */
	ct_free(e);
}

static void test_list_ids(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	struct prk_xcopy_list l;
	ct_list_init(&l, 9, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 2000, 0, 0, false);
	ct_set_async(true);
	struct ct_cmd *c1 = ct_xcopy_start(e, 0, &e->a, &l);
	assert_int_equal(c1->done, 0);
	/* The same (LU, nexus, list id) while running: 00/16. */
	struct ct_cmd *c2 = ct_xcopy_start(e, 0, &e->a, &l);
	assert_int_equal(c2->done, 1);
	ct_assert_sense(c2, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_OPERATION_IN_PROGRESS);
	ct_cmd_free(c2);
	l.list_id_usage = PRK_XCOPY_LIU_NO_HOLD;
	c2 = ct_xcopy_start(e, 0, &e->a, &l);
	ct_assert_sense(c2, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_OPERATION_IN_PROGRESS);
	ct_cmd_free(c2);
	/* Another nexus, or another LU, may use the same id. */
	struct ct_cmd *c3 = ct_xcopy_start(e, 0, &e->b, &l);
	struct ct_cmd *c4 = ct_xcopy_start(e, 1, &e->a, &l);
	/* 11b: the list id must be 0. */
	l.list_id_usage = PRK_XCOPY_LIU_NONE;
	c2 = ct_xcopy_start(e, 0, &e->a, &l);
	ct_assert_sense(c2, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_FIELD_IN_PARAM_LIST);
	ct_cmd_free(c2);
	ct_wait(c1);
	ct_wait(c3);
	ct_wait(c4);
	ct_assert_good(c1);
	ct_assert_good(c3);
	ct_assert_good(c4);
	ct_cmd_free(c1);
	ct_cmd_free(c3);
	ct_cmd_free(c4);
	/* Done: the id is free again. */
	ct_set_async(false);
	l.list_id_usage = PRK_XCOPY_LIU_HOLD;
	c1 = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c1);
	ct_cmd_free(c1);
	ct_free(e);
}

/* max_copies at once (16 here), each correct; one more is refused. */
static void test_concurrent_and_max(void **state)
{
	(void)state;
	struct prk_cm_config cfg = {.max_copies = 16, .chunk = 16384, .depth = 2};
	static const uint32_t bsz[] = {512, 512};
	static const uint64_t nb[] = {8192, 8192};
	struct ct_env *e = ct_new(2, bsz, nb, &cfg);
	ct_fill(e, 0, 0, 4096, 7);
	struct ct_cmd *c[16];
	struct prk_xcopy_list l;
	ct_set_async(true);
	for (unsigned i = 0; i < 16; i++) {
		ct_list_init(&l, (uint8_t)i, PRK_XCOPY_LIU_HOLD);
		uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 1, 0, 0);
		ct_seg_b2b(&l, s, d, 256, i * 256, 8191 - (i + 1) * 256 + 1 - 1, false);
		c[i] = ct_xcopy_start(e, 0, &e->a, &l);
		assert_int_equal(c[i]->done, 0);
	}
	struct prk_cm_stats st;
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.active, 16);
	ct_list_init(&l, 99, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0);
	ct_seg_b2b(&l, s, s, 1, 0, 5000, false);
	struct ct_cmd *x = ct_xcopy_start(e, 0, &e->a, &l);
	ct_assert_sense(x, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INSUFFICIENT_RESOURCES);
	ct_cmd_free(x);
	for (unsigned i = 0; i < 16; i++) {
		ct_wait(c[i]);
		ct_assert_good(c[i]);
		ct_cmd_free(c[i]);
	}
	ct_set_async(false);
	for (unsigned i = 0; i < 16; i++)
		assert_true(ct_same(e, 0, i * 256, 1, 8191 - (i + 1) * 256, 256 * 512));
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.done, 16);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.bytes, 16 * 256 * 512);
	ct_free(e);
}

/* A copy target's CHECK CONDITION travels inside COPY ABORTED: fixed
 * format (the source's sense at the offset in byte 8, after its status
 * byte) or, with D_SENSE set on the receiving LU, descriptor format with
 * a forwarded sense data descriptor. */
static void test_cscd_sense_forwarded(void **state)
{
	(void)state;
	struct ct_env *e = env3();
	struct prk_xcopy_list l;
	ct_list_init(&l, 1, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 16, 4090, 0, false); /* past the source's end */
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_NONE, 0);
	const uint8_t *sn = c->cmd.sense;
	uint8_t off = sn[8];
	assert_int_equal(sn[9], 0); /* nothing from the destination */
	assert_true(off >= 18 && off + 1u + 14 <= c->cmd.sense_len);
	assert_int_equal(sn[off], PRK_STATUS_CHECK_CONDITION);
	struct prk_sense fw;
	assert_int_equal(prk_sense_decode(sn + off + 1, c->cmd.sense_len - off - 1u, &fw), 0);
	assert_int_equal(fw.key, PRK_SK_ILLEGAL_REQUEST);
	assert_int_equal(fw.asc << 8 | fw.ascq, PRK_ASC_LBA_OUT_OF_RANGE);
	ct_cmd_free(c);

	uint8_t ms[16] = {PRK_OP_MODE_SELECT10, 0x10}, p[20] = {0};
	p[8] = 0x0a;
	p[9] = 0x0a;
	p[10] = 0x04; /* D_SENSE */
	p[11] = 0x10;
	ms[8] = 20;
	c = ct_run(e, 0, &e->a, ms, p, 20, 20);
	ct_assert_good(c);
	ct_cmd_free(c);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_sense(c, PRK_SK_COPY_ABORTED, PRK_ASC_NONE);
	sn = c->cmd.sense;
	assert_int_equal(sn[0], 0x72);
	bool found = false;
	for (size_t i = 8; i + 2 <= c->cmd.sense_len; i += 2u + sn[i + 1]) {
		if (sn[i] != 0x0c)
			continue;
		found = true;
		assert_int_equal(sn[i + 2] & 0x0f, 1); /* SENSE DATA SOURCE: copy source */
		assert_int_equal(sn[i + 3], PRK_STATUS_CHECK_CONDITION);
		assert_int_equal(prk_sense_decode(sn + i + 4, sn[i + 1] - 2u, &fw), 0);
		assert_int_equal(fw.asc << 8 | fw.ascq, PRK_ASC_LBA_OUT_OF_RANGE);
	}
	assert_true(found);
	ct_cmd_free(c);
	ct_free(e);
}

static struct prk_lu *no_resolve(void *ctx, struct prk_lu *via, const struct prk_nexus *nx,
                                 const struct prk_xcopy_cscd *d)
{
	(void)ctx;
	(void)via;
	(void)nx;
	(void)d;
	return NULL;
}

static void test_config_errors(void **state)
{
	(void)state;
	char err[128];
	struct prk_cm_ops ops = {0};
	struct prk_cm_config cfg = {0};
	assert_null(prk_cm_new(&cfg, &ops, err, sizeof(err)));
	ops.resolve = no_resolve;
	cfg.isid = 1ULL << 48;
	assert_null(prk_cm_new(&cfg, &ops, err, sizeof(err)));
	assert_non_null(strstr(err, "isid"));
	cfg.isid = 1;
	strcpy(cfg.initiator, "not a name");
	assert_null(prk_cm_new(&cfg, &ops, err, sizeof(err)));
	assert_non_null(strstr(err, "initiator"));
	cfg.initiator[0] = 0;
	cfg.max_copies = 8;
	assert_null(prk_cm_new(&cfg, &ops, err, sizeof(err)));
	assert_non_null(strstr(err, "max_copies"));
	cfg.max_copies = 0;
	cfg.chunk = 1000;
	assert_null(prk_cm_new(&cfg, &ops, err, sizeof(err)));
	assert_non_null(strstr(err, "chunk"));
	cfg.chunk = 0;
	struct prk_cm *cm = prk_cm_new(&cfg, &ops, err, sizeof(err));
	assert_non_null(cm);
	assert_int_equal(prk_cm_nexus(cm)->rtpi, PRK_CM_DEFAULT_RTPI);
	assert_string_equal(prk_cm_tid(cm)->name, PRK_CM_DEFAULT_INITIATOR);
	assert_int_equal(prk_cm_tid(cm)->isid, PRK_CM_DEFAULT_ISID);
	assert_int_equal(prk_cm_tid(cm)->format, PRK_TID_FMT_PORT);
	assert_int_equal(prk_cm_opparams(cm)->max_concurrent, 32);
	prk_cm_free(cm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_param_len_zero),       cmocka_unit_test(test_across_lus_async),
	    cmocka_unit_test(test_within_lu_inline),     cmocka_unit_test(test_block_size_mix),
	    cmocka_unit_test(test_cscd_checks),          cmocka_unit_test(test_list_ids),
	    cmocka_unit_test(test_concurrent_and_max),   cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_cscd_sense_forwarded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
