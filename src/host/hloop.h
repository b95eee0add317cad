/* The host library's event loop (hloop.c). It knows descriptors,
 * deadlines and hooks, and nothing of what sits on them: the devices'
 * sessions and the control socket each register a source, whose hooks add
 * descriptors before poll() and serve them after. Private to src/host. */
#ifndef PRKIT_HOST_HLOOP_H
#define PRKIT_HOST_HLOOP_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

/* Descriptors one pass can wait on, over every source. */
#define PRK_HLOOP_MAX_FDS 96
#define PRK_HLOOP_MAX_SOURCES 4

struct prk_hloop_source {
	/* Adds at most cap descriptors at pfd (tag[i]: the source's own word
	 * for pfd[i], handed back to service), lowers *next_ms to the
	 * source's next deadline, returns how many it added. */
	int (*fill)(void *arg, struct pollfd *pfd, void **tag, int cap, uint64_t now,
	            uint64_t *next_ms);
	/* After poll(): serves the n descriptors fill added (revents 0 when
	 * not ready), then whatever deadlines have passed. */
	void (*service)(void *arg, struct pollfd *pfd, void **tag, int n);
	/* Optional: once every source of the pass has been served, so that
	 * what any of them queued (the devices' commands, issued from
	 * completions, control requests or the application's descriptors)
	 * goes out now rather than after another poll(). */
	void (*end)(void *arg);
	void *arg;
	/* Served only from the application's own top-level call: the
	 * control socket's requests must not start inside another
	 * operation (see prk_host_run). */
	bool top_only;
};

struct prk_hloop {
	struct prk_hloop_source src[PRK_HLOOP_MAX_SOURCES];
	int n_src;
	int depth; /* passes running, nested ones included */
};

/* Sources are served in the order they were added. 0, or -1 when full. */
int prk_hloop_add(struct prk_hloop *l, const struct prk_hloop_source *s);
/* Forgets the source whose arg is arg (nothing when there is none). Not
 * from inside a pass: the pass keeps the indexes it started with. */
void prk_hloop_remove(struct prk_hloop *l, void *arg);
/* One pass: waits at most timeout_ms (-1: up to a second) for a
 * descriptor or a deadline, then serves every source. top: top_only
 * sources take part. 0, or -1 when poll() failed. */
int prk_hloop_run(struct prk_hloop *l, int timeout_ms, bool top);
/* One pass for the library's own waits (synchronous commands, draining,
 * waiting for paths): top_only sources never take part. */
static inline int prk_hloop_run_nested(struct prk_hloop *l, int timeout_ms)
{
	return prk_hloop_run(l, timeout_ms, false);
}

#endif
