/* The host event loop: one poll() over the descriptors of every source,
 * then each source's service (I/O, timers, slow work). The loop calls
 * only the hooks it was given; it may run nested (a synchronous command
 * runs it while it waits), so everything of a pass lives on the stack. */
#include <errno.h>
#include <string.h>

#include "hloop.h"
#include "prkit/host.h"

int prk_hloop_add(struct prk_hloop *l, const struct prk_hloop_source *s)
{
	if (l->n_src >= PRK_HLOOP_MAX_SOURCES)
		return -1;
	l->src[l->n_src++] = *s;
	return 0;
}

void prk_hloop_remove(struct prk_hloop *l, void *arg)
{
	for (int i = 0; i < l->n_src; i++) {
		if (l->src[i].arg != arg)
			continue;
		memmove(&l->src[i], &l->src[i + 1], (size_t)(l->n_src - i - 1) * sizeof(l->src[0]));
		l->n_src--;
		return;
	}
}

int prk_hloop_run(struct prk_hloop *l, int timeout_ms, bool top)
{
	struct pollfd pfd[PRK_HLOOP_MAX_FDS];
	void *tag[PRK_HLOOP_MAX_FDS];
	int first[PRK_HLOOP_MAX_SOURCES], count[PRK_HLOOP_MAX_SOURCES];
	/* A source added by a hook during this pass waits for the next. */
	int n_src = l->n_src;
	int n = 0;
	uint64_t now = prk_host_now_ms();
	uint64_t next = now + (uint64_t)(timeout_ms < 0 ? 1000 : timeout_ms);

	for (int s = 0; s < n_src; s++) {
		first[s] = n;
		count[s] = 0;
		if (l->src[s].top_only && !top)
			continue;
		count[s] = l->src[s].fill(l->src[s].arg, pfd + n, tag + n, PRK_HLOOP_MAX_FDS - n,
		                          now, &next);
		n += count[s];
	}
	/* revents stays 0 for every descriptor when poll() is interrupted. */
	for (int i = 0; i < n; i++)
		pfd[i].revents = 0;
	int wait = next > now ? (int)(next - now) : 0;
	l->depth++;
	int r = poll(pfd, (nfds_t)n, wait);
	if (r < 0 && errno != EINTR) {
		l->depth--;
		return -1;
	}
	for (int s = 0; s < n_src && s < l->n_src; s++) {
		if (l->src[s].top_only && !top)
			continue;
		l->src[s].service(l->src[s].arg, pfd + first[s], tag + first[s], count[s]);
	}
	for (int s = 0; s < n_src && s < l->n_src; s++)
		if (l->src[s].end && (!l->src[s].top_only || top))
			l->src[s].end(l->src[s].arg);
	l->depth--;
	return 0;
}
