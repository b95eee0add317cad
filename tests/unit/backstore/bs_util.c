/* See bs_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>

#include "bs_util.h"

void bs_on_done(struct prk_bs_io *io)
{
	struct bs_done *d = io->priv;

	d->calls++;
	d->result = io->result;
}

int bs_drive(struct prk_bs *bs)
{
	struct pollfd p = {.fd = prk_bs_event_fd(bs), .events = POLLIN};
	int n = 0;

	while (prk_bs_inflight(bs) > 0) {
		assert_int_equal(poll(&p, 1, 10000), 1);
		n += prk_bs_complete(bs);
	}
	return n;
}

int bs_run(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len, struct iovec *iov,
           int iovcnt, bool fua, bool expect_async)
{
	struct bs_done d = {0, 12345};
	struct prk_bs_io io = {.op = op,
	                       .offset = off,
	                       .len = len,
	                       .iov = iov,
	                       .iovcnt = iovcnt,
	                       .fua = fua,
	                       .done = bs_on_done,
	                       .priv = &d};

	if (prk_bs_event_fd(bs) < 0)
		expect_async = false;
	prk_bs_submit(bs, &io);
	assert_int_equal(d.calls, expect_async ? 0 : 1);
	assert_int_equal(prk_bs_inflight(bs), expect_async ? 1 : 0);
	if (expect_async)
		assert_int_equal(bs_drive(bs), 1);
	assert_int_equal(d.calls, 1);
	return d.result;
}

int bs_rw(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, void *buf, size_t len)
{
	struct iovec v = {buf, len};

	return bs_run(bs, op, off, len, &v, 1, false, true);
}

int bs_range_op(struct prk_bs *bs, enum prk_bs_op op, uint64_t off, uint64_t len)
{
	return bs_run(bs, op, off, len, NULL, 0, false, true);
}

void bs_fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13 + (i >> 10));
}

bool bs_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}
