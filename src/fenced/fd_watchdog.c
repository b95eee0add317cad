/* prkit fenced: the watchdog (fd_watchdog.h). The Linux watchdog API: any
 * write is a keep-alive; a write holding 'V' followed by close() disarms
 * the device (if the driver allows it: "nowayout" ones never disarm). */
#include "fd_watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errfmt.h"

struct prk_fdw {
	int fd;
	bool stopped;
};

struct prk_fdw *prk_fdw_open(const char *path, unsigned timeout_s, char *warn, size_t warnlen,
                             char *err, size_t errlen)
{
	if (warnlen)
		warn[0] = 0;
	/* Opening a watchdog device starts it: from here on it must be fed. */
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		prk_errf(err, errlen, "watchdog %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		int t = (int)timeout_s;
		if (ioctl(fd, WDIOC_SETTIMEOUT, &t) < 0) {
			int have = 0;
			ioctl(fd, WDIOC_GETTIMEOUT, &have);
			snprintf(warn, warnlen,
			         "watchdog %s: cannot set %u s (%s); its timeout is %d s", path,
			         timeout_s, strerror(errno), have);
		} else if ((unsigned)t != timeout_s) {
			snprintf(warn, warnlen, "watchdog %s: asked for %u s, the device took %d s",
			         path, timeout_s, t);
		}
	}
	struct prk_fdw *w = calloc(1, sizeof(*w));
	if (!w) {
		/* Not fed and not disarmed would reboot the machine: disarm. */
		if (write(fd, "V", 1) < 0) {
		}
		close(fd);
		prk_errf(err, errlen, "watchdog %s: out of memory", path);
		return NULL;
	}
	w->fd = fd;
	return w;
}

static int write_byte(int fd, char c)
{
	for (;;) {
		ssize_t n = write(fd, &c, 1);
		if (n == 1)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n >= 0)
			errno = EIO;
		return -1;
	}
}

int prk_fdw_feed(struct prk_fdw *w)
{
	if (!w || w->stopped)
		return 0;
	return write_byte(w->fd, 'k');
}

void prk_fdw_stop(struct prk_fdw *w)
{
	if (w)
		w->stopped = true;
}

bool prk_fdw_stopped(const struct prk_fdw *w)
{
	return w && w->stopped;
}

void prk_fdw_close(struct prk_fdw *w, bool disarm)
{
	if (!w)
		return;
	if (disarm && !w->stopped)
		write_byte(w->fd, 'V');
	close(w->fd);
	free(w);
}
