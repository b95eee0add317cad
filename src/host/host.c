/* The host event loop: one poll() over the sessions of every path of
 * every device, then the timers (command timeouts, path checks,
 * reconnects, slow work such as bring-up and reservation recovery). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_internal.h"

uint64_t prk_host_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void prk_hlog(struct prk_host *h, int level, const char *fmt, ...)
{
	if (!h || level > h->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "prkit: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void prk_herr(struct prk_host_err *e, enum prk_host_errc code, int path, const char *fmt, ...)
{
	if (!e)
		return;
	e->code = code;
	e->path = path;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

static int mkdir_p(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

/* The same rule as prkitd's state_dir default. */
void prk_host_default_state_dir(char *buf, size_t cap)
{
	const char *env = getenv("PRKIT_STATE_DIR");
	if (env && *env) {
		snprintf(buf, cap, "%s", env);
		return;
	}
	if (geteuid() == 0) {
		snprintf(buf, cap, "/var/lib/prkit");
		return;
	}
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg) {
		snprintf(buf, cap, "%s/prkit", xdg);
		return;
	}
	const char *home = getenv("HOME");
	snprintf(buf, cap, "%s/.local/state/prkit", home && *home ? home : "/tmp");
}

struct prk_host *prk_host_new(const struct prk_host_opts *o, struct prk_host_err *err)
{
	struct prk_host *h = calloc(1, sizeof(*h));
	if (!h) {
		prk_herr(err, PRK_HE_STATE, -1, "out of memory");
		return NULL;
	}
	if (o && o->state_dir)
		snprintf(h->state_dir, sizeof(h->state_dir), "%s", o->state_dir);
	else
		prk_host_default_state_dir(h->state_dir, sizeof(h->state_dir));
	h->log_level = o ? o->log_level : 0;
	/* libiscsi writes with writev(): a portal that closes its connections
	 * while data goes out would kill the process with SIGPIPE. */
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	const char *lv = getenv("PRKIT_HOST_LOG");
	if (lv && *lv)
		h->log_level = atoi(lv);
	if (mkdir_p(h->state_dir)) {
		prk_herr(err, PRK_HE_STATE, -1, "state directory %s: %s", h->state_dir,
		         strerror(errno));
		free(h);
		return NULL;
	}
	return h;
}

void prk_host_free(struct prk_host *h)
{
	if (!h)
		return;
	/* First the control connections: their stalls are released while
	 * the devices still exist. */
	prk_ctl_server_free(h);
	while (h->devs)
		prk_mpdev_free(h->devs);
	free(h);
}

#define MAX_PATH_FDS 64

/* One pass of the loop. serve_ctl: the control socket is served too (only
 * the application's own top-level call, see prk_host_run). */
static int host_run(struct prk_host *h, int timeout_ms, bool serve_ctl)
{
	struct pollfd pfd[MAX_PATH_FDS + CTL_MAX_POLLFDS];
	struct hpath *who[MAX_PATH_FDS];
	int n = 0;
	uint64_t now = prk_host_now_ms();
	uint64_t next = now + (uint64_t)(timeout_ms < 0 ? 1000 : timeout_ms);

	for (struct prk_mpdev *d = h->devs; d; d = d->next) {
		if (d->next_tick_ms < next)
			next = d->next_tick_ms;
		for (size_t i = 0; i < d->n_paths && n < MAX_PATH_FDS; i++) {
			struct hpath *p = &d->paths[i];
			if (!p->ctx)
				continue;
			int ev = iscsi_which_events(p->ctx);
			int fd = iscsi_get_fd(p->ctx);
			if (fd < 0 || ev == 0) {
				/* libiscsi waits (reconnect back-off); look again soon. */
				if (now + 100 < next)
					next = now + 100;
				continue;
			}
			pfd[n].fd = fd;
			pfd[n].events = (short)ev;
			pfd[n].revents = 0;
			who[n++] = p;
		}
	}
	int n_ctl = serve_ctl ? prk_ctl_poll_fill(h, pfd + n, CTL_MAX_POLLFDS, &next) : 0;
	int wait = next > now ? (int)(next - now) : 0;
	h->depth++;
	int r = poll(pfd, (nfds_t)(n + n_ctl), wait);
	if (r < 0 && errno != EINTR) {
		h->depth--;
		return -1;
	}
	for (int i = 0; r > 0 && i < n; i++) {
		struct hpath *p = who[i];
		if (!pfd[i].revents || !p->ctx || iscsi_get_fd(p->ctx) != pfd[i].fd)
			continue;
		if (iscsi_service(p->ctx, pfd[i].revents) < 0)
			/* A callback may have recorded the real cause already. */
			prk_path_drop(p,
			              p->drop_requested ? p->last_error : iscsi_get_error(p->ctx));
		else if (p->drop_requested)
			prk_path_drop(p, p->last_error);
	}
	now = prk_host_now_ms();
	for (struct prk_mpdev *d = h->devs; d; d = d->next)
		if (now >= d->next_tick_ms)
			prk_dev_tick(d, now);
	/* Slow work: one device at a time, never nested. */
	if (!h->in_slow) {
		h->in_slow = true;
		for (struct prk_mpdev *d = h->devs; d; d = d->next)
			prk_dev_slow_work(d);
		h->in_slow = false;
	}
	/* Last, so that a request sees the state this pass left, and a
	 * synchronous request (set_key) runs with nothing else half done. */
	if (serve_ctl)
		prk_ctl_service(h, pfd + n, n_ctl);
	h->depth--;
	return 0;
}

/* The control socket is served only from the application's own call: a
 * nested call (from a callback) or the library's waits inside a
 * synchronous operation would otherwise run a request (set_key runs PR
 * commands) in the middle of another operation. */
int prk_host_run(struct prk_host *h, int timeout_ms)
{
	return host_run(h, timeout_ms, h->depth == 0);
}

int prk_hloop_run_nested(struct prk_host *h, int timeout_ms)
{
	return host_run(h, timeout_ms, false);
}
