/* `prkit mount` (issue 16), one host, against a real prkitd with two
 * portals (mount_util.h): the multipath device as a file that this
 * program uses with plain system calls (and `dd`), as any unmodified
 * program would.
 *
 * Checked: open/write/read/close, the LU's size, EOF, ENOSPC at the end,
 * unaligned writes (read-modify-write, also from several threads on the
 * same blocks), fsync, punching holes (thin LU: zeros; thick LU:
 * EOPNOTSUPP; unaligned: EINVAL), dd; a configuration file with two
 * devices, the fixed names, another user refused, no path at start,
 * --discover;
 * failover under an O_DIRECT writer while the holder path's portal is
 * removed (no error, data verified); no path at all (EIO, then writes
 * again); the ways a mount ends (SIGTERM, fusermount3 -u) releasing what
 * a last close would release. test_mount_hosts.c has two hosts, fencing
 * and the control socket.
 *
 * FUSE sends RELEASE after close(2) has returned, so what a close does
 * is awaited (the status file's handle count, the PR state) with a bound,
 * never assumed. Every test gets a fresh prkitd; teardown stops every
 * mount by its PID (mount_harness.c). Root and /dev/fuse are needed: the
 * program skips ("1..0 # SKIP") without them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount_util.h"
#include "prkit/host_ctl.h"

/* ---- (a) a plain program ---- */

/* open, write, read back, close; the file's size, EOF, the end of the LU,
 * an unaligned write, fsync, punching a hole on a thin LU; the PR state
 * of a default open and of its close. */
static void test_plain_open_write_read_close(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	char path[400];
	mh_file(&mu_ma, NULL, path, sizeof(path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, LU_SIZE);
	assert_int_equal(st.st_blksize, 512);
	PR_EXPECT_NOKEYS(0, "before any open");

	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	/* default: registered on both paths, reserved (type 6) */
	PR_EXPECT(0, KEY_A, "after a default open", KEY_A);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&mu_daemon, 0, &pr), 0);
	assert_int_equal(pr.n_regs, 2);
	assert_int_equal(pr.type, 6);
	assert_int_equal(lseek(fd, 0, SEEK_END), LU_SIZE);

	static uint8_t w[256 << 10], r[256 << 10];
	mu_fill(w, sizeof(w), 1);
	assert_int_equal(pwrite(fd, w, sizeof(w), MIB), sizeof(w));
	memset(r, 0, sizeof(r));
	assert_int_equal(pread(fd, r, sizeof(r), MIB), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));

	/* one write larger than FUSE's 1 MiB requests */
	{
		size_t big = 3 * MIB + 4096;
		uint8_t *bw = malloc(big), *br = malloc(big);
		assert_non_null(bw);
		assert_non_null(br);
		mu_fill(bw, big, 5);
		assert_int_equal(pwrite(fd, bw, big, 8 * MIB), big);
		assert_int_equal(pread(fd, br, big, 8 * MIB), big);
		assert_memory_equal(br, bw, big);
		free(bw);
		free(br);
	}

	/* the end: reads clip, EOF reads 0, writes past it fail, a write
	 * across it is cut short */
	assert_int_equal(pread(fd, r, 4096, LU_SIZE), 0);
	assert_int_equal(pread(fd, r, 4096, LU_SIZE - 512), 512);
	errno = 0;
	assert_int_equal(pwrite(fd, w, 512, LU_SIZE), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(pwrite(fd, w, 1024, LU_SIZE - 512), 512);
	assert_int_equal(pread(fd, r, 512, LU_SIZE - 512), 512);
	assert_memory_equal(r, w, 512);

	/* unaligned writes: the edge blocks are read, changed, written */
	assert_int_equal(pwrite(fd, "hello", 5, MIB + 3), 5);
	assert_int_equal(pwrite(fd, w + 9000, 700, MIB + 2 * 4096 - 100), 700);
	assert_int_equal(pread(fd, r, 4 * 4096, MIB), 4 * 4096);
	uint8_t want[4 * 4096];
	memcpy(want, w, sizeof(want));
	memcpy(want + 3, "hello", 5);
	memcpy(want + 2 * 4096 - 100, w + 9000, 700);
	assert_memory_equal(r, want, sizeof(want));
	/* an unaligned read */
	assert_int_equal(pread(fd, r, 777, MIB + 1), 777);
	assert_memory_equal(r, want + 1, 777);

	assert_int_equal(fsync(fd), 0);
	assert_int_equal(fdatasync(fd), 0);

	/* punching a hole on the thin LU: UNMAP, reads zeros; the rest stays */
	assert_int_equal(
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MIB + 64 * 1024, 64 * 1024),
	    0);
	assert_int_equal(pread(fd, r, 192 * 1024, MIB), 192 * 1024);
	static const uint8_t zeros[64 * 1024];
	assert_memory_equal(r + 64 * 1024, zeros, sizeof(zeros));
	assert_memory_equal(r + 128 * 1024, w + 128 * 1024, 64 * 1024);
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MIB + 100, 4096),
	                 -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, MIB, 1000), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(fallocate(fd, 0, 0, 4096), -1); /* allocation: not a block device's */
	assert_int_equal(errno, EOPNOTSUPP);
	/* ftruncate: a block device's size cannot change */
	assert_int_equal(ftruncate(fd, LU_SIZE), 0);
	errno = 0;
	assert_int_equal(ftruncate(fd, LU_SIZE / 2), -1);
	assert_int_equal(errno, EINVAL);

	/* close: RELEASE (after close returns), the reservation released, the
	 * registrations stay */
	mu_close_wait(&mu_ma, fd, 0);
	PR_EXPECT(0, 0, "after the last close", KEY_A);
	/* nothing holds the LU: a third party reads what was written */
	uint8_t blk[512];
	assert_int_equal(mh_read_blocks(&mu_daemon, 0, MIB / 512 + 2 * 4096 / 512 - 1, 1, blk), 0);
	assert_memory_equal(blk, want + 2 * 4096 - 512, 512);
}

/* dd, a program that knows nothing of prkit: writes with O_DIRECT
 * (conv=notrunc: without it dd's seek= would ftruncate the file to the
 * seek offset, which a block device's size refuses with EINVAL), and with
 * O_TRUNC (ignored, as for a block device); reads back; `prkit mount
 * status` shows the mount. */
static void test_dd_and_status(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	char path[400], src[400], back[400];
	mh_file(&mu_ma, NULL, path, sizeof(path));
	snprintf(src, sizeof(src), "%s/dd.src", mu_daemon.dir);
	snprintf(back, sizeof(back), "%s/dd.back", mu_daemon.dir);
	static uint8_t w[MIB], r[MIB];
	mu_fill(w, sizeof(w), 7);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(w, 1, sizeof(w), f), sizeof(w));
	fclose(f);
	assert_int_equal(
	    mu_sh("dd if=%s of=%s bs=64k seek=32 oflag=direct conv=notrunc,fsync status=none", src,
	          path),
	    0);
	/* O_TRUNC at offset 0: ignored, the first 64 KiB written */
	assert_int_equal(mu_sh("dd if=%s of=%s bs=64k count=1 oflag=direct status=none", src, path),
	                 0);
	assert_int_equal(
	    mu_sh("dd if=%s of=%s bs=64k skip=32 count=16 iflag=direct status=none", path, back),
	    0);
	f = fopen(back, "r");
	assert_non_null(f);
	assert_int_equal(fread(r, 1, sizeof(r), f), sizeof(r));
	fclose(f);
	assert_memory_equal(r, w, sizeof(w));
	assert_int_equal(
	    mu_sh("dd if=%s of=%s bs=64k count=1 iflag=direct status=none", path, back), 0);
	f = fopen(back, "r");
	assert_non_null(f);
	assert_int_equal(fread(r, 1, sizeof(r), f), 64 * 1024);
	fclose(f);
	assert_memory_equal(r, w, 64 * 1024);
	/* the size did not change for O_TRUNC */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU_SIZE);
	assert_true(mh_wait_handles(&mu_ma, 0, WAIT_MS));
	PR_EXPECT(0, 0, "after dd", KEY_A);

	/* status: the JSON as the status file has it, and text */
	int fd = mu_open_ok(&mu_ma, NULL, O_RDONLY); /* O_RDONLY runs the mode as well */
	PR_EXPECT(0, KEY_A, "O_RDONLY open", KEY_A);
	static char out[65536], err[4096];
	const char *js[] = {"mount", "status", "--json", mu_ma.dir, NULL};
	assert_int_equal(h_prkit(&mu_daemon, out, sizeof(out), err, sizeof(err), js), 0);
	json_object *o = json_tokener_parse(out), *devs = NULL;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "devices", &devs));
	assert_int_equal(json_object_array_length(devs), 1);
	json_object *d0 = json_object_array_get_idx(devs, 0), *v = NULL;
	assert_true(json_object_object_get_ex(d0, "handles", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(d0, "size", &v));
	assert_int_equal(json_object_get_int64(v), LU_SIZE);
	json_object_put(o);
	const char *tx[] = {"mount", "status", mu_ma.dir, NULL};
	assert_int_equal(h_prkit(&mu_daemon, out, sizeof(out), err, sizeof(err), tx), 0);
	assert_non_null(strstr(out, "lu"));
	const char *bad[] = {"mount", "status", mu_daemon.dir, NULL}; /* not a mount */
	assert_int_equal(h_prkit(&mu_daemon, out, sizeof(out), err, sizeof(err), bad), 1);
	mu_close_wait(&mu_ma, fd, 0);
}

/* A thick LU has no UNMAP: punching a hole is EOPNOTSUPP. */
static void test_punch_hole_thick_lu(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 1, NULL, NULL);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, LU1_SIZE);
	static uint8_t w[64 * 1024], r[64 * 1024];
	mu_fill(w, sizeof(w), 3);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(pread(fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	mu_close_wait(&mu_ma, fd, 0);
}

/* A configuration file with two devices (the thin LU in retain mode, the
 * thick one in the default mode), the mountpoint on the command line:
 * the directory lists every device's names and the status file; each
 * file has its LU's size; the plain names run the configured modes. */
static void test_config_file_two_devices(void **state)
{
	(void)state;
	char cfg[400];
	snprintf(cfg, sizeof(cfg), "%s/mount.json", mu_daemon.dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "{\"initiator\": \"%s\", \"state_dir\": \"%s\", \"devices\": ["
	        "{\"name\": \"data\", \"paths\": [\"%s\", \"%s\"], \"key\": \"0x%llx\", "
	        "\"mode\": \"retain\"}, "
	        "{\"name\": \"log\", \"paths\": [\"%s\", \"%s\"], \"key\": \"0x%llx\"}]}\n",
	        INI_A, mu_state_a, mu_urls[0][0], mu_urls[0][1], (unsigned long long)KEY_A,
	        mu_urls[1][0], mu_urls[1][1], (unsigned long long)KEY_A);
	fclose(f);
	struct mh_spec sp = {.config = cfg, .wait_for = "log"};
	assert_int_equal(mh_start(&mu_ma, "a", &sp), 0);
	snprintf(mu_ma.name, sizeof(mu_ma.name), "data");
	struct mh_mount lg = mu_ma; /* for mh_open of "log" only */
	snprintf(lg.name, sizeof(lg.name), "log");

	static const char *const want[] = {
	    ".prkit-status",   "data",        "data.cluster",   "data.default", "data.forced",
	    "data.no-reserve", "data.retain", "data.single",    "log",          "log.cluster",
	    "log.default",     "log.forced",  "log.no-reserve", "log.retain",   "log.single"};
	const size_t n_want = sizeof(want) / sizeof(want[0]);
	bool seen[sizeof(want) / sizeof(want[0])] = {false};
	DIR *dir = opendir(mu_ma.dir);
	assert_non_null(dir);
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t k = 0;
		while (k < n_want && strcmp(want[k], e->d_name))
			k++;
		if (k == n_want)
			fail_msg("unexpected name %s in the mount", e->d_name);
		assert_false(seen[k]);
		seen[k] = true;
	}
	closedir(dir);
	for (size_t k = 0; k < n_want; k++)
		if (!seen[k])
			fail_msg("%s missing from the mount's directory", want[k]);
	char path[400];
	struct stat st;
	mh_file(&mu_ma, NULL, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU_SIZE);
	mh_file(&lg, "single", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU1_SIZE);
	mh_file(&lg, "exclusive", path, sizeof(path)); /* not a mode */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* data: retain (configured); log: default */
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	int fl = mu_open_ok(&lg, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "data open", KEY_A);
	PR_EXPECT(1, KEY_A, "log open", KEY_A);
	json_object *o = mh_status(&mu_ma), *devs = NULL;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "devices", &devs));
	assert_int_equal(json_object_array_length(devs), 2);
	json_object_put(o);
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(fl), 0);
	/* the log's release brings LU 1 to no reservation; data keeps its */
	PR_EXPECT(1, 0, "log closed", KEY_A);
	assert_true(mh_wait_handles(&mu_ma, 0, WAIT_MS)); /* the first device: data */
	const uint64_t ka[] = {KEY_A};
	mu_pr_stays(0, KEY_A, ka, 1, 200, "data (retain) closed");
	/* SIGTERM: nothing open, nothing to release; retain's reservation stays */
	mu_stop_clean(&mu_ma);
	mu_pr_stays(0, KEY_A, ka, 1, 100, "after SIGTERM");
}

/* --discover: one URL given, the other portal found by SendTargets; both
 * paths carry the registration. */
static void test_discover_finds_the_other_portal(void **state)
{
	(void)state;
	const char *extra[] = {"--discover", NULL};
	struct mh_spec sp = {.initiator = INI_A,
	                     .state_dir = mu_state_a,
	                     .key = KEY_A,
	                     .urls = mu_url_ptrs[0],
	                     .n_urls = 1,
	                     .extra = extra};
	assert_int_equal(mh_start(&mu_ma, "a", &sp), 0);
	json_object *o = mh_status(&mu_ma), *devs = NULL, *paths = NULL;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "devices", &devs));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(devs, 0), "paths", &paths));
	assert_int_equal(json_object_array_length(paths), 2);
	json_object_put(o);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	struct mh_pr pr;
	PR_EXPECT(0, KEY_A, "open", KEY_A);
	assert_int_equal(mh_pr_read(&mu_daemon, 0, &pr), 0);
	assert_int_equal(pr.n_regs, 2); /* one per path */
	mu_close_wait(&mu_ma, fd, 0);
}

/* A port nobody listens on (bound, then closed). */
static unsigned dead_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

/* No path answers at start: the LU's size is unknown, so nothing is
 * mounted; exit 2 with a message naming the device, within the open
 * timeout (not a hang). */
static void test_start_without_a_path_fails(void **state)
{
	(void)state;
	char url[256];
	snprintf(url, sizeof(url), "iscsi://127.0.0.1:%u/%s/0", dead_port(), H_TARGET);
	const char *u[] = {url};
	const char *extra[] = {"--open-timeout", "1000", NULL};
	struct mh_spec sp = {.initiator = INI_A,
	                     .state_dir = mu_state_a,
	                     .key = KEY_A,
	                     .name = "nopath",
	                     .urls = u,
	                     .n_urls = 1,
	                     .extra = extra};
	uint64_t t0 = h_now_ms();
	assert_int_equal(mh_start(&mu_ma, "a", &sp), -1);
	uint64_t ms = h_now_ms() - t0;
	print_message("# start without a path: exit %d after %llu ms\n", mu_ma.status,
	              (unsigned long long)ms);
	assert_int_equal(mu_ma.status, 2);
	assert_true(ms < 10000);
	assert_true(mh_log_contains(&mu_ma, "nopath"));
	assert_false(mh_is_mounted(mu_ma.dir));
}

/* The names come from the configuration: creating, removing or renaming
 * a file, making a directory, changing a file's mode or owner is EPERM;
 * another user cannot open the files (EACCES, no mode runs); an existing
 * name opened with O_CREAT is just opened (and runs its mode). */
static void test_names_are_fixed(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	char path[400], other[400];
	snprintf(path, sizeof(path), "%s/new", mu_ma.dir);
	errno = 0;
	assert_int_equal(open(path, O_CREAT | O_RDWR, 0600), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(mkdir(path, 0700), -1);
	assert_int_equal(errno, EPERM);
	mh_file(&mu_ma, NULL, path, sizeof(path));
	mh_file(&mu_ma, "renamed", other, sizeof(other));
	errno = 0;
	assert_int_equal(unlink(path), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(rename(path, other), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(chmod(path, 0644), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(chown(path, 1, 1), -1);
	assert_int_equal(errno, EPERM);
	/* another user (no allow_other; the files are 0600, the mounter's):
	 * refused by the kernel, so no mode runs */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(100);
		int fd = open(path, O_RDWR);
		_exit(fd >= 0 ? 0 : errno);
	}
	int wst = 0;
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst));
	assert_int_equal(WEXITSTATUS(wst), EACCES);
	PR_EXPECT_NOKEYS(0, "nothing opened");
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	PR_EXPECT(0, KEY_A, "O_CREAT of an existing name", KEY_A);
	mu_close_wait(&mu_ma, fd, 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
}

/* Threads write through four names of one device at once (four inodes,
 * so the kernel does not serialise them): four write unaligned 100-byte
 * slots that share blocks, one of them across a block boundary, in
 * rounds started together (a barrier), and after every round one of them
 * reads the blocks back: read-modify-write must lose no update to
 * another's stale read of the same block. Two more write aligned 64 KiB
 * blocks meanwhile and read each back. */
#define CW_ITERS 120
#define CW_SLOTW 4 /* threads 0..3: unaligned slots; 4..5: aligned */
#define CW_THREADS 6
#define CW_SLOT_BLOCKS 4
#define CW_SLOTS_BASE (5 * MIB)
#define CW_ALIGNED_BASE (6 * MIB)

struct cw_thread {
	int fd, t;
	int errors;
	char what[160];
	pthread_barrier_t *bar; /* the slot writers' */
};

static off_t cw_slot_off(int t, int blk)
{
	/* 0, 1, 2 side by side in a block; 3 across its end into the next */
	static const int at[CW_SLOTW] = {1000, 1100, 1200, 4046};
	return CW_SLOTS_BASE + (off_t)blk * 4096 + at[t];
}

static uint8_t cw_value(int t, int it)
{
	return (uint8_t)(it + t * 50);
}

/* Every slot holds round it's value (thread 0, between two barriers). */
static void cw_check_round(struct cw_thread *c, int it)
{
	static uint8_t r[(CW_SLOT_BLOCKS + 1) * 4096];
	if (pread(c->fd, r, sizeof(r), CW_SLOTS_BASE) != (ssize_t)sizeof(r)) {
		c->errors++;
		snprintf(c->what, sizeof(c->what), "read back: %s", strerror(errno));
		return;
	}
	for (int t = 0; t < CW_SLOTW; t++)
		for (int b = 0; b < CW_SLOT_BLOCKS; b++) {
			const uint8_t *p = r + (cw_slot_off(t, b) - CW_SLOTS_BASE);
			for (int k = 0; k < 100; k++)
				if (p[k] != cw_value(t, it) && !c->errors) {
					c->errors++;
					snprintf(c->what, sizeof(c->what),
					         "round %d: slot %d of block %d holds %u, not %u "
					         "(a lost "
					         "update)",
					         it, t, b, p[k], cw_value(t, it));
				}
		}
}

static void *cw_fn(void *arg)
{
	struct cw_thread *c = arg;
	static _Thread_local uint8_t buf[64 * 1024], back[64 * 1024];
	for (int it = 1; it <= CW_ITERS; it++) {
		if (c->t < CW_SLOTW) {
			/* every slot writer goes through every barrier, errors or not */
			pthread_barrier_wait(c->bar);
			memset(buf, cw_value(c->t, it), 100);
			for (int b = 0; b < CW_SLOT_BLOCKS && !c->errors; b++)
				if (pwrite(c->fd, buf, 100, cw_slot_off(c->t, b)) != 100) {
					c->errors++;
					snprintf(c->what, sizeof(c->what), "slot write: %s",
					         strerror(errno));
				}
			pthread_barrier_wait(c->bar);
			if (c->t == 0)
				cw_check_round(c, it);
		} else if (!c->errors) {
			off_t off = CW_ALIGNED_BASE + (off_t)(c->t - CW_SLOTW) * MIB +
			            (off_t)(it % 16) * (off_t)sizeof(buf);
			mu_fill(buf, sizeof(buf), (uint32_t)(it * 8 + c->t));
			if (pwrite(c->fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf) ||
			    pread(c->fd, back, sizeof(back), off) != (ssize_t)sizeof(back) ||
			    memcmp(buf, back, sizeof(buf))) {
				c->errors++;
				snprintf(c->what, sizeof(c->what), "aligned write at %lld: %s",
				         (long long)off, strerror(errno));
			}
		}
	}
	return NULL;
}

static void test_concurrent_writers_four_names(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	static const char *const names[] = {NULL, "default", "forced", "no-reserve"};
	struct cw_thread c[CW_THREADS];
	pthread_t th[CW_THREADS];
	int fd0 = mu_open_ok(&mu_ma, NULL, O_RDWR);
	/* a known pattern around the slots (one block more: slot 3 of the
	 * last block ends in it) */
	static uint8_t pat[(CW_SLOT_BLOCKS + 1) * 4096], r[(CW_SLOT_BLOCKS + 1) * 4096];
	mu_fill(pat, sizeof(pat), 99);
	assert_int_equal(pwrite(fd0, pat, sizeof(pat), CW_SLOTS_BASE), sizeof(pat));
	pthread_barrier_t bar;
	assert_int_equal(pthread_barrier_init(&bar, NULL, CW_SLOTW), 0);
	for (int t = 0; t < CW_THREADS; t++)
		c[t] = (struct cw_thread){
		    .fd = mu_open_ok(&mu_ma, names[t % 4], O_RDWR), .t = t, .bar = &bar};
	/* the opens after the first shared the device: no PR command */
	assert_int_equal(mh_status_int(&mu_ma, "handles"), CW_THREADS + 1);
	PR_EXPECT(0, KEY_A, "shared opens", KEY_A);
	for (int t = 0; t < CW_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, cw_fn, &c[t]), 0);
	for (int t = 0; t < CW_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	pthread_barrier_destroy(&bar);
	for (int t = 0; t < CW_THREADS; t++)
		if (c[t].errors)
			fail_msg("thread %d (%s): %s", t, names[t % 4] ? names[t % 4] : "lu",
			         c[t].what);
	assert_int_equal(pread(fd0, r, sizeof(r), CW_SLOTS_BASE), sizeof(r));
	uint8_t *want = pat;
	for (int b = 0; b < CW_SLOT_BLOCKS; b++)
		for (int t = 0; t < CW_SLOTW; t++)
			memset(want + (cw_slot_off(t, b) - CW_SLOTS_BASE), cw_value(t, CW_ITERS),
			       100);
	for (size_t i = 0; i < sizeof(r); i++)
		if (r[i] != want[i])
			fail_msg("byte %zu of the slot blocks is %u, want %u (a lost update)", i,
			         r[i], want[i]);
	for (int t = 0; t < CW_THREADS; t++)
		assert_int_equal(close(c[t].fd), 0);
	mu_close_wait(&mu_ma, fd0, 0);
	PR_EXPECT(0, 0, "all closed", KEY_A);
}

/* ---- (c) failover under a writer ---- */

/* The portal of the path that holds the reservation (status file), or
 * -1 when no path says so. */
static int holder_portal(const struct mh_mount *m)
{
	json_object *o = mh_status(m), *devs = NULL, *paths = NULL, *v = NULL;
	int portal = -1;
	if (o && json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_object_get_ex(json_object_array_get_idx(devs, 0), "paths", &paths)) {
		for (size_t i = 0; i < json_object_array_length(paths); i++) {
			json_object *p = json_object_array_get_idx(paths, i), *u = NULL;
			if (json_object_object_get_ex(p, "holder", &v) &&
			    json_object_get_boolean(v) && json_object_object_get_ex(p, "url", &u)) {
				for (int k = 0; k < 2; k++)
					if (!strcmp(json_object_get_string(u), mu_urls[0][k]))
						portal = k;
			}
		}
	}
	json_object_put(o);
	return portal;
}

/* An O_DIRECT writer goes on while the portal of the path holding the
 * reservation is removed: no write fails, writes go on after it, every
 * block holds the last write acknowledged for it, the reservation moved
 * to the other path. */
static void test_failover_under_writer(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	char path[400];
	mh_file(&mu_ma, NULL, path, sizeof(path));
	struct mu_wr *s = mu_wr_map();
	int hold = mu_open_ok(&mu_ma, NULL, O_RDONLY); /* to find the holder path */
	int gone = holder_portal(&mu_ma);
	assert_true(gone >= 0);
	pid_t pid = mu_writer_start(s, path);
	mh_sleep_ms(300);
	long before = atomic_load(&s->ok);
	char ap[64], out[4096], err[4096];
	snprintf(ap, sizeof(ap), "127.0.0.1:%u", mu_daemon.ports[gone]);
	const char *rm[] = {"remove-portal", ap, NULL};
	assert_int_equal(h_cli(&mu_daemon, out, sizeof(out), err, sizeof(err), rm), 0);
	atomic_store(&s->phase, 1);
	mh_sleep_ms(1200);
	mu_writer_stop(s, pid);
	print_message("# failover: portal %d (the holder's) removed; %ld writes before it went, "
	              "%ld after, errors %ld+%ld\n",
	              gone, before, atomic_load(&s->ok_after), atomic_load(&s->ebade),
	              atomic_load(&s->other));
	assert_true(before > 0);
	assert_int_equal(atomic_load(&s->ebade), 0);
	if (atomic_load(&s->other))
		fail_msg("%ld writes failed (last errno %s)", atomic_load(&s->other),
		         strerror(atomic_load(&s->other_errno)));
	assert_true(atomic_load(&s->ok_after) > 0);
	/* the data: through the file, and as the target holds it */
	uint8_t *r = NULL;
	assert_int_equal(posix_memalign((void **)&r, 4096, WR_BLOCKS * 4096), 0);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDONLY | O_DIRECT);
	assert_int_equal(pread(fd, r, WR_BLOCKS * 4096, WR_BASE), WR_BLOCKS * 4096);
	for (uint64_t i = 0; i < WR_BLOCKS; i++)
		if (mu_stamp_of(r + i * 4096, i) != atomic_load(&s->acked[i]))
			fail_msg("block %llu holds %llu, the last write acknowledged was %llu",
			         (unsigned long long)i,
			         (unsigned long long)mu_stamp_of(r + i * 4096, i),
			         (unsigned long long)atomic_load(&s->acked[i]));
	assert_int_equal(close(fd), 0);
	/* the path events went to the status file and to the log */
	assert_true(mu_has_event(&mu_ma, "path-state"));
	assert_true(mu_has_event(&mu_ma, "unit-attention")); /* at least the logins' */
	assert_true(mu_has_event(&mu_ma, "reservation-moved"));
	assert_true(mh_log_contains(&mu_ma, "prkit mount: lu: "));
	PR_EXPECT(0, KEY_A, "the reservation moved", KEY_A);
	assert_int_equal(close(hold), 0);
	assert_true(mh_wait_handles(&mu_ma, 0, WAIT_MS));
	PR_EXPECT(0, 0, "closed after the failover", KEY_A);
	free(r);
	mu_wr_unmap(s);
}

/* No path for longer than the no-path timeout: EIO (not a hang, not a
 * silent retry). */
static void test_no_path_is_eio(void **state)
{
	(void)state;
	const char *extra[] = {"--no-path-timeout", "500", "--io-timeout", "1000", NULL};
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, extra);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 61);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	char out[4096], err[4096];
	for (int p = 0; p < 2; p++) {
		char ap[64];
		snprintf(ap, sizeof(ap), "127.0.0.1:%u", mu_daemon.ports[p]);
		const char *rm[] = {"remove-portal", ap, NULL};
		assert_int_equal(h_cli(&mu_daemon, out, sizeof(out), err, sizeof(err), rm), 0);
	}
	uint64_t t0 = h_now_ms();
	errno = 0;
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), -1);
	assert_int_equal(errno, EIO);
	uint64_t ms = h_now_ms() - t0;
	print_message("# no path: EIO after %llu ms\n", (unsigned long long)ms);
	assert_true(ms >= 400 && ms < 10000);
	/* the portals come back: the same open file writes again */
	for (int p = 0; p < 2; p++) {
		char ap[64], n[16];
		snprintf(ap, sizeof(ap), "127.0.0.1:%u", mu_daemon.ports[p]);
		snprintf(n, sizeof(n), "%d", p + 1);
		const char *add[] = {"add-portal", ap, "--tpgt", n, "--rtpi", n, NULL};
		if (h_cli(&mu_daemon, out, sizeof(out), err, sizeof(err), add))
			fail_msg("add-portal %s: %s %s", ap, out, err);
	}
	uint64_t end = h_now_ms() + 10000;
	ssize_t n;
	int e = 0;
	while ((n = pwrite(fd, w, sizeof(w), 4096)) != (ssize_t)sizeof(w) && h_now_ms() < end) {
		e = errno;
		mh_sleep_ms(100);
	}
	if (n != (ssize_t)sizeof(w))
		fail_msg("no write succeeded within 10 s of the portals' return (last: %s)",
		         strerror(e));
	uint8_t r[4096];
	assert_int_equal(pread(fd, r, sizeof(r), 4096), sizeof(r));
	assert_memory_equal(r, w, sizeof(r));
	mu_close_wait(&mu_ma, fd, 0);
	PR_EXPECT(0, 0, "closed after the paths came back", KEY_A);
}

/* ---- (f) how a mount ends ---- */

/* SIGTERM with a file open: the device is closed as its last close would
 * (released), unmounted, exit 0. */
static void test_sigterm_releases(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "open", KEY_A);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", mu_ma.dir);
	mu_stop_clean(&mu_ma);
	assert_false(mh_is_mounted(dir));
	PR_EXPECT(0, 0, "after SIGTERM", KEY_A);
	close(fd); /* the file system is gone: whatever it says */
}

/* SIGTERM with a retain file open: the reservation stays. */
static void test_sigterm_retain_keeps(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	int fd = mu_open_ok(&mu_ma, "retain", O_RDWR);
	mu_stop_clean(&mu_ma);
	const uint64_t ka[] = {KEY_A};
	mu_pr_stays(0, KEY_A, ka, 1, 200, "retain after SIGTERM");
	close(fd);
}

/* fusermount3 -u: the process ends by itself (exit 0); with a file still
 * open (lazy unmount), its reservation is released when it ends. */
static void test_fusermount_unmounts(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "open", KEY_A);
	assert_int_equal(mu_sh("fusermount3 -u -z %s", mu_ma.dir), 0);
	assert_false(mh_is_mounted(mu_ma.dir));
	/* the last close of the detached file system: whatever FLUSH answers,
	 * the mount must end and release */
	if (close(fd))
		print_message("# close after fusermount3 -u -z: %s\n", strerror(errno));
	if (!mh_wait_exit(&mu_ma, 10000)) {
		mh_show_log(&mu_ma);
		fail_msg("prkit mount still runs 10 s after fusermount3 -u");
	}
	if (mu_ma.status != 0) {
		mh_show_log(&mu_ma);
		fail_msg("prkit mount ended with status %d after fusermount3 -u", mu_ma.status);
	}
	PR_EXPECT(0, 0, "after fusermount3 -u", KEY_A);

	/* and a plain unmount of an idle mount */
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	/* EBUSY while anything on this shared machine looks into the
	 * directory: try again a little later */
	int rc = -1;
	for (int k = 0; k < 5 && rc != 0; k++) {
		if (k)
			mh_sleep_ms(200);
		rc = mu_sh("fusermount3 -u %s", mu_mb.dir);
	}
	assert_int_equal(rc, 0);
	assert_true(mh_wait_exit(&mu_mb, 10000));
	if (mu_mb.status != 0) {
		mh_show_log(&mu_mb);
		fail_msg("prkit mount (idle) ended with status %d after fusermount3 -u",
		         mu_mb.status);
	}
}

int main(void)
{
	char why[256];
	if (!mu_can_fuse(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
#define T(f) cmocka_unit_test_setup_teardown(f, mu_setup, mu_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_plain_open_write_read_close),
	    T(test_dd_and_status),
	    T(test_punch_hole_thick_lu),
	    T(test_config_file_two_devices),
	    T(test_names_are_fixed),
	    T(test_start_without_a_path_fails),
	    T(test_discover_finds_the_other_portal),
	    T(test_concurrent_writers_four_names),
	    T(test_failover_under_writer),
	    T(test_no_path_is_eio),
	    T(test_sigterm_releases),
	    T(test_sigterm_retain_keeps),
	    T(test_fusermount_unmounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
