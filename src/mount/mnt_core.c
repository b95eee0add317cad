/* The mount's decisions (see mnt_core.h). */
#include <errno.h>
#include <string.h>

#include "mnt_core.h"

enum prk_mnt_open_action prk_mnt_open_decide(const struct prk_mnt_devstate *s,
                                             enum prk_open_mode want)
{
	if (!s->open || s->handles == 0)
		return PRK_MNT_OPEN_RUN;
	/* single: nobody else on this host, this process included. */
	if (s->mode == PRK_OPEN_SINGLE || want == PRK_OPEN_SINGLE)
		return PRK_MNT_OPEN_REFUSE;
	return PRK_MNT_OPEN_SHARE;
}

void prk_mnt_open_done(struct prk_mnt_devstate *s, enum prk_mnt_open_action a,
                       enum prk_open_mode mode)
{
	if (a == PRK_MNT_OPEN_RUN) {
		s->open = true;
		s->mode = mode;
		s->handles = 1;
	} else if (a == PRK_MNT_OPEN_SHARE) {
		s->handles++;
	}
}

bool prk_mnt_release(struct prk_mnt_devstate *s)
{
	if (s->handles == 0)
		return false;
	if (--s->handles)
		return false;
	s->open = false;
	return true;
}

int prk_mnt_open_errno(const struct prk_host_err *e)
{
	switch (e->code) {
	case PRK_HE_BUSY:
	case PRK_HE_IN_USE:
		return EBUSY;
	case PRK_HE_CONFLICT:
	case PRK_HE_FENCED:
		return EBADE;
	case PRK_HE_USAGE:
		return EINVAL;
	case PRK_HE_NO_PATH:
	case PRK_HE_TIMEOUT:
	default:
		return EIO;
	}
}

bool prk_mnt_may_start(const struct prk_mnt_order *o, bool rmw, bool queued)
{
	if (o->exclusive || (o->waiting && !queued))
		return false;
	return !rmw || o->inflight == 0;
}

/* Sense key values (SPC-4 4.5.6). */
#define SK_MEDIUM_ERROR 0x3
#define SK_ILLEGAL_REQUEST 0x5
/* SPACE ALLOCATION FAILED WRITE PROTECT (SBC-4): a thin LU out of space. */
#define ASC_SPACE_ALLOC_FAILED 0x2707

int prk_mnt_io_errno(const struct prk_io_result *r)
{
	switch (r->status) {
	case PRK_IO_OK:
		return 0;
	case PRK_IO_FENCED:
		return EBADE;
	case PRK_IO_NO_PATH:
	case PRK_IO_CLOSED:
		return EIO;
	case PRK_IO_SCSI_ERROR:
		break;
	}
	if (r->asc == ASC_SPACE_ALLOC_FAILED)
		return ENOSPC;
	if (r->sense_key == SK_MEDIUM_ERROR)
		return ENODATA;
	if (r->sense_key == SK_ILLEGAL_REQUEST)
		return EREMOTEIO;
	return EIO;
}

static void span(uint64_t off, size_t len, uint32_t bs, struct prk_mnt_span *sp)
{
	uint64_t end = off + len;
	sp->lba = off / bs;
	sp->head = (uint32_t)(off % bs);
	sp->len = len;
	sp->nblocks = len ? (uint32_t)((end + bs - 1) / bs - sp->lba) : 0;
}

void prk_mnt_span_read(uint64_t off, size_t size, uint32_t bs, uint64_t blocks,
                       struct prk_mnt_span *sp)
{
	memset(sp, 0, sizeof(*sp));
	uint64_t cap = blocks * bs;
	if (off >= cap || !size)
		return;
	span(off, size > cap - off ? (size_t)(cap - off) : size, bs, sp);
}

int prk_mnt_span_write(uint64_t off, size_t size, uint32_t bs, uint64_t blocks,
                       struct prk_mnt_span *sp)
{
	memset(sp, 0, sizeof(*sp));
	uint64_t cap = blocks * bs;
	if (!size)
		return 0;
	if (off >= cap)
		return ENOSPC;
	span(off, size > cap - off ? (size_t)(cap - off) : size, bs, sp);
	uint64_t end = off + sp->len;
	sp->rmw_first = sp->head != 0 || (sp->nblocks == 1 && end % bs != 0);
	/* The last block is partly written and is not the first one (which
	 * rmw_first already covers). */
	sp->rmw_last = end % bs != 0 && sp->nblocks > 1;
	return 0;
}

int prk_mnt_span_unmap(uint64_t off, uint64_t len, uint32_t bs, uint64_t blocks, uint64_t *lba,
                       uint64_t *nblocks)
{
	if (off % bs || len % bs)
		return EINVAL;
	uint64_t cap = blocks * bs;
	if (off > cap || len > cap - off)
		return EINVAL;
	*lba = off / bs;
	*nblocks = len / bs;
	return 0;
}
