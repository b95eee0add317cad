/* The application's own descriptors on the host's loop (host.h,
 * prk_host_watch_fd): prkit mount puts its FUSE session's descriptor here
 * so that one thread serves FUSE requests and the devices' sessions.
 *
 * One top_only source holds them all: the callbacks start FUSE requests,
 * which may open or close a device (synchronous, the loop nested), and
 * must never start inside such an operation, like the control socket's
 * requests. The source is added at the first watch and stays (the loop
 * cannot forget a source in the middle of a pass); with nothing watched
 * it adds no descriptor. A slot forgotten during a pass (unwatch from a
 * callback) is recognised by its descriptor no longer matching, so the
 * pass never calls a callback that was taken back. */
#include <stdio.h>

#include "host_base.h"

static int watch_fill(void *arg, struct pollfd *pfd, void **tag, int cap, uint64_t now,
                      uint64_t *next_ms)
{
	(void)now;
	(void)next_ms;
	struct host_watch *ws = arg;
	int n = 0;
	for (int i = 0; i < PRK_HOST_MAX_WATCH && n < cap; i++) {
		struct host_watch *w = &ws[i];
		if (w->fd < 0)
			continue;
		pfd[n].fd = w->fd;
		pfd[n].events = w->events;
		tag[n++] = w;
	}
	return n;
}

static void watch_service(void *arg, struct pollfd *pfd, void **tag, int n)
{
	(void)arg;
	for (int i = 0; i < n; i++) {
		struct host_watch *w = tag[i];
		/* Unwatched (or the slot reused for another descriptor) by an
		 * earlier callback of this pass: not ours to call any more. */
		if (!pfd[i].revents || w->fd != pfd[i].fd)
			continue;
		w->fn(w->fd, pfd[i].revents, w->arg);
	}
}

int prk_host_watch_fd(struct prk_host *h, int fd, short events, prk_host_fd_fn fn, void *arg,
                      struct prk_host_err *err)
{
	if (fd < 0 || !fn) {
		prk_herr(err, PRK_HE_USAGE, -1, "watch: need a descriptor and a callback");
		return -1;
	}
	struct host_watch *slot = NULL;
	for (int i = 0; i < PRK_HOST_MAX_WATCH; i++) {
		if (h->watch[i].fd == fd) {
			prk_herr(err, PRK_HE_USAGE, -1, "watch: descriptor %d is already watched",
			         fd);
			return -1;
		}
		if (h->watch[i].fd < 0 && !slot)
			slot = &h->watch[i];
	}
	if (!slot) {
		prk_herr(err, PRK_HE_USAGE, -1, "watch: already %d descriptors watched",
		         PRK_HOST_MAX_WATCH);
		return -1;
	}
	if (!h->watch_src) {
		struct prk_hloop_source s = {.fill = watch_fill,
		                             .service = watch_service,
		                             .arg = h->watch,
		                             .top_only = true};
		if (prk_hloop_add(&h->loop, &s)) {
			prk_herr(err, PRK_HE_USAGE, -1, "watch: the loop has no room for a source");
			return -1;
		}
		h->watch_src = true;
	}
	/* The source's arg is the array, not h: the devices' source is
	 * keyed by h, and prk_hloop_remove finds a source by its arg. */
	slot->fd = fd;
	slot->events = events;
	slot->fn = fn;
	slot->arg = arg;
	return 0;
}

void prk_host_unwatch_fd(struct prk_host *h, int fd)
{
	if (fd < 0)
		return;
	for (int i = 0; i < PRK_HOST_MAX_WATCH; i++)
		if (h->watch[i].fd == fd)
			h->watch[i].fd = -1;
}
