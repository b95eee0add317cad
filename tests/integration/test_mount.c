/* `prkit mount` (issue 16) against a real prkitd with two portals: the
 * multipath device as a file that this program uses with plain system
 * calls (and `dd`), as any unmodified program would.
 *
 * Checked: open/write/read/close, the LU's size, EOF, ENOSPC at the end,
 * unaligned writes (read-modify-write, also from several threads on the
 * same blocks), fsync, punching holes (thin LU: zeros; thick LU:
 * EOPNOTSUPP; unaligned: EINVAL), dd; a configuration file with two
 * devices, the fixed names, another user refused, no path at start; two
 * mounts with their own initiator names, state directories and keys
 * playing two hosts (default against default, forced, single, retain,
 * no-reserve), with the target's PR state read by a third party after
 * each step; failover under an O_DIRECT writer while the holder path's
 * portal is removed (no error, data verified); no path at all (EIO, then
 * writes again); `prkit fence` fencing the mount (EBADE, and no write
 * lands after the fence; a reopen must not undo it) and stalling the
 * survivor's own mount; the control socket (list, stall, set_key, fail);
 * and the ways a mount ends (SIGTERM, fusermount3 -u) releasing what a
 * last close would release.
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "mount_harness.h"
#include "prkit/host_ctl.h"

#define INI_A "iqn.2026-11.io.prkit.test:mount-a"
#define INI_B "iqn.2026-11.io.prkit.test:mount-b"
#define KEY_A 0xa1a1a1a1ULL
#define KEY_B 0xb2b2b2b2ULL
#define LU_SIZE (16u << 20) /* LUN 0: thin RAM */
#define LU1_SIZE (4u << 20) /* LUN 1: thick RAM */
#define MIB (1u << 20)
#define WAIT_MS 5000 /* bound on what FUSE does after close(2) returns */

static struct h_daemon daemon_;
static char urls[2][2][256]; /* [lun][portal] */
static const char *url_ptrs[2][2];
static char state_a[400], state_b[400];
static struct mh_mount ma, mb;
static char msg[512];
static struct prk_ctl_client *ctl; /* closed by teardown */

static int setup(void **state)
{
	(void)state;
	const char *cfg =
	    "{\"portals\": [{\"address\": \"127.0.0.1\", \"port\": 0}, {\"address\": "
	    "\"127.0.0.1\", \"port\": 0}], \"admin_socket\": \"@DIR@/admin.sock\", "
	    "\"nop_interval_ms\": 60000, \"targets\": [{\"name\": \"" H_TARGET "\", \"luns\": "
	    "[{\"backstore\": {\"type\": \"ram\", \"size\": \"16M\"}, \"thin\": true}, "
	    "{\"backstore\": {\"type\": \"ram\", \"size\": \"4M\"}}]}]}";
	if (h_start(&daemon_, cfg))
		return -1;
	for (int l = 0; l < 2; l++)
		for (int p = 0; p < 2; p++) {
			snprintf(urls[l][p], sizeof(urls[l][p]), "iscsi://127.0.0.1:%u/%s/%d",
			         daemon_.ports[p], H_TARGET, l);
			url_ptrs[l][p] = urls[l][p];
		}
	snprintf(state_a, sizeof(state_a), "%s/host-a", daemon_.dir);
	snprintf(state_b, sizeof(state_b), "%s/host-b", daemon_.dir);
	memset(&ma, 0, sizeof(ma));
	memset(&mb, 0, sizeof(mb));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (ctl)
		prk_ctl_close(ctl);
	ctl = NULL;
	int bad = mh_stop_all();
	return h_stop(&daemon_) == 0 && bad == 0 ? 0 : -1;
}

/* Host A (or B): its own initiator name, state directory and key, both
 * paths of LU lun, mounted at <root>/<sub>. */
static void start_host(struct mh_mount *m, char host, const char *sub, int lun, const char *mode,
                       const char *const *extra)
{
	struct mh_spec s = {
	    .initiator = host == 'a' ? INI_A : INI_B,
	    .state_dir = host == 'a' ? state_a : state_b,
	    .key = host == 'a' ? KEY_A : KEY_B,
	    .mode = mode,
	    .urls = url_ptrs[lun],
	    .n_urls = 2,
	    .extra = extra,
	};
	if (mh_start(m, sub, &s))
		fail_msg("prkit mount %s did not start", sub);
}

/* The PR state of LU lun becomes (within WAIT_MS) exactly: keys[0..n)
 * registered, held by holder (0: not reserved). */
static void pr_expect(int lun, uint64_t holder, const uint64_t *keys, int n, const char *when)
{
	struct mh_pr pr;
	if (!mh_pr_wait(&daemon_, lun, holder, keys, n, WAIT_MS, &pr)) {
		mh_pr_format(&pr, msg, sizeof(msg));
		fail_msg("%s: PR state is %s; want %d key(s), holder 0x%llx", when, msg, n,
		         (unsigned long long)holder);
	}
}
#define PR_EXPECT(lun, holder, when, ...)                                                          \
	do {                                                                                       \
		const uint64_t ks_[] = {__VA_ARGS__};                                              \
		pr_expect(lun, holder, ks_, (int)(sizeof(ks_) / sizeof(ks_[0])), when);            \
	} while (0)
#define PR_EXPECT_NOKEYS(lun, when) pr_expect(lun, 0, NULL, 0, when)

/* The PR state stays as it is for ms (retain, refused opens): read it now
 * and again later. */
static void pr_stays(int lun, uint64_t holder, const uint64_t *keys, int n, int ms,
                     const char *when)
{
	pr_expect(lun, holder, keys, n, when);
	mh_sleep_ms(ms);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&daemon_, lun, &pr), 0);
	if (!mh_pr_is(&pr, holder, keys, n)) {
		mh_pr_format(&pr, msg, sizeof(msg));
		fail_msg("%s: %d ms later the PR state changed to %s", when, ms, msg);
	}
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131u + seed * 7u + (i >> 9)) ^ (seed >> 3));
}

/* Opens m's name for mode, asserting success. */
static int must_open(const struct mh_mount *m, const char *mode, int flags)
{
	int fd = mh_open(m, mode, flags);
	if (fd < 0)
		fail_msg("open %s/%s.%s: %s", m->dir, m->name, mode ? mode : "", strerror(-fd));
	return fd;
}

/* close(2), then the mount's RELEASE: the device has `left` handles. */
static void close_and_wait(const struct mh_mount *m, int fd, int left)
{
	assert_int_equal(close(fd), 0);
	assert_true(mh_wait_handles(m, left, WAIT_MS));
}

/* The status file lists an event of this kind (prk_event_name) for the
 * first device. */
static bool status_has_event(const struct mh_mount *m, const char *kind)
{
	json_object *o = mh_status(m), *devs = NULL, *evs = NULL, *k = NULL;
	bool found = false;
	if (o && json_object_object_get_ex(o, "devices", &devs) &&
	    json_object_object_get_ex(json_object_array_get_idx(devs, 0), "events", &evs)) {
		for (size_t i = 0; !found && i < json_object_array_length(evs); i++)
			found = json_object_object_get_ex(json_object_array_get_idx(evs, i), "kind",
			                                  &k) &&
			        !strcmp(json_object_get_string(k), kind);
	}
	json_object_put(o);
	return found;
}

/* mh_stop, which must end with exit status 0 (the log shown if not). */
static void stop_clean(struct mh_mount *m)
{
	int st = mh_stop(m);
	if (st != 0) {
		mh_show_log(m);
		fail_msg("prkit mount %s ended with status %d", m->dir, st);
	}
}

/* ---- (a) a plain program ---- */

/* open, write, read back, close; the file's size, EOF, the end of the LU,
 * an unaligned write, fsync, punching a hole on a thin LU; the PR state
 * of a default open and of its close. */
static void test_plain_open_write_read_close(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	char path[400];
	mh_file(&ma, NULL, path, sizeof(path));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, LU_SIZE);
	assert_int_equal(st.st_blksize, 512);
	PR_EXPECT_NOKEYS(0, "before any open");

	int fd = must_open(&ma, NULL, O_RDWR);
	/* default: registered on both paths, reserved (type 6) */
	PR_EXPECT(0, KEY_A, "after a default open", KEY_A);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&daemon_, 0, &pr), 0);
	assert_int_equal(pr.n_regs, 2);
	assert_int_equal(pr.type, 6);
	assert_int_equal(lseek(fd, 0, SEEK_END), LU_SIZE);

	static uint8_t w[256 << 10], r[256 << 10];
	fill(w, sizeof(w), 1);
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
		fill(bw, big, 5);
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
	close_and_wait(&ma, fd, 0);
	PR_EXPECT(0, 0, "after the last close", KEY_A);
	/* nothing holds the LU: a third party reads what was written */
	uint8_t blk[512];
	assert_int_equal(mh_read_blocks(&daemon_, 0, MIB / 512 + 2 * 4096 / 512 - 1, 1, blk), 0);
	assert_memory_equal(blk, want + 2 * 4096 - 512, 512);
}

/* Runs a shell command line, returning its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* dd, a program that knows nothing of prkit: writes with O_DIRECT
 * (conv=notrunc: without it dd's seek= would ftruncate the file to the
 * seek offset, which a block device's size refuses with EINVAL), and with
 * O_TRUNC (ignored, as for a block device); reads back; `prkit mount
 * status` shows the mount. */
static void test_dd_and_status(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	char path[400], src[400], back[400];
	mh_file(&ma, NULL, path, sizeof(path));
	snprintf(src, sizeof(src), "%s/dd.src", daemon_.dir);
	snprintf(back, sizeof(back), "%s/dd.back", daemon_.dir);
	static uint8_t w[MIB], r[MIB];
	fill(w, sizeof(w), 7);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(w, 1, sizeof(w), f), sizeof(w));
	fclose(f);
	assert_int_equal(
	    sh("dd if=%s of=%s bs=64k seek=32 oflag=direct conv=notrunc,fsync status=none", src,
	       path),
	    0);
	/* O_TRUNC at offset 0: ignored, the first 64 KiB written */
	assert_int_equal(sh("dd if=%s of=%s bs=64k count=1 oflag=direct status=none", src, path),
	                 0);
	assert_int_equal(
	    sh("dd if=%s of=%s bs=64k skip=32 count=16 iflag=direct status=none", path, back), 0);
	f = fopen(back, "r");
	assert_non_null(f);
	assert_int_equal(fread(r, 1, sizeof(r), f), sizeof(r));
	fclose(f);
	assert_memory_equal(r, w, sizeof(w));
	assert_int_equal(sh("dd if=%s of=%s bs=64k count=1 iflag=direct status=none", path, back),
	                 0);
	f = fopen(back, "r");
	assert_non_null(f);
	assert_int_equal(fread(r, 1, sizeof(r), f), 64 * 1024);
	fclose(f);
	assert_memory_equal(r, w, 64 * 1024);
	/* the size did not change for O_TRUNC */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU_SIZE);
	assert_true(mh_wait_handles(&ma, 0, WAIT_MS));
	PR_EXPECT(0, 0, "after dd", KEY_A);

	/* status: the JSON as the status file has it, and text */
	int fd = must_open(&ma, NULL, O_RDONLY); /* O_RDONLY runs the mode as well */
	PR_EXPECT(0, KEY_A, "O_RDONLY open", KEY_A);
	static char out[65536], err[4096];
	const char *js[] = {"mount", "status", "--json", ma.dir, NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), js), 0);
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
	const char *tx[] = {"mount", "status", ma.dir, NULL};
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), tx), 0);
	assert_non_null(strstr(out, "lu"));
	const char *bad[] = {"mount", "status", daemon_.dir, NULL}; /* not a mount */
	assert_int_equal(h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), bad), 1);
	close_and_wait(&ma, fd, 0);
}

/* A thick LU has no UNMAP: punching a hole is EOPNOTSUPP. */
static void test_punch_hole_thick_lu(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 1, NULL, NULL);
	int fd = must_open(&ma, NULL, O_RDWR);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, LU1_SIZE);
	static uint8_t w[64 * 1024], r[64 * 1024];
	fill(w, sizeof(w), 3);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(pread(fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	close_and_wait(&ma, fd, 0);
}

/* A configuration file with two devices (the thin LU in retain mode, the
 * thick one in the default mode), the mountpoint on the command line:
 * the directory lists every device's names and the status file; each
 * file has its LU's size; the plain names run the configured modes. */
static void test_config_file_two_devices(void **state)
{
	(void)state;
	char cfg[400];
	snprintf(cfg, sizeof(cfg), "%s/mount.json", daemon_.dir);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "{\"initiator\": \"%s\", \"state_dir\": \"%s\", \"devices\": ["
	        "{\"name\": \"data\", \"paths\": [\"%s\", \"%s\"], \"key\": \"0x%llx\", "
	        "\"mode\": \"retain\"}, "
	        "{\"name\": \"log\", \"paths\": [\"%s\", \"%s\"], \"key\": \"0x%llx\"}]}\n",
	        INI_A, state_a, urls[0][0], urls[0][1], (unsigned long long)KEY_A, urls[1][0],
	        urls[1][1], (unsigned long long)KEY_A);
	fclose(f);
	struct mh_spec sp = {.config = cfg, .wait_for = "log"};
	assert_int_equal(mh_start(&ma, "a", &sp), 0);
	snprintf(ma.name, sizeof(ma.name), "data");
	struct mh_mount lg = ma; /* for mh_open of "log" only */
	snprintf(lg.name, sizeof(lg.name), "log");

	static const char *const want[] = {
	    ".prkit-status",   "data",        "data.cluster",   "data.default", "data.forced",
	    "data.no-reserve", "data.retain", "data.single",    "log",          "log.cluster",
	    "log.default",     "log.forced",  "log.no-reserve", "log.retain",   "log.single"};
	const size_t n_want = sizeof(want) / sizeof(want[0]);
	bool seen[sizeof(want) / sizeof(want[0])] = {false};
	DIR *dir = opendir(ma.dir);
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
	mh_file(&ma, NULL, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU_SIZE);
	mh_file(&lg, "single", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, LU1_SIZE);
	mh_file(&lg, "exclusive", path, sizeof(path)); /* not a mode */
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* data: retain (configured); log: default */
	int fd = must_open(&ma, NULL, O_RDWR);
	int fl = must_open(&lg, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "data open", KEY_A);
	PR_EXPECT(1, KEY_A, "log open", KEY_A);
	json_object *o = mh_status(&ma), *devs = NULL;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "devices", &devs));
	assert_int_equal(json_object_array_length(devs), 2);
	json_object_put(o);
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(fl), 0);
	/* the log's release brings LU 1 to no reservation; data keeps its */
	PR_EXPECT(1, 0, "log closed", KEY_A);
	assert_true(mh_wait_handles(&ma, 0, WAIT_MS)); /* the first device: data */
	const uint64_t ka[] = {KEY_A};
	pr_stays(0, KEY_A, ka, 1, 200, "data (retain) closed");
	/* SIGTERM: nothing open, nothing to release; retain's reservation stays */
	stop_clean(&ma);
	pr_stays(0, KEY_A, ka, 1, 100, "after SIGTERM");
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
	                     .state_dir = state_a,
	                     .key = KEY_A,
	                     .name = "nopath",
	                     .urls = u,
	                     .n_urls = 1,
	                     .extra = extra};
	uint64_t t0 = h_now_ms();
	assert_int_equal(mh_start(&ma, "a", &sp), -1);
	uint64_t ms = h_now_ms() - t0;
	print_message("# start without a path: exit %d after %llu ms\n", ma.status,
	              (unsigned long long)ms);
	assert_int_equal(ma.status, 2);
	assert_true(ms < 10000);
	assert_true(mh_log_contains(&ma, "nopath"));
	assert_false(mh_is_mounted(ma.dir));
}

/* The names come from the configuration: creating, removing or renaming
 * a file, making a directory, changing a file's mode or owner is EPERM;
 * another user cannot open the files (EACCES, no mode runs); an existing
 * name opened with O_CREAT is just opened (and runs its mode). */
static void test_names_are_fixed(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	char path[400], other[400];
	snprintf(path, sizeof(path), "%s/new", ma.dir);
	errno = 0;
	assert_int_equal(open(path, O_CREAT | O_RDWR, 0600), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_int_equal(mkdir(path, 0700), -1);
	assert_int_equal(errno, EPERM);
	mh_file(&ma, NULL, path, sizeof(path));
	mh_file(&ma, "renamed", other, sizeof(other));
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
	close_and_wait(&ma, fd, 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
}

/* Threads write through four names of one device at once (four inodes,
 * so the kernel does not serialise them): four write unaligned 100-byte
 * slots that share blocks, one of them across a block boundary
 * (read-modify-write: no update may be lost to another's stale read of
 * the same block), two write aligned 64 KiB blocks and read each back. */
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

static void *cw_fn(void *arg)
{
	struct cw_thread *c = arg;
	static _Thread_local uint8_t buf[64 * 1024], back[64 * 1024];
	for (int it = 1; it <= CW_ITERS && !c->errors; it++) {
		if (c->t < CW_SLOTW) {
			memset(buf, cw_value(c->t, it), 100);
			for (int b = 0; b < CW_SLOT_BLOCKS && !c->errors; b++)
				if (pwrite(c->fd, buf, 100, cw_slot_off(c->t, b)) != 100) {
					c->errors++;
					snprintf(c->what, sizeof(c->what), "slot write: %s",
					         strerror(errno));
				}
		} else {
			off_t off = CW_ALIGNED_BASE + (off_t)(c->t - CW_SLOTW) * MIB +
			            (off_t)(it % 16) * (off_t)sizeof(buf);
			fill(buf, sizeof(buf), (uint32_t)(it * 8 + c->t));
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
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	static const char *const names[] = {NULL, "default", "forced", "no-reserve"};
	struct cw_thread c[CW_THREADS];
	pthread_t th[CW_THREADS];
	int fd0 = must_open(&ma, NULL, O_RDWR);
	/* a known pattern around the slots (one block more: slot 3 of the
	 * last block ends in it) */
	static uint8_t pat[(CW_SLOT_BLOCKS + 1) * 4096], r[(CW_SLOT_BLOCKS + 1) * 4096];
	fill(pat, sizeof(pat), 99);
	assert_int_equal(pwrite(fd0, pat, sizeof(pat), CW_SLOTS_BASE), sizeof(pat));
	for (int t = 0; t < CW_THREADS; t++)
		c[t] = (struct cw_thread){.fd = must_open(&ma, names[t % 4], O_RDWR), .t = t};
	/* the opens after the first shared the device: no PR command */
	assert_int_equal(mh_status_int(&ma, "handles"), CW_THREADS + 1);
	PR_EXPECT(0, KEY_A, "shared opens", KEY_A);
	for (int t = 0; t < CW_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, cw_fn, &c[t]), 0);
	for (int t = 0; t < CW_THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
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
	close_and_wait(&ma, fd0, 0);
	PR_EXPECT(0, 0, "all closed", KEY_A);
}

/* ---- (b) two hosts ---- */

/* Default against default: the second host's open is EBUSY and leaves no
 * registration; once the first closes, it opens. */
static void test_two_hosts_default_against_default(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	int fa = must_open(&ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "A open", KEY_A);
	assert_int_equal(mh_open(&mb, NULL, O_RDWR), -EBUSY);
	assert_int_equal(mh_open(&mb, "default", O_RDONLY), -EBUSY);
	PR_EXPECT(0, KEY_A, "B refused: its registrations removed", KEY_A);
	uint8_t w[4096];
	fill(w, sizeof(w), 11);
	assert_int_equal(pwrite(fa, w, sizeof(w), 0), sizeof(w));
	close_and_wait(&ma, fa, 0);
	PR_EXPECT(0, 0, "A closed", KEY_A);
	int fb = must_open(&mb, NULL, O_RDWR);
	PR_EXPECT(0, KEY_B, "B open", KEY_A, KEY_B);
	uint8_t r[4096];
	assert_int_equal(pread(fb, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	/* now A is refused; as the host library's default open does
	 * (docs/host.md), the refused open removes A's registrations, also
	 * those its earlier open left (it re-registered them): under
	 * Exclusive Access, Registrants Only they would give A access */
	assert_int_equal(mh_open(&ma, NULL, O_RDWR), -EBUSY);
	PR_EXPECT(0, KEY_B, "A refused", KEY_B);
	close_and_wait(&mb, fb, 0);
	PR_EXPECT(0, 0, "B closed", KEY_B);
}

/* Forced preempts: A loses its registrations and the reservation; its
 * writes (and, Exclusive Access, its reads) fail with EBADE; A's close
 * does not disturb B. */
static void test_two_hosts_forced_preempts(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	int fa = must_open(&ma, NULL, O_RDWR);
	uint8_t wa[4096], wb[4096], r[4096];
	fill(wa, sizeof(wa), 21);
	fill(wb, sizeof(wb), 22);
	assert_int_equal(pwrite(fa, wa, sizeof(wa), 8192), sizeof(wa));
	PR_EXPECT(0, KEY_A, "A open", KEY_A);
	int fb = must_open(&mb, "forced", O_RDWR);
	PR_EXPECT(0, KEY_B, "B forced", KEY_B);
	errno = 0;
	assert_int_equal(pwrite(fa, wb, sizeof(wb), 8192), -1);
	assert_int_equal(errno, EBADE);
	errno = 0;
	assert_int_equal(pread(fa, r, sizeof(r), 8192), -1);
	assert_int_equal(errno, EBADE);
	assert_int_equal(mh_status_int(&ma, "fenced"), 1);
	assert_true(status_has_event(&ma, "fenced"));
	/* B sees A's last write, not the refused one, and writes */
	assert_int_equal(pread(fb, r, sizeof(r), 8192), sizeof(r));
	assert_memory_equal(r, wa, sizeof(r));
	assert_int_equal(pwrite(fb, wb, sizeof(wb), 8192), sizeof(wb));
	close_and_wait(&ma, fa, 0);
	PR_EXPECT(0, KEY_B, "A closed after it lost", KEY_B);
	assert_int_equal(pread(fb, r, sizeof(r), 8192), sizeof(r));
	assert_memory_equal(r, wb, sizeof(r));
	close_and_wait(&mb, fb, 0);
	PR_EXPECT(0, 0, "B closed", KEY_B);
}

/* An open(2) in a child process: 0, or the errno it failed with. */
static int open_in_child(const struct mh_mount *m, const char *mode)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = mh_open(m, mode, O_RDWR);
		_exit(fd >= 0 ? 0 : -fd);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* One host mounts a LU once: a second `prkit mount` of the same LU with
 * the same initiator name and state directory would need the same I_T
 * nexuses (the host library's ISIDs), which the first holds. It does not
 * start (exit 2, the message says why), and the first mount goes on. */
static void test_second_mount_of_one_host_refused(void **state)
{
	(void)state;
	static struct mh_mount mc;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	int fa = must_open(&ma, "single", O_RDWR);
	struct mh_spec sp = {
	    .initiator = INI_A,
	    .state_dir = state_a,
	    .key = KEY_A,
	    .urls = url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mc, "c", &sp), -1);
	assert_int_equal(mc.status, 2);
	assert_true(mh_log_contains(&mc, "in use by another process"));
	assert_false(mh_is_mounted(mc.dir));
	uint8_t w[4096];
	fill(w, sizeof(w), 17);
	assert_int_equal(pwrite(fa, w, sizeof(w), 0), sizeof(w));
	PR_EXPECT(0, KEY_A, "the first mount goes on", KEY_A);
	close_and_wait(&ma, fa, 0);
}

/* single: a second open on this host fails (any name, any process);
 * another host too (A holds the reservation); after the close it opens
 * again, and a device opened by another mode refuses a single open. */
static void test_two_hosts_single(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	int f1 = must_open(&ma, "single", O_RDWR);
	PR_EXPECT(0, KEY_A, "A single", KEY_A);
	assert_int_equal(mh_open(&ma, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_open(&ma, NULL, O_RDONLY), -EBUSY);
	assert_int_equal(mh_open(&ma, "no-reserve", O_RDWR), -EBUSY);
	assert_int_equal(open_in_child(&ma, NULL), EBUSY);
	assert_int_equal(open_in_child(&ma, "single"), EBUSY);
	assert_int_equal(mh_open(&mb, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_status_int(&ma, "handles"), 1);
	PR_EXPECT(0, KEY_A, "refused opens", KEY_A);
	uint8_t w[512];
	fill(w, sizeof(w), 31);
	assert_int_equal(pwrite(f1, w, sizeof(w), 0), sizeof(w));
	close_and_wait(&ma, f1, 0);
	PR_EXPECT(0, 0, "A single closed", KEY_A);
	/* another process opens it once it is closed */
	assert_int_equal(open_in_child(&ma, "single"), 0);
	assert_true(mh_wait_handles(&ma, 0, WAIT_MS));
	/* a device open by default refuses a single open, shares others */
	int f2 = must_open(&ma, NULL, O_RDWR);
	int f3 = must_open(&ma, "default", O_RDWR);
	assert_int_equal(mh_open(&ma, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_status_int(&ma, "handles"), 2);
	assert_int_equal(close(f3), 0);
	assert_true(mh_wait_handles(&ma, 1, WAIT_MS));
	PR_EXPECT(0, KEY_A, "one of two handles closed", KEY_A); /* still open */
	close_and_wait(&ma, f2, 0);
	PR_EXPECT(0, 0, "both closed", KEY_A);
}

/* retain: close keeps the reservation (another host is refused); a later
 * open finds its own key; a default close then releases. */
static void test_two_hosts_retain(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	int fa = must_open(&ma, "retain", O_RDWR);
	uint8_t w[4096];
	fill(w, sizeof(w), 41);
	assert_int_equal(pwrite(fa, w, sizeof(w), 4096), sizeof(w));
	close_and_wait(&ma, fa, 0);
	const uint64_t ka[] = {KEY_A};
	pr_stays(0, KEY_A, ka, 1, 300, "A retain closed");
	assert_int_equal(mh_open(&mb, NULL, O_RDWR), -EBUSY);
	PR_EXPECT(0, KEY_A, "B refused", KEY_A);
	fa = must_open(&ma, NULL, O_RDWR);
	uint8_t r[4096];
	assert_int_equal(pread(fa, r, sizeof(r), 4096), sizeof(r));
	assert_memory_equal(r, w, sizeof(r));
	close_and_wait(&ma, fa, 0);
	PR_EXPECT(0, 0, "A default closed", KEY_A);
	int fb = must_open(&mb, NULL, O_RDWR);
	PR_EXPECT(0, KEY_B, "B open", KEY_A, KEY_B);
	close_and_wait(&mb, fb, 0);
}

/* no-reserve: registers only; two hosts share the LU, each reads what
 * the other wrote, and their closes release nothing (there is no
 * reservation) and leave both keys registered. */
static void test_two_hosts_no_reserve(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	int fa = must_open(&ma, "no-reserve", O_RDWR);
	PR_EXPECT(0, 0, "A no-reserve", KEY_A);
	int fb = must_open(&mb, "no-reserve", O_RDWR);
	PR_EXPECT(0, 0, "B no-reserve", KEY_A, KEY_B);
	uint8_t wa[4096], wb[4096], r[4096];
	fill(wa, sizeof(wa), 51);
	fill(wb, sizeof(wb), 52);
	assert_int_equal(pwrite(fa, wa, sizeof(wa), 0), sizeof(wa));
	assert_int_equal(pwrite(fb, wb, sizeof(wb), 4096), sizeof(wb));
	assert_int_equal(pread(fa, r, sizeof(r), 4096), sizeof(r));
	assert_memory_equal(r, wb, sizeof(r));
	assert_int_equal(pread(fb, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, wa, sizeof(r));
	close_and_wait(&ma, fa, 0);
	close_and_wait(&mb, fb, 0);
	const uint64_t kab[] = {KEY_A, KEY_B};
	pr_stays(0, 0, kab, 2, 200, "both no-reserve closed");
}

/* ---- (c) failover under a writer ---- */

#define WR_BLOCKS 64 /* 4 KiB blocks written round robin */
#define WR_BASE (2 * MIB)

/* Shared with the writer child (MAP_SHARED). */
struct wr_shared {
	atomic_int stop;
	atomic_int phase;         /* set by the parent: the event happened */
	atomic_long ok, ok_after; /* writes done; of them, issued after phase */
	atomic_long ebade, ebade_after, other;
	atomic_int other_errno;
	atomic_ullong post_seq;         /* first seq issued after phase was seen */
	atomic_ullong acked[WR_BLOCKS]; /* last seq acknowledged per block */
	atomic_int done;
};

/* A block of the writer: every 8-byte word is the sequence number, but
 * the second, which is the block's index. */
static void stamp(uint64_t *b, uint64_t seq, uint64_t idx)
{
	for (int i = 0; i < 512; i++)
		b[i] = seq;
	b[1] = idx;
}

/* The sequence number a block holds, or UINT64_MAX when it is torn. */
static uint64_t stamp_of(const uint8_t *p, uint64_t idx)
{
	uint64_t b[512];
	memcpy(b, p, sizeof(b));
	if (b[0] == 0 && b[1] == 0)
		return 0; /* never written */
	if (b[1] != idx)
		return UINT64_MAX;
	for (int i = 2; i < 512; i++)
		if (b[i] != b[0])
			return UINT64_MAX;
	return b[0];
}

/* A child that writes 4 KiB blocks with O_DIRECT, one at a time (so the
 * state of every block is known), until told to stop. */
static pid_t writer_start(struct wr_shared *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0)
		_exit(100);
	uint64_t *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, 4096))
		_exit(101);
	for (uint64_t seq = 1; !atomic_load(&s->stop); seq++) {
		uint64_t idx = seq % WR_BLOCKS;
		bool after = atomic_load(&s->phase);
		if (after && !atomic_load(&s->post_seq))
			atomic_store(&s->post_seq, seq);
		stamp(buf, seq, idx);
		ssize_t n = pwrite(fd, buf, 4096, WR_BASE + (off_t)idx * 4096);
		if (n == 4096) {
			atomic_store(&s->acked[idx], seq);
			atomic_fetch_add(&s->ok, 1);
			if (after)
				atomic_fetch_add(&s->ok_after, 1);
		} else if (n < 0 && errno == EBADE) {
			atomic_fetch_add(&s->ebade, 1);
			if (after)
				atomic_fetch_add(&s->ebade_after, 1);
			usleep(2000);
		} else {
			atomic_fetch_add(&s->other, 1);
			atomic_store(&s->other_errno, n < 0 ? errno : 0);
			usleep(2000);
		}
	}
	close(fd);
	_exit(0);
}

static void writer_stop(struct wr_shared *s, pid_t pid)
{
	atomic_store(&s->stop, 1);
	int st = 0;
	uint64_t end = h_now_ms() + 15000;
	pid_t r;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && h_now_ms() < end)
		mh_sleep_ms(10);
	if (r != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("the writer did not stop within 15 s (a write hung)");
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static struct wr_shared *wr_map(void)
{
	struct wr_shared *s =
	    mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s != MAP_FAILED);
	return s;
}

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
					if (!strcmp(json_object_get_string(u), urls[0][k]))
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
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	char path[400];
	mh_file(&ma, NULL, path, sizeof(path));
	struct wr_shared *s = wr_map();
	int hold = must_open(&ma, NULL, O_RDONLY); /* to find the holder path */
	int gone = holder_portal(&ma);
	assert_true(gone >= 0);
	pid_t pid = writer_start(s, path);
	mh_sleep_ms(300);
	long before = atomic_load(&s->ok);
	char ap[64], out[4096], err[4096];
	snprintf(ap, sizeof(ap), "127.0.0.1:%u", daemon_.ports[gone]);
	const char *rm[] = {"remove-portal", ap, NULL};
	assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), rm), 0);
	atomic_store(&s->phase, 1);
	mh_sleep_ms(1200);
	writer_stop(s, pid);
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
	int fd = must_open(&ma, NULL, O_RDONLY | O_DIRECT);
	assert_int_equal(pread(fd, r, WR_BLOCKS * 4096, WR_BASE), WR_BLOCKS * 4096);
	for (uint64_t i = 0; i < WR_BLOCKS; i++)
		if (stamp_of(r + i * 4096, i) != atomic_load(&s->acked[i]))
			fail_msg("block %llu holds %llu, the last write acknowledged was %llu",
			         (unsigned long long)i,
			         (unsigned long long)stamp_of(r + i * 4096, i),
			         (unsigned long long)atomic_load(&s->acked[i]));
	assert_int_equal(close(fd), 0);
	/* the path events went to the status file and to the log */
	assert_true(status_has_event(&ma, "path-state"));
	assert_true(status_has_event(&ma, "unit-attention")); /* at least the logins' */
	assert_true(status_has_event(&ma, "reservation-moved"));
	assert_true(mh_log_contains(&ma, "prkit mount: lu: "));
	PR_EXPECT(0, KEY_A, "the reservation moved", KEY_A);
	assert_int_equal(close(hold), 0);
	assert_true(mh_wait_handles(&ma, 0, WAIT_MS));
	PR_EXPECT(0, 0, "closed after the failover", KEY_A);
	free(r);
	munmap(s, sizeof(*s));
}

/* No path for longer than the no-path timeout: EIO (not a hang, not a
 * silent retry). */
static void test_no_path_is_eio(void **state)
{
	(void)state;
	const char *extra[] = {"--no-path-timeout", "500", "--io-timeout", "1000", NULL};
	start_host(&ma, 'a', "a", 0, NULL, extra);
	int fd = must_open(&ma, NULL, O_RDWR);
	uint8_t w[4096];
	fill(w, sizeof(w), 61);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	char out[4096], err[4096];
	for (int p = 0; p < 2; p++) {
		char ap[64];
		snprintf(ap, sizeof(ap), "127.0.0.1:%u", daemon_.ports[p]);
		const char *rm[] = {"remove-portal", ap, NULL};
		assert_int_equal(h_cli(&daemon_, out, sizeof(out), err, sizeof(err), rm), 0);
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
		snprintf(ap, sizeof(ap), "127.0.0.1:%u", daemon_.ports[p]);
		snprintf(n, sizeof(n), "%d", p + 1);
		const char *add[] = {"add-portal", ap, "--tpgt", n, "--rtpi", n, NULL};
		if (h_cli(&daemon_, out, sizeof(out), err, sizeof(err), add))
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
	close_and_wait(&ma, fd, 0);
	PR_EXPECT(0, 0, "closed after the paths came back", KEY_A);
}

/* ---- (d) fencing with prkit fence ---- */

#define N1_KEY 0x84d4000100000001ULL
#define N2_KEY 0x84d4000200000001ULL

static int fence(const char *node, const char *action, const char *victim)
{
	static char out[65536], err[16384];
	char ini[128], st[400], devs[600];
	snprintf(ini, sizeof(ini), "iqn.2026-11.io.prkit.test:%s", node);
	snprintf(st, sizeof(st), "%s/%s", daemon_.dir, node);
	snprintf(devs, sizeof(devs), "%s,%s", urls[0][0], urls[0][1]);
	const char *a[] = {"fence",     "--local-node",       node,   "--initiator",
	                   ini,         "--state-dir",        st,     "--host-map",
	                   "n1:1,n2:2", "--devices",          devs,   "-o",
	                   action,      victim ? "-n" : NULL, victim, NULL};
	int rc = h_prkit(&daemon_, out, sizeof(out), err, sizeof(err), a);
	if (rc)
		print_message("# fence %s -o %s: rc %d\n# %s\n# %s\n", node, action, rc, out, err);
	return rc;
}

/* The mount is node n2 of a `prkit fence` cluster (its key, cluster
 * mode); n1, with a mount of its own, fences it while it writes. From the moment `off` returns,
 * every write of the mount fails with EBADE and none lands: the blocks
 * read the same then and 500 ms of refused writes later, and none holds
 * a sequence number issued after the fence. Every write acknowledged
 * before holds. */
static void test_fence_mount(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	PR_EXPECT(0, N1_KEY, "n1 on", N1_KEY);
	struct mh_spec sp = {
	    .initiator = "iqn.2026-11.io.prkit.test:n2",
	    .state_dir = state_b,
	    .key = N2_KEY,
	    .mode = "cluster",
	    .urls = url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mb, "n2", &sp), 0);
	/* n1's own mount, in the agent's state directory: its control socket
	 * is <state>/ctl/<pid>.sock, which the agent stalls during off */
	char n1_state[400];
	snprintf(n1_state, sizeof(n1_state), "%s/n1", daemon_.dir);
	struct mh_spec sp1 = sp;
	sp1.initiator = "iqn.2026-11.io.prkit.test:n1";
	sp1.state_dir = n1_state;
	sp1.key = N1_KEY;
	assert_int_equal(mh_start(&ma, "n1", &sp1), 0);
	int own = must_open(&ma, NULL, O_RDWR);
	char path[400];
	mh_file(&mb, NULL, path, sizeof(path));
	struct wr_shared *s = wr_map();
	pid_t pid = writer_start(s, path);
	mh_sleep_ms(300);
	PR_EXPECT(0, N1_KEY, "n2 writing", N1_KEY, N2_KEY);
	long before = atomic_load(&s->ok);
	assert_true(before > 0);
	assert_int_equal(fence("n1", "off", "n2"), 0);
	atomic_store(&s->phase, 1);
	static uint8_t r1[WR_BLOCKS * 4096], r2[WR_BLOCKS * 4096];
	assert_int_equal(mh_read_blocks(&daemon_, 0, WR_BASE / 512, WR_BLOCKS * 8, r1), 0);
	mh_sleep_ms(500);
	writer_stop(s, pid);
	assert_int_equal(mh_read_blocks(&daemon_, 0, WR_BASE / 512, WR_BLOCKS * 8, r2), 0);
	print_message("# fence: %ld writes before, %ld refused (EBADE) after off, %ld ok after\n",
	              before, atomic_load(&s->ebade_after), atomic_load(&s->ok_after));
	assert_int_equal(atomic_load(&s->ok_after), 0);
	assert_true(atomic_load(&s->ebade_after) > 0);
	if (atomic_load(&s->other))
		fail_msg("%ld writes failed with %s, not EBADE", atomic_load(&s->other),
		         strerror(atomic_load(&s->other_errno)));
	assert_memory_equal(r1, r2, sizeof(r1));
	uint64_t post = atomic_load(&s->post_seq);
	assert_true(post > 0);
	for (uint64_t i = 0; i < WR_BLOCKS; i++) {
		uint64_t v = stamp_of(r2 + i * 4096, i), acked = atomic_load(&s->acked[i]);
		if (v == UINT64_MAX || v < acked || v >= post)
			fail_msg(
			    "block %llu holds %llu: last acknowledged %llu, first after the fence "
			    "%llu",
			    (unsigned long long)i, (unsigned long long)v, (unsigned long long)acked,
			    (unsigned long long)post);
	}
	PR_EXPECT(0, N1_KEY, "n2 fenced", N1_KEY);
	assert_int_equal(mh_status_int(&mb, "fenced"), 1);
	/* the survivor's mount was stalled for the fence and resumed; its
	 * I/O goes on */
	assert_true(status_has_event(&ma, "stalled"));
	assert_true(status_has_event(&ma, "resumed"));
	assert_int_equal(mh_status_int(&ma, "stalled"), 0);
	assert_int_equal(mh_status_int(&ma, "fenced"), 0);
	uint8_t w[4096];
	fill(w, sizeof(w), 81);
	assert_int_equal(pwrite(own, w, sizeof(w), 0), sizeof(w));
	close_and_wait(&ma, own, 0);
	munmap(s, sizeof(*s));
}

/* After `prkit fence -o off` removed the mount's key, the device's last
 * close and a new open(2) must not register the fenced key again: a
 * program that reopens the file would silently undo the fence (the fence
 * agent's rule: a node never registers the key it was fenced under; it
 * comes back by `prkit fence -o on`, a new incarnation). The open is
 * EBADE, and the target keeps only the survivor's key. */
static void test_fenced_mount_reopen_stays_fenced(void **state)
{
	(void)state;
	assert_int_equal(fence("n1", "on", NULL), 0);
	struct mh_spec sp = {
	    .initiator = "iqn.2026-11.io.prkit.test:n2",
	    .state_dir = state_b,
	    .key = N2_KEY,
	    .mode = "cluster",
	    .urls = url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mb, "n2", &sp), 0);
	int fd = must_open(&mb, NULL, O_RDWR);
	uint8_t w[4096];
	fill(w, sizeof(w), 91);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	PR_EXPECT(0, N1_KEY, "n2 open", N1_KEY, N2_KEY);
	assert_int_equal(fence("n1", "off", "n2"), 0);
	PR_EXPECT(0, N1_KEY, "n2 fenced", N1_KEY);
	errno = 0;
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), -1);
	assert_int_equal(errno, EBADE);
	close_and_wait(&mb, fd, 0);
	int again = mh_open(&mb, NULL, O_RDWR);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&daemon_, 0, &pr), 0);
	mh_pr_format(&pr, msg, sizeof(msg));
	if (again >= 0) {
		ssize_t n = pwrite(again, w, sizeof(w), 0);
		close(again);
		fail_msg(
		    "open(2) after the fence succeeded (a write then returned %zd); PR state %s", n,
		    msg);
	}
	assert_int_equal(again, -EBADE);
	const uint64_t k1[] = {N1_KEY};
	pr_stays(0, N1_KEY, k1, 1, 100, "reopen refused");
	assert_int_equal(mh_status_int(&mb, "fenced"), 1);
}

/* ---- (e) the control socket ---- */

struct bg_write {
	int fd;
	uint8_t buf[4096];
	atomic_int done;
	ssize_t ret;
	int err;
};

static void *bg_write_fn(void *arg)
{
	struct bg_write *b = arg;
	b->ret = pwrite(b->fd, b->buf, sizeof(b->buf), 3 * MIB);
	b->err = errno;
	atomic_store(&b->done, 1);
	return NULL;
}

/* prk_ctl_* against the mount's socket: list shows the device (closed,
 * then open), stall holds a write until resume, set_key re-keys (the
 * target shows the new key, which also holds the reservation). */
static void test_ctl_socket(void **state)
{
	(void)state;
	char sock[400], err[256];
	snprintf(sock, sizeof(sock), "%s/a.sock", mh_tmp_root());
	const char *extra[] = {"--ctl", sock, NULL};
	start_host(&ma, 'a', "a", 0, NULL, extra);
	struct prk_ctl_client *c = ctl = prk_ctl_connect(sock, 20000, err, sizeof(err));
	if (!c)
		fail_msg("connect %s: %s", sock, err);
	struct prk_ctl_dev dv[4];
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	assert_false(dv[0].open);
	assert_int_equal(dv[0].key, KEY_A);
	assert_int_equal(strlen(dv[0].naa), 32);
	char naa[33];
	snprintf(naa, sizeof(naa), "%s", dv[0].naa);

	int fd = must_open(&ma, NULL, O_RDWR);
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	assert_true(dv[0].open);
	assert_false(dv[0].stalled);

	/* stall: a write waits until resume */
	assert_int_equal(prk_ctl_stall(c, naa, 20000, err, sizeof(err)), 1);
	assert_int_equal(mh_status_int(&ma, "stalled"), 1);
	static struct bg_write b;
	memset(&b, 0, sizeof(b));
	b.fd = fd;
	fill(b.buf, sizeof(b.buf), 71);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bg_write_fn, &b), 0);
	mh_sleep_ms(400);
	assert_false(atomic_load(&b.done));
	assert_int_equal(prk_ctl_resume(c, naa, err, sizeof(err)), 1);
	uint64_t end = h_now_ms() + 5000;
	while (!atomic_load(&b.done) && h_now_ms() < end)
		mh_sleep_ms(5);
	assert_true(atomic_load(&b.done));
	assert_int_equal(pthread_join(t, NULL), 0);
	if (b.ret != 4096)
		fail_msg("the stalled write returned %zd (%s)", b.ret, strerror(b.err));

	/* set_key: the nexuses change key, the reservation goes with them */
	const uint64_t key2 = 0xa2a2a2a2ULL;
	bool fenced = false;
	assert_int_equal(prk_ctl_set_key(c, naa, KEY_A, key2, &fenced, err, sizeof(err)), 1);
	assert_false(fenced);
	PR_EXPECT(0, key2, "set_key", key2);
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	assert_int_equal(dv[0].key, key2);
	uint8_t r[4096];
	assert_int_equal(pwrite(fd, b.buf, sizeof(r), 0), sizeof(r));
	assert_int_equal(pread(fd, r, sizeof(r), 3 * MIB), sizeof(r));
	assert_memory_equal(r, b.buf, sizeof(r));
	/* an old key the device does not use: 0, nothing changes */
	assert_int_equal(prk_ctl_set_key(c, naa, KEY_A, 0xdeadULL, &fenced, err, sizeof(err)), 0);
	/* fail (self-fencing, as prkit fenced does on lost quorum): writes
	 * are EBADE at once, nothing is sent to the target */
	assert_int_equal(prk_ctl_fail(c, naa, "test_mount", err, sizeof(err)), 1);
	errno = 0;
	assert_int_equal(pwrite(fd, b.buf, sizeof(r), 0), -1);
	assert_int_equal(errno, EBADE);
	assert_int_equal(mh_status_int(&ma, "fenced"), 1);
	PR_EXPECT(0, key2, "self-fenced", key2);
	close_and_wait(&ma, fd, 0);
	prk_ctl_close(c);
	ctl = NULL;
}

/* set_key on a device that is not open: nothing is sent, the next open
 * registers the new key. */
static void test_ctl_set_key_while_closed(void **state)
{
	(void)state;
	char sock[400], err[256];
	snprintf(sock, sizeof(sock), "%s/a.sock", mh_tmp_root());
	const char *extra[] = {"--ctl", sock, NULL};
	start_host(&ma, 'a', "a", 0, NULL, extra);
	struct prk_ctl_client *c = ctl = prk_ctl_connect(sock, 20000, err, sizeof(err));
	if (!c)
		fail_msg("connect %s: %s", sock, err);
	struct prk_ctl_dev dv[4];
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	const uint64_t key3 = 0xa3a3a3a3ULL;
	bool fenced = false;
	int rc = prk_ctl_set_key(c, dv[0].naa, KEY_A, key3, &fenced, err, sizeof(err));
	if (rc != 1)
		fail_msg("set_key of a closed device: %d (%s)", rc, err);
	const uint64_t none[1] = {0};
	pr_stays(0, 0, none, 0, 100, "set_key while closed sends nothing");
	int fd = must_open(&ma, NULL, O_RDWR);
	PR_EXPECT(0, key3, "open after set_key", key3);
	close_and_wait(&ma, fd, 0);
	prk_ctl_close(c);
	ctl = NULL;
}

/* ---- (f) how a mount ends ---- */

/* SIGTERM with a file open: the device is closed as its last close would
 * (released), unmounted, exit 0. */
static void test_sigterm_releases(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	int fd = must_open(&ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "open", KEY_A);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", ma.dir);
	stop_clean(&ma);
	assert_false(mh_is_mounted(dir));
	PR_EXPECT(0, 0, "after SIGTERM", KEY_A);
	close(fd); /* the file system is gone: whatever it says */
}

/* SIGTERM with a retain file open: the reservation stays. */
static void test_sigterm_retain_keeps(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	int fd = must_open(&ma, "retain", O_RDWR);
	stop_clean(&ma);
	const uint64_t ka[] = {KEY_A};
	pr_stays(0, KEY_A, ka, 1, 200, "retain after SIGTERM");
	close(fd);
}

/* fusermount3 -u: the process ends by itself (exit 0); with a file still
 * open (lazy unmount), its reservation is released when it ends. */
static void test_fusermount_unmounts(void **state)
{
	(void)state;
	start_host(&ma, 'a', "a", 0, NULL, NULL);
	int fd = must_open(&ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "open", KEY_A);
	assert_int_equal(sh("fusermount3 -u -z %s", ma.dir), 0);
	assert_false(mh_is_mounted(ma.dir));
	assert_int_equal(close(fd), 0);
	if (!mh_wait_exit(&ma, 10000)) {
		mh_show_log(&ma);
		fail_msg("prkit mount still runs 10 s after fusermount3 -u");
	}
	if (ma.status != 0) {
		mh_show_log(&ma);
		fail_msg("prkit mount ended with status %d after fusermount3 -u", ma.status);
	}
	PR_EXPECT(0, 0, "after fusermount3 -u", KEY_A);

	/* and a plain unmount of an idle mount */
	start_host(&mb, 'b', "b", 0, NULL, NULL);
	assert_int_equal(sh("fusermount3 -u %s", mb.dir), 0);
	assert_true(mh_wait_exit(&mb, 10000));
	if (mb.status != 0) {
		mh_show_log(&mb);
		fail_msg("prkit mount (idle) ended with status %d after fusermount3 -u", mb.status);
	}
}

static bool can_fuse(char *why, size_t cap)
{
	if (geteuid() != 0) {
		snprintf(why, cap, "not root (FUSE mounts and prkitd's portals need it)");
		return false;
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		snprintf(why, cap, "/dev/fuse: %s", strerror(errno));
		return false;
	}
	return true;
}

int main(void)
{
	char why[256];
	if (!can_fuse(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_plain_open_write_read_close),
	    T(test_dd_and_status),
	    T(test_punch_hole_thick_lu),
	    T(test_config_file_two_devices),
	    T(test_names_are_fixed),
	    T(test_start_without_a_path_fails),
	    T(test_concurrent_writers_four_names),
	    T(test_two_hosts_default_against_default),
	    T(test_two_hosts_forced_preempts),
	    T(test_two_hosts_single),
	    T(test_second_mount_of_one_host_refused),
	    T(test_two_hosts_retain),
	    T(test_two_hosts_no_reserve),
	    T(test_failover_under_writer),
	    T(test_no_path_is_eio),
	    T(test_fence_mount),
	    T(test_fenced_mount_reopen_stays_fenced),
	    T(test_ctl_socket),
	    T(test_ctl_set_key_while_closed),
	    T(test_sigterm_releases),
	    T(test_sigterm_retain_keeps),
	    T(test_fusermount_unmounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
