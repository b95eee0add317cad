/* Durable incarnation / generation counters for fence_prkit's keys. */
#include "incarnation.h"
#include "hexdigit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decimal.h"
#include "errfmt.h"
#include "fence_key.h"
#include "replace_file.h"

/* Longest file we read: 10 digits and a newline, with room to notice more. */
#define COUNTER_READ_MAX 32

int prk_fence_counter_path(char *buf, size_t len, const char *state_dir, const char *cluster,
                           uint16_t node, char *err, size_t errlen)
{
	int n;

	if (!state_dir || !*state_dir)
		return prk_errf(err, errlen, "no state directory given");
	if (!prk_fence_cluster_name_valid(cluster))
		return prk_errf(err, errlen,
		                "cluster name '%s' is not valid (1..%d of A-Z a-z 0-9 . _ -, not "
		                "starting with . or -)",
		                cluster ? cluster : "", PRK_FENCE_CLUSTER_NAME_MAX);
	if (node)
		n = snprintf(buf, len, "%s/fence-%s-node%u.inc", state_dir, cluster,
		             (unsigned)node);
	else
		n = snprintf(buf, len, "%s/fence-%s.gen", state_dir, cluster);
	if (n < 0 || (size_t)n >= len)
		return prk_errf(err, errlen, "state directory path '%s' is too long", state_dir);
	return 0;
}

/* Reads the counter at path: 0 when the file does not exist. */
static int counter_read(const char *path, uint32_t *out, char *err, size_t errlen)
{
	char buf[COUNTER_READ_MAX + 1];
	size_t got = 0;
	uint64_t v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT) {
			*out = 0;
			return 0;
		}
		return prk_errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	while (got < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			close(fd);
			return prk_errf(err, errlen, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';

	if (got < 2 || buf[got - 1] != '\n' || !prk_parse_dec_n(buf, got - 1, UINT32_MAX, &v))
		return prk_errf(
		    err, errlen,
		    "%s: corrupt (expected a decimal number 0..4294967295 and a newline); "
		    "not guessing, a guess could reuse a key",
		    path);
	*out = (uint32_t)v;
	return 0;
}

/* The counter file is replaced whole, crash-safely (replace_file.h): a
 * torn counter could hand out a key twice. The pid in the temporary name
 * keeps a crashed agent's leftover apart from the next agent's file. */
static int counter_write(const char *path, uint32_t v, char *err, size_t errlen)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%u\n", (unsigned)v);

	return prk_replace_file(path, text, (size_t)n, PRK_REPLACE_TMP_PID, err, errlen);
}

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(tmp))
		return prk_errf(err, errlen, "state directory path '%s' is too long", dir);
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return prk_errf(err, errlen, "state directory %s: %s", tmp,
			                strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return prk_errf(err, errlen, "state directory %s: %s", tmp, strerror(errno));
	return 0;
}

/* Opens the state directory and takes its flock (released by close). */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return prk_errf(err, errlen, "state directory %s: %s", dir, strerror(errno));
	while (flock(fd, LOCK_EX)) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		return prk_errf(err, errlen, "state directory %s: flock: %s", dir, strerror(e));
	}
	return fd;
}

/* Creates the state directory when missing and takes its flock. */
static int lock_state_dir(const char *dir, char *err, size_t errlen)
{
	if (mkdir_p(dir, err, errlen))
		return -1;
	return lock_dir(dir, err, errlen);
}

/* Stores max(counter, floor) + 1 and returns it. */
static int counter_next(const char *state_dir, const char *cluster, uint16_t node, uint32_t floor,
                        uint32_t *out, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint32_t cur;
	int dirfd, rc;

	if (prk_fence_counter_path(path, sizeof(path), state_dir, cluster, node, err, errlen))
		return -1;
	dirfd = lock_state_dir(state_dir, err, errlen);
	if (dirfd < 0)
		return -1;
	rc = counter_read(path, &cur, err, errlen);
	if (rc == 0 && cur < floor)
		cur = floor;
	if (rc == 0 && cur == UINT32_MAX)
		rc = prk_errf(err, errlen,
		              "%s: the %s is %u, the last one; refusing to wrap to a key already "
		              "used (remove this %s's keys from every LU, then reset the file)",
		              path, node ? "incarnation" : "generation", (unsigned)cur,
		              node ? "node" : "cluster");
	if (rc == 0)
		rc = counter_write(path, cur + 1, err, errlen);
	close(dirfd);
	if (rc == 0)
		*out = cur + 1;
	return rc;
}

static int counter_current(const char *state_dir, const char *cluster, uint16_t node, uint32_t *out,
                           char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (prk_fence_counter_path(path, sizeof(path), state_dir, cluster, node, err, errlen))
		return -1;
	return counter_read(path, out, err, errlen);
}

int prk_fence_incarnation_next(const char *state_dir, const char *cluster, uint16_t node,
                               uint32_t *out, char *err, size_t errlen)
{
	if (node == 0)
		return prk_errf(err, errlen, "node id 0 is not a node (1..65535)");
	return counter_next(state_dir, cluster, node, 0, out, err, errlen);
}

int prk_fence_incarnation_current(const char *state_dir, const char *cluster, uint16_t node,
                                  uint32_t *out, char *err, size_t errlen)
{
	if (node == 0)
		return prk_errf(err, errlen, "node id 0 is not a node (1..65535)");
	return counter_current(state_dir, cluster, node, out, err, errlen);
}

int prk_fence_generation_next(const char *state_dir, const char *cluster, uint32_t *out, char *err,
                              size_t errlen)
{
	return counter_next(state_dir, cluster, 0, 0, out, err, errlen);
}

int prk_fence_generation_next_above(const char *state_dir, const char *cluster, uint32_t floor,
                                    uint32_t *out, char *err, size_t errlen)
{
	return counter_next(state_dir, cluster, 0, floor, out, err, errlen);
}

int prk_fence_generation_current(const char *state_dir, const char *cluster, uint32_t *out,
                                 char *err, size_t errlen)
{
	return counter_current(state_dir, cluster, 0, out, err, errlen);
}

static int key_path(char *buf, size_t len, const char *state_dir, const char *cluster, char *err,
                    size_t errlen)
{
	char gen[PATH_MAX];
	size_t n;

	if (prk_fence_counter_path(gen, sizeof(gen), state_dir, cluster, 0, err, errlen))
		return -1;
	n = strlen(gen);
	if (n + 1 > len) /* ".gen" -> ".key" keeps the length */
		return prk_errf(err, errlen, "state directory path '%s' is too long", state_dir);
	memcpy(buf, gen, n - 3);
	memcpy(buf + n - 3, "key", 4);
	return 0;
}

int prk_fence_cluster_key_save(const char *state_dir, const char *cluster, uint64_t key, char *err,
                               size_t errlen)
{
	char path[PATH_MAX], text[32];
	int dirfd, rc;

	if (key_path(path, sizeof(path), state_dir, cluster, err, errlen))
		return -1;
	dirfd = lock_state_dir(state_dir, err, errlen);
	if (dirfd < 0)
		return -1;
	snprintf(text, sizeof(text), "0x%016llx\n", (unsigned long long)key);
	rc = prk_replace_file(path, text, strlen(text), PRK_REPLACE_TMP_PID, err, errlen);
	close(dirfd);
	return rc;
}

int prk_fence_cluster_key_load(const char *state_dir, const char *cluster, uint64_t *key, char *err,
                               size_t errlen)
{
	char path[PATH_MAX], buf[40];
	int fd;
	ssize_t got;
	uint64_t v = 0;

	if (key_path(path, sizeof(path), state_dir, cluster, err, errlen))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			*key = 0;
			return 0;
		}
		return prk_errf(err, errlen, "%s: %s", path, strerror(errno));
	}
	do
		got = read(fd, buf, sizeof(buf) - 1);
	while (got < 0 && errno == EINTR);
	close(fd);
	if (got < 0)
		return prk_errf(err, errlen, "%s: %s", path, strerror(errno));
	buf[got] = '\0';
	if (got != 19 || buf[0] != '0' || buf[1] != 'x' || buf[18] != '\n' ||
	    !prk_parse_hex_n(buf + 2, 16, UINT64_MAX, &v) || v == 0)
		return prk_errf(err, errlen,
		                "%s: corrupt (expected 0x and 16 hex digits and a newline); run "
		                "action on to join again",
		                path);
	*key = v;
	return 0;
}
