/* prkit fenced: the status socket's client and its default path
 * (fd_daemon.h), for `prkit fenced status` / `key`. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errfmt.h"
#include "fd_daemon.h"
#include "prkit/host.h"

#define REPLY_MAX (4u << 20)

void prk_fd_socket_path(const struct prk_fd_config *cfg, char *buf, size_t cap)
{
	if (cfg && cfg->socket[0]) {
		snprintf(buf, cap, "%s", cfg->socket);
		return;
	}
	char dir[PRK_FENCE_DIR_MAX + 1];
	if (cfg && cfg->state_dir[0])
		snprintf(dir, sizeof(dir), "%s", cfg->state_dir);
	else
		prk_host_default_state_dir(dir, sizeof(dir));
	snprintf(buf, cap, "%s/fenced.sock", dir);
}

static int64_t left_ms(const struct timespec *end)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

char *prk_fd_status_query(const char *socket_path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		prk_errf(err, errlen, "%s: socket path too long", socket_path);
		return NULL;
	}
	strcpy(sa.sun_path, socket_path);
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		prk_errf(err, errlen, "cannot reach prkit fenced at %s: %s", socket_path,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	static const char req[] = "{\"cmd\":\"status\"}\n";
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
		prk_errf(err, errlen, "cannot send to %s: %s", socket_path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = 16384, have = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			prk_errf(err, errlen, "out of memory");
			break;
		}
		int64_t ms = left_ms(&end);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (ms <= 0 || poll(&p, 1, (int)ms) == 0) {
			prk_errf(err, errlen, "%s: no answer within %d ms", socket_path,
			         timeout_ms);
			break;
		}
		if (have + 1 >= cap) {
			char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				prk_errf(err, errlen, "%s: answer larger than %u bytes",
				         socket_path, REPLY_MAX);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + have, cap - have - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			prk_errf(err, errlen, "%s: connection closed before a full answer%s",
			         socket_path, have ? "" : " (the daemon may be busy)");
			break;
		}
		have += (size_t)n;
		buf[have] = 0;
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = 0;
			close(fd);
			return buf;
		}
	}
	free(buf);
	close(fd);
	return NULL;
}
