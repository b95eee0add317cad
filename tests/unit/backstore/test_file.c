/* File backstore over io_uring: opening rules and their messages, round
 * trips driven through the event fd, UNMAP/WRITE_ZEROES (with the zero-fill
 * fallback on tmpfs, which has no FALLOC_FL_ZERO_RANGE), O_DIRECT, queue
 * saturation, and close with I/O outstanding.
 *
 * Everything happens under a mkdtemp() directory in $TMPDIR (default /tmp),
 * removed afterwards. PRK_TEST_BLOCKDEV=/dev/... additionally runs a test
 * on a scratch block device, destroying its contents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bs_util.h"

static char dir[256];

/* ---- helpers ---- */

static void path_in(char *out, size_t n, const char *base, const char *name)
{
	snprintf(out, n, "%s/%s", base, name);
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path_in(sub, sizeof(sub), path, e->d_name);
		if (unlink(sub) < 0)
			remove_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

static int make_dir(char *out, size_t n, const char *base)
{
	snprintf(out, n, "%s/prk-bs-XXXXXX", base);
	return mkdtemp(out) ? 0 : -1;
}

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	return make_dir(dir, sizeof(dir), tmp && *tmp ? tmp : "/tmp");
}

static int group_teardown(void **state)
{
	(void)state;
	remove_tree(dir);
	return 0;
}

static struct prk_bs *open_bs(const char *name, uint64_t size, unsigned qd, bool direct, char *err,
                              size_t errlen)
{
	char path[512];
	struct prk_bs_file_opts o = {
	    .path = path, .size = size, .direct = direct, .queue_depth = qd};

	path_in(path, sizeof(path), dir, name);
	return prk_bs_file_open(&o, err, errlen);
}

static struct prk_bs *must_open(const char *name, uint64_t size)
{
	char err[256] = "";
	struct prk_bs *bs = open_bs(name, size, 0, false, err, sizeof(err));

	if (!bs)
		fail_msg("%s", err);
	return bs;
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[512];
	int fd;

	path_in(path, sizeof(path), dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static bool on_tmpfs(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

/* ---- opening ---- */

static void test_create(void **state)
{
	char path[512];
	struct stat st;
	struct prk_bs *bs = must_open("create.img", MiB);

	(void)state;
	path_in(path, sizeof(path), dir, "create.img");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, MiB);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(prk_bs_size(bs), MiB);
	assert_int_equal(prk_bs_alignment(bs), 1);
	assert_true(prk_bs_event_fd(bs) >= 0);
	assert_int_equal(prk_bs_inflight(bs), 0);
	assert_int_equal(prk_bs_complete(bs), 0);
	/* No write of a file is all-or-nothing across a crash without
	 * RWF_ATOMIC, which the file backstore does not use. */
	assert_int_equal(prk_bs_atomic_write_max(bs), 0);
	prk_bs_close(bs);
	/* Reopened with size 0: the file's own size. */
	bs = must_open("create.img", 0);
	assert_int_equal(prk_bs_size(bs), MiB);
	prk_bs_close(bs);
}

/* A smaller file is extended keeping its data; a larger one is used up to
 * the size asked for and left as it is. */
static void test_extend_and_prefix(void **state)
{
	char path[512];
	struct stat st;
	uint8_t pat[4096], out[4096];
	struct prk_bs *bs;

	(void)state;
	bs_fill(pat, sizeof(pat), 1);
	write_file("grow.img", pat, sizeof(pat));
	bs = must_open("grow.img", 64 * KiB);
	assert_int_equal(prk_bs_size(bs), 64 * KiB);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 60 * KiB, out, sizeof(out)), 0);
	assert_true(bs_all_zero(out, sizeof(out)));
	prk_bs_close(bs);

	bs = must_open("grow.img", 8 * KiB);
	assert_int_equal(prk_bs_size(bs), 8 * KiB);
	assert_int_equal(
	    bs_run(bs, PRK_BS_READ, 8 * KiB, 512, &(struct iovec){out, 512}, 1, false, false),
	    -EINVAL);
	prk_bs_close(bs);
	path_in(path, sizeof(path), dir, "grow.img");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 64 * KiB);
}

static void test_open_errors(void **state)
{
	char err[512], want[700], path[512];
	struct prk_bs_file_opts o = {.path = path};
	uint8_t odd[1000] = {0};

	(void)state;
	path_in(path, sizeof(path), dir, "no/such/dir/x.img");
	o.size = MiB;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: No such file or directory", path);
	assert_string_equal(err, want);

	/* Not there and no size to create it with. */
	path_in(path, sizeof(path), dir, "absent.img");
	o.size = 0;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(access(path, F_OK), -1);

	/* Read-only never creates. */
	o.size = MiB;
	o.readonly = true;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	assert_string_equal(err, want);
	assert_int_equal(access(path, F_OK), -1);
	o.readonly = false;

	o.size = 1000;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: size 1000 is not a multiple of 512", path);
	assert_string_equal(err, want);
	assert_int_equal(access(path, F_OK), -1);

	/* An existing file of 1000 bytes, taken at its size. */
	write_file("odd.img", odd, sizeof(odd));
	path_in(path, sizeof(path), dir, "odd.img");
	o.size = 0;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: size 1000 is not a multiple of 512", path);
	assert_string_equal(err, want);

	write_file("empty.img", odd, 0);
	path_in(path, sizeof(path), dir, "empty.img");
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: file is empty; give a size to extend it", path);
	assert_string_equal(err, want);

	/* A directory: not writable as a file, and not a file when read-only. */
	snprintf(path, sizeof(path), "%s", dir);
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: Is a directory", dir);
	assert_string_equal(err, want);
	o.readonly = true;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: not a regular file or block device", dir);
	assert_string_equal(err, want);

	o.path = "";
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	assert_string_equal(err, "backstore (no path): a path is required");
}

/* A failure after the file was created removes it again; an existing file
 * is left alone. (io_uring refuses more than 32768 entries.) */
static void test_ring_setup_error(void **state)
{
	char err[512], want[700], path[512];
	struct prk_bs_file_opts o = {.path = path, .size = MiB, .queue_depth = 1u << 20};
	uint8_t data[512] = {0};
	struct stat st;

	(void)state;
	path_in(path, sizeof(path), dir, "ring.img");
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: io_uring setup: Invalid argument", path);
	assert_string_equal(err, want);
	assert_int_equal(access(path, F_OK), -1);

	write_file("ring.img", data, sizeof(data));
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	assert_string_equal(err, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(data)); /* not extended either */
}

static void test_readonly(void **state)
{
	char err[512], path[512], want[700];
	struct prk_bs_file_opts o = {.path = path, .readonly = true};
	uint8_t pat[4096], out[4096];
	struct prk_bs *bs;

	(void)state;
	bs_fill(pat, sizeof(pat), 2);
	write_file("ro.img", pat, sizeof(pat));
	path_in(path, sizeof(path), dir, "ro.img");
	bs = prk_bs_file_open(&o, err, sizeof(err));
	assert_non_null(bs);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	assert_int_equal(
	    bs_run(bs, PRK_BS_WRITE, 0, 512, &(struct iovec){out, 512}, 1, false, false), -EROFS);
	assert_int_equal(bs_run(bs, PRK_BS_UNMAP, 0, 512, NULL, 0, false, false), -EROFS);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE_ZEROES, 0, 512, NULL, 0, false, false), -EROFS);
	assert_int_equal(bs_run(bs, PRK_BS_FLUSH, 0, 0, NULL, 0, false, true), 0);
	prk_bs_close(bs);

	/* Read-only cannot extend. */
	o.size = 8192;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "backstore %s: file size 4096 is smaller than the size 8192 (read-only)", path);
	assert_string_equal(err, want);
}

/* Root reads and writes through any permission: as root, the check runs in
 * a child that became an ordinary user (nobody). */
static bool drop_root(void)
{
	return geteuid() != 0 || (setgid(65534) == 0 && setuid(65534) == 0);
}

static bool can_drop_root(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(drop_root() ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/* Exit 0: refused with the right message, 1: anything else. */
static int child_permission_check(const char *path)
{
	char err[512], want[700];
	struct prk_bs_file_opts o = {.path = path};

	if (!drop_root())
		return 1;
	if (prk_bs_file_open(&o, err, sizeof(err)))
		return 1;
	snprintf(want, sizeof(want), "backstore %s: Permission denied", path);
	return strcmp(err, want) == 0 ? 0 : 1;
}

static void test_permission_denied(void **state)
{
	char path[512];
	uint8_t data[512] = {0};
	pid_t pid;
	int status;

	(void)state;
	write_file("locked.img", data, sizeof(data));
	path_in(path, sizeof(path), dir, "locked.img");
	assert_int_equal(chmod(path, 0400), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_permission_check(path));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- I/O ---- */

/* Reads and writes that end exactly at the end of the file. */
static void test_end_of_file(void **state)
{
	uint64_t size = MiB + 512;
	struct prk_bs *bs = must_open("eof.img", size);
	uint8_t pat[8704], out[8704];

	(void)state;
	bs_fill(pat, sizeof(pat), 6);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - sizeof(pat), pat, sizeof(pat)), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - sizeof(pat), out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 512, out, 512), 0);
	assert_memory_equal(out, pat + sizeof(pat) - 512, 512);
	assert_int_equal(
	    bs_run(bs, PRK_BS_READ, size - 512, 1024, &(struct iovec){out, 1024}, 1, false, false),
	    -EINVAL);
	prk_bs_close(bs);
}

/* A file cut short behind the backstore's back: the kernel returns a short
 * read, the remainder is asked for again, and the end of file then met is
 * an error, not success with a buffer half filled. */
static void test_file_shrunk(void **state)
{
	uint64_t size = 64 * KiB;
	struct prk_bs *bs = must_open("shrunk.img", size);
	char path[512];
	uint8_t pat[8192], out[8192];

	(void)state;
	bs_fill(pat, sizeof(pat), 15);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - sizeof(pat), pat, sizeof(pat)), 0);
	path_in(path, sizeof(path), dir, "shrunk.img");
	assert_int_equal(truncate(path, size - 4096), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - sizeof(pat), out, sizeof(out)), -EIO);
	assert_memory_equal(out, pat, 4096); /* the part that was there was read */
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 4096, out, 4096), -EIO);
	/* Writes past the new end simply extend the file again. */
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - 4096, pat, 4096), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - 4096, out, 4096), 0);
	assert_memory_equal(out, pat, 4096);
	prk_bs_close(bs);
}

static void check_unmap(struct prk_bs *bs)
{
	size_t len = MiB;
	uint8_t *pat = malloc(len), *out = malloc(len);
	uint64_t run_len = 0;

	bs_fill(pat, len, 7);
	/* Not flushed: data still in the page cache counts as mapped. */
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 0, pat, len), 0);
	assert_int_equal(prk_bs_mapped(bs, 0, len, &run_len), 1);
	assert_int_equal(run_len, len);

	assert_int_equal(bs_range_op(bs, PRK_BS_UNMAP, 64 * KiB, 64 * KiB), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, len), 0);
	assert_memory_equal(out, pat, 64 * KiB);
	assert_true(bs_all_zero(out + 64 * KiB, 64 * KiB));
	assert_memory_equal(out + 128 * KiB, pat + 128 * KiB, len - 128 * KiB);

	assert_int_equal(prk_bs_mapped(bs, 0, len, &run_len), 1);
	assert_int_equal(run_len, 64 * KiB);
	assert_int_equal(prk_bs_mapped(bs, 64 * KiB, len - 64 * KiB, &run_len), 0);
	assert_int_equal(run_len, 64 * KiB);
	assert_int_equal(prk_bs_mapped(bs, 128 * KiB, 4096, &run_len), 1);
	assert_int_equal(run_len, 4096);
	/* Never written, past the data: a hole up to the end. */
	assert_int_equal(prk_bs_mapped(bs, len, prk_bs_size(bs) - len, &run_len), 0);
	assert_int_equal(run_len, prk_bs_size(bs) - len);
	assert_int_equal(prk_bs_mapped(bs, 0, prk_bs_size(bs) + 512, &run_len), -EINVAL);
	free(pat);
	free(out);
}

static void test_unmap(void **state)
{
	struct prk_bs *bs = must_open("unmap.img", 4 * MiB);

	(void)state;
	check_unmap(bs);
	prk_bs_close(bs);
}

static void check_write_zeroes(struct prk_bs *bs)
{
	uint8_t pat[64 * KiB], out[64 * KiB];

	bs_fill(pat, sizeof(pat), 8);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, 0, pat, sizeof(pat)), 0);
	assert_int_equal(bs_range_op(bs, PRK_BS_WRITE_ZEROES, 4096, 8192), 0);
	/* Not block aligned: handled by the file system or the zero fill. */
	assert_int_equal(bs_range_op(bs, PRK_BS_WRITE_ZEROES, 20000, 1000), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, 4096);
	assert_true(bs_all_zero(out + 4096, 8192));
	assert_memory_equal(out + 12288, pat + 12288, 20000 - 12288);
	assert_true(bs_all_zero(out + 20000, 1000));
	assert_memory_equal(out + 21000, pat + 21000, sizeof(pat) - 21000);
	/* A large range: several writes' worth when zero-filled. */
	assert_int_equal(bs_range_op(bs, PRK_BS_WRITE_ZEROES, 0, 3 * MiB), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_true(bs_all_zero(out, sizeof(out)));
}

static void test_write_zeroes(void **state)
{
	struct prk_bs *bs = must_open("wz.img", 4 * MiB);

	(void)state;
	check_write_zeroes(bs);
	prk_bs_close(bs);
}

/* tmpfs refuses FALLOC_FL_ZERO_RANGE with EOPNOTSUPP: the zero fill runs. */
static void test_tmpfs_fallbacks(void **state)
{
	char shm[256], path[512], err[512];
	struct prk_bs_file_opts o = {.path = path, .size = 4 * MiB};
	struct prk_bs *bs;

	(void)state;
	assert_int_equal(make_dir(shm, sizeof(shm), "/dev/shm"), 0);
	path_in(path, sizeof(path), shm, "t.img");
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs)
		remove_tree(shm);
	assert_non_null(bs);
	check_unmap(bs); /* first: zero fills leave real (mapped) zeroes */
	check_write_zeroes(bs);
	check_write_zeroes(bs); /* again, now straight to the zero fill */
	prk_bs_close(bs);
	remove_tree(shm);
}

static void test_flush_and_fua(void **state)
{
	struct prk_bs *bs = must_open("fua.img", MiB);
	uint8_t pat[8192], out[8192];
	struct iovec v = {pat, sizeof(pat)};

	(void)state;
	bs_fill(pat, sizeof(pat), 9);
	assert_int_equal(bs_run(bs, PRK_BS_WRITE, 4096, sizeof(pat), &v, 1, true, true), 0);
	assert_int_equal(bs_range_op(bs, PRK_BS_FLUSH, 0, 0), 0);
	/* FLUSH ignores its range, even one past the end. */
	assert_int_equal(bs_range_op(bs, PRK_BS_FLUSH, UINT64_MAX, 5), 0);
	prk_bs_close(bs);
	bs = must_open("fua.img", 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 4096, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	prk_bs_close(bs);
}

/* O_DIRECT: either the file system takes it, and aligned I/O works, or the
 * open fails naming O_DIRECT. (ext4 takes it; tmpfs only since Linux 6.6.) */
static void check_direct(const char *base)
{
	char path[512], err[512], want[700];
	struct prk_bs_file_opts o = {.path = path, .size = MiB, .direct = true};
	struct prk_bs *bs;
	uint8_t *pat = NULL, *out = NULL;
	size_t align;

	path_in(path, sizeof(path), base, "direct.img");
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs) {
		snprintf(
		    want, sizeof(want),
		    "backstore %s: O_DIRECT not supported by the file system: Invalid argument",
		    path);
		assert_string_equal(err, want);
		assert_int_equal(access(path, F_OK), -1); /* not left behind */
		return;
	}
	align = prk_bs_alignment(bs);
	assert_true(align >= 512 && (align & (align - 1)) == 0);
	assert_int_equal(posix_memalign((void **)&pat, align, 64 * KiB), 0);
	assert_int_equal(posix_memalign((void **)&out, align, 64 * KiB), 0);
	bs_fill(pat, 64 * KiB, 11);
	{
		struct iovec wv[2] = {{pat, 16 * KiB}, {pat + 16 * KiB, 48 * KiB}};

		assert_int_equal(bs_run(bs, PRK_BS_WRITE, 128 * KiB, 64 * KiB, wv, 2, true, true),
		                 0);
	}
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 128 * KiB, out, 64 * KiB), 0);
	assert_memory_equal(out, pat, 64 * KiB);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, MiB - 64 * KiB, out, 64 * KiB), 0);
	assert_true(bs_all_zero(out, 64 * KiB));
	assert_int_equal(bs_range_op(bs, PRK_BS_WRITE_ZEROES, 128 * KiB, 4 * KiB), 0);
	assert_int_equal(bs_range_op(bs, PRK_BS_UNMAP, 132 * KiB, 4 * KiB), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 128 * KiB, out, 64 * KiB), 0);
	assert_true(bs_all_zero(out, 8 * KiB));
	assert_memory_equal(out + 8 * KiB, pat + 8 * KiB, 56 * KiB);
	free(pat);
	free(out);
	prk_bs_close(bs);
	unlink(path);
}

static void test_direct(void **state)
{
	char shm[256];

	(void)state;
	check_direct(dir);
	if (on_tmpfs("/dev/shm") && make_dir(shm, sizeof(shm), "/dev/shm") == 0) {
		check_direct(shm);
		remove_tree(shm);
	}
}

/* 1000 I/Os against a queue depth of 8: all accepted without blocking,
 * completed only through the event fd, data intact. */
#define NIO 1000
#define IOSZ 4096

static void submit_all(struct prk_bs *bs, enum prk_bs_op op, uint8_t *bufs, struct prk_bs_io *ios,
                       struct iovec *iovs, struct bs_done *recs)
{
	for (int i = 0; i < NIO; i++) {
		recs[i] = (struct bs_done){0, 12345};
		iovs[i] = (struct iovec){bufs + (size_t)i * IOSZ, IOSZ};
		/* Scattered offsets, so that order cannot hide a mix-up. */
		ios[i] = (struct prk_bs_io){.op = op,
		                            .offset = (uint64_t)((i * 617) % NIO) * IOSZ,
		                            .len = IOSZ,
		                            .iov = &iovs[i],
		                            .iovcnt = 1,
		                            .done = bs_on_done,
		                            .priv = &recs[i]};
		prk_bs_submit(bs, &ios[i]);
	}
	assert_int_equal(prk_bs_inflight(bs), NIO);
	assert_int_equal(bs_drive(bs), NIO);
	for (int i = 0; i < NIO; i++) {
		assert_int_equal(recs[i].calls, 1);
		assert_int_equal(recs[i].result, 0);
	}
}

static void test_queue_saturation(void **state)
{
	char err[512];
	struct prk_bs *bs = open_bs("sat.img", (uint64_t)NIO * IOSZ, 8, false, err, sizeof(err));
	uint8_t *wbuf = malloc((size_t)NIO * IOSZ), *rbuf = calloc(NIO, IOSZ);
	struct prk_bs_io *ios = calloc(NIO, sizeof(*ios));
	struct iovec *iovs = calloc(NIO, sizeof(*iovs));
	struct bs_done *recs = calloc(NIO, sizeof(*recs));

	(void)state;
	assert_non_null(bs);
	bs_fill(wbuf, (size_t)NIO * IOSZ, 12);
	submit_all(bs, PRK_BS_WRITE, wbuf, ios, iovs, recs);
	submit_all(bs, PRK_BS_READ, rbuf, ios, iovs, recs);
	assert_memory_equal(rbuf, wbuf, (size_t)NIO * IOSZ);
	prk_bs_close(bs);
	free(wbuf);
	free(rbuf);
	free(ios);
	free(iovs);
	free(recs);
}

/* Close waits for what is queued and in flight, and calls every done(). */
static void test_close_with_outstanding(void **state)
{
	enum { N = 50 };
	char err[512];
	struct prk_bs *bs = open_bs("close.img", MiB, 4, false, err, sizeof(err));
	static uint8_t pat[N][512];
	uint8_t out[N * 512];
	struct prk_bs_io ios[N];
	struct iovec iovs[N];
	struct bs_done recs[N];

	(void)state;
	assert_non_null(bs);
	for (int i = 0; i < N; i++) {
		bs_fill(pat[i], 512, (unsigned)i);
		recs[i] = (struct bs_done){0, 12345};
		iovs[i] = (struct iovec){pat[i], 512};
		ios[i] = (struct prk_bs_io){.op = PRK_BS_WRITE,
		                            .offset = (uint64_t)i * 512,
		                            .len = 512,
		                            .iov = &iovs[i],
		                            .iovcnt = 1,
		                            .done = bs_on_done,
		                            .priv = &recs[i]};
		prk_bs_submit(bs, &ios[i]);
	}
	prk_bs_close(bs);
	for (int i = 0; i < N; i++) {
		assert_int_equal(recs[i].calls, 1);
		assert_int_equal(recs[i].result, 0);
	}
	bs = must_open("close.img", 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	prk_bs_close(bs);
}

/* done() submitting the next I/O, as an LU does for multi-step commands. */
static struct prk_bs *chain_bs;
static int chain_calls;

static void chain_done(struct prk_bs_io *io)
{
	chain_calls++;
	if (io->result == 0 && chain_calls < 5) {
		io->offset += io->len;
		prk_bs_submit(chain_bs, io);
	}
}

static void test_submit_from_done(void **state)
{
	uint8_t pat[512], out[5 * 512];
	struct iovec v = {pat, 512};
	struct prk_bs_io io = {
	    .op = PRK_BS_WRITE, .len = 512, .iov = &v, .iovcnt = 1, .done = chain_done};

	(void)state;
	chain_bs = must_open("chain.img", MiB);
	chain_calls = 0;
	bs_fill(pat, 512, 13);
	prk_bs_submit(chain_bs, &io);
	assert_int_equal(chain_calls, 0);
	assert_int_equal(bs_drive(chain_bs), 5);
	assert_int_equal(chain_calls, 5);
	assert_int_equal(io.result, 0);
	assert_int_equal(bs_rw(chain_bs, PRK_BS_READ, 0, out, sizeof(out)), 0);
	for (int i = 0; i < 5; i++)
		assert_memory_equal(out + i * 512, pat, 512);
	prk_bs_close(chain_bs);
}

/* Destructive, opt-in: PRK_TEST_BLOCKDEV names a scratch block device. */
static void test_block_device(void **state)
{
	const char *dev = getenv("PRK_TEST_BLOCKDEV");
	char err[512], want[700];
	struct prk_bs_file_opts o = {.path = dev};
	struct prk_bs *bs;
	uint8_t pat[8192], out[8192];
	uint64_t size, run_len = 0;

	(void)state;
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs)
		fail_msg("%s", err);
	size = prk_bs_size(bs);
	assert_true(size >= 2 * MiB);
	bs_fill(pat, sizeof(pat), 14);
	assert_int_equal(bs_rw(bs, PRK_BS_WRITE, size - sizeof(pat), pat, sizeof(pat)), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - sizeof(pat), out, sizeof(out)), 0);
	assert_memory_equal(out, pat, sizeof(out));
	assert_int_equal(bs_range_op(bs, PRK_BS_WRITE_ZEROES, size - 8192, 4096), 0);
	assert_int_equal(bs_range_op(bs, PRK_BS_UNMAP, size - 4096, 4096), 0);
	assert_int_equal(bs_rw(bs, PRK_BS_READ, size - sizeof(pat), out, sizeof(out)), 0);
	assert_true(bs_all_zero(out, sizeof(out)));
	assert_int_equal(prk_bs_mapped(bs, 0, size, &run_len), 1);
	assert_int_equal(run_len, size);
	prk_bs_close(bs);

	o.size = size + 512;
	assert_null(prk_bs_file_open(&o, err, sizeof(err)));
	snprintf(want, sizeof(want), "backstore %s: size %llu exceeds the device size %llu", dev,
	         (unsigned long long)size + 512, (unsigned long long)size);
	assert_string_equal(err, want);
	o.size = MiB;
	o.direct = true;
	bs = prk_bs_file_open(&o, err, sizeof(err));
	if (!bs)
		fail_msg("%s", err);
	assert_int_equal(prk_bs_size(bs), MiB);
	assert_true(prk_bs_alignment(bs) >= 512);
	prk_bs_close(bs);
}

/* Tests that cannot run here are left out rather than reported as skipped:
 * cmocka prints a skip as "not ok", which scripts/test.sh counts as failed. */
int main(void)
{
	const char *dev = getenv("PRK_TEST_BLOCKDEV");
	struct CMUnitTest tests[32];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_create);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_extend_and_prefix);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_open_errors);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ring_setup_error);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_readonly);
	if (can_drop_root())
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_permission_denied);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_end_of_file);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_file_shrunk);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_unmap);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_write_zeroes);
	if (on_tmpfs("/dev/shm"))
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_tmpfs_fallbacks);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_flush_and_fua);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_direct);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_queue_saturation);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_close_with_outstanding);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_submit_from_done);
	if (dev && *dev)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_block_device);
	return _cmocka_run_group_tests("backstore_file", tests, n, group_setup, group_teardown);
}
