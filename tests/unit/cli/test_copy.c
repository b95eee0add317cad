/* `prkit copy`'s pure parts: the command line (prk_copy_parse) and the
 * plan that cuts a copy into EXTENDED COPY commands and 02h segments
 * within the copy manager's OPERATING PARAMETERS (prk_copy_plan_*). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "copy_args.h"
#include "copy_list.h"
#include "copy_plan.h"
#include "copy_sense.h"
#include "persist_exit.h"
#include "prkit/scsi_pr_wire.h"
#include "prkit/scsi_xcopy.h"

#define S "iscsi://127.0.0.1:3260/iqn.2026-12.io.prkit:t/0"
#define D "iscsi://127.0.0.1:3260/iqn.2026-12.io.prkit:t/1"
#define OTHER_TGT "iscsi://127.0.0.1:3260/iqn.2026-12.io.prkit:u/1"

static struct prk_copy_args A;
static char E[512];

static int parse_v(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	memset(E, 0, sizeof(E));
	return prk_copy_parse(argc, argv, &A, E, sizeof(E));
}
#define ARGV(...) ((char *[]){"copy", __VA_ARGS__, NULL})
#define PARSE(...) parse_v(ARGV(__VA_ARGS__))
#define assert_fails(rc, argv, want)                                                               \
	do {                                                                                       \
		assert_int_equal(parse_v(argv), (rc));                                             \
		if (!strstr(E, want))                                                              \
			fail_msg("message \"%s\" lacks \"%s\"", E, want);                          \
	} while (0)

/* ---- the command line ---- */

static void args_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE(S, D), 0);
	assert_string_equal(A.src.target, "iqn.2026-12.io.prkit:t");
	assert_int_equal(A.src.lun, 0);
	assert_int_equal(A.dst.lun, 1);
	assert_int_equal(A.src_lba, 0);
	assert_int_equal(A.dst_lba, 0);
	assert_false(A.blocks_given);
	assert_false(A.host_copy);
	assert_false(A.third_party);
	assert_int_equal(A.list_id, PRK_COPY_DEFAULT_LIST_ID);
	assert_int_equal(A.timeout, PRK_COPY_DEFAULT_TIMEOUT);
	assert_false(A.json);
}

static void args_ranges_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--src-lba", "0x10", "--dst-lba=20h", "--blocks", "300", S, D), 0);
	assert_int_equal(A.src_lba, 16);
	assert_int_equal(A.dst_lba, 32);
	assert_true(A.blocks_given);
	assert_int_equal(A.blocks, 300);
	assert_fails(1, ARGV("--blocks", "0", S, D), "--blocks '0'");
	assert_fails(1, ARGV("--blocks", "12x", S, D), "--blocks '12x'");
	assert_fails(1, ARGV("--src-lba", "-1", S, D), "--src-lba '-1'");
	assert_fails(1, ARGV("--list-id", "256", S, D), "--list-id '256'");
	assert_int_equal(PARSE("--list-id", "255", S, D), 0);
	assert_int_equal(A.list_id, 255);
	assert_fails(1, ARGV("--segment-blocks", "65536", S, D), "--segment-blocks '65536'");
	assert_fails(1, ARGV("--segments-per-command", "65", S, D), "--segments-per-command '65'");
	assert_fails(1, ARGV("--timeout", "0", S, D), "--timeout '0'");
}

static void args_operands(void **state)
{
	(void)state;
	assert_fails(1, ARGV(S), "not 1 operand");
	assert_fails(1, ARGV(S, D, D), "not 3 operands");
	assert_fails(1, ARGV("http://x/y/0", D), "SRC 'http://x/y/0'");
	assert_fails(1, ARGV(S, "iscsi://127.0.0.1/iqn.2026-12.io.prkit:t/99999"), "DST");
	assert_fails(1, ARGV("--bogus", S, D), "--bogus");
	/* The offload needs one target; the host copy does not. */
	assert_fails(31, ARGV(S, OTHER_TGT), "one target");
	assert_int_equal(PARSE("--host-copy", S, OTHER_TGT), 0);
	assert_true(A.host_copy);
	assert_int_equal(PARSE("--help"), 0);
	assert_true(A.help);
}

static void args_third_party(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--third-party", "0xabc", S, D), 0);
	assert_true(A.third_party);
	assert_int_equal(A.key, 0xabc);
	assert_int_equal(A.cm_key, 0xabc ^ PRK_COPY_CM_KEY_XOR);
	assert_false(A.keep);
	assert_int_equal(PARSE("--third-party", "1", "--cm-key", "2", "--keep", "--cm-transport-id",
	                       "iqn.2026-12.io.prkit:copy-manager,i,0x000000000001", "--cm-rtpi",
	                       "65535", S, D),
	                 0);
	assert_int_equal(A.cm_key, 2);
	assert_true(A.keep);
	assert_true(A.cm_tid_given);
	assert_int_equal(A.cm_tid.format, PRK_TID_FMT_PORT);
	assert_int_equal(A.cm_tid.isid, 1);
	assert_string_equal(A.cm_tid.name, "iqn.2026-12.io.prkit:copy-manager");
	assert_int_equal(A.cm_rtpi, 65535);

	assert_fails(1, ARGV("--third-party", "0", S, D), "not 0");
	assert_fails(1, ARGV("--third-party", "xyz", S, D), "--third-party 'xyz'");
	assert_fails(31, ARGV("--third-party", "5", "--cm-key", "5", S, D), "must differ");
	assert_fails(31, ARGV("--third-party", "5", "--host-copy", S, D), "--host-copy");
	assert_fails(31, ARGV("--keep", S, D), "--keep is for --third-party only");
	assert_fails(31, ARGV("--cm-key", "3", S, D), "--cm-key is for --third-party only");
	assert_fails(31, ARGV("--third-party", "5", "--cm-rtpi", "7", S, D), "go together");
	/* Format 00b names every ISID of a name: not one I_T nexus. */
	assert_fails(1,
	             ARGV("--third-party", "5", "--cm-transport-id",
	                  "iqn.2026-12.io.prkit:copy-manager", "--cm-rtpi", "1", S, D),
	             "initiator port");
	assert_fails(1, ARGV("--third-party", "5", "--cm-rtpi", "0", S, D), "--cm-rtpi '0'");
	assert_fails(31, ARGV("--host-copy", "--segment-blocks", "8", S, D), "offload");
}

static void args_default_cm_key(void **state)
{
	(void)state;
	assert_int_equal(prk_copy_default_cm_key(0x1234), 0x434d000000001234ULL);
	assert_int_equal(prk_copy_default_cm_key(PRK_COPY_CM_KEY_XOR), 1);
	assert_true(prk_copy_default_cm_key(0x434d0000000000ffULL) != 0x434d0000000000ffULL);
}

/* ---- the plan ---- */

static const struct prk_copy_geom G512 = {512, 512, 1 << 21, 1 << 21}; /* 1 GiB each */
/* What prkit's copy manager reports (docs/copy.md), one 15h or none. */
static const struct prk_copy_limits LIM = {
    .max_cscd = 16, .max_seg = 64, .max_list_len = 4096, .max_seg_len = 65535u * 512, .n_cscd = 2};

static void plan_whole_lu(void **state)
{
	(void)state;
	struct prk_copy_plan p;
	struct prk_copy_req r = {0};
	assert_int_equal(prk_copy_plan_make(&G512, &r, &LIM, &p, E, sizeof(E)), 0);
	assert_int_equal(p.bytes, 1ULL << 30);
	assert_int_equal(p.seg_blocks, 65535);
	/* 2^21 blocks / 65535 = 32.0005: 33 segments, the last of 32 blocks */
	assert_int_equal(p.n_segs, 33);
	assert_int_equal(p.segs_per_cmd, 64);
	assert_int_equal(p.n_cmds, 1);
	struct prk_copy_seg s;
	prk_copy_plan_seg(&p, 32, &s);
	assert_int_equal(s.src_lba, 32ULL * 65535);
	assert_int_equal(s.dst_lba, 32ULL * 65535);
	assert_int_equal(s.n_blocks, 32);
	/* Every block once, in order, nothing past the end. */
	uint64_t next = 0;
	for (uint64_t k = 0; k < p.n_segs; k++) {
		prk_copy_plan_seg(&p, k, &s);
		assert_int_equal(s.src_lba, next);
		next += s.n_blocks;
	}
	assert_int_equal(next, 1 << 21);
}

static void plan_limits_cut_commands(void **state)
{
	(void)state;
	struct prk_copy_plan p;
	struct prk_copy_req r = {
	    .src_lba = 100, .dst_lba = 7, .blocks = 1000, .blocks_given = true};
	struct prk_copy_limits l = LIM;
	l.seg_blocks = 64;
	l.segs_per_cmd = 3;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.seg_blocks, 64);
	assert_int_equal(p.n_segs, 16); /* 15 x 64 + 40 */
	assert_int_equal(p.n_cmds, 6);  /* 5 x 3 + 1 */
	uint64_t first;
	uint16_t n;
	prk_copy_plan_cmd(&p, 5, &first, &n);
	assert_int_equal(first, 15);
	assert_int_equal(n, 1);
	struct prk_copy_seg s;
	prk_copy_plan_seg(&p, 15, &s);
	assert_int_equal(s.src_lba, 100 + 960);
	assert_int_equal(s.dst_lba, 7 + 960);
	assert_int_equal(s.n_blocks, 40);

	/* MAXIMUM SEGMENT LENGTH in bytes bounds a segment. */
	l = LIM;
	l.max_seg_len = 1 << 20;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.seg_blocks, 2048);
	assert_int_equal(p.n_segs, 1);

	/* The descriptor list length: 2 CSCDs (64) + a 15h of 100 bytes +
	 * 28 per 02h within 400 bytes: 8 segments. */
	l = LIM;
	l.seg_blocks = 10;
	l.max_list_len = 400;
	l.extra_segs = 1;
	l.extra_len = 100;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.segs_per_cmd, 8);
	/* MAXIMUM SEGMENT COUNT leaves one for the 15h. */
	l = LIM;
	l.max_seg = 4;
	l.extra_segs = 1;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.segs_per_cmd, 3);
}

static void plan_block_sizes_differ(void **state)
{
	(void)state;
	struct prk_copy_geom g = {512, 4096, 8192, 1024};
	struct prk_copy_plan p;
	struct prk_copy_req r = {.blocks = 8192, .blocks_given = true};
	struct prk_copy_limits l = LIM;
	l.seg_blocks = 100; /* rounded down to a multiple of 8 source blocks */
	assert_int_equal(prk_copy_plan_make(&g, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.seg_blocks, 96);
	struct prk_copy_seg s;
	prk_copy_plan_seg(&p, 1, &s);
	assert_int_equal(s.src_lba, 96);
	assert_int_equal(s.dst_lba, 12);
	/* 7 source blocks are not a whole 4096-byte block */
	r.blocks = 7;
	assert_int_equal(prk_copy_plan_make(&g, &r, &l, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "not a whole number of DST blocks"));
	/* A cap below one destination block leaves nothing. */
	r.blocks = 8;
	l.seg_blocks = 4;
	assert_int_equal(prk_copy_plan_make(&g, &r, &l, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "no segment length fits"));
}

static void plan_ranges_checked(void **state)
{
	(void)state;
	struct prk_copy_geom g = {512, 512, 1000, 500};
	struct prk_copy_plan p;
	struct prk_copy_req r = {0};
	/* the whole of SRC does not fit in DST */
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "DST is too small: 1000 blocks"));
	r.blocks = 500;
	r.blocks_given = true;
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), 0);
	r.dst_lba = 1;
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), -1);
	r = (struct prk_copy_req){.src_lba = 1000};
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "past the end of SRC"));
	r = (struct prk_copy_req){.src_lba = 900, .blocks = 101, .blocks_given = true};
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "runs past the end of SRC"));
	/* huge counts do not wrap */
	r = (struct prk_copy_req){.src_lba = 1, .blocks = UINT64_MAX, .blocks_given = true};
	assert_int_equal(prk_copy_plan_make(&g, &r, &LIM, &p, E, sizeof(E)), -1);
}

static void plan_limits_leave_no_room(void **state)
{
	(void)state;
	struct prk_copy_plan p;
	struct prk_copy_req r = {0};
	struct prk_copy_limits l = LIM;
	l.max_seg = 1;
	l.extra_segs = 1;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "no room"));
	l = LIM;
	l.max_list_len = 64 + 27;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), -1);
	l = LIM;
	l.max_cscd = 1;
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), -1);
	assert_non_null(strstr(E, "CSCD"));
	l.n_cscd = 1; /* a copy within one LU names it once */
	assert_int_equal(prk_copy_plan_make(&G512, &r, &l, &p, E, sizeof(E)), 0);
}

/* ---- COPY ABORTED: where the copy stopped ---- */

static void sense_segment_both_formats(void **state)
{
	(void)state;
	struct prk_xcopy_abort a = {
	    .asc = 0x0d02, .seg = 37, .has_ptr = true, .sd = true, .bit = -1, .field = 4};
	uint8_t buf[PRK_XCOPY_SENSE_MAX];
	uint16_t seg = 0;
	size_t n = prk_xcopy_abort_encode(&a, false, buf, sizeof(buf));
	assert_int_equal(prk_copy_abort_segment(buf, n, &seg), 0);
	assert_int_equal(seg, 37);
	/* with the failing device's sense forwarded, descriptor format */
	a.seg = 0x1234;
	a.from_dst = true;
	a.cscd_sense_len = 18;
	a.cscd_sense[0] = 0x70;
	a.cscd_sense[2] = 0x05;
	a.cscd_sense[7] = 10;
	n = prk_xcopy_abort_encode(&a, true, buf, sizeof(buf));
	seg = 0;
	assert_int_equal(prk_copy_abort_segment(buf, n, &seg), 0);
	assert_int_equal(seg, 0x1234);
	/* not COPY ABORTED, or cut short: nothing to say */
	uint8_t ill[18] = {0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 7};
	assert_int_equal(prk_copy_abort_segment(ill, sizeof(ill), &seg), -1);
	n = prk_xcopy_abort_encode(&a, false, buf, sizeof(buf));
	assert_int_equal(prk_copy_abort_segment(buf, 11, &seg), -1);
	a.seg = 3;
	n = prk_xcopy_abort_encode(&a, true, buf, sizeof(buf));
	assert_int_equal(prk_copy_abort_segment(buf, 9, &seg), -1);
	assert_int_equal(prk_copy_abort_segment(buf, 0, &seg), -1);
}

/* ---- the parameter list, as the copy manager decodes it ---- */

/* prkit's copy manager's limits (docs/copy.md). */
static const struct prk_xcopy_limits CM = {.max_cscd = 16, .max_seg = 64, .max_list_len = 2048};

static void list_decodes_as_planned(void **state)
{
	(void)state;
	static const struct prk_copy_geom g = {512, 4096, 1 << 20, 1 << 17};
	struct prk_copy_req r = {.src_lba = 64, .dst_lba = 3, .blocks = 4096, .blocks_given = true};
	struct prk_copy_limits l = LIM;
	l.seg_blocks = 1003; /* 1000: a multiple of 8 source blocks */
	l.segs_per_cmd = 3;
	struct prk_copy_plan p;
	assert_int_equal(prk_copy_plan_make(&g, &r, &l, &p, E, sizeof(E)), 0);
	assert_int_equal(p.n_segs, 5);
	assert_int_equal(p.n_cmds, 2);
	struct prk_copy_lu_id src = {.pdt = 0, .bs = 512}, dst = {.pdt = 0, .bs = 4096};
	memset(src.naa, 0x61, 16);
	memset(dst.naa, 0x62, 16);
	static uint8_t buf[8192];
	static struct prk_xcopy_list d;
	struct prk_field_err fe;
	uint16_t n02;
	/* the second command: segments 3 and 4 */
	size_t len = prk_copy_list_build(&p, 1, 9, &src, &dst, NULL, 0, buf, sizeof(buf), &n02);
	assert_int_equal(n02, 2);
	assert_int_equal(len, 16 + 2 * 32 + 2 * 28);
	assert_int_equal(prk_xcopy_decode(buf, len, &CM, &d, &fe), 0);
	assert_int_equal(d.list_id, 9);
	assert_int_equal(d.list_id_usage, PRK_XCOPY_LIU_HOLD);
	assert_int_equal(d.n_cscd, 2);
	assert_memory_equal(d.cscd[0].desig, src.naa, 16);
	assert_memory_equal(d.cscd[1].desig, dst.naa, 16);
	assert_int_equal(d.cscd[1].block_len, 4096);
	assert_int_equal(d.n_seg, 2);
	assert_int_equal(d.seg[0].type, PRK_XCOPY_SEG_B2B);
	assert_int_equal(d.seg[0].src, 0);
	assert_int_equal(d.seg[0].dst, 1);
	assert_false(d.seg[0].dc);
	assert_int_equal(d.seg[0].src_lba, 64 + 3 * 1000);
	assert_int_equal(d.seg[0].dst_lba, 3 + 3 * 1000 / 8);
	assert_int_equal(d.seg[0].n_blocks, 1000);
	assert_int_equal(d.seg[1].src_lba, 64 + 4 * 1000);
	assert_int_equal(d.seg[1].n_blocks, 4096 - 4 * 1000);

	/* --third-party: a 15h first, carrying the REGISTER AND MOVE list that
	 * names our nexus; the same LU named once */
	struct prk_tid me = {.format = PRK_TID_FMT_PORT, .isid = 0x80123456abcdULL};
	strcpy(me.name, "iqn.2026-12.io.prkit.test:backup");
	uint8_t move[PRK_PROUT_MOVE_HDR_LEN + PRK_TID_MAX_LEN];
	size_t mlen = prk_prout_params_encode_move(0x434d000000000abcULL, 0xabc, true, false, 2,
	                                           &me, move, sizeof(move));
	assert_true(mlen > 0);
	len = prk_copy_list_build(&p, 0, 1, &src, NULL, move, mlen, buf, sizeof(buf), &n02);
	assert_int_equal(n02, 3);
	/* what the planner counted for the 15h: 8 + the list */
	assert_int_equal(len, 16 + 32 + 8 + mlen + 3 * 28);
	assert_int_equal(prk_xcopy_decode(buf, len, &CM, &d, &fe), 0);
	assert_int_equal(d.n_cscd, 1);
	assert_int_equal(d.n_seg, 4);
	assert_int_equal(d.seg[0].type, PRK_XCOPY_SEG_3PR);
	assert_int_equal(d.seg[0].dst, 0);
	assert_int_equal(d.seg[0].move_len, mlen);
	assert_memory_equal(d.seg[0].move, move, mlen);
	assert_int_equal(d.seg[0].move_p.key, 0x434d000000000abcULL);
	assert_int_equal(d.seg[0].move_p.sa_key, 0xabc);
	assert_true(d.seg[0].move_p.unreg);
	assert_int_equal(d.seg[0].move_p.rtpi, 2);
	assert_int_equal(d.seg[1].type, PRK_XCOPY_SEG_B2B);
	assert_int_equal(d.seg[1].dst, 0);
	assert_int_equal(d.seg[3].src_lba, 64 + 2 * 1000);
	/* the CDB carries the length */
	uint8_t cdb[16];
	prk_xcopy_cdb_encode((uint32_t)len, cdb);
	assert_int_equal(cdb[0], 0x83);
	assert_int_equal(cdb[13], len & 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(args_defaults),
	    cmocka_unit_test(args_ranges_and_numbers),
	    cmocka_unit_test(args_operands),
	    cmocka_unit_test(args_third_party),
	    cmocka_unit_test(args_default_cm_key),
	    cmocka_unit_test(plan_whole_lu),
	    cmocka_unit_test(plan_limits_cut_commands),
	    cmocka_unit_test(plan_block_sizes_differ),
	    cmocka_unit_test(plan_ranges_checked),
	    cmocka_unit_test(plan_limits_leave_no_room),
	    cmocka_unit_test(sense_segment_both_formats),
	    cmocka_unit_test(list_decodes_as_planned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
