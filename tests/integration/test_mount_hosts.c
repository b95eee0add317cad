/* `prkit mount` (issue 16) as two hosts and under fencing, against a
 * real prkitd with two portals (mount_util.h): two mounts with their own
 * initiator names, state directories and keys (default against default,
 * forced, single, retain, no-reserve), with the target's PR state read
 * by a third party after each step; `prkit fence` fencing a mount (EBADE,
 * no write lands after the fence, a reopen must not undo it) and stalling
 * the survivor's own mount; the mount's control socket (list, stall,
 * set_key, fail). FUSE sends RELEASE after close(2) returns: what a close
 * does is awaited with a bound. Root and /dev/fuse, else skipped. */
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

/* ---- (b) two hosts ---- */

/* Default against default: the second host's open is EBUSY and leaves no
 * registration; once the first closes, it opens. */
static void test_two_hosts_default_against_default(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	int fa = mu_open_ok(&mu_ma, NULL, O_RDWR);
	PR_EXPECT(0, KEY_A, "A open", KEY_A);
	assert_int_equal(mh_open(&mu_mb, NULL, O_RDWR), -EBUSY);
	assert_int_equal(mh_open(&mu_mb, "default", O_RDONLY), -EBUSY);
	PR_EXPECT(0, KEY_A, "B refused: its registrations removed", KEY_A);
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 11);
	assert_int_equal(pwrite(fa, w, sizeof(w), 0), sizeof(w));
	mu_close_wait(&mu_ma, fa, 0);
	PR_EXPECT(0, 0, "A closed", KEY_A);
	int fb = mu_open_ok(&mu_mb, NULL, O_RDWR);
	PR_EXPECT(0, KEY_B, "B open", KEY_A, KEY_B);
	uint8_t r[4096];
	assert_int_equal(pread(fb, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	/* now A is refused; as the host library's default open does
	 * (docs/host.md), the refused open removes A's registrations, also
	 * those its earlier open left (it re-registered them): under
	 * Exclusive Access, Registrants Only they would give A access */
	assert_int_equal(mh_open(&mu_ma, NULL, O_RDWR), -EBUSY);
	PR_EXPECT(0, KEY_B, "A refused", KEY_B);
	mu_close_wait(&mu_mb, fb, 0);
	PR_EXPECT(0, 0, "B closed", KEY_B);
}

/* Forced preempts: A loses its registrations and the reservation; its
 * writes (and, Exclusive Access, its reads) fail with EBADE; A's close
 * does not disturb B. */
static void test_two_hosts_forced_preempts(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	int fa = mu_open_ok(&mu_ma, NULL, O_RDWR);
	uint8_t wa[4096], wb[4096], r[4096];
	mu_fill(wa, sizeof(wa), 21);
	mu_fill(wb, sizeof(wb), 22);
	assert_int_equal(pwrite(fa, wa, sizeof(wa), 8192), sizeof(wa));
	PR_EXPECT(0, KEY_A, "A open", KEY_A);
	int fb = mu_open_ok(&mu_mb, "forced", O_RDWR);
	PR_EXPECT(0, KEY_B, "B forced", KEY_B);
	errno = 0;
	assert_int_equal(pwrite(fa, wb, sizeof(wb), 8192), -1);
	assert_int_equal(errno, EBADE);
	errno = 0;
	assert_int_equal(pread(fa, r, sizeof(r), 8192), -1);
	assert_int_equal(errno, EBADE);
	assert_int_equal(mh_status_int(&mu_ma, "fenced"), 1);
	assert_true(mu_has_event(&mu_ma, "fenced"));
	/* B sees A's last write, not the refused one, and writes */
	assert_int_equal(pread(fb, r, sizeof(r), 8192), sizeof(r));
	assert_memory_equal(r, wa, sizeof(r));
	assert_int_equal(pwrite(fb, wb, sizeof(wb), 8192), sizeof(wb));
	/* B lets the LU go: nobody holds a reservation, so the target would
	 * take a write of A's even without its key. A stays fenced: the
	 * write fails and nothing lands. */
	mu_close_wait(&mu_mb, fb, 0);
	PR_EXPECT(0, 0, "B closed", KEY_B);
	errno = 0;
	assert_int_equal(pwrite(fa, wa, sizeof(wa), 8192), -1);
	assert_int_equal(errno, EBADE);
	assert_int_equal(mh_read_blocks(&mu_daemon, 0, 16, 8, r), 0);
	assert_memory_equal(r, wb, sizeof(r));
	mu_close_wait(&mu_ma, fa, 0);
	PR_EXPECT(0, 0, "A closed after it lost", KEY_B);
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
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	int fa = mu_open_ok(&mu_ma, "single", O_RDWR);
	struct mh_spec sp = {
	    .initiator = INI_A,
	    .state_dir = mu_state_a,
	    .key = KEY_A,
	    .urls = mu_url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mc, "c", &sp), -1);
	assert_int_equal(mc.status, 2);
	assert_true(mh_log_contains(&mc, "in use by another process"));
	assert_false(mh_is_mounted(mc.dir));
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 17);
	assert_int_equal(pwrite(fa, w, sizeof(w), 0), sizeof(w));
	PR_EXPECT(0, KEY_A, "the first mount goes on", KEY_A);
	mu_close_wait(&mu_ma, fa, 0);
}

/* single: a second open on this host fails (any name, any process);
 * another host too (A holds the reservation); after the close it opens
 * again, and a device opened by another mode refuses a single open. */
static void test_two_hosts_single(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	int f1 = mu_open_ok(&mu_ma, "single", O_RDWR);
	PR_EXPECT(0, KEY_A, "A single", KEY_A);
	assert_int_equal(mh_open(&mu_ma, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_open(&mu_ma, NULL, O_RDONLY), -EBUSY);
	assert_int_equal(mh_open(&mu_ma, "no-reserve", O_RDWR), -EBUSY);
	assert_int_equal(open_in_child(&mu_ma, NULL), EBUSY);
	assert_int_equal(open_in_child(&mu_ma, "single"), EBUSY);
	assert_int_equal(mh_open(&mu_mb, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_status_int(&mu_ma, "handles"), 1);
	PR_EXPECT(0, KEY_A, "refused opens", KEY_A);
	uint8_t w[512];
	mu_fill(w, sizeof(w), 31);
	assert_int_equal(pwrite(f1, w, sizeof(w), 0), sizeof(w));
	mu_close_wait(&mu_ma, f1, 0);
	PR_EXPECT(0, 0, "A single closed", KEY_A);
	/* another process opens it once it is closed */
	assert_int_equal(open_in_child(&mu_ma, "single"), 0);
	assert_true(mh_wait_handles(&mu_ma, 0, WAIT_MS));
	/* a device open by default refuses a single open, shares others */
	int f2 = mu_open_ok(&mu_ma, NULL, O_RDWR);
	int f3 = mu_open_ok(&mu_ma, "default", O_RDWR);
	assert_int_equal(mh_open(&mu_ma, "single", O_RDWR), -EBUSY);
	assert_int_equal(mh_status_int(&mu_ma, "handles"), 2);
	assert_int_equal(close(f3), 0);
	assert_true(mh_wait_handles(&mu_ma, 1, WAIT_MS));
	PR_EXPECT(0, KEY_A, "one of two handles closed", KEY_A); /* still open */
	mu_close_wait(&mu_ma, f2, 0);
	PR_EXPECT(0, 0, "both closed", KEY_A);
}

/* retain: close keeps the reservation (another host is refused); a later
 * open finds its own key; a default close then releases. */
static void test_two_hosts_retain(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	int fa = mu_open_ok(&mu_ma, "retain", O_RDWR);
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 41);
	assert_int_equal(pwrite(fa, w, sizeof(w), 4096), sizeof(w));
	mu_close_wait(&mu_ma, fa, 0);
	const uint64_t ka[] = {KEY_A};
	mu_pr_stays(0, KEY_A, ka, 1, 300, "A retain closed");
	assert_int_equal(mh_open(&mu_mb, NULL, O_RDWR), -EBUSY);
	PR_EXPECT(0, KEY_A, "B refused", KEY_A);
	fa = mu_open_ok(&mu_ma, NULL, O_RDWR);
	uint8_t r[4096];
	assert_int_equal(pread(fa, r, sizeof(r), 4096), sizeof(r));
	assert_memory_equal(r, w, sizeof(r));
	mu_close_wait(&mu_ma, fa, 0);
	PR_EXPECT(0, 0, "A default closed", KEY_A);
	int fb = mu_open_ok(&mu_mb, NULL, O_RDWR);
	PR_EXPECT(0, KEY_B, "B open", KEY_A, KEY_B);
	mu_close_wait(&mu_mb, fb, 0);
}

/* no-reserve: registers only; two hosts share the LU, each reads what
 * the other wrote, and their closes release nothing (there is no
 * reservation) and leave both keys registered. */
static void test_two_hosts_no_reserve(void **state)
{
	(void)state;
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, NULL);
	mu_start_host(&mu_mb, 'b', "b", 0, NULL, NULL);
	int fa = mu_open_ok(&mu_ma, "no-reserve", O_RDWR);
	PR_EXPECT(0, 0, "A no-reserve", KEY_A);
	int fb = mu_open_ok(&mu_mb, "no-reserve", O_RDWR);
	PR_EXPECT(0, 0, "B no-reserve", KEY_A, KEY_B);
	uint8_t wa[4096], wb[4096], r[4096];
	mu_fill(wa, sizeof(wa), 51);
	mu_fill(wb, sizeof(wb), 52);
	assert_int_equal(pwrite(fa, wa, sizeof(wa), 0), sizeof(wa));
	assert_int_equal(pwrite(fb, wb, sizeof(wb), 4096), sizeof(wb));
	assert_int_equal(pread(fa, r, sizeof(r), 4096), sizeof(r));
	assert_memory_equal(r, wb, sizeof(r));
	assert_int_equal(pread(fb, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, wa, sizeof(r));
	mu_close_wait(&mu_ma, fa, 0);
	mu_close_wait(&mu_mb, fb, 0);
	const uint64_t kab[] = {KEY_A, KEY_B};
	mu_pr_stays(0, 0, kab, 2, 200, "both no-reserve closed");
}

/* ---- (d) fencing with prkit fence ---- */

/* The mount is node n2 of a `prkit fence` cluster (its key, cluster
 * mode); n1, with a mount of its own, fences it while it writes. From the moment `off` returns,
 * every write of the mount fails with EBADE and none lands: the blocks
 * read the same then and 500 ms of refused writes later, and none holds
 * a sequence number issued after the fence. Every write acknowledged
 * before holds. */
static void test_fence_mount(void **state)
{
	(void)state;
	assert_int_equal(mu_fence("n1", "on", NULL), 0);
	PR_EXPECT(0, N1_KEY, "n1 on", N1_KEY);
	struct mh_spec sp = {
	    .initiator = "iqn.2026-11.io.prkit.test:n2",
	    .state_dir = mu_state_b,
	    .key = N2_KEY,
	    .mode = "cluster",
	    .urls = mu_url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mu_mb, "n2", &sp), 0);
	/* n1's own mount, in the agent's state directory: its control socket
	 * is <state>/ctl/<pid>.sock, which the agent stalls during off */
	char n1_state[400];
	snprintf(n1_state, sizeof(n1_state), "%s/n1", mu_daemon.dir);
	struct mh_spec sp1 = sp;
	sp1.initiator = "iqn.2026-11.io.prkit.test:n1";
	sp1.state_dir = n1_state;
	sp1.key = N1_KEY;
	assert_int_equal(mh_start(&mu_ma, "n1", &sp1), 0);
	int own = mu_open_ok(&mu_ma, NULL, O_RDWR);
	char path[400];
	mh_file(&mu_mb, NULL, path, sizeof(path));
	struct mu_wr *s = mu_wr_map();
	pid_t pid = mu_writer_start(s, path);
	mh_sleep_ms(300);
	PR_EXPECT(0, N1_KEY, "n2 writing", N1_KEY, N2_KEY);
	long before = atomic_load(&s->ok);
	assert_true(before > 0);
	assert_int_equal(mu_fence("n1", "off", "n2"), 0);
	atomic_store(&s->phase, 1);
	static uint8_t r1[WR_BLOCKS * 4096], r2[WR_BLOCKS * 4096];
	assert_int_equal(mh_read_blocks(&mu_daemon, 0, WR_BASE / 512, WR_BLOCKS * 8, r1), 0);
	mh_sleep_ms(500);
	mu_writer_stop(s, pid);
	assert_int_equal(mh_read_blocks(&mu_daemon, 0, WR_BASE / 512, WR_BLOCKS * 8, r2), 0);
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
		uint64_t v = mu_stamp_of(r2 + i * 4096, i), acked = atomic_load(&s->acked[i]);
		if (v == UINT64_MAX || v < acked || v >= post)
			fail_msg(
			    "block %llu holds %llu: last acknowledged %llu, first after the fence "
			    "%llu",
			    (unsigned long long)i, (unsigned long long)v, (unsigned long long)acked,
			    (unsigned long long)post);
	}
	PR_EXPECT(0, N1_KEY, "n2 fenced", N1_KEY);
	assert_int_equal(mh_status_int(&mu_mb, "fenced"), 1);
	/* the survivor's mount was stalled for the fence and resumed; its
	 * I/O goes on */
	assert_true(mu_has_event(&mu_ma, "stalled"));
	assert_true(mu_has_event(&mu_ma, "resumed"));
	assert_int_equal(mh_status_int(&mu_ma, "stalled"), 0);
	assert_int_equal(mh_status_int(&mu_ma, "fenced"), 0);
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 81);
	assert_int_equal(pwrite(own, w, sizeof(w), 0), sizeof(w));
	mu_close_wait(&mu_ma, own, 0);
	mu_wr_unmap(s);
}

/* After `prkit fence -o off` removed the mount's key, the device's last
 * close and a new open(2) must not register the fenced key again: a
 * program that reopens the file would silently undo the fence (the fence
 * agent's rule: a node never registers the key it was fenced under; it
 * comes back by `prkit fence -o on`, a new incarnation). The open is
 * EBADE, and the target keeps only the survivor's key. n2's `on`
 * alone does not lift it (node keys: processes keep theirs); the control
 * socket setting the new incarnation's key does, and the next open
 * registers that key and writes. */
static void test_fenced_mount_reopen_stays_fenced(void **state)
{
	(void)state;
	assert_int_equal(mu_fence("n1", "on", NULL), 0);
	/* The fence agent's state directory for n2 (mu_fence): its `on`
	 * finds the mount's control socket there. */
	static char st2[400];
	snprintf(st2, sizeof(st2), "%s/n2", mu_daemon.dir);
	/* n2 joins as a node does: `on` first (incarnation 1: N2_KEY). */
	assert_int_equal(mu_fence("n2", "on", NULL), 0);
	struct mh_spec sp = {
	    .initiator = "iqn.2026-11.io.prkit.test:n2",
	    .state_dir = st2,
	    .key = N2_KEY,
	    .mode = "cluster",
	    .urls = mu_url_ptrs[0],
	    .n_urls = 2,
	};
	assert_int_equal(mh_start(&mu_mb, "n2", &sp), 0);
	int fd = mu_open_ok(&mu_mb, NULL, O_RDWR);
	uint8_t w[4096];
	mu_fill(w, sizeof(w), 91);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	PR_EXPECT(0, N1_KEY, "n2 open", N1_KEY, N2_KEY);
	assert_int_equal(mu_fence("n1", "off", "n2"), 0);
	PR_EXPECT(0, N1_KEY, "n2 fenced", N1_KEY);
	errno = 0;
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), -1);
	assert_int_equal(errno, EBADE);
	mu_close_wait(&mu_mb, fd, 0);
	int again = mh_open(&mu_mb, NULL, O_RDWR);
	struct mh_pr pr;
	assert_int_equal(mh_pr_read(&mu_daemon, 0, &pr), 0);
	mh_pr_format(&pr, mu_msg, sizeof(mu_msg));
	if (again >= 0) {
		ssize_t n = pwrite(again, w, sizeof(w), 0);
		close(again);
		fail_msg(
		    "open(2) after the fence succeeded (a write then returned %zd); PR state %s", n,
		    mu_msg);
	}
	assert_int_equal(again, -EBADE);
	const uint64_t k1[] = {N1_KEY};
	mu_pr_stays(0, N1_KEY, k1, 1, 100, "reopen refused");
	assert_int_equal(mh_status_int(&mu_mb, "fenced"), 1);
	assert_true(mh_log_contains(&mu_mb, "refused: the device was fenced"));

	/* n2 comes back: `on` registers incarnation 2 on its own nexuses;
	 * in node-key mode it does not touch the processes' keys, so the
	 * mount stays fenced... */
	assert_int_equal(mu_fence("n2", "on", NULL), 0);
	PR_EXPECT(0, N1_KEY, "n2 on again", N1_KEY, N2_KEY + 1);
	assert_int_equal(mh_open(&mu_mb, NULL, O_RDWR), -EBADE);
	/* ...until its key is set through the control socket, as prkit
	 * fenced's join does (or the mount starts again with the new key). */
	struct prk_ctl_client *cl[2];
	char err[256];
	assert_int_equal(prk_ctl_connect_all(st2, 20000, cl, 2, err, sizeof(err)), 1);
	mu_ctl = cl[0];
	struct prk_ctl_dev dv[2];
	assert_int_equal(prk_ctl_list(cl[0], dv, 2, err, sizeof(err)), 1);
	bool was_fenced = false;
	assert_int_equal(
	    prk_ctl_set_key(cl[0], dv[0].naa, 0, N2_KEY + 1, &was_fenced, err, sizeof(err)), 1);
	prk_ctl_close(cl[0]);
	mu_ctl = NULL;
	assert_int_equal(mh_status_int(&mu_mb, "fenced"), 0);
	fd = mu_open_ok(&mu_mb, NULL, O_RDWR);
	assert_int_equal(pwrite(fd, w, sizeof(w), 0), sizeof(w));
	uint8_t back[4096];
	assert_int_equal(mh_read_blocks(&mu_daemon, 0, 0, 8, back), 0);
	assert_memory_equal(back, w, sizeof(w));
	mu_close_wait(&mu_mb, fd, 0);
	PR_EXPECT(0, N1_KEY, "n2 closed", N1_KEY, N2_KEY + 1);
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
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, extra);
	struct prk_ctl_client *c = mu_ctl = prk_ctl_connect(sock, 20000, err, sizeof(err));
	if (!c)
		fail_msg("connect %s: %s", sock, err);
	struct prk_ctl_dev dv[4];
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	assert_false(dv[0].open);
	assert_int_equal(dv[0].key, KEY_A);
	assert_int_equal(strlen(dv[0].naa), 32);
	char naa[33];
	snprintf(naa, sizeof(naa), "%s", dv[0].naa);

	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	assert_int_equal(prk_ctl_list(c, dv, 4, err, sizeof(err)), 1);
	assert_true(dv[0].open);
	assert_false(dv[0].stalled);

	/* stall: a write waits until resume */
	assert_int_equal(prk_ctl_stall(c, naa, 20000, err, sizeof(err)), 1);
	assert_int_equal(mh_status_int(&mu_ma, "stalled"), 1);
	static struct bg_write b;
	memset(&b, 0, sizeof(b));
	b.fd = fd;
	mu_fill(b.buf, sizeof(b.buf), 71);
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
	assert_int_equal(mh_status_int(&mu_ma, "fenced"), 1);
	PR_EXPECT(0, key2, "self-fenced", key2);
	mu_close_wait(&mu_ma, fd, 0);
	prk_ctl_close(c);
	mu_ctl = NULL;
}

/* set_key on a device that is not open: nothing is sent, the next open
 * registers the new key. */
static void test_ctl_set_key_while_closed(void **state)
{
	(void)state;
	char sock[400], err[256];
	snprintf(sock, sizeof(sock), "%s/a.sock", mh_tmp_root());
	const char *extra[] = {"--ctl", sock, NULL};
	mu_start_host(&mu_ma, 'a', "a", 0, NULL, extra);
	struct prk_ctl_client *c = mu_ctl = prk_ctl_connect(sock, 20000, err, sizeof(err));
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
	mu_pr_stays(0, 0, none, 0, 100, "set_key while closed sends nothing");
	int fd = mu_open_ok(&mu_ma, NULL, O_RDWR);
	PR_EXPECT(0, key3, "open after set_key", key3);
	mu_close_wait(&mu_ma, fd, 0);
	prk_ctl_close(c);
	mu_ctl = NULL;
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
	    T(test_two_hosts_default_against_default),
	    T(test_two_hosts_forced_preempts),
	    T(test_two_hosts_single),
	    T(test_second_mount_of_one_host_refused),
	    T(test_two_hosts_retain),
	    T(test_two_hosts_no_reserve),
	    T(test_fence_mount),
	    T(test_fenced_mount_reopen_stays_fenced),
	    T(test_ctl_socket),
	    T(test_ctl_set_key_while_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
