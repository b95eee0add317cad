/* The backend-independent half of the backstore API: argument checks,
 * in-flight accounting and dispatch through the ops table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "bs_internal.h"

void prk_bs_init(struct prk_bs *bs, const struct prk_bs_ops *ops, uint64_t size, bool readonly)
{
	bs->ops = ops;
	bs->size = size;
	bs->alignment = 1;
	bs->event_fd = -1;
	bs->readonly = readonly;
	bs->batching = false;
	bs->inflight = 0;
	bs->atomic_write_max = 0;
}

uint64_t prk_bs_atomic_write_max(const struct prk_bs *bs)
{
	return bs->atomic_write_max;
}

void prk_bs_errf(char *err, size_t errlen, const char *what, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "backstore %s: ", what);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Written this way round so that offset + len cannot overflow. */
static bool in_range(const struct prk_bs *bs, uint64_t offset, uint64_t len)
{
	return offset <= bs->size && len <= bs->size - offset;
}

static bool iov_adds_up(const struct prk_bs_io *io)
{
	uint64_t sum = 0;

	if (io->iovcnt < 0 || (io->iovcnt > 0 && !io->iov))
		return false;
	for (int i = 0; i < io->iovcnt; i++) {
		if (io->iov[i].iov_len > io->len - sum)
			return false;
		sum += io->iov[i].iov_len;
	}
	return sum == io->len;
}

static int check_io(const struct prk_bs *bs, const struct prk_bs_io *io)
{
	switch (io->op) {
	case PRK_BS_FLUSH:
		return 0;
	case PRK_BS_READ:
	case PRK_BS_WRITE:
		if (!iov_adds_up(io))
			return -EINVAL;
		break;
	case PRK_BS_WRITE_ZEROES:
	case PRK_BS_UNMAP:
		break;
	default:
		return -EINVAL;
	}
	if (!in_range(bs, io->offset, io->len))
		return -EINVAL;
	if (io->op != PRK_BS_READ && bs->readonly)
		return -EROFS;
	return 0;
}

void prk_bs_submit(struct prk_bs *bs, struct prk_bs_io *io)
{
	int r = check_io(bs, io);

	/* Nothing to move: answer at once rather than spend a ring slot. */
	if (r < 0 || (io->op != PRK_BS_FLUSH && io->len == 0)) {
		io->result = r;
		io->done(io);
		return;
	}
	bs->inflight++;
	bs->ops->submit(bs, io);
}

void prk_bs_finish(struct prk_bs *bs, struct prk_bs_io *io, int result)
{
	bs->inflight--;
	io->result = result;
	io->done(io);
}

int prk_bs_complete(struct prk_bs *bs)
{
	return bs->ops->complete(bs);
}

void prk_bs_set_batching(struct prk_bs *bs, bool on)
{
	if (!bs->ops->kick)
		return;
	bs->batching = on;
	if (!on)
		bs->ops->kick(bs);
}

void prk_bs_kick(struct prk_bs *bs)
{
	if (bs->ops->kick)
		bs->ops->kick(bs);
}

void prk_bs_stats(const struct prk_bs *bs, struct prk_bs_stats *st)
{
	*st = (struct prk_bs_stats){0};
	if (bs->ops->stats)
		bs->ops->stats(bs, st);
}

void prk_bs_close(struct prk_bs *bs)
{
	if (bs)
		bs->ops->close(bs);
}

struct prk_bs *prk_bs_lane_open(struct prk_bs *bs)
{
	return bs->ops->lane ? bs->ops->lane(bs) : NULL;
}

uint64_t prk_bs_size(const struct prk_bs *bs)
{
	return bs->size;
}

size_t prk_bs_alignment(const struct prk_bs *bs)
{
	return bs->alignment;
}

int prk_bs_event_fd(const struct prk_bs *bs)
{
	return bs->event_fd;
}

unsigned prk_bs_inflight(const struct prk_bs *bs)
{
	return bs->inflight;
}

int prk_bs_mapped(struct prk_bs *bs, uint64_t offset, uint64_t len, uint64_t *run)
{
	uint64_t dummy;

	if (len == 0 || !in_range(bs, offset, len))
		return -EINVAL;
	return bs->ops->mapped(bs, offset, len, run ? run : &dummy);
}
