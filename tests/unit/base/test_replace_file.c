/* The crash-safe replace-a-file routine: the content is replaced (or the
 * file created), the steps run in the safe order, and every failure - of
 * open, write, fsync, close, rename, the directory fsync - leaves the old
 * content in place (or, after the rename, is still reported), names the
 * file and the error, and leaves no temporary file behind.
 *
 * write, fsync, close and rename are wrapped (see meson.build) to inject
 * the errors a full or failing disk gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "replace_file.h"

/* ---- wrapped system calls ---- */

ssize_t __real_write(int fd, const void *p, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);

/* What happened, in order: W write, F fsync of a file, D fsync of a
 * directory, C close of a file, R rename. */
static char call_log[64];
/* errno to fail the next such call with (0: do not fail). */
static int fail_write, fail_fsync_file, fail_fsync_dir, fail_close_file, fail_rename;
static bool short_writes; /* write at most 3 bytes a call */
static bool logging;

static void log_call(char c)
{
	size_t n = strlen(call_log);

	if (logging && n + 1 < sizeof(call_log)) {
		call_log[n] = c;
		call_log[n + 1] = '\0';
	}
}

static bool is_dir(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

#define INJECT(var)                                                                                \
	do {                                                                                       \
		if (var) {                                                                         \
			errno = var;                                                               \
			var = 0;                                                                   \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
	if (!logging || !is_regular(fd))
		return __real_write(fd, p, n);
	log_call('W');
	INJECT(fail_write);
	if (short_writes && n > 3)
		n = 3;
	return __real_write(fd, p, n);
}

int __wrap_fsync(int fd)
{
	bool dir = is_dir(fd);

	log_call(dir ? 'D' : 'F');
	if (dir)
		INJECT(fail_fsync_dir);
	else
		INJECT(fail_fsync_file);
	return __real_fsync(fd);
}

int __wrap_close(int fd)
{
	if (logging && is_regular(fd)) {
		log_call('C');
		if (fail_close_file) {
			/* The descriptor is gone either way, as with a real close. */
			__real_close(fd);
			errno = fail_close_file;
			fail_close_file = 0;
			return -1;
		}
	}
	return __real_close(fd);
}

int __wrap_rename(const char *from, const char *to)
{
	log_call('R');
	INJECT(fail_rename);
	return __real_rename(from, to);
}

/* ---- fixture ---- */

static char dir[PATH_MAX], target[PATH_MAX + 16];
static char E[512];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/prk-base-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(target, sizeof(target), "%s/record", dir);
	call_log[0] = '\0';
	E[0] = '\0';
	fail_write = fail_fsync_file = fail_fsync_dir = fail_close_file = fail_rename = 0;
	short_writes = false;
	logging = true;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	logging = false;
	chmod(dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const char *read_file(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Names in the directory (without . and ..). */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#define assert_err_has(s)                                                                          \
	do {                                                                                       \
		if (!strstr(E, (s)))                                                               \
			fail_msg("error '%s' lacks '%s'", E, (s));                                 \
	} while (0)

/* ---- tests ---- */

static void creates_then_replaces(void **state)
{
	(void)state;
	assert_int_equal(prk_replace_file(target, "first\n", 6, 0, E, sizeof(E)), 0);
	assert_string_equal(read_file(target), "first\n");
	assert_int_equal(prk_replace_file(target, "2nd\n", 4, 0, E, sizeof(E)), 0);
	assert_string_equal(read_file(target), "2nd\n");
	/* Empty content is content too. */
	assert_int_equal(prk_replace_file(target, "", 0, PRK_REPLACE_TMP_PID, E, sizeof(E)), 0);
	assert_string_equal(read_file(target), "");
	assert_int_equal(entries(), 1);
}

static void mode_is_private(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(prk_replace_file(target, "k", 1, 0, E, sizeof(E)), 0);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* The data reaches the disk (W..F), is closed (C) and renamed (R), then
 * the directory entry reaches the disk (D). Short writes are continued. */
static void steps_in_safe_order(void **state)
{
	(void)state;
	short_writes = true;
	assert_int_equal(prk_replace_file(target, "0123456789", 10, 0, E, sizeof(E)), 0);
	assert_string_equal(call_log, "WWWWFCRD");
	assert_string_equal(read_file(target), "0123456789");
}

/* A relative path has its directory in ".". */
static void relative_path(void **state)
{
	char cwd[PATH_MAX], rel[PATH_MAX + 16];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	int rc = prk_replace_file("rel", "r\n", 2, 0, E, sizeof(E));
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, 0);
	assert_string_equal(call_log, "WFCRD");
	snprintf(rel, sizeof(rel), "%s/rel", dir);
	assert_string_equal(read_file(rel), "r\n");
}

static void missing_directory(void **state)
{
	char p[PATH_MAX + 32];

	(void)state;
	snprintf(p, sizeof(p), "%s/nodir/record", dir);
	errno = 0;
	assert_int_equal(prk_replace_file(p, "x", 1, 0, E, sizeof(E)), -1);
	assert_int_equal(errno, ENOENT);
	assert_err_has("nodir/record.tmp");
	assert_err_has(strerror(ENOENT));
	assert_int_equal(entries(), 0);
}

/* A directory the caller may not write: EACCES. root passes permission
 * checks, so as root the call runs in a child that has become nobody
 * (65534) in a directory it can enter but not write. */
static void read_only_directory(void **state)
{
	int rc, e, status;
	pid_t pid;

	(void)state;
	write_file(target, "old\n");
	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0500), 0);
		errno = 0;
		rc = prk_replace_file(target, "new\n", 4, 0, E, sizeof(E));
		e = errno;
	} else {
		assert_int_equal(chmod(dir, 0755), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(100);
			errno = 0;
			rc = prk_replace_file(target, "new\n", 4, 0, E, sizeof(E));
			_exit(rc == -1 && strstr(E, strerror(EACCES)) ? errno : 101);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		rc = -1;
		e = WEXITSTATUS(status);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(e, EACCES);
	assert_string_equal(read_file(target), "old\n");
	assert_int_equal(entries(), 1);
}

/* Something else in the way of the temporary name (a directory): refused,
 * the old content kept, the obstacle left alone. */
static void temporary_name_taken(void **state)
{
	char tmp[PATH_MAX + 32];

	(void)state;
	write_file(target, "old\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", target);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(prk_replace_file(target, "new\n", 4, 0, E, sizeof(E)), -1);
	assert_int_equal(errno, EISDIR);
	assert_err_has(tmp);
	assert_string_equal(read_file(target), "old\n");
	assert_int_equal(entries(), 2);
	/* The pid-suffixed name does not collide with it. */
	assert_int_equal(prk_replace_file(target, "new\n", 4, PRK_REPLACE_TMP_PID, E, sizeof(E)),
	                 0);
	assert_string_equal(read_file(target), "new\n");
	assert_int_equal(entries(), 2);
}

/* Each failure before the rename: the old content stays, no temporary
 * file is left, the message names the temporary file, the step and the
 * error, and errno is kept. */
static void failure_before_rename(int *inject, int e, const char *step)
{
	write_file(target, "old\n");
	*inject = e;
	errno = 0;
	assert_int_equal(
	    prk_replace_file(target, "new content\n", 12, PRK_REPLACE_TMP_PID, E, sizeof(E)), -1);
	assert_int_equal(errno, e);
	assert_err_has("record.tmp.");
	assert_err_has(step);
	assert_err_has(strerror(e));
	assert_string_equal(read_file(target), "old\n");
	assert_int_equal(entries(), 1);
	assert_null(strchr(call_log, 'R'));
}

static void write_fails_disk_full(void **state)
{
	(void)state;
	failure_before_rename(&fail_write, ENOSPC, "write");
}

static void fsync_of_file_fails(void **state)
{
	(void)state;
	failure_before_rename(&fail_fsync_file, EIO, "fsync");
}

/* NFS reports a delayed write error at close. */
static void close_of_file_fails(void **state)
{
	(void)state;
	failure_before_rename(&fail_close_file, EDQUOT, "close");
}

static void rename_fails(void **state)
{
	(void)state;
	write_file(target, "old\n");
	fail_rename = EXDEV;
	assert_int_equal(prk_replace_file(target, "new\n", 4, 0, E, sizeof(E)), -1);
	assert_int_equal(errno, EXDEV);
	assert_err_has(target);
	assert_err_has("rename");
	assert_err_has(strerror(EXDEV));
	assert_string_equal(read_file(target), "old\n");
	assert_int_equal(entries(), 1);
}

/* After the rename the new content is in place but not known durable:
 * still a failure for the caller. */
static void fsync_of_dir_fails(void **state)
{
	(void)state;
	fail_fsync_dir = EIO;
	assert_int_equal(prk_replace_file(target, "new\n", 4, 0, E, sizeof(E)), -1);
	assert_int_equal(errno, EIO);
	assert_err_has(target);
	assert_err_has("directory");
	assert_err_has(strerror(EIO));
	assert_int_equal(entries(), 1);
}

static void path_too_long(void **state)
{
	char p[PATH_MAX + 8];

	(void)state;
	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	p[PATH_MAX - 3] = '\0'; /* fits, but not with ".tmp" after it */
	static char big[PATH_MAX + 256];
	assert_int_equal(prk_replace_file(p, "x", 1, 0, big, sizeof(big)), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_non_null(strstr(big, "too long for the temporary file"));
	assert_string_equal(call_log, "");
}

/* A message longer than the buffer is cut, not overrun; no buffer at all
 * is allowed. */
static void small_error_buffer(void **state)
{
	char small[8];
	char p[PATH_MAX + 32];

	(void)state;
	snprintf(p, sizeof(p), "%s/nodir/record", dir);
	memset(small, 'z', sizeof(small));
	assert_int_equal(prk_replace_file(p, "x", 1, 0, small, 6), -1);
	assert_int_equal(strlen(small), 5);
	assert_int_equal(small[6], 'z');
	assert_int_equal(prk_replace_file(p, "x", 1, 0, NULL, 0), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(creates_then_replaces), T(mode_is_private),       T(steps_in_safe_order),
	    T(relative_path),         T(missing_directory),     T(read_only_directory),
	    T(temporary_name_taken),  T(write_fails_disk_full), T(fsync_of_file_fails),
	    T(close_of_file_fails),   T(rename_fails),          T(fsync_of_dir_fails),
	    T(path_too_long),         T(small_error_buffer),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
