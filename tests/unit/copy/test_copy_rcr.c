/* RECEIVE COPY RESULTS: COPY STATUS of a running, a finished and a failed
 * copy, OPERATING PARAMETERS, FAILED SEGMENT DETAILS, and the held
 * results' life: released when read, bounded (oldest dropped, HDD), per
 * LU and nexus, dropped when the nexus goes or the LU is detached. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "copy_test_util.h"
#include "prkit/scsi_cdb.h"

static const uint32_t bsz[] = {512, 512};
static const uint64_t nb[] = {4096, 4096};

static struct prk_xcopy_status status_of(struct ct_env *e, const struct prk_nexus *nx, uint8_t id)
{
	struct ct_cmd *c = ct_rcr(e, 0, nx, PRK_RCR_SA_COPY_STATUS, id);
	ct_assert_good(c);
	struct prk_xcopy_status st;
	assert_int_equal(prk_rcr_status_decode(c->cmd.data_in, c->cmd.data_in_len, &st), 0);
	ct_cmd_free(c);
	return st;
}

static void assert_unknown(struct ct_env *e, const struct prk_nexus *nx, uint8_t sa, uint8_t id)
{
	struct ct_cmd *c = ct_rcr(e, 0, nx, sa, id);
	ct_assert_sense(c, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_FIELD_IN_CDB);
	struct prk_sense s;
	assert_int_equal(prk_sense_decode(c->cmd.sense, c->cmd.sense_len, &s), 0);
	assert_true(s.sksv && s.cd);
	assert_int_equal(s.field, 2);
	ct_cmd_free(c);
}

static void simple(struct ct_env *e, struct prk_xcopy_list *l, uint8_t id, uint8_t usage,
                   uint16_t n, uint64_t slba)
{
	ct_list_init(l, id, usage);
	uint16_t s = ct_cscd(e, l, 0, 0, 0), d = ct_cscd(e, l, 1, 0, 0);
	ct_seg_b2b(l, s, d, n, slba, 0, false);
}

static void test_status_in_progress_and_done(void **state)
{
	(void)state;
	struct ct_env *e = ct_new(2, bsz, nb, NULL);
	struct prk_xcopy_list l;
	simple(e, &l, 7, PRK_XCOPY_LIU_HOLD, 2048, 0);
	ct_set_async(true);
	struct ct_cmd *c = ct_xcopy_start(e, 0, &e->a, &l);
	ct_drain(6); /* a few chunks written */
	struct prk_xcopy_status st = status_of(e, &e->a, 7);
	assert_int_equal(st.status, PRK_XCOPY_ST_IN_PROGRESS);
	assert_int_equal(st.segs_done, 0);
	uint64_t so_far = (uint64_t)st.count << (10 * st.units);
	assert_true(so_far > 0 && so_far < 2048 * 512);
	/* FAILED SEGMENT DETAILS of a running copy: not (yet) available. */
	assert_unknown(e, &e->a, PRK_RCR_SA_FAILED_SEG, 7);
	ct_wait(c);
	ct_set_async(false);
	ct_assert_good(c);
	ct_cmd_free(c);
	st = status_of(e, &e->a, 7);
	assert_int_equal(st.status, PRK_XCOPY_ST_DONE);
	assert_int_equal(st.segs_done, 1);
	assert_int_equal((uint64_t)st.count << (10 * st.units), 2048 * 512);
	assert_false(st.hdd);
	/* Read: released. */
	assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, 7);
	ct_free(e);
}

static void test_failed_details(void **state)
{
	(void)state;
	struct ct_env *e = ct_new(2, bsz, nb, NULL);
	struct prk_xcopy_list l;
	ct_list_init(&l, 3, PRK_XCOPY_LIU_HOLD);
	uint16_t s = ct_cscd(e, &l, 0, 0, 0), d = ct_cscd(e, &l, 1, 0, 0);
	ct_seg_b2b(&l, s, d, 8, 0, 0, false);
	ct_seg_b2b(&l, s, d, 8, 4095, 0, false);
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_NONE, 1); /* the source's 21/00 forwarded */
	struct prk_xcopy_status st = status_of(e, &e->a, 3);
	assert_int_equal(st.status, PRK_XCOPY_ST_FAILED);
	assert_int_equal(st.segs_done, 1);
	/* Still held after COPY STATUS: the details are read next. */
	struct ct_cmd *r = ct_rcr(e, 0, &e->a, PRK_RCR_SA_FAILED_SEG, 3);
	ct_assert_good(r);
	struct prk_xcopy_failed f;
	assert_int_equal(prk_rcr_failed_decode(r->cmd.data_in, r->cmd.data_in_len, &f), 0);
	assert_int_equal(f.status, PRK_STATUS_CHECK_CONDITION);
	assert_int_equal(f.sense_len, c->cmd.sense_len);
	assert_memory_equal(f.sense, c->cmd.sense, f.sense_len);
	ct_cmd_free(r);
	ct_cmd_free(c);
	assert_unknown(e, &e->a, PRK_RCR_SA_FAILED_SEG, 3);
	assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, 3);
	ct_free(e);
}

static void test_opparams(void **state)
{
	(void)state;
	struct ct_env *e = ct_new(2, bsz, nb, NULL);
	struct ct_cmd *c = ct_rcr(e, 0, &e->a, PRK_RCR_SA_OP_PARAMS, 0);
	ct_assert_good(c);
	struct prk_xcopy_opparams p;
	assert_int_equal(prk_rcr_opparams_decode(c->cmd.data_in, c->cmd.data_in_len, &p), 0);
	assert_int_equal(p.max_cscd, 16);
	assert_int_equal(p.max_seg, 64);
	assert_int_equal(p.max_concurrent, 32);
	assert_int_equal(p.total_concurrent, 32);
	assert_int_equal(p.max_inline, 0);
	/* Within what libiscsi's DescrLimits needs (scsi_xcopy.h). */
	assert_true(p.max_list_len >= 1852 && p.max_list_len <= 2379);
	assert_int_equal(p.n_impl, 4);
	const uint8_t want[] = {0x02, 0x14, 0x15, 0xe4};
	assert_memory_equal(p.impl, want, 4);
	ct_cmd_free(c);
	ct_free(e);
}

/* Per LU and nexus; not held with LIST ID USAGE 10b or 11b; dropped
 * when the nexus goes; bounded by max_held (oldest first, HDD). */
static void test_held_life(void **state)
{
	(void)state;
	struct prk_cm_config cfg = {.chunk = 65536, .max_held = 16};
	struct ct_env *e = ct_new(2, bsz, nb, &cfg);
	struct prk_xcopy_list l;
	simple(e, &l, 1, PRK_XCOPY_LIU_NO_HOLD, 8, 0);
	struct ct_cmd *c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, 1);

	simple(e, &l, 2, PRK_XCOPY_LIU_HOLD, 8, 0);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_good(c);
	ct_cmd_free(c);
	assert_unknown(e, &e->b, PRK_RCR_SA_COPY_STATUS, 2); /* another nexus */
	struct ct_cmd *other_lu = ct_rcr(e, 1, &e->a, PRK_RCR_SA_COPY_STATUS, 2);
	ct_assert_sense(other_lu, PRK_SK_ILLEGAL_REQUEST, PRK_ASC_INVALID_FIELD_IN_CDB);
	ct_cmd_free(other_lu);
	struct prk_cm_stats st;
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 1);
	prk_cm_nexus_gone(e->cm, &e->a);
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 0);
	assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, 2);

	/* A copy still running when its nexus goes holds nothing after. */
	simple(e, &l, 9, PRK_XCOPY_LIU_HOLD, 1024, 0);
	ct_set_async(true);
	c = ct_xcopy_start(e, 0, &e->a, &l);
	ct_drain(2);
	prk_cm_nexus_gone(e->cm, &e->a);
	ct_wait(c);
	ct_set_async(false);
	ct_assert_good(c);
	ct_cmd_free(c);
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 0);
	assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, 9);

	/* 20 held results with room for 16: the first 4 are dropped. */
	for (uint8_t id = 0; id < 20; id++) {
		simple(e, &l, id, PRK_XCOPY_LIU_HOLD, 8, 0);
		c = ct_xcopy(e, 0, &e->a, &l);
		ct_assert_good(c);
		ct_cmd_free(c);
	}
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 16);
	for (uint8_t id = 0; id < 4; id++)
		assert_unknown(e, &e->a, PRK_RCR_SA_COPY_STATUS, id);
	struct prk_xcopy_status s = status_of(e, &e->a, 19);
	assert_int_equal(s.status, PRK_XCOPY_ST_DONE);
	assert_true(s.hdd); /* some of this nexus's results were discarded */
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 15);
	/* A new copy with a held list id replaces its results. */
	simple(e, &l, 5, PRK_XCOPY_LIU_HOLD, 8, 4095);
	c = ct_xcopy(e, 0, &e->a, &l);
	ct_assert_aborted(c, PRK_ASC_NONE, 0);
	ct_cmd_free(c);
	s = status_of(e, &e->a, 5);
	assert_int_equal(s.status, PRK_XCOPY_ST_FAILED);
	/* Detaching the LU drops what it holds. */
	prk_cm_detach(e->cm, e->l[0].lu);
	prk_cm_stats(e->cm, &st);
	assert_int_equal(st.held, 0);
	prk_cm_attach(e->cm, e->l[0].lu);
	ct_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_in_progress_and_done),
	    cmocka_unit_test(test_failed_details),
	    cmocka_unit_test(test_opparams),
	    cmocka_unit_test(test_held_life),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
