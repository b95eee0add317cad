/* See aptpl.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aptpl.h"
#include "replace_file.h"

int prk_aptpl_path(const char *dir, const char *target, uint16_t lun, char *out, size_t cap)
{
	char name[256];
	size_t i;
	for (i = 0; target[i] && i < sizeof(name) - 1; i++) {
		char ch = target[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
		name[i] = ok ? ch : '_';
	}
	name[i] = 0;
	int n = snprintf(out, cap, "%s/%s-lun%u.pr", dir, name, lun);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int prk_aptpl_mkdir(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "state_dir %s: path too long", dir);
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		char c = *p;
		if (c != '/' && c != 0)
			continue;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "state_dir %s: cannot create %s: %s", dir, buf,
			         strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s: not a directory", dir);
		return -1;
	}
	return 0;
}

static int fail(char *err, size_t errlen, const char *path, const char *step)
{
	snprintf(err, errlen, "APTPL record %s: %s: %s", path, step, strerror(errno));
	return -1;
}

/* The record is replaced whole and crash-safely (replace_file.h): after a
 * crash the LU restarts with either the old registrations or the new ones.
 * The temporary file is "<record>.tmp"; one daemon owns each record. */
int prk_aptpl_write(const char *path, const uint8_t *rec, size_t len, char *err, size_t errlen)
{
	char why[4400];

	if (prk_replace_file(path, rec, len, 0, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "APTPL record %s", why);
	return -1;
}

int prk_aptpl_read(const char *path, uint8_t **rec, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, path, "open");
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (16 << 20)) {
		close(fd);
		snprintf(err, errlen, "APTPL record %s: unreadable or larger than 16 MiB", path);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	size_t got = 0;
	while (buf && got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (!buf || got != n) {
		free(buf);
		snprintf(err, errlen, "APTPL record %s: short read", path);
		return -1;
	}
	*rec = buf;
	*len = n;
	return 1;
}

void prk_aptpl_default_dir(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *env = getenv("PRKIT_STATE_DIR");
	if (env && *env)
		snprintf(out, cap, "%s", env);
	else if (geteuid() == 0)
		snprintf(out, cap, "/var/lib/prkit");
	else if (xdg && *xdg)
		snprintf(out, cap, "%s/prkit", xdg);
	else
		snprintf(out, cap, "%s/.local/state/prkit", home && *home ? home : "/tmp");
}
