/* The mount's decisions (mnt_core.c): open runs the mode once and then
 * shares, single refuses any second open, the last release closes; errno
 * values are the ones Linux's sd driver gives; byte ranges are clipped,
 * refused or split into read-modify-write edges correctly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "mnt_core.h"

static void test_open_runs_then_shares(void **state)
{
	(void)state;
	struct prk_mnt_devstate s = {0};
	enum prk_mnt_open_action a = prk_mnt_open_decide(&s, PRK_OPEN_FORCED);
	assert_int_equal(a, PRK_MNT_OPEN_RUN);
	prk_mnt_open_done(&s, a, PRK_OPEN_FORCED);
	assert_true(s.open);
	assert_int_equal(s.handles, 1);
	assert_int_equal(s.mode, PRK_OPEN_FORCED);
	/* Another name's mode: shared, no PR command, the mode stays. */
	for (int m = PRK_OPEN_DEFAULT; m <= PRK_OPEN_CLUSTER; m++) {
		if (m == PRK_OPEN_SINGLE)
			continue;
		a = prk_mnt_open_decide(&s, (enum prk_open_mode)m);
		assert_int_equal(a, PRK_MNT_OPEN_SHARE);
	}
	prk_mnt_open_done(&s, PRK_MNT_OPEN_SHARE, PRK_OPEN_RETAIN);
	assert_int_equal(s.handles, 2);
	assert_int_equal(s.mode, PRK_OPEN_FORCED);
	assert_false(prk_mnt_release(&s));
	assert_true(s.open);
	assert_true(prk_mnt_release(&s)); /* the last: the caller closes */
	assert_false(s.open);
	assert_int_equal(s.handles, 0);
	/* A release too many changes nothing. */
	assert_false(prk_mnt_release(&s));
	assert_int_equal(prk_mnt_open_decide(&s, PRK_OPEN_SINGLE), PRK_MNT_OPEN_RUN);
}

static void test_single_refuses_second_open(void **state)
{
	(void)state;
	struct prk_mnt_devstate s = {0};
	prk_mnt_open_done(&s, PRK_MNT_OPEN_RUN, PRK_OPEN_SINGLE);
	for (int m = PRK_OPEN_DEFAULT; m <= PRK_OPEN_CLUSTER; m++)
		assert_int_equal(prk_mnt_open_decide(&s, (enum prk_open_mode)m),
		                 PRK_MNT_OPEN_REFUSE);
	/* Opened default: a single open is refused too. */
	struct prk_mnt_devstate d = {0};
	prk_mnt_open_done(&d, PRK_MNT_OPEN_RUN, PRK_OPEN_DEFAULT);
	assert_int_equal(prk_mnt_open_decide(&d, PRK_OPEN_SINGLE), PRK_MNT_OPEN_REFUSE);
	/* A refusal counts no handle. */
	prk_mnt_open_done(&d, PRK_MNT_OPEN_REFUSE, PRK_OPEN_SINGLE);
	assert_int_equal(d.handles, 1);
}

static void test_open_errno(void **state)
{
	(void)state;
	struct {
		enum prk_host_errc code;
		int want;
	} t[] = {{PRK_HE_BUSY, EBUSY},   {PRK_HE_IN_USE, EBUSY}, {PRK_HE_CONFLICT, EBADE},
	         {PRK_HE_FENCED, EBADE}, {PRK_HE_NO_PATH, EIO},  {PRK_HE_TIMEOUT, EIO},
	         {PRK_HE_USAGE, EINVAL}, {PRK_HE_SCSI, EIO},     {PRK_HE_STATE, EIO},
	         {PRK_HE_IDENTITY, EIO}, {PRK_HE_MISMATCH, EIO}, {PRK_HE_UNSUPPORTED, EIO}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct prk_host_err e = {.code = t[i].code};
		assert_int_equal(prk_mnt_open_errno(&e), t[i].want);
	}
}

static void test_io_errno(void **state)
{
	(void)state;
	struct prk_io_result r = {.status = PRK_IO_OK};
	assert_int_equal(prk_mnt_io_errno(&r), 0);
	r.status = PRK_IO_FENCED;
	assert_int_equal(prk_mnt_io_errno(&r), EBADE);
	r.status = PRK_IO_NO_PATH;
	assert_int_equal(prk_mnt_io_errno(&r), EIO);
	r.status = PRK_IO_CLOSED;
	assert_int_equal(prk_mnt_io_errno(&r), EIO);
	r.status = PRK_IO_SCSI_ERROR;
	r.sense_key = 0x3; /* MEDIUM ERROR, UNRECOVERED READ ERROR */
	r.asc = 0x1100;
	assert_int_equal(prk_mnt_io_errno(&r), ENODATA);
	r.sense_key = 0x7; /* DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT */
	r.asc = 0x2707;
	assert_int_equal(prk_mnt_io_errno(&r), ENOSPC);
	r.sense_key = 0x5; /* ILLEGAL REQUEST, LBA OUT OF RANGE */
	r.asc = 0x2100;
	assert_int_equal(prk_mnt_io_errno(&r), EREMOTEIO);
	r.sense_key = 0x4; /* HARDWARE ERROR */
	r.asc = 0x4400;
	assert_int_equal(prk_mnt_io_errno(&r), EIO);
	r.sense_key = 0x7; /* DATA PROTECT, WRITE PROTECTED */
	r.asc = 0x2700;
	assert_int_equal(prk_mnt_io_errno(&r), EIO);
}

#define BS 512u
#define BLOCKS 100u /* 51200 bytes */

static void test_read_spans(void **state)
{
	(void)state;
	struct prk_mnt_span sp;
	prk_mnt_span_read(0, 4096, BS, BLOCKS, &sp);
	assert_int_equal(sp.lba, 0);
	assert_int_equal(sp.nblocks, 8);
	assert_int_equal(sp.head, 0);
	assert_int_equal(sp.len, 4096);
	/* Unaligned: the covering blocks, and where the bytes start. */
	prk_mnt_span_read(1000, 20, BS, BLOCKS, &sp);
	assert_int_equal(sp.lba, 1);
	assert_int_equal(sp.nblocks, 1);
	assert_int_equal(sp.head, 488);
	assert_int_equal(sp.len, 20);
	prk_mnt_span_read(1000, 30, BS, BLOCKS, &sp);
	assert_int_equal(sp.lba, 1);
	assert_int_equal(sp.nblocks, 2);
	assert_int_equal(sp.len, 30);
	/* Clipped at the end; at or after the end, nothing (EOF). */
	prk_mnt_span_read(51200 - 100, 4096, BS, BLOCKS, &sp);
	assert_int_equal(sp.len, 100);
	assert_int_equal(sp.lba, 99);
	assert_int_equal(sp.nblocks, 1);
	prk_mnt_span_read(51200, 4096, BS, BLOCKS, &sp);
	assert_int_equal(sp.nblocks, 0);
	assert_int_equal(sp.len, 0);
	prk_mnt_span_read(UINT64_MAX - 10, 4096, BS, BLOCKS, &sp);
	assert_int_equal(sp.len, 0);
	prk_mnt_span_read(0, 0, BS, BLOCKS, &sp);
	assert_int_equal(sp.nblocks, 0);
}

static void test_write_spans(void **state)
{
	(void)state;
	struct prk_mnt_span sp;
	assert_int_equal(prk_mnt_span_write(4096, 8192, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.lba, 8);
	assert_int_equal(sp.nblocks, 16);
	assert_false(sp.rmw_first);
	assert_false(sp.rmw_last);
	/* Inside one block: only the first block is read. */
	assert_int_equal(prk_mnt_span_write(1000, 10, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.nblocks, 1);
	assert_true(sp.rmw_first);
	assert_false(sp.rmw_last);
	/* Aligned start, short end. */
	assert_int_equal(prk_mnt_span_write(512, 700, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.lba, 1);
	assert_int_equal(sp.nblocks, 2);
	assert_false(sp.rmw_first);
	assert_true(sp.rmw_last);
	/* Both edges. */
	assert_int_equal(prk_mnt_span_write(100, 1000, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.lba, 0);
	assert_int_equal(sp.nblocks, 3);
	assert_int_equal(sp.head, 100);
	assert_true(sp.rmw_first);
	assert_true(sp.rmw_last);
	/* Unaligned start ending on a boundary. */
	assert_int_equal(prk_mnt_span_write(100, 924, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.nblocks, 2);
	assert_true(sp.rmw_first);
	assert_false(sp.rmw_last);
	/* Crossing the end: cut short. At or after the end: ENOSPC. */
	assert_int_equal(prk_mnt_span_write(51200 - 512, 4096, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.len, 512);
	assert_int_equal(sp.nblocks, 1);
	assert_false(sp.rmw_first);
	assert_int_equal(prk_mnt_span_write(51200, 512, BS, BLOCKS, &sp), ENOSPC);
	assert_int_equal(prk_mnt_span_write(UINT64_MAX - 1, 512, BS, BLOCKS, &sp), ENOSPC);
	assert_int_equal(prk_mnt_span_write(0, 0, BS, BLOCKS, &sp), 0);
	assert_int_equal(sp.nblocks, 0);
}

static void test_unmap_spans(void **state)
{
	(void)state;
	uint64_t lba = 7, nb = 7;
	assert_int_equal(prk_mnt_span_unmap(1024, 2048, BS, BLOCKS, &lba, &nb), 0);
	assert_int_equal(lba, 2);
	assert_int_equal(nb, 4);
	assert_int_equal(prk_mnt_span_unmap(0, 51200, BS, BLOCKS, &lba, &nb), 0);
	assert_int_equal(nb, 100);
	assert_int_equal(prk_mnt_span_unmap(51200, 0, BS, BLOCKS, &lba, &nb), 0);
	assert_int_equal(nb, 0);
	assert_int_equal(prk_mnt_span_unmap(100, 512, BS, BLOCKS, &lba, &nb), EINVAL);
	assert_int_equal(prk_mnt_span_unmap(512, 100, BS, BLOCKS, &lba, &nb), EINVAL);
	assert_int_equal(prk_mnt_span_unmap(51200 - 512, 1024, BS, BLOCKS, &lba, &nb), EINVAL);
	assert_int_equal(prk_mnt_span_unmap(UINT64_MAX - 511, 512, BS, BLOCKS, &lba, &nb), EINVAL);
}

static void test_rmw_runs_alone(void **state)
{
	(void)state;
	struct prk_mnt_order idle = {0};
	struct prk_mnt_order busy = {.inflight = 3};
	struct prk_mnt_order rmw = {.inflight = 1, .exclusive = true};
	struct prk_mnt_order queue = {.inflight = 2, .waiting = true};
	/* Plain I/O runs beside plain I/O. */
	assert_true(prk_mnt_may_start(&idle, false, false));
	assert_true(prk_mnt_may_start(&busy, false, false));
	/* A read-modify-write waits for the device's I/O to drain... */
	assert_true(prk_mnt_may_start(&idle, true, false));
	assert_false(prk_mnt_may_start(&busy, true, false));
	assert_false(prk_mnt_may_start(&busy, true, true));
	/* ...and nothing starts while it runs, not even from the queue. */
	assert_false(prk_mnt_may_start(&rmw, false, false));
	assert_false(prk_mnt_may_start(&rmw, false, true));
	assert_false(prk_mnt_may_start(&rmw, true, true));
	/* New requests never overtake the queue; its head may start. */
	assert_false(prk_mnt_may_start(&queue, false, false));
	assert_true(prk_mnt_may_start(&queue, false, true));
	assert_false(prk_mnt_may_start(&queue, true, true));
	queue.inflight = 0;
	assert_true(prk_mnt_may_start(&queue, true, true));
	assert_false(prk_mnt_may_start(&queue, true, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_runs_then_shares),
	    cmocka_unit_test(test_single_refuses_second_open),
	    cmocka_unit_test(test_open_errno),
	    cmocka_unit_test(test_io_errno),
	    cmocka_unit_test(test_read_spans),
	    cmocka_unit_test(test_write_spans),
	    cmocka_unit_test(test_unmap_spans),
	    cmocka_unit_test(test_rmw_runs_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
