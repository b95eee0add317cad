/* The host object (prkit/host.h): its state directory, and the parts
 * it wires together: the loop, whose first source is the devices
 * (mpdev_life.c), and the control socket (ctl_listen.c), which adds its
 * own source when it listens. The top of src/host: it calls down, and
 * nothing calls it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_server.h"
#include "hloop.h"
#include "mpdev.h"

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
	for (int i = 0; i < PRK_HOST_MAX_WATCH; i++)
		h->watch[i].fd = -1;
	/* libiscsi writes with writev(): a portal that closes its connections
	 * while data goes out would kill the process with SIGPIPE. */
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	const char *lv = getenv("PRKIT_HOST_LOG");
	if (lv && *lv)
		h->log_level = atoi(lv);
	struct prk_hloop_source devs = {.fill = prk_devs_poll_fill,
	                                .service = prk_devs_service,
	                                .end = prk_devs_pass_end,
	                                .arg = h};
	prk_hloop_add(&h->loop, &devs); /* the first source: it cannot fail */
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
	prk_ctl_stop(h);
	while (h->devs)
		prk_mpdev_free(h->devs);
	free(h);
}

/* The control socket is served only from the application's own call: a
 * nested call (from a callback) or the library's waits inside a
 * synchronous operation would otherwise run a request (set_key runs PR
 * commands) in the middle of another operation. */
int prk_host_run(struct prk_host *h, int timeout_ms)
{
	return prk_hloop_run(&h->loop, timeout_ms, h->loop.depth == 0);
}
