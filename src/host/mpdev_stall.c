/* Stalling a device's I/O (host_ctl.h): new and queued I/O waits, what is
 * in flight completes. A fence agent stalls this node's I/O while it
 * changes keys or preempts, so that no command of ours is sent under a
 * key that is about to change.
 *
 * The stall is a counter beside `quiesced` (close, preempt_self): those
 * save and restore their flag around their work, and must not end a
 * stall someone else holds. */
#include <stdio.h>

#include "mpdev.h"
#include "prkit/host_ctl.h"

static void stall_event(struct prk_mpdev *d, enum prk_event_kind k, const char *why)
{
	struct prk_event ev = {.kind = k, .path = -1, .old_path = -1, .why = why};
	prk_dev_event(d, &ev);
}

void prk_mpdev_stall(struct prk_mpdev *d)
{
	if (d->stalls++)
		return;
	d->stalled_since_ms = prk_host_now_ms();
	prk_hlog(d->h, 1, "naa.%s: I/O stalled", d->naa);
	stall_event(d, PRK_EV_STALLED, "I/O stalled");
}

/* Queued I/O must not fail with no-path because of the time it spent
 * stalled: its clock moves forward by the stall (never past now). */
static void stall_resume_pending(struct prk_mpdev *d)
{
	uint64_t now = prk_host_now_ms();
	uint64_t dur = now - d->stalled_since_ms;
	for (struct hio *io = d->pending_head; io; io = io->next) {
		io->queued_ms += dur;
		if (io->queued_ms > now)
			io->queued_ms = now;
	}
}

void prk_mpdev_resume(struct prk_mpdev *d)
{
	if (!d->stalls || --d->stalls)
		return;
	stall_resume_pending(d);
	prk_hlog(d->h, 1, "naa.%s: I/O resumed after %llu ms", d->naa,
	         (unsigned long long)(prk_host_now_ms() - d->stalled_since_ms));
	stall_event(d, PRK_EV_RESUMED, "I/O resumed");
	prk_dev_dispatch(d);
}

bool prk_mpdev_is_stalled(const struct prk_mpdev *d)
{
	return d->stalls > 0;
}

int prk_mpdev_drain(struct prk_mpdev *d, int timeout_ms)
{
	return prk_dev_wait_drained(d, timeout_ms < 0 ? 0 : timeout_ms);
}

uint64_t prk_mpdev_key(const struct prk_mpdev *d)
{
	return d->key;
}

void prk_mpdev_self_fence(struct prk_mpdev *d, const char *reason)
{
	bool was = d->self_fenced;
	d->self_fenced = true;
	d->fenced = true;
	if (!was) {
		snprintf(d->self_fence_why, sizeof(d->self_fence_why), "%s",
		         reason && *reason ? reason : "self-fenced");
		prk_hlog(d->h, 0, "naa.%s: I/O fails as fenced from now on: %s", d->naa,
		         d->self_fence_why);
		struct prk_event ev = {
		    .kind = PRK_EV_FENCED, .path = -1, .old_path = -1, .why = d->self_fence_why};
		prk_dev_event(d, &ev);
	}
	prk_dev_dispatch(d);
}
