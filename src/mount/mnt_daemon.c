/* prk_mnt_run: the devices, the control socket and the FUSE session on one
 * host loop, until a signal or an unmount; then every open device is
 * closed as its last close would (docs/mount.md). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "mnt_int.h"
#include "prkit/host_ctl.h"

static volatile sig_atomic_t mnt_stop_sig;

static void on_stop_signal(int sig)
{
	mnt_stop_sig = sig;
}

void prk_mnt_log(const struct prk_mnt *m, int level, const char *fmt, ...)
{
	if (m->c->log_level < level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* The library's messages may carry libiscsi's newlines. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "prkit mount: %s\n", line);
}

static uint64_t wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void on_event(struct prk_mpdev *d, const struct prk_event *ev, void *arg)
{
	(void)d;
	struct mnt_dev *v = arg;
	prk_mnt_events_add(&v->ev, wall_ms(), ev);
	char text[400];
	const struct prk_mnt_event *e =
	    prk_mnt_events_get(&v->ev, prk_mnt_events_count(&v->ev) - 1);
	prk_mnt_event_text(e, text, sizeof(text));
	prk_mnt_log(v->m, 1, "%s: %s", v->cfg->name, text);
}

/* ---- the status document ---- */

char *prk_mnt_snapshot(struct prk_mnt *m)
{
	struct prk_mnt_status_dev devs[PRK_MNT_MAX_DEVS];
	static struct prk_path_info paths[PRK_MNT_MAX_DEVS][PRK_MPDEV_MAX_PATHS];
	for (size_t i = 0; i < m->n_devs; i++) {
		struct mnt_dev *v = &m->devs[i];
		struct prk_mnt_status_dev *s = &devs[i];
		memset(s, 0, sizeof(*s));
		s->name = v->cfg->name;
		s->naa = prk_mpdev_naa(v->d);
		s->block_size = prk_mpdev_block_size(v->d);
		s->size = prk_mpdev_blocks(v->d) * s->block_size;
		s->key = prk_mpdev_key(v->d);
		s->mode = v->cfg->mode;
		s->handles = v->st.handles;
		s->open = v->st.open;
		s->open_mode = v->st.mode;
		s->fenced = prk_mpdev_is_fenced(v->d);
		s->stalled = prk_mpdev_is_stalled(v->d);
		s->thin = prk_mpdev_thin(v->d);
		s->n_paths = prk_mpdev_paths(v->d, paths[i], PRK_MPDEV_MAX_PATHS);
		s->paths = paths[i];
		s->events = &v->ev;
		s->io = &v->io;
	}
	struct prk_mnt_status st = {.mountpoint = m->c->mountpoint,
	                            .pid = (long)getpid(),
	                            .initiator = m->initiator,
	                            .ctl_path = prk_host_ctl_path(m->h),
	                            .devs = devs,
	                            .n_devs = m->n_devs};
	return prk_mnt_status_json(&st);
}

/* ---- start ---- */

static int resolve_initiator(struct prk_mnt *m)
{
	if (m->c->initiator[0]) {
		snprintf(m->initiator, sizeof(m->initiator), "%s", m->c->initiator);
		return 0;
	}
	char host[256] = "", err[256];
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = 0;
	host[sizeof(host) - 1] = 0;
	if (prk_host_initiator_name(getenv(PRK_HOST_INITIATOR_ENV), host, m->initiator,
	                            sizeof(m->initiator), err, sizeof(err))) {
		prk_mnt_log(m, 0, "initiator name: %s", err);
		return -1;
	}
	return 0;
}

static int make_dev(struct prk_mnt *m, size_t i)
{
	struct mnt_dev *v = &m->devs[i];
	const struct prk_mnt_dev_config *dc = &m->c->devs[i];
	struct prk_host_err err = {0};
	v->m = m;
	v->idx = i;
	v->cfg = dc;
	if (dc->discover) {
		if (prk_host_discover(m->initiator, dc->urls[0], 10, v->found, PRK_MPDEV_MAX_PATHS,
		                      &v->n_urls, &err)) {
			prk_mnt_log(m, 0, "%s: discovery through %s: %s", dc->name, dc->urls[0],
			            err.msg);
			return -1;
		}
		for (size_t k = 0; k < v->n_urls; k++) {
			v->urls[k] = v->found[k];
			prk_mnt_log(m, 1, "%s: path %zu (discovered): %s", dc->name, k,
			            v->found[k]);
		}
	} else {
		for (size_t k = 0; k < dc->n_urls; k++)
			v->urls[k] = dc->urls[k];
		v->n_urls = dc->n_urls;
	}
	struct prk_mpdev_opts mo = {.initiator_name = m->initiator,
	                            .urls = v->urls,
	                            .n_urls = v->n_urls,
	                            .key = dc->key,
	                            .aptpl = dc->aptpl,
	                            .checker_interval_ms = dc->checker_interval_ms,
	                            .io_timeout_ms = dc->io_timeout_ms,
	                            .no_path_timeout_ms = dc->no_path_timeout_ms,
	                            .fenced_hold_ms = dc->fenced_hold_ms,
	                            .selector = dc->selector,
	                            .on_event = on_event,
	                            .event_arg = v};
	v->d = prk_mpdev_new(m->h, &mo, &err);
	if (!v->d) {
		prk_mnt_log(m, 0, "%s: %s", dc->name, err.msg);
		return -1;
	}
	return 0;
}

/* Runs the loop until every device knows its size and NAA (a path came
 * up), at most open_timeout_ms. 0, or -1 naming the device. */
static int wait_sizes(struct prk_mnt *m)
{
	unsigned limit = m->c->open_timeout_ms ? m->c->open_timeout_ms : 10000;
	uint64_t deadline = prk_host_now_ms() + limit;
	for (;;) {
		size_t missing = m->n_devs;
		for (size_t i = 0; i < m->n_devs; i++)
			if (prk_mpdev_blocks(m->devs[i].d) && prk_mpdev_naa(m->devs[i].d)[0])
				missing--;
		if (!missing)
			return 0;
		if (prk_host_now_ms() >= deadline || mnt_stop_sig)
			break;
		prk_host_run(m->h, 100);
	}
	for (size_t i = 0; i < m->n_devs; i++) {
		struct mnt_dev *v = &m->devs[i];
		if (prk_mpdev_blocks(v->d) && prk_mpdev_naa(v->d)[0])
			continue;
		struct prk_path_info pi[PRK_MPDEV_MAX_PATHS];
		size_t n = prk_mpdev_paths(v->d, pi, PRK_MPDEV_MAX_PATHS);
		prk_mnt_log(m, 0, "%s: no path came up within %u ms, so its size is unknown (%s)",
		            v->cfg->name, limit,
		            n && pi[0].last_error[0] ? pi[0].last_error : "not connected");
	}
	return -1;
}

static int start_fuse(struct prk_mnt *m)
{
	char opts[256];
	snprintf(opts, sizeof(opts), "fsname=prkit,subtype=prkit,default_permissions,max_read=%u%s",
	         1u << 20, m->c->allow_other ? ",allow_other" : "");
	char *argv[] = {"prkit-mount", "-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	m->se = fuse_session_new(&args, prk_mnt_fuse_ops(), sizeof(struct fuse_lowlevel_ops), m);
	fuse_opt_free_args(&args);
	if (!m->se) {
		prk_mnt_log(m, 0, "cannot make the FUSE session (options %s)", opts);
		return -1;
	}
	if (fuse_session_mount(m->se, m->c->mountpoint)) {
		prk_mnt_log(m, 0, "cannot mount at %s (see the message above)", m->c->mountpoint);
		fuse_session_destroy(m->se);
		m->se = NULL;
		return -1;
	}
	m->fuse_fd = fuse_session_fd(m->se);
	int fl = fcntl(m->fuse_fd, F_GETFL);
	struct prk_host_err err = {0};
	if (fl < 0 || fcntl(m->fuse_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    prk_host_watch_fd(m->h, m->fuse_fd, POLLIN, prk_mnt_fuse_on_fd, m, &err)) {
		prk_mnt_log(m, 0, "cannot serve /dev/fuse on the host loop: %s",
		            err.msg[0] ? err.msg : strerror(errno));
		return -1;
	}
	m->watching = true;
	return 0;
}

static int start(struct prk_mnt *m)
{
	struct prk_host_err err = {0};
	if (resolve_initiator(m))
		return -1;
	struct prk_host_opts ho = {.state_dir = m->c->state_dir[0] ? m->c->state_dir : NULL,
	                           .log_level = m->c->log_level >= 2 ? 1 : 0};
	m->h = prk_host_new(&ho, &err);
	if (!m->h) {
		prk_mnt_log(m, 0, "%s", err.msg);
		return -1;
	}
	for (size_t i = 0; i < m->c->n_devs; i++) {
		if (make_dev(m, i))
			return -1;
		m->n_devs++;
	}
	if (wait_sizes(m))
		return -1;
	if (!m->c->no_ctl &&
	    prk_host_ctl_listen(m->h, m->c->ctl_path[0] ? m->c->ctl_path : NULL, &err)) {
		prk_mnt_log(m, 0, "control socket: %s (--no-ctl runs without it)", err.msg);
		return -1;
	}
	m->bufsize = (size_t)256 * (size_t)getpagesize() + 4096;
	return start_fuse(m);
}

/* ---- stop ---- */

static unsigned drain_limit_ms(const struct prk_mnt *m)
{
	unsigned lim = 0;
	for (size_t i = 0; i < m->n_devs; i++) {
		unsigned t = m->devs[i].cfg->io_timeout_ms ? m->devs[i].cfg->io_timeout_ms : 10000;
		if (t > lim)
			lim = t;
	}
	return lim;
}

static void stop(struct prk_mnt *m)
{
	if (m->watching) {
		prk_host_unwatch_fd(m->h, m->fuse_fd);
		m->watching = false;
	}
	/* Requests under way finish (bounded by the I/O timeout); then each
	 * open device is closed as its last close would be. */
	uint64_t deadline = prk_host_now_ms() + drain_limit_ms(m);
	while (m->ops && prk_host_now_ms() < deadline)
		prk_host_run(m->h, 100);
	if (m->ops)
		prk_mnt_log(m, 0, "%u request(s) still under way at the end", m->ops);
	for (size_t i = 0; i < m->n_devs; i++) {
		struct mnt_dev *v = &m->devs[i];
		if (!v->st.open)
			continue;
		prk_mnt_log(m, 1, "%s: %u handle(s) still open at the unmount", v->cfg->name,
		            v->st.handles);
		struct prk_host_err err = {0};
		if (prk_mpdev_close(v->d, &err) && !prk_mpdev_is_fenced(v->d)) {
			prk_mnt_log(m, 0, "%s: close: %s", v->cfg->name, err.msg);
			m->failed = true;
		}
		v->st.handles = 0;
		v->st.open = false;
	}
	if (m->se) {
		fuse_session_unmount(m->se);
		fuse_session_destroy(m->se);
		m->se = NULL;
	}
	for (size_t i = 0; i < m->n_devs; i++)
		prk_mpdev_free(m->devs[i].d);
	prk_host_free(m->h);
	prk_mnt_bufs_free(m);
	prk_mnt_fh_free_all(m);
}

int prk_mnt_run(const struct prk_mnt_config *c)
{
	struct prk_mnt *m = calloc(1, sizeof(*m));
	if (!m) {
		fprintf(stderr, "prkit mount: out of memory\n");
		return 2;
	}
	m->c = c;
	m->fuse_fd = -1;
	m->uid = getuid();
	m->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &m->started);
	struct sigaction sa = {.sa_handler = on_stop_signal}, ign = {.sa_handler = SIG_IGN};
	struct sigaction old_int, old_term, old_hup, old_pipe;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	/* libiscsi writes with writev(): a portal closing its connection
	 * while a WRITE's data goes out must not kill us with SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	mnt_stop_sig = 0;
	int st = 0;
	if (start(m)) {
		st = 2;
	} else {
		prk_mnt_log(m, 0, "mounted %zu device(s) at %s", m->n_devs, c->mountpoint);
		while (!mnt_stop_sig && !fuse_session_exited(m->se))
			prk_host_run(m->h, 100);
		if (mnt_stop_sig)
			prk_mnt_log(m, 1, "signal %d: unmounting", (int)mnt_stop_sig);
		else
			prk_mnt_log(m, 1, "unmounted: stopping");
	}
	stop(m);
	if (!st && m->failed)
		st = 1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	free(m);
	return st;
}
