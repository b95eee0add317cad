/* The bottom of the host library (src/host): the host object every part
 * points to, its log and the error it fills. Private to src/host; the
 * layers above it are listed in docs/architecture.md. */
#ifndef PRKIT_HOST_HOST_BASE_H
#define PRKIT_HOST_HOST_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "hloop.h"
#include "prkit/host.h"

struct ctl_server;

/* One descriptor of the application's on the loop (watch.c); fd -1: a
 * free slot. */
struct host_watch {
	int fd;
	short events;
	prk_host_fd_fn fn;
	void *arg;
};

struct prk_host {
	char state_dir[512];
	int log_level;
	/* Descriptors, deadlines and hooks; the devices' source is added by
	 * prk_host_new, the control socket's by prk_host_ctl_listen. */
	struct prk_hloop loop;
	struct prk_mpdev *devs;
	/* Slow work (path bring-up, reservation recovery) runs synchronously
	 * from the timer pass and nests prk_host_run; this flag keeps it from
	 * nesting into itself. */
	bool in_slow;
	/* The control socket (ctl_listen.c), NULL when not listening. */
	struct ctl_server *ctl;
	/* Called by prk_mpdev_free before a device goes, so that whoever
	 * keeps pointers to it (the control socket's stalls) forgets them;
	 * the device does not know who that is. NULL: nobody. */
	void (*dev_freed)(struct prk_host *h, struct prk_mpdev *d);
	/* prk_host_watch_fd (watch.c): its loop source is added at the
	 * first watch. */
	struct host_watch watch[PRK_HOST_MAX_WATCH];
	bool watch_src;
	/* The clock as the devices' service read it after poll(), while that
	 * service serves the sessions and the ticks (0 otherwise): the
	 * commands issued from the completions of the pass take their
	 * deadlines from it instead of reading the clock once each. At most
	 * the duration of the service old; a nested pass sets it to 0 when
	 * it ends, so the outer one reads the clock again. */
	uint64_t pass_ms;
};

/* The time for a deadline: the pass's reading inside the devices'
 * service, the clock outside it. */
static inline uint64_t prk_host_deadline_now_ms(const struct prk_host *h)
{
	return h->pass_ms ? h->pass_ms : prk_host_now_ms();
}

/* host_log.c */
void prk_hlog(struct prk_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void prk_herr(struct prk_host_err *e, enum prk_host_errc code, int path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* discover.c: "host:port,tpgt" of a SendTargets TargetAddress ->
 * "host:port" (IPv6 literals keep their brackets). */
void prk_host_portal_address(const char *sendtargets, char *out, size_t cap);

/* An option's value, or its default when 0. */
static inline unsigned dflt(unsigned v, unsigned d)
{
	return v ? v : d;
}

#endif
