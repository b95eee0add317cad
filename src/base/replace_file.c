/* See replace_file.h. */
#include "replace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errfmt.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Fails with "<file>: <step>: <error>", keeping errno for the caller. */
static int sys_fail(char *err, size_t errlen, const char *file, const char *step, int e)
{
	prk_errf(err, errlen, "%s: %s: %s", file, step, strerror(e));
	errno = e;
	return -1;
}

/* fsync of the directory holding path (the parent of its last component). */
static int sync_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd, e;

	if (!slash)
		memcpy(dir, ".", 2);
	else if (n == 0)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, n); /* n < strlen(path) < PATH_MAX, checked by the caller */
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_fail(err, errlen, path, "open of the directory", errno);
	if (fsync(fd)) {
		e = errno;
		close(fd);
		return sys_fail(err, errlen, path, "fsync of the directory", e);
	}
	if (close(fd))
		return sys_fail(err, errlen, path, "close of the directory", errno);
	return 0;
}

int prk_replace_file(const char *path, const void *data, size_t len, unsigned flags, char *err,
                     size_t errlen)
{
	char tmp[PATH_MAX];
	int n, fd, e;

	if (flags & PRK_REPLACE_TMP_PID)
		n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	else
		n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sys_fail(err, errlen, path, "path too long for the temporary file",
		                ENAMETOOLONG);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sys_fail(err, errlen, tmp, "open", errno);
	/* The data must be on disk before the rename makes it the file. */
	if (write_all(fd, data, len)) {
		e = errno;
		close(fd);
		unlink(tmp);
		return sys_fail(err, errlen, tmp, "write", e);
	}
	if (fsync(fd)) {
		e = errno;
		close(fd);
		unlink(tmp);
		return sys_fail(err, errlen, tmp, "fsync", e);
	}
	/* NFS and some FUSE file systems report write errors only here. */
	if (close(fd)) {
		e = errno;
		unlink(tmp);
		return sys_fail(err, errlen, tmp, "close", e);
	}
	if (rename(tmp, path)) {
		e = errno;
		unlink(tmp);
		prk_errf(err, errlen, "%s: rename from %s: %s", path, tmp, strerror(e));
		errno = e;
		return -1;
	}
	/* And the rename itself must survive a crash. */
	return sync_dir(path, err, errlen);
}
